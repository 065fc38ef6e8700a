"""Score intervals for two proportions against statsmodels, R's PropCIs, Fagerland et al. and a
direct maximisation of the constrained likelihood."""

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from common.stats.score_interval import difference_interval, pooled_z, ratio_interval
from tests.support.score_reference import score_statistic

Z95 = norm.isf(0.025)
TABLES = [  # (x1, n1, x0, n0): treatment first, as statsmodels' count1/nobs1
    (150, 1000, 120, 1000),
    (12, 21, 5, 20),
    (7, 34, 1, 34),
    (5, 30, 0, 30),
    (0, 30, 5, 30),
    (30, 30, 20, 30),
    (1, 5000, 3, 4000),
    (4999, 5000, 3990, 4000),
    (13971, 50038, 13880, 49962),
]


def constrained_score(x1, n1, x0, n0, delta):
    """The score statistic at p1 - p0 = delta, maximising the restricted likelihood numerically."""
    return score_statistic(x0, n0, x1, n1, delta)


def test_pooled_z_matches_statsmodels_proportions_ztest():
    for x1, n1, x0, n0 in TABLES[:4]:
        z, _ = proportions_ztest([x1, x0], [n1, n0])
        assert pooled_z(x1, n1, x0, n0) == pytest.approx(z, rel=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # statsmodels' own, at a zero count
def test_ratio_interval_matches_statsmodels_koopman_score():
    for x1, n1, x0, n0 in TABLES:
        expected = confint_proportions_2indep(
            x1, n1, x0, n0, compare="ratio", method="score", correction=False
        )
        got = tuple(map(float, ratio_interval(x1, n1, x0, n0, Z95)))
        assert got == pytest.approx(expected, rel=1e-8, abs=1e-9), (x1, n1, x0, n0)


def test_difference_interval_matches_published_miettinen_nurminen_values():
    # Fagerland, Lydersen & Laake (2015), table for 7/34 vs 1/34: Miettinen-Nurminen asymptotic
    # score (0.028, 0.34), which is the version without the N/(N-1) factor.
    lower, upper = difference_interval(7, 34, 1, 34, Z95)
    assert (round(float(lower), 3), round(float(upper), 2)) == (0.028, 0.34)
    # R: PropCIs::diffscoreci(7, 34, 1, 34, 0.95) = (0.0270416, 0.3452912) carries the factor
    # N/(N-1) on the variance, i.e. a critical value larger by sqrt(68/67).
    corrected = tuple(map(float, difference_interval(7, 34, 1, 34, Z95 * np.sqrt(68 / 67))))
    assert corrected == pytest.approx((0.0270416, 0.3452912), abs=1e-6)


def test_difference_bounds_solve_the_score_equation_at_the_constrained_mle():
    # statsmodels' own score interval for differences uses a wrong coefficient in the
    # constrained MLE's cubic (statsmodels issue #10269), so the reference is a direct numerical
    # maximisation of the restricted likelihood instead.
    for x1, n1, x0, n0 in TABLES:
        lower, upper = difference_interval(x1, n1, x0, n0, Z95)
        for bound, sign in ((lower, 1), (upper, -1)):
            if abs(bound) < 1:
                got = constrained_score(x1, n1, x0, n0, float(bound))
                assert got == pytest.approx(sign * Z95, abs=1e-6), (x1, n1, x0, n0)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_intervals_exclude_no_change_exactly_when_the_pooled_z_test_rejects(alpha):
    rng = np.random.default_rng(4)
    n1, n0 = rng.integers(5, 3000, 400).astype(float), rng.integers(5, 3000, 400).astype(float)
    rate = rng.uniform(0.001, 0.999, 400)
    x1 = rng.binomial(n1.astype(int), np.clip(rate * rng.uniform(0.8, 1.25, 400), 0, 1))
    x0 = rng.binomial(n0.astype(int), rate)
    critical = norm.isf(alpha / 2)
    z = pooled_z(x1, n1, x0, n0)
    rejects = np.abs(z) > critical
    diff = difference_interval(x1, n1, x0, n0, critical)
    ratio = ratio_interval(x1, n1, x0, n0, critical)
    clear = np.isfinite(z) & (np.abs(np.abs(z) - critical) > 1e-9)
    assert clear.sum() > 380 and 40 < rejects[clear].sum() < 360
    assert np.array_equal(((diff[0] > 0) | (diff[1] < 0))[clear], rejects[clear])
    assert np.array_equal(((ratio[0] > 1) | (ratio[1] < 1))[clear], rejects[clear])


def test_vectorised_rows_equal_one_at_a_time_and_one_sided_ends_are_open():
    x1, n1, x0, n0 = (np.array(column, float) for column in zip(*TABLES, strict=True))
    lower, upper = difference_interval(x1, n1, x0, n0, Z95)
    for i, table in enumerate(TABLES):
        one = tuple(map(float, difference_interval(*table, Z95)))
        assert (lower[i], upper[i]) == pytest.approx(one, abs=1e-12)
    greater = ratio_interval(x1, n1, x0, n0, norm.isf(0.05), "greater")
    assert np.all(np.isinf(greater[1]))
    assert greater[0] == pytest.approx(ratio_interval(x1, n1, x0, n0, norm.isf(0.05))[0])


def test_undefined_tables_give_nan():
    for table in [(0, 10, 0, 10), (10, 10, 20, 20), (0, 0, 3, 10)]:
        assert np.isnan(difference_interval(*table, Z95)).all()
        assert np.isnan(ratio_interval(*table, Z95)).all()
