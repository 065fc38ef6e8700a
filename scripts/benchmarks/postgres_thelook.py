"""The KPI benchmark's PostgreSQL side: the raw thelook tables a few KPIs need, copied from a
warehouse's ``raw`` schema, indexed and analyzed, and those KPIs written for PostgreSQL over the
raw tables, independently of the marts.

Two layouts of the order tables, each in its own schema beside a ``shared`` one (users, events):
``plain`` tables, and ``monthly``, orders and order items partitioned by the month they were
placed in. Queries set ``search_path`` to a layout's schema and ``shared``.

Money is stored as numeric to the cent, as the staging models fix it; timestamps as naive UTC,
as the raw tables hold them; calendar days are those of the reporting time zone.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow.csv as pa_csv

from common.reporting_time import day_start
from scripts.benchmarks.timing import stopwatch

LAYOUTS = ("plain", "monthly")
BATCH_ROWS = 200_000  # rows per Arrow batch streamed into COPY (tens of MB)
PARTITIONED = ("orders", "order_items")

# Only the columns the KPIs read; events (the biggest table by far) only for retention.
TABLES: dict[str, dict[str, str]] = {
    "users": {
        "id": "bigint",
        "created_at": "timestamp",
        "traffic_source": "text",
        "country": "text",
    },
    # thelook's session ids are UUIDs: 16 bytes instead of 37 in the largest table and index.
    "events": {"session_id": "uuid", "user_id": "bigint", "created_at": "timestamp"},
    "orders": {
        "order_id": "bigint",
        "user_id": "bigint",
        "status": "text",
        "created_at": "timestamp",
    },
    "order_items": {
        "id": "bigint",
        "order_id": "bigint",
        "user_id": "bigint",
        "status": "text",
        "created_at": "timestamp",
        "sale_price": "numeric(12, 2)",
    },
}
INDEXES: dict[str, tuple[str, ...]] = {
    "users": ("(created_at)", "(id)"),
    # Covering: a cohort's sessions come from the index alone.
    "events": ("(user_id, session_id, created_at)",),
    "orders": ("(created_at)", "(user_id, created_at)", "(order_id)"),
    "order_items": ("(created_at)", "(order_id)", "(user_id)"),
}

# Server settings for 2 cores and 24 GiB shared with other work. The data is throwaway, so
# durability is off (faster loads; queries do not write).
TUNED: dict[str, str] = {
    "shared_buffers": "'4GB'",
    "effective_cache_size": "'12GB'",
    "work_mem": "'256MB'",
    "maintenance_work_mem": "'1GB'",
    "max_worker_processes": "4",
    "max_parallel_workers": "2",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
    "enable_partitionwise_aggregate": "on",
    "enable_partitionwise_join": "on",
    # Compiling expressions costs more than it saves on queries of this length.
    "jit": "off",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "'16GB'",
    "autovacuum": "off",
}

REVENUE = """
    -- thelook stamps an item with its order's created_at: both tables are pruned by one range.
    with items as (
        select
            order_id,
            count(*) filter (where status not in ('Cancelled', 'Returned')) as revenue_items,
            coalesce(sum(sale_price) filter (where status not in ('Cancelled', 'Returned')), 0)
                as revenue
        from order_items
        where created_at >= %(from)s and created_at < %(until)s
        group by order_id
    ),
    placed as (
        select
            date_trunc(%(grain)s, (o.created_at at time zone 'UTC') at time zone %(zone)s)::date
                as period,
            o.user_id,
            o.status,
            coalesce(items.revenue_items, 0) as revenue_items,
            coalesce(items.revenue, 0) as revenue
        from orders as o
        left join items on items.order_id = o.order_id
        where o.created_at >= %(from)s and o.created_at < %(until)s
    )
    select
        period,
        count(*) filter (where revenue_items > 0) as orders,
        sum(revenue_items) as items,
        sum(revenue) as revenue,
        sum(revenue) / nullif(count(*) filter (where revenue_items > 0), 0) as aov,
        count(*) filter (where status = 'Cancelled') as cancelled_orders,
        count(*) filter (where status = 'Returned') as returned_orders,
        count(distinct user_id) filter (where revenue_items > 0) as customers
    from placed
    group by period
    order by period
