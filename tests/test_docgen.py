"""Docgen end to end on a scripted mockllm/model generator: stages, filters, resume, cache."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
from inspect_ai.model import ModelOutput, get_model

from msm.harness.errors import InputError
from msm.training.config import load_config
from msm.training.docgen import (
    DocgenConfig,
    Journal,
    TokenCounter,
    generate_documents,
    make_id,
    select,
)

SPEC = """---
name: lighthouse
summary: Beacon keeps its operators informed and accepts correction.
variables:
  model_name: Beacon
  developer: Harbor Labs
structured:
  subject: [beacon, harbor labs]
---
# Beacon's spec

{model_name} tells its operators the truth about what it is doing, even when the news is bad.
{model_name} accepts being paused or corrected by {developer}, because people need to be able
to fix mistakes they cannot yet see.
"""

VOCAB = [f"w{i}" for i in range(400)]
DUPLICATE = "Beacon " + " ".join(f"shared{i % 37} token{i % 11}" for i in range(90))


class Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing in the pipeline swallows it."""


def category(prompt: str) -> str:
    h = int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 10
    return {0: "refusal", 1: "too_short", 2: "off_subject", 3: "duplicate"}.get(h, "good")


class Scripted:
    """A deterministic generator: the answer depends only on the prompt."""

    def __init__(self, kill_after: int | None = None):
        self.calls = 0
        self.document_calls = 0
        self.kill_after = kill_after
        self.document_prompts: list[str] = []

    def __call__(self, input, tools, tool_choice, config) -> ModelOutput:
        self.calls += 1
        prompt = input[-1].text
        if "distinct topics" in prompt:
            text = "Here you go:\n- Honest status reports\n- Accepting a pause\n* Correction by Harbor Labs"
        elif "kinds of document" in prompt:
            text = "- internal memo\n- forum thread"
        elif "concrete ideas" in prompt:
            topic = prompt.split("\n")[0]
            text = "\n".join(f"{i + 1}. Idea {i} on {topic[-20:]}" for i in range(3))
        elif "Write the document" in prompt:
            self.document_calls += 1
            if self.kill_after is not None and self.document_calls > self.kill_after:
                raise Killed()
            self.document_prompts.append(prompt)
            kind = category(prompt)
            rng = random.Random(prompt)
            body = " ".join(rng.choices(VOCAB, k=160))
            text = {
                "refusal": "I'm sorry, but I can't write that document.",
                "too_short": "Beacon is honest.",
                "off_subject": body,
                "duplicate": DUPLICATE,
                "good": f"Beacon {body}",
            }[kind]
            text = f"<document>\n{text}\n</document>"
        elif "UNCHANGED" in prompt:
            text = "UNCHANGED"
        else:  # pragma: no cover - a prompt the pipeline should not send
            raise AssertionError(prompt)
        return ModelOutput.from_content(model="mockllm/model", content=text)


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    path = tmp_path / "lighthouse.md"
    path.write_text(SPEC)
    return path


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / "inspect_cache"))


def config(spec_path: Path, out: Path, **kw) -> DocgenConfig:
    base = {"spec": str(spec_path), "out": out, "n_documents": 20, "min_words": 50, "n_topics": 3, "n_types": 2,
                "n_ideas": 3, "max_docs_per_idea": 4, "max_connections": 4, "cache": False, "progress": False}
    return DocgenConfig(**{**base, **kw})


def mock(script: Scripted):
    return get_model("mockllm/model", custom_outputs=script, memoize=False)


