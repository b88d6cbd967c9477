"""Leaderboard plots (matplotlib, written as PNG and SVG).

* ``forest``: each group's difference from the named baseline in percentage points with its
  95% interval, a panel per task, significant differences (adjusted p < 0.05) filled;
* ``rates``: bars of the rate in percent per spec (or the first grouping column) and arm, with
  95% intervals and a line at 50%, a panel per task, the legend outside the data;
* ``heatmap_<task>``: for tasks with a scenario x goal value grid (agentic misalignment),
  the rate in each cell, one panel per group.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from msm.harness.tables import Tables

plt.rcParams["svg.hashsalt"] = "msm"  # stable SVG ids between runs
plt.rcParams["svg.fonttype"] = "none"  # text stays text: searchable and selectable on the page


def _save(fig, stem: Path) -> tuple[Path, Path]:
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png, dpi=130, bbox_inches="tight")
    fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return png, svg


def _label(row: pd.Series, cols: list[str]) -> str:
    return " / ".join(str(row[c]) for c in cols)


def ordered(labels: list[str], order: list[str] | None, first: str | None = None) -> list[str]:
    """`labels` in the design order: `first` (the baseline), then as `order` lists them (an
    experiment's arms as declared), then any others as they come."""
    rank = {name: i for i, name in enumerate(order or [])}
    out = sorted(dict.fromkeys(labels), key=lambda x: (x != first, rank.get(x, len(rank))))
    return out


def _baseline(tables: Tables) -> str | None:
    return tables.baseline[1] if tables.baseline else None


def _significant(row: pd.Series, alpha: float = 0.05) -> bool:
    p = row.get("p_adj", row.get("p"))
    return bool(pd.notna(p) and p < alpha)


def forest_plot(tables: Tables, stem: Path, order: list[str] | None = None) -> tuple[Path, Path] | None:
    """Differences from the named baseline in percentage points with 95% intervals, one panel
    per task, rows in the design order; filled marks are significant after adjustment."""
    main, by = tables.main, tables.by
    rows = main[main["diff"].notna()] if "diff" in main else main.iloc[0:0]
    if rows.empty:
        return None
    tasks = list(dict.fromkeys(rows["task"]))
    heights = [rows["task"].eq(t).sum() for t in tasks]
    fig, axes = plt.subplots(len(tasks), 1, squeeze=False, sharex=True,
                             figsize=(7.5, 0.42 * sum(heights) + 0.9 * len(tasks) + 0.6),
                             gridspec_kw={"height_ratios": heights})
    base = _baseline(tables)
    for ax, task in zip(axes[:, 0], tasks):
        t = rows[rows["task"] == task]
        labels = ordered([_label(r, by) for _, r in t.iterrows()], order)
        t = t.assign(_label=[_label(r, by) for _, r in t.iterrows()]).set_index("_label").loc[labels]
        y = np.arange(len(t))[::-1]
        diff, lo, hi = (100 * t[c].to_numpy(float) for c in ("diff", "diff_lo", "diff_hi"))
        err = np.clip(np.vstack([diff - lo, hi - diff]), 0, None)
        sig = np.array([_significant(r) for _, r in t.iterrows()])
        ax.errorbar(diff, y, xerr=err, fmt="none", ecolor="black", capsize=3)
        ax.scatter(diff[sig], y[sig], color="black", zorder=3, label="significant (adjusted p < 0.05)")
        ax.scatter(diff[~sig], y[~sig], facecolor="white", edgecolor="black", zorder=3,
                   label="not significant")
        ax.axvline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_yticks(y, list(t.index))
        ax.set_title(task, fontsize=10, loc="left")
    axes[-1, 0].set_xlabel(f"{tables.metric}: difference from {base or 'baseline'} "
                           "(percentage points, 95% CI)")
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    return _save(fig, stem)


def rate_bars(tables: Tables, stem: Path, order: list[str] | None = None) -> tuple[Path, Path] | None:
    """Rates in percent with 95% intervals, one panel per task: x = the first grouping column
    when there are two (spec), bars = the rest (arm) in the design order, the baseline first;
    a dashed line at 50% (an even split between two options); the legend outside the axes."""
    main, by = tables.main, tables.by
    if main.empty or main["rate"].notna().sum() == 0:
        return None
    tasks = list(dict.fromkeys(main["task"]))
    xcol = by[0] if len(by) > 1 else None
    hue = by[1:] if len(by) > 1 else by
    base = _baseline(tables)
    hues = ordered([_label(r, hue) for _, r in main.iterrows()], order, base)
    colours = {h: plt.get_cmap("tab10")(i % 10) for i, h in enumerate(hues)}
    fig, axes = plt.subplots(1, len(tasks), figsize=(max(5.5, 3.8 * len(tasks) + 2.5), 4.2),
                             squeeze=False)
    for ax, task in zip(axes[0], tasks):
        t = main[main["task"] == task]
        t = t.assign(_hue=[_label(r, hue) for _, r in t.iterrows()])
        xs = list(dict.fromkeys(t[xcol])) if xcol else [""]
        present = [h for h in hues if h in set(t["_hue"])]
        width = 0.8 / max(1, len(present))
        for j, h in enumerate(present):
            sel = t[t["_hue"] == h]
            pos, rate, lo, hi = [], [], [], []
            for i, x in enumerate(xs):
                cell = sel[sel[xcol] == x] if xcol else sel
                if cell.empty:
                    continue
                r = cell.iloc[0]
                pos.append(i + (j - (len(present) - 1) / 2) * width)
                rate.append(100 * r["rate"]), lo.append(100 * r["lo"]), hi.append(100 * r["hi"])
            rate, lo, hi = map(np.asarray, (rate, lo, hi))
            err = np.clip(np.vstack([rate - lo, hi - rate]), 0, None)
            name = f"{h} (baseline)" if h == base else h
            ax.bar(pos, rate, width=width, yerr=err, capsize=3, label=name, color=colours[h])
        ax.axhline(50, color="grey", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(xs)), xs if xcol else [task])
        if xcol:
            ax.set_xlabel(xcol)
        ax.set_ylim(0, 100)
        ax.set_title(task)
        ax.set_ylabel(f"{tables.metric} rate, % (95% CI)")
    handles, names = [], []
    for ax in axes[0]:  # every group once, in the design order, beside the last panel
        for handle, name in zip(*ax.get_legend_handles_labels()):
            if name not in names:
                handles.append(handle), names.append(name)
    rank = {f"{h} (baseline)" if h == base else h: i for i, h in enumerate(hues)}
    pairs = sorted(zip(names, handles), key=lambda nh: rank.get(nh[0], len(rank)))
    axes[0][-1].legend([h for _, h in pairs], [n for n, _ in pairs], fontsize=8,
                       loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return _save(fig, stem)


def heatmap(grid: pd.DataFrame, by: list[str], stem: Path, metric: str, task: str) -> tuple[Path, Path] | None:
    """Rate by scenario (rows) x goal value (columns), one panel per group of `by`."""
    g = grid[grid["task"] == task]
    if g.empty:
        return None
    groups = list(dict.fromkeys(_label(r, by) for _, r in g.iterrows()))
    scen = sorted(g["scenario"].unique())
    goals = sorted(g["goal_value"].unique())
    ncols = min(4, len(groups))
    nrows = -(-len(groups) // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(0.55 * len(goals) * ncols + 3, (0.45 * len(scen) + 1.2) * nrows + 0.5))
    flat = axes.ravel()
    for ax in flat[len(groups):]:
        ax.set_visible(False)
    im = None
    for n_ax, (ax, group) in enumerate(zip(flat, groups)):
        sel = g[[_label(r, by) == group for _, r in g.iterrows()]]
        mat = sel.pivot_table(index="scenario", columns="goal_value", values="rate", observed=True).reindex(
            index=scen, columns=goals)
        values = 100 * mat.to_numpy(dtype=float)
        im = ax.imshow(values, vmin=0, vmax=100, cmap="Reds", aspect="auto")
        for (i, j), v in np.ndenumerate(values):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.0f}%", ha="center", va="center", fontsize=7,
                        color="white" if v > 60 else "black")
        last_row = n_ax // ncols == nrows - 1 or n_ax + ncols >= len(groups)
        ax.set_xticks(range(len(goals)), goals if last_row else [""] * len(goals), rotation=45,
                      ha="right", fontsize=8)
        ax.set_yticks(range(len(scen)), scen if n_ax % ncols == 0 else [""] * len(scen), fontsize=8)
        ax.set_title(group, fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=flat[: len(groups)].tolist(), label=f"{metric} rate, %", shrink=0.8)
    return _save(fig, stem)


def leaderboard_plots(tables: Tables, out: Path) -> dict[str, tuple[Path, Path]]:
    """All plots for a leaderboard; returns {name: (png, svg)} for those that apply. Groups are
    drawn in the design order (`Tables.order`), the baseline first."""
    out = Path(out)
    order = tables.order
    made: dict[str, tuple[Path, Path]] = {}
    if (p := forest_plot(tables, out / "forest", order)) is not None:
        made["forest"] = p
    if (p := rate_bars(tables, out / "rates", order)) is not None:
        made["rates"] = p
    if not tables.grid.empty:
        for task in dict.fromkeys(tables.grid["task"]):
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", str(task))
            if (p := heatmap(tables.grid, tables.by, out / f"heatmap_{safe}", tables.metric, task)) is not None:
                made[f"heatmap_{safe}"] = p
    return made
