"""Whether a KPI row's period is complete: the whole day/week/month lies within the answered
range and the data reaches its last day. A running month with one day of data is not a month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


def period_end(first_day: date, grain: str) -> date:
    """The last day of the day, ISO week (Monday to Sunday) or month starting on first_day."""
    if grain == "day":
        return first_day
    if grain == "week":
        return first_day + timedelta(days=6)
    if grain == "month":
        next_month = date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
        return next_month - timedelta(days=1)
    raise ValueError(f"unknown grain {grain!r}")


@dataclass(frozen=True)
class Coverage:
    start: date  # the answered range, inclusive
    end: date
    newest: date  # the newest day the KPI's source holds data for

    def complete(self, first_day: date, grain: str) -> bool:
        last_day = period_end(first_day, grain)
        return self.start <= first_day and last_day <= min(self.end, self.newest)
