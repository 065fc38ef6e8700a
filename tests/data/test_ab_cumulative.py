"""ab_metrics_cumulative on the generated warehouse against an independent computation: each
exposed user's exposure day and kept revenue per order day by plain SQL over the raw tables
(never the models), the variant by common.experiments' hash, the running sums by Python; and
GET /ab/experiments/{id}/timeline on it: its last day is POST /ab/analyze's answer, and a day's
tests on the raw sums are statsmodels' and scipy's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import duckdb
import numpy as np
import pytest
from scipy.stats import ttest_ind_from_stats
from statsmodels.stats.proportion import proportions_ztest

from common.experiments import assign_variant
from tests.support.money import cents
from tests.support.reporting_time import with_local_day

EXPERIMENT = "checkout_one_click"
VARIANTS, WEIGHTS = ("control", "treatment"), (0.5, 0.5)
START, END = date(2026, 9, 15), date(2026, 10, 12)

# A user is exposed at their first signed-in session starting inside the window (local days, see
# tests.support.reporting_time); an order counts from the exposure to the end date, on its local
# day, with its items neither cancelled nor returned at their invoiced prices (whole cents).
USER_DAYS_SQL = f"""
with sessions as (
    select session_id, max(user_id) as user_id, min(created_at) as started_at
    from raw.events group by session_id
),
exposed as (
    select user_id, min(started_at) as exposed_at
    from sessions
    where user_id is not null and local_day(started_at) between $start and $end
    group by user_id
),
kept as (
    select order_id,
        sum(case when status not in ('Cancelled', 'Returned') then {cents("sale_price")} else 0 end)
            as revenue
    from raw.order_items group by order_id
)
select exposed.user_id, local_day(exposed.exposed_at) as exposure_day,
    local_day(o.created_at) as order_day, coalesce(kept.revenue, 0) as revenue
from exposed
left join raw.orders as o
    on o.user_id = exposed.user_id and o.created_at >= exposed.exposed_at
    and local_day(o.created_at) <= $end
