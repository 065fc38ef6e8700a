"""Pooled and unpooled two-proportion power against R's power.prop.test and statsmodels."""

import math

import pytest
from statsmodels.stats.power import NormalIndPower, normal_power_het
from statsmodels.stats.proportion import power_proportions_2indep

from common.stats.power import PowerQuery, solve


def test_r_power_prop_test_documented_examples():
    # R's ?power.prop.test examples (stats package):
    #   power.prop.test(n = 50, p1 = .50, p2 = .75)      => power = 0.7401659
    #   power.prop.test(p1 = .50, p2 = .75, power = .90) => n = 76.7 (printed 76.7069)
    #   power.prop.test(n = 50, p1 = .5, power = .90)    => p2 = 0.8026
    # R counts the rejection region in the effect's direction only (strict = FALSE); the
    # other one adds 1.3e-6 here. R's uniroot stops at tol = eps^0.25 = 1.2e-4.
    power = solve(PowerQuery(0.5, mde=0.25, relative=False, n_per_arm=50))
    assert power.method == "pooled"
    assert power.power == pytest.approx(0.7401659, abs=2e-6)
    n = solve(PowerQuery(0.5, mde=0.25, relative=False, power=0.9))
    assert n.n_per_arm_exact == pytest.approx(76.7069, abs=1.2e-4)
    assert n.n_per_arm == 77 and n.total == 154
    p2 = 0.5 + solve(PowerQuery(0.5, n_per_arm=50, power=0.9)).mde_absolute
    assert p2 == pytest.approx(0.8026, abs=5e-5)


@pytest.mark.parametrize(
    ("baseline", "mde", "ratio", "sided", "alpha"),
    [(0.1, 0.1, 1.0, "two-sided", 0.05), (0.3, -0.1, 0.5, "two-sided", 0.01),
     (0.02, 0.3, 3.0, "one-sided", 0.1), (0.6, 0.05, 1.7, "one-sided", 0.05)],
)  # fmt: skip
def test_pooled_matches_statsmodels_power_proportions_2indep(baseline, mde, ratio, sided, alpha):
    # statsmodels: sample 1 is the treatment (p2 = p1 + diff), nobs2 = ratio * nobs1.
    diff = baseline * mde
    alternative = "two-sided" if sided == "two-sided" else ("larger" if diff > 0 else "smaller")

    def reference(n_control):
        return power_proportions_2indep(
            diff, baseline, ratio * n_control, ratio=1 / ratio, alpha=alpha,
            alternative=alternative, return_results=False,
        )  # fmt: skip

    query = PowerQuery(baseline, mde=mde, ratio=ratio, sided=sided, alpha=alpha)
    result = solve(query)
    assert reference(result.n_per_arm_exact) == pytest.approx(0.8, abs=1e-9)
    at_size = solve(PowerQuery(baseline, mde=mde, ratio=ratio, sided=sided, alpha=alpha,
                               n_per_arm=3000))  # fmt: skip
    assert at_size.power == pytest.approx(reference(3000), abs=1e-12)


def test_unpooled_is_the_wald_test_on_the_standardised_difference():
    # Equal arms: the Wald test of p2 - p1 is NormalIndPower at d = diff / √((p1q1 + p2q2)/2);
    # unequal: statsmodels' normal_power_het with the same standard deviation under H0 and H1.
    p1, p2 = 0.2, 0.23
    spread = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    expected = NormalIndPower().solve_power((p2 - p1) / spread, alpha=0.05, power=0.8)
    result = solve(PowerQuery(p1, mde=0.03, relative=False, method="unpooled"))
    assert result.n_per_arm_exact == pytest.approx(expected, rel=1e-6)
    ratio = 0.4  # statsmodels' sample 1 = the treatment with 0.4 n units, nobs2 = n
    std = math.sqrt(p2 * (1 - p2) + p1 * (1 - p1) * ratio)
    het = normal_power_het(p2 - p1, 0.4 * 8000, 0.05, std_null=std, std_alternative=std)
    query = PowerQuery(p1, mde=0.03, relative=False, method="unpooled", ratio=ratio, n_per_arm=8000)
    assert solve(query).power == pytest.approx(het, abs=1e-12)


def test_more_arms_split_alpha_bonferroni_and_traffic_gives_days():
    # Four arms: three comparisons with the control, each at alpha / 3 (Bonferroni).
    result = solve(PowerQuery(0.1, mde=0.1, arms=4, daily_traffic=5000))
    two_arm_at_third = solve(PowerQuery(0.1, mde=0.1, alpha=0.05 / 3))
    assert result.n_per_arm_exact == pytest.approx(two_arm_at_third.n_per_arm_exact, rel=1e-12)
    reference = power_proportions_2indep(
        0.01, 0.1, result.n_per_arm_exact, alpha=0.05 / 3, return_results=False
    )
    assert reference == pytest.approx(0.8, abs=1e-9)
    assert result.assumptions.alpha_per_comparison == pytest.approx(0.05 / 3)
    assert result.arm_sizes == (result.n_per_arm,) * 4
    assert result.days == math.ceil(4 * result.n_per_arm_exact / 5000)
    assert result.assumptions.allocation == (0.25,) * 4
    uncorrected = solve(PowerQuery(0.1, mde=0.1, arms=4, correction="none"))
    assert uncorrected.n_per_arm_exact < result.n_per_arm_exact


def test_days_for_a_given_size_count_every_arm():
    result = solve(PowerQuery(0.1, n_per_arm=10000, ratio=0.5, arms=3, daily_traffic=1000))
    assert result.arm_sizes == (10000, 5000, 5000) and result.total == 20000
    assert result.days == 20
    assert result.assumptions.allocation == pytest.approx((0.5, 0.25, 0.25))
