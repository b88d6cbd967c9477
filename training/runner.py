"""Run an experiment file: train what is missing, evaluate every arm, write the leaderboard.

``msm run experiments/NAME.yaml`` validates the whole file (training/experiment.py), builds a
plan, and executes it:

1. **Stages.** For each arm and seed, the arm's stages (docgen, deliberative data, midtrain,
   AFT; plus micro pretraining and built data files where the file asks for them). Each stage
   is keyed by a hash of its inputs: its settings, the spec's hash, the hashes of its data
   files, the seed, and the keys of the stages it builds on. Its output goes to
   ``runs/NAME/<stage>-<key>/`` and a ``msm_stage.json`` marker is written there when it
   finishes. A finished stage is reused (by every arm and seed whose inputs are the same); a
   changed spec or hyperparameter gives a new key and retrains; an interrupted stage is
   called again and resumes from its own checkpoints.
2. **Evaluation.** Every arm's final checkpoint (for each seed) on every listed task, with
   Inspect's ``eval_set`` into ``results/NAME/logs/<arm>/seed<k>-<key>/<task>-<hash>/``, so
   an interrupted evaluation resumes and finished ones are not rerun. Each checkpoint is loaded
   once for all its tasks and released before the next (a vLLM server is stopped). Model
   roles come from the file; eval metadata ``{arm, spec, seed, experiment}`` labels every log.
3. **Leaderboard.** ``harness.leaderboard.write_leaderboard`` over the logs of every finished
   evaluation, into ``results/NAME/`` (one task) or ``results/NAME/<task>/`` (several).

``results/NAME/run_log.jsonl`` records every step with its timings; ``msm status`` reads it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect as pyinspect
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.errors import InputError
from training.experiment import (
    Arm,
    DataBuild,
    DeliberativeSettings,
    Experiment,
    MicroBase,
    _spec_ref,
    load_experiment,
    looks_local,
    project_task,
)

MARKER = "msm_stage.json"
RUN_LOG = "run_log.jsonl"
OUTPUT_LOG = "output.log"
"""What stages and evaluations print, kept out of the terminal unless ``--verbose``."""
LOCK = ".msm_run.lock"
LOCK_INFO = ".msm_run.pid.json"
KINDS = ("pretrain", "data", "docgen", "deliberative", "midtrain", "aft")
STAGE_CHOICES = (*KINDS, "eval", "leaderboard")

# Config fields that change neither what a stage computes nor its result.
_NOT_HASHED = {
    "output_dir",
    "out",
    "labels",
    "progress",
    "max_connections",
    "logging_steps",
    "report_to",
    "save_steps",
    "save_total_limit",
    "keep_checkpoints",
    "cache",
}

console = Console(stderr=True, highlight=False)


class StageFailed(RuntimeError):
    """A stage or evaluation ended without finishing its work; a rerun continues it."""


# --------------------------------------------------------------------------------------------
# plan


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

    def model_string(self, plan: Plan) -> str:
        exp = plan.experiment
        provider = exp.eval.provider
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


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes (memoised by path, size and modification time)."""
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _FILE_HASHES:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _FILE_HASHES[memo] = "sha256:" + h.hexdigest()[:16]
    return _FILE_HASHES[memo]


def _identity_dump(config: Any, identities: dict[str, str]) -> Any:
    """The config as JSON with fields that do not matter dropped and every path replaced by
    the identity of what it holds (a file's hash, a step's key)."""
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else config

    def sub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items() if k not in _NOT_HASHED}
        if isinstance(value, list):
            return [sub(v) for v in value]
        if isinstance(value, str) and value in identities:
            return identities[value]
        return value

    return sub(data)


