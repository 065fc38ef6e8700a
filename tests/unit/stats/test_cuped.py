"""CUPED: theta against OLS, the adjusted test against Welch on adjusted values, gbstats' golden."""

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.weightstats import ttest_ind

from common.stats.analyze import analyze, compare_arms
from common.stats.cuped import pooled_theta
from common.stats.inputs import (
    Experiment,
    Metric,
    Moments,
    Options,
    SequentialOptions,
    Variant,
)


def arm(y, x):
    return Moments(
        n=float(y.size),
        sum=float(y.sum()),
        sum_squares=float((y * y).sum()),
        covariate_sum=float(x.sum()),
        covariate_sum_squares=float((x * x).sum()),
        cross_product_sum=float((x * y).sum()),
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    x_c, x_t = rng.gamma(2.0, 10.0, 900), rng.gamma(2.0, 10.0, 950)
    y_c = 5 + 0.8 * x_c + rng.normal(0, 6, x_c.size)
    y_t = 6 + 0.8 * x_t + rng.normal(0, 6, x_t.size)
    return (y_c, x_c), (y_t, x_t)


def comparison(data, **options):
    (y_c, x_c), (y_t, x_t) = data
    experiment = Experiment(
        (Variant("control", {"m": arm(y_c, x_c)}), Variant("treatment", {"m": arm(y_t, x_t)})),
        (Metric("m", "mean", "primary"),),
        Options(bayesian=None, **options),
    )
    return analyze(experiment).comparisons[0]


def test_theta_is_the_ols_slope_over_both_arms_pooled(data):
    (y_c, x_c), (y_t, x_t) = data
    y, x = np.concatenate([y_c, y_t]), np.concatenate([x_c, x_t])
    slope = OLS(y, np.column_stack([np.ones_like(x), x])).fit().params[1]
    assert float(pooled_theta(arm(y_c, x_c), arm(y_t, x_t))) == pytest.approx(slope, rel=1e-10)


def test_adjusted_test_is_welch_on_the_adjusted_values(data):
    c = comparison(data, scale="absolute")
    (y_c, x_c), (y_t, x_t) = data
    theta = c.cuped.theta
    t, p, df = ttest_ind(y_t - theta * x_t, y_c - theta * x_c, usevar="unequal")
    assert c.method == "welch_t_cuped"
    assert (c.statistic, c.p_value, c.df) == pytest.approx((t, p, df), abs=1e-8)
    assert c.relative.estimate == pytest.approx(
        ((y_t - theta * x_t).mean() - (y_c - theta * x_c).mean()) / y_c.mean(), abs=1e-12
    )
    # A strong covariate removes most of the variance, so the interval narrows.
    raw = comparison(data, cuped=False, scale="absolute")
    assert c.cuped.variance_reduction > 0.75
    assert c.absolute.se < raw.absolute.se / 2


def test_gbstats_sequential_regression_adjusted_golden():
    # growthbook/growthbook packages/stats/tests/frequentist/test_tests.py,
    # TestSequentialTTest.test_sequential_test_runs_ra: theta computed (pooled) by the test,
    # default tuning 5000 -> expected 0.50338, ci (-0.50969, 1.51646), sd 0.33341.
    def ra(n, post_sum, post_squares, pre_sum, pre_squares):
        return Moments(n, post_sum, post_squares, pre_sum, pre_squares, cross_product_sum=1.0)

    control = ra(3000, 1396.87, 52377.9767, 16.87, 527.9767)
    treatment = ra(3461, 2422.7, 134698.29, 22.7, 1348.29)
    arms = compare_arms(
        "mean", control, treatment, Options(sequential=SequentialOptions()), cuped_adjust=True
    )
    relative = arms.effect.relative
    assert np.round(relative.value, 5) == 0.50338
    assert np.round(relative.se, 5) == 0.33341
    assert (np.round(relative.lower, 5), np.round(relative.upper, 5)) == (-0.50969, 1.51646)


def test_no_covariate_variance_skips_cuped_with_a_message(data):
    (y_c, _), (y_t, _) = data
    experiment = Experiment(
        (
            Variant("control", {"m": arm(y_c, np.ones_like(y_c))}),
            Variant("treatment", {"m": arm(y_t, np.ones_like(y_t))}),
        ),
        (Metric("m", "mean", "primary"),),
    )
    c = analyze(experiment).comparisons[0]
    assert c.cuped is None and c.method == "relative_welch_t"
    assert any("CUPED skipped" in m for m in c.messages)
