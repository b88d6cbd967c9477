"""Executors: the plan's work as jobs, on this machine or a Slurm cluster, through submitit.

`msm run FILE` runs every stage and evaluation one after another in its own process (the
``serial`` executor, `msm.runner.execution`). ``--executor local --jobs N`` and
``--executor slurm`` hand the same work to submitit instead, one *unit* at a time: a pending
stage, or the evaluation of one checkpoint on every task. A job rebuilds the plan from the
experiment file and runs its unit exactly as the serial runner would (`execution.run_unit`),
so stage keys, reuse, stage locks, resumption from a stage's own checkpoints and the run log
work the same; the results folder's lock stays with the process that submitted the jobs.

- ``local``: submitit's local executor runs each unit as a separate process; at most ``jobs``
  run at once, each submitted when the units it needs have finished.
- ``slurm``: every unit is submitted at once with Slurm dependencies (``afterok`` on the jobs of
  the units it needs), with the resources the ``executor:`` block gives its kind of work; a
  job that is pre-empted or reaches its time limit is requeued by submitit and resumes.
  ``--detach`` returns once the graph is submitted; otherwise the run waits and reports.

A job that fails (or is killed) is submitted again up to ``max_retries`` times; a unit that
still fails is reported with its log paths and state, the units that need it are skipped, and
everything else goes on. ``results/NAME/jobs/jobs.json`` records every unit's job id, state
and logs (``msm status`` prints them).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from msm.experiment import ExecutorSettings, Resources
from msm.harness.fileio import write_json_atomic

JOBS_DIR = "jobs"
JOBS_FILE = "jobs.json"
POLL_SECONDS = 0.5


@dataclass
class Unit:
    """One job's work: a stage (``stage:<key>``) or an evaluation (``eval:<arm>:<seed>``)."""

    id: str
    kind: str
    """The stage kind, or ``eval``: which resources it gets."""
    label: str
    deps: list[str] = field(default_factory=list)
    """Units that must finish first."""


@dataclass
class JobRecord:
    unit: str
    label: str
    job_id: str = ""
    state: str = "pending"
    attempts: int = 0
    stdout: str = ""
    stderr: str = ""
    error: str = ""


def submitit_parameters(resources: Resources, kind: str, name: str) -> dict[str, Any]:
    """submitit's generic and Slurm parameters for one unit's resources."""
    params: dict[str, Any] = {"name": name, "nodes": resources.nodes or 1, "tasks_per_node": 1}
    if resources.gpus is not None:
        params["gpus_per_node"] = resources.gpus
    if resources.cpus is not None:
        params["cpus_per_task"] = resources.cpus
    if resources.mem_gb is not None:
        params["mem_gb"] = resources.mem_gb
    if resources.time_min is not None:
        params["timeout_min"] = resources.time_min
    if kind == "slurm":
        if resources.partition:
            params["slurm_partition"] = resources.partition
        if resources.account:
            params["slurm_account"] = resources.account
        if resources.setup:
            params["slurm_setup"] = list(resources.setup)
        params["slurm_additional_parameters"] = dict(resources.sbatch)
    return params


class JobBook:
    """The jobs of a run, kept in ``jobs/jobs.json`` as they change (what ``msm status`` reads)."""

    def __init__(self, folder: Path, executor: str):
        self.path = folder / JOBS_FILE
        self.executor = executor
        self.records: dict[str, JobRecord] = {}

    def update(self, unit: Unit, **fields: Any) -> JobRecord:
        record = self.records.setdefault(unit.id, JobRecord(unit.id, unit.label))
        for name, value in fields.items():
            setattr(record, name, value)
        write_json_atomic(self.path, {"executor": self.executor,
                                      "jobs": [asdict(r) for r in self.records.values()]})
        return record