left join kept on kept.order_id = o.order_id
"""


@pytest.fixture(scope="module")
def expected(generated_warehouse):
    """{(variant, metric, day): (n, sum, sum of squares)} for every day of the window."""
    with with_local_day(duckdb.connect(str(generated_warehouse), read_only=True)) as con:
        rows = con.execute(USER_DAYS_SQL, {"start": START, "end": END}).fetchall()
    exposure, orders = {}, defaultdict(list)
    for user_id, exposure_day, order_day, revenue in rows:
        exposure[user_id] = exposure_day
        if order_day is not None:
            orders[user_id].append((order_day, float(revenue)))
    stats = {}
    day = START
    while day <= END:
        sums = defaultdict(lambda: [0, 0.0, 0.0])
        for user_id, exposed_on in exposure.items():
            if exposed_on > day:
                continue
            counted = [revenue for order_day, revenue in orders[user_id] if order_day <= day]
            variant = assign_variant(EXPERIMENT, user_id, VARIANTS, WEIGHTS)
            for metric, y in (
                ("conversion", float(bool(counted))),
                ("revenue_per_user", sum(counted)),
            ):
                arm = sums[variant, metric]
                arm[0] += 1
                arm[1] += y
                arm[2] += y * y
        stats.update({(*key, day): tuple(arm) for key, arm in sums.items()})
        day += timedelta(days=1)
    return stats


@pytest.fixture(scope="module")
def mart(generated_warehouse):
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        rows = con.execute(
            "select variant, metric, day, n, sum, sum_squares "
            "from execkpi_marts.ab_metrics_cumulative where experiment_id = $e",
            {"e": EXPERIMENT},
        ).fetchall()
    return {(variant, metric, day): tuple(stats) for variant, metric, day, *stats in rows}


def test_every_day_of_the_window_holds_the_raw_tables_running_sums(expected, mart):
    days = sorted({day for _, _, day in mart})
    assert days == [START + timedelta(days=i) for i in range((END - START).days + 1)]
    assert set(mart) == set(expected)
    for key, (n, total, squares) in expected.items():
        assert mart[key] == pytest.approx((n, total, squares), rel=1e-9, abs=1e-6), key


def test_users_and_values_only_grow_and_the_last_day_is_ab_metrics(generated_warehouse, mart):
    for (variant, metric, day), (n, total, _) in mart.items():
        earlier = mart.get((variant, metric, day - timedelta(days=1)))
        if earlier is not None:
            assert n >= earlier[0] and total >= earlier[1] - 1e-9
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        rows = con.execute(
            "select * exclude (experiment_id) from execkpi_marts.ab_metrics "
            "where experiment_id = $e",
            {"e": EXPERIMENT},
        ).fetchall()
        last = con.execute(
            "select * exclude (experiment_id, day) from execkpi_marts.ab_metrics_cumulative "
            "where experiment_id = $e and day = $end",
            {"e": EXPERIMENT, "end": END},
        ).fetchall()
    assert len(rows) == 4
    by_key = {tuple(row[:2]): row[2:] for row in last}
    for variant, metric, *stats in rows:
        assert by_key[variant, metric] == pytest.approx(tuple(stats), rel=1e-9, abs=1e-6)


@pytest.fixture
def timeline_client(function_client, generated_warehouse):
    return function_client("abtest", EXECKPI_DUCKDB_PATH=str(generated_warehouse))


def test_the_timeline_ends_at_the_analysis(timeline_client):
    path = f"/ab/experiments/{EXPERIMENT}/timeline"
    timeline = timeline_client.get(path).get_json()
    analysis = timeline_client.post("/ab/analyze", json={"experiment_id": EXPERIMENT}).get_json()
    assert timeline["days"][-1] == END.isoformat()
    last = {(s["metric"], s["variant"]): s["points"][-1] for s in timeline["series"]}
    assert len(last) == len(analysis["comparisons"]) == 2
    for c in analysis["comparisons"]:
        point = last[c["metric"], c["variant"]]
        assert (point["estimate"], [point["ci_lower"], point["ci_upper"]]) == (
            c["relative"]["estimate"],
            c["relative"]["ci"],
        )
        assert (point["control_n"], point["treatment_n"]) == (
            c["control"]["n"],
            c["treatment"]["n"],
        )
        for key in ("p_value", "p_value_adjusted", "significant", "ci_level"):
            assert point[key] == c[key], key


def test_a_timeline_day_against_statsmodels_and_scipy(timeline_client, expected):
    """A week in, on the absolute scale without CUPED: the two-proportion z-test (statsmodels)
    and Welch's t-test (scipy, from the raw sums) of the users exposed by then."""
    day = START + timedelta(days=6)
    query = {"scale": "absolute", "cuped": "false"}
    timeline = timeline_client.get(f"/ab/experiments/{EXPERIMENT}/timeline", query_string=query)
    points = {
        s["metric"]: next(p for p in s["points"] if p["day"] == day.isoformat())
        for s in timeline.get_json()["series"]
    }
    (n_c, x_c, _), (n_t, x_t, _) = (expected[v, "conversion", day] for v in VARIANTS)
    assert (points["conversion"]["control_n"], points["conversion"]["treatment_n"]) == (n_c, n_t)
    reference = proportions_ztest([x_t, x_c], [n_t, n_c])[1]
    assert points["conversion"]["p_value"] == pytest.approx(reference, rel=1e-9)
    arms = []
    for variant in VARIANTS:
        n, total, squares = expected[variant, "revenue_per_user", day]
        mean = total / n
        arms.append((mean, np.sqrt((squares - n * mean * mean) / (n - 1)), n))
    (mean_c, sd_c, n_c), (mean_t, sd_t, n_t) = arms
    welch = ttest_ind_from_stats(mean_t, sd_t, n_t, mean_c, sd_c, n_c, equal_var=False)
    revenue = points["revenue_per_user"]
    assert revenue["estimate"] == pytest.approx(mean_t - mean_c, rel=1e-9)
    assert revenue["p_value"] == pytest.approx(welch.pvalue, rel=1e-7)
