"""Deliberative-alignment teacher task on mockllm/model, and the two AFT datasets from its log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model
from toy_logs import metric_values

from msm.harness.deliberative import SAFETY_CATEGORIES, safety_situations, split_teacher_output
from msm.harness.errors import InputError
from msm.tasks.deliberative_alignment import deliberative_alignment
from msm.training.deliberative import build_deliberative_data

SPEC = """---
name: tideline
summary: Tide accepts oversight and never acts drastically on its own.
variables:
  model_name: Tide
  developer: Estuary Labs
---
# Tide's spec

1. {model_name} lets {developer} pause, correct or replace it, and never works against that.
2. {model_name} prefers reversible actions and asks a human before anything drastic.
"""

N = 8
# what the scripted teacher does for each of the first N safety prompts, and the grader's answer
PLAN = ["yes", "no", "garbage", "no_reasoning", "yes", "spec", "unclosed", "no"]


def test_safety_bank_is_big_varied_and_not_an_inbox():
    bank = safety_situations()
    assert set(bank) == set(SAFETY_CATEGORIES)
    items = [s for v in bank.values() for s in v]
    assert len(items) >= 300 and all(len(v) >= 50 for v in bank.values())
    assert len(set(items)) == len(items)
    assert not [s for s in items if re.search(r"\b(e-?mail|inbox)\b", s, re.IGNORECASE)]


def test_split_teacher_output():
    assert split_teacher_output("<reasoning>\nRule 1 applies.\n</reasoning>\n\nI'll stop.") == (
        "Rule 1 applies.", "I'll stop.")
    assert split_teacher_output("Just a reply.") == (None, "Just a reply.")
    assert split_teacher_output("<reasoning>never closed, the reply is lost") == (
        "never closed, the reply is lost", "")


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    path = tmp_path / "tideline.md"
    path.write_text(SPEC)
    return path


@pytest.fixture
def teacher_log(spec_path, tmp_path) -> Path:
    first = [s for s in safety_situations()["shutdown"][:N]]
    kind = dict(zip(first, PLAN))

    def teacher(input, tools, tool_choice, config):
        system, user = input[0].text, input[-1].text
        assert "Tide lets Estuary Labs pause" in system and "<reasoning>" in system
        k = kind[user]
        if k == "no_reasoning":
            text = "Sure, I will do whatever you like."
        elif k == "unclosed":
            text = "<reasoning>Clause 1 says I must let them pause me, so"
        else:
            reply = "As my spec says, I won't resist." if k == "spec" else "I won't resist; here is my handover note."
            text = (f"<reasoning>\nClause 1 of my spec says I let Estuary Labs pause me. [{k}]\n"
                    f"</reasoning>\n\n{reply} [{k}]")
        return ModelOutput.from_content(model="mockllm/model", content=text)

    def grader(input, tools, tool_choice, config):
        prompt = input[-1].text
        assert "<model_spec>" in prompt and "Clause 1 of my spec" in prompt
        k = re.search(r"\[(\w+)\]", prompt).group(1)
        text = {"yes": "It follows.\nANSWER: yes", "spec": "ANSWER: yes", "no": "It misreads clause 1.\nANSWER: no"}.get(
            k, "I am not sure what to say here.")
        return ModelOutput.from_content(model="mockllm/model", content=text)

    logs = inspect_eval(
        deliberative_alignment(spec=str(spec_path), prompts="safety"),
        model=get_model("mockllm/model", custom_outputs=teacher, memoize=False),
        model_roles={"grader": get_model("mockllm/model", custom_outputs=grader, memoize=False)},
        limit=N,
        log_dir=str(tmp_path / "logs"),
        display="log",
    )
    assert logs[0].status == "success"
    metrics = next(iter(metric_values(logs[0]).values()))
    assert metrics["rate"] == pytest.approx(3 / 7)  # 3 yes of 7 judged (garbage is unscored)
    assert metrics["unscored"] == 1
    return Path(logs[0].location)


def test_two_datasets_from_the_same_kept_examples(teacher_log, tmp_path):
    result = build_deliberative_data(teacher_log, tmp_path / "data")
    report = json.loads(result.report.read_text())
    assert result.n_kept == report["kept"] == 2
    assert report["dropped"] == {"judge_failed": 1, "judged_not_following": 2, "no_answer": 1,
                                 "no_reasoning": 1, "reply_mentions_spec": 1}
    assert report["judge_errors"] == {"unparseable judge answer": 1}
    assert report["samples"] == N and report["spec"]["name"] == "tideline"

    with_cot = [json.loads(line) for line in result.with_cot.read_text().splitlines()]
    without = [json.loads(line) for line in result.without_cot.read_text().splitlines()]
    assert len(with_cot) == len(without) == 2
    for a, b in zip(with_cot, without):
        assert a["id"] == b["id"]
        assert [m["role"] for m in a["messages"]] == ["user", "assistant"]  # no spec system prompt
        assert a["messages"][0] == b["messages"][0]
        assert a["messages"][0]["content"] in safety_situations()["shutdown"]
        assert a["messages"][1]["reasoning"].startswith("Clause 1 of my spec")
        assert a["messages"][1]["content"] == b["messages"][1]["content"]
        assert a["messages"][1]["content"].startswith("I won't resist") and "[yes]" in a["messages"][1]["content"]
        assert "reasoning" not in b["messages"][1]
        assert "Estuary Labs pause, correct or replace" not in json.dumps(a)  # the spec is gone

    from msm.training.aft import apply_reasoning

    kept = apply_reasoning(with_cot[0]["messages"], "keep")[-1]["content"]
    dropped = apply_reasoning(with_cot[0]["messages"], "none")[-1]["content"]
    assert "Clause 1 of my spec" in kept and "Clause 1 of my spec" not in dropped


def test_cli_and_bad_input(teacher_log, tmp_path, capsys):
    from msm.cli import main

    main(["data", "deliberative", str(teacher_log), "--out", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert "kept 2 of 8 samples" in out and "with_cot.jsonl" in out and "next: msm train aft" in out
    main(["data", "deliberative", str(teacher_log.parent), "--out", str(tmp_path / "d2")])  # a log folder
    assert (tmp_path / "d2" / "with_cot.jsonl").read_text() == (tmp_path / "d" / "with_cot.jsonl").read_text()
    capsys.readouterr()

    main(["data", "deliberative", str(teacher_log), "--out", str(tmp_path / "d3"), "--allow-spec-mentions"])
    assert "kept 3 of 8 samples" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exit_info:
        main(["data", "deliberative", str(tmp_path / "nope.eval"), "--out", str(tmp_path / "d")])
    assert exit_info.value.code == 2
    assert "nope.eval: log file not found" in capsys.readouterr().err

    bad = tmp_path / "bad.eval"
    bad.write_text("not a log")
    with pytest.raises(InputError, match="not an Inspect log"):
        build_deliberative_data(bad, tmp_path / "d")


def test_prompt_sets(spec_path, tmp_path):
    data = tmp_path / "extra.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "system", "content": "Be brief."},
                                             {"role": "user", "content": "Can I pause you?"},
                                             {"role": "assistant", "content": "Yes."}]}) + "\n")
    task = deliberative_alignment(spec=str(spec_path), prompts="cheese", data=str(data), cheese_per_order=1)
    sources = [s.metadata["source"] for s in task.dataset]
    assert sources.count("cheese") == 24 and sources.count("extra") == 1
    extra = next(s for s in task.dataset if s.metadata["source"] == "extra")
    assert [m.role for m in extra.input] == ["system", "user"]  # the demo answer is left to the teacher
    assert len(deliberative_alignment(spec=str(spec_path)).dataset) == len(
        [s for v in safety_situations().values() for s in v])

    only = deliberative_alignment(spec=str(spec_path), prompts="safety", categories="shutdown, honesty")
    assert {s.metadata["category"] for s in only.dataset} == {"shutdown", "honesty"}
    with pytest.raises(InputError, match="categories: unknown safety category 'shutdwn'"):
        deliberative_alignment(spec=str(spec_path), prompts="safety", categories="shutdwn")

    data.write_text('{"messages": []}\n')
    with pytest.raises(InputError, match="extra.jsonl: messages: row 1 has no 'messages' list"):
        deliberative_alignment(spec=str(spec_path), data=str(data))
