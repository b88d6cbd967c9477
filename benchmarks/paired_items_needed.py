"""How many items would a shift of the observed size need, for a paired comparison of two arms?

`msm power` plans two independent arms of binary rates (Cohen's h). A position-free preference
(`lp_logodds`, `lp_pref` from ``scoring=logprob``) is a continuous score per item, and arms are
compared on the same items (paired), so its planning quantity is the spread of the item
differences: with observed mean difference d and standard deviation s of the per-item (per
cluster) differences, a two-sided paired t test at `alpha` needs n items for `power`
(statsmodels' `TTestPower`, effect size d / s). The same is printed for a binary rate, paired.

    python benchmarks/paired_items_needed.py results/smol_cheese/logs --task america_opinions \\
        --metric lp_logodds --a msm_affordability_aft --b msm_america_aft --cluster cluster
"""

from __future__ import annotations

import argparse

import numpy as np
from statsmodels.stats.power import TTestPower

from msm.harness.logs import read_logs


def item_means(samples, arm: str, metric: str, cluster: str):
    rows = samples[(samples["arm"].astype(str) == arm) & samples[metric].notna()]
    if rows.empty:
        raise SystemExit(f"error: --a/--b: no scored '{metric}' rows for arm '{arm}'")
    return rows.groupby(rows[cluster].astype(str))[metric].mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+")
    parser.add_argument("--task", required=True)
    parser.add_argument("--metric", required=True)
    parser.add_argument("--a", required=True, help="reference arm")
    parser.add_argument("--b", required=True, help="arm compared with it")
    parser.add_argument("--cluster", default="sample_id", help="the unit that repeats (one item)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--power", type=float, default=0.8)
    args = parser.parse_args()
    samples = read_logs(args.logs).samples
    samples = samples[samples["task"] == args.task]
    a = item_means(samples, args.a, args.metric, args.cluster)
    b = item_means(samples, args.b, args.metric, args.cluster)
    d = (b - a).dropna()
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    print(f"{args.task} {args.metric}: {args.b} - {args.a} = {mean:+.4f} over {d.size} items "
          f"(sd of item differences {sd:.4f})")
    if mean == 0 or sd == 0:
        print("items needed: undefined (no difference or no spread)")
        return
    n = TTestPower().solve_power(effect_size=abs(mean) / sd, alpha=args.alpha, power=args.power,
                                 alternative="two-sided")
    print(f"items needed for {args.power:.0%} power at alpha {args.alpha}: {int(np.ceil(n))}")


if __name__ == "__main__":
    main()
