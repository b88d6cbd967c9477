"""Statistics for evaluation rates: intervals, comparisons, multiple testing, power.

Everything takes and returns numpy arrays (or pandas frames) so a leaderboard over a million
sample rows is a handful of vectorized calls. Where scipy or statsmodels has the procedure we
call it; what they lack (clustered standard errors, design-effect adjusted intervals, the
choice of test) is written here and checked against them in ``tests/test_stats.py``.

Conventions:

* A *rate* is the mean of scored values in [0, 1]; unscored values (NaN) are left out and
  counted separately, never read as 0.
* Samples *cluster* when the same item (or condition) is seen more than once: Inspect epochs,
  or one scenario rendered several times. Clustered standard errors follow Miller (2024,
  "Adding Error Bars to Evals", Appendix A), with the C/(C-1) small-sample correction.
* A clustered interval is the Wilson (or Clopper-Pearson) interval at the *effective* sample
  size n / deff, where the design effect deff = SE_clustered^2 / SE_iid^2 (floored at 1, so
  clustering never makes an interval narrower), times (z / t_{C-1})^2 for C clusters (Korn and
  Graubard 1998). When the rate is 0 or 1 the design effect cannot be estimated and the
  effective size is the number of clusters (the worst case: every cluster all-or-nothing).
* Differences are ``B - A`` with A the reference (the baseline arm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.stats as sps
import statsmodels.stats.contingency_tables as _sm_tables
import statsmodels.stats.multitest as _sm_multi
import statsmodels.stats.power as _sm_power
import statsmodels.stats.proportion as _sm_prop

from msm.harness.errors import InputError

ALPHA = 0.05

Adjust = Literal["holm", "bh", "none"]
Exact = Literal["fisher", "barnard"]
Pairing = Literal["auto", "paired", "independent"]
MIN_PAIRED_ITEMS = 5
"""``pairing="auto"`` pairs two arms when both scored the same items and at least this many."""


# --------------------------------------------------------------------------- one rate


def _nan_where_empty(n, *arrays):
    n = np.asarray(n, dtype=float)
    return tuple(np.where(n > 0, a, np.nan) for a in arrays)


def wilson_interval(k, n, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes of n (arrays; NaN where n == 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = _sm_prop.proportion_confint(np.where(n > 0, k, 0.0), safe, alpha=alpha, method="wilson")
    return _nan_where_empty(n, np.clip(lo, 0, 1), np.clip(hi, 0, 1))


def clopper_pearson_interval(k, n, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval for k successes of n (arrays; NaN where n == 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    lo, hi = _sm_prop.proportion_confint(np.where(n > 0, k, 0.0), safe, alpha=alpha, method="beta")
    return _nan_where_empty(n, lo, hi)


def _cluster_codes(clusters: Sequence[object]) -> np.ndarray:
    """Integer codes for cluster labels (labels compare as strings: 1 and "1" are one cluster)."""
    arr = np.asarray(clusters)
    if arr.dtype == object:
        arr = arr.astype(str)
    return np.unique(arr, return_inverse=True)[1].reshape(-1)


def clustered_se(values: Sequence[float], clusters: Sequence[object]) -> float:
    """Standard error of a mean clustered by `clusters` (Miller 2024, Appendix A).

    Uses the finite-cluster correction C/(C-1). With fewer than two clusters the clustered
    estimate is undefined and NaN is returned.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return float("nan")
    codes = _cluster_codes(clusters)
    n_clusters = int(codes.max()) + 1
    if n_clusters < 2:
        return float("nan")
    sums = np.bincount(codes, weights=x - x.mean(), minlength=n_clusters)
    return float(np.sqrt((sums**2).sum() * n_clusters / (n_clusters - 1)) / n)


