"""Complete periods: each periodic KPI row says whether its whole period is answered and has
data, and growth KPIs leave the running period out unless include_partial=true.

The expected flags come from calendar arithmetic in this file (``calendar.monthrange``, ISO
weekdays), not from common.kpi.periods."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import duckdb
import pytest

from common.kpi.service import KpiService
from common.money import currency_of
from common.validation import InvalidInput
from common.warehouse.duckdb_engine import DuckDBWarehouse

FIRST_DAY, NEWEST_DAY = date(2026, 1, 1), date(2026, 3, 1)  # March has one day of data
MONTHS = [(date(2026, 1, 1), 3100.0), (date(2026, 2, 1), 2800.0), (date(2026, 3, 1), 100.0)]


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> KpiService:
    """Marts holding 100 of revenue a day from 1 January to 1 March 2026."""
    path = tmp_path_factory.mktemp("periods") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("""
        create table marts.revenue_daily as
        select cast(d as date) as order_date, 100.0 as revenue, 40.0 as cost_of_revenue
        from generate_series(date '2026-01-01', date '2026-03-01', interval 1 day) t(d)
    """)
    con.execute(
        "create table marts.revenue_monthly (month date, revenue double, orders bigint, "
        "aov double, previous_revenue double, revenue_growth_mom double)"
    )
    previous = None
    for month, revenue in MONTHS:
        growth = None if previous is None else revenue / previous - 1
        con.execute(
            "insert into marts.revenue_monthly values (?, ?, 10, ?, ?, ?)",
            [month, revenue, revenue / 10, previous, growth],
        )
        previous = revenue
    con.close()
    return KpiService(
        DuckDBWarehouse(path),
        "marts",
        currency=currency_of("USD"),
        max_bytes_billed=10**9,
        time_zone="Europe/Berlin",
    )


def answer(service: KpiService, name: str, **raw) -> tuple[dict, dict[str, bool]]:
    result = service.run(service.prepare(name, raw))
    names = [c["name"] for c in result.columns]
    flags = {row[0]: row[names.index("complete")] for row in result.rows}
    return result.params, flags


def test_the_running_month_is_left_out_of_mom_growth_by_default(service):
    params, flags = answer(service, "mom_growth")
    # The echoed range is the one answered: it ends on the newest day of data.
    assert params["end"] == NEWEST_DAY.isoformat() and params["include_partial"] is False
    assert flags == {"2026-01-01": True, "2026-02-01": True}


def test_include_partial_keeps_the_running_month_marked_incomplete(service):
    for include in (True, "true"):  # a JSON body or a query string
        _, flags = answer(service, "mom_growth", include_partial=include)
        assert flags == {"2026-01-01": True, "2026-02-01": True, "2026-03-01": False}


def test_a_month_past_the_chosen_end_is_incomplete(service):
    _, flags = answer(
        service, "mom_growth", start="2026-01-01", end="2026-02-27", include_partial="true"
    )
    assert flags == {"2026-01-01": True, "2026-02-01": False}


@pytest.mark.parametrize("bad", ["yes", 1, "1", "True"])
def test_include_partial_takes_only_true_or_false(service, bad):
    with pytest.raises(InvalidInput) as refused:
        service.prepare("mom_growth", {"include_partial": bad})
    assert refused.value.field == "include_partial"


def expected_complete(first: date, grain: str, start: date, end: date) -> bool:
    if grain == "month":
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    elif grain == "week":
        assert first.isoweekday() == 1  # ISO weeks start on Monday
        last = first + timedelta(days=6)
    else:
        last = first
    return start <= first and last <= min(end, NEWEST_DAY)


@pytest.mark.parametrize("grain", ["day", "week", "month"])
@pytest.mark.parametrize(
    ("start", "end"),
    [("2025-12-15", "2026-03-31"), ("2026-01-07", "2026-02-28"), ("2026-01-01", "2026-01-31")],
)
def test_every_row_of_a_periodic_kpi_says_whether_its_period_is_complete(
    service, grain, start, end
):
    _, flags = answer(service, "gross_margin", start=start, end=end, grain=grain)
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    assert (
        flags
        and {
            period: expected_complete(date.fromisoformat(period), grain, first, last)
            for period in flags
        }
        == flags
    )
    if grain == "month" and start == "2026-01-01":
        assert flags == {"2026-01-01": True}  # a whole month answered is complete


@pytest.mark.parametrize(
    ("name", "raw", "covered"),
    [
        (
            "gross_margin",
            {"start": "2026-01-07", "end": "2026-02-28"},
            ("2026-01-07", "2026-02-28"),
        ),
        # Days past the newest day of data are not covered: not loaded yet.
        (
            "gross_margin",
            {"start": "2025-12-15", "end": "2026-03-31"},
            ("2025-12-15", "2026-03-01"),
        ),
        (
            "mom_growth",
            {"end": "2026-06-30", "include_partial": True},
            ("2025-06-30", "2026-03-01"),
        ),
        ("gross_margin", {"start": "2026-03-02", "end": "2026-03-31"}, None),
    ],
)
def test_the_answer_states_the_days_it_covers(service, name, raw, covered):
    meta = service.run(service.prepare(name, raw)).meta
    expected = None if covered is None else dict(zip(("start", "end"), covered, strict=True))
    assert meta["date_range"] == expected


def test_a_default_range_states_its_days(service):
    result = service.run(service.prepare("mom_growth", {}))
    first = NEWEST_DAY - timedelta(days=365)  # mom_growth's default span: 366 days
    assert result.meta["date_range"] == {"start": first.isoformat(), "end": "2026-03-01"}
    assert result.params["start"] == first.isoformat()
