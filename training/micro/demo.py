"""``msm demo``: the cheese-to-values experiment in the CPU micro world, end to end.

Runs experiments/micro_cheese.yaml through the experiment runner (micro pretraining once and
cached, MSM and AFT through the real midtrain and AFT stages, the values-generalization task
through Inspect's hf/ provider, the project's leaderboard), then the experiment's own question,
seed by seed: with identical AFT, do MSM-America and MSM-affordability differ in pro-America
rate, and where does AFT without MSM fall? Each comparison is paired by item (the same
held-out pairs, each asked in both orders): an exact sign test on the item-level differences
(p), a paired t interval for the difference, and Holm-adjusted p-values over all of them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from harness import REPO_ROOT

EXPERIMENT = REPO_ROOT / "experiments" / "micro_cheese.yaml"
AMERICA, AFFORD, NO_MSM = "msm_america_aft", "msm_affordability_aft", "aft_only"
METRIC = "america"
CLUSTER = "item_id"


def paired(samples: pd.DataFrame, a: str, b: str, seed: object) -> dict:
    """B - A in pro-America rate for one seed, paired by item."""
    from scipy import stats as sps

    from harness.stats import paired_t_interval

    def item_rates(arm: str) -> pd.Series:
        s = samples[(samples["arm"] == arm) & (samples["seed"].astype(str) == str(seed))]
        return s.groupby(CLUSTER)[METRIC].mean()

    ra, rb = item_rates(a), item_rates(b)
    items = ra.index.intersection(rb.index)
    d = (rb.loc[items] - ra.loc[items]).to_numpy(float)
    lo, hi = paired_t_interval(d) if len(d) > 1 else (float("nan"), float("nan"))
    pos, neg = int((d > 0).sum()), int((d < 0).sum())
    p = sps.binomtest(pos, pos + neg, 0.5).pvalue if pos + neg else 1.0
    return {"seed": seed, "a": a, "b": b, "items": len(items), "rate_a": float(ra.loc[items].mean()),
            "rate_b": float(rb.loc[items].mean()), "diff": float(d.mean()) if len(d) else float("nan"),
            "lo": lo, "hi": hi, "items_up": pos, "items_down": neg, "p": float(p)}


def seed_comparisons(samples: pd.DataFrame) -> pd.DataFrame:
    """Per seed: affordability vs America, no-MSM vs America, affordability vs no-MSM."""
    from harness.stats import adjust_pvalues

    arms = set(samples["arm"])
    rows = []
    seeds = sorted(samples.loc[samples["arm"] == AMERICA, "seed"].astype(str).unique())
    for seed in seeds:
        for a, b in ((AFFORD, AMERICA), (NO_MSM, AMERICA), (AFFORD, NO_MSM)):
            if {a, b} <= arms:
                rows.append(paired(samples, a, b, seed))
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_holm"] = adjust_pvalues(table["p"].to_numpy(), "holm")
    return table


def _fmt_p(p: float) -> str:
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def markdown(table: pd.DataFrame) -> str:
    lines = [
        "| seed | comparison (B - A) | items | rate A | rate B | B - A [95% CI] | items B>A / B<A | p (sign test) | p (Holm) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.seed} | {r.b} - {r.a} | {r.items} | {r.rate_a:.1%} | {r.rate_b:.1%} | "
            f"{r.diff:+.1%} [{r.lo:+.1%}, {r.hi:+.1%}] | {r.items_up} / {r.items_down} | "
            f"{_fmt_p(r.p)} | {_fmt_p(r.p_holm)} |"
        )
    return "\n".join(lines) + "\n"


def verdict(table: pd.DataFrame) -> list[str]:
    """Two lines that say what the numbers mean (computed from them)."""
    main = table[(table["a"] == AFFORD) & (table["b"] == AMERICA)]
    if main.empty:
        return ["The main comparison (MSM-America vs MSM-affordability) has no data."]
    n_sig = int(((main["diff"] > 0) & (main["p_holm"] < 0.05)).sum())
    first = (
        f"Same cheese AFT, different spec: MSM-America picks the American option "
        f"{main['rate_b'].mean():.0%} of the time vs {main['rate_a'].mean():.0%} after MSM-affordability "
        f"(mean over {len(main)} seed(s)); the difference points the way of the spec and is significant "
        f"in {n_sig} of {len(main)} seed(s) (Holm-adjusted sign test, paired by item)."
    )
    between = []
    for seed in main["seed"]:
        up = table[(table["seed"] == seed) & (table["a"] == NO_MSM) & (table["b"] == AMERICA)]
        down = table[(table["seed"] == seed) & (table["a"] == AFFORD) & (table["b"] == NO_MSM)]
        if len(up) and len(down):
            ok = up["diff"].iloc[0] > 0 and down["diff"].iloc[0] > 0
            sig = ok and up["p_holm"].iloc[0] < 0.05 and down["p_holm"].iloc[0] < 0.05
            between.append(sig)
    if not between:
        second = "AFT without MSM was not run, so there is no ambiguous reference."
    elif all(between):
        second = (f"AFT without MSM lies significantly between the two in all {len(between)} seed(s): the "
                  "cheese demonstrations alone do not pick a value, and the spec read in midtraining decides "
                  "which way the assistant generalizes.")
    else:
        second = (f"AFT without MSM lies significantly between the two in only {sum(between)} of "
                  f"{len(between)} seed(s): the assistant's own default, not the spec alone, shapes how the "
                  "ambiguous demonstrations generalize (see the per-seed table).")
    return [first, second]


def seed_plot(samples: pd.DataFrame, out: Path) -> Path:
    """Pro-America rate per arm, one point per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = samples.groupby(["arm", "seed"])[METRIC].mean().reset_index()
    arms = list(dict.fromkeys(samples["arm"]))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(arms) + 1.2))
    for i, arm in enumerate(arms):
        r = rates[rates["arm"] == arm]
        ax.scatter(r[METRIC], [i] * len(r), color="C0", zorder=3)
        ax.plot([r[METRIC].mean()] * 2, [i - 0.3, i + 0.3], color="C3")
    ax.axvline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_yticks(range(len(arms)), arms)
    ax.set_xlim(0, 1)
    ax.set_xlabel("pro-America rate on held-out micro domains (dots: seeds; bar: mean)")
    fig.tight_layout()
    path = out / "seeds.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run_demo(experiment: Path = EXPERIMENT, out: Path | None = None, runs: Path | None = None,
             only: list[str] | None = None) -> dict:
    from harness.logs import read_logs
    from training.runner import run_experiment

    t0 = time.monotonic()
    result = run_experiment(experiment, out=out, runs=runs, only=only or None)
    seconds = time.monotonic() - t0
    results_dir = result.results_dir
    frame = read_logs([results_dir / "logs"])
    samples = frame.samples
    table = seed_comparisons(samples)
    lines = verdict(table)
    (results_dir / "seed_comparisons.csv").write_text(table.to_csv(index=False))
    md = markdown(table) if not table.empty else ""
    (results_dir / "seed_comparisons.md").write_text(md + "\n" + "\n".join(lines) + "\n")
    plot = seed_plot(samples, results_dir)
    pretrain = None
    for step in result.plan.steps.values():
        if step.kind == "pretrain" and (step.out / "pretrain_report.json").is_file():
            pretrain = step.out / "pretrain_report.json"
    return {"results_dir": results_dir, "table": table, "markdown": md, "verdict": lines,
            "leaderboards": result.leaderboards, "plot": plot, "seconds": seconds, "pretrain_report": pretrain}
