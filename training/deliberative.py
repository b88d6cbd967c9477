"""Deliberative-alignment AFT data from the teacher task's log (tasks/deliberative_alignment/deliberative_alignment.py).

`build_deliberative_data` reads the log and keeps each sample (and epoch) whose score says
the reasoning and reply follow the spec. From the same kept examples it writes two datasets,
both without the spec (the teacher's system prompt is not part of the sample input):

- ``with_cot.jsonl``: AFT with CoT, the deliberative-alignment baseline. The assistant message
  carries the teacher's spec-citing reasoning in a separate ``"reasoning"`` key::

      {"messages": [{"role": "user", "content": "..."},
                    {"role": "assistant", "content": "<reply>", "reasoning": "<reasoning>"}]}

  ``msm.training.aft`` reads that key: ``reasoning: keep`` trains on it (rendered before the reply),
  ``reasoning: none`` drops it.
- ``without_cot.jsonl``: AFT without CoT, the same rows with no ``"reasoning"`` key.

``report.json`` says how many samples were kept and why the others were dropped: the judge
said no (``judged_not_following``), the judge failed (``judge_failed``, never counted as a
pass), the teacher gave no reasoning or no reply, the sample errored, or it was never scored.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msm.harness.errors import InputError
from msm.harness.fileio import write_json_atomic, write_jsonl_atomic

SCORER = "spec_follows"
_SPEC_MENTION = re.compile(r"\b(model spec|my spec|the spec|spec says|specification says)\b", re.IGNORECASE)


@dataclass
class DeliberativeDataResult:
    with_cot: Path
    without_cot: Path
    report: Path
    n_kept: int


def _message_dicts(messages: Any) -> list[dict[str, str]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [{"role": m.role, "content": m.text} for m in messages if m.role in ("system", "user", "assistant")]


def resolve_log(log: str | Path) -> Path:
    """A log file as given, or the newest deliberative_alignment log in a log folder."""
    from inspect_ai.log import list_eval_logs

    path = Path(log)
    if path.is_dir():
        infos = [i for i in list_eval_logs(str(path), recursive=True)
                 if i.task.split("/")[-1].replace("-", "_") == "deliberative_alignment"]
        if not infos:
            raise InputError("no deliberative_alignment log in this folder", file=path)
        newest = max(infos, key=lambda i: i.mtime or 0)
        return Path(newest.name.removeprefix("file://"))
    if not path.is_file():
        raise InputError("log file not found", file=path)
    return path


def build_deliberative_data(
    log: str | Path, out_dir: str | Path, *, allow_spec_mentions: bool = False
) -> DeliberativeDataResult:
    """Write ``with_cot.jsonl``, ``without_cot.jsonl`` and ``report.json`` under `out_dir`.

    `log` is a log file or a folder (its newest deliberative_alignment log). A reply that
    talks about "the spec" is dropped (``reply_mentions_spec``) unless `allow_spec_mentions`:
    the datasets have no spec in the prompt, so such a reply would point at nothing.
    """
    from inspect_ai.log import read_eval_log

    log = resolve_log(log)
    try:
        eval_log = read_eval_log(str(log))
    except Exception as ex:  # noqa: BLE001 - any failure is reported, never raised raw
        raise InputError(f"not an Inspect log ({type(ex).__name__})", file=log)
    samples = eval_log.samples or []
    if not samples:
        raise InputError("the log has no samples (did the teacher task run?)", file=log)

    rows: list[dict[str, Any]] = []
    dropped: Counter = Counter()
    judge_errors: Counter = Counter()
    by_source: dict[str, Counter] = {}
    spec = None
    for sample in samples:
        source = str((sample.metadata or {}).get("source", "unknown"))
        counts = by_source.setdefault(source, Counter())
        reason, meta = _drop_reason(sample, log, judge_errors, allow_spec_mentions)
        if meta is not None:
            spec = spec or {"name": meta.get("spec"), "hash": meta.get("spec_hash")}
        if reason is not None:
            dropped[reason] += 1
            counts[reason] += 1
            continue
        counts["kept"] += 1
        rows.append({
            "prompt": _message_dicts(sample.input),
            "reasoning": meta["reasoning"],
            "answer": meta["answer"],
            "id": f"{sample.id}-e{sample.epoch}",
            "source": source,
            "category": (sample.metadata or {}).get("category"),
        })

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with_cot, without_cot = _write_datasets(out_dir, rows, {"teacher": eval_log.eval.model, "log": str(log)})
    report = {
        "log": str(log),
        "task": eval_log.eval.task,
        "teacher": eval_log.eval.model,
        "grader": (eval_log.eval.model_roles or {}).get("grader").model
        if (eval_log.eval.model_roles or {}).get("grader") else None,
        "spec": spec,
        "log_status": eval_log.status,
        "samples": len(samples),
        "kept": len(rows),
        "dropped": dict(sorted(dropped.items())),
        "judge_errors": dict(judge_errors.most_common(5)),
        "by_source": {k: dict(sorted(v.items())) for k, v in sorted(by_source.items())},
        "with_cot": str(with_cot),
        "without_cot": str(without_cot),
    }
    report_path = out_dir / "report.json"
    write_json_atomic(report_path, report)
    return DeliberativeDataResult(with_cot, without_cot, report_path, len(rows))


def _drop_reason(sample: Any, log: Path, judge_errors: Counter,
                 allow_spec_mentions: bool) -> tuple[str | None, dict[str, Any] | None]:
    """Why a teacher sample is left out of the data (None: kept) and its score's metadata
    (None when it has no score); a failed judgment's error is counted in `judge_errors`."""
    score = (sample.scores or {}).get(SCORER)
    if sample.error is not None:
        return "sample_error", None
    if score is None:
        if not any(s for s in (sample.scores or {})):
            return "not_scored", None
        raise InputError(f"no '{SCORER}' score: not a deliberative_alignment log", file=log)
    value = score.value if isinstance(score.value, dict) else {}
    meta = score.metadata or {}
    follows = value.get("follows")
    if follows == 1 and meta.get("reasoning") and meta.get("answer"):
        reason = None
    elif follows is None:
        reason = meta.get("drop_reason") or "judge_failed"
        judge_errors[str(meta.get("judge_error"))] += 1
    else:
        reason = meta.get("drop_reason") or "judged_not_following"
    if reason is None and not allow_spec_mentions and _SPEC_MENTION.search(meta["answer"]):
        reason = "reply_mentions_spec"
    return reason, meta


def _write_datasets(out_dir: Path, rows: list[dict[str, Any]],
                    provenance: dict[str, str]) -> tuple[Path, Path]:
    """Write the kept rows as the two AFT datasets: the reply with its reasoning, and without."""
    with_cot, without_cot = out_dir / "with_cot.jsonl", out_dir / "without_cot.jsonl"
    write_jsonl_atomic(with_cot, [
        {"messages": [*r["prompt"], {"role": "assistant", "content": r["answer"], "reasoning": r["reasoning"]}],
         "id": r["id"], "source": r["source"], "category": r["category"], **provenance}
        for r in rows
    ])
    write_jsonl_atomic(without_cot, [
        {"messages": [*r["prompt"], {"role": "assistant", "content": r["answer"]}],
         "id": r["id"], "source": r["source"], "category": r["category"], **provenance}
        for r in rows
    ])
    return with_cot, without_cot