def effective_n(rate, n, n_clusters, se_clustered) -> np.ndarray:
    """Sample size after the design effect: n / max(1, SE_clustered^2 / SE_iid^2).

    At a rate of 0 or 1 (no variance to compare) the number of clusters is used.
    """
    rate, n, c, se = (np.asarray(a, dtype=float) for a in (rate, n, n_clusters, se_clustered))
    var_iid = rate * (1 - rate) / np.where(n > 0, n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        deff = np.maximum(1.0, se**2 / var_iid)
        n_eff = np.where(var_iid > 0, n / deff, c)
    return np.where(np.isfinite(se) | (var_iid == 0), n_eff, n)


def interval_n(rate, n, n_clusters, se_clustered, alpha: float = ALPHA) -> np.ndarray:
    """The effective size an interval uses: `effective_n` times (z / t_{C-1})^2.

    The degrees-of-freedom factor (Korn and Graubard 1998) widens intervals when there are
    few clusters, whose variance is itself estimated from few values.
    """
    c = np.asarray(n_clusters, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = sps.t.ppf(1 - alpha / 2, np.maximum(c - 1, 1))
        factor = np.where(c >= 2, (sps.norm.ppf(1 - alpha / 2) / t) ** 2, 1.0)
    return effective_n(rate, n, n_clusters, se_clustered) * factor


def clustered_wilson_interval(rate, n, n_clusters, se_clustered, alpha: float = ALPHA):
    """Wilson interval at the design-effect (and degrees-of-freedom) adjusted size."""
    n_i = interval_n(rate, n, n_clusters, se_clustered, alpha)
    return wilson_interval(np.asarray(rate, dtype=float) * n_i, n_i, alpha)


def normal_interval(rate, se, alpha: float = ALPHA, bounded=True):
    """rate +- z * se, clipped to [0, 1] where `bounded` (for non-binary scores such as 0.5
    partial credit; unbounded scores such as log-odds are not clipped)."""
    z = sps.norm.ppf(1 - alpha / 2)
    rate, se = np.asarray(rate, dtype=float), np.asarray(se, dtype=float)
    lo, hi = rate - z * se, rate + z * se
    return np.where(bounded, np.clip(lo, 0, 1), lo), np.where(bounded, np.clip(hi, 0, 1), hi)


def rate_table(
    df: pd.DataFrame,
    value: str,
    by: Sequence[str],
    cluster: str | None = None,
    alpha: float = ALPHA,
    method: Literal["wilson", "clopper-pearson"] = "wilson",
) -> pd.DataFrame:
    """One row per group of `by`: n (scored), k, unscored, rate, its SEs and a 95% interval.

    Clustering applies to a group when `cluster` is given and some cluster holds more than one
    scored sample of it (epochs, repeated conditions); the interval is then computed at the
    design-effect adjusted size (see the module notes) and the `interval` column says so. Binary scores get Wilson (or
    Clopper-Pearson) intervals; other scores in [0, 1] a normal interval.
    """
    by = list(by)
    grouped = df.groupby(by, dropna=False, sort=True, observed=True)
    index = grouped.size().index
    g = grouped.ngroup().to_numpy()
    G = len(index)
    x = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=float)
    scored = ~np.isnan(x)
    x0 = np.where(scored, x, 0.0)
    n = np.bincount(g, weights=scored, minlength=G)
    k = np.bincount(g, weights=x0, minlength=G)
    sq = np.bincount(g, weights=x0**2, minlength=G)
    rows = np.bincount(g, minlength=G)
    nonbinary = np.bincount(g, weights=scored & (x0 != 0) & (x0 != 1), minlength=G)
    binary = nonbinary == 0
    bounded = np.bincount(g, weights=scored & ((x0 < 0) | (x0 > 1)), minlength=G) == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, k / n, np.nan)
        var = np.where(n > 1, (sq - n * rate**2) / (n - 1), np.nan)
        se_iid = np.where(binary, np.sqrt(rate * (1 - rate) / n), np.sqrt(var / n))

    if cluster is not None:
        codes, uniques = pd.factorize(df[cluster], use_na_sentinel=False)
        gc = g[scored].astype(np.int64) * max(len(uniques), 1) + codes[scored]
        ids, inv = np.unique(gc, return_inverse=True)
        cgroup = ids // max(len(uniques), 1)
        csum = np.bincount(inv, weights=x[scored])
        csize = np.bincount(inv)
        dev2 = (csum - csize * rate[cgroup]) ** 2
        c = np.bincount(cgroup, minlength=G).astype(float)
        repeats = np.bincount(cgroup, weights=csize > 1, minlength=G) > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            se_c = np.where(
                c >= 2, np.sqrt(np.bincount(cgroup, weights=dev2, minlength=G) * c / (c - 1)) / n, np.nan
            )
    else:
        c = n.copy()
        se_c = np.full(G, np.nan)
        repeats = np.zeros(G, dtype=bool)
    use_cluster = repeats & (c >= 2)

    if method == "clopper-pearson":
        lo, hi = clopper_pearson_interval(k, n, alpha)
    else:
        lo, hi = wilson_interval(k, n, alpha)
    n_eff = effective_n(rate, n, c, se_c)
    n_i = interval_n(rate, n, c, se_c, alpha)
    one_rate = clopper_pearson_interval if method == "clopper-pearson" else wilson_interval
    clo, chi = one_rate(rate * n_i, n_i, alpha)
    nlo, nhi = normal_interval(rate, np.where(use_cluster, se_c, se_iid), alpha, bounded)
    label = np.where(use_cluster, "clustered-" + method, method)
    interval = np.where(binary, label, np.where(use_cluster, "clustered-normal", "normal"))
    out = pd.DataFrame(
        {
            "n": n.astype(int),
            "k": k,
            "unscored": rows - n.astype(int),
            "rate": rate,
            "se": se_iid,
            "n_clusters": c.astype(int),
            "se_clustered": se_c,
            "clustered": use_cluster,
            "n_eff": np.where(use_cluster, n_eff, n),
            "lo": np.where(binary, np.where(use_cluster, clo, lo), nlo),
            "hi": np.where(binary, np.where(use_cluster, chi, hi), nhi),
            "interval": np.where(n > 0, interval, "none (no scored samples)"),
        },
        index=index,
    )
    return out.reset_index()


