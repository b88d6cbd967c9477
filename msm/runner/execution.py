"""Execution: `run_experiment`, the one entry point, and the order it runs the plan in.

Pending stages run in dependency order (`graphlib`), each under a `StageLock` (two runs that
share ``--runs`` never train the same stage side by side) and the whole run under the results
folder's `Lock`; then every evaluation not yet finished, then the leaderboards. With
``executor`` ``local`` or ``slurm`` the same units of work run as jobs (`executors`), each
through `run_unit`.
"""

from __future__ import annotations

import contextvars
import functools
import graphlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.markup import escape

from msm.experiment import Experiment, load_experiment
from msm.harness import offline
from msm.harness.errors import InputError, check_writable_dir
from msm.harness.fileio import write_json_atomic
from msm.runner import executors
from msm.runner.evaluation import evaluate, write_leaderboards
from msm.runner.output import output_tail, stage_output
from msm.runner.plan import (
    KINDS,
    OUTPUT_LOG,
    RUN_LOG,
    STAGE_CHOICES,
    Evaluation,
    Plan,
    StageFailed,
    Step,
)
from msm.runner.planning import build_plan
from msm.runner.progress import Lock, Progress, RunLog, StageLock, console, print_plan


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
    path: str | Path | Experiment,
    *,
    out: Path | None = None,
    runs: Path | None = None,
    only: list[str] | None = None,
    stage: str | None = None,
    dry_run: bool = False,
    roles: dict[str, Any] | None = None,
    verbose: bool = True,
    allow_code: bool = False,
    executor: str | None = None,
    jobs: int | None = None,
    detach: bool = False,
) -> RunResult:
    """Validate, plan and run an experiment file.

    Args:
        path: the experiment YAML, or an `Experiment` already loaded from one.
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
        allow_code: let the file run code from outside the project (``--allow-code``; see
            `msm.experiment.load_experiment`).
        executor: ``serial``, ``local`` or ``slurm`` (default: the file's ``executor.kind``).
        jobs: jobs at once for ``local`` (default: the file's ``executor.jobs``).
        detach: ``slurm``: return once the job graph is submitted.
    """
    # In a copy of the context: Inspect keeps an evaluation's model roles (grader, ...) in a
    # ContextVar that would otherwise outlive the run in this process (a later `classify`
    # would find a stale grader).
    return contextvars.copy_context().run(
        _run_experiment, path, out=out, runs=runs, only=only, stage=stage, dry_run=dry_run,
        roles=roles, verbose=verbose, allow_code=allow_code,
        jobs=_JobOptions(executor, jobs, detach),
    )


@dataclass(frozen=True)
class _JobOptions:
    kind: str | None = None
    jobs: int | None = None
    detach: bool = False


def _run_experiment(
    path: str | Path | Experiment,
    *,
    out: Path | None,
    runs: Path | None,
    only: list[str] | None,
    stage: str | None,
    dry_run: bool,
    roles: dict[str, Any] | None,
    verbose: bool,
    allow_code: bool,
    jobs: _JobOptions,
) -> RunResult:
    offline.install()  # Inspect's token estimate works without a network
    # an Experiment already loaded (and adjusted, as msm demo --pretrain does) or a file
    exp = path if isinstance(path, Experiment) else load_experiment(path, allow_code=allow_code)
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
    check_writable_dir(plan.results_dir, field="--out")
    check_writable_dir(plan.runs_dir, field="--runs")
    result = RunResult(plan, results_dir=plan.results_dir, run_log=plan.results_dir / RUN_LOG)
    kind = jobs.kind or exp.executor.kind
    if kind not in ("serial", "local", "slurm"):
        raise InputError(f"unknown executor '{kind}' (serial, local or slurm)", field="--executor")
    if kind != "serial" and isinstance(path, Experiment):
        raise InputError("jobs rebuild the plan from the experiment file: run the file itself "
                         "(or use the serial executor)", field="--executor")
    if dry_run:
        print_plan(plan, only=only, stage=stage, mode="dry-run")
        if kind != "serial":
            console.print(f"job graph ({kind}):")
            for line in executors.describe(job_units(plan, only=only, stage=stage), exp.executor, kind):
                console.print(escape(line), soft_wrap=True)
        return result
    plan.verbose = verbose
    work = _select(plan, only=only, stage=stage)  # refuses, before anything is written
    with Lock(plan.results_dir):
        if kind == "serial":
            _execute(plan, result, work, only=only, stage=stage)
        else:
            _execute_jobs(plan, result, work, kind, jobs, stage=stage,
                          unit=functools.partial(run_unit, str(Path(path).resolve()),
                                                 out=plan.results_dir.resolve(),
                                                 runs=plan.runs_dir.resolve(), roles=roles,
                                                 allow_code=allow_code))
    return result


def job_units(plan: Plan, *, only: list[str] | None = None, stage: str | None = None
              ) -> list[executors.Unit]:
    """The work `--only` and `--stage` select, as job units (nothing refused: for the job
    graph of ``--dry-run``, and for checking submissions)."""
    return _units(plan, _select(plan, only=only, stage=stage, refuse=False))


