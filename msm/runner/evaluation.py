"""Evaluation through Inspect's public API: Task objects from `make_tasks` (epochs, sample
limit applied with `task_with`), one `eval_set` per task entry and checkpoint, the model loaded
once for all of a checkpoint's tasks, and the leaderboard over the finished logs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect as pyinspect
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, eval_set, task_with
from inspect_ai.util import registry_create, registry_info
from rich.markup import escape

from msm.experiment import Experiment, project_task
from msm.harness.errors import InputError
from msm.runner.plan import Evaluation, Plan, StageFailed
from msm.runner.progress import Progress, RunLog, console
from msm.training.micro import bank as _micro_bank  # noqa: F401  registers the micro probe banks


def make_tasks(
    exp: Experiment, name: str, args: dict[str, Any], epochs: int | None, limit: int | None
) -> list[Task]:
    """The Task objects of a task entry, with its epochs and sample limit applied.

    A project task (``tasks/<name>.py``) gets ``epochs`` as its own argument when it takes one
    (its epochs reducer then applies); any other task keeps its reducer with the new count."""
    fn = project_task(name)
    if fn is not None:
        if epochs and "epochs" in pyinspect.signature(fn).parameters and "epochs" not in args:
            args, epochs = {**args, "epochs": epochs}, None  # the task's own epochs and reducer
        tasks = [fn(**args)]
    else:
        tasks = _load_tasks(exp, name, args)
    out = []
    for t in tasks:
        changes: dict[str, Any] = {}
        if epochs:
            changes["epochs"] = Epochs(epochs, t.epochs_reducer) if t.epochs_reducer else epochs
        if limit and len(t.dataset) > limit:
            changes["dataset"] = t.dataset[:limit]
        out.append(task_with(t, **changes) if changes else t)
    return out


def _load_tasks(exp: Experiment, name: str, args: dict[str, Any]) -> list[Task]:
    """Tasks named as Inspect names them: ``file.py`` (every task in it), ``file.py@task`` (a
    path relative to the experiment file) or a registry name (``inspect_evals/gsm8k``)."""
    if ".py" not in name:
        return [registry_create("task", name, **args)]
    file_part, _, task_name = name.partition("@")
    path = exp.resolve(file_part)
    module_name = f"_msm_task_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise InputError(f"no task file {path}", file=exp.path, field="tasks")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = {}
    for obj in vars(module).values():
        try:
            info = registry_info(obj)
        except (ValueError, AttributeError):
            continue
        if info.type == "task" and getattr(obj, "__module__", None) == module_name:
            found[info.name.split("/")[-1]] = obj
    chosen = [found[task_name]] if task_name in found else [] if task_name else list(found.values())
    if not chosen:
        raise InputError(f"no task {task_name or ''} in {path}".replace("  ", " "), file=exp.path,
                         field="tasks")
    tasks = []
    for fn in chosen:
        params = pyinspect.signature(fn).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        tasks.append(fn(**{k: v for k, v in args.items() if takes_any or k in params}))
    return tasks


QUIET_DISPLAY = "log"
"""Inspect's display when the runner is quiet. ``log`` writes nothing at the default log level;
``none`` also shows nothing but still renders each results panel (dozens of per-domain metric
rows) to a muted console: about 0.7 s of a 3 s evaluation of the micro demo's 320 samples."""


def planned_samples(exp: Experiment, entry: Any, field: str) -> int | None:
    """Samples one evaluation of `entry` (at `field` of the file, ``tasks.0``) runs (None when
    its task cannot be built here); the entry's `cluster` is checked against the task's own
    clusters on the way."""
    try:
        tasks = make_tasks(exp, entry.task, entry.args, entry.epochs, entry.limit)
    except Exception:  # noqa: BLE001 - a task that cannot be built here is counted as unknown
        return None
    total = 0
    for t in tasks:
        epochs = t.epochs or 1
        total += len(t.dataset) * epochs
        check_cluster(exp, entry, t.dataset, f"{field}.cluster")
    return total


def check_cluster(exp: Experiment, entry: Any, dataset: Any, where: str) -> None:
    """Refuse a `cluster` column that splits the task's own clusters.

    A bank that asks one topic several ways marks the samples that belong together with a
    ``cluster`` metadata field; statistics clustered by anything finer (``item_id``, each
    framing its own unit) count one topic as several independent ones and report intervals
    and p-values that are too small. A column missing from some samples is refused too: the
    leaderboard could not cluster by it."""
    column = entry.cluster
    if column is None or column == "cluster":
        return
    from msm.harness.logs import BASE_COLUMNS

    inside: dict[Any, set[Any]] = {}
    for sample in dataset:
        meta = sample.metadata or {}
        if column == "sample_id":
            value = sample.id
        elif column in meta:
            value = meta[column]
        elif column in BASE_COLUMNS:  # a log column (model, epoch, arm, ...), not the sample's
            return
        else:
            raise InputError(f"'{column}' is not a metadata field of task {entry.task}'s samples "
                             f"(sample {sample.id} has {', '.join(sorted(meta)) or 'none'})",
                             file=exp.path, field=where)
        if "cluster" in meta:
            inside.setdefault(meta["cluster"], set()).add(value)
    split = [c for c, values in inside.items() if len(values) > 1]
    if split:
        raise InputError(
            f"'{column}' splits the task's own clusters: {len(split)} of its {len(inside)} "
            f"`cluster` groups (e.g. {split[0]}) hold several {column} values, which the statistics "
            f"would count as independent; use cluster: cluster", file=exp.path, field=where)