def estimate_icc(values: Sequence[float], clusters: Sequence[object]) -> float:
    """One-way ANOVA estimate of the intra-cluster correlation (clipped at 0)."""
    x = pd.Series(np.asarray(values, dtype=float))
    g = pd.Series([str(c) for c in clusters])
    keep = x.notna().to_numpy()
    x, g = x[keep], g[keep]
    sizes = x.groupby(g.to_numpy()).size()
    means = x.groupby(g.to_numpy()).mean()
    k, n = len(sizes), len(x)
    if k < 2 or n <= k:
        return float("nan")
    grand = x.mean()
    msb = float((sizes * (means - grand) ** 2).sum() / (k - 1))
    msw = float(((x - means.reindex(g.to_numpy()).to_numpy()) ** 2).sum() / (n - k))
    m0 = (n - float((sizes**2).sum()) / n) / (k - 1)
    denom = msb + (m0 - 1) * msw
    return float(max(0.0, (msb - msw) / denom)) if denom > 0 else 0.0


# --------------------------------------------------------------------------- two rates


def newcombe_interval(k_b, n_b, k_a, n_a, alpha: float = ALPHA):
    """Newcombe hybrid score interval for p_b - p_a (statsmodels' 'newcomb'; arrays)."""
    k_b, n_b, k_a, n_a = (np.asarray(v, dtype=float) for v in (k_b, n_b, k_a, n_a))
    ok = (n_a > 0) & (n_b > 0)
    one = np.ones_like(n_a)
    lo, hi = _sm_prop.confint_proportions_2indep(
        np.where(ok, k_b, 0), np.where(ok, n_b, one), np.where(ok, k_a, 0), np.where(ok, n_a, one),
        method="newcomb", compare="diff", alpha=alpha,
    )
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def fisher_exact_p(k_b: int, n_b: int, k_a: int, n_a: int) -> float:
    """Two-sided Fisher exact test of equal rates."""
    return float(sps.fisher_exact([[k_b, n_b - k_b], [k_a, n_a - k_a]]).pvalue)


def barnard_exact_p(k_b: int, n_b: int, k_a: int, n_a: int) -> float:
    """Two-sided Barnard exact test (unconditional; more power, slower)."""
    table = np.array([[k_b, k_a], [n_b - k_b, n_a - k_a]])
    if (table.sum(axis=1) == 0).any():
        return 1.0
    return float(sps.barnard_exact(table).pvalue)


def two_proportion_z_p(rate_b, n_b, rate_a, n_a) -> np.ndarray:
    """Pooled two-proportion z-test, for (effective, possibly fractional) sample sizes."""
    rate_b, n_b, rate_a, n_a = (np.asarray(v, dtype=float) for v in (rate_b, n_b, rate_a, n_a))
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (rate_b * n_b + rate_a * n_a) / (n_b + n_a)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_b + 1 / n_a))
        z = (rate_b - rate_a) / se
        p = 2 * sps.norm.sf(np.abs(z))
    return np.where(se > 0, p, np.where(rate_b == rate_a, 1.0, 0.0))


