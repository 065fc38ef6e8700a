"""The few SQL spellings that differ between DuckDB and BigQuery, for the KPI builders.

KPI SQL is written once against this interface; everything else in it is SQL both engines
read the same way (a test parses every KPI's BigQuery rendering with sqlglot).
"""

from __future__ import annotations

from dataclasses import dataclass

from common.marts import MARTS

GRAINS = ("day", "week", "month")


@dataclass(frozen=True)
class Dialect:
    engine: str  # "duckdb" | "bigquery"
    marts: str  # the schema (DuckDB) or dataset (BigQuery) holding the marts

    def param(self, name: str) -> str:
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

    def days_before(self, column: str, days: int) -> str:
        if self.engine == "bigquery":
            return f"date_sub({column}, interval {int(days)} day)"
        return f"({column} - interval {int(days)} day)"
