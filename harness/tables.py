"""The leaderboard's tables: what `msm.harness.leaderboard` computes and `msm.harness.plots` draws.

A module of its own so that the two read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Tables:
    main: pd.DataFrame
    conditions: pd.DataFrame
    grid: pd.DataFrame
    """Rates by scenario x goal value (agentic tasks), for the heatmap."""
    metric: str
    by: list[str]
    baseline: tuple[str, str] | None
    adjust: str
    notes: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    """The groups (arms) in the design order, as an experiment declares them; plots and the
    page list them so (the baseline first), not alphabetically."""