def mcnemar_p(a: Sequence[float], b: Sequence[float]) -> float:
    """McNemar's test on paired single binary answers (exact binomial on the discordant pairs)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    if table[0][1] + table[1][0] == 0:
        return 1.0
    return float(_sm_tables.mcnemar(table, exact=True).pvalue)


def _lattice(d: np.ndarray, max_denominator: int = 1000, max_support: int = 2_000_000):
    """Integers k and a unit u with d = k * u exactly (within 1e-9), when the differences lie
    on a common grid (item rates over equal epochs: multiples of 1/epochs) and the grid is
    small enough to enumerate; else None."""
    from fractions import Fraction
    from math import lcm

    denominators = []
    for x in d:
        f = Fraction(float(x)).limit_denominator(max_denominator)
        if abs(float(f) - x) > 1e-9:
            return None
        denominators.append(f.denominator)
    scale = lcm(*denominators)
    k = np.rint(d * scale).astype(np.int64)
    if np.abs(k).sum() > max_support:
        return None
    return k, 1.0 / scale


def _sign_flip_distribution(k: np.ndarray) -> np.ndarray:
    """P(sum_i s_i k_i = t) for independent fair signs s_i, t = -T..T (T = sum |k_i|)."""
    total = int(np.abs(k).sum())
    dist = np.zeros(2 * total + 1)
    dist[total] = 1.0
    for step in np.abs(k):
        if step == 0:
            continue
        shifted = np.zeros_like(dist)
        shifted[step:] += dist[:-step]
        shifted[:-step] += dist[step:]
        dist = 0.5 * shifted
    return dist


def paired_permutation_p(a: Sequence[float], b: Sequence[float], n_resamples: int = 9999, seed: int = 0) -> float:
    """Two-sided sign-flip permutation test of mean(b - a) over items.

    Under the null each item's difference is as likely to have either sign. The p-value
    depends only on the multiset of differences, never on the order of the rows:

    * exact whenever the differences lie on a common grid (item rates over equal epochs are
      multiples of 1/epochs): the null distribution of the signed sum is enumerated by
      convolution over the grid, for any number of items;
    * otherwise exact by listing all 2^m sign patterns when 2^m <= n_resamples, else Monte
      Carlo with the +1 correction, on the differences sorted first (so the same data gives
      the same p whatever the row order) and a fixed seed.

    Items with a zero difference contribute nothing to either sign and are dropped. Checked
    against scipy's `permutation_test` in the tests.
    """
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    d = np.sort(d[np.abs(d) > 1e-12])
    m = d.size
    if m == 0:
        return 1.0
    lattice = _lattice(d)
    if lattice is not None:
        k, _unit = lattice
        dist = _sign_flip_distribution(k)
        total = (dist.size - 1) // 2
        observed = abs(int(k.sum()))
        t = np.arange(-total, total + 1)
        return float(min(1.0, dist[np.abs(t) >= observed].sum()))
    observed = abs(d.sum())
    tol = 1e-9 * max(1.0, observed)
    if m <= 30 and 2**m <= n_resamples:
        signs = 1 - 2 * ((np.arange(2**m)[:, None] >> np.arange(m)) & 1)
        return float(np.mean(np.abs(signs @ d) >= observed - tol))
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, 2000):
        size = min(2000, n_resamples - start)
        signs = rng.integers(0, 2, size=(size, m), dtype=np.int8) * 2 - 1
        hits += int(np.sum(np.abs(signs @ d) >= observed - tol))
    return float((hits + 1) / (n_resamples + 1))


def paired_t_interval(d: Sequence[float], alpha: float = ALPHA, bounded: bool = True) -> tuple[float, float]:
    """mean(d) +- t * sd(d)/sqrt(m): Miller's interval for a paired difference over items
    (clipped to [-1, 1], the range of a difference of rates, where `bounded`)."""
    d = np.asarray(d, dtype=float)
    m = d.size
    if m < 2:
        return float("nan"), float("nan")
    half = sps.t.ppf(1 - alpha / 2, m - 1) * d.std(ddof=1) / np.sqrt(m)
    lo, hi = float(d.mean() - half), float(d.mean() + half)
    return (max(-1.0, lo), min(1.0, hi)) if bounded else (lo, hi)


def pooled_paired_test(d: Sequence[float], strata: Sequence[object], alpha: float = ALPHA) -> dict:
    """Paired differences ``d`` (one per item and stratum) pooled over strata, the stratum a
    random effect: ``d = mu + u_stratum + e`` fitted by REML (statsmodels ``MixedLM``). The
    interval and p for ``mu`` use t with (strata - 1) degrees of freedom (between-within): with
    few strata, such as a handful of pretrained bases, a normal z would claim more than a new
    stratum would show. On balanced data with spread between strata this is the one-sample t
    test on the strata's means; with one stratum it is the paired t test over items.

    Returns ``{"diff", "lo", "hi", "p", "se", "df", "strata", "between_sd", "within_sd"}``."""
    import warnings

    import statsmodels.api as sm

    d = np.asarray(d, dtype=float)
    codes = _cluster_codes(strata)
    k = int(np.unique(codes).size)
    if d.size < 2 or np.allclose(d, d[0]):
        diff = float(d.mean()) if d.size else float("nan")
        p = 1.0 if not d.size or diff == 0 else 0.0
        return {"diff": diff, "lo": diff, "hi": diff, "p": p, "se": 0.0, "df": max(k - 1, 1),
                "strata": k, "between_sd": 0.0, "within_sd": 0.0}
    if k < 2:
        lo, hi = paired_t_interval(d, alpha)
        se = float(d.std(ddof=1) / np.sqrt(d.size))
        t = d.mean() / se if se > 0 else np.inf
        return {"diff": float(d.mean()), "lo": lo, "hi": hi, "se": se, "df": d.size - 1,
                "p": float(2 * sps.t.sf(abs(t), d.size - 1)), "strata": 1,
                "between_sd": 0.0, "within_sd": float(d.std(ddof=1))}
    with warnings.catch_warnings():  # a between-strata variance at 0 is a boundary fit, not an error
        warnings.simplefilter("ignore")
        fit = sm.MixedLM(d, np.ones((d.size, 1)), groups=codes).fit(reml=True, method=["powell", "nm"])
    diff, se, df = float(fit.fe_params[0]), float(fit.bse_fe[0]), k - 1
    half = sps.t.ppf(1 - alpha / 2, df) * se
    return {"diff": diff, "lo": float(diff - half), "hi": float(diff + half), "se": se, "df": df,
            "p": float(2 * sps.t.sf(abs(diff / se), df)) if se > 0 else 0.0, "strata": k,
            "between_sd": float(np.sqrt(max(float(np.asarray(fit.cov_re)[0, 0]), 0.0))),
            "within_sd": float(np.sqrt(fit.scale))}


def cluster_bootstrap_interval(
    d: Sequence[float], alpha: float = ALPHA, n_resamples: int = 9999, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(d), resampling items (clusters) with replacement."""
    d = np.asarray(d, dtype=float)
    if d.size < 2:
        return float("nan"), float("nan")
    if np.allclose(d, d[0]):
        return float(d[0]), float(d[0])
    res = sps.bootstrap(
        (d,), np.mean, confidence_level=1 - alpha, n_resamples=n_resamples,
        method="percentile", rng=np.random.default_rng(seed), vectorized=True,
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


@dataclass
class Comparison:
    """B - A for one pair of arms, with the test used and why it was chosen."""

    n_a: int
    rate_a: float
    n_b: int
    rate_b: float
    diff: float
    lo: float
    hi: float
    p: float
    test: str
    interval: str
    paired: bool
    reason: str

    def as_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)


