"""ab_metrics_cumulative on the generated warehouse against an independent computation: each
exposed user's exposure day and kept revenue per order day by plain SQL over the raw tables
(never the models), the variant by common.experiments' hash, the running sums by Python."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import duckdb
import pytest

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
