"""After a build: prove that no mart holds an erased user, then mark their requests completed.

The proof is a query over every marts table with a ``user_id`` column, found in the
warehouse's own catalogue (INFORMATION_SCHEMA), so a mart added later is checked without
being listed here. A request stays pending while any row still holds its user id, or when the
build did not rebuild the models (the next build tries again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from common.privacy.erasures import ErasureLedger, ErasureRequest, any_of
from common.warehouse import Warehouse

_USER_ID = "column_name = 'user_id'"


@dataclass(frozen=True)
class ErasureOutcome:
    completed: tuple[str, ...]  # request ids marked completed by this build
    pending: int  # requests the build included that stay pending
    traces: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def counts(self) -> dict[str, int]:
        """What the build's summary reports."""
        return {"completed": len(self.completed), "pending": self.pending}


@dataclass(frozen=True)
class Marts:
    """Where the marts live: a DuckDB schema, or a BigQuery project's dataset."""

    schema: str
    project: str | None = None

    def catalogue_query(self, warehouse: Warehouse) -> tuple[str, dict[str, str]]:
        """SQL and parameters listing the tables (and views) that have a user_id column."""
        if warehouse.engine == "bigquery":
            view = f"`{self.project}.{self.schema}`.INFORMATION_SCHEMA.COLUMNS"
            return f"select distinct table_name from {view} where {_USER_ID}", {}  # noqa: S608
        schema = warehouse.placeholder("schema")
        sql = "select distinct table_name from information_schema.columns"
        return f"{sql} where table_schema = {schema} and {_USER_ID}", {"schema": self.schema}

    def table(self, warehouse: Warehouse, name: str) -> str:
        if warehouse.engine == "bigquery":
            return f"`{self.project}.{self.schema}.{name}`"
        return f'"{self.schema}"."{name}"'


def user_tables(warehouse: Warehouse, marts: Marts) -> tuple[str, ...]:
    sql, params = marts.catalogue_query(warehouse)
    result = warehouse.query(sql, params, labels={"purpose": "erasure_check"})
    return tuple(sorted(result.table.column("table_name").to_pylist()))


def user_traces(warehouse: Warehouse, marts: Marts, user_ids: Sequence[int]) -> dict[str, int]:
    """Per marts table with a user_id column, the rows holding one of ``user_ids`` (only
    tables with such rows). Table names come from the catalogue, never from a request."""
    tables = user_tables(warehouse, marts)
    if not tables or not user_ids:
        return {}
    counts = " union all ".join(
        f"select '{name}' as table_name, count(*) as found "  # noqa: S608
        f"from {marts.table(warehouse, name)} where {any_of(warehouse, 'user_id', 'user_ids')}"
        for name in tables
    )
    result = warehouse.query(
        counts, {"user_ids": list(user_ids)}, labels={"purpose": "erasure_check"}
    )
    return {row["table_name"]: row["found"] for row in result.table.to_pylist() if row["found"]}


def complete_erasures(
    ledger: ErasureLedger,
    included: Sequence[ErasureRequest],
    marts: Marts,
    *,
    models_built: bool,
    at: datetime,
) -> ErasureOutcome:
    """Mark the requests a build included completed when the check finds none of their
    users in any mart; otherwise they all stay pending."""
    if not included:
        return ErasureOutcome((), 0)
    if not models_built:
        return ErasureOutcome((), len(included))
    traces = user_traces(ledger.warehouse, marts, sorted({r.user_id for r in included}))
    if traces:
        return ErasureOutcome((), len(included), MappingProxyType(traces))
    completed = tuple(r.request_id for r in included)
    ledger.complete(completed, at)
    return ErasureOutcome(completed, 0)