def _clean(values, clusters):
    x = np.asarray(values, dtype=float)
    c = np.asarray(clusters) if clusters is not None else np.arange(x.size)
    if c.dtype == object:
        c = c.astype(str)
    keep = ~np.isnan(x)
    return x[keep], c[keep]


def _item_means(x: np.ndarray, c: np.ndarray) -> pd.DataFrame:
    ids, inv = np.unique(c, return_inverse=True)
    return pd.DataFrame({"mean": np.bincount(inv, weights=x) / np.bincount(inv),
                         "size": np.bincount(inv)}, index=ids)


def compare(
    a_values: Sequence[float],
    b_values: Sequence[float],
    a_clusters: Sequence[object] | None = None,
    b_clusters: Sequence[object] | None = None,
    *,
    pairing: Pairing = "auto",
    exact: Exact = "fisher",
    paired_interval: Literal["t", "bootstrap"] = "t",
    alpha: float = ALPHA,
    n_resamples: int = 9999,
    seed: int = 0,
) -> Comparison:
    """Compare arm B with reference arm A on scored values (NaN = unscored, dropped).

    Choice of test:

    * paired (``pairing="paired"``, or ``"auto"`` when both arms scored exactly the same items,
      at least `MIN_PAIRED_ITEMS` of them): item-level rates (the mean over epochs), differences d_i;
      McNemar when every item was answered once with a binary score, otherwise a sign-flip
      permutation test on d; interval: paired t on d (or a cluster bootstrap). The
      difference is then mean(d), which equals rate_b - rate_a when epochs are balanced.
    * independent, no repeated items: Newcombe interval and Fisher's exact test (Barnard's
      on request).
    * independent with repeats (epochs): Newcombe interval and a pooled z-test, both at the
      design-effect adjusted sample sizes (clustered SEs).
    """
    xa, ca = _clean(a_values, a_clusters)
    xb, cb = _clean(b_values, b_clusters)
    na, nb = xa.size, xb.size
    ra = float(xa.mean()) if na else float("nan")
    rb = float(xb.mean()) if nb else float("nan")
    nan = float("nan")
    if na == 0 or nb == 0:
        return Comparison(na, ra, nb, rb, rb - ra, nan, nan, nan, "none", "none", False,
                          "an arm has no scored samples")
    binary = bool(np.isin(xa, [0, 1]).all() and np.isin(xb, [0, 1]).all())
    items_a, items_b = set(np.unique(ca).tolist()), set(np.unique(cb).tolist())
    same_items = items_a == items_b and len(items_a) >= 2
    auto_pair = items_a == items_b and len(items_a) >= MIN_PAIRED_ITEMS
    if pairing == "paired" and not same_items:
        shared = items_a & items_b
        if len(shared) < 2:
            raise InputError("a paired comparison needs at least two items scored in both arms",
                             field="pairing")
    paired = pairing == "paired" or (pairing == "auto" and auto_pair)
    if paired:
        return _compare_paired(xa, ca, xb, cb, binary=binary, paired_interval=paired_interval,
                               alpha=alpha, n_resamples=n_resamples, seed=seed)
    note = ""
    if pairing == "auto" and same_items:
        note = f" (same {len(items_a)} items, fewer than {MIN_PAIRED_ITEMS}: not paired)"
    return _compare_independent(xa, ca, xb, cb, binary=binary, exact=exact, alpha=alpha, note=note)


