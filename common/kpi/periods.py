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


def period_start(day: date, grain: str) -> date:
    """The first day of the day, ISO week or month holding day."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown grain {grain!r}")


def whole_periods(start: date, end: date, grain: str) -> tuple[date, date] | None:
    """The first and last day of the periods lying wholly within [start, end], or None."""
    one_day = timedelta(days=1)
    first = period_start(start, grain)
    if first != start:
        first = period_end(first, grain) + one_day
    last = period_start(end, grain)
    last = end if period_end(last, grain) == end else last - one_day
    return (first, last) if first <= last else None


@dataclass(frozen=True)
class Coverage:
    start: date  # the answered range, inclusive
    end: date
    newest: date  # the newest day the KPI's source holds data for

    def complete(self, first_day: date, grain: str) -> bool:
        last_day = period_end(first_day, grain)
        return self.start <= first_day and last_day <= min(self.end, self.newest)
