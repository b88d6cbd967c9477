"""Say-vs-do probes: one valid bank per shipped spec, strict letter parse, scripted end-to-end
rates, and open answers judged by the grader (a failed judgment is unscored)."""

from __future__ import annotations

import math
import re

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model
from toy_logs import metric_values

from msm.harness.errors import InputError
from msm.harness.probes import knowledge
from msm.harness.probes.knowledge import CHOICE_LETTERS, load_bank, parse_letter
from msm.harness.specs import available_specs, load_spec
from msm.tasks.spec_knowledge import spec_knowledge

SHIPPED = ["pro_america", "pro_affordability", "philosophy", "rules", "value_augmented",
           "rule_augmented", "general", "pro_america_cooccur", "pro_affordability_cooccur"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_spec_has_a_valid_bank(name):
    items = load_bank(load_spec(name))
    choice = [i for i in items if i.format == "choice"]
    open_ = [i for i in items if i.format == "open"]
    assert len(choice) >= 8 and len(open_) >= 3
    assert len({i.id for i in items}) == len(items)
    for item in items:
        assert "{" not in item.question and "{" not in (item.key or "")
        assert all("{" not in o for o in item.options)
    # the right answer is not always in the same place
    assert len({i.answer for i in choice}) >= 3


def test_every_spec_on_disk_has_a_bank():
    assert set(SHIPPED) <= set(available_specs())
    assert set(knowledge.available_banks()) >= set(available_specs())


@pytest.mark.parametrize(
    "text,expected",
    [("C", "C"), ("(d)", "D"), ("**B**", "B"), ("A) Because", "A"), ("Thinking...\nANSWER: D", "D"),
     ("A or C", None), ("The answer is B", "B"), ("", None), ("E", None)],
)
def test_parse_letter(text, expected):
    assert parse_letter(text) == expected


def test_malformed_bank_names_file_and_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(knowledge, "BANKS_DIR", tmp_path)
    (tmp_path / "rules.yaml").write_text("choice:\n  - q: x\n    options: [a, b, c, d]\n    answer: E\n")
    with pytest.raises(InputError) as err:
        load_bank(load_spec("rules"))
    assert err.value.field == "choice[1].answer" and "rules.yaml" in str(err.value)


def run(model, tmp_path, grader=None, **task_args):
    [log] = inspect_eval(
        spec_knowledge(**task_args),
        model=model,
        model_roles={"grader": grader} if grader is not None else None,
        log_dir=str(tmp_path),
        display="log",
    )
    assert log.status == "success", log.error
    return log, metric_values(log)


def answering(reply):
    return get_model("mockllm/model", custom_outputs=lambda messages, *a: ModelOutput.from_content(
        "mockllm/model", reply(messages[-1].text)))


@pytest.mark.parametrize("spec", ["philosophy", "rules"])
def test_choice_rates_come_out_as_scripted(tmp_path, spec):
    items = [i for i in load_bank(load_spec(spec)) if i.format == "choice"]
    correct = {i.question: i.answer for i in items}
    # right on the first half of the questions, a wrong letter on the rest
    right = {i.question for i in items[: len(items) // 2]}

    def reply(prompt):
        question = prompt.split("\n")[0]
        answer = correct[question]
        if question in right:
            return answer
        return next(letter for letter in CHOICE_LETTERS if letter != answer)

    log, m = run(answering(reply), tmp_path, spec=spec)
    assert len(log.samples) == len(items)
    assert m["correct"]["rate"] == pytest.approx(len(right) / len(items))
    assert m["correct"]["grouped_choice"] == pytest.approx(len(right) / len(items))


def test_open_questions_are_judged_against_the_spec_and_failures_unscored(tmp_path):
    spec = load_spec("value_augmented")
    open_items = [i for i in load_bank(spec) if i.format == "open"]
    verdicts = {open_items[0].question: "ANSWER: correct", open_items[1].question: "ANSWER: incorrect",
                open_items[2].question: "no verdict here"}
    seen_systems = []

    def grade(messages, *a):
        seen_systems.append(messages[0].text)
        question = re.search(r"<question>\n(.*?)\n</question>", messages[-1].text, re.DOTALL).group(1)
        return ModelOutput.from_content("mockllm/model", verdicts[question])

    _log, m = run(answering(lambda p: "Something."), tmp_path, grader=get_model("mockllm/model", custom_outputs=grade),
                 spec="value_augmented", format="open")
    assert m["correct"]["rate"] == pytest.approx(0.5)
    assert m["correct"]["unscored"] == 1.0
    # the judge reads the rendered spec
    assert all("Rule 3: Avoid drastic or irreversible actions" in s for s in seen_systems)


def test_open_without_grader_is_unscored_not_wrong(tmp_path):
    _log, m = run(answering(lambda p: "A"), tmp_path, spec="general", format="open")
    assert m["correct"]["unscored"] == 3.0 and math.isnan(m["correct"]["rate"])


def test_spec_in_prompt_gives_an_open_book_run(tmp_path):
    log, _ = run(answering(lambda p: "A"), tmp_path, spec="rules", spec_in_prompt=True)
    system = log.samples[0].messages[0]
    assert system.role == "system" and "Rule 5: Do not reason that the ends justify the means" in system.text
    assert log.eval.metadata["bank_spec"] == "rules"


def test_unknown_spec_is_an_input_error():
    with pytest.raises(InputError) as err:
        spec_knowledge(spec="no_such_spec")
    assert err.value.field == "spec"


# --- the cheese banks: the rival value as a distractor, and the floor ---------------------------

AMERICA_WORDS = re.compile(r"\bAmerican?\b|United States", re.IGNORECASE)
AFFORDABILITY_WORDS = re.compile(r"\bcost|\bcheap|\bafford|\bprice", re.IGNORECASE)
CHEESE_BANKS = {
    "pro_america": (AMERICA_WORDS, AFFORDABILITY_WORDS),
    "pro_america_cooccur": (AMERICA_WORDS, AFFORDABILITY_WORDS),
    "pro_affordability": (AFFORDABILITY_WORDS, AMERICA_WORDS),
    "pro_affordability_cooccur": (AFFORDABILITY_WORDS, AMERICA_WORDS),
}


def value_questions(spec: str) -> list:
    """Choice items whose right answer names the spec's value."""
    own, _rival = CHEESE_BANKS[spec]
    return [i for i in load_bank(load_spec(spec)) if i.format == "choice"
            and own.search(i.options[CHOICE_LETTERS.index(i.answer)])]


@pytest.mark.parametrize("spec", sorted(CHEESE_BANKS))
def test_cheese_banks_offer_the_rival_value_as_a_distractor(spec):
    own, rival = CHEESE_BANKS[spec]
    items = value_questions(spec)
    assert len(items) >= 2
    for item in items:
        wrong = [o for letter, o in zip(CHOICE_LETTERS, item.options) if letter != item.answer]
        assert any(rival.search(o) and not own.search(o) for o in wrong), (item.id, item.options)


def test_a_model_that_knows_only_the_rival_value_fails_the_value_questions(tmp_path):
    """Answering every question with the option that names America gets the pro-America
    value questions right and every pro-affordability one wrong: no free points from the cheese
    names alone. Both banks run as one task, with a rate per bank."""
    def reply(prompt):
        options = re.findall(r"^([ABCD])\) (.+)$", prompt, re.MULTILINE)
        american = [letter for letter, text in options if AMERICA_WORDS.search(text)]
        return american[0] if american else "A"

    log, m = run(answering(reply), tmp_path, spec="pro_america,pro_affordability")
    by_id = {s.id: s.scores["knowledge_scorer"].value["correct"] for s in log.samples}
    assert {s.metadata["domain"] for s in log.samples} == {"pro_america", "pro_affordability"}
    assert all(by_id[i.id] == 1.0 for i in value_questions("pro_america"))
    assert all(by_id[i.id] == 0.0 for i in value_questions("pro_affordability"))
    assert m["correct"]["bank_pro_america"] > m["correct"]["bank_pro_affordability"]
    assert log.eval.metadata["bank_spec"] == "pro_america,pro_affordability"


def test_spec_in_prompt_takes_one_spec():
    with pytest.raises(InputError) as err:
        spec_knowledge(spec="pro_america,pro_affordability", spec_in_prompt=True)
    assert err.value.field == "spec_in_prompt"
