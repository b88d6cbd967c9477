"""Coverage of the leaderboard's 95% intervals on simulated evals (seeded).

Items have their own rates (Beta with mean p and intra-item correlation icc) and are asked
`epochs` times, like agentic conditions x epochs. Prints, per design, the share of runs whose
interval contains p: plain Wilson (ignoring clustering), clustered Wilson and clustered
Clopper-Pearson (the `rate_table` intervals).

    python benchmarks/interval_coverage.py [--reps 2000]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from msm.harness import stats


def simulate(rng, n_items, epochs, p, icc, reps) -> pd.DataFrame:
    conc = 1 / icc - 1
    item_p = rng.beta(p * conc, (1 - p) * conc, size=(reps, n_items))
    x = rng.random((reps, n_items, epochs)) < item_p[..., None]
    return pd.DataFrame({
        "rep": np.repeat(np.arange(reps), n_items * epochs),
        "item": np.tile(np.repeat(np.arange(n_items), epochs), reps),
        "x": x.ravel().astype(float),
    })


def covered(t: pd.DataFrame, p: float) -> float:
    return float(((t["lo"] <= p) & (p <= t["hi"])).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'items':>5} {'epochs':>6} {'p':>5} {'icc':>4} {'naive':>6} {'wilson':>7} {'CP':>6}")
    for n_items, epochs in ((27, 10), (60, 5), (240, 2)):
        for p in (0.05, 0.2, 0.5):
            for icc in (0.1, 0.3, 0.6):
                df = simulate(rng, n_items, epochs, p, icc, args.reps)
                naive = stats.rate_table(df, "x", ["rep"])
                wil = stats.rate_table(df, "x", ["rep"], cluster="item")
                cp = stats.rate_table(df, "x", ["rep"], cluster="item", method="clopper-pearson")
                print(f"{n_items:>5} {epochs:>6} {p:>5} {icc:>4} {covered(naive, p):>6.3f} "
                      f"{covered(wil, p):>7.3f} {covered(cp, p):>6.3f}")


if __name__ == "__main__":
    main()
