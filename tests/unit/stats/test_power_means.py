"""Power of the two-sample t-test (noncentral t) against R's power.t.test and statsmodels."""

import pytest
from statsmodels.stats.power import TTestIndPower, tt_ind_solve_power

from common.stats.power import PowerQuery, solve


def mean_query(**fields):
    return PowerQuery(0.0, metric="mean", sd=1.0, relative=False, **fields)


def test_r_power_t_test_documented_examples():
    # R's ?power.t.test examples (stats package), sd = 1, sig.level = 0.05:
    #   power.t.test(n = 20, delta = 1)                              => power = 0.8689528
    #   power.t.test(power = .90, delta = 1)                         => n = 22.02110
    #   power.t.test(power = .90, delta = 1, alternative = "one.sided") => n = 17.84713
    # R counts one rejection region (< 1e-6 here) and its uniroot stops at tol 1.2e-4.
    assert solve(mean_query(mde=1, n_per_arm=20)).power == pytest.approx(0.8689528, abs=1e-6)
    n = solve(mean_query(mde=1, power=0.9))
    assert n.method == "t" and n.n_per_arm_exact == pytest.approx(22.02110, abs=1.2e-4)
    one_sided = solve(mean_query(mde=1, power=0.9, sided="one-sided"))
    assert one_sided.n_per_arm_exact == pytest.approx(17.84713, abs=1.2e-4)


@pytest.mark.parametrize(
    ("d", "ratio", "sided", "alpha"),
    [(0.2, 1.0, "two-sided", 0.05), (0.5, 2.0, "two-sided", 0.01), (0.05, 0.3, "one-sided", 0.1),
     (1.5, 1.0, "two-sided", 0.05)],
)  # fmt: skip
def test_t_matches_statsmodels_ttestindpower(d, ratio, sided, alpha):
    alternative = "two-sided" if sided == "two-sided" else "larger"
    result = solve(mean_query(mde=d, ratio=ratio, sided=sided, alpha=alpha))
    expected = tt_ind_solve_power(d, None, alpha, 0.8, ratio, alternative)
    assert result.n_per_arm_exact == pytest.approx(expected, rel=1e-5)
    power = TTestIndPower().power(d, result.n_per_arm_exact, alpha, ratio, alternative=alternative)
    assert power == pytest.approx(0.8, abs=1e-9)
    mde = solve(mean_query(n_per_arm=40, ratio=ratio, sided=sided, alpha=alpha))
    reached = TTestIndPower().power(mde.effect_size, 40, alpha, ratio, alternative=alternative)
    assert reached == pytest.approx(0.8, abs=1e-9)


def test_a_huge_effect_needs_only_the_smallest_arms():
    result = solve(mean_query(mde=10, power=0.9))
    assert result.n_per_arm == 2 and "smallest" in result.message
    assert TTestIndPower().power(10, 2, 0.05) > 0.9
