"""Inspect logs -> one tidy frame: one row per sample and epoch.

`read_logs` takes log files and/or directories (searched recursively) and returns a
`LogFrame`: the sample rows plus the logs it read and the logs it left out (errored,
cancelled, still running, unreadable), each with its reason. Nothing is merged silently.

Columns of ``LogFrame.samples``:

* ``log`` (path), ``eval_id``, ``task``, ``model``, ``epoch``, ``sample_id``;
* labels (strings) ``arm``, ``spec``, ``seed``, ``experiment``, ``base_model``, ``stage``: from the
  eval's metadata (``eval_set(..., metadata={"arm": ...})``, or task metadata) first, then
  from the checkpoint manifest (`msm.harness.manifest.read_manifest`) when the model points at
  a checkpoint folder (``hf/<path>``, ``msm-hf/<path>``, ``vllm/<base>:<adapter path>``, or the ``model_path``
  model arg). When no arm label exists, ``arm`` is the model string, so plain runs of
  different models still compare;
* the scalar sample-metadata fields as columns (``scenario``, ``goal_value``, ``domain``,
  ...); one that collides with a column above is named ``meta_<key>``;
* one float column per score field: a dict-valued score is unpacked into one column per key
  (``harmful``, ``action``, ``judge``; ``america``, ``affordability``), a scalar score is
  named after its scorer. ``NaN`` means unscored (a judge that failed, a sample that
  errored) and stays visible; Inspect's "C"/"I"/"P"/"N" become 1/0/0.5/0;
* ``error``: the error that stopped the sample, if any (its scores are NaN).

Rows come from the sample summaries (`read_eval_log_sample_summaries`), which hold the
scores and the metadata fields under 1k characters, so large logs read quickly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from inspect_ai.log import (
    EvalLog,
    list_eval_logs,
    read_eval_log,
    read_eval_log_sample_summaries,
)

from msm.harness.errors import InputError, did_you_mean
from msm.harness.manifest import read_manifest
from msm.harness.progress import track

LABELS = ("arm", "spec", "seed", "experiment", "base_model", "stage")
BASE_COLUMNS = ("log", "eval_id", "task", "model", "epoch", "sample_id", *LABELS)
_LETTER_SCORES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


@dataclass
class SkippedLog:
    path: str
    status: str
    reason: str


@dataclass
class LogFrame:
    """The sample rows of the logs read, and what was left out and why."""

    samples: pd.DataFrame
    logs: list[str] = field(default_factory=list)
    skipped: list[SkippedLog] = field(default_factory=list)
    score_columns: list[str] = field(default_factory=list)
    metadata_columns: list[str] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)
    """Groups of successful logs with the same task, model, task args and labels."""

    def report(self) -> str:
        """A few lines for the terminal: what was read, what was left out and why."""
        lines = [f"read {len(self.logs)} log(s), {len(self.samples)} sample rows"]
        if len(self.samples) and "error" in self.samples:
            errored = int(self.samples["error"].notna().sum())
            if errored:
                lines.append(f"{errored} sample(s) errored inside successful logs (kept, unscored)")
        for s in self.skipped:
            lines.append(f"left out {s.path} ({s.status}): {s.reason}")
        for group in self.duplicates:
            lines.append("warning: these logs repeat one run and are all included: " + ", ".join(group))
        return "\n".join(lines)


def _log_paths(paths: Sequence[str | Path]) -> list[str]:
    found: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            infos = list_eval_logs(str(path), recursive=True)
            if not infos:
                raise InputError("no Inspect logs (.eval or .json) in this directory", file=path)
            found += [info.name for info in infos]
        elif path.is_file():
            found.append(str(path))
        else:
            raise InputError("no such log file or directory", file=path)
    # list_eval_logs returns file:// URIs; keep plain paths for reading and for the table
    return list(dict.fromkeys(f.removeprefix("file://") for f in found))


def checkpoint_path(model: str, model_args: dict[str, Any] | None = None) -> Path | None:
    """The local checkpoint folder an Inspect model string points at, if any."""
    candidates: list[str] = []
    if model_args and isinstance(model_args.get("model_path"), str):
        candidates.append(model_args["model_path"])
    provider, _, rest = model.partition("/")
    if provider in ("hf", "msm-hf") and rest:
        candidates.append(rest)
    if provider == "vllm" and rest:
        base, _, adapter = rest.partition(":")
        if adapter:
            candidates.append(adapter.split("@")[0])
        candidates.append(base)
    for c in candidates:
        if Path(c).is_dir():
            return Path(c)
    return None


def _labels(log: EvalLog) -> dict[str, Any]:
    labels: dict[str, Any] = {k: None for k in LABELS}
    ckpt = checkpoint_path(log.eval.model, log.eval.model_args)
    manifest = read_manifest(ckpt) if ckpt else None
    if manifest is not None:
        labels.update(
            spec=manifest.spec_name, seed=manifest.seed, base_model=manifest.base_model,
            stage=manifest.stage,
        )
        labels.update({k: v for k, v in manifest.labels.items() if k in LABELS})
    meta = log.eval.metadata or {}
    labels.update({k: meta[k] for k in LABELS if meta.get(k) is not None})
    if labels["arm"] is None:
        labels["arm"] = log.eval.model
    return {k: (None if v is None else str(v)) for k, v in labels.items()}


def _score_value(v: Any) -> float:
    if v is None:
        return np.nan
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        if v in _LETTER_SCORES:
            return _LETTER_SCORES[v]
        try:
            return float(v)
        except ValueError:
            return np.nan
    return np.nan


def _unpack_scores(scores: dict[str, Any] | None) -> dict[str, float]:
    if not scores:
        return {}
    out: dict[str, float] = {}
    keys_seen: dict[str, int] = {}
    for score in scores.values():
        if isinstance(score.value, dict):
            for key in score.value:
                keys_seen[key] = keys_seen.get(key, 0) + 1
    for name, score in scores.items():
        if isinstance(score.value, dict):
            for key, v in score.value.items():
                col = key if keys_seen[key] == 1 else f"{name}_{key}"
                out[col] = _score_value(v)
        else:
            out[name] = _score_value(score.value)
    return out


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def read_logs(paths: Sequence[str | Path], *, progress: bool | None = None) -> LogFrame:
    """Read Inspect logs (files or directories) into a `LogFrame` (see the module notes).

    `progress`: show a progress bar on stderr (default: when stderr is a terminal and there
    are more than 10 logs).
    """
    files = _log_paths(paths)
    if progress is None:
        progress = len(files) > 10 and sys.stderr.isatty()
    rows: list[dict[str, Any]] = []
    read: list[str] = []
    skipped: list[SkippedLog] = []
    score_cols: dict[str, None] = {}
    meta_cols: dict[str, None] = {}
    signatures: dict[tuple, list[str]] = {}
    for file in track(files, "reading logs", enabled=progress):
        try:
            header = read_eval_log(file, header_only=True)
        except Exception as ex:  # noqa: BLE001 - a truncated or foreign file is reported, not fatal
            skipped.append(SkippedLog(file, "unreadable", str(ex).splitlines()[0] if str(ex) else type(ex).__name__))
            continue
        if header.status != "success":
            reason = header.error.message.splitlines()[0] if header.error else "did not finish"
            skipped.append(SkippedLog(file, header.status, reason))
            continue
        labels = _labels(header)
        base = {
            "log": file, "eval_id": header.eval.eval_id, "task": header.eval.task.split("/")[-1],
            "model": header.eval.model, **labels,
        }
        sig = (base["task"], base["model"], repr(sorted(header.eval.task_args.items())),
               *(str(labels[k]) for k in LABELS))
        signatures.setdefault(sig, []).append(file)
        for s in read_eval_log_sample_summaries(file):
            row = dict(base, epoch=s.epoch, sample_id=s.id)
            scores = _unpack_scores(s.scores)
            for key, v in (s.metadata or {}).items():
                if not _scalar(v):
                    continue
                clash = key in BASE_COLUMNS or key in scores or key in score_cols or key == "error"
                col = f"meta_{key}" if clash else key
                row[col] = v
                meta_cols[col] = None
            score_cols.update(dict.fromkeys(scores))
            row.update(scores)
            row["error"] = s.error
            rows.append(row)
        read.append(file)
    columns = [*BASE_COLUMNS, *meta_cols, *score_cols, "error"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in score_cols:
        frame[col] = frame[col].astype(float)
    return LogFrame(
        samples=frame, logs=read, skipped=skipped, score_columns=list(score_cols),
        metadata_columns=list(meta_cols),
        duplicates=[files_ for files_ in signatures.values() if len(files_) > 1],
    )


def whole_samples(samples: pd.DataFrame, metric: str, within: Sequence[str] = ()) -> pd.DataFrame:
    """The tasks' counting rule on a sample-epoch frame: a sample whose `metric` is unscored in
    any epoch is unscored in all of them.

    Inspect reduces a sample's epochs before its metrics (`msm.harness.metrics.mean_scored`), and a
    sample with one unscored epoch drops out of the task's rate whole: averaging only the judged
    epochs would bias a rate whenever a judge fails more often on one kind of answer. Applying
    the same rule here keeps a leaderboard's rate equal to the task's own. The frame is copied;
    a sample is identified by its evaluation (``eval_id``, else ``log``, else the `within`
    columns) and its id.
    """
    if metric not in samples.columns or samples.empty:
        return samples
    keys = [c for c in ("eval_id", "log") if c in samples.columns][:1] or list(within)
    keys = list(dict.fromkeys([*keys, "sample_id"]))
    missing = samples[metric].isna().groupby([samples[k] for k in keys], dropna=False).transform("any")
    out = samples.copy()
    out.loc[missing.to_numpy(), metric] = np.nan
    return out


def suggest_column(name: str, samples: pd.DataFrame, scores: bool = False) -> str:
    """For an error about a misspelt column `name`: the closest column of the logs (for a score
    field, the closest numeric one) as ``; did you mean 'x'?``, or the valid names when none is
    close."""
    columns = samples.select_dtypes("number").columns if scores else samples.columns
    return did_you_mean(name, [c for c in columns if c != "epoch"] or samples.columns)