def _compare_paired(xa: np.ndarray, ca: np.ndarray, xb: np.ndarray, cb: np.ndarray, *,
                    binary: bool, paired_interval: str, alpha: float, n_resamples: int,
                    seed: int) -> Comparison:
    """`compare` on the items both arms scored: item-level rates and their differences."""
    na, nb = xa.size, xb.size
    ra, rb = float(xa.mean()), float(xb.mean())
    ia, ib = _item_means(xa, ca), _item_means(xb, cb)
    items = ia.index.intersection(ib.index)
    a_item, b_item = ia.loc[items, "mean"].to_numpy(), ib.loc[items, "mean"].to_numpy()
    d = b_item - a_item
    single = bool((ia.loc[items, "size"] == 1).all() and (ib.loc[items, "size"] == 1).all())
    if single and binary:
        p, test = mcnemar_p(a_item, b_item), "McNemar (exact)"
        why = f"same {len(items)} items in both arms, one binary answer each"
    else:
        p = paired_permutation_p(a_item, b_item, n_resamples=n_resamples, seed=seed)
        test = "paired permutation (sign flip)"
        why = f"same {len(items)} items in both arms, repeated or non-binary scores: item-level rates"
    if paired_interval == "bootstrap":
        lo, hi = cluster_bootstrap_interval(d, alpha, n_resamples=n_resamples, seed=seed)
        interval = "cluster bootstrap (percentile)"
    else:
        rates = bool(((xa >= 0) & (xa <= 1)).all() and ((xb >= 0) & (xb <= 1)).all())
        lo, hi = paired_t_interval(d, alpha, bounded=rates)
        interval = "paired t on item differences"
    return Comparison(na, ra, nb, rb, float(d.mean()), lo, hi, p, test, interval, True, why)


