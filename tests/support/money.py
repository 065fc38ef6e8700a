"""Money as the reference computations state it: each raw line amount rounded to cents (the
source stores floats such as 39.9900016784668), summed exactly, and a derived figure (an
average) rounded half up to the cent once, as answers show it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(column: str) -> str:
    """SQL over the raw tables: a price stored as a float near whole cents (39.9900016784668)
    as the exact decimal it stands for. Not for amounts with fractions of a cent, where a
    float's rounding differs from the written value's at halves: see ``as_invoiced``."""
    return f"cast(round({column}, 2) as decimal(18, 2))"


def as_invoiced(amount: float) -> Decimal:
    """A raw float amount read to 9 decimals (what lies beyond is storage noise: 6.645 kept
    as a 32-bit float reads 6.644999999552965), then rounded half up to the cent."""
    nine_decimals = Decimal(repr(amount)).quantize(Decimal("1e-9"), ROUND_HALF_UP)
    return nine_decimals.quantize(CENT, ROUND_HALF_UP)


def to_cent(amount: Decimal) -> float:
    """An exact amount rounded half up to the cent, as the JSON number an answer holds."""
    return float(amount.quantize(CENT, ROUND_HALF_UP))
