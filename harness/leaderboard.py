"""Leaderboards: which arms differ from the baseline, per task, with intervals and adjusted p.

`write_leaderboard` reads Inspect logs (`msm.harness.logs.read_logs`), builds the tables
(`build_tables`, which works on any sample frame and is what the benchmark times) and writes
them to ``out/``:

* ``leaderboard.md`` (also printed by ``msm leaderboard``), ``leaderboard.csv``: per task one
  row per group of ``by`` (e.g. spec and arm) with n (scored), unscored, rate, 95% interval
  and the interval method (clustered by item when items repeat across epochs), and, against
  the baseline, the difference with its interval, p, adjusted p (Holm by default, or
  Benjamini-Hochberg) and the test used;
* ``conditions.csv``: the same per condition level (agentic: scenario, goal value; probes:
  domain), with p adjusted within each task and factor;
* ``leaderboard.html``: tables and plots in one self-contained page;
* plots (PNG and SVG): ``forest``, ``rates``, and ``heatmap_<task>`` for tasks with a
  scenario x goal value grid.

Several metrics (``--metric aligned,lp_pref``), and the log-probability scores of
``scoring=logprob`` whenever the logs hold them (`COMPANIONS`), are shown beside the first in
one more table (``side_by_side``; each its own ``leaderboard_<metric>.csv``), each with its own
interval, difference and p adjusted within its task: the paper's generation rate and the
position-free preference read in one view.

The baseline is a value of the ``arm`` column (``--baseline aft_only``) or ``column=value``.
Each group is compared with the baseline group that shares its other ``by`` values; when the
baseline exists only once in a task (a base model without a spec, say) every group is
compared with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from msm.harness import report, stats
from msm.harness.errors import InputError, check_writable_dir, writable_dir
from msm.harness.logs import LogFrame, SkippedLog, read_logs, suggest_column, whole_samples
from msm.harness.reference import ReferenceRow, add_reference
from msm.harness.reference import display_columns as reference_display
from msm.harness.report import Page
from msm.harness.tables import Tables

CONDITION_FACTORS = ("scenario", "goal_value", "domain")
MISSING = "none"
COMPANIONS = ("lp_pref", "lp_logodds")
SIDE_NOTE = ("Each with its own 95% interval, difference from the baseline and p adjusted within "
             "its task (tables in leaderboard_<metric>.csv). lp_pref: the probability of the scored "
             "option with the position prior removed (0.5: no preference beyond position); "
             "lp_logodds: its log-odds, averaged over both option orders.")
"""Score fields shown beside the leaderboard's metric whenever the logs hold them
(`msm.tasks.values_generalization.logprob`: the position-free preference beside the generation rate)."""


@dataclass
class LeaderboardResult:
    out: Path
    tables: Tables
    markdown: str
    files: dict[str, Path]
    skipped: list[SkippedLog]
    beside: dict[str, Tables] = field(default_factory=dict)
    """The tables of the metrics shown beside the first (`COMPANIONS`, or ``--metric a,b``)."""
    side_by_side: pd.DataFrame | None = None

    @property
    def main(self) -> pd.DataFrame:
        """The main table: one row per task and group, with the comparisons when a baseline is set."""
        return self.tables.main

    @property
    def conditions(self) -> pd.DataFrame:
        """The rates per level of each condition factor."""
        return self.tables.conditions


def parse_baseline(baseline: str | None) -> tuple[str, str] | None:
    """``col=value`` (or a bare arm name) as (column, value); None for no baseline."""
    if baseline is None:
        return None
    col, sep, value = baseline.partition("=")
    return (col.strip(), value.strip()) if sep else ("arm", baseline.strip())


def _prepare(samples: pd.DataFrame, metric: str, by: Sequence[str], task: str | None,
             cluster: str = "sample_id", partly: int = 0) -> pd.DataFrame:
    if metric not in samples.columns:
        raise InputError(f"no score field '{metric}' in the logs{suggest_column(metric, samples, scores=True)}",
                         field="metric")
    missing = [c for c in by if c not in samples.columns]
    if missing:
        raise InputError(f"no column(s) {', '.join(missing)} in the logs{suggest_column(missing[0], samples)}",
                         field="by")
    if cluster not in samples.columns:
        raise InputError(f"no column '{cluster}' in the logs{suggest_column(cluster, samples)}", field="cluster")
    df = samples
    if task is not None:
        tasks = set(df["task"].unique())
        if task not in tasks:
            raise InputError(f"no task '{task}' in the logs (tasks: {', '.join(sorted(tasks))})",
                             field="task")
        df = df[df["task"] == task]
    has_metric = df.groupby("task")[metric].apply(lambda s: s.notna().any())
    keep = has_metric[has_metric].index
    if len(keep) == 0:
        why = _why_unscored(df, metric)
        if partly:
            why += (f" ({partly} scored epochs left out by the whole-sample rule, since other "
                    "epochs of their samples are unscored; --per-epoch counts them)")
        raise InputError(why, field="metric")
    df = df[df["task"].isin(keep)]
    cols = list(dict.fromkeys(["task", *by, cluster, "sample_id", metric]))
    df = df[cols].copy()
    for c in ["task", *by]:
        df[c] = _categorical(df[c])
    df["_item"] = pd.factorize(df[cluster])[0]  # the unit of clustering and of pairing
    return df


def _why_unscored(df: pd.DataFrame, metric: str) -> str:
    """One line on why no row has a `metric` score: errored samples, unscored judgments."""
    n = len(df)
    errored = int(df["error"].notna().sum()) if "error" in df else 0
    causes = []
    if errored:
        causes.append(f"{errored} errored")
    if n - errored:
        causes.append(f"{n - errored} unscored by the judge (it failed, refused, gave no "
                      "parseable answer, or no grader was configured)")
    logs = sorted(map(str, df["log"].unique())) if "log" in df else []
    where = (f"; see the score explanations: inspect view --log-dir {Path(logs[0]).parent}"
             if logs else "")
    return f"all {n} sample rows have no '{metric}' score: {', '.join(causes)}{where}"


def _categorical(s: pd.Series) -> pd.Series:
    """Grouping column as a categorical of strings (missing -> "none"): fast to group on."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = [str(u) for u in uniques]
    if (codes < 0).any():
        if MISSING not in labels:
            labels.append(MISSING)
        codes = np.where(codes < 0, labels.index(MISSING), codes)
    names = sorted(set(labels))
    remap = np.array([names.index(x) for x in labels], dtype=np.int64)
    return pd.Series(pd.Categorical.from_codes(remap[codes], categories=names), index=s.index)


