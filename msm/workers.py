"""The demo's bases in parallel worker processes.

At the micro model's size most of a stage or an evaluation is single-threaded Python (the
trainer's set-up, Inspect's per-sample work), so one process leaves the second core idle.
`run_parts` runs each base's share of an experiment (its seed: with ``base.per_seed`` the base
and every arm trained on it) as an ordinary experiment run in its own worker process, one torch
thread each, into ``<out>/.parts/seed<N>/``; stages shared by bases (documents, data builds)
are written once, the other worker waiting on their stage lock. The finished evaluation logs
are then linked into ``<out>/logs/`` where a plain run of the whole file expects them, the
workers' run logs and output appended to its own, and the parts removed, so the caller's own
`run_experiment` afterwards finds everything done (or redoes what a failed worker left) and
writes the leaderboard.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

PARTS = ".parts"
WORK_KINDS = ("pretrain", "data", "docgen", "deliberative", "midtrain", "aft", "eval")


def seeds_of(exp) -> list[int]:
    """Every seed an arm of the experiment runs with."""
    seeds = set(exp.seeds)
    for arm in exp.arms.values():
        seeds |= set(arm.seeds or [])
    return sorted(seeds)


def part_experiment(exp, seed: int):
    """The experiment restricted to one seed (arms that do not run it left out)."""
    part = exp.model_copy(deep=True)
    part.seeds = [seed]
    arms = {}
    for name, arm in part.arms.items():
        if arm.seeds is None or seed in arm.seeds:
            arm.seeds = None if arm.seeds is None else [seed]
            arms[name] = arm
    part.arms = arms
    return part


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link every file under `src` into the same place under `dst` (existing kept)."""
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, target)
                except OSError:  # another file system: copy
                    shutil.copy2(path, target)


def _pending(exp, out: Path, runs: Path | None, only: list[str] | None) -> int:
    from msm.runner import build_plan

    plan = build_plan(exp, runs_dir=runs, results_dir=out)
    steps, evaluations = plan.selected(only)
    return sum(s.status != "done" for s in steps) + sum(e.status() != "done" for e in evaluations)


def _run_part(job: tuple[Any, Path, Path | None, list[str] | None]) -> Path:
    """In a worker process: one seed's share of the experiment, quietly, on one thread."""
    exp, out, runs, only = job
    import torch

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "console.log").open("a") as log:
        os.dup2(log.fileno(), 1)  # the runner's own lines stay out of the parent's screen
        os.dup2(log.fileno(), 2)
    from msm.runner import run_experiment

    run_experiment(exp, out=out, runs=runs, only=[a for a in only or [] if a in exp.arms] or None,
                   verbose=False)
    return out


def _done_units(parts: list[Path]) -> tuple[int, str]:
    """Units of work finished in the parts' run logs, and the latest one started."""
    import json

    done, latest, when = 0, "", ""
    for part in parts:
        path = part / "run_log.jsonl"
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event.get("kind") not in WORK_KINDS:
                continue
            if event.get("event") == "end":
                done += 1
            elif event.get("event") == "start" and event["time"] >= when:
                who = event.get("arm") or ",".join(sorted({u[0] for u in event.get("users", [])}))
                latest, when = f"{event['kind']} [{who} seed {part.name.removeprefix('seed')}]", event["time"]
    return done, latest


def run_parts(exp, out: Path, runs: Path | None, only: list[str] | None, workers: int) -> str | None:
    """Run the experiment's seeds in `workers` processes (see the module's docstring); at once
    when nothing is left to do or there is one seed. A worker that fails leaves its share to
    the caller's plain run, which reports the failure as ``msm run`` does: the returned line
    says so (None when every worker finished)."""
    import multiprocessing

    from msm.harness.progress import bar

    seeds = seeds_of(exp)
    total = _pending(exp, out, runs, only)
    if not total or workers < 2 or len(seeds) < 2:
        return None
    jobs = []
    for seed in seeds:
        part = part_experiment(exp, seed)
        if only and not set(only) & set(part.arms):
            continue
        folder = out / PARTS / f"seed{seed}"
        if (out / "logs").is_dir():  # what a plain run already evaluated counts as done here
            _link_tree(out / "logs", folder / "logs")
        jobs.append((part, folder, runs, only))
    folders = [job[1] for job in jobs]
    failure = None
    # the spawned workers' libraries (tqdm's locks among them) leave semaphores that the
    # resource tracker cleans up at exit, warning about each on the user's screen: it is told
    # to clean up quietly (the tracker starts with the pool and reads this variable)
    os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning:multiprocessing.resource_tracker")
    with bar(transient=True) as progress, multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        task = progress.add_task("starting", total=total)
        pending = pool.map_async(_run_part, jobs, chunksize=1)
        while not pending.ready():
            done, latest = _done_units(folders)
            progress.update(task, completed=min(done, total), description=latest or "starting")
            time.sleep(0.5)
        try:
            pending.get()
        except Exception as ex:  # noqa: BLE001 - the caller's plain run redoes the share and reports
            failure = f"a worker stopped ({type(ex).__name__}: {str(ex).splitlines()[0][:200]}); the rest runs here"
    _merge(folders, out)
    return failure


def _merge(folders: list[Path], out: Path) -> None:
    """The parts' evaluation logs into ``out/logs``, their run logs and output into ``out``'s;
    then the parts are removed."""
    from msm.runner import RUN_LOG
    from msm.runner.plan import OUTPUT_LOG

    for folder in folders:
        if (folder / "logs").is_dir():
            _link_tree(folder / "logs", out / "logs")
        for name, into in ((RUN_LOG, RUN_LOG), (OUTPUT_LOG, OUTPUT_LOG), ("console.log", OUTPUT_LOG)):
            if (folder / name).is_file():
                with (out / into).open("a") as fh:
                    fh.write((folder / name).read_text(errors="replace"))
    shutil.rmtree(out / PARTS, ignore_errors=True)
