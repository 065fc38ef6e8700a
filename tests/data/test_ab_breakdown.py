"""Experiment breakdowns on the generated warehouse against an independent computation: each
exposed user's values and dimensions by plain SQL over the raw tables (never the models), the
variant by common.experiments' hash, the tests by statsmodels and scipy, the correction across
the dimension values by statsmodels' multipletests."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import duckdb
import numpy as np
import pytest
from scipy.stats import chisquare
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import ttest_ind

from common.experiments import assign_variant
from tests.support.money import cents
from tests.support.reporting_time import with_local_day

EXPERIMENT = "checkout_one_click"
VARIANTS, WEIGHTS = ("control", "treatment"), (0.5, 0.5)
START, END = date(2026, 9, 15), date(2026, 10, 12)
DIMENSIONS = ("browser", "traffic_source", "country")

# A user is exposed at their first signed-in session starting inside the window (days in the
# reporting time zone, see tests.support.reporting_time); that session's
# first event gives browser and traffic source. Conversion and kept revenue count orders from
# the exposure to the end date; kept = items neither cancelled nor returned, each at its price
# as invoiced (whole cents, as the marts book it).
PER_USER_SQL = f"""
with sessions as (
    select session_id, max(user_id) as user_id, min(created_at) as started_at,
        arg_min(browser, sequence_number) as browser,
        arg_min(traffic_source, sequence_number) as traffic_source
    from raw.events group by session_id
),
exposed as (
    select user_id, min(started_at) as exposed_at,
        arg_min(browser, started_at) as browser,
        arg_min(traffic_source, started_at) as traffic_source
    from sessions
    where user_id is not null and local_day(started_at) between $start and $end
    group by user_id
),
kept as (
    select order_id,
        sum(case when status not in ('Cancelled', 'Returned') then {cents("sale_price")} else 0 end)
            as revenue
    from raw.order_items group by order_id
),
in_window as (
    select exposed.user_id, coalesce(kept.revenue, 0) as revenue
    from exposed
    inner join raw.orders as o on o.user_id = exposed.user_id
    left join kept on kept.order_id = o.order_id
    where o.created_at >= exposed.exposed_at and local_day(o.created_at) <= $end
)
select exposed.user_id, exposed.browser, exposed.traffic_source, users.country,
    count(in_window.user_id) > 0 as converted, coalesce(sum(in_window.revenue), 0) as revenue
from exposed
left join raw.users as users on users.id = exposed.user_id
left join in_window on in_window.user_id = exposed.user_id
group by all
"""


@pytest.fixture(scope="module")
def users(generated_warehouse):
    """{dimension: {value: {variant: (converted 0/1 array, revenue array)}}}."""
    with with_local_day(duckdb.connect(str(generated_warehouse), read_only=True)) as con:
        rows = con.execute(PER_USER_SQL, {"start": START, "end": END}).fetchall()
    values: dict = {d: defaultdict(lambda: {v: ([], []) for v in VARIANTS}) for d in DIMENSIONS}
    for user_id, browser, source, country, converted, revenue in rows:
        variant = assign_variant(EXPERIMENT, user_id, VARIANTS, WEIGHTS)
        for dimension, value in zip(DIMENSIONS, (browser, source, country), strict=True):
            arm = values[dimension][value or "unknown"][variant]
            arm[0].append(float(converted))
            arm[1].append(float(revenue))
    assert rows and all(len(v) <= 20 for v in values.values())  # no 'other' at this size
    return {
        d: {
            value: {v: tuple(map(np.array, arm)) for v, arm in arms.items()}
            for value, arms in by.items()
        }
        for d, by in values.items()
    }


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_the_mart_holds_the_raw_tables_per_user_sums(generated_warehouse, users, dimension):
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        rows = con.execute(
            "select dimension_value, variant, metric, n, sum, sum_squares "
            "from execkpi_marts.ab_metrics_by_dimension "
            "where experiment_id = $e and dimension = $d",
            {"e": EXPERIMENT, "d": dimension},
        ).fetchall()
    mart = {(value, variant, metric): stats for value, variant, metric, *stats in rows}
    expected = {}
    for value, arms in users[dimension].items():
        for variant, (converted, revenue) in arms.items():
            for metric, y in (("conversion", converted), ("revenue_per_user", revenue)):
                if y.size:
                    expected[value, variant, metric] = (y.size, y.sum(), (y * y).sum())
    assert set(mart) == set(expected)
    for key, (n, total, squares) in expected.items():
        assert mart[key] == pytest.approx((n, total, squares), rel=1e-9, abs=1e-6), key


def reference_p(metric: str, control: np.ndarray, treatment: np.ndarray) -> float:
    """statsmodels' p-value on the absolute scale; 1.0 where it is undefined, the engine's
    convention."""
    if min(control.size, treatment.size) < (1 if metric == "conversion" else 2):
        return 1.0
    if metric == "revenue_per_user":
        if control.var() == 0 and treatment.var() == 0:
            return 1.0
        return ttest_ind(treatment, control, usevar="unequal")[1]
    x_c, x_t = int(control.sum()), int(treatment.sum())
    if x_c + x_t in (0, control.size + treatment.size):
        return 1.0
    return proportions_ztest([x_t, x_c], [treatment.size, control.size])[1]


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_breakdown_against_statsmodels(function_client, generated_warehouse, users, dimension):
    client = function_client("abtest", EXECKPI_DUCKDB_PATH=str(generated_warehouse))
    body = {
        "experiment_id": EXPERIMENT,
        "dimension": dimension,
        "options": {"cuped": False, "scale": "absolute"},
    }
    response = client.post("/ab/breakdown", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert {v["dimension_value"] for v in result["values"]} == set(users[dimension])
    units = [v["units"] for v in result["values"]]
    assert units == sorted(units, reverse=True)
    p_values, reported = defaultdict(list), defaultdict(list)
    for value in result["values"]:
        arms = users[dimension][value["dimension_value"]]
        counts = [arms[v][0].size for v in VARIANTS]
        assert value["srm"]["observed"] == counts
        assert value["srm"]["p_value"] == pytest.approx(chisquare(counts).pvalue, rel=1e-9)
        for c in value["comparisons"]:
            metric = c["metric"]
            column = 0 if metric == "conversion" else 1
            control, treatment = arms["control"][column], arms["treatment"][column]
            expected = reference_p(metric, control, treatment)
            assert c["p_value"] == pytest.approx(expected, rel=1e-7, abs=1e-12), (value, c)
            p_values[metric].append(c["p_value"])
            reported[metric].append((c["p_value_across_values"], c["significant_across_values"]))
    assert set(p_values) == {"conversion", "revenue_per_user"}
    for metric, raw in p_values.items():
        reject, holm, _, _ = multipletests(raw, alpha=0.05, method="holm")
        assert [p for p, _ in reported[metric]] == pytest.approx(list(holm), rel=1e-12)
        assert [s for _, s in reported[metric]] == [bool(r) for r in reject]
