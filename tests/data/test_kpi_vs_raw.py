"""Every KPI served by the kpi function against plain SQL written independently over the raw
tables (never the marts), on generated data and on the real thelook exports. Days are calendar
days in the reporting time zone: ``local_day`` turns raw UTC timestamps into them with Python's
zoneinfo (tests.support.reporting_time)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from common.experiments import assign_variant
from tests.support.money import as_invoiced, cents, to_cent
from tests.support.reporting_time import local_day, with_local_day

KEPT = ("Processing", "Shipped", "Complete")
PRICE = cents("i.sale_price")  # as invoiced: whole cents
WIDE = {"start": "2000-01-03", "end": "2002-12-31"}  # overwritten per dataset below


@pytest.fixture(params=["generated", "shared"])
def dataset(request, function_client):
    path = request.getfixturevalue(f"{request.param}_warehouse")
    client = function_client("kpi", EXECKPI_DUCKDB_PATH=str(path))
    con = with_local_day(duckdb.connect(str(path), read_only=True))
    yield request.param, client, con
    con.close()


def kpi(client, name: str, **params) -> list[dict]:
    response = client.get(f"/kpi/{name}", query_string=params)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    names = [c["name"] for c in body["columns"]]
    return [dict(zip(names, row, strict=True)) for row in body["rows"]]


def full_range(con) -> dict[str, str]:
    first, last = con.execute(
        "select min(local_day(created_at)), max(local_day(created_at)) from raw.orders"
    ).fetchone()
    return {"start": first.isoformat(), "end": last.isoformat()}


def test_revenue_by_month(dataset):
    _, client, con = dataset
    span = full_range(con)
    expected = con.execute(
        f"""
        select date_trunc('month', local_day(o.created_at))::date,
               count(distinct case when i.status in {KEPT} then o.order_id end),
               coalesce(sum(case when i.status in {KEPT} then {PRICE} end), 0),
               count(distinct case when o.status = 'Cancelled' then o.order_id end),
               count(distinct case when i.status in {KEPT} then o.user_id end)
        from raw.orders o left join raw.order_items i using (order_id)
        where local_day(o.created_at) between '{span["start"]}' and '{span["end"]}'
        group by 1 order by 1
        """
    ).fetchall()
    rows = kpi(client, "revenue", grain="month", **span)
    assert [
        (date.fromisoformat(r["period"]), r["orders"], r["cancelled_orders"], r["customers"])
        for r in rows
    ] == [(m, orders, cancelled, customers) for m, orders, _, cancelled, customers in expected]
    for row, (_, orders, revenue, _, _) in zip(rows, expected, strict=True):
        assert row["revenue"] == float(revenue)  # cent-exact
        assert row["aov"] == (to_cent(revenue / orders) if orders else None)


def test_revenue_by_week_starts_on_monday(dataset):
    _, client, con = dataset
    rows = kpi(client, "revenue", grain="week", **full_range(con))
    assert rows and all(date.fromisoformat(r["period"]).weekday() == 0 for r in rows)
    total = con.execute(
        f"select coalesce(sum({cents('sale_price')}), 0) from raw.order_items "
        f"where status in {KEPT}"
    ).fetchone()[0]
    assert sum(Decimal(str(r["revenue"])) for r in rows) == total


def _ranges_cutting_periods(con) -> list[tuple[date, date]]:
    """A range cutting periods at both ends (mid-week and mid-month on both datasets), one
    inside a single month, one inside a single week (Tuesday to Thursday) and a single day."""
    span = full_range(con)
    first, last = date.fromisoformat(span["start"]), date.fromisoformat(span["end"])
    middle = first + (last - first) / 2  # where the data is dense
    tuesday = middle + timedelta(days=1 - middle.weekday())
    month = date(middle.year + middle.month // 12, middle.month % 12 + 1, 1)
    return [
        (first + timedelta(days=10), last - timedelta(days=10)),
        (month + timedelta(days=3), month + timedelta(days=20)),
        (tuesday, tuesday + timedelta(days=2)),
        (tuesday, tuesday),
    ]


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_revenue_customers_of_ranges_cutting_periods(dataset, grain):
    """Distinct paying customers per period, counting only the range's days of the periods it
    cuts at either end."""
    _, client, con = dataset
    for start, end in _ranges_cutting_periods(con):
        expected = con.execute(
            f"""
            select date_trunc('{grain}', local_day(o.created_at))::date,
                   count(distinct o.user_id)
            from raw.orders o join raw.order_items i using (order_id)
            where i.status in {KEPT} and local_day(o.created_at) between ? and ?
            group by 1 order by 1
            """,
            [start, end],
        ).fetchall()
        rows = kpi(client, "revenue", grain=grain, start=start.isoformat(), end=end.isoformat())
        customers = [(date.fromisoformat(r["period"]), r["customers"]) for r in rows]
        assert [c for c in customers if c[1]] == expected, (start, end)


def by_period(rows: list[dict]) -> dict[date, dict]:
    return {date.fromisoformat(r["period"]): r for r in rows}


def new_and_returning(con, grain: str, start: str | date, end: str | date) -> list[tuple]:
    """Per period of the days start to end: new customers (their first order holding a kept
    item, over all time, falls in the same period), returning ones (it fell before), the new
    ones' revenue and all revenue."""
    return con.execute(
        f"""
        with kept as (
            select o.user_id, local_day(o.created_at) as day, {PRICE} as sale_price
            from raw.orders o join raw.order_items i using (order_id)
            where i.status in {KEPT}
        ),
        firsts as (select user_id, min(day) as first_day from kept group by 1)
        select date_trunc('{grain}', day)::date as period,
               count(distinct case when date_trunc('{grain}', first_day)
                   = date_trunc('{grain}', day) then user_id end),
               count(distinct case when date_trunc('{grain}', first_day)
                   < date_trunc('{grain}', day) then user_id end),
               sum(case when date_trunc('{grain}', first_day)
                   = date_trunc('{grain}', day) then sale_price else 0 end),
               sum(sale_price)
        from kept join firsts using (user_id)
        where day between ? and ?
        group by 1 order by 1
        """,
        [start, end],
    ).fetchall()