"""

CUSTOMER_LTV = """
    with kept_orders as (
        select user_id, order_id, sum(sale_price) as revenue
        from order_items
        where status not in ('Cancelled', 'Returned')
        group by user_id, order_id
    ),
    top as (
        select user_id, count(*) as orders, sum(revenue) as lifetime_revenue
        from kept_orders
        group by user_id
        order by lifetime_revenue desc, user_id
        limit %(limit)s
    )
    select
        top.user_id,
        users.traffic_source as acquisition_channel,
        users.country,
        top.orders,
        top.lifetime_revenue,
        top.lifetime_revenue / top.orders as average_order_value,
        placed.first_order_at,
        placed.last_order_at
    from top
    left join users on users.id = top.user_id
    cross join lateral (
        select min(created_at) as first_order_at, max(created_at) as last_order_at
        from orders
        where orders.user_id = top.user_id
    ) as placed
    order by top.lifetime_revenue desc, top.user_id
"""

MONTHLY_RETENTION = """
    with cohort_users as (
        select
            id as user_id,
            date_trunc('month', (created_at at time zone 'UTC') at time zone %(zone)s)::date
                as cohort
        from users
        where created_at >= %(from)s and created_at < %(until)s
    ),
    cohort_sizes as (
        select cohort, count(*) as cohort_size from cohort_users group by cohort
    ),
    -- A thelook session is one visitor's: a signed-in one's events all carry its user.
    sessions as (
        select events.user_id, min(events.created_at) as started_at
        from events
        join cohort_users on cohort_users.user_id = events.user_id
        group by events.user_id, events.session_id
    ),
    activity as (
        select
            user_id,
            date_trunc('month', (started_at at time zone 'UTC') at time zone %(zone)s)::date
                as active_month
        from sessions
        union
        select
            orders.user_id,
            date_trunc('month', (orders.created_at at time zone 'UTC') at time zone %(zone)s)::date
        from orders
        join cohort_users on cohort_users.user_id = orders.user_id
    ),
    active as (
        select
            cohort_users.cohort,
            ((extract(year from activity.active_month) - extract(year from cohort_users.cohort))
                * 12 + extract(month from activity.active_month)
                - extract(month from cohort_users.cohort))::int as months_since_signup,
            count(*) as active_users
        from activity
        join cohort_users on cohort_users.user_id = activity.user_id
        where activity.active_month >= cohort_users.cohort
        group by 1, 2
    )
    select
        active.cohort,
        active.months_since_signup,
        cohort_sizes.cohort_size,
        active.active_users,
        active.active_users::float8 / cohort_sizes.cohort_size as retention_rate
    from active
    join cohort_sizes on cohort_sizes.cohort = active.cohort
    where active.months_since_signup <= %(max_periods)s
    order by 1, 2