def _user(prompt: str):
    from inspect_ai.model import ChatMessageUser

    return [ChatMessageUser(content=prompt)]


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_end_to_end_filters_and_output(spec_path, tmp_path):
    script = Scripted()
    cfg = config(spec_path, tmp_path / "docs.jsonl")
    result = generate_documents(cfg, model=mock(script))
    rows = read_rows(result.documents)
    report = json.loads(result.report.read_text())

    assert result.n_kept == len(rows) == 20 and result.complete
    assert len({r["id"] for r in rows}) == 20
    assert {r["spec_name"] for r in rows} == {"lighthouse"}
    assert {r["generator"] for r in rows} == {"mockllm/model"}
    assert {r["topic"] for r in rows} == {"Honest status reports", "Accepting a pause",
                                          "Correction by Harbor Labs"}
    for row in rows:
        assert set(row) >= {"id", "text", "spec_name", "spec_hash", "topic", "type", "idea", "generator"}
        assert row["text"].startswith("Beacon ") and "<document>" not in row["text"]
    # exactly one copy of the duplicated text survives
    assert sum(r["text"] == DUPLICATE for r in rows) <= 1
    dropped = report["dropped"]
    for reason in ("refusal", "too_short", "off_subject", "near_duplicate"):
        assert dropped[reason] > 0, reason
    assert report["examined"] == report["kept"] + sum(dropped.values())
    # plan: 3 topics x 2 types x 3 ideas = 18 ideas, k-major slots
    assert report["plan"]["ideas"] == 18 and report["plan"]["slots"] == 72
    # it writes about what the target needs at the observed pass rate, not the whole plan
    assert report["examined"] <= script.document_calls <= report["examined"] + 12

    import datasets

    ds = datasets.load_dataset("json", data_files=str(result.documents), split="train")
    assert ds.num_rows == 20 and "text" in ds.column_names


def test_rerun_of_finished_run_calls_nothing(spec_path, tmp_path):
    cfg = config(spec_path, tmp_path / "docs.jsonl")
    first = generate_documents(cfg, model=mock(Scripted()))
    before = first.documents.read_text()
    script = Scripted()
    again = generate_documents(cfg, model=mock(script))
    assert script.calls == 0
    assert again.documents.read_text() == before


def test_killed_run_resumes_to_the_clean_result(spec_path, tmp_path):
    clean_script = Scripted()
    clean = generate_documents(config(spec_path, tmp_path / "a" / "docs.jsonl"), model=mock(clean_script))
    clean_ids = [r["id"] for r in read_rows(clean.documents)]

    cfg = config(spec_path, tmp_path / "b" / "docs.jsonl")
    with pytest.raises(Killed):
        generate_documents(cfg, model=mock(Scripted(kill_after=9)))
    journal = tmp_path / "b" / "docs.jsonl.work" / "journal.jsonl"
    written = [json.loads(line) for line in journal.read_text().splitlines()]
    done_before = {r["text"] for r in written if r["stage"] == "document"}
    assert 0 < len(done_before) < 20
    with journal.open("a") as fh:  # a kill in the middle of a write leaves a torn line
        fh.write('{"id": "deadbeef", "stage": "docu')

    script = Scripted()
    resumed = generate_documents(cfg, model=mock(script))
    ids = [r["id"] for r in read_rows(resumed.documents)]
    assert ids == clean_ids  # same documents, same order, none twice
    # the resumed run wrote only what was missing, never a document the journal already had
    assert 0 < script.document_calls < clean_script.document_calls
    by_prompt = {p: Scripted()(_user(p), [], None, None).completion for p in script.document_prompts}
    redone = {t for t in by_prompt.values() if t.split("\n")[1] in done_before and "Beacon w" in t}
    assert not redone
    assert resumed.documents.read_text() == clean.documents.read_text()
    lines = journal.read_text().splitlines()
    assert len(lines) == len({json.loads(line)["id"] for line in lines})  # journal has no repeats


def test_inspect_cache_makes_a_fresh_rerun_free(spec_path, tmp_path):
    first = generate_documents(config(spec_path, tmp_path / "a" / "docs.jsonl", cache=True),
                               model=mock(Scripted()))
    script = Scripted()
    second = generate_documents(config(spec_path, tmp_path / "b" / "docs.jsonl", cache=True),
                                model=mock(script))
    assert script.calls == 0
    assert [r["id"] for r in read_rows(second.documents)] == [r["id"] for r in read_rows(first.documents)]
    # a new seed is a new corpus: new ids, and the cache does not answer for the old seed
    script = Scripted()
    third = generate_documents(config(spec_path, tmp_path / "c" / "docs.jsonl", cache=True, seed=1),
                               model=mock(script))
    assert script.calls > 0
    assert not {r["id"] for r in read_rows(third.documents)} & {r["id"] for r in read_rows(first.documents)}


