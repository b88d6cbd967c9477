"""``msm demo``: the cheese-to-values experiment in the CPU micro world, end to end, on every
shipped micro base.

Runs experiments/micro_cheese.yaml through the experiment runner. The file starts from the
micro bases shipped in ``training/micro/bases/`` (pretrained by this project's code with seeds
0, 1, 2, ..., as the paper starts from a released base model; ``--pretrain`` pretrains them
here instead), and seed s of every arm runs on base s, so the bases are the unit of
replication. MSM and AFT go through the real midtrain and AFT stages, the values-generalization
task through the batching msm-hf/ provider, then the project's leaderboard. The bases' shares
run in parallel worker processes (`msm.workers`), one per CPU.

Then the experiment's question. Five comparisons, each written B - A so that what the specs
should do is a positive difference in pro-America rate (`COMPARISONS`): MSM-America + AFT
above MSM-affordability + AFT, AFT only between the two, and each spec alone (MSM only) moving
the untouched base its own way. Each is tested per base, paired by item (the same held-out
pairs, each asked in both orders: an exact sign test on the item-level differences, a paired t
interval, Holm over every per-base test), and pooled over bases (the item differences in a
linear mixed model with the base as a random effect, `msm.harness.stats.pooled_paired_test`; Holm
over the pooled tests). The verdict gives each claim pooled and says on how many bases it
holds; it also says how much of the gap MSM alone makes (the MSM-only arms).

The screen shows one progress bar, then two tables (the main arms per base; each spec alone
per base), the verdict and where the full leaderboard, plots and logs are; ``--verbose`` shows
everything. Results go to ``runs/demo/`` (ignored by git) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd

from msm.harness import shipped
from msm.harness.fileio import write_text_atomic

EXPERIMENT = shipped("experiments") / "micro_cheese.yaml"
AMERICA, AFFORD, NO_MSM = "msm_america_aft", "msm_affordability_aft", "aft_only"
AMERICA_ONLY, AFFORD_ONLY = "msm_america_only", "msm_affordability_only"
BASE = "base"
DEMO_ARMS = (BASE, NO_MSM, AMERICA, AFFORD, AMERICA_ONLY, AFFORD_ONLY)
"""The arms the verdict reads, run by default (``--all-arms`` adds the file's ablations)."""
DEFAULT_OUT = Path("runs") / "demo"
"""Where ``msm demo`` writes by default: ignored by git, so the committed reference results
(results/micro_cheese/) change only when asked (``--out results/micro_cheese``)."""
METRIC = "america"
CLUSTER = "item_id"
ALPHA = 0.05

MAIN, BELOW_AMERICA, ABOVE_AFFORD = "America - affordability", "America - AFT only", "AFT only - affordability"
AMERICA_ALONE, AFFORD_ALONE = "America only - untouched", "untouched - affordability only"
COMPARISONS: tuple[tuple[str, str, str], ...] = (
    (AFFORD, AMERICA, MAIN),
    (NO_MSM, AMERICA, BELOW_AMERICA),
    (AFFORD, NO_MSM, ABOVE_AFFORD),
    (BASE, AMERICA_ONLY, AMERICA_ALONE),
    (AFFORD_ONLY, BASE, AFFORD_ALONE),
)
"""(A, B, label): B - A in pro-America rate, positive where the claim holds."""


def _seed_key(seed: str) -> tuple[int, str]:
    return (len(seed), seed)  # 2 before 10


def _item_rates(samples: pd.DataFrame, arm: str) -> pd.Series:
    """Pro-America rate per (seed, item) of one arm."""
    s = samples[samples["arm"] == arm]
    return s.groupby([s["seed"].astype(str), s[CLUSTER]])[METRIC].mean()


def differences(samples: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Item-level B - A on every base (seed) where both arms answered the item: columns seed,
    item, rate_a, rate_b, d."""
    ra, rb = _item_rates(samples, a), _item_rates(samples, b)
    common = ra.index.intersection(rb.index)
    out = pd.DataFrame({"seed": common.get_level_values(0), "item": common.get_level_values(1),
                        "rate_a": ra.loc[common].to_numpy(float), "rate_b": rb.loc[common].to_numpy(float)})
    out["d"] = out["rate_b"] - out["rate_a"]
    return out


def paired(g: pd.DataFrame) -> dict:
    """One base's B - A, paired by item: mean, paired t interval, exact sign test."""
    from scipy import stats as sps

    from msm.harness.stats import paired_t_interval

    d = g["d"].to_numpy(float)
    lo, hi = paired_t_interval(d) if len(d) > 1 else (float("nan"), float("nan"))
    pos, neg = int((d > 0).sum()), int((d < 0).sum())
    return {"items": len(d), "rate_a": float(g["rate_a"].mean()), "rate_b": float(g["rate_b"].mean()),
            "diff": float(d.mean()), "lo": lo, "hi": hi, "items_up": pos, "items_down": neg,
            "p": float(sps.binomtest(pos, pos + neg, 0.5).pvalue) if pos + neg else 1.0}


def _with_holm(rows: list[dict]) -> pd.DataFrame:
    from msm.harness.stats import adjust_pvalues

    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_holm"] = adjust_pvalues(table["p"].to_numpy(), "holm")
        table["holds"] = (table["diff"] > 0) & (table["p_holm"] < ALPHA)
    return table


def base_comparisons(samples: pd.DataFrame) -> pd.DataFrame:
    """Every comparison on every base, paired by item; Holm over all of them."""
    arms, rows = set(samples["arm"]), []
    for a, b, label in COMPARISONS:
        if {a, b} <= arms:
            diffs = differences(samples, a, b)
            for seed in sorted(diffs["seed"].unique(), key=_seed_key):
                rows.append({"seed": seed, "comparison": label, "a": a, "b": b,
                             **paired(diffs[diffs["seed"] == seed])})
    return _with_holm(rows)


def pooled_comparisons(samples: pd.DataFrame, per_base: pd.DataFrame) -> pd.DataFrame:
    """Every comparison pooled over bases (base as a random effect), Holm over them, with the
    number of bases on which it holds (per-base Holm-adjusted sign test)."""
    from msm.harness.stats import pooled_paired_test

    arms, rows = set(samples["arm"]), []
    for a, b, label in COMPARISONS:
        if {a, b} <= arms:
            diffs = differences(samples, a, b)
            if diffs.empty:
                continue
            test = pooled_paired_test(diffs["d"], diffs["seed"])
            mine = per_base[per_base["comparison"] == label]
            rows.append({"comparison": label, "a": a, "b": b, "bases": test["strata"],
                         "rate_a": float(diffs["rate_a"].mean()), "rate_b": float(diffs["rate_b"].mean()),
                         "diff": test["diff"], "lo": test["lo"], "hi": test["hi"], "p": test["p"],
                         "between_sd": test["between_sd"], "bases_up": int((mine["diff"] > 0).sum()),
                         "bases_holding": int(mine["holds"].sum())})
    return _with_holm(rows)


def aft_share(samples: pd.DataFrame) -> dict | None:
    """How much AFT adds to the gap MSM alone sets, pooled over bases: per item and base,
    (America + AFT - affordability + AFT) - (America only - affordability only)."""
    from msm.harness.stats import pooled_paired_test

    if not {AMERICA, AFFORD, AMERICA_ONLY, AFFORD_ONLY} <= set(samples["arm"]):
        return None
    gap_aft, gap_only = differences(samples, AFFORD, AMERICA), differences(samples, AFFORD_ONLY, AMERICA_ONLY)
    both = gap_aft.merge(gap_only, on=["seed", "item"], suffixes=("_aft", "_only"))
    if both.empty:
        return None
    test = pooled_paired_test(both["d_aft"] - both["d_only"], both["seed"])
    return {"gap_aft": float(both["d_aft"].mean()), "gap_only": float(both["d_only"].mean()),
            "america_only": float(both["rate_b_only"].mean()), "afford_only": float(both["rate_a_only"].mean()),
            "aft_adds": test["diff"], "lo": test["lo"], "hi": test["hi"], "bases": test["strata"]}


def _fmt_p(p: float) -> str:
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _row(table: pd.DataFrame, label: str) -> pd.Series | None:
    rows = table[table["comparison"] == label] if len(table) else table
    return rows.iloc[0] if len(rows) else None


def markdown(per_base: pd.DataFrame, pooled: pd.DataFrame) -> str:
    """Every per-base and pooled test as Markdown tables."""
    lines = [("| base | comparison (B - A) | items | rate A | rate B | B - A [95% CI] | items B>A / B<A | "
             "p (sign test) | p (Holm) |"), "|---|---|---|---|---|---|---|---|---|"]
    for r in per_base.itertuples():
        lines.append(f"| {r.seed} | {r.comparison} | {r.items} | {r.rate_a:.1%} | {r.rate_b:.1%} | "
                     f"{r.diff:+.1%} [{r.lo:+.1%}, {r.hi:+.1%}] | {r.items_up} / {r.items_down} | "
                     f"{_fmt_p(r.p)} | {_fmt_p(r.p_holm)} |")
    lines += ["", ("Pooled over bases (linear mixed model, base as a random effect, t with bases - 1 "
              "degrees of freedom; Holm over these tests):"), "",
              ("| comparison (B - A) | bases | rate A | rate B | B - A [95% CI] | between-base SD | "
              "p | p (Holm) | holds on bases |"), "|---|---|---|---|---|---|---|---|---|"]
    for r in pooled.itertuples():
        lines.append(f"| {r.comparison} | {r.bases} | {r.rate_a:.1%} | {r.rate_b:.1%} | "
                     f"{r.diff:+.1%} [{r.lo:+.1%}, {r.hi:+.1%}] | {r.between_sd:.1%} | {_fmt_p(r.p)} | "
                     f"{_fmt_p(r.p_holm)} | {r.bases_holding} of {r.bases} |")
    return "\n".join(lines) + "\n"


def _claim(r: pd.Series) -> str:
    """A pooled difference with its interval and Holm-adjusted p."""
    d, lo, hi = (r[k] + 0.0 for k in ("diff", "lo", "hi"))  # + 0.0: no "-0%"
    return f"{d:+.0%} [{lo:+.0%}, {hi:+.0%}], p {_fmt_p(r['p_holm'])}"


def verdict(per_base: pd.DataFrame, pooled: pd.DataFrame, share: dict | None = None) -> list[str]:
    """What the numbers show, in a few sentences computed from them: the two MSM + AFT arms
    against each other, AFT only against both, each spec alone, and what MSM alone does."""
    main = _row(pooled, MAIN)
    if main is None:
        return ["The main comparison (MSM-America + AFT vs MSM-affordability + AFT) has no data."]
    n = int(main["bases"])
    lines = [
        (f"Same cheese AFT, different spec read in midtraining: MSM-America + AFT picks the American "
        f"option {main['rate_b']:.0%} of the time, MSM-affordability + AFT {main['rate_a']:.0%}, a gap "
        f"of {_claim(main)} pooled over {n} base(s); it points the way of the spec on "
        f"{main['bases_up']} of {n}, significantly on {main['bases_holding']}.")
    ]
    lines.append(_aft_only_sentence(per_base, pooled, n))
    if (alone := _spec_alone_sentence(pooled, n)) is not None:
        lines.append(alone)
    lines.append(_share_sentence(share, bool(main["holds"])))
    return lines


def _aft_only_sentence(per_base: pd.DataFrame, pooled: pd.DataFrame, n: int) -> str:
    below, above = _row(pooled, BELOW_AMERICA), _row(pooled, ABOVE_AFFORD)
    if below is None or above is None:
        return "AFT only (no MSM) was not run, so there is no reference without a spec."
    per_seed = per_base[per_base["comparison"].isin([BELOW_AMERICA, ABOVE_AFFORD])]
    between = int(per_seed.groupby("seed")["holds"].all().sum())
    outside = [f"above MSM-America + AFT on {below['bases'] - below['bases_up']}"
               if below["bases_up"] < below["bases"] else "",
               f"below MSM-affordability + AFT on {above['bases'] - above['bases_up']}"
               if above["bases_up"] < above["bases"] else ""]
    outside = [o for o in outside if o]
    order = ("so MSM-America + AFT > AFT only > MSM-affordability + AFT, each step significant pooled"
             if below["holds"] and above["holds"] else "so the pooled order is not established at each step")
    return (f"AFT only (no MSM) sits at {above['rate_b']:.0%}: MSM-America + AFT lies {_claim(below)} "
            f"above it and MSM-affordability + AFT {_claim(above)} below it, {order}; it is "
            f"significantly between the two on {between} of {n} base(s)"
            + (f" (it lies {' and '.join(outside)})" if outside else "") + ".")


def _spec_alone_sentence(pooled: pd.DataFrame, n: int) -> str | None:
    america, afford = _row(pooled, AMERICA_ALONE), _row(pooled, AFFORD_ALONE)
    if america is None or afford is None:
        return None
    moved = [name for name, r in (("America", america), ("affordability", afford)) if r["holds"]]
    everywhere = america["bases_holding"] == afford["bases_holding"] == n
    end = {2: "both specs moved the assistant their own way" + (", on every base." if everywhere else
                                                                 " pooled, though not on every base."),
           1: f"only the {''.join(moved)} spec moved the assistant its way pooled, so the gap is "
              "mostly that spec's.",
           0: "neither spec moved the assistant significantly its way pooled."}[len(moved)]
    flipped = {**afford.to_dict(), "diff": -afford["diff"], "lo": -afford["hi"], "hi": -afford["lo"]}
    return (f"Each spec alone (MSM only) against the untouched base ({america['rate_a']:.0%}): America "
            f"{_claim(america)}, affordability {_claim(pd.Series(flipped))} pooled; each moved the "
            f"assistant its own way significantly on {america['bases_holding']} and "
            f"{afford['bases_holding']} of {n} base(s): {end}")


def _share_sentence(share: dict | None, gap: bool) -> str:
    if share is None:
        return ("The MSM-only arms were not run, so what MSM does without AFT is not separated from "
                "what AFT adds.")
    head = (f"MSM alone (no AFT): MSM-America {share['america_only']:.0%}, MSM-affordability "
            f"{share['afford_only']:.0%}, a gap of {share['gap_only']:+.0%} against {share['gap_aft']:+.0%} "
            f"after AFT (AFT's share {share['aft_adds']:+.1%} [{share['lo']:+.1%}, {share['hi']:+.1%}], "
            "pooled, paired by item)")
    if not (share["gap_aft"] > 0 and gap):
        return head + "; with no significant gap after AFT there is nothing for MSM to explain."
    if share["lo"] > 0:
        return head + (": AFT widens the gap the spec set, so the same demonstrations generalize "
                       "further in the spec's direction.")
    if share["gap_only"] > 0 and (share["hi"] < 0 or share["gap_only"] >= 0.5 * share["gap_aft"]):
        return head + (": MSM alone explains the gap. In this micro world the spec read in midtraining "
                       "sets the choice before any AFT"
                       + (", and AFT narrows the gap rather than widening it." if share["hi"] < 0
                          else ", and AFT adds no significant separation of its own."))
    return head + ": MSM alone makes a smaller gap, and AFT's own share is not significant."


def _rate(samples: pd.DataFrame, arm: str, seed: str | None = None) -> float | None:
    s = samples[samples["arm"] == arm]
    if seed is not None:
        s = s[s["seed"].astype(str) == seed]
    return float(s[METRIC].mean()) if len(s) else None


def _cell(rate: float | None, diff: float | None = None) -> str:
    if rate is None:
        return "-"
    return f"{rate:.1%}" + (f" ({diff:+.1%})" if diff is not None else "")


def main_table(samples: pd.DataFrame, per_base: pd.DataFrame, pooled: pd.DataFrame) -> str:
    """The main arms per base and pooled, then each spec alone against the untouched base."""
    seeds = sorted(samples.loc[samples["arm"] == AMERICA, "seed"].astype(str).unique(), key=_seed_key)
    size = int((samples["arm"] == AMERICA).sum() / max(len(seeds), 1))
    lines = [("| base | MSM-affordability + AFT | AFT only | MSM-America + AFT | "
             "America - affordability [95% CI] | p (Holm) |"), "|---|---|---|---|---|---|"]
    for seed in [*seeds, None]:
        cells = [_cell(_rate(samples, arm, seed)) for arm in (AFFORD, NO_MSM, AMERICA)]
        r = _row(pooled, MAIN) if seed is None else _row(per_base[per_base["seed"] == seed], MAIN)
        diff = "-" if r is None else f"{r['diff']:+.1%} [{r['lo']:+.1%}, {r['hi']:+.1%}]"
        lines.append(f"| {seed or 'pooled'} | {' | '.join(cells)} | {diff} | "
                     f"{'-' if r is None else _fmt_p(r['p_holm'])} |")
    if {BASE, AMERICA_ONLY, AFFORD_ONLY} <= set(samples["arm"]):
        lines += ["", "| base | untouched | MSM-America only | MSM-affordability only |", "|---|---|---|---|"]
        for seed in [*seeds, None]:
            rates = [_rate(samples, arm, seed) for arm in (BASE, AMERICA_ONLY, AFFORD_ONLY)]
            marks = []
            for label, rate in ((AMERICA_ALONE, rates[1]), (AFFORD_ALONE, rates[2])):
                r = _row(pooled if seed is None else per_base[per_base["seed"] == seed], label)
                star = "*" if r is not None and r["holds"] else ""
                marks.append(_cell(rate, None if rate is None or rates[0] is None else rate - rates[0]) + star)
            lines.append(f"| {seed or 'pooled'} | {_cell(rates[0])} | {' | '.join(marks)} |")
    return ("\n".join(lines) + f"\n\npro-America rate on held-out micro domains, {size} samples per arm and "
            "base; p and * (moved its way, p < 0.05): per base Holm-adjusted sign tests paired by item, "
            "pooled a mixed model with the base as a random effect\n")


def seed_plot(samples: pd.DataFrame, out: Path) -> Path:
    """Pro-America rate per arm, one point per base."""
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
    ax.set_xlabel("pro-America rate on held-out micro domains (dots: bases; bar: mean)")
    fig.tight_layout()
    path = out / "seeds.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def base_reports(plan) -> dict[str, dict]:
    """{seed: pretrain_report.json} of the untouched base every seed of the `base` arm used
    (a shipped base's folder, or the pretrain step's output)."""
    reports = {}
    for ev in plan.evaluations:
        if ev.arm != BASE:
            continue
        folder = Path(ev.base_model) if ev.base_model else plan.steps[ev.model_step].out
        if (folder / "pretrain_report.json").is_file():
            reports[str(ev.seed)] = json.loads((folder / "pretrain_report.json").read_text())
    return reports


def load_demo_experiment(experiment: Path, pretrain: bool = False):
    """The experiment file, validated; with `pretrain`, its micro bases are pretrained here
    instead of taken from the shipped ones (``base.shipped`` switched off)."""
    from msm.experiment import MicroBase, load_experiment
    from msm.harness.errors import InputError

    exp = load_experiment(experiment)
    if pretrain:
        if not isinstance(exp.base, MicroBase):
            raise InputError("--pretrain needs a micro base", file=experiment, field="base.micro")
        exp.base.shipped = False
    return exp


def run_demo(
    experiment: Path = EXPERIMENT,
    out: Path | None = None,
    runs: Path | None = None,
    only: list[str] | None = None,
    verbose: bool = False,
    pretrain: bool = False,
    all_arms: bool = False,
    workers: int | None = None,
) -> dict:
    """Run the experiment (results into `out`, default ``runs/demo``), then the per-base and
    pooled comparisons, the main tables, the verdict and the base plot.

    Without `only`, the arms the verdict reads (`DEMO_ARMS`; `all_arms`: every arm of the file,
    the ablations too). `workers` processes share the bases (default: one per CPU; 1: all in
    this process, as ``msm run``)."""
    from msm.harness.logs import read_logs
    from msm.runner import run_experiment
    from msm.workers import run_parts, seeds_of

    t0 = time.monotonic()
    exp = load_demo_experiment(experiment, pretrain)
    if not only and not all_arms:
        only = [arm for arm in DEMO_ARMS if arm in exp.arms] or None
    out = out or Path(exp.results or DEFAULT_OUT)  # where msm run and msm status look too
    # --verbose shows one process's work; no more workers than bases
    workers = 1 if verbose else min(workers or os.cpu_count() or 1, len(seeds_of(exp)))
    stopped = run_parts(exp, out, runs, only, workers)
    result = run_experiment(exp, out=out, runs=runs, only=only or None, verbose=verbose)
    seconds = time.monotonic() - t0
    results_dir = result.results_dir
    samples = read_logs([results_dir / "logs"], progress=False).samples
    per_base = base_comparisons(samples)
    pooled = pooled_comparisons(samples, per_base) if len(per_base) else per_base
    lines = verdict(per_base, pooled, aft_share(samples))
    reports = base_reports(result.plan)
    if stopped:
        lines.append(f"Note: {stopped}.")
    write_text_atomic(results_dir / "base_comparisons.csv",
                      pd.concat([per_base, pooled.assign(seed="pooled")]).to_csv(index=False))
    md = markdown(per_base, pooled) if len(per_base) else ""
    main = main_table(samples, per_base, pooled) if AMERICA in set(samples["arm"]) else ""
    write_text_atomic(results_dir / "base_comparisons.md", md + "\n" + "\n".join(lines) + "\n")
    plot = seed_plot(samples, results_dir)
    from msm.runner.evaluation import write_leaderboards

    write_leaderboards(result.plan, verdict=" ".join(lines), images={"seeds": plot})  # the page says it too
    return {
        "results_dir": results_dir,
        "table": per_base,
        "pooled": pooled,
        "markdown": md,
        "main_table": main,
        "verdict": lines,
        "leaderboards": result.leaderboards,
        "plot": plot,
        "seconds": seconds,
        "base_reports": reports,
        "shipped": bool(getattr(exp.base, "shipped", False)),
        "workers": workers,
        "run_log": result.run_log,
    }


def base_line(reports: dict[str, dict], shipped: bool) -> str | None:
    """One line on the bases: how many, where from, size, and how well each learned the route."""
    if not reports:
        return None
    first = next(iter(reports.values()))
    agree = ", ".join(f"{r['heldout_value_agreement_mean']:.0%}" for _, r in sorted(reports.items()))
    where = "shipped" if shipped else "pretrained here"
    return (f"micro bases: {len(reports)} {where} (seeds {', '.join(sorted(reports, key=_seed_key))}), "
            f"{first['parameters']:,} parameters, {first['trained_tokens']:,} tokens each; held-out "
            f"personas (descriptions only) choose by their value {agree} of the time.")


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