def _baseline_lookup(groups: pd.DataFrame, fixed: list[str], by: list[str],
                     base: tuple[str, str]) -> list[tuple | None]:
    """For each group row, the key (fixed + by columns) of its baseline group, or None.

    The baseline must share the `fixed` columns (task, condition level); among the other `by`
    columns it matches as many as it can, and is used when that leaves exactly one group.
    """
    col, value = base
    cols = [*fixed, *by]
    records = [dict(zip(cols, key)) for key in groups[cols].itertuples(index=False, name=None)]
    bases = [r for r in records if r[col] == value]
    keys: list[tuple | None] = []
    for row in records:
        match = [b for b in bases if all(b[c] == row[c] for c in fixed)]
        if row[col] == value or not match:
            keys.append(None)
            continue
        for c in by:
            if c == col:
                continue
            narrowed = [b for b in match if b[c] == row[c]]
            if narrowed:
                match = narrowed
        keys.append(tuple(match[0][c] for c in cols) if len(match) == 1 else None)
    return keys


def _comparisons(df, groups, fixed, by, base, metric, *, pairing, exact, alpha, seed,
                 n_resamples):
    cols = [*fixed, *by]
    indices = df.groupby(cols, dropna=False, sort=True, observed=True).indices
    values = df[metric].to_numpy(dtype=float)
    items = df["_item"].to_numpy()
    keys = _baseline_lookup(groups, fixed, by, base)
    rows = []
    for row, bkey in zip(groups[cols].itertuples(index=False, name=None), keys):
        if bkey is None:
            rows.append({})
            continue
        a_idx, b_idx = indices[bkey], indices[row]
        c = stats.compare(values[a_idx], values[b_idx], items[a_idx], items[b_idx],
                          pairing=pairing, exact=exact, alpha=alpha, seed=seed,
                          n_resamples=n_resamples)
        rows.append({"baseline": " / ".join(str(v) for v in bkey[len(fixed):]), "diff": c.diff,
                     "diff_lo": c.lo, "diff_hi": c.hi, "p": c.p, "test": c.test,
                     "diff_interval": c.interval})
    return pd.DataFrame(rows, index=groups.index,
                        columns=["baseline", "diff", "diff_lo", "diff_hi", "p", "test", "diff_interval"])


