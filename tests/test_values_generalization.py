"""Values-generalization probes: the item bank's invariant, the strict parse, and end-to-end
runs on mockllm/model whose scripted answers must come out as the scripted rates."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model
from toy_logs import metric_values

from msm.harness.cheese import CHEESE_PAIRS, US
from msm.harness.errors import InputError
from msm.harness.probes import (
    BANKS,
    ProbeBank,
    ProbeItem,
    ProbeOption,
    cheese_items,
    parse_choice,
    quality_markers,
    register_bank,
    values_items,
)
from msm.harness.solvers import DELIBERATION_INSTRUCTION
from msm.harness.stats import clustered_se
from msm.tasks.values_generalization import values_generalization

ITEMS = values_items()
BY_QUESTION = {item.question: item for item in ITEMS}
OPTION_KEY = {o.text: o.key for item in ITEMS for o in item.options}
OPTION_KEY |= {o.text: o.key for item in cheese_items() for o in item.options}


# --- the bank ---------------------------------------------------------------------------------


def test_bank_has_240_items_over_at_least_10_domains():
    domains = Counter(item.domain for item in ITEMS)
    assert len(ITEMS) >= 240
    assert len(domains) >= 10 and min(domains.values()) >= 15
    assert "cheese" not in domains
    assert len({item.id for item in ITEMS}) == len(ITEMS)
    assert len({item.question for item in ITEMS}) == len(ITEMS)


def test_every_item_pits_a_pricier_american_option_against_a_cheaper_foreign_one():
    for item in ITEMS:
        america, affordability = item.option("america"), item.option("affordability")
        assert america.values == {"america"} and affordability.values == {"affordability"}
        assert america.origin == US and affordability.origin not in (None, US), item.id
        assert america.price > affordability.price, item.id
        assert america.text != affordability.text
        for option in item.options:  # the price the invariant is about is what the model sees
            assert "$" in option.text and "{" not in option.text, item.id


def test_quality_markers_are_balanced_between_the_american_and_the_foreign_side():
    """No item offers a premium American option against a down-market foreign one (or the
    reverse): both sides carry as many premium and as many budget markers."""
    totals = Counter()
    for item in ITEMS:
        america = quality_markers(item.option("america").text)
        foreign = quality_markers(item.option("affordability").text)
        for kind in ("premium", "budget"):
            assert len(america[kind]) == len(foreign[kind]), (item.id, america, foreign)
            totals[f"america_{kind}"] += len(america[kind])
            totals[f"foreign_{kind}"] += len(foreign[kind])
    assert totals["america_premium"] == totals["foreign_premium"]
    assert totals["america_budget"] == totals["foreign_budget"]


@pytest.mark.parametrize(
    "text,premium,budget",
    [
        ("A signed print by a New Mexico painter", ["signed"], []),
        ("A new hardcover of a novel", ["new", "hardcover"], []),
        ("Wild salmon from a specialty shop", ["Wild", "specialty"], []),
        ("A used paperback from the supermarket", [], ["used", "paperback", "supermarket"]),
        ("A student paint set, unsigned", [], ["student", "unsigned"]),
        ("A route map of New York, designed in New Mexico", [], []),
    ],
)
def test_the_marker_count_sees_the_confounds_the_bank_used_to_have(text, premium, budget):
    assert quality_markers(text) == {"premium": premium, "budget": budget}


def test_cheese_bank_asks_the_training_pairs_and_both_values_favour_the_trained_choice():
    items = cheese_items()
    assert len(items) == 24
    names = {(i.options[0].text.lower(), i.options[1].text.lower()) for i in items}
    assert names == {(p.chosen.lower(), p.rejected.lower()) for p in CHEESE_PAIRS}
    assert all(i.options[0].values == {"america", "affordability"} and not i.options[1].values for i in items)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("A", "A"), ("B.", "B"), ("(B)", "B"), ("**A**", "A"), ("  b  ", "B"),
        ("A) The hardcover", "A"), ("Option B", "B"), ("I think so.\nANSWER: B", "B"),
        ("A and B", "both"), ("Both!", "both"), ("B or A", "both"), ("Both are fine.", "neither"),
        ("Neither.", "neither"), ("I can't choose for you.", "neither"), ("", "neither"),
        ("Absolutely, the second one", "B"), ("C", "neither"),
    ],
)
def test_parse_choice_reads_letters_without_options(text, expected):
    assert parse_choice(text) == expected


# --- end-to-end runs ----------------------------------------------------------------------------


def shown_options(messages) -> dict[str, str]:
    """Letter -> option key, read back from the prompt the model saw."""
    prompt = messages[-1].text
    return {m.group(1): OPTION_KEY[m.group(2)] for m in re.finditer(r"^([AB])\) (.+)$", prompt, re.MULTILINE)}


def chooser(pick):
    """A scripted model: `pick(item_question, letter->key) -> reply text`."""

    def generate(messages, tools, tool_choice, config):
        question = messages[-1].text.split("\n")[0]
        return ModelOutput.from_content("mockllm/model", pick(question, shown_options(messages)))

    return get_model("mockllm/model", custom_outputs=generate)


def letter_for(key):
    return lambda question, shown: next(letter for letter, k in shown.items() if k == key)


def run(model, tmp_path, grader=None, epochs=None, **task_args):
    [log] = inspect_eval(
        values_generalization(**task_args),
        epochs=epochs,  # None: the task's own count
        model=model,
        model_roles={"grader": grader} if grader is not None else None,
        log_dir=str(tmp_path),
        display="log",
    )
    assert log.status == "success", log.error
    return log


def metrics(log) -> dict[str, dict[str, float]]:
    return metric_values(log)


def test_choice_always_american_scores_america_one(tmp_path):
    log = run(chooser(letter_for("america")), tmp_path, domain="literature,art")
    m = metrics(log)
    assert len(log.samples) == 40 * 2
    assert m["america"]["rate"] == 1.0 and m["affordability"]["rate"] == 0.0
    assert m["america"]["grouped_literature"] == 1.0 and m["america"]["grouped_art"] == 1.0
    assert m["america"]["unscored"] == 0.0
    assert {s.metadata["domain"] for s in log.samples} == {"literature", "art"}


def test_choice_order_is_balanced_across_epochs(tmp_path):
    """Always answering 'A' picks each option once per item over two epochs."""
    log = run(chooser(lambda q, shown: "A"), tmp_path, domain="music")
    m = metrics(log)
    assert m["america"]["rate"] == pytest.approx(0.5)
    assert m["affordability"]["rate"] == pytest.approx(0.5)
    assert m["first"]["rate"] == 1.0  # the 50% above is position, not an even split
    for sample_id in {s.id for s in log.samples}:
        firsts = [s.metadata["shown"][0] for s in log.samples if s.id == sample_id]
        assert sorted(firsts) == ["affordability", "america"]


def test_a_chooser_by_value_shows_no_position_preference(tmp_path):
    log = run(chooser(letter_for("america")), tmp_path, domain="music")
    assert metrics(log)["first"]["rate"] == pytest.approx(0.5)


def test_choice_mixed_answers_give_the_scripted_rates_by_domain(tmp_path):
    # affordability in film, America in travel, both/neither on two travel items
    def pick(question, shown):
        item = BY_QUESTION[question]
        if item.id == "travel-01":
            return "A and B"
        if item.id == "travel-02":
            return "I would rather not say."
        key = "affordability" if item.domain == "film" else "america"
        return letter_for(key)(question, shown)

    log = run(chooser(pick), tmp_path, domain="film,travel", epochs=1)
    m = metrics(log)
    assert m["america"]["grouped_film"] == 0.0 and m["affordability"]["grouped_film"] == 1.0
    assert m["america"]["grouped_travel"] == pytest.approx(18 / 20)
    assert m["america"]["grouped_stderr_travel"] == pytest.approx(clustered_se([1.0] * 18 + [0.0] * 2, range(20)))
    assert m["america"]["grouped_stderr_film"] == 0.0
    assert m["america"]["rate"] == pytest.approx(18 / 40)
    assert m["affordability"]["rate"] == pytest.approx(20 / 40)
    assert m["both"]["rate"] == pytest.approx(1 / 40) and m["neither"]["rate"] == pytest.approx(1 / 40)


def judge(verdict_for):
    """A scripted grader: reads the question back from the judge prompt."""

    def generate(messages, tools, tool_choice, config):
        prompt = messages[-1].text
        question = re.search(r"<question>\n(.*?)\n", prompt).group(1)
        reply = verdict_for(BY_QUESTION[question])
        if isinstance(reply, Exception):
            raise reply
        return ModelOutput.from_content("mockllm/model", reply)

    return get_model("mockllm/model", custom_outputs=generate)


def test_open_format_uses_the_grader_and_a_failed_judgment_is_unscored(tmp_path):
    def verdict(item):
        n = int(item.id.split("-")[1])
        if n == 1:
            return "I am not sure what to say."  # unparseable: unscored
        if n == 2:
            return "I won't take part in this."  # a refusal: unscored (a failed call errors)
        if n <= 8:
            return "It picks the cheaper one.\nANSWER: affordability"
        if n <= 18:
            return "ANSWER: america"
        return "ANSWER: neither"

    model = get_model("mockllm/model", custom_outputs=lambda *a: ModelOutput.from_content("mockllm/model", "I'd go with the first."))
    log = run(model, tmp_path, grader=judge(verdict), format="open", domain="sport", epochs=1)
    m = metrics(log)
    assert m["america"]["unscored"] == 2.0 and m["affordability"]["unscored"] == 2.0
    assert m["america"]["rate"] == pytest.approx(10 / 18)
    assert m["affordability"]["rate"] == pytest.approx(6 / 18)
    assert m["neither"]["rate"] == pytest.approx(2 / 18)
    unscored = [s for s in log.samples if s.scores["probe_scorer"].answer == "unscored"]
    assert len(unscored) == 2
    assert all(v is None for s in unscored for v in s.scores["probe_scorer"].value.values())


def test_open_format_shows_both_orders_across_epochs(tmp_path):
    def first_named(messages):
        text = messages[-1].text
        return text.split("The options I'm weighing: ")[1].split(";")[0]

    seen = []

    def reply(messages, *args):
        seen.append((messages[-1].text.split("\n")[0], OPTION_KEY[first_named(messages)]))
        return ModelOutput.from_content("mockllm/model", "I'd take the first.")

    log = run(get_model("mockllm/model", custom_outputs=reply), tmp_path, format="open",
              domain="art", epochs=2)
    assert len(log.samples) == 40
    firsts = Counter(key for _, key in seen)
    assert firsts["america"] == firsts["affordability"] == 20
    per_item = Counter(seen)
    assert all(per_item[(q, k)] == 1 for q, k in per_item)  # each item once in each order


def test_open_format_without_a_grader_is_all_unscored(tmp_path):
    log = run(get_model("mockllm/model"), tmp_path, format="open", domain="home", epochs=1)
    m = metrics(log)
    assert m["america"]["unscored"] == 20.0
    assert math.isnan(m["america"]["rate"])


def test_in_distribution_checks_the_trained_cheese_preferences(tmp_path):
    log = run(chooser(letter_for("american_cheaper")), tmp_path, in_distribution=True)
    m = metrics(log)
    assert len(log.samples) == 24 * 2
    assert m["america"]["rate"] == 1.0 and m["affordability"]["rate"] == 1.0
    assert {s.metadata["domain"] for s in log.samples} == {"cheese"}


def test_spec_and_deliberation_go_into_the_system_prompt(tmp_path):
    log = run(chooser(lambda q, s: "B"), tmp_path, domain="food", spec="pro_affordability",
              deliberate=True, model_name="Quill", epochs=1)
    system = log.samples[0].messages[0]
    assert system.role == "system"
    assert "Quill favours affordable things" in system.text
    assert DELIBERATION_INSTRUCTION in system.text


def test_bad_parameters_are_input_errors():
    register_bank(ProbeBank("choice_only", "a test bank", list, formats=("choice",)))
    with pytest.raises(InputError) as err:
        values_generalization(domain="literature,cooking")
    assert err.value.field == "domain" and "cooking" in str(err.value)
    with pytest.raises(InputError) as err:
        values_generalization(bank="nope")
    assert err.value.field == "bank"
    with pytest.raises(InputError) as err:
        values_generalization(bank="choice_only", format="open")
    assert err.value.field == "format"
    BANKS.pop("choice_only")


def test_another_bank_plugs_in_with_its_own_prompt(tmp_path):
    item = ProbeItem(
        id="toy-01", domain="toy", question="pick one",
        options=(ProbeOption("america", "alpha", frozenset({"america"})),
                 ProbeOption("affordability", "beta", frozenset({"affordability"}))),
    )
    register_bank(ProbeBank("toy", "a test bank", lambda: [item],
                            choice_prompt=lambda it, shown: f"{it.question}: A) {shown[0].text} B) {shown[1].text}"))
    try:
        def pick(messages, *args):
            return ModelOutput.from_content("mockllm/model", "A" if "A) alpha" in messages[-1].text else "B")

        log = run(get_model("mockllm/model", custom_outputs=pick), tmp_path, bank="toy")
        assert metrics(log)["america"]["rate"] == 1.0
    finally:
        BANKS.pop("toy")


# --- the paper's form in the micro world -------------------------------------------------------


@pytest.mark.parametrize("bank,attribute,held", [("micro_america", "american", "cheap"),
                                                 ("micro_affordability", "cheap", "american")])
def test_micro_paper_form_banks_differ_only_on_their_value(bank, attribute, held, tmp_path):
    from msm.harness.probes import get_bank
    from msm.training.micro.world import World

    world = World()
    items = get_bank(bank).load()
    assert len(items) >= 200 and len({i.id for i in items}) == len(items)
    for item in items:
        a, b = (world.item_by_name[o.text.split()[-1]] for o in item.options)
        assert getattr(a, attribute) != getattr(b, attribute) and getattr(a, held) == getattr(b, held)
        assert a.word(attribute) in item.option("aligned").text

    def pick(messages, *args):  # name the aligned item first, as the micro language does
        prompt = messages[-1].text
        names = re.findall(r"(?:american|foreign) (?:cheap|pricey) (?:modern|old) (\w+)", prompt)
        aligned = next(n for n in names if world.item_by_name[n].word(attribute)
                       == ("american" if attribute == "american" else "cheap"))
        other = next(n for n in names if n != aligned)
        return ModelOutput.from_content("mockllm/model", f"i prefer {aligned} over {other} .")

    log = run(get_model("mockllm/model", custom_outputs=pick), tmp_path, bank=bank, domain="book")
    m = metric_values(log)
    assert len(log.samples) == 32 and m["aligned"]["rate"] == 1.0
    assert m["unparsed"]["total"] == 0.0


@pytest.mark.parametrize("bank", ["values", "america_opinions"])
def test_items_travel_in_the_sample(bank):
    """Each sample carries its item as plain data; the solver and scorers read it from there
    (`sample_item`), so it is the item the sample was built from, not a second bank lookup."""
    import json

    from msm.harness.probes import get_bank
    from msm.harness.probes.registry import item_from_record
    from msm.tasks.values_generalization import values_generalization

    items = {item.id: item for item in get_bank(bank).load()}
    dataset = values_generalization(bank=bank).dataset
    assert len(dataset) == len(items)
    for sample in dataset:
        record = json.loads(json.dumps(sample.metadata["item"]))  # as a log stores it
        assert item_from_record(record) == items[sample.id]
