"""msm.harness.stats against scipy/statsmodels reference values, edge cases and seeded simulations."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from click.testing import CliRunner
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from msm.commands.evaluation import power_command
from msm.harness import stats
from msm.harness.errors import InputError

CASES = [(0, 10), (10, 10), (0, 1), (1, 1), (3, 17), (50, 100), (1, 200)]


@pytest.mark.parametrize("k,n", CASES)
def test_wilson_and_clopper_pearson_match_scipy(k, n):
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = stats.wilson_interval(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-9) and hi == pytest.approx(ci.high, abs=1e-9)
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    lo, hi = stats.clopper_pearson_interval(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-9) and hi == pytest.approx(ci.high, abs=1e-9)


def test_intervals_are_vectorized_and_nan_for_no_samples():
    k = np.array([c[0] for c in CASES] + [0])
    n = np.array([c[1] for c in CASES] + [0])
    lo, hi = stats.wilson_interval(k, n)
    assert lo.shape == (len(CASES) + 1,)
    assert np.isnan(lo[-1]) and np.isnan(hi[-1])
    assert lo[0] == 0 and hi[1] == 1  # 0 of n starts at 0; n of n ends at 1
    assert np.all(lo[:-1] <= k[:-1] / n[:-1]) and np.all(hi[:-1] >= k[:-1] / n[:-1])


def test_clustered_se_matches_statsmodels_cluster_robust_ols():
    rng = np.random.default_rng(1)
    clusters = np.repeat(np.arange(12), rng.integers(1, 6, 12))
    y = (rng.random(clusters.size) < 0.3 + 0.04 * (clusters % 5)).astype(float)
    fit = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    assert stats.clustered_se(y, clusters) == pytest.approx(fit.bse[0], rel=1e-10)


def test_clustered_se_one_cluster_is_undefined():
    assert np.isnan(stats.clustered_se([0, 1, 1], ["a", "a", "a"]))


def test_rate_table_matches_per_group_functions():
    rng = np.random.default_rng(2)
    n = 3000
    df = pd.DataFrame({
        "arm": rng.choice(["base", "msm", "aft"], n),
        "item": rng.integers(0, 40, n),
        "x": (rng.random(n) < 0.4).astype(float),
    })
    df.loc[rng.choice(n, 50, replace=False), "x"] = np.nan
    table = stats.rate_table(df, "x", ["arm"], cluster="item").set_index("arm")
    for arm, g in df.groupby("arm"):
        s = g.dropna(subset=["x"])
        row = table.loc[arm]
        assert row["n"] == len(s) and row["unscored"] == g["x"].isna().sum()
        assert row["rate"] == pytest.approx(s["x"].mean())
        assert row["se_clustered"] == pytest.approx(stats.clustered_se(s["x"], s["item"]))
        assert row["clustered"] and row["interval"] == "clustered-wilson"
        n_eff = stats.effective_n(row["rate"], row["n"], row["n_clusters"], row["se_clustered"])
        assert row["n_eff"] == pytest.approx(float(n_eff))
        c = row["n_clusters"]
        n_i = n_eff * (sps.norm.ppf(0.975) / sps.t.ppf(0.975, c - 1)) ** 2  # Korn-Graubard df
        lo, hi = stats.wilson_interval(row["rate"] * n_i, n_i)
        assert (row["lo"], row["hi"]) == pytest.approx((float(lo), float(hi)))


def test_rate_table_edge_cases():
    df = pd.DataFrame({
        "g": ["zero"] * 4 + ["all"] * 4 + ["one"] + ["single_cluster"] * 3 + ["none"] * 2,
        "item": ["a", "b", "c", "d"] * 2 + ["a"] + ["a", "a", "a"] + ["a", "b"],
        "x": [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, np.nan, np.nan],
    })
    t = stats.rate_table(df, "x", ["g"], cluster="item").set_index("g")
    assert t.loc["zero", "lo"] == 0 and t.loc["zero", "hi"] == pytest.approx(float(stats.wilson_interval(0, 4)[1]))
    assert t.loc["all", "hi"] == 1 and t.loc["all", "interval"] == "wilson"  # no repeats: not clustered
    lo, hi = stats.wilson_interval(1, 1)
    assert (t.loc["one", "lo"], t.loc["one", "hi"]) == pytest.approx((float(lo), float(hi)))
    # one cluster: the clustered SE is undefined, so the interval falls back to Wilson
    assert np.isnan(t.loc["single_cluster", "se_clustered"])
    assert t.loc["single_cluster", "interval"] == "wilson"
    assert t.loc["none", "n"] == 0 and t.loc["none", "unscored"] == 2
    assert np.isnan(t.loc["none", "rate"]) and t.loc["none", "interval"].startswith("none")


def test_clustered_rate_at_zero_uses_clusters_as_effective_n():
    df = pd.DataFrame({"g": "x", "item": np.repeat(np.arange(10), 5), "x": 0.0})
    row = stats.rate_table(df, "x", ["g"], cluster="item").iloc[0]
    assert row["clustered"] and row["n_eff"] == 10
    n_i = 10 * (sps.norm.ppf(0.975) / sps.t.ppf(0.975, 9)) ** 2
    assert row["hi"] == pytest.approx(float(stats.wilson_interval(0, n_i)[1]))


def test_non_binary_scores_get_a_normal_interval():
    df = pd.DataFrame({"g": "x", "x": [0.5, 1.0, 0.0, 0.5, 1.0, 0.5]})
    row = stats.rate_table(df, "x", ["g"]).iloc[0]
    se = np.std(df["x"], ddof=1) / np.sqrt(6)
    assert row["interval"] == "normal"
    assert row["lo"] == pytest.approx(max(0, row["rate"] - 1.959963985 * se))


def _clustered_sample(rng, n_items, epochs, p, icc, reps):
    """Binary outcomes whose items have Beta-distributed rates with mean p and the given ICC."""
    if icc == 0:
        item_p = np.full((reps, n_items), p)
    else:
        conc = 1 / icc - 1
        item_p = rng.beta(p * conc, (1 - p) * conc, size=(reps, n_items))
    x = rng.random((reps, n_items, epochs)) < item_p[..., None]
    return pd.DataFrame({
        "rep": np.repeat(np.arange(reps), n_items * epochs),
        "item": np.tile(np.repeat(np.arange(n_items), epochs), reps),
        "x": x.ravel().astype(float),
    })


def test_clustered_se_grows_with_within_cluster_correlation():
    rng = np.random.default_rng(3)
    mean_se = []
    for icc in (0.0, 0.1, 0.3, 0.6):
        df = _clustered_sample(rng, 30, 8, 0.4, icc, reps=200)
        mean_se.append(stats.rate_table(df, "x", ["rep"], cluster="item")["se_clustered"].mean())
    assert all(a < b for a, b in itertools.pairwise(mean_se)), mean_se
    # with no correlation it agrees with the binomial SE
    assert mean_se[0] == pytest.approx(np.sqrt(0.4 * 0.6 / 240), rel=0.1)


@pytest.mark.parametrize("p", [0.05, 0.5])
def test_wilson_and_exact_coverage(p):
    rng = np.random.default_rng(4)
    n = np.array([20, 50, 200])[:, None]
    k = rng.binomial(n, p, size=(3, 4000))
    lo, hi = stats.clopper_pearson_interval(k, np.broadcast_to(n, k.shape))
    assert (((lo <= p) & (p <= hi)).mean(axis=1) >= 0.93).all()
    lo, hi = stats.wilson_interval(k, np.broadcast_to(n, k.shape))
    coverage = ((lo <= p) & (p <= hi)).mean(axis=1)
    # Wilson dips below nominal for small n near 0 or 1 (about 92% at n = 20, p = 0.05, a
    # known property; the README points to --interval clopper-pearson there); from n = 50 on
    # it holds
    assert (coverage[1:] >= 0.93).all(), coverage
    assert coverage[0] >= (0.90 if p == 0.05 else 0.93)


@pytest.mark.parametrize("p", [0.05, 0.5])
def test_clustered_interval_coverage(p):
    rng = np.random.default_rng(5)
    df = _clustered_sample(rng, 60, 5, p, 0.3, reps=1500)
    t = stats.rate_table(df, "x", ["rep"], cluster="item")
    coverage = ((t["lo"] <= p) & (p <= t["hi"])).mean()
    assert coverage >= 0.93, coverage
    # ignoring the clustering would under-cover at p = 0.5
    if p == 0.5:
        naive = stats.rate_table(df, "x", ["rep"])
        assert ((naive["lo"] <= p) & (p <= naive["hi"])).mean() < 0.9


@pytest.mark.parametrize("kb,nb,ka,na", [(3, 10, 7, 12), (0, 20, 0, 20), (20, 20, 0, 20), (1, 1, 0, 1), (5, 40, 17, 40)])
def test_newcombe_matches_statsmodels(kb, nb, ka, na):
    ref = confint_proportions_2indep(kb, nb, ka, na, method="newcomb", compare="diff")
    lo, hi = stats.newcombe_interval(kb, nb, ka, na)
    assert (float(lo), float(hi)) == pytest.approx(ref, abs=1e-9)
    # and with the hybrid-score formula written from the Wilson bounds
    (la, ua), (lb, ub) = stats.wilson_interval(ka, na), stats.wilson_interval(kb, nb)
    pa, pb = ka / na, kb / nb
    assert float(lo) == pytest.approx(pb - pa - np.sqrt((pb - lb) ** 2 + (ua - pa) ** 2))
    assert float(hi) == pytest.approx(pb - pa + np.sqrt((ub - pb) ** 2 + (pa - la) ** 2))


def test_newcombe_coverage():
    rng = np.random.default_rng(6)
    pa, pb, n = 0.5, 0.3, 60
    ka, kb = rng.binomial(n, pa, 3000), rng.binomial(n, pb, 3000)
    lo, hi = stats.newcombe_interval(kb, n, ka, n)
    assert ((lo <= pb - pa) & (pb - pa <= hi)).mean() >= 0.93


def test_exact_tests_match_scipy():
    assert stats.fisher_exact_p(2, 20, 9, 20) == pytest.approx(sps.fisher_exact([[2, 18], [9, 11]]).pvalue)
    assert stats.barnard_exact_p(2, 20, 9, 20) == pytest.approx(
        sps.barnard_exact([[2, 9], [18, 11]]).pvalue)
    assert stats.fisher_exact_p(0, 5, 0, 5) == 1.0


def test_mcnemar_is_exact_binomial_on_discordant_pairs():
    a = np.array([1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1])
    b = np.array([0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1])
    # discordant: a=1,b=0 six times; a=0,b=1 once
    assert stats.mcnemar_p(a, b) == pytest.approx(sps.binomtest(1, 7, 0.5).pvalue)
    assert stats.mcnemar_p(a, a) == 1.0


def test_paired_permutation_exact_enumeration():
    a = np.array([1.0, 0.5, 0.8, 0.2, 0.9, 0.7])
    b = np.array([0.4, 0.5, 0.1, 0.3, 0.2, 0.6])
    d = b - a
    flips = np.array(list(itertools.product([1, -1], repeat=d.size)))
    null = np.abs((flips * d).mean(axis=1))
    expected = np.mean(null >= abs(d.mean()) - 1e-12)
    assert stats.paired_permutation_p(a, b) == pytest.approx(expected)
    ref = sps.permutation_test((a, b), lambda x, y, axis: np.mean(y - x, axis=axis),
                               permutation_type="samples", vectorized=True)
    assert stats.paired_permutation_p(a, b) == pytest.approx(ref.pvalue)


def test_paired_permutation_monte_carlo_agrees_with_scipy():
    rng = np.random.default_rng(10)
    a = rng.random(40)
    b = a - 0.08 + 0.3 * rng.standard_normal(40)
    ref = sps.permutation_test((a, b), lambda x, y, axis: np.mean(y - x, axis=axis),
                               permutation_type="samples", vectorized=True, n_resamples=20000,
                               rng=np.random.default_rng(0))
    assert stats.paired_permutation_p(a, b, n_resamples=20000) == pytest.approx(ref.pvalue, abs=0.015)


def test_paired_permutation_same_p_whatever_the_row_order():
    rng = np.random.default_rng(3)
    # item rates over 2 epochs (a grid: exact) and continuous scores (Monte Carlo)
    grid_a, grid_b = rng.integers(0, 3, 160) / 2, rng.integers(0, 3, 160) / 2
    cont_a = rng.random(60)
    cont_b = cont_a + 0.05 + 0.3 * rng.standard_normal(60)
    for a, b in ((grid_a, grid_b), (cont_a, cont_b)):
        p = stats.paired_permutation_p(a, b)
        for _ in range(3):
            order = rng.permutation(a.size)
            assert stats.paired_permutation_p(a[order], b[order]) == p
    # compare() reads rows in any order (items repeated over epochs)
    items = np.repeat(np.arange(40), 2)
    va, vb = rng.integers(0, 2, 80).astype(float), rng.integers(0, 2, 80).astype(float)
    first = stats.compare(va, vb, items, items).p
    order = rng.permutation(80)
    assert stats.compare(va[order], vb[order], items[order], items[order]).p == first


def test_paired_permutation_exact_on_a_grid_for_many_items():
    rng = np.random.default_rng(4)
    # 14 items: the grid enumeration equals listing all 2^14 sign patterns
    a, b = rng.integers(0, 3, 14) / 2, rng.integers(0, 3, 14) / 2
    d = b - a
    flips = np.array(list(itertools.product([1, -1], repeat=d.size)))
    expected = np.mean(np.abs(flips @ d) >= abs(d.sum()) - 1e-12)
    assert stats.paired_permutation_p(a, b) == pytest.approx(expected, rel=1e-9)
    # 160 items, far beyond enumeration: exact, and within Monte Carlo error of scipy
    a, b = rng.integers(0, 3, 160) / 2, (rng.integers(0, 3, 160) + (rng.random(160) < 0.1)) / 2
    b = np.minimum(b, 1.0)
    ref = sps.permutation_test((a, b), lambda x, y, axis: np.mean(y - x, axis=axis),
                               permutation_type="samples", vectorized=True, n_resamples=20000,
                               rng=np.random.default_rng(0))
    p = stats.paired_permutation_p(a, b)
    assert p == pytest.approx(ref.pvalue, abs=0.02)
    assert 0 < p < 1


def test_paired_intervals():
    d = np.array([-0.5, -1.0, -0.5, 0.0, -0.25, -0.75])
    lo, hi = stats.paired_t_interval(d)
    ref = sps.ttest_1samp(d, 0).confidence_interval(0.95)
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    blo, bhi = stats.cluster_bootstrap_interval(d, seed=1)
    assert blo < d.mean() < bhi and -1 <= blo and bhi <= 0


def test_adjust_pvalues_matches_statsmodels_and_keeps_nan():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    holm = stats.adjust_pvalues(p, "holm")
    bh = stats.adjust_pvalues(p, "bh")
    ok = ~np.isnan(p)
    assert np.isnan(holm[1]) and np.isnan(bh[1])
    assert holm[ok] == pytest.approx(multipletests(p[ok], method="holm")[1])
    assert bh[ok] == pytest.approx(multipletests(p[ok], method="fdr_bh")[1])
    assert (holm[ok] >= p[ok]).all()


def test_compare_chooses_the_test():
    rng = np.random.default_rng(7)
    # independent, one answer per item: Fisher (or Barnard) with a Newcombe interval
    a, b = np.r_[np.ones(9), np.zeros(11)], np.r_[np.ones(2), np.zeros(18)]
    c = stats.compare(a, b, [f"a{i}" for i in range(20)], [f"b{i}" for i in range(20)])
    assert c.test == "Fisher exact" and not c.paired
    assert c.p == pytest.approx(stats.fisher_exact_p(2, 20, 9, 20))
    assert c.diff == pytest.approx(-0.35)
    c = stats.compare(a, b, [f"a{i}" for i in range(20)], [f"b{i}" for i in range(20)], exact="barnard")
    assert c.test == "Barnard exact"
    # same items once each: McNemar
    items = [f"q{i}" for i in range(20)]
    c = stats.compare(a, b, items, items)
    assert c.paired and c.test.startswith("McNemar")
    assert c.p == pytest.approx(stats.mcnemar_p(a, b))
    # same items with epochs: permutation on item-level rates
    items2 = items * 3
    xa = (rng.random(60) < 0.6).astype(float)
    xb = (rng.random(60) < 0.2).astype(float)
    c = stats.compare(xa, xb, items2, items2)
    assert c.paired and c.test.startswith("paired permutation")
    # forced independent with epochs: clustered
    c = stats.compare(xa, xb, items2, items2, pairing="independent")
    assert "clustered" in c.test and not c.paired
    # unscored values are dropped, never counted as 0
    c = stats.compare([1, np.nan, 1], [0, 0, np.nan], ["a", "b", "c"], ["d", "e", "f"])
    assert (c.n_a, c.rate_a, c.n_b, c.rate_b) == (2, 1.0, 2, 0.0)


def test_compare_paired_needs_shared_items():
    with pytest.raises(InputError, match="pairing"):
        stats.compare([1, 0], [1, 0], ["a", "b"], ["c", "d"], pairing="paired")


def test_power_and_minimum_detectable_effect():
    mde = stats.minimum_detectable_effect(27, 10, 0.54, icc=0.3)
    assert stats.power(27, 10, 0.54, -mde, icc=0.3) == pytest.approx(0.8, abs=1e-6)
    # more items, more power; more correlation, less; icc = 1 makes epochs worthless
    assert stats.power(54, 10, 0.54, -0.2, 0.3) > stats.power(27, 10, 0.54, -0.2, 0.3)
    assert stats.power(27, 10, 0.54, -0.2, 0.6) < stats.power(27, 10, 0.54, -0.2, 0.3)
    assert stats.power(27, 10, 0.54, -0.2, 1.0) == pytest.approx(stats.power(27, 1, 0.54, -0.2, 0.0))
    # simulated two-arm Fisher tests agree with the normal approximation to a few points
    rng = np.random.default_rng(8)
    n = 100
    ka, kb = rng.binomial(n, 0.5, 400), rng.binomial(n, 0.3, 400)
    rejected = np.mean([stats.fisher_exact_p(b, n, a, n) < 0.05 for a, b in zip(ka, kb)])
    assert rejected == pytest.approx(stats.power(n, 1, 0.5, -0.2), abs=0.08)
    with pytest.raises(ValueError):
        stats.power(10, 1, 0.1, -0.2)


def test_estimate_icc_recovers_simulated_value():
    rng = np.random.default_rng(9)
    df = _clustered_sample(rng, 400, 10, 0.5, 0.3, reps=1)
    assert stats.estimate_icc(df["x"], df["item"]) == pytest.approx(0.3, abs=0.06)


def test_power_command_prints_a_grid_and_rejects_bad_rates():
    runner = CliRunner()
    result = runner.invoke(power_command, ["--items", "27,54", "--epochs", "1,10",
                                           "--baseline-rate", "0.5", "--icc", "0.3",
                                           "--effect=-0.3"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[2:]]
    assert len(rows) == 4
    assert float(rows[0][3]) == pytest.approx(stats.minimum_detectable_effect(27, 1, 0.5, 0.3), abs=1e-3)
    result = runner.invoke(power_command, ["--items", "27", "--baseline-rate", "1.2"])
    assert isinstance(result.exception, InputError)
