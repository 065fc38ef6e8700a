"""CUPED: theta against OLS, the adjusted test against Welch on adjusted values, gbstats' golden."""

import numpy as np
import pytest
from scipy.stats import t as student_t
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.weightstats import ttest_ind

from common.stats.analyze import analyze, compare_arms
from common.stats.cuped import adjust_ratio, pooled_theta
from common.stats.inputs import (
    Experiment,
    Metric,
    Moments,
    Options,
    SequentialOptions,
    Variant,
)
from tests.support.ratio_metrics import (
    GBSTATS_RATIO_CONTROL,
    GBSTATS_RATIO_TREATMENT,
    gbstats_moments,
    ratio_moments,
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


def ratio_arm(y, d, x, e):
    """A ratio metric's sums and its pre-period ratio's."""
    moments = ratio_moments(y, d, x, e)
    return moments, moments.ratio_covariate


def simulate_ratio_arm(rng, n, lift):
    """Sessions (d, e) and clicks (y, x) per user, pre and post correlated through the user."""
    activity = rng.gamma(2.0, 2.0, n)
    e = 1 + rng.poisson(activity)
    d = 1 + rng.poisson(activity)
    propensity = rng.beta(2, 5, n)
    x = rng.binomial(e, propensity).astype(float)
    y = rng.binomial(d, np.clip(propensity * (1 + lift), 0, 1)).astype(float)
    return y, d.astype(float), x, e.astype(float)


def test_gbstats_ratio_regression_adjusted_golden():
    # gbstats' golden case (tests/support/ratio_metrics.py), relative: expected -0.0007,
    # sd 0.00391, ci (-0.00841, 0.00700), pValue 0.85771; its t-test has n_a + n_b - 2 df.
    control = gbstats_moments(*GBSTATS_RATIO_CONTROL)
    treatment = gbstats_moments(*GBSTATS_RATIO_TREATMENT)
    control_pre, treatment_pre = control.ratio_covariate, treatment.ratio_covariate
    a = adjust_ratio(control, treatment, control_pre, treatment_pre)
    lift = (a.treatment.mean - a.control.mean) / a.control.unadjusted_mean
    critical = student_t.ppf(0.975, 198)
    assert np.round(lift, 5) == -0.0007
    assert np.round(np.sqrt(a.relative_variance), 5) == 0.00391
    lower, upper = (
        lift - critical * np.sqrt(a.relative_variance),
        lift + critical * np.sqrt(a.relative_variance),
    )
    assert (np.round(lower, 5), np.round(upper, 5)) == (-0.00841, 0.00700)
    assert np.round(2 * student_t.sf(abs(lift) / np.sqrt(a.relative_variance), 198), 5) == 0.85771


@pytest.fixture(scope="module")
def ratio_data():
    rng = np.random.default_rng(17)
    return simulate_ratio_arm(rng, 1500, 0.0), simulate_ratio_arm(rng, 2300, 0.05)


def linearised(y, d, x, e):
    """Per-unit influence values of Σy/Σd and Σx/Σe (first-order delta method)."""
    r, rx = y.sum() / d.sum(), x.sum() / e.sum()
    return (y - r * d) / d.mean(), (x - rx * e) / e.mean(), r, rx


def test_ratio_adjustment_is_a_regression_on_per_unit_linearised_values(ratio_data):
    c_raw, t_raw = ratio_data
    post_c, pre_c, r_c, rx_c = linearised(*c_raw)
    post_t, pre_t, r_t, rx_t = linearised(*t_raw)
    # gbstats' θ = Σ Cov / Σ Var over the arms: least squares through the origin on both arms'
    # values (each arm's have mean 0), each arm weighted by 1 / (n - 1).
    weights = np.sqrt(np.concatenate([np.full(v.size, 1 / (v.size - 1)) for v in (pre_c, pre_t)]))
    design = (np.concatenate([pre_c, pre_t]) * weights)[:, None]
    theta = np.linalg.lstsq(design, np.concatenate([post_c, post_t]) * weights, rcond=None)[0][0]

    c, c_pre = ratio_arm(*c_raw)
    t, t_pre = ratio_arm(*t_raw)
    a = adjust_ratio(c, t, c_pre, t_pre)
    assert a.theta == pytest.approx(theta, rel=1e-9)
    assert a.treatment.mean - a.control.mean == pytest.approx(
        (r_t - theta * rx_t) - (r_c - theta * rx_c), rel=1e-9
    )
    assert a.control.unadjusted_mean == pytest.approx(r_c, rel=1e-12)
    for arm, post, pre in ((a.control, post_c, pre_c), (a.treatment, post_t, pre_t)):
        assert arm.variance == pytest.approx(np.var(post - theta * pre, ddof=1), rel=1e-9)
    raw = np.var(post_c, ddof=1) / post_c.size + np.var(post_t, ddof=1) / post_t.size
    adjusted = a.control.mean_variance + a.treatment.mean_variance
    assert a.variance_reduction == pytest.approx(1 - adjusted / raw, rel=1e-9)
    assert a.variance_reduction > 0.15  # the pre-period predicts a fifth of the variance here


def test_ratio_adjustment_ses_match_the_spread_over_repeated_experiments():
    # The delta-method SEs against the standard deviation of the estimates over 400 simulated
    # experiments (its own relative error is about 1/sqrt(2·400) = 3.5%, hence 12%).
    rng = np.random.default_rng(23)
    estimates, ses = [], []
    for _ in range(400):
        c, c_pre = ratio_arm(*simulate_ratio_arm(rng, 400, 0.0))
        t, t_pre = ratio_arm(*simulate_ratio_arm(rng, 600, 0.05))
        a = adjust_ratio(c, t, c_pre, t_pre)
        difference = a.treatment.mean - a.control.mean
        estimates.append((difference, difference / a.control.unadjusted_mean))
        ses.append(
            (
                np.sqrt(a.control.mean_variance + a.treatment.mean_variance),
                np.sqrt(a.relative_variance),
            )
        )
    spread, typical = np.std(estimates, axis=0, ddof=1), np.mean(ses, axis=0)
    assert typical == pytest.approx(spread, rel=0.12)


def test_ratio_without_pre_period_variance_stays_unadjusted(ratio_data):
    (y_c, d_c, _, e_c), (y_t, d_t, _, e_t) = ratio_data
    # A constant pre-period ratio (x = 2e) has no variance once linearised.
    c, c_pre = ratio_arm(y_c, d_c, 2 * e_c, e_c)
    t, t_pre = ratio_arm(y_t, d_t, 2 * e_t, e_t)
    with np.errstate(all="ignore"):  # as the engine calls it: 0/0 is NaN, not a warning
        a = adjust_ratio(c, t, c_pre, t_pre)
    assert np.isnan(a.theta)
    assert a.control.mean == pytest.approx(y_c.sum() / d_c.sum(), rel=1e-12)
    assert a.variance_reduction == pytest.approx(0.0, abs=1e-12)
