"""Calendar days in the reporting time zone (EXECKPI_TIME_ZONE), where the marts' days, weeks
and months begin: the day an instant falls on there, and today there."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def local_date(instant: datetime, zone: str) -> date:
    """The calendar day an aware instant falls on in ``zone``."""
    return instant.astimezone(ZoneInfo(zone)).date()


def today(zone: str) -> date:
    """Today's date in ``zone`` (ahead of or behind UTC's near midnight)."""
    return local_date(datetime.now(UTC), zone)