def assert_new_and_returning(rows: dict[date, dict], expected: list[tuple]) -> None:
    assert list(rows) == [period for period, *_ in expected]
    for period, new, returning, new_revenue, revenue in expected:
        row = rows[period]
        assert (row["new_customers"], row["returning_customers"]) == (new, returning), period
        assert row["new_customer_revenue"] == float(new_revenue)
        assert row["returning_customer_revenue"] == float(revenue - new_revenue)
        assert row["new_customer_revenue_share"] == pytest.approx(float(new_revenue / revenue))


@pytest.mark.parametrize("grain", ["week", "month"])
def test_new_vs_returning_customer_revenue(dataset, grain):
    _, client, con = dataset
    span = full_range(con)
    expected = new_and_returning(con, grain, span["start"], span["end"])
    rows = by_period(kpi(client, "new_vs_returning", grain=grain, **span))
    assert_new_and_returning(rows, expected)


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_new_vs_returning_of_ranges_cutting_periods(dataset, grain):
    """Whole periods and the range's days of the periods it cuts at either end: a customer of
    a cut period is new or returning by their first order over all time, not in the range."""
    _, client, con = dataset
    for start, end in _ranges_cutting_periods(con):
        expected = new_and_returning(con, grain, start, end)
        span = {"start": start.isoformat(), "end": end.isoformat()}
        rows = by_period(kpi(client, "new_vs_returning", grain=grain, **span))
        assert_new_and_returning(rows, expected)