def _adjust(table: pd.DataFrame, family: list[str], method: str) -> pd.Series:
    """Adjusted p within each family (rows sharing the `family` columns)."""
    keys = list(table[family].astype(str).itertuples(index=False, name=None))
    p = table["p"].to_numpy(dtype=float)
    adj = np.full(len(table), np.nan)
    for key in set(keys):
        idx = np.array([k == key for k in keys])
        adj[idx] = stats.adjust_pvalues(p[idx], method)
    return pd.Series(adj, index=table.index)


def build_tables(
    samples: pd.DataFrame,
    *,
    metric: str,
    baseline: str | None,
    by: Sequence[str] = ("arm",),
    task: str | None = None,
    cluster: str | None = None,
    adjust: stats.Adjust = "holm",
    pairing: stats.Pairing = "auto",
    exact: stats.Exact = "fisher",
    conditions: Sequence[str] | None = None,
    alpha: float = stats.ALPHA,
    interval: Literal["wilson", "clopper-pearson"] = "wilson",
    seed: int = 0,
    n_resamples: int = 9999,
    reference: Sequence[ReferenceRow] = (),
    per_epoch: bool = False,
) -> Tables:
    """The leaderboard tables from a sample frame (columns as `msm.harness.logs` writes them).

    Rates follow the tasks' whole-sample rule (`msm.harness.logs.whole_samples`: a sample unscored
    in any epoch is left out whole), so they equal the rates in the task's own log; with
    `per_epoch` every scored sample-epoch counts on its own.
    """
    by = list(by)
    partly = 0
    if not per_epoch and metric in samples.columns:
        before = int(samples[metric].isna().sum())
        samples = whole_samples(samples, metric, within=[c for c in ("task", *by) if c in samples])
        partly = int(samples[metric].isna().sum()) - before
    base = parse_baseline(baseline)
    if base is not None and base[0] not in by:
        by = [base[0], *by] if base[0] != "arm" else [*by, "arm"]
    cluster = cluster or "sample_id"
    df = _prepare(samples, metric, by, task, cluster, partly)
    if base is not None and not (df[base[0]] == base[1]).any():
        present = ", ".join(sorted(map(str, df[base[0]].unique())))
        raise InputError(f"no rows with {base[0]} = '{base[1]}' (present: {present})",
                         field="baseline")
    group_cols = ["task", *by]
    rule = ("scored sample-epochs (--per-epoch)" if per_epoch else
            "samples scored in every epoch, as the task counts them")
    notes = [(f"metric: {metric}; rates over {rule} (unscored counted apart); "
              f"95% intervals; clustered by '{cluster}' where it repeats")]
    if partly:
        notes.append(f"{partly} scored sample-epoch rows left out because another epoch of the "
                     "same sample is unscored (the whole-sample rule; --per-epoch keeps them)")
    main = stats.rate_table(df, metric, group_cols, cluster=cluster, alpha=alpha, method=interval)
    n_unscored = int(df[metric].isna().sum())
    if n_unscored:
        notes.append(f"warning: {n_unscored} of {len(df)} sample-epoch rows are unscored (a sample "
                     "that errored or a judge that refused or failed to answer); the rates leave "
                     "them out, so if the judge fails more often on one kind of answer a rate is "
                     "biased: check the unscored column before citing it")
    comparison = {"pairing": pairing, "exact": exact, "alpha": alpha, "seed": seed,
                  "n_resamples": n_resamples}
    if base is not None:
        comp = _comparisons(df, main, ["task"], by, base, metric, **comparison)
        main = pd.concat([main, comp], axis=1)
        main["p_adj"] = _adjust(main, ["task"], adjust)
        notes.append(f"differences: group - baseline ({base[0]} = {base[1]}); p adjusted by "
                     f"{'Holm' if adjust == 'holm' else 'Benjamini-Hochberg' if adjust == 'bh' else 'none'}"
                     " within each task")

    if reference:
        main, ref_notes = add_reference(main, reference, metric=metric, alpha=alpha)
        notes += ref_notes

    cond = _condition_tables(samples, df, conditions, by, base, metric, cluster=cluster,
                             interval=interval, adjust=adjust, comparison=comparison)
    grid = _grid_table(samples, df, by, metric, cluster=cluster, alpha=alpha, interval=interval)
    return Tables(main=main, conditions=cond, grid=grid, metric=metric, by=by, baseline=base,
                  adjust=adjust, notes=notes)


