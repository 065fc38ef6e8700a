"""Days, ISO weeks and months begin in the reporting time zone (EXECKPI_TIME_ZONE), across DST.

A small raw warehouse holds orders and sessions placed just before and after local midnight on
Europe/Berlin's two DST switch days of 2023 (26 March: a 23-hour day; 29 October: a 25-hour
day, whose 02:30 happens twice) and at 23:30 local time on the last day of months. dbt builds
the marts from it with EXECKPI_TIME_ZONE set; the expected days come from the raw UTC
timestamps through Python's zoneinfo, independently of the engine's time zone support. A second
build in America/New_York must move the same orders to other days.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import sqlglot

from common.kpi.dialect import Dialect
from common.kpi.service import KpiService
from common.money import currency_of
from common.warehouse.duckdb_engine import DuckDBWarehouse
from scripts.data.dbt_runner import run_dbt
from scripts.data.thelook.load import RAW_TABLES

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
MARTS = "execkpi_marts"

# (UTC instant, sale price): one order of one kept item each. The comment is Berlin's clock.
ORDERS = [
    (datetime(2023, 3, 25, 22, 59, 59), 10.01),  # 25 Mar 23:59:59 CET
    (datetime(2023, 3, 25, 23, 0, 0), 20.02),  # 26 Mar 00:00 CET: UTC still says the 25th
    (datetime(2023, 3, 26, 0, 30), 30.03),  # 26 Mar 01:30 CET, just before the switch
    (datetime(2023, 3, 26, 1, 30), 40.04),  # 26 Mar 03:30 CEST, just after it
    (datetime(2023, 3, 26, 21, 59), 50.05),  # 26 Mar 23:59 CEST
    (datetime(2023, 3, 26, 22, 0), 60.06),  # Monday 27 Mar 00:00 CEST: UTC says Sunday the 26th
    (datetime(2023, 3, 31, 21, 30), 70.07),  # 31 Mar 23:30 CEST: the last day of March
    (datetime(2023, 4, 30, 22, 30), 80.08),  # 1 May 00:30 CEST: UTC says April
    (datetime(2023, 10, 28, 21, 59), 90.09),  # 28 Oct 23:59 CEST
    (datetime(2023, 10, 28, 22, 0), 11.11),  # 29 Oct 00:00 CEST: UTC still says the 28th
    (datetime(2023, 10, 29, 0, 30), 12.12),  # 29 Oct 02:30 CEST, the first 02:30
    (datetime(2023, 10, 29, 1, 30), 13.13),  # 29 Oct 02:30 CET, the second 02:30
    (datetime(2023, 10, 29, 22, 59), 14.14),  # 29 Oct 23:59 CET
    (datetime(2023, 10, 29, 23, 0), 15.15),  # 30 Oct 00:00 CET: UTC still says the 29th
    (datetime(2023, 10, 31, 22, 30), 16.16),  # 31 Oct 23:30 CET: the last day of October
    (datetime(2023, 12, 31, 22, 30), 17.17),  # 31 Dec 23:30 CET: the last day of the year
]
DST_DAYS = (date(2023, 3, 26), date(2023, 10, 29))
# Orders 2 and 5 are one customer's: both on 26 March in Berlin, on two UTC days.
CUSTOMER_OF = {5: 2}
MONTH_ENDS = (date(2023, 3, 31), date(2023, 10, 31), date(2023, 12, 31))


def local_day(instant: datetime, zone: str) -> date:
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


def expected_daily(zone: str) -> dict[date, tuple[int, float]]:
    """Orders and revenue per local day, from the raw UTC instants."""
    daily: dict[date, list] = defaultdict(lambda: [0, 0.0])
    for instant, price in ORDERS:
        day = daily[local_day(instant, zone)]
        day[0] += 1
        day[1] += price
    return {day: (orders, round(revenue, 2)) for day, (orders, revenue) in daily.items()}


def load_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema raw")
    for table, columns in RAW_TABLES.items():
        typed = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        con.execute(f"create table raw.{table} ({typed})")
    con.execute(
        "insert into raw.products (id, cost, category, name, brand, retail_price, department, "
        "sku, distribution_center_id) values (1, 1.0, 'Tops', 'T-shirt', 'b', 9.0, 'Men', 's', 1)"
    )
    for order_id, (instant, price) in enumerate(ORDERS, start=1):
        user_id = CUSTOMER_OF.get(order_id, order_id)
        con.execute(
            "insert into raw.users (id, traffic_source, created_at, country) "
            "values (?, 'Search', ?, 'Germany')",
            [order_id, instant - timedelta(days=30)],
        )
        con.execute(
            "insert into raw.orders (order_id, user_id, status, created_at, num_of_item) "
            "values (?, ?, 'Complete', ?, 1)",
            [order_id, user_id, instant],
        )
        con.execute(
            "insert into raw.order_items (id, order_id, user_id, product_id, inventory_item_id, "
            "status, created_at, sale_price) values (?, ?, ?, 1, ?, 'Complete', ?, ?)",
            [order_id, order_id, user_id, order_id, instant, price],
        )
        # A one-event session at the same instant: sessions are dated like orders.
        con.execute(
            "insert into raw.events (id, user_id, sequence_number, session_id, created_at, "
            "browser, traffic_source, uri, event_type) "
            "values (?, ?, 1, ?, ?, 'Chrome', 'Email', '/', 'home')",
            [order_id, user_id, f"s{order_id}", instant],
        )


def build(path: Path, zone: str) -> Path:
    """Build in full: incremental models keep the days they hold, so a new zone needs a full
    build (README, reporting time zone)."""
    run_dbt(
        [
            "run",
            "--full-refresh",
            "--select",
            "+revenue_daily",
            "+revenue_monthly",
            "+funnel",
            "+customer_ltv",
            "+customers_by_period",
        ],
        duckdb_path=path,
        env={"EXECKPI_TIME_ZONE": zone},
    )
    return path


@pytest.fixture(scope="module")
def berlin(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("berlin") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        load_raw(con)
    return build(path, BERLIN)


@pytest.fixture(scope="module")
def new_york(berlin: Path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("new_york") / "warehouse.duckdb"
    shutil.copyfile(berlin, path)
    return build(path, NEW_YORK)


def mart_daily(path: Path) -> dict[date, tuple[int, float]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            f"select order_date, orders, revenue from {MARTS}.revenue_daily"
        ).fetchall()
    return {day: (orders, round(float(revenue), 2)) for day, orders, revenue in rows}


def test_the_fixture_puts_berlin_days_where_utc_days_differ():
    # Guards the fixture itself: without these, the tests below could not tell zones apart.
    moved = [t for t, _ in ORDERS if local_day(t, BERLIN) != t.date()]
    assert len(moved) == 5
    assert {local_day(t, BERLIN) for t, _ in ORDERS} >= {*DST_DAYS, *MONTH_ENDS}


def test_daily_revenue_and_orders_are_berlin_calendar_days(berlin):
    expected = expected_daily(BERLIN)
    assert mart_daily(berlin) == expected
    # The 23-hour and the 25-hour day each hold the orders of their whole local day.
    assert expected[date(2023, 3, 26)] == (4, 140.14)
    assert expected[date(2023, 10, 29)] == (4, 50.5)


def test_an_order_at_2330_on_a_months_last_day_stays_in_that_day_and_month(berlin):
    daily = mart_daily(berlin)
    for last_day in MONTH_ENDS:
        assert daily[last_day][0] == 1, last_day
        assert last_day + timedelta(days=1) not in daily
    with duckdb.connect(str(berlin), read_only=True) as con:
        monthly = dict(con.execute(f"select month, orders from {MARTS}.revenue_monthly").fetchall())
    expected: dict[date, int] = defaultdict(int)
    for instant, _ in ORDERS:
        expected[local_day(instant, BERLIN).replace(day=1)] += 1
    assert monthly == expected
    assert monthly[date(2023, 5, 1)] == 1  # 1 May 00:30 CEST, though UTC says 30 April


def test_sessions_are_dated_in_the_reporting_time_zone(berlin):
    with duckdb.connect(str(berlin), read_only=True) as con:
        rows = con.execute(
            f"select session_date, sum(sessions) from {MARTS}.funnel group by 1"
        ).fetchall()
    expected: dict[date, int] = defaultdict(int)
    for instant, _ in ORDERS:
        expected[local_day(instant, BERLIN)] += 1
    assert dict(rows) == expected


def test_iso_weeks_start_on_monday_in_the_reporting_time_zone(berlin):
    service = KpiService(
        DuckDBWarehouse(berlin),
        MARTS,
        currency=currency_of("USD"),
        max_bytes_billed=10**9,
        time_zone=BERLIN,
    )
    raw = {"grain": "week", "start": "2023-03-20", "end": "2023-04-02"}
    result = service.run(service.prepare("revenue", raw))
    names = [c["name"] for c in result.columns]
    weekly = {row[0]: row[names.index("orders")] for row in result.rows}
    expected: dict[str, int] = defaultdict(int)
    for instant, _ in ORDERS:
        day = local_day(instant, BERLIN)
        if date(2023, 3, 20) <= day <= date(2023, 4, 2):
            expected[(day - timedelta(days=day.weekday())).isoformat()] += 1
    # Sunday 26 March 22:00 UTC is Monday 27 March in Berlin: the next week's first order.
    assert weekly == expected == {"2023-03-20": 5, "2023-03-27": 2}


@pytest.mark.parametrize("engine", ["duckdb", "bigquery"])
def test_kpi_weeks_start_on_monday_on_both_engines(engine):
    # BigQuery's SQL runs on DuckDB through sqlglot, which models BigQuery's Sunday WEEK.
    week = Dialect(engine, MARTS).truncate("week", "day")
    sql = f"select {week} as monday from (select cast($day as date) as day) as days"
    if engine == "bigquery":
        sql = sqlglot.transpile(sql.replace("$day", "@day"), read="bigquery", write="duckdb")[0]
        sql = sql.replace("@day", "$day")
    for day, monday in (
        (date(2023, 3, 26), date(2023, 3, 20)),
        (date(2023, 3, 27), date(2023, 3, 27)),
    ):
        found = duckdb.connect().execute(f"select cast(monday as date) from ({sql})", {"day": day})
        assert found.fetchall() == [(monday,)], (engine, day)


def test_another_time_zone_moves_the_day_boundaries(berlin, new_york):
    assert mart_daily(new_york) == expected_daily(NEW_YORK)
    assert mart_daily(new_york) != mart_daily(berlin)
    # 25 March 23:00 UTC to 26 March 01:30 UTC is the evening of the 25th in New York.
    assert mart_daily(new_york)[date(2023, 3, 25)][0] == 4


def test_customer_lifetime_days_count_local_calendar_days(berlin, new_york):
    def lifetime(path: Path) -> int:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(
                f"select customer_lifetime_days from {MARTS}.customer_ltv where user_id = 2"
            ).fetchone()[0]

    first, last = ORDERS[1][0], ORDERS[4][0]
    for path, zone in ((berlin, BERLIN), (new_york, NEW_YORK)):
        assert lifetime(path) == (local_day(last, zone) - local_day(first, zone)).days
    assert lifetime(berlin) == 0  # one Berlin day, though two UTC days


def test_a_default_range_over_no_data_ends_today_in_the_reporting_time_zone(tmp_path):
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.revenue_daily (order_date date)")
    ends = {}
    # UTC+14 and UTC-12: 26 hours apart, never on the same date.
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        service = KpiService(
            DuckDBWarehouse(path),
            "marts",
            currency=currency_of("USD"),
            max_bytes_billed=10**9,
            time_zone=zone,
        )
        ends[zone] = service.prepare("revenue", {}).params["end"]
        assert ends[zone] == datetime.now(ZoneInfo(zone)).date().isoformat()
    assert len(set(ends.values())) == 2
