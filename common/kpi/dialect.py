"""The few SQL spellings that differ between DuckDB and BigQuery, for the KPI builders, and the
``Query`` a builder returns: its SQL and exactly the values its placeholders bind.

KPI SQL is written once against this interface; everything else in it is SQL both engines
read the same way (a test parses every KPI's BigQuery rendering with sqlglot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from common.marts import MARTS

GRAINS = ("day", "week", "month")


@dataclass(frozen=True)
class Query:
    sql: str
    params: Mapping[str, Any]  # one value per placeholder in sql, nothing more


@dataclass(frozen=True)
class Dialect:
    engine: str  # "duckdb" | "bigquery"
    marts: str  # the schema (DuckDB) or dataset (BigQuery) holding the marts

    def placeholder(self, name: str) -> str:
        return ("@" if self.engine == "bigquery" else "$") + name

    def table(self, name: str) -> str:
        if name not in MARTS:
            raise ValueError(f"{name!r} is not a mart")
        return f"{self.marts}.{name}"

    def truncate(self, grain: str, column: str) -> str:
        """The first day of the day/week (Monday)/month holding a date column."""
        if grain not in GRAINS:
            raise ValueError(f"unknown grain {grain!r}")
        if grain == "day":
            return column
        if self.engine == "bigquery":
            return f"date_trunc({column}, {'isoweek' if grain == 'week' else 'month'})"
        return f"cast(date_trunc('{grain}', {column}) as date)"


class Binder:
    """Writes one query's placeholders and remembers the value each binds, so the query
    carries exactly the parameters its SQL names."""

    def __init__(self, dialect: Dialect, values: Mapping[str, Any]):
        self._dialect, self._values = dialect, values
        self._bound: dict[str, Any] = {}

    def __call__(self, name: str) -> str:
        self._bound[name] = self._values[name]
        return self._dialect.placeholder(name)

    def between(self, column: str) -> str:
        """The date range filter: ``<column> between <start> and <end>``."""
        return f"{column} between {self('start')} and {self('end')}"

    def equals(self, column: str, name: str, keyword: str = "and") -> str:
        """`` <keyword> <column> = <placeholder>`` when the optional parameter is given, else
        nothing: the filter and its value come together or not at all."""
        return f" {keyword} {column} = {self(name)}" if self._values[name] else ""

    def query(self, sql: str) -> Query:
        return Query(sql, MappingProxyType(dict(self._bound)))