@contextmanager
def open_model(model: Any, exp: Experiment) -> Iterator[Any]:
    """An Inspect model for one checkpoint, closed afterwards (a vLLM server is stopped and GPU
    memory freed before the next checkpoint loads). `Model` objects are used as they are."""
    from inspect_ai.model import Model, get_model

    if isinstance(model, Model):
        yield model
        return
    if model.startswith("msm-hf/"):
        from msm.harness.providers import register

        register()
    from msm.harness.greedy import model_args

    # hf/ at temperature 0 decodes greedily (do_sample=False); transformers refuses temperature 0
    with get_model(model, memoize=False,
                   **model_args(model, exp.eval.temperature, exp.eval.model_args)) as loaded:
        yield loaded


def eval_roles(roles: dict[str, Any]) -> dict[str, Any] | None:
    """Model roles for Inspect (``teacher`` is the runner's own: the deliberative model)."""
    return {k: v for k, v in roles.items() if k != "teacher"} or None


def eval_tags(metadata: dict[str, Any]) -> list[str]:
    """Inspect View's tags for one checkpoint's evaluation: the experiment, ``arm=``, ``seed=``,
    ``spec=`` and ``stage=``, so the log list tells arms apart (the model name is a path)."""
    tags = [str(metadata["experiment"])]
    tags += [f"{key}={metadata[key]}" for key in ("arm", "seed", "spec", "stage")
             if metadata.get(key) is not None]
    return tags


def generate_args(exp: Experiment) -> dict[str, Any]:
    e = exp.eval
    out: dict[str, Any] = {}
    for name in ("max_connections", "max_samples", "max_tokens", "temperature", "fail_on_error", "log_realtime"):
        value = getattr(e, name)
        if value is not None:
            out[name] = value
    return out


def evaluate(plan: Plan, ev: Evaluation, runlog: RunLog, progress: Progress) -> list[str]:
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
    metadata = {"arm": ev.arm, "spec": ev.spec, "seed": ev.seed, "experiment": exp.label,
                "eval_seed": exp.eval.seed}
    if ev.checkpoint is not None:
        metadata |= {"checkpoint": ev.checkpoint.identity, "stage": ev.stage_label}
    t0 = time.monotonic()
    done = []
    with open_model(model, exp) as loaded:  # loaded once for every task, released after
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
    320 samples (docs/failure_semantics.md). A log with finished
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
    _drop_empty_interrupted_logs(Path(log_dir))
    who = {"kind": "eval", "arm": ev.arm, "seed": ev.seed, "task": entry.label}
    with runlog.timed(**who) as elapsed:
        tasks = make_tasks(exp, entry.task, entry.args, entry.epochs, entry.limit)
        if exp.eval.seed is not None:
            from transformers import set_seed

            set_seed(exp.eval.seed)  # each evaluation samples the same way, whatever ran before
        ok, _logs = eval_set(
            tasks,
            log_dir=str(log_dir),
            model=loaded,
            model_roles=eval_roles(plan.roles),
            metadata=metadata,
            tags=eval_tags(metadata),
            retry_attempts=exp.eval.retry_attempts,
            display=exp.eval.display or (None if plan.verbose else QUIET_DISPLAY),
            **generate_args(exp),
        )
    runlog.write(event="end" if ok else "error", **who, seconds=elapsed(), log_dir=log_dir)
    if not ok:
        raise StageFailed(
            f"evaluation of arm '{ev.arm}' seed {ev.seed} on {entry.label} did not finish "
            f"(logs in {log_dir}); rerun to resume"
        )
    return str(log_dir)


def arm_summary(arm) -> str:
    """What an arm is, for the page's glossary: its description, else its spec and stages."""
    if arm.description:
        return arm.description
    stages = ", ".join(arm.stages) or ("an existing checkpoint" if arm.checkpoint else "none")
    return f"spec {arm.spec or 'none'}; stages: {stages}"


def write_leaderboards(plan: Plan, runlog: RunLog | None = None, verdict: str | None = None,
                       images: dict[str, Path] | None = None) -> list[Path]:
    """The leaderboard of every task over every finished evaluation (`verdict` and `images`:
    what a caller such as the demo adds to the page)."""
    exp = plan.experiment
    if not exp.tasks:
        return []
    from msm.harness.leaderboard import write_leaderboard
    from msm.harness.report import Page

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
            reference=[r for r in exp.reference if r.task == entry.label],
            order=list(exp.arms),  # the design order, for the plots and the page
            page=Page(arms={name: arm_summary(arm) for name, arm in exp.arms.items()},
                      verdict=verdict, images=dict(images or {})),
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
