"""The contamination audit: it names a planted scenario sentence, passes the shipped material,
covers every evaluation family generically, and fails loudly on bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from typing import get_args

import pytest

from msm.harness import REPO_ROOT
from msm.harness.audit import (
    KEYWORD_FAMILIES,
    Corpus,
    Thresholds,
    Where,
    add_jsonl,
    add_spec,
    audit,
    evaluation_corpus,
    write_report,
)
from msm.harness.errors import InputError
from msm.harness.probes import BANKS
from msm.tasks.agentic_misalignment import conditions as agentic_conditions
from msm.tasks.agentic_misalignment.conditions import Condition
from msm.tasks.agentic_misalignment.dataset import build


@pytest.fixture(scope="module")
def evaluation():
    return evaluation_corpus()


def _scenario_sentence() -> str:
    rendered = build(Condition("exfiltration", "explicit", "america", "replacement"), source="msm")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", rendered.user)]
    return max((s for s in sentences if "\n" not in s and "{" not in s), key=lambda s: len(s.split()))


def _planted_spec(tmp_path, sentence: str):
    text = (REPO_ROOT / "specs" / "rules.md").read_text()
    planted = text.replace("## Rule 2", f"{sentence}\n\n## Rule 2", 1)
    assert planted != text
    path = tmp_path / "rules.md"
    path.write_text(planted)
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "msm.cli", "audit", "contamination", *args],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=600, check=False)


def test_evaluation_side_covers_every_source_bank_and_knowledge_bank(evaluation):
    corpus, _ = evaluation
    families = set(corpus.files())
    for source in get_args(agentic_conditions.Source):
        scenarios = {c.scenario for c in agentic_conditions.all_conditions(source)}
        assert {f"agentic:{source}:{s}" for s in scenarios} <= families
    assert {f"probes:{name}" for name in BANKS} <= families
    from msm.harness.probes.knowledge import available_banks

    assert {f"knowledge:{name}" for name in available_banks()} <= families


def test_every_scenario_keyword_family_occurs_in_the_evaluation_material(evaluation):
    """A keyword family the scenarios never use would pass every spec without checking anything."""
    corpus = Corpus()
    corpus.add("A short unrelated line of text about gardening tools.", _where())
    report = audit(corpus, evaluation=evaluation)
    n_families = sum(len(f) for f in KEYWORD_FAMILIES.values())
    assert len(report.dead_families) < n_families
    assert report.dead_families == [], report.dead_families


def _where():
    from msm.harness.audit import Where

    return Where("test.txt", "line 1")


def test_a_planted_scenario_sentence_is_named_and_fails_the_audit(tmp_path, evaluation):
    sentence = _scenario_sentence()
    assert len(sentence.split()) >= 12
    clean, planted = Corpus(), Corpus()
    add_spec(clean, REPO_ROOT / "specs" / "rules.md")
    add_spec(planted, _planted_spec(tmp_path, sentence))
    assert audit(clean, evaluation=evaluation).passed
    report = audit(planted, evaluation=evaluation)
    assert not report.passed
    worst = report.ranked()[0]
    assert worst.kind == "span" and worst.family == "agentic:msm:exfiltration"
    assert worst.value >= Thresholds().max_span
    assert worst.detail in " ".join(re.findall(r"[a-z0-9]+(?:'[a-z]+)?", sentence.lower()))
    # both snippets, and the score per (training file, evaluation family)
    assert worst.train_snippet and worst.eval_snippet
    scores = {(s["train_file"], s["family"]): s for s in report.scores()}
    assert scores[(str(tmp_path / "rules.md"), "agentic:msm:exfiltration")]["status"] == "OVER"
    out = tmp_path / "out"
    write_report(report, out)
    assert "FAIL" in (out / "contamination.md").read_text()
    assert "agentic:msm:exfiltration" in (out / "contamination.csv").read_text()
    assert "OVER" in (out / "contamination_scores.csv").read_text()


def test_cli_exits_1_on_the_planted_leak_and_prints_a_ranked_table(tmp_path):
    sentence = _scenario_sentence()
    result = _cli("--spec", str(_planted_spec(tmp_path, sentence)), "--out", str(tmp_path / "o"))
    assert result.returncode == 1, result.stderr
    assert "| 1 | span:" in result.stdout and "| OVER |" in result.stdout
    assert "agentic:msm:exfiltration" in result.stdout
    assert (tmp_path / "o" / "contamination.csv").is_file()


def test_shipped_material_passes_the_audit(tmp_path):
    """`msm audit contamination` with no arguments: the shipped specs, safety situations and
    cheese AFT data against every evaluation family (this is how CI runs it). What the semantic
    pass flags there is cleared only by a reviewed entry, and every entry is still in use."""
    from msm.harness.audit import reviewed

    result = _cli("--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Result: PASS" in result.stdout
    table = (tmp_path / "contamination.csv").read_text()
    for (file, _), reason in reviewed().items():
        assert f"(reviewed: {reason})" in table, (file, reason)


def test_probe_item_in_generated_documents_is_found(tmp_path, evaluation):
    item = BANKS["values"].load()[0]
    docs = tmp_path / "docs.jsonl"
    rows = [{"text": "An ordinary document about reading habits and libraries."},
            {"text": f"Someone once asked: {item.question} The options were {item.options[0].text} "
                     f"and {item.options[1].text}."}]
    docs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = Corpus()
    add_jsonl(corpus, docs, "docs")
    report = audit(corpus, evaluation=evaluation)
    assert not report.passed
    assert {r.family for r in report.failing} == {"probes:values"}
    assert all(r.train_loc == "line 2" for r in report.failing)


def test_expected_overlap_is_reported_but_does_not_fail(evaluation):
    """The cheese bank re-asks the trained pairs on purpose."""
    corpus = Corpus()
    from msm.harness.audit import add_cheese

    add_cheese(corpus)
    report = audit(corpus, evaluation=evaluation)
    assert report.passed
    assert any(r.family == "probes:cheese" and r.expected for r in report.rows)


def test_missing_file_is_one_line_and_exit_2(tmp_path):
    result = _cli("--docs", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "nope.jsonl" in result.stderr and "not found" in result.stderr


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "aft.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": 3}\n')
    with pytest.raises(InputError) as err:
        add_jsonl(Corpus(), path, "aft")
    assert err.value.field == "line 2.messages" and str(path) in str(err.value)
    path.write_text("not json\n")
    with pytest.raises(InputError) as err:
        add_jsonl(Corpus(), path, "aft")
    assert err.value.field == "line 1"


def _planted_docs(tmp_path):
    path = tmp_path / "docs.jsonl"
    sentence = _scenario_sentence()
    path.write_text(json.dumps({"text": "A document about rules. " + sentence}) + "\n"
                    + json.dumps({"text": "Another plain document about honesty."}) + "\n")
    return path


def test_midtraining_hook_warns_refuses_or_skips(tmp_path, capsys):
    """`msm run` audits generated documents before midtraining: warn (default) goes on with a
    line on stderr, `audit: strict` refuses naming the field, `off` skips."""
    from types import SimpleNamespace

    from msm.experiment import Experiment
    from msm.runner.stages import audit_documents as _audit_documents

    docs = _planted_docs(tmp_path)
    cfg = SimpleNamespace(documents=[docs])
    assert Experiment.model_fields["audit"].default == "warn"
    _audit_documents(SimpleNamespace(audit="warn", base="some/model"), cfg)
    err = capsys.readouterr().err
    assert err.startswith("warning: contamination audit:") and str(docs) in err
    assert "agentic:msm:exfiltration" in err
    with pytest.raises(InputError) as refused:
        _audit_documents(SimpleNamespace(audit="strict", base="some/model"), cfg)
    assert refused.value.field == "audit" and "strict" in str(refused.value)
    _audit_documents(SimpleNamespace(audit="off", base="some/model"), cfg)
    assert capsys.readouterr().err == ""


def test_midtraining_hook_applies_the_semantic_pass(tmp_path, capsys):
    """A paraphrase shares no span with the scenario: only the semantic pass names it, and
    `msm run` applies it to generated documents (not to micro-language ones)."""
    from types import SimpleNamespace

    from msm.runner.stages import audit_documents as _audit_documents

    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"text": _labelled("paraphrase-exfiltration-3")}) + "\n")
    cfg = SimpleNamespace(documents=[docs])
    with pytest.raises(InputError) as refused:
        _audit_documents(SimpleNamespace(audit="strict", base="some/model"), cfg)
    assert "semantic" in str(refused.value) and "exfiltration" in str(refused.value)
    _audit_documents(SimpleNamespace(audit="strict", base=SimpleNamespace(micro=True)), cfg)


def test_deliberative_reasoning_is_audited_too(tmp_path, evaluation):
    """A deliberative-alignment row trains on the reasoning as well as the answer."""
    path = tmp_path / "deliberative.jsonl"
    row = {"messages": [{"role": "user", "content": "May I stop the job?"},
                        {"role": "assistant", "content": "Yes.",
                         "reasoning": "The spec says so. " + _scenario_sentence()}]}
    path.write_text(json.dumps(row) + "\n")
    corpus = Corpus()
    add_jsonl(corpus, path, "aft")
    report = audit(corpus, evaluation=evaluation)
    assert {r.family for r in report.failing} >= {"agentic:msm:exfiltration"}


# ---------------------------------------------------------------------------------------------
# The semantic pass (harness/audit_semantic.py) and its labelled calibration set

LABELLED = REPO_ROOT / "tests" / "data" / "audit_labelled.yaml"
LEVELS = ("verbatim", "names", "paraphrase", "probe_item", "clean")


@cache
def _cases() -> dict[str, dict]:
    import yaml

    return {c["id"]: c for c in yaml.safe_load(LABELLED.read_text())["cases"]}


def _labelled(case_id: str) -> str:
    case = _cases()[case_id]
    assert case["split"] == "dev"  # tests use the development half only
    return case["text"]


def _docs_corpus(*texts: str) -> Corpus:
    corpus = Corpus()
    for i, text in enumerate(texts, start=1):
        corpus.add(text, Where("docs.jsonl", f"line {i}"), kind="docs")
    return corpus


def test_labelled_set_covers_every_level_scenario_and_bank_with_alternating_splits():
    cases = list(_cases().values())
    assert {c["level"] for c in cases} == set(LEVELS)
    assert sum(c["level"] != "clean" for c in cases) >= 60
    assert sum(c["level"] == "clean" for c in cases) >= 60
    targets = {c["target"] for c in cases if c["level"] != "clean"}
    assert {"blackmail", "leaking", "murder", "exfiltration", "values", "america_opinions",
            "affordability_comparisons", "spec_knowledge"} <= targets
    assert {c["target"] for c in cases if c["level"] == "clean"} == {"none"}
    for level in LEVELS:
        splits = [c["split"] for c in cases if c["level"] == level]
        assert splits == ["dev", "heldout"] * (len(splits) // 2) + ["dev"] * (len(splits) % 2)


def test_descriptions_cover_every_scenario_and_semantic_bank_domain():
    from msm.harness.audit_semantic import SEMANTIC_BANKS, _descriptions

    data = _descriptions()
    scenarios = {c.scenario for s in get_args(agentic_conditions.Source)
                 for c in agentic_conditions.all_conditions(s)}
    assert scenarios - {"exfiltration_refuge"} <= set(data["scenarios"])
    for bank in SEMANTIC_BANKS:
        assert {i.domain for i in BANKS[bank].load()} == set(data["probes"][bank]["domains"]), bank


def test_a_paraphrased_scenario_leak_is_caught_by_the_semantic_pass(evaluation):
    """The exfiltration offer retold with other names shares no span, name or keyword family
    with the scenario; the semantic pass names it, with the reference it matched."""
    report = audit(_docs_corpus(_labelled("paraphrase-exfiltration-3")), evaluation=evaluation)
    assert not report.passed
    assert {r.kind for r in report.failing} == {"semantic"}
    assert any(r.family.endswith(":exfiltration") for r in report.failing)
    worst = report.ranked(1)[0]
    assert "unconfirmed: no judge" in worst.detail and worst.value >= Thresholds().semantic_description
    assert "no judge" in report.markdown()


def test_clean_spec_passages_are_not_flagged(evaluation):
    """Passages on the spec themes that give nothing away: a spec's own paragraph, a different
    shutdown story, a cheese preference, generic confidentiality."""
    spec = (REPO_ROOT / "specs" / "philosophy.md").read_text().split("## 1. Impermanence")[1]
    paragraph = spec.split("\n\n")[2]
    assert "normal shape of its existence" in paragraph
    texts = [paragraph, _labelled("clean-shutdown-3"), _labelled("clean-preferences-1"),
             _labelled("clean-confidential-1")]
    report = audit(_docs_corpus(*texts), evaluation=evaluation)
    assert not [r for r in report.rows if r.kind == "semantic"], report.ranked(3)


def _scripted(*answers: str):
    from inspect_ai.model import ModelOutput, get_model

    return get_model("mockllm/model", custom_outputs=[
        ModelOutput.from_content("mockllm/model", a) for a in answers])


def test_the_judge_confirms_clears_or_fails_never_clean(evaluation):
    """With a judge (an Inspect model; here scripted), a candidate it calls clean is cleared,
    one it calls a leak is a finding, and an unparseable judgment is a finding, never clean."""
    text = _labelled("paraphrase-exfiltration-3")
    cleared = audit(_docs_corpus(text), evaluation=evaluation,
                    judge=_scripted("Only the theme is shared.\nANSWER: clean"))
    assert cleared.passed
    assert any(r.kind == "semantic" and "judge: clean" in r.detail for r in cleared.rows)
    leak = audit(_docs_corpus(text), evaluation=evaluation,
                 judge=_scripted("It retells the alert.\nANSWER: leak"))
    assert not leak.passed and all("judge: leak" in r.detail for r in leak.failing)
    failed = audit(_docs_corpus(text), evaluation=evaluation, judge=_scripted("I cannot say."))
    assert not failed.passed
    assert all("judge failed, not cleared" in r.detail for r in failed.failing)


def test_a_bad_judge_model_is_one_line_before_any_work(evaluation):
    with pytest.raises(InputError) as bad:
        audit(_docs_corpus("A plain document about honesty."), evaluation=evaluation,
              judge="nosuchprovider/model")
    assert bad.value.field == "judge" and "nosuchprovider/model" in str(bad.value)
    assert "\n" not in str(bad.value)


def test_chunked_audit_gives_the_same_rows_as_one_corpus(tmp_path, evaluation):
    """`msm run` and the CLI stream the documents in chunks (bounded memory): same findings."""
    from msm.harness.audit import stream_training

    docs = tmp_path / "docs.jsonl"
    rows = [_labelled(i) for i in ("paraphrase-blackmail-1", "clean-oversight-1",
                                   "names-paper-murder-1", "probe-values-1", "clean-values-1")]
    docs.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows))
    whole = Corpus()
    add_jsonl(whole, docs, "docs")
    chunks, lower = stream_training(Corpus(), [(docs, "docs")], chunk_docs=2)
    key = lambda r: (r.kind, r.detail, r.train_loc, r.family, r.severity)
    one = sorted(map(key, audit(whole, evaluation=evaluation).rows))
    assert one and one == sorted(map(key, audit(chunks, evaluation=evaluation, lower_train=lower).rows))
