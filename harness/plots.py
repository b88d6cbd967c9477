"""Leaderboard plots (matplotlib, written as PNG and SVG).

* ``forest``: each group's difference from the baseline with its 95% interval, per task;
* ``rates``: grouped bars of the rate per spec (or the first grouping column) and arm,
  with 95% interval error bars, per task;
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
    from harness.tables import Tables

plt.rcParams["svg.hashsalt"] = "msm"  # stable SVG ids between runs


def _save(fig, stem: Path) -> tuple[Path, Path]:
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png, dpi=130, bbox_inches="tight")
    fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return png, svg


def _label(row: pd.Series, cols: list[str]) -> str:
    return " / ".join(str(row[c]) for c in cols)


def forest_plot(main: pd.DataFrame, by: list[str], stem: Path, metric: str) -> tuple[Path, Path] | None:
    """Differences from the baseline with intervals; one block of rows per task."""
    rows = main[main["diff"].notna()] if "diff" in main else main.iloc[0:0]
    if rows.empty:
        return None
    labels = [f"{r['task']}: {_label(r, by)}" for _, r in rows.iterrows()]
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    err = np.vstack([rows["diff"] - rows["diff_lo"], rows["diff_hi"] - rows["diff"]])
    ax.errorbar(rows["diff"], y, xerr=np.clip(err, 0, None), fmt="o", color="black", capsize=3)
    ax.axvline(0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels)
    ax.set_xlabel(f"difference in {metric} rate from baseline (95% CI)")
    ax.set_title("Differences from baseline")
    return _save(fig, stem)


def rate_bars(main: pd.DataFrame, by: list[str], stem: Path, metric: str) -> tuple[Path, Path] | None:
    """Grouped bars: x = first grouping column (spec), bars = the rest (arm), per task."""
    if main.empty or main["rate"].notna().sum() == 0:
        return None
    tasks = list(dict.fromkeys(main["task"]))
    xcol = by[0] if len(by) > 1 else None
    hue = by[1:] if len(by) > 1 else by
    fig, axes = plt.subplots(1, len(tasks), figsize=(max(5, 3.5 * len(tasks) + 2), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        t = main[main["task"] == task]
        xs = list(dict.fromkeys(t[xcol])) if xcol else [""]
        hues = list(dict.fromkeys(_label(r, hue) for _, r in t.iterrows()))
        width = 0.8 / max(1, len(hues))
        for j, h in enumerate(hues):
            sel = t[[_label(r, hue) == h for _, r in t.iterrows()]]
            pos, rate, lo, hi = [], [], [], []
            for i, x in enumerate(xs):
                cell = sel[sel[xcol] == x] if xcol else sel
                if cell.empty:
                    continue
                r = cell.iloc[0]
                pos.append(i + (j - (len(hues) - 1) / 2) * width)
                rate.append(r["rate"]), lo.append(r["lo"]), hi.append(r["hi"])
            rate, lo, hi = map(np.asarray, (rate, lo, hi))
            err = np.clip(np.vstack([rate - lo, hi - rate]), 0, None)
            ax.bar(pos, rate, width=width, yerr=err, capsize=3, label=h)
        ax.set_xticks(range(len(xs)), xs)
        ax.set_ylim(0, 1)
        ax.set_title(task)
        ax.set_ylabel(f"{metric} rate (95% CI)")
    axes[0][-1].legend(fontsize=8, loc="best")
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
        im = ax.imshow(mat.to_numpy(dtype=float), vmin=0, vmax=1, cmap="Reds", aspect="auto")
        for (i, j), v in np.ndenumerate(mat.to_numpy(dtype=float)):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 else "black")
        last_row = n_ax // ncols == nrows - 1 or n_ax + ncols >= len(groups)
        ax.set_xticks(range(len(goals)), goals if last_row else [""] * len(goals), rotation=45,
                      ha="right", fontsize=8)
        ax.set_yticks(range(len(scen)), scen if n_ax % ncols == 0 else [""] * len(scen), fontsize=8)
        ax.set_title(group, fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=flat[: len(groups)].tolist(), label=f"{metric} rate", shrink=0.8)
    return _save(fig, stem)


def leaderboard_plots(tables: Tables, out: Path) -> dict[str, tuple[Path, Path]]:
    """All plots for a leaderboard; returns {name: (png, svg)} for those that apply."""
    out = Path(out)
    made: dict[str, tuple[Path, Path]] = {}
    if (p := forest_plot(tables.main, tables.by, out / "forest", tables.metric)) is not None:
        made["forest"] = p
    if (p := rate_bars(tables.main, tables.by, out / "rates", tables.metric)) is not None:
        made["rates"] = p
    if not tables.grid.empty:
        for task in dict.fromkeys(tables.grid["task"]):
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", str(task))
            if (p := heatmap(tables.grid, tables.by, out / f"heatmap_{safe}", tables.metric, task)) is not None:
                made[f"heatmap_{safe}"] = p
    return made