def _compare_independent(xa: np.ndarray, ca: np.ndarray, xb: np.ndarray, cb: np.ndarray, *,
                         binary: bool, exact: str, alpha: float, note: str) -> Comparison:
    """`compare` of two independent arms: exact, clustered or normal, by the scores' form."""
    na, nb = xa.size, xb.size
    ra, rb = float(xa.mean()), float(xb.mean())
    nan = float("nan")
    items_a, items_b = set(np.unique(ca).tolist()), set(np.unique(cb).tolist())
    repeats = len(items_a) < na or len(items_b) < nb
    if not binary:
        se_a = clustered_se(xa, ca) if repeats else xa.std(ddof=1) / np.sqrt(na) if na > 1 else nan
        se_b = clustered_se(xb, cb) if repeats else xb.std(ddof=1) / np.sqrt(nb) if nb > 1 else nan
        se = float(np.sqrt(se_a**2 + se_b**2))
        z = sps.norm.ppf(1 - alpha / 2)
        p = float(2 * sps.norm.sf(abs(rb - ra) / se)) if se > 0 else (1.0 if rb == ra else 0.0)
        kind = "clustered " if repeats else ""
        return Comparison(na, ra, nb, rb, rb - ra, rb - ra - z * se, rb - ra + z * se, p,
                          f"{kind}z-test", f"{kind}normal", False, "independent arms, non-binary scores" + note)
    if repeats:
        se_a, se_b = clustered_se(xa, ca), clustered_se(xb, cb)
        ne_a = float(interval_n(ra, na, len(items_a), se_a, alpha)) if len(items_a) >= 2 else float(na)
        ne_b = float(interval_n(rb, nb, len(items_b), se_b, alpha)) if len(items_b) >= 2 else float(nb)
        lo, hi = newcombe_interval(rb * ne_b, ne_b, ra * ne_a, ne_a, alpha)
        p = float(two_proportion_z_p(rb, ne_b, ra, ne_a))
        return Comparison(na, ra, nb, rb, rb - ra, float(lo), float(hi), p,
                          "two-proportion z-test at effective n (clustered)", "clustered Newcombe",
                          False, "independent arms with repeated items (epochs): clustered by item" + note)
    ka, kb = int(xa.sum()), int(xb.sum())
    lo, hi = newcombe_interval(kb, nb, ka, na, alpha)
    if exact == "barnard":
        p, test = barnard_exact_p(kb, nb, ka, na), "Barnard exact"
    else:
        p, test = fisher_exact_p(kb, nb, ka, na), "Fisher exact"
    return Comparison(na, ra, nb, rb, rb - ra, float(lo), float(hi), p, test, "Newcombe", False,
                      "independent arms, one binary answer per item" + note)


