"""Typed KPI parameters: what a client may send, checked before any SQL is built."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.validation import InvalidInput

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
MAX_SPAN_DAYS = 3660  # ten years: more is a mistake or an attempt to scan everything


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "date" | "int" | "enum" | "id"
    description: str
    default: Any = None
    allowed: tuple[str, ...] = ()  # enum values
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False

    def parse(self, raw: Any) -> Any:
        if raw is None:
            if self.required:
                raise InvalidInput(self.name, "is required")
            return self.default
        parse = getattr(self, f"_parse_{self.type}")
        return parse(raw)

    def _parse_date(self, raw: Any) -> date:
        if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise InvalidInput(self.name, "must be an ISO date YYYY-MM-DD")
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(self.name, f"{raw!r} is not a calendar date") from None
        if not EARLIEST <= value <= LATEST:
            raise InvalidInput(self.name, f"must lie between {EARLIEST} and {LATEST}")
        return value

    def _parse_int(self, raw: Any) -> int:
        if isinstance(raw, bool) or not (
            isinstance(raw, int) or (isinstance(raw, str) and re.fullmatch(r"-?\d{1,9}", raw))
        ):
            raise InvalidInput(self.name, "must be a whole number")
        value = int(raw)
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise InvalidInput(self.name, f"must be between {self.minimum} and {self.maximum}")
        return value

    def _parse_enum(self, raw: Any) -> str:
        if raw not in self.allowed:
            raise InvalidInput(self.name, f"must be one of {', '.join(self.allowed)}")
        return raw

    def _parse_id(self, raw: Any) -> str:
        if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", raw):
            raise InvalidInput(self.name, "must be 1-64 letters, digits, '_' or '-'")
        return raw

    def describe(self) -> dict[str, Any]:
        described = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "required": self.required,
        }
        described["default"] = (
            self.default.isoformat() if isinstance(self.default, date) else self.default
        )
        if self.allowed:
            described["allowed"] = list(self.allowed)
        if self.minimum is not None:
            described["minimum"], described["maximum"] = self.minimum, self.maximum
        return described


def parse_params(params: Sequence[Param], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared parameter parsed (or defaulted); unknown names refused."""
    known = {p.name for p in params}
    unknown = sorted(set(raw) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise InvalidInput(unknown[0], f"unknown parameter (expected: {expected})")
    return {p.name: p.parse(raw.get(p.name)) for p in params}


def check_range(start: date, end: date) -> None:
    """A date range runs forwards and spans at most MAX_SPAN_DAYS (checked once defaults
    have filled in whichever end the client left out)."""
    if start > end:
        raise InvalidInput("start", "must not be after end")
    if (end - start).days >= MAX_SPAN_DAYS:
        raise InvalidInput("start", f"the range may span at most {MAX_SPAN_DAYS} days")