def test_refund_rate_in_money_by_month(dataset):
    _, client, con = dataset
    span = full_range(con)
    expected = con.execute(
        f"""
        select date_trunc('month', local_day(o.created_at))::date,
               coalesce(sum(case when i.status <> 'Cancelled' then {PRICE} end), 0),
               coalesce(sum(case when i.status = 'Returned' then {PRICE} end), 0)
        from raw.orders o left join raw.order_items i using (order_id)
        group by 1 order by 1
        """
    ).fetchall()
    rows = by_period(kpi(client, "refund_rate", grain="month", **span))
    assert list(rows) == [period for period, *_ in expected]
    assert any(returned for *_, returned in expected)  # the data has returns to measure
    for period, gross, returned in expected:
        row = rows[period]
        assert row["gross_revenue"] == float(gross)
        assert row["returned_revenue"] == float(returned)
        assert row["refund_rate"] == (pytest.approx(float(returned / gross)) if gross else None)


def test_gross_margin_from_product_cost_by_month(dataset):
    _, client, con = dataset
    span = full_range(con)
    items = con.execute(
        """
        select date_trunc('month', local_day(o.created_at))::date, i.status, i.sale_price, p.cost
        from raw.orders o
        left join raw.order_items i using (order_id)
        left join raw.products p on p.id = i.product_id
        """
    ).fetchall()
    # Unit costs have fractions of a cent (2.518749990849756): each item's cost is booked
    # rounded half up to the cent, summed here in Python.
    revenues: dict[date, Decimal] = defaultdict(Decimal)
    costs: dict[date, Decimal] = defaultdict(Decimal)
    for month, status, price, cost in items:
        revenues[month] += as_invoiced(price) if status in KEPT else 0
        costs[month] += as_invoiced(cost) if status in KEPT and cost is not None else 0
    expected = [(month, revenues[month], costs[month]) for month in sorted(revenues)]
    rows = by_period(kpi(client, "gross_margin", grain="month", **span))
    assert list(rows) == [period for period, *_ in expected]
    for period, revenue, cost in expected:
        row = rows[period]
        assert row["revenue"] == float(revenue)
        assert row["cost_of_revenue"] == float(cost)
        assert row["gross_profit"] == float(revenue - cost)
        assert row["gross_margin"] == (
            pytest.approx(float(1 - cost / revenue)) if revenue else None
        )


def test_funnel_by_source(dataset):
    _, client, con = dataset
    first, last = con.execute(
        "select min(local_day(created_at)), max(local_day(created_at)) from raw.events"
    ).fetchone()
    expected = con.execute(
        """
        with sessions as (
            select session_id,
                   arg_min(traffic_source, sequence_number) as source,
                   bool_or(event_type = 'purchase') as bought
            from raw.events group by session_id
        )
        select source, count(*), count(*) filter (where bought) from sessions group by 1 order by 1
        """
    ).fetchall()
    rows = kpi(client, "funnel", start=first.isoformat(), end=last.isoformat())
    assert [(r["traffic_source"], r["sessions"], r["purchase_sessions"]) for r in rows] == expected
    for row in rows:
        rate = row["purchase_sessions"] / row["sessions"]
        assert row["session_conversion_rate"] == pytest.approx(rate)


def test_retention_cohort_sizes(dataset):
    _, client, con = dataset
    first, last = con.execute(
        "select min(local_day(created_at)), max(local_day(created_at)) from raw.users"
    ).fetchone()
    sizes = dict(
        con.execute(
            "select date_trunc('week', local_day(created_at))::date, count(*) "
            "from raw.users group by 1"
        ).fetchall()
    )
    rows = kpi(
        client,
        "retention",
        grain="week",
        start=first.isoformat(),
        end=last.isoformat(),
        max_periods=156,
    )
    assert rows
    for row in rows:
        assert row["cohort_size"] == sizes[date.fromisoformat(row["cohort"])]
        assert 0 <= row["retention_rate"] <= 1


