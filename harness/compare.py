"""One pairwise question: is arm B's rate different from arm A's? (``msm compare``)

A and B are either log files/directories (one arm each), or, with ``--logs``, selectors of
rows of those logs: ``msm_aft`` (an arm), ``arm=msm_aft,spec=philosophy``. The test is chosen
by `msm.harness.stats.compare`, and the command prints which test it used and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from msm.harness import stats
from msm.harness.errors import InputError
from msm.harness.logs import read_logs, suggest_column, whole_samples


def _select(samples: pd.DataFrame, selector: str) -> pd.DataFrame:
    mask = pd.Series(True, index=samples.index)
    for part in selector.split(","):
        col, sep, value = part.partition("=")
        col, value = (col.strip(), value.strip()) if sep else ("arm", part.strip())
        if col not in samples.columns:
            raise InputError(f"no column '{col}' in the logs", field=selector)
        mask &= samples[col].astype(str) == value
    if not mask.any():
        raise InputError("selects no samples", field=selector)
    return samples[mask]


def compare_logs(
    a: str,
    b: str,
    *,
    metric: str,
    logs: Sequence[str | Path] = (),
    task: str | None = None,
    cluster: str | None = None,
    pairing: stats.Pairing = "auto",
    exact: stats.Exact = "fisher",
) -> stats.Comparison:
    """Compare B with A (the reference) on `metric`; see the module notes for A and B."""
    if logs:
        samples = read_logs(logs).samples
        sa, sb = _select(samples, a), _select(samples, b)
    else:
        sa, sb = read_logs([a]).samples, read_logs([b]).samples
    out = []
    for name, s in (("A", sa), ("B", sb)):
        if metric not in s.columns:
            raise InputError(f"no score field '{metric}' in arm {name}"
                             f"{suggest_column(metric, s, scores=True)}", field="metric")
        if task is not None:
            s = s[s["task"] == task]
        tasks = s.loc[s[metric].notna(), "task"].unique()
        if len(tasks) > 1:
            raise InputError(f"arm {name} mixes tasks {', '.join(map(str, tasks))}; pick one with --task",
                             field="task")
        if s.empty:
            raise InputError(f"arm {name} has no samples" + (f" of task '{task}'" if task else ""),
                             field="task")
        out.append(whole_samples(s, metric))  # the tasks' rule, as the leaderboard counts
    sa, sb = out
    ca = sa[cluster or "sample_id"]
    cb = sb[cluster or "sample_id"]
    return stats.compare(sa[metric].to_numpy(float), sb[metric].to_numpy(float), ca, cb,
                         pairing=pairing, exact=exact)