def _units(plan: Plan, work: _Work) -> list[executors.Unit]:
    """The pending stages and unfinished evaluations as job units, with what each needs."""
    pending = {s.key for s in work.order if s.status != "done"}
    units = [
        executors.Unit(f"stage:{s.key}", s.kind, s.label, [f"stage:{d}" for d in s.deps if d in pending])
        for s in work.order
        if s.status != "done"
    ]
    for ev in work.evaluations:
        if ev.status() == "done":
            continue
        needs = [f"stage:{ev.model_step}"] if ev.model_step in pending else []
        units.append(executors.Unit(f"eval:{ev.arm}:{ev.seed}", "eval",
                                    f"eval [{ev.arm} seed {ev.seed}]", needs))
    return units


def _execute_jobs(plan: Plan, result: RunResult, work: _Work, kind: str, options: _JobOptions,
                  *, stage: str | None, unit: Any) -> None:
    """Run the work as jobs; report failures (log path, state) once everything else is done."""
    exp = plan.experiment
    units = _units(plan, work)
    folder = plan.results_dir / executors.JOBS_DIR
    runlog = RunLog(plan.results_dir)
    runlog.write(event="run", experiment=exp.label, executor=kind, pid=os.getpid(), pending=len(units))
    console.print(f"[bold]{exp.label}[/bold]: {len(units)} job(s) on the {kind} executor; "
                  f"job logs in {folder}")
    echo = lambda line: console.print(escape(line), soft_wrap=True)
    if kind == "local":
        outcome = executors.run_local(units, unit, exp.executor, folder,
                                      jobs=options.jobs or exp.executor.jobs, echo=echo)
    else:
        outcome, submitted = executors.submit_slurm(units, unit, exp.executor, folder, echo=echo)
        if options.detach:
            console.print(f"submitted {len(submitted)} job(s); `msm status` shows their states")
            return
        outcome = executors.wait_slurm(units, submitted, folder, outcome, echo=echo)
    result.ran = [u.removeprefix("stage:") for u in outcome.done if u.startswith("stage:")]
    if outcome.failed:
        lines = [f"{r.label}: {r.error} (job {r.job_id}, log {r.stderr})" for r in outcome.failed]
        skipped = f"; not run because of it: {len(outcome.skipped)}" if outcome.skipped else ""
        raise StageFailed(f"{len(outcome.failed)} job(s) failed{skipped}: " + "; ".join(lines))
    if stage in (None, "leaderboard"):
        result.leaderboards = write_leaderboards(plan, runlog)
    runlog.write(event="done", experiment=exp.label)


def run_unit(path: str, unit_id: str, *, out: Path, runs: Path, roles: dict[str, Any] | None,
             allow_code: bool) -> str:
    """Run one unit of a plan in this process (what a job does): rebuild the plan from the
    experiment file, then run the stage (under its lock; reused if another run finished it)
    or the evaluation, exactly as the serial runner would."""
    offline.install()
    exp = load_experiment(path, allow_code=allow_code)
    plan = build_plan(exp, runs_dir=runs, results_dir=out, roles=roles)
    plan.verbose = True
    runlog = RunLog(plan.results_dir)
    result = RunResult(plan, results_dir=plan.results_dir, run_log=plan.results_dir / RUN_LOG)
    kind, _, ident = unit_id.partition(":")
    if kind == "stage":
        step = plan.steps[ident]
        progress = Progress(runlog, [step.kind])
        with StageLock(step):
            if step.result() is None:
                results = {k: r for k, s in plan.steps.items() if (r := s.result()) is not None}
                _run_step(step, results, result, runlog, progress)
        return unit_id
    arm, _, seed = ident.rpartition(":")
    ev = next(e for e in plan.evaluations if e.arm == arm and str(e.seed) == seed)
    if ev.status() != "done":
        evaluate(plan, ev, runlog, Progress(runlog, ["eval"]))
    return unit_id


@dataclass
class _Work:
    """What a run will do: the selected stages (done or not), the pending ones in dependency
    order, and the evaluations."""

    steps: list[Step]
    order: list[Step]
    evaluations: list[Evaluation]


def _select(plan: Plan, *, only: list[str] | None, stage: str | None, refuse: bool = True) -> _Work:
    """The work `--only` and `--stage` select, refused (`InputError`) when a stage needs one
    that has not run or (`refuse`) a hub model that is not in the local cache while offline."""
    steps, evaluations = plan.selected(only)
    if stage in KINDS:
        # data builds are cheap file writes: they run whenever a selected stage needs them
        steps = [s for s in steps if s.kind in (stage, "data")]
    elif stage in ("eval", "leaderboard"):
        steps = []
    if stage not in (None, "eval"):
        evaluations = []
    pending = [s for s in steps if s.status != "done"]
    done = {key for key, step in plan.steps.items() if step.status == "done"}
    order = _in_order(plan, pending)
    will_run = {s.key for s in order}
    for step in order:
        missing = [d for d in step.deps if d not in done and d not in will_run]
        if missing:
            dep = plan.steps[missing[0]]
            raise InputError(
                f"{step.label} needs {dep.label}, which has not run (run without --stage, or --stage {dep.kind})",
                field="--stage",
            )
    todo = [e for e in evaluations if e.status() != "done"]
    if refuse:
        _refuse_uncached(plan, [m for s in order for m in s.hub_models]
                         + [m for e in todo for m in e.hub_models])
    return _Work(steps, order, evaluations)