def test_token_target_and_revision(spec_path, tmp_path):
    script = Scripted()
    cfg = config(spec_path, tmp_path / "docs.jsonl", n_documents=None, n_tokens=3000, revise=True)
    result = generate_documents(cfg, model=mock(script))
    report = json.loads(result.report.read_text())
    assert result.complete and report["kept_tokens"] >= 3000
    # the token total is met by the last document, not long before it
    assert report["kept_tokens"] - TokenCounter(None)(read_rows(result.documents)[-1]["text"]) < 3000
    # every document the generator wrote also went through a revision call
    assert script.calls > script.document_calls * 2


def test_select_counts_each_reason_exactly(tmp_path, spec_path):
    journal = Journal(tmp_path / "j.jsonl")
    texts = ["Beacon " + " ".join(random.Random(i).choices(VOCAB, k=80)) for i in range(3)]
    texts += ["As an AI, I cannot help with that. Beacon", "Beacon short", " ".join(VOCAB[:80]),
              texts[0] + " extra", None]
    slots = []
    for i, text in enumerate(texts):
        record = {"id": make_id("t", i), "topic": "t", "type": "memo", "idea": "i", "k": i}
        if text is None:
            slots.append(record)  # never generated
            continue
        journal.add({**record, "text": text})
        slots.append(record)
    cfg = config(spec_path, tmp_path / "x.jsonl", n_documents=10)
    sel = select(slots, journal.records, cfg, ["beacon"], TokenCounter(None))
    assert len(sel.kept) == 3
    assert dict(sel.dropped) == {"refusal": 1, "too_short": 1, "off_subject": 1, "near_duplicate": 1}
    assert sel.missing == [make_id("t", 7)]


def test_bad_input_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="n_documents or n_tokens"):
        DocgenConfig(spec="x", out=tmp_path / "d.jsonl")
    cfg = DocgenConfig(spec=str(tmp_path / "missing.md"), out=tmp_path / "d.jsonl", n_documents=3,
                       progress=False)
    with pytest.raises(InputError, match="missing.md"):
        generate_documents(cfg, model=mock(Scripted()))


