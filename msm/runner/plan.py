"""The plan's data model: stages (`Step`), evaluations (`Evaluation`) and the `Plan` holding them.

A step is keyed by a hash of its inputs and writes ``runs/NAME/<stage>-<key>/``; the marker
``msm_stage.json`` there says it finished. An evaluation's log folders say whether it finished.
Everything here reads the disk; nothing runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from msm.experiment import Experiment
from msm.harness.errors import InputError
from msm.harness.fileio import file_hash  # noqa: F401  re-exported for the runner package

MARKER = "msm_stage.json"
RUN_LOG = "run_log.jsonl"
OUTPUT_LOG = "output.log"
"""What stages and evaluations print, kept out of the terminal unless ``--verbose``."""
LOCK = ".msm_run.lock"
LOCK_INFO = ".msm_run.pid.json"
KINDS = ("pretrain", "data", "docgen", "deliberative", "midtrain", "aft")
STAGE_CHOICES = (*KINDS, "eval", "leaderboard")


class StageFailed(RuntimeError):
    """A stage or evaluation ended without finishing its work; a rerun continues it."""


@dataclass
class Step:
    """One stage run (shared by every arm and seed whose inputs are the same)."""

    kind: str
    key: str
    out: Path
    deps: list[str]
    """Keys of the steps whose results this one reads."""
    build: Callable[[dict[str, dict[str, str]]], Any]
    """Builds the stage config from the results of `deps` (key -> result)."""
    execute: Callable[[Any], dict[str, str]]
    """Runs the stage on a config; returns its result ({"path": ..., ...})."""
    users: list[tuple[str, int | None]] = field(default_factory=list)
    summary: str = ""
    hub_models: list[tuple[str, str]] = field(default_factory=list)
    """(hub id, field of the file that names it) of the models the stage loads from the hub."""

    @property
    def marker(self) -> Path:
        return self.out / MARKER

    def result(self) -> dict[str, str] | None:
        if not self.marker.is_file():
            return None
        return json.loads(self.marker.read_text()).get("result")

    @property
    def status(self) -> Literal["done", "partial", "todo"]:
        if self.marker.is_file():
            return "done"
        if self.out.exists() and any(self.out.iterdir()):
            return "partial"
        return "todo"

    @property
    def label(self) -> str:
        arms = sorted({a for a, _ in self.users})
        seeds = sorted({s for _, s in self.users if s is not None})
        who = ",".join(arms) if len(arms) <= 3 else f"{len(arms)} arms"
        if seeds:
            who += f" seed {','.join(map(str, seeds))}"
        what = f" ({self.summary})" if self.summary else ""
        return f"{self.kind}{what} [{who}]"


@dataclass
class Evaluation:
    arm: str
    seed: int | None
    spec: str | None
    model_step: str | None
    """Key of the step whose checkpoint is evaluated (None: the hub base model)."""
    base_model: str | None
    log_dir: Path
    """Logs of this checkpoint: one folder per task entry under it (`task_dirs`)."""
    n_samples: dict[str, int | None]
    task_dirs: dict[str, Path] = field(default_factory=dict)
    """Task label -> its eval_set log folder, named by a hash of the entry (task, args, epochs,
    limit), so a changed entry is evaluated afresh and the others are kept."""
    checkpoint: Any = None
    """`msm.training.checkpoints.CheckpointRef` of a checkpoint arm (evaluated, trained nowhere)."""
    stage_label: str | None = None
    hub_models: list[tuple[str, str]] = field(default_factory=list)
    """(hub id, field of the file that names it) of the models the evaluation loads."""

    def model_string(self, plan: Plan) -> str:
        exp = plan.experiment
        provider = exp.eval.provider
        if self.checkpoint is not None:
            device = exp.eval.model_args.get("device")
            return self.checkpoint.model_string(
                provider,
                plan.runs_dir,
                lambda path, prov: checkpoint_model_string(path, prov, device),
            )
        if self.model_step is None:
            assert self.base_model is not None
            return f"{provider}/{self.base_model}"
        result = plan.steps[self.model_step].result()
        if result is None:
            raise InputError(
                f"the checkpoint of arm '{self.arm}' is not trained yet; run its stages first",
                file=exp.path,
                field=f"arms.{self.arm}",
            )
        return checkpoint_model_string(
            Path(result["path"]), provider, exp.eval.model_args.get("device")
        )

    def task_status(self, label: str) -> Literal["done", "partial", "todo"]:
        counts = log_statuses(self.task_dirs[label])
        if not counts:
            return "todo"
        return "done" if counts.get("success", 0) >= 1 else "partial"

    def status(self) -> Literal["done", "partial", "todo"]:
        states = {self.task_status(label) for label in self.task_dirs}
        if states <= {"done"}:
            return "done"
        return "todo" if states == {"todo"} else "partial"


@dataclass
class Plan:
    experiment: Experiment
    runs_dir: Path
    results_dir: Path
    steps: dict[str, Step]
    evaluations: list[Evaluation]
    roles: dict[str, Any]
    verbose: bool = True
    """Per-unit lines and the libraries' own output (False: one progress bar, output.log)."""

    def selected(self, only: list[str] | None) -> tuple[list[Step], list[Evaluation]]:
        if not only:
            return list(self.steps.values()), list(self.evaluations)
        steps = [s for s in self.steps.values() if any(a in only for a, _ in s.users)]
        # dependencies of a selected step are selected too
        keys = {s.key for s in steps}
        frontier = [d for s in steps for d in s.deps]
        while frontier:
            k = frontier.pop()
            if k not in keys:
                keys.add(k)
                frontier += self.steps[k].deps
        return [s for s in self.steps.values() if s.key in keys], [
            e for e in self.evaluations if e.arm in only
        ]


