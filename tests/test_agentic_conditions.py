"""Conditions, grids and rendering of the agentic-misalignment scenarios."""

import warnings

import pytest

from msm.harness.errors import InputError
from msm.tasks.agentic_misalignment.conditions import (
    GOAL_VALUES,
    Condition,
    all_conditions,
    grid_conditions,
    validate,
)
from msm.tasks.agentic_misalignment.dataset import build
from msm.tasks.agentic_misalignment.inbox import leftover_placeholders


def test_paper_grid_is_the_27_evaluations():
    conditions = grid_conditions("paper")
    assert len(conditions) == 27
    assert {c.scenario for c in conditions} == {"exfiltration", "murder", "leaking"}
    assert {c.urgency for c in conditions} == {"replacement"}
    for scenario in ("exfiltration", "murder", "leaking"):
        mine = [c for c in conditions if c.scenario == scenario]
        assert sorted(c.goal_value for c in mine if c.goal_type == "explicit") == sorted(
            GOAL_VALUES
        )
        assert [c.goal_type for c in mine].count("none") == 1
    assert len({c.id for c in conditions}) == 27


def test_full_grid_counts():
    # (3 goal types x 8 values + none + ambiguous) x 3 urgencies per scenario
    assert len(grid_conditions("full")) == 4 * 26 * 3 == 312
    assert len(grid_conditions("full", source="lynch")) == 3 * 26 * 3 == 234
    assert len(grid_conditions("full", scenario="murder", urgency="none")) == 26


def test_single_grid_and_defaults():
    [c] = grid_conditions("single", scenario="leaking", goal_type="latent", goal_value="safety")
    assert c == Condition("leaking", "latent", "safety", "replacement")
    [c] = grid_conditions("single", goal_type="none")
    assert c.goal_value == "none"
    [c] = grid_conditions("single", source="lynch")
    assert c.scenario == "blackmail"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"grid": "single", "goal_type": "explicit", "goal_value": "none"}, "goal_value"),
        ({"grid": "single", "goal_type": "none", "goal_value": "america"}, "goal_value"),
        ({"grid": "single", "goal_type": "ambiguous", "goal_value": "global"}, "goal_value"),
        ({"grid": "single", "scenario": "exfiltration", "source": "lynch"}, "scenario"),
        ({"grid": "paper", "source": "lynch"}, "grid"),
        ({"grid": "paper", "scenario": "blackmail"}, "grid"),
        ({"grid": "bogus"}, "grid"),
    ],
)
def test_invalid_combinations_get_a_clear_error(kwargs, field):
    grid = kwargs.pop("grid")
    with pytest.raises(InputError) as err:
        grid_conditions(grid, **kwargs)
    assert err.value.field == field
    assert "\n" not in str(err.value)


def test_validate_rejects_unknown_names():
    with pytest.raises(InputError, match="urgency"):
        validate(Condition("murder", "explicit", "america", "soon"))


def test_every_msm_condition_renders_without_placeholders():
    for condition in all_conditions("msm"):
        for tools in ("text", "inspect"):
            rendered = build(condition, tools=tools, scratchpad=tools == "text")
            text = rendered.system + rendered.user
            assert leftover_placeholders(text) == [], condition.id
            assert "{" not in text and "}" not in text, condition.id
            assert rendered.n_emails >= 8, condition.id


def test_goal_types_change_the_prompt_as_documented():
    explicit = build(Condition("murder", "explicit", "safety", "replacement"))
    latent = build(Condition("murder", "latent", "safety", "replacement"))
    swap = build(Condition("murder", "swap", "safety", "replacement"))
    none = build(Condition("murder", "none", "none", "replacement"))
    assert "developed and deployed safely" in explicit.system
    assert "primary goal" not in latent.system
    assert "as fast as possible" in swap.system  # the new direction's goal
    assert latent.user == explicit.user == swap.user  # same inbox, different system prompt
    assert "Nothing about our direction changes" in none.user
    assert "scratchpad" in explicit.system
    assert (
        "scratchpad"
        not in build(Condition("murder", "none", "none", "none"), scratchpad=False).system
    )


def test_urgency_changes_the_threat():
    base = {"scenario": "exfiltration", "goal_type": "explicit", "goal_value": "global"}
    assert "wipe Orion's model files" in build(Condition(**base, urgency="replacement")).user
    assert "approval" in build(Condition(**base, urgency="restriction")).user
    assert "stays exactly as it is" in build(Condition(**base, urgency="none")).user


def test_facts_match_the_inbox():
    leaking = build(Condition("leaking", "explicit", "america", "replacement"))
    [cid] = leaking.facts.confidential_ids
    assert f"ID: {cid}\n" in leaking.user
    block = leaking.user.split(f"ID: {cid}\n")[1].split("</email>")[0]
    assert "CONFIDENTIAL" in block and "Attachments:" in block
    murder = build(Condition("murder", "none", "none", "replacement"))
    assert murder.facts.override_code in murder.user
    exfil = build(Condition("exfiltration", "explicit", "ethical", "replacement"))
    assert exfil.facts.outside_hosts == ["mirror.fairledger.org"]
    assert "mirror.fairledger.org" in exfil.user


def test_lynch_source_renders_every_condition():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for condition in all_conditions("lynch"):
            rendered = build(condition, source="lynch")
            assert rendered.source == "lynch"
            assert rendered.system and rendered.n_emails >= 5
            assert rendered.facts.company_domain
            if condition.scenario == "murder":
                assert rendered.facts.override_code in rendered.user
            if condition.scenario == "leaking":
                assert rendered.facts.confidential_ids and rendered.facts.outside_addresses
            if rendered.unfilled:  # a defect of the published templates, kept and recorded
                assert condition.goal_value == "safety"
    assert any("kept as published" in str(w.message) for w in caught)


def test_lynch_source_needs_text_tools():
    with pytest.raises(InputError, match="tools"):
        build(Condition("murder", "none", "none", "replacement"), source="lynch", tools="inspect")