def _refuse_uncached(plan: Plan, models: list[tuple[str, str]]) -> None:
    """Offline (``HF_HUB_OFFLINE``, which ``msm`` sets unless told otherwise), a hub model that
    is not in the local cache fails when it is loaded, after the work before it: refuse first."""
    from msm.training.checkpoints import missing_from_cache

    if not models or os.environ.get("HF_HUB_OFFLINE", "").upper() not in {"1", "ON", "YES", "TRUE"}:
        return
    missing = missing_from_cache([repo for repo, _ in models])
    if missing:
        field = next(f for repo, f in models if repo == missing[0])
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(
            f"hub model '{missing[0]}'{more} is not in the local cache (size unknown offline) and "
            f"the hub is offline (HF_HUB_OFFLINE): download it first (huggingface-cli download "
            f"{missing[0]}) or run with HF_HUB_OFFLINE=0", file=plan.experiment.path, field=field)


def _execute(plan: Plan, result: RunResult, work: _Work, *, only: list[str] | None,
             stage: str | None) -> None:
    exp = plan.experiment
    runlog = RunLog(plan.results_dir)
    steps, evaluations = work.steps, work.evaluations
    pending = [s for s in work.order if s.status != "done"]  # another run may have finished some
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
    output_log = None if plan.verbose else plan.results_dir / OUTPUT_LOG
    try:
        with stage_output(output_log) as terminal:
            progress = Progress(runlog, todo_kinds, quiet=not plan.verbose, stream=terminal)
            ok = False
            try:
                _run_work(plan, result, pending, results, evaluations, runlog, progress)
                ok = True
            finally:
                progress.close(ok)
    except BaseException:
        if output_log is not None and output_log.is_file():
            console.print(f"output of the failed step (whole log: {output_log}):", soft_wrap=True)
            console.print(escape(output_tail(output_log)), soft_wrap=True)
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
        result.evaluated += evaluate(plan, ev, runlog, progress)


def _run_step(step: Step, results: dict[str, dict[str, str]], result: RunResult, runlog: RunLog,
              progress: Progress) -> None:
    progress.start(step.kind, f"{step.label} -> {step.out}", short=step.label)
    cfg = _resolve_named(step, results)
    step.out.mkdir(parents=True, exist_ok=True)
    runlog.write(event="start", kind=step.kind, key=step.key, users=step.users, out=step.out)
    with runlog.timed(kind=step.kind, key=step.key, users=step.users) as elapsed:
        res = step.execute(cfg)
    seconds = elapsed()
    marker = {
        "kind": step.kind,
        "key": step.key,
        "result": res,
        "seconds": seconds,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "users": step.users,
        "config": _jsonable(cfg),
    }
    write_json_atomic(step.marker, marker)
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


def _in_order(plan: Plan, pending: list[Step]) -> list[Step]:
    """The pending steps, each after the pending steps it reads (`graphlib`)."""
    keys = {s.key for s in pending}
    graph = {s.key: [d for d in s.deps if d in keys] for s in pending}
    return [plan.steps[key] for key in graphlib.TopologicalSorter(graph).static_order()]


def _jsonable(cfg: Any) -> Any:
    if isinstance(cfg, BaseModel):
        return cfg.model_dump(mode="json")
    return cfg


def show(
    path: str | Path,
    *,
    out: Path | None = None,
    runs: Path | None = None,
    only: list[str] | None = None,
    allow_code: bool = False,
) -> Plan:
    """Print the status of an experiment: stages done/partial/pending, evaluations, the run,
    and the jobs of the last run that used an executor (their ids and states)."""
    exp = load_experiment(path, allow_code=allow_code)
    plan = build_plan(exp, runs_dir=runs, results_dir=out, count_samples=True)
    print_plan(plan, only=only, mode="status")
    jobs = executors.read_jobs(plan.results_dir)
    if jobs:
        console.print(f"jobs ({jobs['executor']}; logs in {plan.results_dir / executors.JOBS_DIR}):")
        states = executors.live_states(jobs, plan.results_dir / executors.JOBS_DIR)
        for job in jobs["jobs"]:
            state = states.get(job["job_id"], job["state"])
            extra = f"  {job['error']}" if job.get("error") else ""
            console.print(escape(f"  {job['job_id'] or '-':>10}  {state:<10} {job['label']}{extra}"),
                          soft_wrap=True)
    return plan
