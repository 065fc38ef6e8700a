"""Arcsine power and sample size against statsmodels, and Spotify's G*Power-checked value.

The default method is now pooled (test_power_proportions.py): these tests ask for the arcsine
method (Cohen's h, statsmodels' NormalIndPower) by name, and for z where they compare with
NormalIndPower on a mean.
"""

import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower, zt_ind_solve_power
from statsmodels.stats.proportion import proportion_effectsize

from common.stats.power import PowerQuery, solve


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power"),
    [(0.1, 0.1, 0.05, 0.8), (0.3, 0.05, 0.01, 0.9), (0.02, 0.25, 0.1, 0.7)],
)
def test_sample_size_for_a_relative_mde(baseline, mde, alpha, power):
    result = solve(PowerQuery(baseline, mde=mde, alpha=alpha, power=power, method="arcsine"))
    h = proportion_effectsize(baseline * (1 + mde), baseline)
    expected = NormalIndPower().solve_power(h, alpha=alpha, power=power, ratio=1)
    assert result.solved_for == "n_per_arm"
    assert result.n_per_arm_exact == pytest.approx(expected, rel=1e-6)
    assert result.n_per_arm == int(-(-expected // 1))
    assert result.effect_size == pytest.approx(h, rel=1e-12)


def test_mde_for_a_sample_size_reaches_the_power_exactly():
    result = solve(PowerQuery(0.12, n_per_arm=5000, alpha=0.05, power=0.8, method="arcsine"))
    achieved = NormalIndPower().power(result.effect_size, nobs1=5000, alpha=0.05, ratio=1)
    assert achieved == pytest.approx(0.8, abs=1e-9)
    # statsmodels' own root finder stops ~3e-5 (relative) short of that.
    h = zt_ind_solve_power(nobs1=5000, alpha=0.05, power=0.8, ratio=1)
    assert result.effect_size == pytest.approx(h, rel=1e-4)
    assert proportion_effectsize(0.12 + result.mde_absolute, 0.12) == pytest.approx(
        result.effect_size, rel=1e-9
    )
    assert result.mde_relative == pytest.approx(result.mde_absolute / 0.12)


def test_power_for_a_sample_size_and_an_absolute_mde():
    query = PowerQuery(0.2, mde=0.01, relative=False, n_per_arm=20000, method="arcsine")
    result = solve(query)
    h = proportion_effectsize(0.21, 0.2)
    expected = NormalIndPower().power(h, nobs1=20000, alpha=0.05, ratio=1)
    assert result.solved_for == "power"
    assert result.power == pytest.approx(expected, abs=1e-9)


def test_arcsine_with_unequal_arms_and_one_side():
    # statsmodels NormalIndPower: nobs2 = ratio * nobs1, alternative "larger" for one side.
    query = PowerQuery(0.1, mde=0.2, ratio=2.5, sided="one-sided", method="arcsine")
    result = solve(query)
    h = proportion_effectsize(0.12, 0.1)
    expected = NormalIndPower().solve_power(
        h, alpha=0.05, power=0.8, ratio=2.5, alternative="larger"
    )
    assert result.n_per_arm_exact == pytest.approx(expected, rel=1e-6)
    assert result.arm_sizes == (result.n_per_arm, int(-(-2.5 * result.n_per_arm_exact // 1)))


def test_mean_metric_matches_spotify_gpower_golden():
    # spotify/confidence tests/frequentist/test_chisquared.py,
    # TestCategorical.test_power_calculation_continuous: mde 0.03, variance 45, alpha 0.05,
    # 859896 per arm -> power 0.8345828 "based on G*Power calculation" (checked there to 0.5%).
    base = dict(metric="mean", sd=45**0.5, mde=0.03, relative=False, n_per_arm=859896)
    z = solve(PowerQuery(1.0, method="z", **base))
    assert z.power == pytest.approx(0.8345828, rel=0.005)
    expected = NormalIndPower().power(0.03 / 45**0.5, nobs1=859896, alpha=0.05, ratio=1)
    assert z.power == pytest.approx(expected, abs=1e-9)
    t = solve(PowerQuery(1.0, **base))  # the default for means: the noncentral t
    assert t.method == "t"
    assert t.power == pytest.approx(TTestIndPower().power(0.03 / 45**0.5, 859896, 0.05), abs=1e-9)


def test_unreachable_mde_is_reported():
    result = solve(PowerQuery(0.999, n_per_arm=3, power=0.99))
    assert result.mde_absolute is None and "no increase" in result.message
