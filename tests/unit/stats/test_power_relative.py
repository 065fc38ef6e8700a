"""Relative-lift power (delta method), fixed and sequential, against GrowthBook's test values.

growthbook/growthbook packages/front-end/components/PowerCalculation/stats.test.ts: a mean
metric (mean 10, variance 3909.9997749994377), 400,000 users over 3 variations, alpha 0.05;
and powerMetricWeeks' table (4,500 users a week, 3 variations, revenue mean 0.1, sd √0.5,
effect 5%). GrowthBook plans each comparison at alpha without correction; it takes the spread
of the control for both arms, as /ab/power does for means.
"""

import math

import pytest

from common.stats.power import PowerQuery, solve
from common.stats.power.relative import lift_variance

GB = dict(metric="mean", sd=math.sqrt(3909.9997749994377), method="delta", arms=3)
GB_N = 400000 / 3  # per variation
WEEKLY = dict(metric="mean", sd=math.sqrt(0.5), method="delta", arms=3, correction="none")


def growthbook(**fields):
    return solve(PowerQuery(10.0, n_per_arm=GB_N, correction="none", **GB, **fields))


def test_delta_method_variance():
    # "delta method variance relative correct": frequentistVariance(2, 7, 4, 0.5, 5, 15, true)
    assert round(lift_variance(2, 7, 4, 0.5, 5, 15), 5) == 0.00589


def test_fixed_horizon_power_and_mde():
    assert round(growthbook(mde=0.05).power, 5) == 0.52144  # "calculates power correctly"
    assert round(growthbook().mde_relative, 5) == 0.07027  # "calculates two-tailed mde"


def test_sequential_power_and_mde():
    # GrowthBook's sequentialTesting 5000: the same tuning, N = both arms of a comparison.
    assert round(growthbook(mde=0.05, sequential_tuning=5000).power, 5) == 0.20596
    assert round(growthbook(sequential_tuning=5000).mde_relative, 5) == 0.12821


@pytest.mark.parametrize(
    ("week", "power", "mde", "sequential_power", "sequential_mde"),
    [(1, 0.0541, 1.26769, 0.05168, 4.33868), (2, 0.05821, 0.71941, 0.05341, 1.51846),
     (5, 0.07067, 0.39208, 0.05822, 0.71862), (9, 0.08752, 0.27647, 0.06424, 0.49473)],
)  # fmt: skip
def test_weekly_revenue_table(week, power, mde, sequential_power, sequential_mde):
    n = 4500 * week / 3

    def weekly(**fields):
        return solve(PowerQuery(0.1, n_per_arm=n, **WEEKLY, **fields))

    assert round(weekly(mde=0.05).power, 5) == power
    assert round(weekly().mde_relative, 5) == mde
    assert round(weekly(mde=0.05, sequential_tuning=5000).power, 5) == sequential_power
    # GrowthBook's findMde solves with the effect's rejection region only (its powerEst counts
    # both, as /ab/power does): at these wide sequential intervals the other region is worth
    # 2e-5 of lift in week 1.
    assert weekly(sequential_tuning=5000).mde_relative == pytest.approx(sequential_mde, abs=3e-5)


def test_relative_power_is_capped_so_a_tiny_sample_reaches_no_lift():
    # The lift's standard error grows with the lift: lift / se tends to mean·√n / sd.
    result = solve(PowerQuery(1.0, metric="mean", sd=100.0, method="delta", n_per_arm=50))
    assert result.mde_relative is None and result.message