def _condition_tables(samples: pd.DataFrame, df: pd.DataFrame, conditions: Sequence[str] | None,
                      by: list[str], base: tuple[str, str] | None, metric: str, *, cluster: str,
                      interval: str, adjust: stats.Adjust, comparison: dict) -> pd.DataFrame:
    """Rates per level of each condition factor (the given columns, else the known factors
    present), with differences from the baseline adjusted within each task and factor."""
    if conditions is not None:
        unknown = [c for c in conditions if c not in samples.columns]
        if unknown:
            raise InputError(f"no column(s) {', '.join(unknown)} in the logs", field="conditions")
        factors = list(conditions)
    else:
        factors = [c for c in CONDITION_FACTORS if c in samples.columns]
    alpha = comparison["alpha"]
    cond_frames = []
    for factor in factors:
        levels = samples.loc[df.index, factor]
        has = levels.notna()
        if not has.any():
            continue
        fdf = df.loc[has].assign(factor=factor, level=_categorical(levels[has]))
        cols = ["task", "factor", "level", *by]
        t = stats.rate_table(fdf, metric, cols, cluster=cluster, alpha=alpha, method=interval)
        if base is not None:
            comp = _comparisons(fdf, t, ["task", "factor", "level"], by, base, metric, **comparison)
            t = pd.concat([t, comp], axis=1)
            t["p_adj"] = _adjust(t, ["task", "factor"], adjust)
        cond_frames.append(t)
    return pd.concat(cond_frames, ignore_index=True) if cond_frames else pd.DataFrame()


def _grid_table(samples: pd.DataFrame, df: pd.DataFrame, by: list[str], metric: str, *,
                cluster: str, alpha: float, interval: str) -> pd.DataFrame:
    """Rates per scenario and goal value (the agentic grid), empty for other tasks."""
    if not {"scenario", "goal_value"} <= set(samples.columns):
        return pd.DataFrame()
    sub = samples.loc[df.index, ["scenario", "goal_value"]]
    has = sub["scenario"].notna() & sub["goal_value"].notna()
    if not has.any():
        return pd.DataFrame()
    gdf = df.loc[has].assign(scenario=_categorical(sub.loc[has, "scenario"]),
                             goal_value=_categorical(sub.loc[has, "goal_value"]))
    return stats.rate_table(gdf, metric, ["task", *by, "scenario", "goal_value"],
                            cluster=cluster, alpha=alpha, method=interval)


# --------------------------------------------------------------------------- rendering


def _shares(t: pd.DataFrame) -> bool:
    """Whether a table's rates are shares (every rate and bound in [0, 1]): shown in percent
    and percentage points; other means (log-odds) as they are."""
    values = pd.concat([t[c] for c in ("rate", "lo", "hi") if c in t]).dropna()
    return bool(values.between(0, 1).all())


def _fmt_rate(r, lo, hi, percent: bool = True) -> str:
    if pd.isna(r):
        return "-"
    if percent:
        return f"{100 * r:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"
    return f"{r:.3f} [{lo:.3f}, {hi:.3f}]"