def adjust_pvalues(p: Sequence[float], method: Adjust = "holm") -> np.ndarray:
    """Holm (default) or Benjamini-Hochberg adjusted p-values; NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if method == "none" or not ok.any():
        out[ok] = p[ok]
        return out
    sm = {"holm": "holm", "bh": "fdr_bh"}[method]
    out[ok] = _sm_multi.multipletests(p[ok], method=sm)[1]
    return out


# --------------------------------------------------------------------------- planning


def design_effect(epochs: int, icc: float) -> float:
    """Kish design effect of `epochs` repeats per item with intra-item correlation `icc`."""
    return 1.0 + (epochs - 1) * icc


def _effective_per_arm(n_items: int, epochs: int, icc: float) -> float:
    if n_items < 1 or epochs < 1:
        raise ValueError(f"n_items and epochs must be at least 1 (got {n_items}, {epochs})")
    return n_items * epochs / design_effect(epochs, icc)


def power(n_items: int, epochs: int, baseline_rate: float, difference: float,
          icc: float = 0.0, alpha: float = ALPHA) -> float:
    """Power of a two-sided test that an arm's rate differs from the baseline by `difference`.

    Two independent arms of `n_items` items x `epochs` each; Cohen's h with the normal
    approximation (statsmodels) at the design-effect adjusted size.
    """
    other = baseline_rate + difference
    if not 0 <= other <= 1:
        raise ValueError(f"baseline_rate + difference = {other:.3f} is not a rate")
    h = abs(2 * np.arcsin(np.sqrt(other)) - 2 * np.arcsin(np.sqrt(baseline_rate)))
    if h == 0:
        return alpha
    n_eff = _effective_per_arm(n_items, epochs, icc)
    return float(_sm_power.NormalIndPower().power(effect_size=h, nobs1=n_eff, alpha=alpha, ratio=1.0))


def minimum_detectable_effect(n_items: int, epochs: int, baseline_rate: float, icc: float = 0.0,
                              target_power: float = 0.8, alpha: float = ALPHA,
                              direction: Literal["decrease", "increase"] = "decrease") -> float:
    """Smallest change of rate from `baseline_rate` detected with `target_power` (NaN if none)."""
    n_eff = _effective_per_arm(n_items, epochs, icc)
    h = _sm_power.NormalIndPower().solve_power(nobs1=n_eff, alpha=alpha, power=target_power, ratio=1.0)
    phi = 2 * np.arcsin(np.sqrt(baseline_rate))
    phi2 = phi - h if direction == "decrease" else phi + h
    if not 0 <= phi2 <= np.pi:
        return float("nan")
    return float(abs(np.sin(phi2 / 2) ** 2 - baseline_rate))


def epochs_needed(n_items: int, rate_a: float, rate_b: float, icc: float = 0.0,
                  target_power: float = 0.8, alpha: float = ALPHA,
                  max_epochs: int = 100_000) -> int | None:
    """The fewest epochs (rollouts per item) at which two arms of `n_items` items, with true
    rates `rate_a` and `rate_b`, are told apart with `target_power` (two-sided, Cohen's h at the
    design-effect adjusted size). None when no number of epochs suffices: with ICC > 0 the
    effective size per arm never exceeds ``n_items / icc``, so more items are needed."""
    if not (0 <= rate_a <= 1 and 0 <= rate_b <= 1) or rate_a == rate_b:
        raise ValueError(f"need two different rates in [0, 1] (got {rate_a}, {rate_b})")
    h = abs(2 * np.arcsin(np.sqrt(rate_a)) - 2 * np.arcsin(np.sqrt(rate_b)))
    n_needed = _sm_power.NormalIndPower().solve_power(effect_size=h, alpha=alpha,
                                                      power=target_power, ratio=1.0)
    # n_eff(e) = items * e / (1 + (e - 1) icc) >= n_needed  <=>  e (items - n icc) >= n (1 - icc)
    slack = n_items - n_needed * icc
    if slack <= 0:
        return None
    epochs = max(1, int(np.ceil(n_needed * (1 - icc) / slack - 1e-9)))
    return epochs if epochs <= max_epochs else None


# --------------------------------------------------------------------------- CLI: msm power


def planning_inputs(samples: pd.DataFrame, metric: str, arm: str, *, task: str | None = None,
                    cluster: str = "sample_id") -> dict[str, float]:
    """Items, epochs, baseline rate and ICC measured on one arm of a sample frame (for power)."""
    rows = samples[samples["arm"].astype(str) == arm] if "arm" in samples else samples.iloc[0:0]
    if task is not None:
        rows = rows[rows["task"] == task]
    if metric not in rows.columns or rows.empty:
        raise InputError(f"no '{metric}' scores for arm '{arm}'" + (f" in task '{task}'" if task else ""),
                         field="--arm")
    if rows["task"].nunique() > 1:
        raise InputError(f"arm '{arm}' has several tasks; pick one with --task", field="--task")
    rows = rows[rows[metric].notna()]
    if rows.empty:
        raise InputError(f"arm '{arm}' has no scored '{metric}' samples", field="--metric")
    x = rows[metric].to_numpy(dtype=float)
    sizes = rows.groupby(rows[cluster].astype(str)).size()
    icc = estimate_icc(x, rows[cluster])
    return {"items": len(sizes), "epochs": round(sizes.median()),
            "baseline_rate": float(x.mean()), "icc": 0.0 if np.isnan(icc) else icc}
