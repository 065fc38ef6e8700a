"""Capping against scipy's winsorize and DuckDB's quantile_cont + LEAST (the SQL route)."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import mstats

from common.stats.capping import cap, pooled_quantile


@pytest.fixture(scope="module")
def arms():
    rng = np.random.default_rng(11)
    # Revenue-like: most units spend nothing, a few spend a lot (lognormal tail).
    control = rng.lognormal(3, 1.5, 1500) * (rng.random(1500) < 0.3)
    treatment = rng.lognormal(3.1, 1.5, 1700) * (rng.random(1700) < 0.3)
    return control, treatment


def test_capping_at_an_order_statistic_is_scipy_winsorize():
    values = np.random.default_rng(5).pareto(1.5, 1000)  # continuous: no ties
    # winsorize(limits=(0, 0.01)) replaces the top 10 values by the 990th smallest.
    reference = np.asarray(mstats.winsorize(values, limits=(0, 0.01)))
    r = cap(values, np.sort(values)[989])
    assert r.capped == 10
    assert r.moments.n == 1000
    assert r.moments.sum == pytest.approx(reference.sum(), rel=1e-12)
    assert r.moments.sum_squares == pytest.approx((reference**2).sum(), rel=1e-12)


def test_a_cap_above_every_value_changes_nothing(arms):
    control, _ = arms
    r = cap(control, control.max())
    assert r.capped == 0
    assert r.moments.sum == pytest.approx(control.sum(), rel=1e-12)


@pytest.mark.parametrize("ignore_zeros", [False, True])
def test_percentile_capping_matches_duckdb_sql(arms, ignore_zeros):
    control, treatment = arms
    threshold = pooled_quantile([control, treatment], 0.99, ignore_zeros=ignore_zeros)
    units = {
        "arm": ["control"] * control.size + ["treatment"] * treatment.size,
        "value": np.concatenate([control, treatment]),
    }
    con = duckdb.connect()
    con.register("units", pd.DataFrame(units))
    where = "WHERE value <> 0" if ignore_zeros else ""
    rows = con.execute(
        f"""
        WITH cap AS (SELECT quantile_cont(value, 0.99) AS c FROM units {where})
        SELECT arm, any_value(c), count(*), sum(least(value, c)),
               sum(power(least(value, c), 2)), count(*) FILTER (WHERE value > c)
        FROM units, cap GROUP BY arm ORDER BY arm
        """
    ).fetchall()
    for (arm, sql_cap, n, total, squares, above), values in zip(
        rows, (control, treatment), strict=True
    ):
        r = cap(values, threshold)
        assert threshold == pytest.approx(sql_cap, rel=1e-12), arm
        assert (r.moments.n, r.capped) == (n, above)
        assert r.moments.sum == pytest.approx(total, rel=1e-12)
        assert r.moments.sum_squares == pytest.approx(squares, rel=1e-12)


def test_ignoring_zeros_raises_the_cap_of_a_mostly_zero_metric(arms):
    plain = pooled_quantile(arms, 0.9)
    non_zero = pooled_quantile(arms, 0.9, ignore_zeros=True)
    assert non_zero > plain


def test_no_values_give_an_undefined_cap_and_empty_moments():
    assert np.isnan(pooled_quantile([[], []], 0.99))
    assert cap([], 10.0).moments.n == 0
