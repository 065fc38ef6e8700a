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


# One-sided always-valid intervals. gbstats' reference: packages/stats/tests/frequentist/
# test_tests.py (growthbook/growthbook 8f1db44), TestSequentialOneSided{Greater,Lesser}TTest:
# N = 3000 + 3461, default tuning 5000, alpha 0.05; the effect and its SE are gbstats' own
# ("expected" and the uplift's stddev), absolute and relative.
GB_ABSOLUTE = (0.23437666666666668, 0.12983081254184736)
GB_RELATIVE = (0.5033610858562358, 0.3334122146400735)
GB_N = 6461.0


def test_one_sided_interval_matches_gbstats():
    for (estimate, se), greater_lower, less_upper in (
        (GB_ABSOLUTE, -0.12656844172804982, 0.5953217750613832),
        (GB_RELATIVE, -0.42356454602790883, 1.4302867177403806),
    ):
        bound = sequential.one_sided_half_width(se, GB_N, alpha=0.05, tuning=5000.0)
        assert estimate - bound == pytest.approx(greater_lower, abs=1e-12)
        assert estimate + bound == pytest.approx(less_upper, abs=1e-12)


def test_one_sided_p_value_is_where_gbstats_bisection_converges():
    # gbstats bisects alpha in [1e-5, 0.4999] and returns the midpoint of its last bracket: its
    # 0.46316491943359384 (greater, absolute) lies within that bracket, 0.4999 / 2^11, of the
    # exact root. The root makes the one-sided interval's lower end exactly 0.
    estimate, se = GB_ABSOLUTE
    p = float(
        sequential.one_sided_p_value(estimate, se, GB_N, alpha=0.05, tuning=5000.0, sided="greater")
    )
    assert abs(p - 0.46316491943359384) < 0.4999 / 2**11
    # At that alpha, with r2 still tuned to 0.05, the bound equals the estimate.
    r2 = sequential.rho_squared(0.1, 5000.0)
    spread = GB_N * r2 + 1
    bound = se * np.sqrt(2 * spread * np.log(1 + np.sqrt(spread) / (2 * p)) / (GB_N * r2))
    assert bound == pytest.approx(estimate, rel=1e-12)
    # gbstats reports its maximum, 0.4999, where even alpha 0.4999 leaves 0 inside the interval:
    # the relative effect (greater) and both effects against "less" (the estimate points up).
    for (estimate, se), sided in (
        (GB_RELATIVE, "greater"),
        (GB_ABSOLUTE, "less"),
        (GB_RELATIVE, "less"),
    ):
        p = sequential.one_sided_p_value(estimate, se, GB_N, alpha=0.05, tuning=5000.0, sided=sided)
        assert p >= 0.4999


def test_one_sided_interval_excludes_zero_exactly_when_p_below_alpha():
    n, tuning = 6000.0, 5000.0
    for alpha in (0.01, 0.05, 0.2):
        for estimate in (-0.1, -0.05, 0.02, 0.05, 0.07, 0.1, 0.3):
            se = 0.03
            bound = sequential.one_sided_half_width(se, n, alpha=alpha, tuning=tuning)
            p = sequential.one_sided_p_value(
                estimate, se, n, alpha=alpha, tuning=tuning, sided="greater"
            )
            assert (estimate - bound > 0) == (p < alpha)
            p_less = sequential.one_sided_p_value(
                -estimate, se, n, alpha=alpha, tuning=tuning, sided="less"
            )
            assert p_less == pytest.approx(p, rel=1e-12)


def test_one_sided_p_value_survives_overwhelming_evidence_and_no_variation():
    p = sequential.one_sided_p_value(50.0, 0.01, 1e6, alpha=0.05, tuning=5000.0, sided="greater")
    assert 0 <= p < 1e-300
    with np.errstate(all="ignore"):
        assert np.isnan(
            sequential.one_sided_p_value(
                1.0, 0.0, 100.0, alpha=0.05, tuning=5000.0, sided="greater"
            )
        )


def test_one_sided_false_positives_stay_below_alpha_under_continuous_monitoring():
    # Independent check of validity: a null random walk, looked at after every 50 units up to
    # 20000, rejects (p < alpha at any look) in at most alpha of 4000 seeded runs (+3 SE).
    rng = np.random.default_rng(20260521)
    runs, looks, step, alpha = 4000, 400, 50, 0.05
    n = step * np.arange(1, looks + 1)
    sums = np.cumsum(rng.normal(size=(runs, looks)) * np.sqrt(step), axis=1)
    estimate, se = sums / n, 1 / np.sqrt(n)
    p = sequential.one_sided_p_value(estimate, se, n, alpha=alpha, tuning=5000.0, sided="greater")
    rejected = (p < alpha).any(axis=1).mean()
    assert rejected <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / runs)
    assert rejected > 0.2 * alpha  # the test still rejects sometimes: not vacuous
