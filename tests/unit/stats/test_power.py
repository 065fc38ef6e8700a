"""Power and sample size against statsmodels, and Spotify's G*Power-checked value."""

import pytest
from statsmodels.stats.power import NormalIndPower, zt_ind_solve_power
from statsmodels.stats.proportion import proportion_effectsize

from common.stats.power import PowerQuery, solve


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power"),
    [(0.1, 0.1, 0.05, 0.8), (0.3, 0.05, 0.01, 0.9), (0.02, 0.25, 0.1, 0.7)],
)
def test_sample_size_for_a_relative_mde(baseline, mde, alpha, power):
    result = solve(PowerQuery(baseline, mde=mde, alpha=alpha, power=power))
    h = proportion_effectsize(baseline * (1 + mde), baseline)
    expected = NormalIndPower().solve_power(h, alpha=alpha, power=power, ratio=1)
    assert result.solved_for == "n_per_arm"
    assert result.n_per_arm_exact == pytest.approx(expected, rel=1e-6)
    assert result.n_per_arm == int(-(-expected // 1))
    assert result.effect_size == pytest.approx(h, rel=1e-12)


def test_mde_for_a_sample_size_reaches_the_power_exactly():
    result = solve(PowerQuery(0.12, n_per_arm=5000, alpha=0.05, power=0.8))
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
    result = solve(PowerQuery(0.2, mde=0.01, relative=False, n_per_arm=20000, alpha=0.05))
    h = proportion_effectsize(0.21, 0.2)
    expected = NormalIndPower().power(h, nobs1=20000, alpha=0.05, ratio=1)
    assert result.solved_for == "power"
    assert result.power == pytest.approx(expected, abs=1e-9)


def test_mean_metric_matches_spotify_gpower_golden():
    # spotify/confidence tests/frequentist/test_chisquared.py,
    # TestCategorical.test_power_calculation_continuous: mde 0.03, variance 45, alpha 0.05,
    # 859896 per arm -> power 0.8345828 "based on G*Power calculation" (checked there to 0.5%).
    result = solve(
        PowerQuery(1.0, metric="mean", sd=45**0.5, mde=0.03, relative=False, n_per_arm=859896)
    )
    assert result.power == pytest.approx(0.8345828, rel=0.005)
    expected = NormalIndPower().power(0.03 / 45**0.5, nobs1=859896, alpha=0.05, ratio=1)
    assert result.power == pytest.approx(expected, abs=1e-9)


def test_unreachable_mde_is_reported():
    result = solve(PowerQuery(0.999, n_per_arm=3, power=0.99))
    assert result.mde_absolute is None and "no increase" in result.message
