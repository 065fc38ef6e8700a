"""Always-valid inference against gbstats' golden values and its guarantees."""

import numpy as np
import pytest

from common.stats import sequential
from common.stats.analyze import analyze, compare_arms
from common.stats.inputs import Experiment, Metric, Moments, Options, SequentialOptions, Variant

STAT_A = Moments(3000, 1396.87, 52377.9767)
STAT_B = Moments(3461, 2422.7, 134698.29)


def relative(kind, control, treatment, tuning=5000.0):
    options = Options(sequential=SequentialOptions(tuning))
    return compare_arms(kind, control, treatment, options).effect.relative


def rounded(*values):
    return tuple(float(np.round(v, 5)) for v in values)


def test_gbstats_sequential_goldens():
    # growthbook/growthbook packages/stats/tests/frequentist/test_tests.py, TestSequentialTTest:
    # test_sequential_test_runs (tuning 1000): 0.50336, ci (-0.55844, 1.56516), sd 0.33341
    r = relative("mean", STAT_A, STAT_B, tuning=1000)
    assert rounded(r.value, r.lower, r.upper, r.se) == (0.50336, -0.55844, 1.56516, 0.33341)
    # test_sequential_test_runs_prop (default tuning 5000): 0.50386, ci (0.40098, 0.60675),
    # sd 0.03386
    r = relative("proportion", Moments(3000, 1396), Moments(3461, 2422))
    assert rounded(r.value, r.lower, r.upper, r.se) == (0.50386, 0.40098, 0.60675, 0.03386)


def test_tuning_near_the_sample_size_gives_the_tightest_interval():
    # As gbstats' test_sequential_test_tuning_as_expected: tuning 10, 6461 (= N), 10000.
    widths = {
        t: np.ptp([(r := relative("mean", STAT_A, STAT_B, t)).lower, r.upper])
        for t in (10, 6461, 10000)
    }
    assert widths[6461] < widths[10000] < widths[10]


def test_always_valid_interval_is_wider_and_p_value_larger_than_fixed_horizon():
    absolute = Options(scale="absolute")
    fixed = compare_arms("mean", STAT_A, STAT_B, absolute).effect
    always = compare_arms(
        "mean", STAT_A, STAT_B, Options(scale="absolute", sequential=SequentialOptions())
    ).effect
    assert (
        always.absolute.lower < fixed.absolute.lower < fixed.absolute.upper < always.absolute.upper
    )
    assert always.p_value > fixed.p_value


def test_p_value_matches_the_e_value_form_and_the_interval():
    # gbstats: p = min(1, 1/e) with e = exp(r2 * z^2 N / (2(N r2 + 1))) / sqrt(N r2 + 1);
    # its interval excludes 0 exactly when p < alpha.
    alpha, tuning, n = 0.05, 5000.0, 6000.0
    r2 = (-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning
    for estimate in (0.01, 0.05, 0.08, 0.2):
        se = 0.03
        e_value = np.exp(r2 * (estimate / se) ** 2 * n / (2 * (n * r2 + 1))) / np.sqrt(n * r2 + 1)
        p = sequential.p_value(estimate, se, n, alpha=alpha, tuning=tuning)
        assert p == pytest.approx(min(1.0, 1 / e_value), rel=1e-12)
        excludes_zero = estimate - sequential.half_width(se, n, alpha=alpha, tuning=tuning) > 0
        assert excludes_zero == (p < alpha)


def test_sequential_analysis_reports_always_valid_numbers():
    experiment = Experiment(
        (Variant("a", {"m": STAT_A}), Variant("b", {"m": STAT_B})),
        (Metric("m", "mean"),),
        Options(sequential=SequentialOptions(1000), bayesian=None),
    )
    c = analyze(experiment).comparisons[0]
    assert c.method == "relative_welch_t_sequential"
    assert rounded(*c.relative.ci) == (-0.55844, 1.56516)
    assert "always-valid" in analyze(experiment).decision.summary