def _stage_api(kind: str) -> tuple[type[BaseModel], Callable[..., Any]]:
    modules = {
        "docgen": ("training.docgen", "DocgenConfig", "generate_documents"),
        "midtrain": ("training.midtrain", "MidtrainConfig", "midtrain"),
        "aft": ("training.aft", "AFTConfig", "aft"),
        "pretrain": ("training.micro.pretrain", "MicroPretrainConfig", "pretrain"),
    }
    module_name, cfg_name, fn_name = modules[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as ex:
        raise InputError(f"stage '{kind}' is not available ({ex})", field=kind) from ex
    return getattr(module, cfg_name), getattr(module, fn_name)


def _validate_config(
    exp: Experiment, kind: str, cls: type[BaseModel], data: dict[str, Any], field_: str
) -> BaseModel:
    """Validate a stage config; an error names where in the file the bad key was set."""
    try:
        return cls.model_validate(data)
    except ValidationError as ex:
        err = ex.errors()[0]
        loc = [str(p) for p in err["loc"]]
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        where = field_
        parts = field_.split(".")
        if loc and len(parts) == 3 and parts[0] == "arms":
            arm = exp.arms[parts[1]]
            if loc[0] not in getattr(arm, kind, {}) and loc[0] in getattr(exp.defaults, kind, {}):
                where = f"defaults.{kind}"
        raise InputError(msg, file=exp.path, field=".".join([where, *loc])) from ex


class _Planner:
    def __init__(self, exp: Experiment, runs_dir: Path, results_dir: Path, roles: dict[str, Any]):
        self.exp = exp
        self.runs_dir = runs_dir
        self.results_dir = results_dir
        self.roles = roles
        self.steps: dict[str, Step] = {}
        self.identities: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------------
    def add(self, step: Step, user: tuple[str, int | None]) -> Step:
        existing = self.steps.setdefault(step.key, step)
        if user not in existing.users:
            existing.users.append(user)
        return existing

    def key_for(self, kind: str, payload: Any) -> str:
        return _hash({"kind": kind, **payload})

    def placeholder(self, key: str) -> str:
        ref = f"<step:{key}>"
        self.identities[ref] = f"step:{key}"
        return ref

    def file_ref(self, value: str) -> str:
        path = self.exp.resolve(value)
        self.identities[str(path)] = file_hash(path)
        return str(path)

    def role_name(self, role: str) -> str | None:
        value = self.roles.get(role)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def spec_name(self, arm: Arm) -> str | None:
        if not arm.spec:
            return None
        from harness.specs import load_spec

        return load_spec(_spec_path(self.exp, arm.spec)).name

    # -- base model ----------------------------------------------------------------------
    def base(self, base: str | MicroBase, user: tuple[str, int | None]) -> tuple[str | None, str]:
        """(key of the pretrain step or None, model reference: a path placeholder or hub id)."""
        if isinstance(base, MicroBase):
            cls, fn = _stage_api("pretrain")
            hashed = {k: v for k, v in base.micro.items() if k not in _NOT_HASHED | {"threads"}}
            key = self.key_for("pretrain", {"micro": hashed})
            out = self.runs_dir / f"pretrain-{key}"
            data = dict(base.micro)
            for name in ("output_dir", "out"):
                if name in cls.model_fields and name not in data:
                    data[name] = str(out)
            cfg = _validate_config(self.exp, "pretrain", cls, data, "base.micro")

            def execute(cfg: Any, fn: Callable[..., Any] = fn) -> dict[str, str]:
                return {"path": str(fn(cfg))}

            step = Step(
                "pretrain", key, out, [], lambda _r, cfg=cfg: cfg, execute, summary="micro world"
            )
            self.add(step, user)
            return key, self.placeholder(key)
        if looks_local(base) or self.exp.resolve(base).exists():  # a folder beside the file
            path = self.exp.resolve(base)
            stamp = max(
                (p.stat().st_mtime_ns for p in path.glob("*.json")), default=path.stat().st_mtime_ns
            )
            self.identities[str(path)] = f"local:{path}:{stamp}"
            return None, str(path)
        self.identities[base] = f"hub:{base}"
        return None, base

    # -- data files ------------------------------------------------------------------------
    def data_refs(self, items: Any, user: tuple[str, int | None]) -> tuple[list[str], list[str]]:
        """(config values, dependency keys) for a list of data entries."""
        items = items if isinstance(items, list) else [items]
        values, deps = [], []
        for item in items:
            if isinstance(item, dict):
                build = DataBuild.model_validate(item)
                step = self.data_step(build, user)
                values.append(self.placeholder(step.key))
                deps.append(step.key)
            else:
                values.append(self.file_ref(item))
        return values, deps

    def data_step(self, build: DataBuild, user: tuple[str, int | None]) -> Step:
        module_name, attr = build.build.split(":")
        module = importlib.import_module(module_name)
        fn = getattr(module, attr)
        source = Path(pyinspect.getsourcefile(fn) or module.__file__ or "")
        key = self.key_for(
            "data", {"build": build.build, "args": build.args, "source": file_hash(source)}
        )
        out = self.runs_dir / f"data-{key}"

        def execute(_cfg: Any) -> dict[str, str]:
            out.mkdir(parents=True, exist_ok=True)
            target = out / "data.jsonl"
            kwargs = dict(build.args)
            if "out" in pyinspect.signature(fn).parameters:
                kwargs["out"] = target
            value = fn(**kwargs)
            if isinstance(value, (str, Path)) and Path(value).is_file():
                return {"path": str(value)}
            if isinstance(value, list):
                tmp = target.with_suffix(".tmp")
                with tmp.open("w") as fh:
                    for row in value:
                        fh.write(json.dumps(row) + "\n")
                tmp.replace(target)
            if not target.is_file():
                raise InputError(
                    f"'{build.build}' returned neither rows nor a file",
                    file=self.exp.path,
                    field="build",
                )
            return {"path": str(target)}

        return self.add(
            Step("data", key, out, [], lambda _r: None, execute, summary=build.build), user
        )

    # -- stages ----------------------------------------------------------------------------
    def docgen(self, arm_name: str, arm: Arm, user: tuple[str, int | None]) -> Step:
        cls, fn = _stage_api("docgen")
        assert arm.spec
        spec_path = _spec_path(self.exp, arm.spec)
        settings = self.exp.stage_settings(arm, "docgen")
        data = {**settings, "spec": str(spec_path)}
        from harness.specs import load_spec

        self.identities[str(spec_path)] = f"spec:{load_spec(spec_path).hash}"
        generator_model = self.roles.get("generator")
        if data.get("backend", "llm") == "llm" and "generator" not in data:
            data["generator"] = self.role_name("generator")
        probe = _validate_config(
            self.exp, "docgen", cls, {**data, "out": "x.jsonl"}, f"arms.{arm_name}.docgen"
        )
        key = self.key_for("docgen", {"config": _identity_dump(probe, self.identities)})
        out = self.runs_dir / f"docgen-{key}"
        cfg = _validate_config(
            self.exp,
            "docgen",
            cls,
            {**data, "out": str(out / "documents.jsonl")},
            f"arms.{arm_name}.docgen",
        )
        model_override = (
            generator_model if not isinstance(generator_model, (str, type(None))) else None
        )

        def execute(cfg: Any) -> dict[str, str]:
            result = fn(cfg, model=model_override) if model_override is not None else fn(cfg)
            if not getattr(result, "complete", True):
                raise StageFailed(
                    f"docgen kept {result.n_kept} documents, short of its target (see {result.report}); "
                    "rerun to continue"
                )
            return {
                "path": str(result.documents),
                "report": str(result.report),
                "n_kept": str(result.n_kept),
            }

        return self.add(
            Step("docgen", key, out, [], lambda _r: cfg, execute, summary=f"spec {arm.spec}"), user
        )

    def deliberative(
        self,
        arm_name: str,
        arm: Arm,
        base_key: str | None,
        base_ref: str,
        user: tuple[str, int | None],
    ) -> Step:
        settings = _validate_config(
            self.exp,
            "deliberative",
            DeliberativeSettings,
            self.exp.stage_settings(arm, "deliberative"),
            f"arms.{arm_name}.deliberative",
        )
        assert isinstance(settings, DeliberativeSettings)
        spec_ref = settings.spec or arm.spec
        assert spec_ref
        spec_path = _spec_path(self.exp, spec_ref)
        from harness.specs import load_spec

        spec_hash = load_spec(spec_path).hash
        teacher_id = (
            self.role_name("teacher") or settings.teacher or self.identities.get(base_ref, base_ref)
        )
        key = self.key_for(
            "deliberative",
            {
                "settings": settings.model_dump(mode="json", exclude={"spec"}),
                "spec": spec_hash,
                "teacher": teacher_id,
                "grader": self.role_name("grader"),
            },
        )
        out = self.runs_dir / f"deliberative-{key}"
        provider = self.exp.eval.provider
        exp = self.exp
        roles = self.roles

        def build(results: dict[str, dict[str, str]]) -> dict[str, Any]:
            if roles.get("teacher") is not None:
                teacher = roles["teacher"]
            elif settings.teacher:
                teacher = settings.teacher
            elif base_key is not None:
                teacher = checkpoint_model_string(Path(results[base_key]["path"]), provider)
            else:
                teacher = f"{provider}/{base_ref}"
            return {"teacher": teacher}

        def execute(cfg: dict[str, Any]) -> dict[str, str]:
            from inspect_ai import eval_set

            from training.deliberative import build_deliberative_data

            args = dict(settings.task_args)
            fn = project_task(settings.task)
            if fn is not None and "spec" in pyinspect.signature(fn).parameters:
                args.setdefault("spec", str(spec_path))
            tasks = _make_tasks(exp, settings.task, args, settings.epochs, settings.limit)
            log_dir = out / "logs"
            with _open_model(cfg["teacher"], exp) as teacher:
                ok, logs = eval_set(
                    tasks,
                    log_dir=str(log_dir),
                    model=teacher,
                    model_roles=_eval_roles(roles),
                    retry_attempts=exp.eval.retry_attempts,
                    display=exp.eval.display,
                    **_generate_args(exp),
                )
            if not ok:
                raise StageFailed(
                    f"the deliberative teacher task did not finish (logs in {log_dir}); rerun"
                )
            log_path = Path(logs[0].location)
            res = build_deliberative_data(log_path, out / "data")
            return {
                "path": str(out / "data"),
                "with_cot": str(res.with_cot),
                "without_cot": str(res.without_cot),
                "report": str(res.report),
            }

        deps = [base_key] if base_key else []
        return self.add(
            Step("deliberative", key, out, deps, build, execute, summary=f"spec {spec_ref}"), user
        )

    def train(
        self,
        kind: Literal["midtrain", "aft"],
        arm_name: str,
        arm: Arm,
        seed: int,
        parent: tuple[str | None, str],
        inputs: list[str],
        input_deps: list[str],
        extra: dict[str, Any],
        user: tuple[str, int | None],
    ) -> Step:
        cls, fn = _stage_api(kind)
        settings = dict(self.exp.stage_settings(arm, kind))
        field_ = f"arms.{arm_name}.{kind}"
        data_key = "documents" if kind == "midtrain" else "data"
        extra_values, extra_deps = self.data_refs(settings.pop(data_key, []) or [], user)
        replay_values, replay_deps = self.data_refs(settings.pop("replay", []) or [], user)
        parent_key, parent_ref = parent
        data = {
            "seed": seed,
            **settings,
            **extra,
            "base_model": parent_ref,
            data_key: inputs + extra_values,
            "replay": replay_values,
            "output_dir": "x",
        }
        probe = _validate_config(self.exp, kind, cls, data, field_)
        key = self.key_for(kind, {"config": _identity_dump(probe, self.identities)})
        out = self.runs_dir / f"{kind}-{key}"
        deps = ([parent_key] if parent_key else []) + input_deps + extra_deps + replay_deps
        labels = {"experiment": self.exp.label, "arm": arm_name, "seed": str(seed)}
        if arm.spec:
            labels["spec"] = self.spec_name(arm) or arm.spec
        exp = self.exp

        def build(results: dict[str, dict[str, str]]) -> BaseModel:
            def real(value: str) -> str:
                if value.startswith("<step:"):
                    return results[value[len("<step:") : -1]]["path"]
                return value

            final = {
                **data,
                "output_dir": str(out),
                "labels": {**labels, **settings.get("labels", {})},
            }
            final["base_model"] = real(parent_ref)
            final[data_key] = [real(v) for v in data[data_key]]
            final["replay"] = [real(v) for v in data["replay"]]
            return _validate_config(exp, kind, cls, final, field_)

        def execute(cfg: BaseModel) -> dict[str, str]:
            if kind == "midtrain":
                _audit_documents(exp, cfg)
            if exp.launch.launcher == "accelerate":
                _accelerate(exp, kind, cfg, out)
            return {"path": str(fn(cfg))}

        return self.add(Step(kind, key, out, deps, build, execute, summary=f"seed {seed}"), user)

    # -- the arm ---------------------------------------------------------------------------
    def arm(self, name: str, arm: Arm) -> list[Evaluation]:
        exp = self.exp
        evaluations = []
        seeds: list[int | None] = (
            list(exp.arm_seeds(arm)) if arm.stages else [exp.arm_seeds(arm)[0]]
        )
        for seed in seeds:
            user = (name, seed)
            base_key, base_ref = self.base(arm.base or exp.base, user)
            current: tuple[str | None, str] = (base_key, base_ref)
            docs: Step | None = None
            delib: Step | None = None
            for stage in arm.stages:
                if stage == "docgen":
                    docs = self.docgen(name, arm, (name, None))
                elif stage == "deliberative":
                    delib = self.deliberative(name, arm, base_key, base_ref, user)
                elif stage == "midtrain":
                    inputs, deps = ([self.placeholder(docs.key)], [docs.key]) if docs else ([], [])
                    step = self.train(
                        "midtrain", name, arm, seed or 0, current, inputs, deps, {}, user
                    )
                    current = (step.key, self.placeholder(step.key))
                elif stage == "aft":
                    inputs, deps, extra = [], [], {}
                    if arm.aft_data_from and delib is not None:
                        ref = f"<step:{delib.key}:{arm.aft_data_from}>"
                        self.identities[ref] = f"step:{delib.key}:{arm.aft_data_from}"
                        inputs, deps = [ref], [delib.key]
                        if (
                            arm.aft_data_from == "with_cot"
                            and "reasoning" not in exp.stage_settings(arm, "aft")
                        ):
                            extra["reasoning"] = "keep"
                    step = self.train(
                        "aft", name, arm, seed or 0, current, inputs, deps, extra, user
                    )
                    current = (step.key, self.placeholder(step.key))
            if not arm.evaluate:
                continue
            model_key = current[0]
            model_id = model_key or _hash(self.identities.get(current[1], current[1]))
            log_dir = self.results_dir / "logs" / name / f"seed{seed}-{model_id[:8]}"
            task_dirs = {
                t.label: log_dir
                / f"{t.label}-{_hash(t.model_dump(include={'task', 'args', 'epochs', 'limit'}), 8)}"
                for t in exp.tasks
            }
            evaluations.append(
                Evaluation(
                    arm=name,
                    seed=seed,
                    spec=self.spec_name(arm),
                    model_step=model_key,
                    base_model=None if model_key else current[1],
                    log_dir=log_dir,
                    task_dirs=task_dirs,
                    n_samples={t.label: None for t in exp.tasks},
                )
            )
        return evaluations


def _audit_documents(exp: Experiment, cfg: Any) -> None:
    """Audit the documents about to be midtrained on against every evaluation family
    (`experiment.audit`: warn, strict or off; see `harness.audit.audit_documents`)."""
    from harness.audit import audit_documents

    audit_documents(cfg.documents, exp.audit)


def _spec_path(exp: Experiment, spec: str) -> Path:
    from harness.specs import spec_path

    return spec_path(_spec_ref(exp, spec)).resolve()


def build_plan(
    exp: Experiment,
    *,
    runs_dir: Path | None = None,
    results_dir: Path | None = None,
    roles: dict[str, Any] | None = None,
    count_samples: bool = True,
) -> Plan:
    runs_dir = Path(runs_dir or Path("runs") / exp.label).resolve()
    results_dir = Path(results_dir or Path("results") / exp.label).resolve()
    all_roles: dict[str, Any] = {**exp.roles, **(roles or {})}
    planner = _Planner(exp, runs_dir, results_dir, all_roles)
    evaluations = []
    for name, arm in exp.arms.items():
        evaluations += planner.arm(name, arm)
    plan = Plan(exp, runs_dir, results_dir, planner.steps, evaluations, all_roles)
    if count_samples:
        sizes = {t.label: _count_samples(exp, t) for t in exp.tasks}
        for ev in evaluations:
            ev.n_samples = dict(sizes)
    return plan


# --------------------------------------------------------------------------------------------
# evaluation helpers


def checkpoint_model_string(
    checkpoint: Path, provider: str = "hf", device: str | None = None
) -> str:
    """The Inspect model string for a trained checkpoint folder: on the CPU, ``hf`` means the
    project's batching ``msm-hf/`` provider (harness/local_hf.py; same outputs as ``hf/``)."""
    if provider == "vllm":
        from harness.manifest import inspect_model_string

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


def _make_tasks(
    exp: Experiment, name: str, args: dict[str, Any], epochs: int | None, limit: int | None
) -> list:
    from inspect_ai import task_with

    fn = project_task(name)
    if fn is not None:
        if epochs and "epochs" in pyinspect.signature(fn).parameters and "epochs" not in args:
            args, epochs = {**args, "epochs": epochs}, None  # the task's own epochs and reducer
        tasks = [fn(**args)]
    else:
        from inspect_ai._eval.loader import load_tasks

        spec = name
        if ".py" in name:
            file_part, _, rest = name.partition("@")
            spec = str(exp.resolve(file_part)) + (f"@{rest}" if rest else "")
        tasks = load_tasks([spec], args)
    out = []
    for t in tasks:
        changes: dict[str, Any] = {}
        if epochs:
            from inspect_ai import Epochs

            changes["epochs"] = Epochs(epochs, t.epochs_reducer) if t.epochs_reducer else epochs
        if limit and len(t.dataset) > limit:
            changes["dataset"] = t.dataset[:limit]
        out.append(task_with(t, **changes) if changes else t)
    return out


def _count_samples(exp: Experiment, entry: Any) -> int | None:
    try:
        tasks = _make_tasks(exp, entry.task, entry.args, entry.epochs, entry.limit)
    except Exception:
        return None
    total = 0
    for t in tasks:
        epochs = t.epochs or 1
        total += len(t.dataset) * epochs
    return total


@contextmanager
def _open_model(model: Any, exp: Experiment) -> Iterator[Any]:
    """An Inspect model for one checkpoint, closed afterwards (a vLLM server is stopped and GPU
    memory freed before the next checkpoint loads). `Model` objects are used as they are."""
    from inspect_ai.model import Model, get_model

    if isinstance(model, Model):
        yield model
        return
    if model.startswith("msm-hf/"):
        from harness.local_hf import register

        register()
    from harness.greedy import model_args

    # hf/ at temperature 0 decodes greedily (do_sample=False); transformers refuses temperature 0
    with get_model(model, memoize=False,
                   **model_args(model, exp.eval.temperature, exp.eval.model_args)) as loaded:
        yield loaded


def _eval_roles(roles: dict[str, Any]) -> dict[str, Any] | None:
    """Model roles for Inspect (``teacher`` is the runner's own: the deliberative model)."""
    return {k: v for k, v in roles.items() if k != "teacher"} or None


def _generate_args(exp: Experiment) -> dict[str, Any]:
    e = exp.eval
    out: dict[str, Any] = {}
    for name in ("max_connections", "max_samples", "max_tokens", "temperature", "fail_on_error", "log_realtime"):
        value = getattr(e, name)
        if value is not None:
            out[name] = value
    return out


def log_statuses(log_dir: Path) -> dict[str, int]:
    """How many logs in a folder have each status (success, started, error, cancelled)."""
    if not log_dir.is_dir():
        return {}
    from inspect_ai.log import list_eval_logs, read_eval_log

    counts: dict[str, int] = {}
    for info in list_eval_logs(str(log_dir), recursive=False):
        try:
            status = read_eval_log(info, header_only=True).status
        except Exception:
            status = "unreadable"
        counts[status] = counts.get(status, 0) + 1
    return counts


def _accelerate(exp: Experiment, kind: str, cfg: BaseModel, out: Path) -> None:
    """Run a training stage under ``accelerate launch`` (FSDP/DeepSpeed via its own config)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg_file = out.parent / f"{out.name}.config.json"
    cfg_file.write_text(cfg.model_dump_json(indent=2))
    # through this interpreter, not an `accelerate` found on PATH: `.venv/bin/msm run` works
    # without an activated venv, and the stage runs in the same environment as the runner
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if exp.launch.config_file:
        cmd += ["--config_file", str(exp.resolve(exp.launch.config_file))]
    if exp.launch.num_processes:
        cmd += ["--num_processes", str(exp.launch.num_processes)]
    cmd += [*exp.launch.extra_args, "-m", "training._launch", kind, str(cfg_file)]
    console.print(f"  $ {escape(shlex.join(cmd))}", soft_wrap=True)
    subprocess.run(cmd, check=True)


# --------------------------------------------------------------------------------------------
# run log, lock, progress


class RunLog:
    def __init__(self, results_dir: Path):
        self.path = results_dir / RUN_LOG

    def write(self, **event: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        event = {"time": datetime.now(UTC).isoformat(timespec="seconds"), **event}
        with self.path.open("a") as fh:
            fh.write(json.dumps(event, default=str) + "\n")

    def events(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a kill
        return out

    def mean_seconds(self) -> dict[str, float]:
        totals: dict[str, list[float]] = {}
        for e in self.events():
            if e.get("event") == "end" and "seconds" in e:
                totals.setdefault(e["kind"], []).append(float(e["seconds"]))
        return {k: sum(v) / len(v) for k, v in totals.items()}


class Lock:
    """One `msm run` per experiment results folder at a time.

    An OS file lock (`filelock`): the kernel releases it when its process ends, however it
    ends, so a stale lock never blocks and a pid reused by another process is never mistaken
    for a live run. Beside it, ``.msm_run.pid.json`` says which pid holds it (for messages and
    `msm status`)."""

    def __init__(self, results_dir: Path):
        from filelock import FileLock

        self.path = results_dir / LOCK
        self.info = results_dir / LOCK_INFO
        self._lock = FileLock(str(self.path))

    def _pid(self) -> int | None:
        try:
            return int(json.loads(self.info.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def holder(self) -> int | None:
        """The pid of the live `msm run` holding this folder (None if none); -1 if a live run
        holds it but did not say which."""
        from filelock import FileLock, Timeout

        if not self.path.parent.is_dir():
            return None
        probe = FileLock(str(self.path))
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return self._pid() or -1
        except OSError:
            return None
        probe.release()
        return None

    def __enter__(self) -> Lock:
        from filelock import Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            pid = self._pid()
            who = f"pid {pid}" if pid else "another process"
            raise InputError(f"experiment already running ({who})", file=self.path) from None
        self.info.write_text(json.dumps({"pid": os.getpid(), "started": time.time()}))
        return self

    def __exit__(self, *exc: object) -> None:
        self.info.unlink(missing_ok=True)
        self._lock.release()


class StageLock:
    """One process at a time writes a stage folder, whichever ``--out`` it reports to.

    Two runs that share ``--runs`` share stage outputs: the second to reach a stage waits for
    the first (one line says so) and then reuses its result instead of training beside it."""

    def __init__(self, step: Step):
        from filelock import FileLock

        self.step = step
        self.path = step.out.parent / f"{step.out.name}.lock"
        self._lock = FileLock(str(self.path))
        self.waited = False

    def __enter__(self) -> StageLock:
        from filelock import Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            self.waited = True
            console.print(f"  waiting: another msm run is writing {self.step.label} in "
                          f"{escape(str(self.step.out))}", soft_wrap=True)
            self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def estimate(kinds: list[str], means: dict[str, float]) -> str:
    """Time left for work of these kinds from measured mean durations ('4m10s + ? (eval)'
    where a kind has not been timed yet)."""
    if not kinds:
        return "0s"
    known = sum(means[k] for k in kinds if k in means)
    unknown = sorted({k for k in kinds if k not in means})
    if not unknown:
        return _fmt_seconds(known)
    prefix = f"{_fmt_seconds(known)} + " if known else ""
    return f"{prefix}? ({', '.join(unknown)} not timed yet)"


class Progress:
    """One line per unit of work: position, kind, who, and an ETA from measured durations.

    Quiet (the default of ``msm run`` and ``msm demo``): that line is a rich progress bar
    updated in place on ``stream`` (the terminal, while stage output goes to a log file).
    Verbose: one printed line per unit."""

    def __init__(self, runlog: RunLog, todo: list[str], *, quiet: bool = False, stream: Any = None):
        self.means = runlog.mean_seconds()
        self.todo = list(todo)
        self.total = len(todo)
        self.done = 0
        self.started = time.monotonic()
        self.bar = None
        if quiet and self.total:
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar
            from rich.table import Column

            self.bar = Bar(
                BarColumn(bar_width=20, table_column=Column(no_wrap=True, min_width=20)),
                TimeElapsedColumn(table_column=Column(no_wrap=True, min_width=7)),
                TextColumn(
                    "{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis")
                ),
                console=Console(file=stream, highlight=False) if stream else console,
                redirect_stdout=False,  # what the work prints stays in output.log
                redirect_stderr=False,
            )
            self.task = self.bar.add_task(f"0/{self.total}", total=self.total)
            self.bar.start()

    def eta(self) -> str:
        return "ETA " + estimate(self.todo, self.means)

    def start(self, kind: str, label: str, short: str | None = None) -> None:
        self.done += 1
        if self.bar is not None:
            # position, the ETA without the kinds not timed yet ("ETA 1m10s + ?"), then what
            # runs: a narrow terminal cuts the end of the line, not the numbers
            eta = self.eta().split(" (")[0]
            self.bar.update(
                self.task,
                completed=self.done - 1,
                description=f"[bold]{self.done}/{self.total}[/bold] {eta}  "
                f"{escape(short or label)}",
            )
            return
        console.print(
            f"[bold]\\[{self.done}/{self.total}][/bold] {escape(label)}  ·  {self.eta()}",
            soft_wrap=True,
        )

    def finish(self, kind: str, seconds: float) -> None:
        if kind in self.todo:
            self.todo.remove(kind)
        prev = self.means.get(kind)
        self.means[kind] = seconds if prev is None else (prev + seconds) / 2

    def close(self, ok: bool) -> None:
        if self.bar is None:
            return
        took = _fmt_seconds(time.monotonic() - self.started)
        self.bar.update(
            self.task,
            completed=self.done if not ok else self.total,
            description=f"[bold]{self.done}/{self.total}[/bold] "
            + (f"done in {took}" if ok else f"stopped after {took}"),
        )
        self.bar.stop()
        self.bar = None


@contextmanager
def stage_output(path: Path | None) -> Iterator[Any]:
    """Send everything written to stdout and stderr (training libraries' bars and logs,
    Inspect's display, warnings) to `path`, at the file-descriptor level, and yield a stream
    to the real terminal for the progress bar. ``path=None``: nothing is redirected."""
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2 if sys.stderr.isatty() or not sys.stdout.isatty() else 1), "w")
    from contextlib import redirect_stderr, redirect_stdout

    with path.open("a", buffering=1) as log:
        log.write(f"\n=== {datetime.now(UTC).isoformat(timespec='seconds')} pid {os.getpid()}\n")
        log.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            # Python-level streams too, where they are not the process's own (pytest, notebooks)
            with redirect_stdout(log), redirect_stderr(log):
                yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()


def _output_tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------------------------
# execution


@dataclass
class RunResult:
    plan: Plan
    ran: list[str] = field(default_factory=list)
    """Keys of the stages run this time."""
    reused: list[str] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)
    """Log folders evaluated (or resumed) this time."""
    leaderboards: list[Path] = field(default_factory=list)
    results_dir: Path = Path("results")
    run_log: Path = Path("results/run_log.jsonl")

    @property
    def log_dirs(self) -> list[Path]:
        """Log folders of the finished evaluations of the current checkpoints (older logs of
        retrained checkpoints stay on disk under logs/ but are not among them)."""
        return [
            d
            for ev in self.plan.evaluations
            for label, d in ev.task_dirs.items()
            if ev.task_status(label) == "done"
        ]


def run_experiment(
    path: str | Path,
    *,
    out: Path | None = None,
    runs: Path | None = None,
    only: list[str] | None = None,
    stage: str | None = None,
    dry_run: bool = False,
    roles: dict[str, Any] | None = None,
    verbose: bool = True,
) -> RunResult:
    """Validate, plan and run an experiment file.

    Args:
        path: the experiment YAML.
        out: results folder (default ``results/NAME``): logs, leaderboard, run log.
        runs: stage outputs (default ``runs/NAME``): documents, checkpoints.
        only: run only these arms (and the stages they need).
        stage: run only this kind of work (a stage name, ``eval`` or ``leaderboard``).
        dry_run: print the plan and stop.
        roles: model roles that override the file's (strings or Inspect `Model` objects,
            e.g. a scripted ``mockllm/model`` in tests); ``generator`` also drives docgen and
            ``teacher`` (not an Inspect role) replaces the deliberative teacher.
        verbose: print a line per unit of work and show Inspect's and the training
            libraries' own output; ``False`` (``msm run``/``msm demo`` without ``--verbose``)
            shows one progress bar and sends that output to ``results/NAME/output.log``.
    """
    exp = load_experiment(path)
    if only:
        unknown = [a for a in only if a not in exp.arms]
        if unknown:
            raise InputError(
                f"no arm named '{unknown[0]}' (arms: {', '.join(exp.arms)})", field="--only"
            )
    if stage is not None and stage not in STAGE_CHOICES:
        raise InputError(
            f"unknown stage '{stage}' (one of {', '.join(STAGE_CHOICES)})", field="--stage"
        )
    plan = build_plan(exp, runs_dir=runs, results_dir=out, roles=roles)
    result = RunResult(plan, results_dir=plan.results_dir, run_log=plan.results_dir / RUN_LOG)
    if dry_run:
        print_plan(plan, only=only, stage=stage, mode="dry-run")
        return result
    plan.verbose = verbose
    with Lock(plan.results_dir):
        _execute(plan, result, only=only, stage=stage)
    return result


def _execute(plan: Plan, result: RunResult, *, only: list[str] | None, stage: str | None) -> None:
    exp = plan.experiment
    runlog = RunLog(plan.results_dir)
    steps, evaluations = plan.selected(only)
    if stage in KINDS:
        # data builds are cheap file writes: they run whenever a selected stage needs them
        steps = [s for s in steps if s.kind in (stage, "data")]
    elif stage in ("eval", "leaderboard"):
        steps = []
    if stage not in (None, "eval"):
        evaluations = []
    pending = [s for s in steps if s.status != "done"]
    result.reused = [s.key for s in steps if s.status == "done"]
    todo_kinds = [s.kind for s in pending] + ["eval"] * len(
        [e for e in evaluations if e.status() != "done"]
    )
    runlog.write(
        event="run",
        experiment=exp.label,
        only=only,
        stage=stage,
        pid=os.getpid(),
        pending=len(todo_kinds),
    )
    console.print(
        f"[bold]{exp.label}[/bold]: {len(pending)} stage(s) to run, {len(result.reused)} reused, "
        f"{len(evaluations)} evaluation(s); results in {plan.results_dir}"
    )
    results: dict[str, dict[str, str]] = {}
    for key, step in plan.steps.items():
        if (res := step.result()) is not None:
            results[key] = res
    order = _topological(plan, pending)
    will_run = {s.key for s in order}
    for step in order:  # refuse before anything runs
        missing = [d for d in step.deps if d not in results and d not in will_run]
        if missing:
            dep = plan.steps[missing[0]]
            raise InputError(
                f"{step.label} needs {dep.label}, which has not run (run without --stage, or --stage {dep.kind})",
                field="--stage",
            )
    output_log = None if plan.verbose else plan.results_dir / OUTPUT_LOG
    try:
        with stage_output(output_log) as terminal:
            progress = Progress(runlog, todo_kinds, quiet=not plan.verbose, stream=terminal)
            ok = False
            try:
                _run_work(plan, result, order, results, evaluations, runlog, progress)
                ok = True
            finally:
                progress.close(ok)
    except BaseException:
        if output_log is not None and output_log.is_file():
            console.print(f"output of the failed step (whole log: {output_log}):", soft_wrap=True)
            console.print(escape(_output_tail(output_log)), soft_wrap=True)
        raise
    if stage in (None, "leaderboard"):
        result.leaderboards = write_leaderboards(plan, runlog)
    runlog.write(event="done", experiment=exp.label)


def _run_work(
    plan: Plan,
    result: RunResult,
    order: list[Step],
    results: dict[str, dict[str, str]],
    evaluations: list[Evaluation],
    runlog: RunLog,
    progress: Progress,
) -> None:
    for step in order:
        with StageLock(step):
            done = step.result()
            if done is not None:  # another run (same --runs) finished it while we waited
                results[step.key] = done
                result.reused.append(step.key)
                console.print(f"  reusing {step.label}: finished by the other run")
                continue
            _run_step(step, results, result, runlog, progress)

    for ev in evaluations:
        status = ev.status()
        if status == "done":
            continue
        result.evaluated += _evaluate(plan, ev, runlog, progress)


def _run_step(step: Step, results: dict[str, dict[str, str]], result: RunResult, runlog: RunLog,
              progress: Progress) -> None:
    progress.start(step.kind, f"{step.label} -> {step.out}", short=step.label)
    cfg = _resolve_named(step, results)
    step.out.mkdir(parents=True, exist_ok=True)
    runlog.write(event="start", kind=step.kind, key=step.key, users=step.users, out=step.out)
    t0 = time.monotonic()
    try:
        res = step.execute(cfg)
    except BaseException as ex:
        runlog.write(
            event="error",
            kind=step.kind,
            key=step.key,
            users=step.users,
            seconds=round(time.monotonic() - t0, 2),
            error=f"{type(ex).__name__}: {ex}"[:500],
        )
        raise
    seconds = round(time.monotonic() - t0, 2)
    marker = {
        "kind": step.kind,
        "key": step.key,
        "result": res,
        "seconds": seconds,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "users": step.users,
        "config": _jsonable(cfg),
    }
    tmp = step.marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(marker, indent=2, default=str))
    tmp.replace(step.marker)
    results[step.key] = res
    runlog.write(event="end", kind=step.kind, key=step.key, users=step.users, seconds=seconds)
    progress.finish(step.kind, seconds)
    result.ran.append(step.key)


def _resolve_named(step: Step, results: dict[str, dict[str, str]]) -> Any:
    """Build the step's config, resolving ``<step:KEY:name>`` to a named result of a step."""
    named = {}
    for key, res in results.items():
        named[key] = res
        for name, value in res.items():
            named[f"{key}:{name}"] = {"path": value}
    return step.build(named)


def _topological(plan: Plan, pending: list[Step]) -> list[Step]:
    keys = {s.key for s in pending}
    seen: set[str] = set()
    order: list[Step] = []

    def visit(step: Step) -> None:
        if step.key in seen:
            return
        seen.add(step.key)
        for d in step.deps:
            if d in keys:
                visit(plan.steps[d])
        order.append(step)

    for s in pending:
        visit(s)
    return order


def _jsonable(cfg: Any) -> Any:
    if isinstance(cfg, BaseModel):
        return cfg.model_dump(mode="json")
    return cfg


def _evaluate(plan: Plan, ev: Evaluation, runlog: RunLog, progress: Progress) -> list[str]:
    """Evaluate one checkpoint on every task entry not yet done (one eval_set per entry)."""
    exp = plan.experiment
    model = ev.model_string(plan)
    todo = [t for t in exp.tasks if ev.task_status(t.label) != "done"]
    tasks = ", ".join(t.label for t in todo)
    progress.start(
        "eval",
        f"eval [{ev.arm} seed {ev.seed}] {model} on {tasks}",
        short=f"eval [{ev.arm} seed {ev.seed}] {tasks}",
    )
    metadata = {"arm": ev.arm, "spec": ev.spec, "seed": ev.seed, "experiment": exp.label}
    t0 = time.monotonic()
    done = []
    with _open_model(model, exp) as loaded:  # loaded once for every task, released after
        for entry in todo:
            done.append(_evaluate_entry(plan, ev, entry, loaded, model, metadata, runlog))
    progress.finish("eval", round(time.monotonic() - t0, 2))
    return done


def _drop_empty_interrupted_logs(log_dir: Path) -> list[Path]:
    """Delete logs of a killed evaluation that hold no finished sample, so that `eval_set`
    starts it afresh instead of resuming it.

    Resuming looks each sample up in the old log before it starts, so the samples start over
    seconds instead of at once; with Inspect's ``hf/`` provider, whose waiting samples poll
    their batch by blocking the event loop for 10 ms each, the starts then slow down further
    and the whole batch waits for the last one: 149 s instead of 21 s for the micro model's
    320 samples (README, "Failure semantics"). A log with finished
    samples is kept: those are reused."""
    from inspect_ai.log import list_eval_logs, read_eval_log, read_eval_log_sample_summaries

    dropped = []
    if not log_dir.is_dir():
        return dropped
    for info in list_eval_logs(str(log_dir), recursive=False):
        path = Path(info.name.removeprefix("file://"))
        try:
            if read_eval_log(str(path), header_only=True).status != "started":
                continue
            if read_eval_log_sample_summaries(str(path)):
                continue
        except Exception:  # noqa: BLE001, S112 - unreadable: left to Inspect's recovery
            continue
        path.unlink(missing_ok=True)
        dropped.append(path)
    if dropped:
        console.print(f"  an interrupted evaluation finished no sample: starting it afresh "
                      f"({escape(str(log_dir))})", soft_wrap=True)
    return dropped


def _evaluate_entry(
    plan: Plan,
    ev: Evaluation,
    entry: Any,
    loaded: Any,
    model: str,
    metadata: dict[str, Any],
    runlog: RunLog,
) -> str:
    from inspect_ai import eval_set

    exp = plan.experiment
    log_dir = ev.task_dirs[entry.label]
    runlog.write(
        event="start",
        kind="eval",
        arm=ev.arm,
        seed=ev.seed,
        model=model,
        task=entry.label,
        log_dir=log_dir,
    )
    t1 = time.monotonic()
    _drop_empty_interrupted_logs(Path(log_dir))
    try:
        tasks = _make_tasks(exp, entry.task, entry.args, entry.epochs, entry.limit)
        ok, _logs = eval_set(
            tasks,
            log_dir=str(log_dir),
            model=loaded,
            model_roles=_eval_roles(plan.roles),
            metadata=metadata,
            retry_attempts=exp.eval.retry_attempts,
            display=exp.eval.display or (None if plan.verbose else "none"),
            **_generate_args(exp),
        )
    except BaseException as ex:
        runlog.write(
            event="error",
            kind="eval",
            arm=ev.arm,
            seed=ev.seed,
            task=entry.label,
            seconds=round(time.monotonic() - t1, 2),
            error=f"{type(ex).__name__}: {ex}"[:500],
        )
        raise
    runlog.write(
        event="end" if ok else "error",
        kind="eval",
        arm=ev.arm,
        seed=ev.seed,
        task=entry.label,
        seconds=round(time.monotonic() - t1, 2),
        log_dir=log_dir,
    )
    if not ok:
        raise StageFailed(
            f"evaluation of arm '{ev.arm}' seed {ev.seed} on {entry.label} did not finish "
            f"(logs in {log_dir}); rerun to resume"
        )
    return str(log_dir)


def write_leaderboards(plan: Plan, runlog: RunLog | None = None) -> list[Path]:
    """The leaderboard of every task over every finished evaluation."""
    exp = plan.experiment
    if not exp.tasks:
        return []
    from harness.leaderboard import write_leaderboard

    written = []
    for entry in exp.tasks:
        done = [ev for ev in plan.evaluations if ev.task_status(entry.label) == "done"]
        if not done:
            continue
        logs = [ev.task_dirs[entry.label] for ev in done]
        out = plan.results_dir if len(exp.tasks) == 1 else plan.results_dir / entry.label
        metric = entry.metric or exp.leaderboard.metric
        if metric is None:
            raise InputError(
                "no leaderboard metric (set tasks[].metric or leaderboard.metric)",
                file=exp.path,
                field="leaderboard.metric",
            )
        baseline = exp.leaderboard.baseline
        if baseline and baseline not in {ev.arm for ev in done}:
            baseline = None
        t0 = time.monotonic()
        write_leaderboard(
            logs,
            metric=metric,
            baseline=baseline,
            by=entry.by or exp.leaderboard.by,
            task=entry.label,
            out=out,
            cluster=entry.cluster,
        )
        if runlog:
            runlog.write(
                event="end",
                kind="leaderboard",
                task=entry.label,
                out=out,
                seconds=round(time.monotonic() - t0, 2),
            )
        if plan.verbose:
            console.print(f"leaderboard for {entry.label}: {out}")
        written.append(out)
    return written


# --------------------------------------------------------------------------------------------
# display


_ACTION = {"done": "reuse", "partial": "resume", "todo": "run"}


def _describe(event: dict[str, Any]) -> str:
    """'midtrain (mid_aft seed 0) since 12:01:02' from a run-log event."""
    users = event.get("users") or ([[event["arm"], event.get("seed")]] if "arm" in event else [])
    who = ", ".join(f"{a} seed {sd}" if sd is not None else str(a) for a, sd in users)
    return escape(f"{event.get('kind')} ({who}) since {event.get('time')}")


def _show_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_plan(
    plan: Plan,
    *,
    only: list[str] | None = None,
    stage: str | None = None,
    mode: Literal["dry-run", "status"] = "dry-run",
) -> None:
    exp = plan.experiment
    steps, evaluations = plan.selected(only)
    out = Console(highlight=False, width=max(120, Console().width))
    out.print(f"[bold]experiment {exp.label}[/bold]  ({exp.path})")
    if exp.description:
        out.print(exp.description.strip())
    out.print(
        f"stage outputs: {_show_path(plan.runs_dir)}   results: {_show_path(plan.results_dir)}"
    )
    runlog = RunLog(plan.results_dir)
    if mode == "status":
        holder = Lock(plan.results_dir).holder()
        events = runlog.events()
        running = [e for e in events if e.get("event") == "start"]
        last = events[-1] if events else {}
        if holder is not None and running:
            out.print(f"[bold green]running[/bold green] (pid {holder}): {_describe(running[-1])}")
        elif holder is None and last.get("event") == "error":
            out.print(
                f"[bold red]stopped[/bold red] on an error in {_describe(last)}: {escape(str(last.get('error')))}"
            )
        elif holder is None and last.get("event") == "start":
            out.print(
                f"[bold red]interrupted[/bold red] (killed?) during {_describe(last)}; "
                "`msm run` resumes it"
            )
        elif events and events[-1].get("event") == "done":
            out.print(f"finished at {events[-1]['time']}")
        else:
            out.print("not running")

    means = runlog.mean_seconds()
    table = Table(title="stages", title_justify="left")
    for col in (
        "stage",
        "key",
        "arms (seed)",
        "status",
        "action" if mode == "dry-run" else "time",
        "output",
    ):
        table.add_column(col)
    for s in steps:
        if stage in KINDS and s.kind != stage:
            continue
        status = s.status
        if mode == "dry-run":
            last = _ACTION[status]
        else:
            seconds = json.loads(s.marker.read_text()).get("seconds") if status == "done" else None
            last = _fmt_seconds(seconds) if seconds is not None else "-"
        who = ", ".join(f"{a}" + (f" ({sd})" if sd is not None else "") for a, sd in s.users)
        table.add_row(s.kind, s.key, who, status, last, _show_path(s.out))
    out.print(table)

    etable = Table(title="evaluations", title_justify="left")
    for col in ("arm", "seed", "model", "samples", "status", "logs"):
        etable.add_column(col)
    total = 0
    for ev in evaluations:
        n = sum(v for v in ev.n_samples.values() if v) if ev.n_samples else 0
        if any(v is None for v in ev.n_samples.values()):
            n_text = f"{n}+?"
        else:
            n_text = str(n)
        total += n
        if ev.model_step is None:
            model = f"{exp.eval.provider}/{ev.base_model}"
        else:
            step = plan.steps[ev.model_step]
            model = f"{step.kind}-{step.key}"
        status = ev.status()
        if mode == "status":
            counts: dict[str, int] = {}
            for d in ev.task_dirs.values():
                for k, v in log_statuses(d).items():
                    counts[k] = counts.get(k, 0) + v
            if counts:
                status += " (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")"
        etable.add_row(ev.arm, str(ev.seed), model, n_text, status, _show_path(ev.log_dir))
    out.print(etable)
    tasks = ", ".join(
        f"{t.label} ({plan.evaluations[0].n_samples.get(t.label) if plan.evaluations else '?'} samples"
        f"{', metric ' + (t.metric or exp.leaderboard.metric or '?')})"
        for t in exp.tasks
    )
    out.print(f"tasks: {tasks or 'none'}")
    n_train = sum(1 for s in steps if s.status != "done" and (stage is None or s.kind == stage))
    n_reuse = sum(1 for s in steps if s.status == "done")
    n_eval = sum(1 for e in evaluations if e.status() != "done")
    todo_kinds = [s.kind for s in steps if s.status != "done"] + ["eval"] * n_eval
    eta = estimate(todo_kinds, means)
    out.print(
        f"plan: {n_train} stage(s) to run, {n_reuse} reused, {n_eval} evaluation(s) to run "
        f"({total} samples); measured time left {eta}"
    )
    if mode == "dry-run" and exp.expected_cost:
        out.print(f"[bold]expected cost[/bold]: {' '.join(exp.expected_cost.split())}")


