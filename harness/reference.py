"""Published rates beside measured ones: ``reference:`` rows and their test in the leaderboard.

An experiment file may carry the rates a paper reports for its arms::

    reference:
      - {arm: released_msm_aft, task: agentic_misalignment, metric: harmful, rate: 0.07,
         source: "MSM paper, Fig. 1: Qwen3-32B, philosophy spec, MSM + AFT without CoT"}

`add_reference` adds to a leaderboard table, for each row a reference names, the published
rate (and its n when known), an exact binomial test of the measured count against the
published rate (scipy's ``binomtest``; two-sided), the exact (Clopper-Pearson) interval of the
measured rate, and ``consistent``: ``yes`` when p >= alpha, ``NO`` when the measured rate is
inconsistent with the published one. When samples repeat within clusters (epochs of the same
condition) the test uses the design-effect adjusted size (``n_eff`` of `msm.harness.stats.rate_table`)
so repeated rollouts are not counted as independent evidence.

The test treats the published rate as exact; with a published n the published rate has its own
uncertainty, so a ``NO`` on a small published n is weaker evidence than it looks (said in the
leaderboard's notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from msm.harness.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

ALPHA = 0.05


class ReferenceRow(BaseModel):
    """One published number: the rate an arm reached on a task's metric."""

    model_config = ConfigDict(extra="forbid")

    arm: str
    task: str
    """The task label as the experiment lists it (e.g. ``agentic_misalignment``)."""
    metric: str | None = None
    """The score field (default: the task entry's metric)."""
    rate: float = Field(ge=0, le=1)
    """The published rate, as a fraction (0.54, not 54)."""
    n: int | None = Field(default=None, gt=0)
    """The published number of samples, when the source gives it."""
    source: str = ""
    """Where the number comes from (paper, figure or table, setting)."""


REFERENCE_COLUMNS = ["published", "published_n", "ref_p", "ref_lo", "ref_hi", "consistent"]


def load_reference(path: Path | str) -> list[ReferenceRow]:
    """Published rates from a YAML or JSON file (``msm leaderboard --reference``): a list of
    rows, or a mapping whose ``reference:`` key holds them (an experiment file works as it is).
    Bad input is one `InputError` naming the file and the row's field."""
    from pydantic import ValidationError

    from msm.harness.yamlfile import read_yaml

    data = read_yaml(path, what="reference file (YAML or JSON)")
    prefix = ""
    if isinstance(data, dict) and "reference" in data:
        data, prefix = data["reference"], "reference."
    if not isinstance(data, list) or not data:
        raise InputError("expected a list of rows with arm, task, rate (and metric, n, source)",
                         file=path, field=prefix.rstrip(".") or None)
    rows = []
    for i, raw in enumerate(data):
        try:
            rows.append(ReferenceRow.model_validate(raw))
        except ValidationError as ex:
            err = ex.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            raise InputError(message, file=path, field=f"{prefix}{i}" + (f".{loc}" if loc else "")) from None
    return rows


def check_rows(
    rows: Sequence[ReferenceRow], arms: Sequence[str], tasks: Sequence[str], file: Path | str
) -> None:
    """Each row names an arm and a task of the experiment; one row per (arm, task, metric)."""
    seen: set[tuple[str, str, str | None]] = set()
    for i, row in enumerate(rows):
        if row.arm not in arms:
            raise InputError(
                f"no arm named '{row.arm}' (arms: {', '.join(arms)})",
                file=file,
                field=f"reference.{i}.arm",
            )
        if row.task not in tasks:
            raise InputError(
                f"no task '{row.task}' in tasks (tasks: {', '.join(tasks) or 'none'})",
                file=file,
                field=f"reference.{i}.task",
            )
        key = (row.arm, row.task, row.metric)
        if key in seen:
            raise InputError(
                f"a second row for arm '{row.arm}' on '{row.task}'",
                file=file,
                field=f"reference.{i}",
            )
        seen.add(key)


