"""What a KPI column holds, for clients: its JSON type and its unit.

Types: ``integer``, ``number``, ``money`` (a number rounded to the currency's minor unit),
``date``, ``timestamp`` (ISO 8601 strings), ``string``, ``boolean``. Units: the ISO 4217 code of
the shop's currency for money; ``count``, ``ratio`` (a share or rate, 0.25 = 25 %; growth
may be negative), ``days``, ``years``, ``weeks``, ``periods`` (of the KPI's grain), ``date``,
``timestamp``, ``text``, ``id``, ``boolean``, ``decile`` (1 to 10, 1 the highest tenth), and
``per_metric``: the unit of the row's metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.money import Currency


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    unit: str | None  # None for money: its unit is the configured currency

    def describe(self, currency: Currency) -> dict[str, Any]:
        unit = currency.code if self.type == "money" else self.unit
        return {"name": self.name, "type": self.type, "unit": unit}


def money(name: str) -> Column:
    return Column(name, "money", None)


def count(name: str, kind: str = "integer") -> Column:
    """How many; ``number`` for an average count."""
    return Column(name, kind, "count")


def ratio(name: str) -> Column:
    return Column(name, "number", "ratio")


def span(name: str, unit: str, kind: str = "integer") -> Column:
    """A length of time in days, weeks, years or periods."""
    return Column(name, kind, unit)


def day(name: str) -> Column:
    return Column(name, "date", "date")


def instant(name: str) -> Column:
    return Column(name, "timestamp", "timestamp")


def text(name: str) -> Column:
    return Column(name, "string", "text")


def identifier(name: str, kind: str = "integer") -> Column:
    return Column(name, kind, "id")


def flag(name: str, kind: str = "boolean") -> Column:
    """Yes or no; ``integer`` for a 0/1 label."""
    return Column(name, kind, "boolean")
