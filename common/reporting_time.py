"""Calendar days in the reporting time zone (EXECKPI_TIME_ZONE), where the marts' days, weeks
and months begin: the day an instant falls on there, today there, and when a day begins."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def local_date(instant: datetime, zone: str) -> date:
    """The calendar day an aware instant falls on in ``zone``."""
    return instant.astimezone(ZoneInfo(zone)).date()


def today(zone: str) -> date:
    """Today's date in ``zone`` (ahead of or behind UTC's near midnight)."""
    return local_date(datetime.now(UTC), zone)


def day_start(day: date, zone: str) -> datetime:
    """The naive UTC instant (as raw tables hold them) at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
