"""What a run shows and leaves behind: the run log, the locks, progress lines and the status
tables (`msm run --dry-run`, `msm status`).

``results/NAME/run_log.jsonl`` records every step with its timings; the measured mean duration
of each kind of work gives the ETA.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Self

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from msm.harness.errors import InputError
from msm.runner.plan import KINDS, LOCK, LOCK_INFO, RUN_LOG, Plan, Step, log_statuses

console = Console(stderr=True, highlight=False)


class RunLog:
    def __init__(self, results_dir: Path):
        self.path = results_dir / RUN_LOG

    def write(self, **event: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        event = {"time": datetime.now(UTC).isoformat(timespec="seconds"), **event}
        with self.path.open("a") as fh:
            fh.write(json.dumps(event, default=str) + "\n")

    @contextmanager
    def timed(self, **who: Any) -> Iterator[Callable[[], float]]:
        """Time a unit of work (yields its seconds so far); an exception is logged as an
        ``error`` event with ``who``, the seconds and the error, and raised again."""
        t0 = time.monotonic()

        def seconds() -> float:
            return round(time.monotonic() - t0, 2)

        try:
            yield seconds
        except BaseException as ex:
            self.write(event="error", **who, seconds=seconds(),
                       error=f"{type(ex).__name__}: {ex}"[:500])
            raise

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

    def __enter__(self) -> Self:
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

    def __enter__(self) -> Self:
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
    """Print the plan: the stages and evaluations with their status, what is left and how long
    it should take (``msm run --dry-run``), or what has run and what is running (``msm status``)."""
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
        _print_run_state(out, plan, runlog)
    out.print(_stage_table(steps, stage, mode))
    etable, total = _evaluation_table(plan, evaluations, mode)
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
    eta = estimate(todo_kinds, runlog.mean_seconds())
    out.print(
        f"plan: {n_train} stage(s) to run, {n_reuse} reused, {n_eval} evaluation(s) to run "
        f"({total} samples); measured time left {eta}"
    )
    if mode == "dry-run":
        _print_fetches(out, plan)
    if mode == "dry-run" and exp.expected_cost:
        out.print(f"[bold]expected cost[/bold]: {' '.join(exp.expected_cost.split())}")


def _print_run_state(out: Console, plan: Plan, runlog: RunLog) -> None:
    """One line: running (and what), stopped on an error, interrupted, finished or not running."""
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


def _stage_table(steps: list, stage: str | None, mode: str) -> Table:
    """The stages: kind, key, who uses it, status, and the action (dry run) or time (status)."""
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
    return table


def _evaluation_table(plan: Plan, evaluations: list, mode: str) -> tuple[Table, int]:
    """The evaluations (arm, seed, model, samples, status, logs) and their samples in all."""
    exp = plan.experiment
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
        if ev.checkpoint is not None:
            model = f"checkpoint {ev.checkpoint.identity}"
        elif ev.model_step is None:
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
        seed = "-" if ev.seed is None else str(ev.seed)
        etable.add_row(ev.arm, seed, model, n_text, status, _show_path(ev.log_dir))
    return etable, total


def _print_fetches(out: Console, plan: Plan) -> None:
    """``--dry-run``: the hub repositories the checkpoint arms need, cached or to fetch."""
    from msm.training.checkpoints import fetch_lines

    lines = fetch_lines({e.arm: e.checkpoint for e in plan.evaluations if e.checkpoint is not None})
    if lines:
        out.print("[bold]checkpoints[/bold] (hub repositories; nothing is fetched now):")
        for line in lines:
            out.print(f"  {escape(line)}", soft_wrap=True)
