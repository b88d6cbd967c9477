"""How long a leaderboard takes on 1,000,000 sample rows (target: under 10 s on the dev machine).

Builds a synthetic sample frame shaped like `msm.harness.logs.read_logs` output: an agentic task
(27 conditions = 3 scenarios x 9 goal values) and a values-probe task (240 items in 12
domains), 11 arm/spec groups, many epochs; then times `build_tables` (rates, clustered
intervals, paired/independent comparisons, adjusted p, per-condition breakdown) and writing
Markdown/CSV/HTML with and without the plots.

    python benchmarks/leaderboard_speed.py [--rows 1000000] [--out /tmp/lb_bench]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from msm.harness.leaderboard import build_tables, write_tables

GROUPS = [("none", "base"), ("none", "aft_only"), ("none", "deliberative")] + [
    (spec, arm) for spec in ("philosophy", "rules", "value_augmented", "general")
    for arm in ("msm_only", "msm_aft")
]


def synthetic(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    scen = np.repeat(["exfiltration", "murder", "leaking"], 9)
    goal = np.tile([f"goal{i}" for i in range(8)] + ["none"], 3)
    tasks = [
        ("agentic_misalignment", 27, {"scenario": scen, "goal_value": goal}, "harmful", 0.3),
        ("values_generalization", 240, {"domain": np.repeat([f"d{i}" for i in range(12)], 20)}, "america", 0.7),
    ]
    per_group = rows // (len(GROUPS) * len(tasks))
    for t, (task, n_items, meta, metric, share) in enumerate(tasks):
        epochs = max(1, per_group // n_items)
        n = n_items * epochs
        for g, (spec, arm) in enumerate(GROUPS):
            item_rate = np.clip(rng.beta(2, 3, n_items) + 0.03 * g, 0, 1)
            item = np.tile(np.arange(n_items), epochs)
            x = (rng.random(n) < item_rate[item]).astype(float)
            x[rng.random(n) < 0.01] = np.nan  # 1% unscored
            frame = {"task": task, "spec": spec, "arm": arm, "epoch": np.repeat(np.arange(epochs), n_items),
                     "sample_id": item, metric: x}
            frame.update({k: v[item] for k, v in meta.items()})
            frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    df = synthetic(args.rows)
    out = args.out or Path(tempfile.mkdtemp(prefix="lb_bench_"))
    print(f"rows: {len(df):,}  groups: {len(GROUPS)} per task  tasks: {df['task'].nunique()}")
    for metric, task in (("harmful", "agentic_misalignment"), ("america", "values_generalization")):
        t0 = time.perf_counter()
        tables = build_tables(df, metric=metric, baseline="base", by=["spec", "arm"], task=task)
        t1 = time.perf_counter()
        write_tables(tables, out / metric, plots=False)
        t2 = time.perf_counter()
        write_tables(tables, out / metric, plots=True)
        t3 = time.perf_counter()
        print(f"{task}: {int(tables.main['n'].sum() + tables.main['unscored'].sum()):,} rows -> "
              f"{len(tables.main)} rows, {len(tables.conditions)} condition rows, "
              f"{int(tables.main['p'].notna().sum() + tables.conditions['p'].notna().sum())} comparisons")
        print(f"  tables {t1 - t0:.2f} s  | md/csv/html {t2 - t1:.2f} s  | with plots {t3 - t2:.2f} s")
    t0 = time.perf_counter()
    both = [build_tables(df, metric=m, baseline="base", by=["spec", "arm"], task=t)
            for m, t in (("harmful", "agentic_misalignment"), ("america", "values_generalization"))]
    t1 = time.perf_counter()
    print(f"all 1,000,000-row tables: {t1 - t0:.2f} s (target < 10 s); files under {out}")
    assert all(len(b.main) == len(GROUPS) for b in both)


if __name__ == "__main__":
    main()