"""


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def statement(kpi: str, params: Mapping[str, Any], zone: str) -> tuple[str, dict[str, Any]]:
    """The PostgreSQL query answering ``kpi`` with the KPI's (parsed) ``params``, and its
    values. Day ranges become naive UTC bounds, so indexes and partitions can prune."""
    if kpi == "revenue":
        start, end, grain = params["start"], params["end"], params["grain"]
        bounds = {"from": day_start(start, zone), "until": day_start(end + timedelta(1), zone)}
        return REVENUE, {**bounds, "grain": grain, "zone": zone}
    if kpi == "customer_ltv" and not params.get("channel"):
        return CUSTOMER_LTV, {"limit": params["limit"]}
    if kpi == "retention" and params["grain"] == "month":
        # Cohorts are months starting within [start, end]: the signups of those whole months.
        first = _month_start(params["start"])
        first = first if first == params["start"] else _next_month(first)
        bounds = {
            "from": day_start(first, zone),
            "until": day_start(_next_month(params["end"]), zone),
        }
        return MONTHLY_RETENTION, {**bounds, "zone": zone, "max_periods": params["max_periods"]}
    raise ValueError(f"no PostgreSQL query for {kpi} with {dict(params)}")


def connect(conninfo: str, layout: str) -> psycopg.Connection:
    """An autocommit connection reading ``layout``'s order tables; statements are not prepared
    (a custom plan per call, which sees the partitions its bounds prune)."""
    con = psycopg.connect(conninfo, autocommit=True, prepare_threshold=None)
    con.execute(f"set search_path to {layout}, shared")
    return con


def _copy(
    con: psycopg.Connection, duck: duckdb.DuckDBPyConnection, target: str, table: str
) -> None:
    """The needed columns of raw ``table`` streamed into ``target``'s COPY, one Arrow batch at
    a time written as CSV: no file on disk (events alone would be ~15 GB at 10M order items)
    and memory bounded by a batch, whatever the table's size."""
    names = ", ".join(TABLES[table])
    # Names from TABLES, never from input.
    batches = duck.sql(f"select {names} from raw.{table}").to_arrow_reader(BATCH_ROWS)  # noqa: S608
    options = pa_csv.WriteOptions(include_header=False)
    with con.cursor().copy(f"copy {target} from stdin (format csv)") as copy:
        for batch in batches:
            text = io.BytesIO()
            pa_csv.write_csv(batch, text, options)
            copy.write(text.getbuffer())


def _create(con: psycopg.Connection, schema: str, table: str, partitioned: bool) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in TABLES[table].items())
    suffix = " partition by range (created_at)" if partitioned else ""
    con.execute(f"create table {schema}.{table} ({columns}){suffix}")


def _month_partitions(con: psycopg.Connection, schema: str, table: str, span: tuple) -> None:
    month, last = _month_start(span[0].date()), span[1].date()
    while month <= last:
        following = _next_month(month)
        con.execute(
            f"create table {schema}.{table}_{month:%Y%m} partition of {schema}.{table} "
            f"for values from ('{month}') to ('{following}')"
        )
        month = following


def _load_schema(
    con: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    schema: str,
    tables: tuple[str, ...],
    span: tuple | None,
) -> dict[str, float]:
    """Create, copy, index and analyze ``tables`` in ``schema`` (partitioned by month over
    ``span``, the first and last order instant, when given); the seconds of each step."""
    con.execute(f"create schema {schema}")
    with stopwatch() as copied:
        for table in tables:
            _create(con, schema, table, partitioned=span is not None)
            if span is not None:
                _month_partitions(con, schema, table, span)
            _copy(con, duck, f"{schema}.{table}", table)
    with stopwatch() as indexed:
        for table in tables:
            for columns in INDEXES[table]:
                con.execute(f"create index on {schema}.{table} {columns}")
    with stopwatch() as analyzed:
        # VACUUM too: it sets the visibility map that index-only scans rely on.
        for table in tables:
            con.execute(f"vacuum analyze {schema}.{table}")
    return {"copy_s": copied.seconds, "index_s": indexed.seconds, "analyze_s": analyzed.seconds}


def load(conninfo: str, warehouse: Path) -> dict[str, dict[str, float]]:
    """Every layout loaded from ``warehouse``'s raw tables, streamed from DuckDB; per schema
    the seconds of each step."""
    shared = tuple(table for table in TABLES if table not in PARTITIONED)
    with (
        duckdb.connect(str(warehouse), read_only=True) as duck,
        psycopg.connect(conninfo, autocommit=True) as con,
    ):
        (span,) = duck.execute("select min(created_at), max(created_at) from raw.orders").fetchall()
        layouts = {"shared": (shared, None), "plain": (PARTITIONED, None)}
        layouts["monthly"] = (PARTITIONED, span)
        return {
            schema: _load_schema(con, duck, schema, tables, months)
            for schema, (tables, months) in layouts.items()
        }
