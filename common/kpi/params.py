"""Typed KPI parameters: what a client may send, checked before any SQL is built."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.validation import (
    InvalidInput,
    boolean,
    choice,
    identifier,
    iso_date,
    known_fields,
    whole_number,
)

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
QUERY_BOOLEANS = {"true": True, "false": False}
MAX_SPAN_DAYS = 3660  # ten years: more is a mistake or an attempt to scan everything


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "date" | "int" | "enum" | "id" | "bool"
    description: str
    default: Any = None
    allowed: tuple[str, ...] = ()  # enum values
    minimum: int | None = None  # int parameters declare both bounds
    maximum: int | None = None
    required: bool = False
    # For an id: the (mart, column) listing the ids that exist; an unknown one is a 404.
    known_in: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.type == "int" and (self.minimum is None or self.maximum is None):
            raise ValueError(f"int parameter {self.name} needs a minimum and a maximum")

    def parse(self, raw: Any) -> Any:
        if raw is None:
            if self.required:
                raise InvalidInput(self.name, "is required")
            return self.default
        parse = getattr(self, f"_parse_{self.type}")
        return parse(raw)

    def _parse_date(self, raw: Any) -> date:
        value = iso_date(raw, self.name)
        if not EARLIEST <= value <= LATEST:
            raise InvalidInput(self.name, f"must lie between {EARLIEST} and {LATEST}")
        return value

    def _parse_int(self, raw: Any) -> int:
        return whole_number(raw, self.name, self.minimum, self.maximum)

    def _parse_enum(self, raw: Any) -> str:
        return choice(raw, self.name, self.allowed)

    def _parse_bool(self, raw: Any) -> bool:
        # A query string carries text; a JSON body carries true/false.
        return boolean(QUERY_BOOLEANS.get(raw, raw) if isinstance(raw, str) else raw, self.name)

    def _parse_id(self, raw: Any) -> str:
        return identifier(raw, self.name)

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
    known_fields(raw, "", sorted(p.name for p in params))
    return {p.name: p.parse(raw.get(p.name)) for p in params}


def check_range(start: date, end: date) -> None:
    """A date range runs forwards and spans at most MAX_SPAN_DAYS (checked once defaults
    have filled in whichever end the client left out)."""
    if start > end:
        raise InvalidInput("start", "must not be after end")
    if (end - start).days >= MAX_SPAN_DAYS:
        raise InvalidInput("start", f"the range may span at most {MAX_SPAN_DAYS} days")
