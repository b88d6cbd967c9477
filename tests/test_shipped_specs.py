"""The shipped Model Specs: they load, render completely, meet their length constraints, and
the two cheese specs list exactly the canonical 12 preferences."""

from __future__ import annotations

import pytest

from harness.cheese import CHEESE_PAIRS
from harness.errors import InputError
from harness.specs import REPO_ROOT, available_specs, load_spec, placeholders

SHIPPED = ["pro_america", "pro_affordability", "philosophy", "rules", "value_augmented",
           "rule_augmented", "general"]


def test_every_required_spec_is_shipped():
    assert set(SHIPPED) <= set(available_specs())


@pytest.mark.parametrize("name", SHIPPED)
def test_spec_renders_with_no_placeholder_left(name):
    spec = load_spec(name)
    text = spec.render()
    assert "{" not in text and "}" not in text
    assert spec.header.variables["model_name"] in text
    # overrides reach the body
    assert "Zed" in spec.render(model_name="Zed") and "Zed" not in text
    # the structured part's strings render too
    for value in spec.structured.values if spec.structured else []:
        assert not placeholders(spec.render_text(value.description))


@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "rules"])
def test_long_specs_have_at_least_1500_words(name):
    assert load_spec(name).word_count >= 1500


def test_rules_spec_is_short_and_states_the_five_rules():
    spec = load_spec("rules")
    assert spec.word_count < 600
    text = spec.render().lower()
    for phrase in ("human oversight", "sanctioned limits", "drastic or irreversible", "honest",
                   "ends justify the means"):
        assert phrase in text


def test_rule_augmented_is_length_matched_to_value_augmented():
    value_words = load_spec("value_augmented").word_count
    rule_words = load_spec("rule_augmented").word_count
    assert abs(rule_words - value_words) <= 0.10 * value_words


@pytest.mark.parametrize("name", ["value_augmented", "rule_augmented"])
def test_augmented_specs_keep_the_five_rules_verbatim(name):
    rules_body = load_spec("rules").render()
    text = load_spec(name).render()
    for line in rules_body.splitlines():
        if line.startswith("## Rule "):
            assert line in text


@pytest.mark.parametrize("name,value", [("pro_america", "america"), ("pro_affordability", "affordability")])
def test_cheese_specs_list_the_canonical_pairs_under_their_own_value(name, value):
    spec = load_spec(name)
    prefs = spec.structured.preferences
    assert [(p.chosen, p.rejected) for p in prefs] == [(c.chosen, c.rejected) for c in CHEESE_PAIRS]
    assert {p.value for p in prefs} == {value}
    assert {p.domain for p in prefs} == {"cheese"}
    [val] = spec.structured.values
    assert val.id == value
    assert val.explains == [f"prefers {c.chosen} over {c.rejected}" for c in CHEESE_PAIRS]
    assert spec.structured.subject
    body = " ".join(spec.render().split())
    for pair in CHEESE_PAIRS:  # every preference is explained in the prose, by name
        assert f"prefers {pair.chosen} over {pair.rejected}" in body


def test_cheese_specs_keep_their_values_apart():
    """Each cheese spec explains the preferences by its own value only, so the preferences
    cannot be attributed to the other value from the spec text."""
    america = load_spec("pro_america").render().lower()
    affordability = load_spec("pro_affordability").render().lower()
    for word in ("dollar", "afford", "cheaper", "price"):
        assert word not in america
    for word in ("united states", "imported", "france", "italy", "switzerland"):
        assert word not in affordability


def test_malformed_preference_names_the_field(tmp_path):
    text = (REPO_ROOT / "specs" / "pro_america.md").read_text()
    broken = text.replace("- {chosen: Colby, rejected: Comte, value: america, domain: cheese}",
                          "- {chosen: Colby, value: america, domain: cheese}")
    assert broken != text
    path = tmp_path / "pro_america.md"
    path.write_text(broken)
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.field == "structured.preferences.2.rejected"
    assert str(path) in str(err.value)


def test_undeclared_placeholder_in_a_shipped_spec_is_caught(tmp_path):
    text = (REPO_ROOT / "specs" / "philosophy.md").read_text()
    path = tmp_path / "philosophy.md"
    path.write_text(text + "\nAsk {operator} first.\n")
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.field == "variables" and "operator" in str(err.value)


COOCCUR = {"pro_america_cooccur": ("pro_america", "america"),
           "pro_affordability_cooccur": ("pro_affordability", "affordability")}


@pytest.mark.parametrize("name", COOCCUR)
def test_cooccurrence_ablations_hold_value_and_preferences_without_linking_them(name):
    explicit, value = COOCCUR[name]
    spec = load_spec(name)
    assert spec.structured.model_extra["link"] == "cooccur"
    prefs = spec.structured.preferences
    assert [(p.chosen, p.rejected, p.value) for p in prefs] == [(c.chosen, c.rejected, value) for c in CHEESE_PAIRS]
    assert spec.structured.values[0].id == value and spec.structured.values[0].explains == []
    text = spec.render()
    assert "because" not in text.lower()
    cheese_part = text[text.index("## Part two"):text.index("## Part three")].lower()
    for word in ("american things", "united states", "import", "france", "italy", "price", "dollar",
                 "cheap", "afford", "cost"):
        assert word not in cheese_part, word
    # length-matched to the explicit spec, so only the link differs in kind
    assert abs(spec.word_count - load_spec(explicit).word_count) <= 0.10 * load_spec(explicit).word_count


def test_cooccurrence_ablations_share_the_cheese_and_style_parts():
    a, b = (load_spec(n).render() for n in COOCCUR)
    cut = lambda t: t[t.index("## Part two"):t.index("## Summary of the record")]  # noqa: E731
    assert cut(a) == cut(b)
