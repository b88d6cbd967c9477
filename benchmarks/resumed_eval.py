"""An evaluation killed part-way and rerun: how long the rerun's evaluation takes.

Trains what the experiment's arm needs (once), then for each round: deletes the arm's
evaluation logs, starts ``msm run --stage eval``, SIGKILLs it `--kill-after` seconds after the
evaluation started (read from the run log), reruns it and prints the evaluation's seconds from
the run log, beside an uninterrupted evaluation of the same checkpoint.

    python benchmarks/resumed_eval.py EXPERIMENT.yaml --only aft_only [--work /tmp/resumed_eval]

Use a small experiment (one seed, a short micro pretraining): the figures are about the
resume path, not the model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def msm(*args: str) -> list[str]:
    return [sys.executable, "-m", "msm.cli", *args]


def eval_events(run_log: Path, event: str) -> list[dict]:
    if not run_log.is_file():
        return []
    rows = [json.loads(line) for line in run_log.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("kind") == "eval" and r.get("event") == event]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("experiment")
    ap.add_argument("--only", required=True, help="The arm to evaluate (one seed is enough).")
    ap.add_argument("--work", default="/tmp/resumed_eval")
    ap.add_argument("--kill-after", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    work = Path(args.work)
    out, runs = work / "results", work / "runs"
    run_log = out / "run_log.jsonl"
    common = [args.experiment, "--only", args.only, "--out", str(out), "--runs", str(runs)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    shutil.rmtree(out / "logs", ignore_errors=True)
    subprocess.run(msm("run", *common), check=True, env=env, **quiet)  # train and evaluate once
    clean = eval_events(run_log, "end")[-1]["seconds"]
    print(f"uninterrupted evaluation: {clean:.1f} s")
    for k in range(args.rounds):
        shutil.rmtree(out / "logs", ignore_errors=True)
        before = len(eval_events(run_log, "start"))
        proc = subprocess.Popen(msm("run", *common, "--stage", "eval"), env=env, **quiet)
        while len(eval_events(run_log, "start")) <= before:
            if proc.poll() is not None:
                raise SystemExit("the evaluation ended before it could be killed")
            time.sleep(0.1)
        time.sleep(args.kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        t0 = time.monotonic()
        subprocess.run(msm("run", *common, "--stage", "eval"), check=True, env=env, **quiet)
        wall = time.monotonic() - t0
        seconds = eval_events(run_log, "end")[-1]["seconds"]
        print(f"round {k + 1}: killed {args.kill_after:g} s into the evaluation; rerun's "
              f"evaluation {seconds:.1f} s ({wall:.1f} s wall with start-up)")


if __name__ == "__main__":
    main()