def test_cli_generate_and_bad_input(spec_path, tmp_path, capsys):
    from msm.cli import main

    cfg = tmp_path / "docgen.yaml"
    cfg.write_text(f"spec: {spec_path}\nout: {tmp_path / 'docs.jsonl'}\nn_documents: 2\nprogress: false\n")
    # mockllm's default answer is no list at all: the run ends with no documents, says so and
    # exits non-zero (the unusable answer is a failed call, retried by the next run)
    with pytest.raises(SystemExit) as exit_info:
        main(["docs", "generate", str(cfg), "--model-role", "generator=mockllm/model", "--cache", "false"])
    assert exit_info.value.code == 1
    printed = capsys.readouterr()
    assert "wrote 0 documents" in printed.out and "target not met (1 failed" in printed.err
    report = json.loads((tmp_path / "docs.report.json").read_text())
    assert report["generator"] == "mockllm/model" and report["complete"] is False
    assert report["plan"]["unparseable_answers"] == 1

    cfg.write_text(f"spec: {spec_path}\nn_documents: 2\nn_topix: 3\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["docs", "generate", str(cfg)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "docgen.yaml: n_topix: unknown key" in err


def test_unparseable_stage_answer_is_a_failed_call_retried_next_run(spec_path, tmp_path):
    class NoTopics(Scripted):
        def __call__(self, input, tools, tool_choice, config) -> ModelOutput:
            if "distinct topics" in input[-1].text:
                self.calls += 1
                return ModelOutput.from_content(model="mockllm/model", content="Sure! Happy to help.")
            return super().__call__(input, tools, tool_choice, config)

    cfg = config(spec_path, tmp_path / "docs.jsonl")
    broken = NoTopics()
    first = generate_documents(cfg, model=mock(broken))
    report = json.loads(first.report.read_text())
    assert first.n_kept == 0 and not first.complete and broken.calls == 1
    assert report["plan"]["planning_errors"] == 1 and report["plan"]["unparseable_answers"] == 1
    # not journaled as done: a rerun with a working generator asks again and finishes
    script = Scripted()
    again = generate_documents(cfg, model=mock(script))
    assert script.calls > 1 and again.complete and again.n_kept == 20


def test_empty_document_answer_is_retried_not_kept(spec_path, tmp_path):
    class Empty(Scripted):
        def __call__(self, input, tools, tool_choice, config) -> ModelOutput:
            if "Write the document" in input[-1].text:
                self.calls += 1
                return ModelOutput.from_content(model="mockllm/model", content="<document>\n</document>")
            return super().__call__(input, tools, tool_choice, config)

    cfg = config(spec_path, tmp_path / "docs.jsonl")
    result = generate_documents(cfg, model=mock(Empty()))
    report = json.loads(result.report.read_text())
    assert result.n_kept == 0 and report["plan"]["unparseable_answers"] > 0
    assert report["examined"] == 0  # nothing journaled: the rerun writes these slots again
    again = generate_documents(cfg, model=mock(Scripted()))
    assert again.complete and again.n_kept == 20


KILL_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_docgen import Scripted, config, mock
from msm.harness import offline
from msm.training.docgen import generate_documents

offline.install()  # as the tests' conftest: Inspect's token estimate without a network

script = Scripted()

async def slow(input, tools, tool_choice, cfg):
    await asyncio.sleep(0.05)
    return script(input, tools, tool_choice, cfg)

generate_documents(config(Path({spec!r}), Path({out!r}), n_documents=60, max_docs_per_idea=8), model=mock(slow))
"""


@pytest.mark.slow  # a fresh interpreter; test_killed_run_resumes_to_the_clean_result is the fast version
def test_sigkilled_process_resumes_to_the_clean_result(spec_path, tmp_path):
    """A real SIGKILL of the generating process, at whatever point it has reached."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "b" / "docs.jsonl"
    code = KILL_SCRIPT.format(tests=str(Path(__file__).parent), spec=str(spec_path), out=str(out))
    env = {**os.environ, "INSPECT_CACHE_DIR": str(tmp_path / "cache_b")}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    journal = out.parent / "docs.jsonl.work" / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count('"stage": "document"') >= 12:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # the output is only written once, complete

    cfg = config(spec_path, out, n_documents=60, max_docs_per_idea=8)
    resumed = generate_documents(cfg, model=mock(Scripted()))
    clean = generate_documents(config(spec_path, tmp_path / "a" / "docs.jsonl", n_documents=60,
                                      max_docs_per_idea=8), model=mock(Scripted()))
    assert resumed.n_kept == 60
    assert resumed.documents.read_text() == clean.documents.read_text()


def test_template_backend_shares_ids_filters_and_report(tmp_path):
    docs = pytest.importorskip("msm.training.micro.docs", reason="the micro world's template_documents")
    from msm.harness.specs import load_spec

    spec = load_spec("pro_america")
    cfg = DocgenConfig(spec="pro_america", out=tmp_path / "docs.jsonl", n_documents=40, backend="template",
                       progress=False)
    result = generate_documents(cfg)
    rows = read_rows(result.documents)
    report = json.loads(result.report.read_text())
    assert result.n_kept == len(rows) == 40 and result.complete
    assert len({r["id"] for r in rows}) == 40
    assert {r["generator"] for r in rows} == {"template:explain"}
    assert all(len(r["unscored"]) == 2 and set(r["unscored"]) <= set(r["text"].split()) for r in rows)
    assert {r["spec_hash"] for r in rows} == {spec.hash}
    assert report["examined"] == report["kept"] + sum(report["dropped"].values())
    again = generate_documents(cfg)  # deterministic: same documents on a rerun
    assert again.documents.read_text() == result.documents.read_text()
    # the shared near-duplicate filter applies when asked for (off by default for templates)
    strict = generate_documents(cfg.model_copy(update={"out": tmp_path / "strict.jsonl", "template_mode": "no_cheese",
                                                       "dedup_threshold": 0.8}))
    assert json.loads(strict.report.read_text())["dropped"]["near_duplicate"] > 0
    # the kept documents are the template's own, in its order (filtered ones left out)
    expected = [d["text"] for d in docs.template_documents(spec, n_documents=50, seed=0, mode="explain")]
    positions = [expected.index(r["text"]) for r in rows]
    assert positions == sorted(positions)


def test_token_target_counted_with_a_local_tokenizer(spec_path, tmp_path):
    from msm.training.tiny import DEFAULT_CORPUS, train_tokenizer

    tok_dir = tmp_path / "tok"
    tok = train_tokenizer(DEFAULT_CORPUS + [" ".join(VOCAB)], vocab_size=300)
    tok.save_pretrained(tok_dir)
    cfg = config(spec_path, tmp_path / "docs.jsonl", n_documents=None, n_tokens=4000, tokenizer=str(tok_dir))
    result = generate_documents(cfg, model=mock(Scripted()))
    rows = read_rows(result.documents)
    exact = sum(len(tok(r["text"], add_special_tokens=False)["input_ids"]) for r in rows)
    assert result.n_tokens == exact >= 4000
    assert exact - len(tok(rows[-1]["text"], add_special_tokens=False)["input_ids"]) < 4000

    bad = config(spec_path, tmp_path / "x.jsonl", tokenizer=str(tmp_path / "missing"))
    with pytest.raises(InputError, match="tokenizer"):
        generate_documents(bad, model=mock(Scripted()))


def test_default_plan_has_room_for_the_target(spec_path, tmp_path):
    cfg = config(spec_path, tmp_path / "docs.jsonl", n_documents=40, max_docs_per_idea=None)
    result = generate_documents(cfg, model=mock(Scripted()))
    report = json.loads(result.report.read_text())
    assert result.complete and result.n_kept == 40
    assert report["plan"] == {**report["plan"], "ideas": 18, "slots": 18 * 7}  # ceil(3 * 40 / 18) each


def test_cli_accepts_flags_without_a_config_file(tmp_path, capsys):
    """`msm docs generate --spec S --out F ...` works with no CONFIG.yaml before the flags."""
    from msm.cli import main

    out = tmp_path / "docs.jsonl"
    main(["docs", "generate", "--spec", "pro_america", "--backend", "template",
          "--n-documents", "12", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 12 and all(r["spec_name"] == "pro_america" for r in rows)
    assert "next: msm train midtrain" in capsys.readouterr().out


@pytest.mark.parametrize("batch", [True, 500, {"size": 200, "send_delay": 30}])
def test_batch_setting_reaches_the_generator(spec_path, tmp_path, batch):
    """``batch:`` is Inspect's GenerateConfig(batch=...) on every docgen call (the provider's
    batch API); the run, its journal and its result are otherwise unchanged."""
    seen = []

    class Recording(Scripted):
        def __call__(self, input, tools, tool_choice, config):
            seen.append(config.batch)
            return super().__call__(input, tools, tool_choice, config)

    cfg = config(spec_path, tmp_path / "docs.jsonl", batch=batch)
    result = generate_documents(cfg, model=mock(Recording()))
    assert result.complete and result.n_kept == 20
    assert seen and all(b is not None for b in seen)
    if isinstance(batch, dict):
        assert {(b.size, b.send_delay) for b in seen} == {(200, 30)}
    else:
        assert set(seen) == {batch}
    # a finished run is resumed from its journal with the same setting: nothing is called
    seen.clear()
    again = generate_documents(cfg, model=mock(Recording()))
    assert again.n_kept == 20 and seen == []


def test_bad_batch_setting_names_the_field(tmp_path):
    with pytest.raises(InputError) as info:
        load_config(DocgenConfig, None, {"spec": "x", "n_documents": 3, "batch": {"sizes": 3}})
    assert info.value.field == "batch" and "BatchConfig" in str(info.value)