def test_customer_ltv_top_n(dataset):
    _, client, con = dataset
    expected = con.execute(
        f"""
        select o.user_id, coalesce(sum(case when i.status in {KEPT} then {PRICE} end), 0) r
        from raw.orders o left join raw.order_items i using (order_id)
        group by 1 order by r desc, o.user_id limit 5
        """
    ).fetchall()
    rows = kpi(client, "customer_ltv", limit=5)
    assert [r["user_id"] for r in rows] == [u for u, _ in expected]
    assert [r["lifetime_revenue"] for r in rows] == [float(r) for _, r in expected]


def test_rfm_segment_sizes_cover_every_customer_with_revenue(dataset):
    _, client, con = dataset
    customers = con.execute(
        f"""
        select count(distinct o.user_id) from raw.orders o join raw.order_items i using (order_id)
        where i.status in {KEPT}
        """
    ).fetchone()[0]
    rows = kpi(client, "rfm_segments")
    assert sum(r["customers"] for r in rows) == customers
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)


def test_channel_performance(dataset):
    _, client, con = dataset
    expected = {
        channel: (users, revenue)
        for channel, users, revenue in con.execute(
            f"""
            select u.traffic_source, count(distinct u.id),
                   coalesce(sum(case when i.status in {KEPT} then {PRICE} end), 0)
            from raw.users u left join raw.order_items i on i.user_id = u.id
            group by 1
            """
        ).fetchall()
    }
    rows = kpi(client, "channel_performance")
    assert {r["channel"]: r["users"] for r in rows} == {c: v[0] for c, v in expected.items()}
    for row in rows:
        assert row["revenue"] == float(expected[row["channel"]][1])


def test_mom_growth(dataset):
    _, client, con = dataset
    monthly = con.execute(
        f"""
        select date_trunc('month', local_day(o.created_at))::date m,
               coalesce(sum(case when i.status in {KEPT} then {PRICE} end), 0)
        from raw.orders o left join raw.order_items i using (order_id) group by 1 order by 1
        """
    ).fetchall()
    window = {"start": monthly[0][0].isoformat(), "end": monthly[-1][0].isoformat()}
    # The window ends on the last month's first day, so that month is running: left out unless
    # include_partial asks for it.
    assert len(kpi(client, "mom_growth", **window)) == len(monthly) - 1
    rows = kpi(client, "mom_growth", include_partial="true", **window)
    assert len(rows) == len(monthly) and rows[-1]["complete"] is False
    for (_, previous), (_, revenue), row in zip(monthly, monthly[1:], rows[1:], strict=False):
        expected = float(revenue / previous - 1) if previous else None
        assert row["revenue_growth_mom"] == (
            pytest.approx(expected) if expected is not None else None
        )


def test_experiment_metrics_from_raw_events(dataset):
    name, client, con = dataset
    experiment = (
        "checkout_one_click",
        ["control", "treatment"],
        [0.5, 0.5],
        "2026-09-15",
        "2026-10-12",
    )
    experiment_id, variants, weights, start, end = experiment
    exposures = con.execute(
        f"""
        select user_id, min(created_at) from raw.events
        where user_id is not null and local_day(created_at) between '{start}' and '{end}'
        group by 1
        """
    ).fetchall()
    orders = defaultdict(list)
    for user_id, created_at in con.execute("select user_id, created_at from raw.orders").fetchall():
        orders[user_id].append(created_at)
    converted: dict[str, list[int]] = {v: [] for v in variants}
    end_day = date.fromisoformat(end)
    for user_id, exposed_at in exposures:
        variant = assign_variant(experiment_id, user_id, variants, weights)
        bought = any(exposed_at <= t and local_day(t) <= end_day for t in orders[user_id])
        converted[variant].append(int(bought))
    rows = kpi(client, "experiment_metrics", experiment_id=experiment_id, metric="conversion")
    if name == "shared":  # the real exports predate the experiment
        assert rows == [] and not exposures
        return
    assert {r["variant"]: r["n"] for r in rows} == {v: len(c) for v, c in converted.items()}
    for row in rows:
        values = converted[row["variant"]]
        assert row["mean"] == pytest.approx(sum(values) / len(values))
