"""The reporting time zone the test warehouses are built with, and calendar days in it computed
by Python's zoneinfo: independently of the engines' time zone support that the marts use."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from common import reporting_time

REPORTING_ZONE = "Europe/Berlin"
# The years the raw data may span; a timestamp outside gets the offset at the nearest end.
FIRST_YEAR, LAST_YEAR = 2000, 2031


def local_day(instant: datetime, zone: str = REPORTING_ZONE) -> date:
    """The calendar day a naive UTC instant (as raw tables hold them) falls on in ``zone``."""
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


def day_start(day: date, zone: str = REPORTING_ZONE) -> datetime:
    """The naive UTC instant at which ``day`` begins in ``zone``."""
    return reporting_time.day_start(day, zone)


@functools.cache
def _utc_offset_sql(zone: str) -> str:
    """A SQL CASE giving ``zone``'s UTC offset at the naive UTC timestamp ``instant``, from the
    offset changes zoneinfo reports (searched day by day, then hour by hour: they fall on whole
    UTC hours in Europe/Berlin and America/New_York)."""
    tz = ZoneInfo(zone)
    moment = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(tz).utcoffset()
    branches = []
    while moment.year <= LAST_YEAR:
        if (moment + timedelta(days=1)).astimezone(tz).utcoffset() != offset:
            hour = moment
            while (hour := hour + timedelta(hours=1)).astimezone(tz).utcoffset() == offset:
                pass
            seconds = int(offset.total_seconds())
            branches.append(f"when instant < timestamp '{hour:%Y-%m-%d %H:%M}' then {seconds}")
            offset = hour.astimezone(tz).utcoffset()
        moment += timedelta(days=1)
    return f"case {' '.join(branches)} else {int(offset.total_seconds())} end"


def with_local_day(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with a SQL macro ``local_day(timestamp) -> date`` agreeing with ``local_day``.

    A macro of this connection only: a Python function would be shared by every connection to
    the same file in this process and outlive the one that registered it."""
    offset = _utc_offset_sql(REPORTING_ZONE)
    con.execute(
        "create or replace temp macro local_day(instant) as "
        f"cast(instant + to_seconds({offset}) as date)"
    )
    return con