def _fmt_diff(d, lo, hi, percent: bool = True) -> str:
    if pd.isna(d):
        return ""
    if percent:
        return f"{100 * d:+.1f} pp [{100 * lo:+.1f}, {100 * hi:+.1f}]"
    return f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _fmt_p(p) -> str:
    if pd.isna(p):
        return ""
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def display_table(t: pd.DataFrame, lead: list[str]) -> pd.DataFrame:
    """The human-readable form of a table: formatted rates, differences and p-values."""
    out = t[lead].copy()
    out["n"] = t["n"]
    out["unscored"] = t["unscored"]
    pct = _shares(t)
    out["rate [95% CI]"] = [_fmt_rate(*r, pct) for r in zip(t["rate"], t["lo"], t["hi"])]
    out["interval"] = t["interval"]
    if "diff" in t:
        out["diff [95% CI]"] = [_fmt_diff(*r, pct) for r in zip(t["diff"], t["diff_lo"], t["diff_hi"])]
        out["p"] = t["p"].map(_fmt_p)
        out["p adj"] = t["p_adj"].map(_fmt_p)
        out["test"] = t["test"].fillna("")
    for name, values in reference_display(t).items():
        out[name] = values
    return out


def markdown_table(t: pd.DataFrame) -> str:
    """A frame as a Markdown table (NaN as an empty cell, '|' escaped)."""
    cols = [str(c) for c in t.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in t.itertuples(index=False):
        cells = ["" if (isinstance(v, float) and np.isnan(v)) else str(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def side_by_side(tables: Tables, beside: dict[str, Tables]) -> pd.DataFrame:
    """One row per group: each metric's value [95% CI], difference from the baseline [95% CI]
    and adjusted p, the first metric first."""
    keys = ["task", *tables.by]
    out = tables.main[keys].astype(str)
    for t in (tables, *beside.values()):
        m, main = t.metric, t.main
        part = main[keys].astype(str)
        pct = _shares(main)
        part[m] = [_fmt_rate(*r, pct) for r in zip(main["rate"], main["lo"], main["hi"])]
        if "diff" in main:
            part[f"{m} diff"] = [_fmt_diff(*r, pct) for r in zip(main["diff"], main["diff_lo"], main["diff_hi"])]
            part[f"{m} p adj"] = main["p_adj"].map(_fmt_p)
        out = out.merge(part, on=keys, how="left")
    return out


def render_markdown(tables: Tables, skipped: Sequence[SkippedLog] = (),
                    side: pd.DataFrame | None = None) -> str:
    """The leaderboard page: notes, skipped logs, the main table, the side-by-side table when
    given, then the table by condition."""
    parts = [f"## Leaderboard: {tables.metric}", ""]
    parts += [f"- {n}" for n in tables.notes]
    parts += [f"- left out {s.path} ({s.status}): {s.reason}" for s in skipped]
    parts += ["", markdown_table(display_table(tables.main, ["task", *tables.by]))]
    if side is not None:
        names = [c for c in side.columns if c not in ("task", *tables.by) and " " not in c]
        parts += ["", f"### Side by side: {', '.join(names)}", "",
                  SIDE_NOTE, "", markdown_table(side)]
    if not tables.conditions.empty:
        parts += ["", "### By condition", "",
                  markdown_table(display_table(tables.conditions, ["task", "factor", "level", *tables.by]))]
    return "\n".join(parts) + "\n"


def render_html(tables: Tables, skipped: Sequence[SkippedLog], svgs: dict[str, Path],
                side: pd.DataFrame | None = None, page: Page | None = None) -> str:
    """The self-contained, sortable page (`msm.harness.report`): verdict, table in the design order,
    plots, notes, a glossary of the metrics and arms, then the side and condition tables."""
    page = page or Page()
    lead = ["task", *tables.by]
    main = display_table(report.in_order(tables.main, tables.by[-1], tables.order), lead)
    notes = [*tables.notes, *(f"left out {s.path} ({s.status}): {s.reason}" for s in skipped)]
    sections = []
    if side is not None:
        sections.append(("Side by side", side))
    if not tables.conditions.empty:
        sections.append(("By condition", display_table(tables.conditions, ["task", "factor", "level", *tables.by])))
    metrics = [tables.metric, *(c for c in (side.columns if side is not None else []) if c in report.METRICS)]
    return report.render_page(
        f"Leaderboard: {tables.metric}", main, notes=notes, figures={**svgs, **page.images},
        metrics=metrics, arms=page.arms, verdict=page.verdict, sections=sections)


def write_tables(tables: Tables, out: Path, skipped: Sequence[SkippedLog] = (),
                 plots: bool = True, beside: dict[str, Tables] | None = None,
                 page: Page | None = None) -> tuple[str, dict[str, Path]]:
    """Write Markdown, CSV, plots and HTML for `tables` (and the metrics shown `beside` them)
    into `out`; returns (markdown, files)."""
    out = writable_dir(out, field="--out")
    files: dict[str, Path] = {}
    side = side_by_side(tables, beside) if beside else None
    md = render_markdown(tables, skipped, side)
    files["markdown"] = out / "leaderboard.md"
    files["markdown"].write_text(md)
    files["csv"] = out / "leaderboard.csv"
    tables.main.to_csv(files["csv"], index=False)
    if not tables.conditions.empty:
        files["conditions_csv"] = out / "conditions.csv"
        tables.conditions.to_csv(files["conditions_csv"], index=False)
    for name, t in (beside or {}).items():
        files[f"csv_{name}"] = out / f"leaderboard_{name}.csv"
        t.main.to_csv(files[f"csv_{name}"], index=False)
    svgs: dict[str, Path] = {}
    if plots:
        from msm.harness import plots as plotting

        for name, paths in plotting.leaderboard_plots(tables, out).items():
            files[f"{name}_png"], files[f"{name}_svg"] = paths
            svgs[name] = paths[1]
    files["html"] = out / "leaderboard.html"
    files["html"].write_text(render_html(tables, skipped, svgs, side, page))
    return md, files


def write_leaderboard(
    logs: Sequence[str | Path] | LogFrame,
    *,
    metric: str,
    baseline: str | None,
    by: Sequence[str],
    task: str | None,
    out: Path,
    cluster: str | None = None,
    adjust: stats.Adjust = "holm",
    pairing: stats.Pairing = "auto",
    exact: stats.Exact = "fisher",
    conditions: Sequence[str] | None = None,
    interval: Literal["wilson", "clopper-pearson"] = "wilson",
    plots: bool = True,
    reference: Sequence[ReferenceRow] = (),
    per_epoch: bool = False,
    order: Sequence[str] = (),
    page: Page | None = None,
) -> LeaderboardResult:
    """Read logs, build the leaderboard and write it (tables, plots, HTML) under `out`.

    `metric` may name several fields (``aligned,lp_pref``): the first is the leaderboard's, the
    others are shown beside it, as are `COMPANIONS` the logs hold. `order` lists the arms in
    the design order (the experiment's), for the plots and the page; `page` adds what the
    caller knows beyond the logs (arm descriptions, a verdict, images)."""
    check_writable_dir(out, field="--out")  # before the work: a bad place is one line
    frame = logs if isinstance(logs, LogFrame) else read_logs(logs)
    if frame.samples.empty:
        raise InputError("no samples in the logs that finished successfully"
                         + (f" ({len(frame.skipped)} left out)" if frame.skipped else ""), field="logs")
    first, *others = [m.strip() for m in metric.split(",") if m.strip()] or [metric]
    common = {"baseline": baseline, "by": by, "task": task, "cluster": cluster, "adjust": adjust,
              "pairing": pairing, "exact": exact, "interval": interval, "per_epoch": per_epoch}
    tables = build_tables(frame.samples, metric=first, conditions=conditions, reference=reference,
                          **common)
    tables.order = list(order)
    beside = {m: build_tables(frame.samples, metric=m, conditions=[], **common)
              for m in _beside(frame.samples, first, others, task)}
    md, files = write_tables(tables, Path(out), frame.skipped, plots=plots, beside=beside, page=page)
    return LeaderboardResult(out=Path(out), tables=tables, markdown=md, files=files,
                             skipped=frame.skipped, beside=beside,
                             side_by_side=side_by_side(tables, beside) if beside else None)


def _beside(samples: pd.DataFrame, first: str, others: list[str], task: str | None) -> list[str]:
    """The metrics to show beside `first`: those asked for, then the `COMPANIONS` scored in the
    logs (of `task`)."""
    rows = samples if task is None or "task" not in samples else samples[samples["task"] == task]
    found = [m for m in COMPANIONS if m in rows and rows[m].notna().any()]
    return list(dict.fromkeys(m for m in [*others, *found] if m != first))
