"""The same experiment run serially and as local jobs: wall times and their ratio.

    python benchmarks/executor_speed.py                         # a built-in small experiment
    python benchmarks/executor_speed.py --arms 6 --steps 40     # more, longer arms
    python benchmarks/executor_speed.py --experiment experiments/micro_cheese.yaml --only aft_only,msm_america_aft

The built-in experiment is independent AFT arms (different learning rates) on a tiny model
built here, each evaluated on a few values items: the shape where jobs help (arms that need
nothing from each other). Each run gets fresh runs and results folders, so nothing is reused.
Prints the CPU, the load average before and after, both wall times, the ratio serial / local,
and whether the two leaderboards agree.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import yaml


def cpu() -> str:
    try:
        info = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    flags = fields.get("Flags", "")
    kind = "AVX-512" + (" + AMX" if "amx_tile" in flags else "") if "avx512f" in flags else (
        "AVX2 only" if "avx2" in flags else "no AVX2")
    return f"{fields.get('Model name', '?').strip()} ({kind}, {os.cpu_count()} cores)"


def small_experiment(folder: Path, arms: int, steps: int) -> Path:
    """Independent AFT arms on a tiny model built here, each evaluated on a few items."""
    from msm.training.tiny import build_tiny_model

    base = build_tiny_model(folder / "base", hidden_size=64, num_layers=2)
    aft = {"max_steps": steps, "per_device_train_batch_size": 4, "lora": False, "max_length": 96,
           "data": [{"build": "cheese_demonstrations", "args": {"seed": 0, "per_order": 2}}]}
    data = {
        "name": "executor_bench",
        "base": str(base),
        "defaults": {"aft": aft},
        "eval": {"max_tokens": 4, "max_samples": 8},
        "tasks": [{"task": "values_generalization", "epochs": 1, "limit": 16, "metric": "america"}],
        "leaderboard": {"baseline": "arm0"},
        "arms": {f"arm{i}": {"stages": ["aft"], "aft": {"learning_rate": 1e-4 * (i + 1)}}
                 for i in range(arms)},
    }
    path = folder / "executor_bench.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def timed_run(path: Path, root: Path, name: str, only: list[str] | None, **kwargs) -> float:
    from msm.runner import run_experiment

    t0 = time.monotonic()
    run_experiment(path, out=root / name / "results", runs=root / name / "runs", only=only,
                   verbose=False, **kwargs)
    return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", type=Path, help="an experiment file (default: built in)")
    parser.add_argument("--only", help="comma-separated arms of --experiment")
    parser.add_argument("--arms", type=int, default=4, help="arms of the built-in experiment")
    parser.add_argument("--steps", type=int, default=20, help="AFT steps of each built-in arm")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    only = args.only.split(",") if args.only else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = args.experiment or small_experiment(root, args.arms, args.steps)
        print(f"cpu: {cpu()}")
        print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        serial = timed_run(path, root, "serial", only)
        local = timed_run(path, root, "local", only, executor="local", jobs=args.jobs)
        print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        same = ((root / "serial/results/leaderboard.csv").read_text()
                == (root / "local/results/leaderboard.csv").read_text())
        print(f"serial: {serial:.1f} s")
        print(f"local --jobs {args.jobs}: {local:.1f} s")
        print(f"ratio serial/local: {serial / local:.2f}")
        print(f"same leaderboard: {same}")


if __name__ == "__main__":
    main()
