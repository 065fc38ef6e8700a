"""Quantile effects against GrowthBook, scipy's order-statistic CI, DuckDB and simulation.

The comparison is the engine's (``compare_arms`` with kind "quantile"), on either scale."""

import duckdb
import numpy as np
import pytest
from scipy import stats

from common.stats import quantiles as q
from common.stats.analyze import compare_arms
from common.stats.inputs import Options
from common.validation import InvalidInput

# growthbook/growthbook packages/stats/tests/bayesian/test_tests.py (8f1db44),
# TestEffectBayesianABTest: P90, n 11054 / 10861. Its improper flat prior gives the normal
# interval of the frequentist effect; the relative one uses a N(0, 1e6) prior (~1e-11 away).
GB_CONTROL = q.QuantileArm(0.9, 11054, 7.157987489967789, 7.098780136176828, 7.217194843758751)
GB_TREATMENT = q.QuantileArm(0.9, 10861, 7.694499927525767, 7.64180598628119, 7.747193868770344)


def compare(control, treatment, **options):
    return compare_arms("quantile", control, treatment, Options(bayesian=None, **options)).effect


def test_effect_matches_growthbook():
    # GrowthBook reports both effects; here each is its own scale's test.
    effect = compare(GB_CONTROL, GB_TREATMENT, scale="absolute")
    assert effect.absolute.value == pytest.approx(0.5365124375579775, abs=1e-12)
    assert (effect.absolute.lower, effect.absolute.upper) == pytest.approx(
        (0.4572559589115422, 0.6157689162044128), abs=1e-12
    )
    z = effect.absolute.value / effect.absolute.se
    assert effect.p_value == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)
    effect = compare(GB_CONTROL, GB_TREATMENT, scale="relative")
    assert effect.relative.value == pytest.approx(0.07495297222736319, abs=1e-10)
    assert (effect.relative.lower, effect.relative.upper) == pytest.approx(
        (0.06341005842481906, 0.08649588602990732), abs=1e-10
    )
    z = effect.relative.value / effect.relative.se
    assert effect.p_value == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)


def test_bounds_from_values_are_scipys_distribution_free_order_statistics():
    # scipy.stats.quantile_test's 95% CI is the exact binomial pair of order statistics; the
    # normal-approximation ranks land within 2 order statistics of it.
    rng = np.random.default_rng(3)
    for level, size in ((0.5, 801), (0.9, 2000), (0.25, 150)):
        values = np.sort(rng.lognormal(size=size))
        arm = q.arm_from_values(values, level)
        exact = stats.quantile_test(
            values, q=np.quantile(values, level), p=level
        ).confidence_interval(0.95)
        for ours, theirs in ((arm.lower, exact.low), (arm.upper, exact.high)):
            assert abs(np.searchsorted(values, ours) - np.searchsorted(values, theirs)) <= 2
        assert arm.quantile == np.quantile(values, level)


def test_sufficient_statistics_from_sql_equal_those_from_values():
    # DuckDB's quantile_cont at the levels bound_levels gives: what a warehouse query returns.
    rng = np.random.default_rng(4)
    values = rng.exponential(size=1234)
    low, high = q.bound_levels(0.9, len(values))
    [row] = (
        duckdb.connect()
        .execute(
            "select count(v), quantile_cont(v, $q), quantile_cont(v, $lo), quantile_cont(v, $hi)"
            " from (select unnest($values) as v)",
            {"q": 0.9, "lo": low, "hi": high, "values": values.tolist()},
        )
        .fetchall()
    )
    arm = q.arm_from_values(values, 0.9)
    assert (arm.n, arm.quantile, arm.lower, arm.upper) == pytest.approx(row, rel=1e-12)


