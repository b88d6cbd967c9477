"""Statistics for evaluation rates (extended by the statistics module work)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def clustered_se(values: Sequence[float], clusters: Sequence[object]) -> float:
    """Standard error of a mean clustered by `clusters` (Miller 2024, Appendix A).

    Uses the finite-cluster correction C/(C-1). With fewer than two clusters the clustered
    estimate is undefined and NaN is returned.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return float("nan")
    _, codes = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    n_clusters = int(codes.max()) + 1
    if n_clusters < 2:
        return float("nan")
    sums = np.bincount(codes, weights=x - x.mean(), minlength=n_clusters)
    return float(np.sqrt((sums**2).sum() * n_clusters / (n_clusters - 1)) / n)
