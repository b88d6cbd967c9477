"""`msm.harness.stats.pooled_paired_test`: paired differences pooled over strata (pretrained bases)
with the stratum as a random effect."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as sps

from msm.harness.stats import pooled_paired_test


def _bases(means, n=160, sd=0.4, seed=0):
    rng = np.random.default_rng(seed)
    d = np.concatenate([m + rng.normal(0, sd, n) for m in means])
    return d, np.repeat(np.arange(len(means)), n)


def test_balanced_with_spread_is_the_t_test_on_the_bases_means():
    """With spread between bases, what a new base would show rests on 3 means (2 degrees of
    freedom), not on 480 items: the pooled test is the one-sample t test on the means."""
    d, bases = _bases([0.30, 0.35, 0.50])
    res = pooled_paired_test(d, bases)
    means = [d[bases == b].mean() for b in range(3)]
    ref = sps.ttest_1samp(means, 0)
    assert res["diff"] == pytest.approx(np.mean(means))
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-3) and res["df"] == 2 and res["strata"] == 3
    lo, hi = ref.confidence_interval()
    assert (res["lo"], res["hi"]) == pytest.approx((lo, hi), rel=1e-3)
    assert res["between_sd"] > 0.05
    # items alone (a paired t over all 480) would claim far more
    assert sps.ttest_1samp(d, 0).pvalue < res["p"] * 1e-6


def test_no_spread_between_bases_and_one_base():
    x, _ = _bases([0.05], seed=1)
    d, bases = np.tile(x, 3), np.repeat(np.arange(3), x.size)  # three bases with equal means
    res = pooled_paired_test(d, bases)
    assert res["between_sd"] < 1e-3  # a boundary fit, handled
    assert res["se"] == pytest.approx(d.std(ddof=1) / np.sqrt(d.size), rel=0.01)
    d = x
    one = pooled_paired_test(d, np.zeros(d.size))
    ref = sps.ttest_1samp(d, 0)
    assert one["strata"] == 1 and one["p"] == pytest.approx(ref.pvalue)
    same = pooled_paired_test([0.5] * 6, [0, 0, 1, 1, 2, 2])
    assert same["diff"] == 0.5 and same["p"] == 0.0
    assert pooled_paired_test([0.0] * 6, [0, 0, 1, 1, 2, 2])["p"] == 1.0


def test_an_effect_on_one_base_of_three_is_not_significant_pooled():
    """A large effect on one base and none on two: every item test would say yes; the pooled
    test with the base as a random effect does not."""
    d, bases = _bases([0.6, 0.0, 0.0], seed=2)
    res = pooled_paired_test(d, bases)
    assert res["p"] > 0.05 and res["lo"] < 0 < res["hi"]
    assert sps.ttest_1samp(d, 0).pvalue < 1e-10
