"""The simulated period: ``years`` years up to ``as_of`` (exclusive), growing as thelook grows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from scripts.data.thelook.calibration import YEARLY_GROWTH

DAY = 86_400
YEAR = 365.25 * DAY


def epoch_seconds(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Timeline:
    start: int  # epoch seconds, inclusive
    end: int  # epoch seconds of as_of 00:00 UTC, exclusive: nothing happens from then on

    @classmethod
    def ending(cls, as_of: date, years: int) -> Timeline:
        end = epoch_seconds(as_of)
        return cls(end - round(years * YEAR / DAY) * DAY, end)

    def growing(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Instants whose density grows by YEARLY_GROWTH a year (inverse-CDF sampling)."""
        rate = np.log(YEARLY_GROWTH) / YEAR
        span = self.end - self.start
        offset = np.log1p(rng.random(n) * np.expm1(rate * span)) / rate
        return self.start + np.minimum(offset.astype(np.int64), span - 1)


def fit_in_day(instants: np.ndarray, duration: int) -> np.ndarray:
    """Squeeze each instant's time of day into [0, DAY - duration), keeping its date and order.

    A session starting there ends the same UTC day, so "sessions on date D" is unambiguous for
    experiment windows; the map is monotone and moves an instant back by at most ``duration``.
    """
    day, second = np.divmod(instants, DAY)
    return day * DAY + second * (DAY - duration) // DAY
