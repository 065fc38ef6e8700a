"""The rules for client input, and the one exception that reports a broken rule.

Raise ``InvalidInput(field, message)`` anywhere below a function; its Router answers 400 with
``{"error": {"code": "invalid_argument", "message": message, "field": field}}``. A field is the
input's path, like ``variants[1].metrics.conversion.sum`` or ``options.alpha``.

Each rule takes the raw value and its field, and returns the value parsed or raises. Numbers
are real JSON numbers (not booleans, not strings) and finite; text from a query string is
checked with ASCII patterns, because ``str.isdigit`` and ``\\d`` accept digits ``int`` refuses
(``²``) or reads (``٣``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from common.errors import DomainError

# One segment of an artifact key (common.artifacts, which also refuses '..'). A run id names
# the folder runs/<run_id>/ of the run ledger, so its rule is this one: the store accepts
# every valid run id, and a run id the store would refuse is invalid input, not a crash.
KEY_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.=-]*"
MAX_RUN_ID = 128
RUN_ID_RULE = "must be 1-128 letters, digits, _ . = - (a letter, digit or _ first; no '..')"
MAX_REASON = 200
# The largest count float64 statistics honour: every whole number up to 2**53 is exact, and
# 2**53 + 1 is not (float() rounds it to 2**53, and n + 1 == n beyond).
MAX_COUNT = 2**53
_RUN_ID = re.compile(KEY_SEGMENT)
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_TIME_TEXT = 64


class InvalidInput(DomainError, ValueError):
    """``field`` names the offending input; ``message`` the rule it breaks."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def join(parent: str, key: str) -> str:
    """The path of ``key`` inside the object at ``parent`` ("" for the request itself)."""
    return f"{parent}.{key}" if parent else key


def known_fields(value: Any, field: str, known: Iterable[str]) -> Mapping[str, Any]:
    """A JSON object holding only ``known`` keys (the first unknown one, sorted, is named)."""
    if not isinstance(value, dict):
        raise InvalidInput(field or "body", "must be a JSON object")
    known = tuple(known)
    unknown = sorted(set(value) - set(known))
    if unknown:
        expected = ", ".join(known) or "none"
        raise InvalidInput(join(field, unknown[0]), f"unknown field (known: {expected})")
    return value


def is_number(value: Any) -> bool:
    """A finite JSON number: not a boolean, not NaN or Infinity, no integer beyond a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):  # bool is an int
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer like 10**400
        return False


def number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, "must be a number")
    if not is_number(value):
        raise InvalidInput(field, "must be a finite number (not NaN, Infinity or beyond ±1.8e308)")
    return float(value)


def count(value: Any, field: str) -> float:
    x = number(value, field)
    if x < 0 or x != int(x):
        raise InvalidInput(field, "must be a non-negative whole number")
    if value > MAX_COUNT:  # the raw value: float(2**53 + 1) would round down to the limit
        raise InvalidInput(field, f"must be at most 2**53 = {MAX_COUNT} (exact in float64)")
    return x


def probability(value: Any, field: str) -> float:
    x = number(value, field)
    if not 0 < x < 1:
        raise InvalidInput(field, "must be strictly between 0 and 1")
    return x


def positive(value: Any, field: str) -> float:
    x = number(value, field)
    if x <= 0:
        raise InvalidInput(field, "must be greater than 0")
    return x


def whole_number(value: Any, field: str, minimum: int, maximum: int) -> int:
    """A JSON integer, or its decimal text from a query string, from minimum to maximum."""
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        value = int(value)
    return integer(value, field, minimum, maximum)


def integer(value: Any, field: str, minimum: int, maximum: int) -> int:
    """A JSON integer (not a boolean, not text, not 1.0) from minimum to maximum."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(field, f"must be a whole number from {minimum} to {maximum}")
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value


def name(value: Any, field: str) -> str:
    """A display name: 1 to 100 printable characters, without surrounding blanks."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
        raise InvalidInput(field, "must be a string of 1 to 100 characters")
    if not value.isprintable():
        raise InvalidInput(field, "must not contain control characters")
    return value.strip()


def reason(value: Any, field: str = "reason") -> str:
    """Why a person asked for a run: free text of at most 200 characters, possibly empty."""
    if not isinstance(value, str) or len(value) > MAX_REASON:
        raise InvalidInput(field, f"must be a string of at most {MAX_REASON} characters")
    return value


def identifier(value: Any, field: str) -> str:
    """An id that is also safe in a URL or a file name: 1-64 letters, digits, '_' or '-'."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(field, "must be 1-64 letters, digits, '_' or '-'")
    return value


def choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}")
    return value


def iso_date(value: Any, field: str) -> date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise InvalidInput(field, "must be an ISO date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a calendar date") from None


def iso_time(value: Any, field: str) -> datetime:
    """An ISO-8601 time with a time zone, in UTC."""
    rule = "must be an ISO-8601 time with a time zone, e.g. 2026-11-23T05:00:00Z"
    if not isinstance(value, str) or len(value) > _MAX_TIME_TEXT:
        raise InvalidInput(field, rule)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, rule) from None
    if at.tzinfo is None:
        raise InvalidInput(field, rule)
    return at.astimezone(UTC)


def is_run_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_RUN_ID
        and _RUN_ID.fullmatch(value) is not None
        and ".." not in value
    )


def run_id(value: Any, field: str = "run_id") -> str:
    if not is_run_id(value):
        raise InvalidInput(field, RUN_ID_RULE)
    return value