# --------------------------------------------------------------------------------------------
# CLI


@click.command("run")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (what is trained, reused, evaluated) and stop."
)
@click.option("--only", multiple=True, metavar="ARM", help="Run only this arm (repeatable).")
@click.option("--stage", type=click.Choice(STAGE_CHOICES), help="Run only this kind of work.")
@click.option(
    "--status", "show_status", is_flag=True, help="Show the status of a running or finished run."
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Results folder (default results/NAME)."
)
@click.option(
    "--runs", type=click.Path(path_type=Path), help="Stage outputs folder (default runs/NAME)."
)
@click.option(
    "--verbose", is_flag=True, help="A line per unit of work and the output of Inspect and the "
    "trainers on screen (default: one progress bar; that output goes to results/NAME/output.log).",
)
def run_command(
    experiment: Path,
    dry_run: bool,
    only: tuple[str, ...],
    stage: str | None,
    show_status: bool,
    out: Path | None,
    runs: Path | None,
    verbose: bool = False,
) -> None:
    """Train what is missing, evaluate every arm, write the leaderboard (resumable)."""
    if show_status:
        show(experiment, out=out, runs=runs, only=list(only) or None)
        return
    try:
        result = run_experiment(
            experiment,
            out=out,
            runs=runs,
            only=list(only) or None,
            stage=stage,
            dry_run=dry_run,
            verbose=verbose,
        )
    except StageFailed as ex:
        click.echo(f"error: {ex}", err=True)
        sys.exit(1)
    if not dry_run:
        click.echo(
            f"done: {len(result.ran)} stage(s) run, {len(result.reused)} reused, "
            f"{len(result.evaluated)} evaluation(s); run log {result.run_log}"
        )
        for path in result.leaderboards:
            click.echo(f"leaderboard: {path}")


def show(
    path: str | Path,
    *,
    out: Path | None = None,
    runs: Path | None = None,
    only: list[str] | None = None,
) -> Plan:
    """Print the status of an experiment: stages done/partial/pending, evaluations, the run."""
    exp = load_experiment(path)
    plan = build_plan(exp, runs_dir=runs, results_dir=out, count_samples=True)
    print_plan(plan, only=only, mode="status")
    return plan


@click.command("status")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--only", multiple=True, metavar="ARM")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Results folder (default results/NAME)."
)
@click.option(
    "--runs", type=click.Path(path_type=Path), help="Stage outputs folder (default runs/NAME)."
)
def status_command(
    experiment: Path, only: tuple[str, ...], out: Path | None, runs: Path | None
) -> None:
    """Show what an experiment has trained and evaluated, and what is running."""
    show(experiment, out=out, runs=runs, only=list(only) or None)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_command())