def read_jobs(results_dir: Path) -> dict[str, Any] | None:
    """The last run's job records (``None`` when no run used an executor)."""
    path = results_dir / JOBS_DIR / JOBS_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def live_states(jobs: dict[str, Any], folder: Path) -> dict[str, str]:
    """Slurm's current state of each submitted job (``sacct`` through submitit), where a
    cluster answers; empty otherwise (the recorded states stand)."""
    import shutil

    if jobs.get("executor") != "slurm" or shutil.which("sacct") is None:
        return {}
    import submitit

    out = {}
    for job in jobs["jobs"]:
        if job.get("job_id"):
            try:
                out[job["job_id"]] = submitit.SlurmJob(folder, job["job_id"]).state
            except Exception:  # noqa: BLE001, S112 - an unanswered query leaves the recorded state
                continue
    return out


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    failed: list[JobRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Units not run because a unit they need failed."""
    submitted: list[str] = field(default_factory=list)


def _executor(kind: str, folder: Path):
    import submitit

    cluster = {"local": "local", "slurm": "slurm"}[kind]
    return submitit.AutoExecutor(folder=folder, cluster=cluster)


def _submit(folder: Path, kind: str, unit: Unit, settings: ExecutorSettings,
            fn: Callable[[str], Any], dependency: list[str] | None = None) -> Any:
    """Submit one unit with its own resources (a fresh executor: submitit's parameters would
    otherwise carry over from the unit before)."""
    executor = _executor(kind, folder)
    params = submitit_parameters(settings.resources(unit.kind), kind, f"msm-{unit.id[:40]}")
    if dependency:
        params.setdefault("slurm_additional_parameters", {})["dependency"] = (
            "afterok:" + ":".join(dependency))
    executor.update_parameters(**params)
    return executor.submit(fn, unit.id)


def _failure(job: Any) -> str:
    """One line on why a finished job failed: the error its traceback ends with, or, for a job
    that left no result at all (killed by a signal, out of memory, pre-empted), that fact and
    its state."""
    from submitit.core.utils import FailedJobError, UncompletedJobError

    try:
        error = job.exception()
    except Exception as ex:  # noqa: BLE001 - a job whose result cannot be read failed too
        error = ex
    # (FailedJobError, an exception raised by the work, is a kind of UncompletedJobError)
    if isinstance(error, UncompletedJobError) and not isinstance(error, FailedJobError):
        return f"ended without a result (killed?), state {job.state}"
    lines = [line.strip() for line in str(error or "").splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Failed)\b.*", line)]
    text = (raised or lines or [""])[-1]
    if isinstance(error, FailedJobError):
        return f"raised {text}"[:500]
    return f"{job.state}: {text}"[:500] if text else str(job.state)


def run_local(units: list[Unit], fn: Callable[[str], Any], settings: ExecutorSettings,
              folder: Path, *, jobs: int, echo: Callable[[str], None] = print) -> Outcome:
    """Run `units` as local processes, at most `jobs` at once, each when its needs are done."""
    book, outcome = JobBook(folder, "local"), Outcome()
    waiting = {u.id: u for u in units}
    running: dict[str, Any] = {}
    attempts: dict[str, int] = {}
    while waiting or running:
        blocked = {u for u, unit in waiting.items()
                   if any(d in outcome.skipped or d in {f.unit for f in outcome.failed}
                          for d in unit.deps)}
        for uid in blocked:
            outcome.skipped.append(uid)
            book.update(waiting.pop(uid), state="skipped")
        ready = [u for u in waiting.values() if all(d in outcome.done for d in u.deps)]
        for unit in ready[: max(0, jobs - len(running))]:
            del waiting[unit.id]
            job = _submit(folder, "local", unit, settings, fn)
            attempts[unit.id] = attempts.get(unit.id, 0) + 1
            running[unit.id] = job
            book.update(unit, job_id=str(job.job_id), state="running", attempts=attempts[unit.id],
                        stdout=str(job.paths.stdout), stderr=str(job.paths.stderr))
            echo(f"  job {job.job_id} started: {unit.label}")
        for uid, job in list(running.items()):
            if not job.done():
                continue
            del running[uid]
            unit = next(u for u in units if u.id == uid)
            if job.state == "FINISHED" and job.exception() is None:
                outcome.done.append(uid)
                book.update(unit, state="done")
                echo(f"  job {job.job_id} done: {unit.label}")
            elif attempts[uid] <= settings.max_retries:
                book.update(unit, state="retrying", error=_failure(job))
                echo(f"  job {job.job_id} failed ({_failure(job)}); submitting again: {unit.label}")
                waiting[uid] = unit
            else:
                outcome.failed.append(book.update(unit, state="failed", error=_failure(job)))
                echo(f"  job {job.job_id} FAILED: {unit.label} ({_failure(job)}); "
                     f"log: {job.paths.stderr}")
        if running:
            time.sleep(POLL_SECONDS)
    return outcome


def submit_slurm(units: list[Unit], fn: Callable[[str], Any], settings: ExecutorSettings,
                 folder: Path, *, echo: Callable[[str], None] = print) -> tuple[Outcome, dict[str, Any]]:
    """Submit every unit in dependency order, each ``afterok`` the jobs of the units it needs."""
    book, outcome = JobBook(folder, "slurm"), Outcome()
    jobs: dict[str, Any] = {}
    for unit in units:
        job = _submit(folder, "slurm", unit, settings, Requeueable(fn),
                      [str(jobs[d].job_id) for d in unit.deps if d in jobs])
        jobs[unit.id] = job
        outcome.submitted.append(unit.id)
        book.update(unit, job_id=str(job.job_id), state="submitted", attempts=1,
                    stdout=str(job.paths.stdout), stderr=str(job.paths.stderr))
        echo(f"  job {job.job_id} submitted: {unit.label}"
             + (f" (after {', '.join(str(jobs[d].job_id) for d in unit.deps if d in jobs)})"
                if unit.deps else ""))
    return outcome, jobs


def wait_slurm(units: list[Unit], jobs: dict[str, Any], folder: Path, outcome: Outcome, *,
               echo: Callable[[str], None] = print, poll: float = 30.0) -> Outcome:
    """Wait for submitted jobs; a failed one's dependents never start (Slurm cancels them)."""
    book = JobBook(folder, "slurm")
    for unit in units:
        book.update(unit, job_id=str(jobs[unit.id].job_id), state="submitted")
    pending = dict(jobs)
    while pending:
        for uid, job in list(pending.items()):
            if not job.done():
                continue
            del pending[uid]
            unit = next(u for u in units if u.id == uid)
            if job.state == "COMPLETED":
                outcome.done.append(uid)
                book.update(unit, state="done")
            else:
                outcome.failed.append(book.update(unit, state="failed", error=_failure(job)))
                echo(f"  job {job.job_id} FAILED: {unit.label} ({_failure(job)}); log: {job.paths.stderr}")
        if pending:
            time.sleep(poll)
    return outcome


class Requeueable:
    """A unit's function as a submitit checkpointable callable: a job pre-empted or timed out
    is requeued with the same unit, which resumes from what it saved."""

    def __init__(self, fn: Callable[[str], Any]):
        self.fn = fn

    def __call__(self, unit_id: str) -> Any:
        return self.fn(unit_id)

    def checkpoint(self, unit_id: str) -> Any:
        import submitit

        return submitit.helpers.DelayedSubmission(self, unit_id)


def describe(units: list[Unit], settings: ExecutorSettings, kind: str) -> list[str]:
    """The job graph as lines: each unit, its resources and the units it waits for."""
    lines = []
    for unit in units:
        r = settings.resources(unit.kind)
        res = ", ".join(f"{k} {v}" for k, v in r.model_dump(exclude_defaults=True).items()) or "defaults"
        after = f"; after {', '.join(unit.deps)}" if unit.deps else ""
        lines.append(f"  {unit.id}: {unit.label} [{kind}: {res}]{after}")
    return lines