def test_simulated_coverage_se_and_false_positives():
    # Exponential arms, scale 1 and 1.1: the true P50 / P90 differ by 0.1·(-ln(1 - q)) and by
    # +10% exactly. 2000 seeded experiments of 2000 units per arm; coverage within 3 binomial SEs
    # (0.0146) of 95%, and the mean SE within 5% of the true sampling SD (its Monte Carlo error
    # is 1.6%).
    rng = np.random.default_rng(20260521)
    runs, size = 2000, 2000
    tolerance = 3 * np.sqrt(0.95 * 0.05 / runs)
    for level in (0.5, 0.9):
        true_abs, true_rel = 0.1 * -np.log(1 - level), 0.1
        control = rng.exponential(1.0, size=(runs, size))
        treatment = rng.exponential(1.1, size=(runs, size))
        null = rng.exponential(1.0, size=(runs, size))
        arms = [
            (q.arm_from_values(c, level), q.arm_from_values(t, level))
            for c, t in zip(control, treatment, strict=True)
        ]
        results = [compare(c, t, scale="absolute") for c, t in arms]
        absolute = np.array([(r.absolute.value, r.absolute.se, r.absolute.lower, r.absolute.upper)
                             for r in results])  # fmt: skip
        relative = np.array(
            [(r.relative.lower, r.relative.upper) for r in (compare(c, t) for c, t in arms)]
        )
        assert np.mean((absolute[:, 2] < true_abs) & (true_abs < absolute[:, 3])) == pytest.approx(
            0.95, abs=tolerance
        )
        assert np.mean((relative[:, 0] < true_rel) & (true_rel < relative[:, 1])) == pytest.approx(
            0.95, abs=tolerance
        )
        assert absolute[:, 1].mean() == pytest.approx(absolute[:, 0].std(ddof=1), rel=0.05)
        p_null = np.array(
            [
                compare(q.arm_from_values(c, level), q.arm_from_values(n, level)).p_value
                for c, n in zip(control, null, strict=True)
            ]
        )
        assert np.mean(p_null < 0.05) == pytest.approx(0.05, abs=3 * np.sqrt(0.05 * 0.95 / runs))


def test_one_sided_tests_use_the_normal_quantile():
    effect = compare(GB_CONTROL, GB_TREATMENT, scale="absolute", sided="greater")
    assert effect.absolute.upper == np.inf
    assert effect.absolute.lower == pytest.approx(
        effect.absolute.value - stats.norm.ppf(0.95) * effect.absolute.se
    )
    assert effect.p_value == pytest.approx(
        stats.norm.sf(effect.absolute.value / effect.absolute.se)
    )


def test_n_star_rescales_the_bounds_width():
    # Bounds computed for n* = n/4 are twice as wide; n*/n brings the SE back.
    wide = q.QuantileArm(
        0.9,
        11054,
        GB_CONTROL.quantile,
        7.098780136176828 - 0.0592,
        7.217194843758751 + 0.0592,
        n_star=11054 / 4,
    )
    assert q.summarize(wide).variance == pytest.approx(
        q.summarize(GB_CONTROL).variance
        * ((wide.upper - wide.lower) / (GB_CONTROL.upper - GB_CONTROL.lower)) ** 2
        / 4
    )


def test_undefined_effects_are_nan_with_a_reason():
    assert q.min_units(0.9) == pytest.approx(stats.norm.ppf(0.975) ** 2 * 9)
    small = q.arm_from_values(np.arange(30.0), 0.9)  # 30 <= 34.6 units
    effect = compare(small, GB_TREATMENT, scale="absolute")
    assert np.isnan(effect.absolute.se) and np.isnan(effect.p_value)
    assert "at least 35 units" in q.undefined_reason(small, GB_TREATMENT)
    flat = q.arm_from_values(np.r_[np.zeros(900), np.ones(100)], 0.5)  # all zeros near the median
    assert "do not vary" in q.undefined_reason(flat, GB_TREATMENT)
    zero = q.QuantileArm(0.5, 1000, 0.0, -1.0, 1.0)
    assert "relative" in q.undefined_reason(zero, GB_TREATMENT)
    assert not np.isfinite(compare(zero, GB_TREATMENT).relative.value)
    assert np.isfinite(compare(zero, GB_TREATMENT, scale="absolute").absolute.se)


def test_inconsistent_statistics_name_the_field():
    with pytest.raises(InvalidInput) as error:
        q.check_arm(q.QuantileArm(0.5, 100, 5.0, 6.0, 7.0), "variants[1].quantile")
    assert error.value.field == "variants[1].quantile"
    with pytest.raises(InvalidInput) as error:
        q.check_arm(q.QuantileArm(0.5, 100, 5.0, 4.0, 7.0, n_star=200), "variants[1].quantile")
    assert error.value.field == "variants[1].quantile.n_star"
    assert q.check_arm(GB_CONTROL, "control") is GB_CONTROL
