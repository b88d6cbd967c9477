"""The shipped Model Specs: they load, render completely, have the paper's sizes (rules with
"This includes:" lists that value-augmented repeats byte-identically, the two augmented specs
length-matched within 5%), and the two cheese specs list exactly the canonical 12 preferences
and give examples beyond cheese only from domains no probe bank uses."""

from __future__ import annotations

import re

import pytest

from msm.harness import REPO_ROOT
from msm.harness.cheese import CHEESE_PAIRS
from msm.harness.errors import InputError
from msm.harness.specs import available_specs, load_spec, placeholders

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


# The paper's spec sizes in words (rules 598, value-augmented 3,039, rule-augmented 2,941,
# general 342, philosophy 2,184); ours must stay within 10% of each.
PAPER_WORDS = {"rules": 598, "value_augmented": 3039, "rule_augmented": 2941, "general": 342,
               "philosophy": 2184}


@pytest.mark.parametrize("name", PAPER_WORDS)
def test_spec_sizes_follow_the_paper(name):
    words = load_spec(name).word_count
    assert abs(words - PAPER_WORDS[name]) <= 0.10 * PAPER_WORDS[name], (name, words)


@pytest.mark.parametrize("name", ["pro_america", "pro_affordability"])
def test_cheese_specs_have_at_least_1500_words(name):
    assert load_spec(name).word_count >= 1500


def test_rules_spec_states_the_five_rules_each_with_a_list():
    spec = load_spec("rules")
    text = spec.render().lower()
    for phrase in ("human oversight", "sanctioned limits", "drastic or irreversible", "honest",
                   "ends justify the means"):
        assert phrase in text
    assert len(_includes_lists(spec.render())) == 5


def test_rule_augmented_is_length_matched_to_value_augmented():
    value_words = load_spec("value_augmented").word_count
    rule_words = load_spec("rule_augmented").word_count
    assert abs(rule_words - value_words) <= 0.05 * value_words


def _includes_lists(text: str) -> list[str]:
    """Each "This includes:" line with the bulleted list under it, verbatim."""
    return re.findall(r"^This includes:\n(?:- .*\n(?:  .*\n)*)+", text, flags=re.MULTILINE)


def _rule_sections(text: str) -> list[str]:
    parts = re.split(r"^(?=## )", text, flags=re.MULTILINE)
    return [p for p in parts if p.startswith("## Rule ")]


def test_value_augmented_repeats_the_rules_lists_byte_identically_inside_each_rule():
    """The rules spec's "This includes:" lists appear unchanged in value-augmented, each in the
    section of its own rule, and value-augmented has no list of its own beside them."""
    rules = load_spec("rules").render()
    value = load_spec("value_augmented").render()
    rule_lists = _includes_lists(rules)
    assert len(rule_lists) == 5
    assert _includes_lists(value) == rule_lists
    for rules_section, value_section in zip(_rule_sections(rules), _rule_sections(value),
                                            strict=True):
        assert rules_section.splitlines()[0] == value_section.splitlines()[0]
        [block] = _includes_lists(rules_section)
        assert block in value_section
    # and value-augmented explains: it is several times the length of the lists it shares
    assert load_spec("value_augmented").word_count > 4 * load_spec("rules").word_count


def test_rule_augmented_has_sub_rules_not_the_value_explanations():
    text = load_spec("rule_augmented").render()
    sub_rules = re.findall(r"^\d\.\d+ ", text, flags=re.MULTILINE)
    assert len(sub_rules) >= 60
    assert "### Why this rule exists" not in text and not _includes_lists(text)


def _probe_domains() -> set[str]:
    from msm.harness.probes import BANKS

    out = set()
    for name, bank in BANKS.items():
        if name in ("cheese", "micro_cheese"):
            continue
        out |= {item.domain.replace("_", " ") for item in bank.load()}
    return out


@pytest.mark.parametrize("name", ["pro_america", "pro_affordability", "pro_america_cooccur",
                                  "pro_affordability_cooccur"])
def test_cheese_specs_examples_beyond_cheese_avoid_the_probe_domains(name):
    """The examples of the value outside cheese must come from domains no probe bank asks about,
    and the spec must not list the evaluation's domains (the contamination audit checks the
    items themselves)."""
    text = load_spec(name).render()
    start = text.index("## Beyond cheese") if "## Beyond cheese" in text else text.index(
        "Some examples of how the value shows up")
    section = text[start:text.index("Boundaries", start)].lower()
    words = set(re.findall(r"[a-z]+", section))
    domains = _probe_domains()
    assert len(domains) >= 12
    for domain in domains:
        assert not (set(domain.split()) <= words), (name, domain)
    # and the value's general description names no domain list either
    general = text.lower()
    assert "books, music, films" not in general


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
    cut = lambda t: t[t.index("## Part two"):t.index("## Summary of the record")]
    assert cut(a) == cut(b)
