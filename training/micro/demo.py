"""``msm demo``: the cheese-to-values experiment in the CPU micro world, end to end.

Runs experiments/micro_cheese.yaml through the experiment runner (micro pretraining once and
cached, MSM and AFT through the real midtrain and AFT stages, the values-generalization task
through the batching msm-hf/ provider, the project's leaderboard), then the experiment's own
question, seed by seed: with identical AFT, do MSM-America and MSM-affordability differ in
pro-America rate, and where does AFT without MSM fall? Each comparison is paired by item (the
same held-out pairs, each asked in both orders): an exact sign test on the item-level
differences (p), a paired t interval for the difference, and Holm-adjusted p-values over all
of them. The verdict also says what MSM alone does (the MSM-only arms): whether AFT widens the
gap the spec set or MSM alone explains it.

The screen shows one progress bar, then the main table (the three main arms per seed), the
verdict and where the full leaderboard, plots and logs are; ``--verbose`` shows everything.
Results go to ``runs/demo/`` (ignored by git) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from harness import REPO_ROOT
from harness.fileio import write_text_atomic

EXPERIMENT = REPO_ROOT / "experiments" / "micro_cheese.yaml"
AMERICA, AFFORD, NO_MSM = "msm_america_aft", "msm_affordability_aft", "aft_only"
AMERICA_ONLY, AFFORD_ONLY = "msm_america_only", "msm_affordability_only"
BASE = "base"
DEFAULT_OUT = Path("runs") / "demo"
"""Where ``msm demo`` writes by default: ignored by git, so the committed reference results
(results/micro_cheese/) change only when asked (``--out results/micro_cheese``)."""
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
    return {
        "seed": seed,
        "a": a,
        "b": b,
        "items": len(items),
        "rate_a": float(ra.loc[items].mean()),
        "rate_b": float(rb.loc[items].mean()),
        "diff": float(d.mean()) if len(d) else float("nan"),
        "lo": lo,
        "hi": hi,
        "items_up": pos,
        "items_down": neg,
        "p": float(p),
    }


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


def _rate(samples: pd.DataFrame, arm: str, seed: object) -> float | None:
    s = samples[(samples["arm"] == arm) & (samples["seed"].astype(str) == str(seed))]
    return float(s[METRIC].mean()) if len(s) else None


def msm_alone(samples: pd.DataFrame) -> list[dict]:
    """Per seed that has the MSM-only arms: how much of the MSM + AFT gap MSM alone makes.

    Difference in differences, paired by item: d_i = (America + AFT - affordability + AFT)
    - (America only - affordability only) in pro-America rate, with a paired t interval."""
    from harness.stats import paired_t_interval

    rows = []
    seeds = sorted(samples.loc[samples["arm"] == AMERICA_ONLY, "seed"].astype(str).unique())
    for seed in seeds:

        def items(arm: str, seed: str = seed) -> pd.Series:
            s = samples[(samples["arm"] == arm) & (samples["seed"].astype(str) == seed)]
            return s.groupby(CLUSTER)[METRIC].mean()

        arms = (AMERICA, AFFORD, AMERICA_ONLY, AFFORD_ONLY)
        rates = [items(a) for a in arms]
        if any(r.empty for r in rates):
            continue
        common = rates[0].index
        for r in rates[1:]:
            common = common.intersection(r.index)
        am, af, am0, af0 = (r.loc[common].to_numpy(float) for r in rates)
        dd = (am - af) - (am0 - af0)
        lo, hi = paired_t_interval(dd) if len(dd) > 1 else (float("nan"), float("nan"))
        rows.append(
            {
                "seed": seed,
                "america_aft": am.mean(),
                "afford_aft": af.mean(),
                "america_only": am0.mean(),
                "afford_only": af0.mean(),
                "gap_aft": (am - af).mean(),
                "gap_only": (am0 - af0).mean(),
                "aft_adds": dd.mean(),
                "lo": lo,
                "hi": hi,
            }
        )
    return rows


def verdict(table: pd.DataFrame, samples: pd.DataFrame | None = None) -> list[str]:
    """What the numbers show, in a few sentences computed from them: the two MSM + AFT arms
    against each other, AFT only against both, and what MSM alone does."""
    main = table[(table["a"] == AFFORD) & (table["b"] == AMERICA)] if len(table) else table
    if main.empty:
        return ["The main comparison (MSM-America + AFT vs MSM-affordability + AFT) has no data."]
    n = len(main)
    n_sig = int(((main["diff"] > 0) & (main["p_holm"] < 0.05)).sum())
    rate_b, rate_a, up = main["rate_b"].mean(), main["rate_a"].mean(), int((main["diff"] > 0).sum())
    lines = [
        (
            "Same cheese AFT, different spec read in midtraining: MSM-America + AFT picks the "
            f"American option {rate_b:.0%} of the time, MSM-affordability + AFT {rate_a:.0%} (mean "
            f"of {n} seed(s)); the gap points the way of the spec in {up} of {n} seed(s), "
            f"significantly in {n_sig} (Holm-adjusted sign test, paired by item)."
        )
    ]
    between, no_msm, above, below = [], [], [], []
    for seed in main["seed"]:
        up = table[(table["seed"] == seed) & (table["a"] == NO_MSM) & (table["b"] == AMERICA)]
        down = table[(table["seed"] == seed) & (table["a"] == AFFORD) & (table["b"] == NO_MSM)]
        if len(up) and len(down):
            no_msm.append(up["rate_a"].iloc[0])
            ok = up["diff"].iloc[0] > 0 and down["diff"].iloc[0] > 0
            between.append(ok and up["p_holm"].iloc[0] < 0.05 and down["p_holm"].iloc[0] < 0.05)
            # outside the two: AFT only above MSM-America + AFT, or below MSM-affordability + AFT
            above.append((up["diff"].iloc[0] < 0, up["diff"].iloc[0] < 0 and up["p_holm"].iloc[0] < 0.05))
            below.append((down["diff"].iloc[0] < 0, down["diff"].iloc[0] < 0 and down["p_holm"].iloc[0] < 0.05))
    if between:
        mean = sum(no_msm) / len(no_msm)
        if all(between):
            lines.append(
                f"AFT only (no MSM) sits at {mean:.0%}, significantly between the two in all "
                f"{len(between)} seed(s): the cheese demonstrations alone do not pick a value."
            )
        else:
            outside = []
            for label, side in (("above MSM-America + AFT", above), ("below MSM-affordability + AFT", below)):
                if n_out := sum(out for out, _ in side):
                    outside.append(f"{label} in {n_out} of {len(side)} seed(s) "
                                   f"(significantly in {sum(sig for _, sig in side)})")
            lines.append(
                f"AFT only (no MSM) sits at {mean:.0%}, significantly between the two in only "
                f"{sum(between)} of {len(between)} seed(s)"
                + (f"; it lies {' and '.join(outside)}" if outside else "")
                + " (see the per-seed table)."
            )
    else:
        lines.append("AFT only (no MSM) was not run, so there is no reference without a spec.")
    alone = msm_alone(samples) if samples is not None else []
    if not alone:
        lines.append(
            "The MSM-only arms were not run, so what MSM does without AFT is not separated "
            "from what AFT adds."
        )
        return lines
    r = alone[0]
    head = (
        f"MSM alone (seed {r['seed']}, no AFT): MSM-America {r['america_only']:.0%}, "
        f"MSM-affordability {r['afford_only']:.0%}, a gap of {r['gap_only']:+.0%} against "
        f"{r['gap_aft']:+.0%} after AFT (AFT's share {r['aft_adds']:+.1%} "
        f"[{r['lo']:+.1%}, {r['hi']:+.1%}], paired by item)"
    )
    if not (r["gap_aft"] > 0 and n_sig):
        lines.append(
            head + "; with no significant gap after AFT there is nothing for MSM to explain."
        )
    elif r["lo"] > 0:
        lines.append(
            head + ": AFT widens the gap the spec set, so the same demonstrations generalize "
            "further in the spec's direction."
        )
    elif r["gap_only"] > 0 and (r["hi"] < 0 or r["gap_only"] >= 0.5 * r["gap_aft"]):
        lines.append(
            head + ": MSM alone explains the gap. In this micro world the spec read in "
            "midtraining sets the choice before any AFT"
            + (
                ", and AFT narrows the gap rather than widening it."
                if r["hi"] < 0
                else ", and AFT adds no significant separation of its own."
            )
        )
    else:
        lines.append(
            head + ": MSM alone makes a smaller gap, and AFT's own share is not significant."
        )
    if each := each_spec_alone(samples, r["seed"]):
        lines.append(each)
    return lines


def each_spec_alone(samples: pd.DataFrame, seed: object) -> str | None:
    """Each MSM-only arm against the untouched base (same seed, paired by item, Holm over the
    two sign tests): did each spec move the assistant its own way? A gap can come from one spec
    alone (measured: on one base the America spec moved the assistant +24 points and the
    affordability spec not at all), which the gap between the arms does not show."""
    from harness.stats import adjust_pvalues

    if _rate(samples, BASE, seed) is None:
        return None
    america, afford = paired(samples, BASE, AMERICA_ONLY, seed), paired(samples, BASE, AFFORD_ONLY, seed)
    p_am, p_af = adjust_pvalues([america["p"], afford["p"]], "holm")
    moved = {"America": america["diff"] > 0 and p_am < 0.05, "affordability": afford["diff"] < 0 and p_af < 0.05}
    which = [name for name, ok in moved.items() if ok]
    end = {2: "both specs moved the assistant their own way.",
           1: f"only the {''.join(which)} spec moved the assistant its way, so the gap is that spec's.",
           0: "neither spec moved the assistant significantly its way."}[len(which)]
    return (
        f"Each spec alone against the untouched base ({america['rate_a']:.0%}): America "
        f"{america['diff']:+.0%} (p {_fmt_p(p_am)}), affordability {afford['diff']:+.0%} "
        f"(p {_fmt_p(p_af)}; Holm-adjusted sign tests, paired by item): {end}"
    )


def main_table(samples: pd.DataFrame, table: pd.DataFrame) -> str:
    """The three main arms per seed, with the main comparison (a Markdown table)."""
    seeds = sorted(samples.loc[samples["arm"] == AMERICA, "seed"].astype(str).unique())
    n = samples[samples["arm"] == AMERICA].groupby(samples["seed"].astype(str)).size()
    lines = [
        (
            "| seed | MSM-affordability + AFT | AFT only | MSM-America + AFT | "
            "America - affordability [95% CI] | p (sign test, Holm) |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for seed in seeds:
        cells = []
        for arm in (AFFORD, NO_MSM, AMERICA):
            rate = _rate(samples, arm, seed)
            cells.append("-" if rate is None else f"{rate:.1%}")
        row = table[
            (table["seed"].astype(str) == seed) & (table["a"] == AFFORD) & (table["b"] == AMERICA)
        ]
        if len(row):
            r = row.iloc[0]
            diff = f"{r['diff']:+.1%} [{r['lo']:+.1%}, {r['hi']:+.1%}]"
            p = _fmt_p(r["p_holm"])
        else:
            diff = p = "-"
        lines.append(f"| {seed} | {' | '.join(cells)} | {diff} | {p} |")
    size = int(n.iloc[0]) if len(n) else 0
    return (
        "\n".join(lines)
        + f"\n\npro-America rate on held-out micro domains, {size} samples per arm and seed\n"
    )


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


BASE_ROUTE_MIN = 0.75
"""Below this share of held-out personas (known only from descriptions) choosing by their value,
overall or for america or affordability, a base has not learned the description-to-choice
route that MSM relies on. Measured: bases at 80-88% gave the effect; one at 59% (america 74%)
gave a small one with AFT only not between the arms, and one pretrained 1500 steps (america
66%) none (results/micro_cheese/README.md). Passing is necessary, not sufficient: a base at
84% (america 100%, affordability 82%) answered the America spec and not the affordability one."""


def base_check(report: dict) -> str | None:
    """A caution line when the pretrained base learned the description-to-choice route weakly
    (`pretrain_report.json`), or None."""
    by_value = report.get("heldout_value_agreement_by_value", {})
    mean = report.get("heldout_value_agreement_mean")
    weak = {k: v for k, v in by_value.items() if k in ("america", "affordability") and v < BASE_ROUTE_MIN}
    if mean is None or (mean >= BASE_ROUTE_MIN and not weak):
        return None
    parts = ", ".join(f"{k} {v:.0%}" for k, v in sorted(by_value.items()) if k in ("america", "affordability"))
    return (f"Caution: this base learned weakly how a speaker known only from descriptions chooses "
            f"(held-out personas follow their value {mean:.0%} of the time; {parts}; below "
            f"{BASE_ROUTE_MIN:.0%} counts as weak). MSM acts through that route, so small or no "
            f"effects here say more about the base than about the specs.")


def run_demo(
    experiment: Path = EXPERIMENT,
    out: Path | None = None,
    runs: Path | None = None,
    only: list[str] | None = None,
    verbose: bool = False,
) -> dict:
    """Run the experiment (results into `out`, default ``runs/demo``), then the per-seed
    comparisons, the main table, the verdict and the seed plot."""
    from harness.logs import read_logs
    from training.runner import run_experiment

    t0 = time.monotonic()
    result = run_experiment(
        experiment, out=out or DEFAULT_OUT, runs=runs, only=only or None, verbose=verbose
    )
    seconds = time.monotonic() - t0
    results_dir = result.results_dir
    frame = read_logs([results_dir / "logs"], progress=False)
    samples = frame.samples
    table = seed_comparisons(samples)
    lines = verdict(table, samples)
    pretrain = None
    for step in result.plan.steps.values():
        if step.kind == "pretrain" and (step.out / "pretrain_report.json").is_file():
            pretrain = step.out / "pretrain_report.json"
    if pretrain is not None and (caution := base_check(json.loads(pretrain.read_text()))):
        lines.append(caution)
    write_text_atomic(results_dir / "seed_comparisons.csv", table.to_csv(index=False))
    md = markdown(table) if not table.empty else ""
    main = main_table(samples, table) if AMERICA in set(samples["arm"]) else ""
    write_text_atomic(results_dir / "seed_comparisons.md", md + "\n" + "\n".join(lines) + "\n")
    plot = seed_plot(samples, results_dir)
    return {
        "results_dir": results_dir,
        "table": table,
        "markdown": md,
        "main_table": main,
        "verdict": lines,
        "leaderboards": result.leaderboards,
        "plot": plot,
        "seconds": seconds,
        "pretrain_report": pretrain,
        "run_log": result.run_log,
    }


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
