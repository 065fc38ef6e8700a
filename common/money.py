"""The shop's currency and its amounts in answers.

The code is configuration (``EXECKPI_CURRENCY``); its minor unit (2 for USD and EUR, 0 for JPY)
comes from CLDR through Babel, imported on first use: ``babel.numbers`` costs about 60 ms, which
only the kpi function (at start) and the dbt build pay, not every function's cold start.

Answers round money half up (away from zero), as German commercial rounding (DIN 1333) and
Excel's ROUND do, so a finance team re-computing a figure gets the same cent. Half-even's
advantage, no bias over many roundings, does not apply: each figure is an exact decimal sum
from the marts and is rounded once, for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from common.config import PREFIX, ConfigError


@dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217
    minor_unit: int  # digits after the decimal point

    def round(self, amount: Decimal | float) -> float | None:
        """The amount to the minor unit, as the JSON number an answer holds (None if not
        finite). A float is read from its shortest repr, so 0.125 and 100.345 round up."""
        if not math.isfinite(amount):
            return None
        exact = amount if isinstance(amount, Decimal) else Decimal(repr(float(amount)))
        return float(exact.quantize(Decimal(1).scaleb(-self.minor_unit), ROUND_HALF_UP))


def currency_of(code: str) -> Currency:
    """The currency CLDR knows under this ISO 4217 code, or a ``ConfigError`` naming it."""
    from babel.numbers import get_currency_precision, is_currency

    if not is_currency(code):
        raise ConfigError([f"{PREFIX}CURRENCY={code!r}: not an ISO 4217 currency code CLDR knows"])
    return Currency(code, get_currency_precision(code))