def binomial_check(k: float, n: float, published: float, alpha: float = ALPHA) -> dict[str, Any]:
    """Exact binomial test of k successes in n against the published rate, and the exact
    interval of k / n. k and n are rounded to whole samples (design-effect adjusted counts are
    fractional)."""
    from scipy.stats import binomtest

    n_i = round(float(n))
    if n_i < 1:
        return {"ref_p": np.nan, "ref_lo": np.nan, "ref_hi": np.nan, "consistent": ""}
    k_i = min(max(round(float(k)), 0), n_i)
    res = binomtest(k_i, n_i, published, alternative="two-sided")
    ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
    return {
        "ref_p": float(res.pvalue),
        "ref_lo": float(ci.low),
        "ref_hi": float(ci.high),
        "consistent": "yes" if res.pvalue >= alpha else "NO",
    }


def add_reference(
    main: pd.DataFrame,
    rows: Sequence[ReferenceRow],
    *,
    metric: str,
    alpha: float = ALPHA,
) -> tuple[pd.DataFrame, list[str]]:
    """`main` with the reference columns for the rows whose (arm, task, metric) it holds, and
    the notes to print. Rows for another metric are left out; a row whose arm has no measured
    rate in the table is said in a note."""
    out = main.copy()
    for col in REFERENCE_COLUMNS:
        out[col] = np.nan if col not in {"consistent"} else ""
    out["published_n"] = pd.array([pd.NA] * len(out), dtype="Int64")
    notes: list[str] = []
    if "arm" not in out.columns:
        if rows:
            notes.append("reference rows left out: the table is not grouped by arm")
        return out, notes
    used = 0
    for row in rows:
        if (row.metric or metric) != metric:
            continue
        hit = (out["arm"].astype(str) == row.arm) & (out["task"].astype(str) == row.task)
        if not hit.any():
            notes.append(f"reference for arm '{row.arm}' on {row.task}: no measured rate yet")
            continue
        for idx in out.index[hit]:
            r = out.loc[idx]
            n = r["n_eff"] if bool(r.get("clustered", False)) else r["n"]
            k = r["rate"] * n if pd.notna(r["rate"]) else 0.0
            check = binomial_check(k, n, row.rate, alpha)
            out.loc[idx, "published"] = row.rate
            if row.n is not None:
                out.loc[idx, "published_n"] = row.n
            for col, value in check.items():
                out.loc[idx, col] = value
            used += 1
    if used:
        notes.append(
            "published: the rate the source reports; p: exact binomial test of the measured "
            "count against it (two-sided; at the design-effect adjusted n where samples repeat "
            f"within clusters); consistent: p >= {alpha}; interval: exact (Clopper-Pearson) "
            "interval of the measured rate. The published rate is taken as exact, so with a "
            "small published n a NO is weaker evidence than it looks"
        )
        flagged = out.loc[out["consistent"] == "NO"]
        for _, r in flagged.iterrows():
            notes.append(
                f"warning: arm {r['arm']} on {r['task']} measured {100 * r['rate']:.1f}%, "
                f"inconsistent with the published {100 * r['published']:.1f}% (p = {r['ref_p']:.2g})"
            )
    return out, notes


def display_columns(t: pd.DataFrame) -> dict[str, list[str]]:
    """The human-readable reference columns of a table that has them (else empty)."""
    if "published" not in t or not t["published"].notna().any():
        return {}

    def fmt_pub(v: Any, n: Any) -> str:
        if pd.isna(v):
            return ""
        return f"{100 * v:.1f}%" + (f" (n={int(n)})" if pd.notna(n) else "")

    def fmt_test(p: Any, lo: Any, hi: Any, ok: str) -> str:
        if pd.isna(p):
            return ""
        p_text = f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"
        return f"{ok} (p={p_text}; exact [{100 * lo:.1f}, {100 * hi:.1f}])"

    return {
        "published": [fmt_pub(v, n) for v, n in zip(t["published"], t["published_n"])],
        "vs published": [
            fmt_test(*r) for r in zip(t["ref_p"], t["ref_lo"], t["ref_hi"], t["consistent"])
        ],
    }