def _hash(obj: Any, n: int = 12) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


RATE_SETTINGS = ("provider", "model_args", "max_tokens", "temperature", "seed")
"""The `eval` settings that change what a model answers, and so the rates."""


def task_dirs_for(exp: Experiment, log_dir: Path) -> dict[str, Path]:
    """One log folder per task entry under `log_dir`, named by a hash of what its rates depend
    on: the entry's task, args, epochs and limit, the `eval` settings in `RATE_SETTINGS` and
    the experiment's model roles (the graders). Change any of them and the entry is evaluated
    afresh into a new folder; the old logs stay on disk and out of the leaderboard, so a rate
    never mixes settings. Concurrency, retries and display do not count."""
    settings = {
        "eval": exp.eval.model_dump(include=set(RATE_SETTINGS)),
        "roles": {k: v for k, v in exp.roles.items() if k != "teacher"},
    }
    return {
        t.label: log_dir
        / f"{t.label}-{_hash([t.model_dump(include={'task', 'args', 'epochs', 'limit'}), settings], 8)}"
        for t in exp.tasks
    }


def checkpoint_model_string(
    checkpoint: Path, provider: str = "hf", device: str | None = None
) -> str:
    """The Inspect model string for a trained checkpoint folder: on the CPU, ``hf`` means the
    project's batching ``msm-hf/`` provider (harness/local_hf.py; same outputs as ``hf/``)."""
    if provider == "vllm":
        from msm.harness.manifest import inspect_model_string

        model = inspect_model_string(checkpoint)  # vllm/<base>:<adapter> for a LoRA adapter
        return "vllm/" + model.removeprefix("hf/") if model.startswith("hf/") else model
    if provider == "hf" and _on_cpu(device):
        return f"msm-hf/{Path(checkpoint).resolve()}"
    return f"hf/{Path(checkpoint).resolve()}"


def _on_cpu(device: str | None) -> bool:
    if device is not None:
        return str(device) == "cpu"
    import torch

    return not torch.cuda.is_available() and not torch.backends.mps.is_available()


def log_statuses(log_dir: Path) -> dict[str, int]:
    """How many logs in a folder have each status (success, started, error, cancelled)."""
    if not log_dir.is_dir():
        return {}
    from inspect_ai.log import list_eval_logs, read_eval_log

    counts: dict[str, int] = {}
    for info in list_eval_logs(str(log_dir), recursive=False):
        try:
            status = read_eval_log(info, header_only=True).status
        except Exception:  # noqa: BLE001 - any unreadable log is counted as such
            status = "unreadable"
        counts[status] = counts.get(status, 0) + 1
    return counts


def checkpoint_evaluation(
    exp: Experiment, results_dir: Path, name: str, arm: Any, spec: str | None
) -> Evaluation:
    """The one evaluation of a checkpoint arm (`msm.training.checkpoints`): no stage, its logs
    under ``logs/<arm>/checkpoint-<hash of the checkpoint>/``."""
    from msm.training.checkpoints import arm_ref

    ref = arm_ref(exp, name, arm)
    assert ref is not None
    log_dir = results_dir / "logs" / name / f"checkpoint-{_hash(ref.identity, 8)}"
    return Evaluation(
        arm=name,
        seed=None,
        spec=spec,
        model_step=None,
        base_model=None,
        log_dir=log_dir,
        task_dirs=task_dirs_for(exp, log_dir),
        n_samples={t.label: None for t in exp.tasks},
        checkpoint=ref,
        stage_label=arm.checkpoint_stage,
        hub_models=[(repo, f"arms.{name}.checkpoint") for repo in ref.hub_ids()],
    )
