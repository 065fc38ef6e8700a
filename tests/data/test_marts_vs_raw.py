"""Each mart against an independent computation over the raw tables: plain SQL written apart
from the models, or Python. Run on generated data and on the real thelook exports. Days are
calendar days in the reporting time zone, from raw UTC timestamps through Python's zoneinfo
(``local_day``, also callable in the SQL here)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from tests.support.money import cents
from tests.support.reporting_time import local_day

KEPT = ("Processing", "Shipped", "Complete")
PRICE = cents("i.sale_price")  # as invoiced: whole cents


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_revenue_daily_matches_raw_items(warehouse):
    expected = rows(
        warehouse,
        f"""
        select local_day(o.created_at) as day,
               count(distinct o.order_id) as placed,
               count(distinct case when i.status in {KEPT} then o.order_id end) as kept,
               count(case when i.status in {KEPT} then 1 end) as items,
               coalesce(sum(case when i.status in {KEPT} then {PRICE} end), 0) as revenue
        from raw.orders o left join raw.order_items i on i.order_id = o.order_id
        group by 1 order by 1
        """,
    )
    actual = rows(
        warehouse,
        "select order_date, orders_placed, orders, items, revenue, aov "
        "from execkpi_marts.revenue_daily order by 1",
    )
    assert len(actual) == len(expected) > 0
    for (day, placed, kept, items, revenue), mart in zip(expected, actual, strict=True):
        assert mart[:4] == (day, placed, kept, items)
        assert mart[4] == revenue  # cent-exact decimals
        # AOV is money to 9 decimals (answers round it): within one unit of the last digit.
        assert abs(mart[5] - revenue / kept) <= Decimal("1e-9") if kept else mart[5] is None


def test_revenue_monthly_growth(warehouse):
    daily = rows(warehouse, "select order_date, revenue from execkpi_marts.revenue_daily")
    by_month: dict[date, Decimal] = defaultdict(Decimal)
    for day, revenue in daily:
        by_month[day.replace(day=1)] += revenue
    months = sorted(by_month)
    actual = {
        month: (revenue, growth)
        for month, revenue, growth in rows(
            warehouse,
            "select month, revenue, revenue_growth_mom from execkpi_marts.revenue_monthly",
        )
    }
    assert sorted(actual) == months
    for previous, month in pairwise(months):
        expected = float(by_month[month] / by_month[previous] - 1) if by_month[previous] else None
        assert actual[month][1] == (pytest.approx(expected) if expected is not None else None)
    assert actual[months[0]][1] is None


def test_funnel_counts_sessions_by_first_event_source(warehouse):
    events = rows(
        warehouse,
        "select session_id, sequence_number, id, created_at, traffic_source, event_type "
        "from raw.events",
    )
    sessions: dict[str, list] = defaultdict(list)
    for event in events:
        sessions[event[0]].append(event)
    expected: dict[tuple, list[int]] = defaultdict(lambda: [0] * 6)
    steps = ["home", "department", "product", "cart", "purchase"]
    for session_events in sessions.values():
        first = min(session_events, key=lambda e: (e[1], e[2]))
        start = local_day(min(e[3] for e in session_events))
        counts = expected[(start, first[4])]
        counts[0] += 1
        kinds = {e[5] for e in session_events}
        for index, step in enumerate(steps, start=1):
            counts[index] += step in kinds
    actual = {
        (r[0], r[1]): list(r[2:])
        for r in rows(
            warehouse,
            "select session_date, traffic_source, sessions, home_sessions, department_sessions, "
            "product_sessions, cart_sessions, purchase_sessions from execkpi_marts.funnel",
        )
    }
    assert actual == dict(expected)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def test_retention_weekly_cohorts(warehouse):
    signup = {
        uid: local_day(created)
        for uid, created in rows(warehouse, "select id, created_at from raw.users")
    }
    active_days = rows(
        warehouse,
        # A session is active on the day it starts (it may run past local midnight).
        "select max(user_id), min(created_at) from raw.events group by session_id "
        "having max(user_id) is not null "
        "union all select user_id, created_at from raw.orders",
    )
    cohort_size: dict[date, int] = defaultdict(int)
    for day in signup.values():
        cohort_size[_monday(day)] += 1
    active: dict[tuple[date, int], set[int]] = defaultdict(set)
    for uid, created in active_days:
        cohort = _monday(signup[uid])
        weeks = (_monday(local_day(created)) - cohort).days // 7
        if weeks >= 0:
            active[(cohort, weeks)].add(uid)
    actual = {
        (r[0], r[1]): (r[2], r[3], r[4])
        for r in rows(
            warehouse,
            "select cohort_week, weeks_since_signup, cohort_size, active_users, retention_rate "
            "from execkpi_marts.retention_weekly",
        )
    }
    expected = {
        key: (cohort_size[key[0]], len(users), len(users) / cohort_size[key[0]])
        for key, users in active.items()
    }
    assert actual.keys() == expected.keys()
    for key, (size, users, rate) in expected.items():
        assert actual[key][:2] == (size, users)
        assert actual[key][2] == pytest.approx(rate)


def test_customer_ltv_and_channels(warehouse):
    expected = dict(
        rows(
            warehouse,
            f"""
            select o.user_id, coalesce(sum(case when i.status in {KEPT} then {PRICE} end), 0)
            from raw.orders o left join raw.order_items i on i.order_id = o.order_id
            group by 1
            """,
        )
    )
    actual = dict(
        rows(warehouse, "select user_id, lifetime_revenue from execkpi_marts.customer_ltv")
    )
    assert actual.keys() == expected.keys()
    assert all(actual[u] == expected[u] for u in expected)

    users_per_channel = dict(
        rows(warehouse, "select traffic_source, count(*) from raw.users group by 1")
    )
    channels = {
        r[0]: r[1:]
        for r in rows(
            warehouse, "select channel, users, revenue from execkpi_marts.channel_performance"
        )
    }
    assert {c: v[0] for c, v in channels.items()} == users_per_channel
    assert sum(v[1] for v in channels.values()) == sum(expected.values())


def test_rfm_recency_and_frequency(warehouse):
    as_of = rows(warehouse, "select max(local_day(created_at)) from raw.orders")[0][0]
    expected = {
        uid: ((as_of - last).days, orders)
        for uid, last, orders in rows(
            warehouse,
            f"""
            select o.user_id, max(local_day(o.created_at)), count(distinct o.order_id)
            from raw.orders o join raw.order_items i on i.order_id = o.order_id
            where i.status in {KEPT}
            group by 1
            """,
        )
    }
    actual = {
        uid: (recency, frequency)
        for uid, recency, frequency in rows(
            warehouse, "select user_id, recency_days, frequency from execkpi_marts.rfm_segments"
        )
    }
    assert actual == expected
