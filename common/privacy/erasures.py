"""Erasure requests, one row each in the warehouse's ``erasure_requests`` table.

The table sits in the staging schema (dataset), next to the models that read it: every staging
model with a user id leaves out the users named there (dbt_project/macros/privacy.sql), which
also creates the table on a build. Requests stay in the table for good: raw data is reloaded
(or is Google's public dataset), so the filter must keep applying.

Values travel as query parameters; the only SQL text that varies is the table's name, which
comes from the configuration.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common import validation
from common.errors import NotFound
from common.warehouse import Warehouse

STAGING_SCHEMA = "execkpi_staging"  # dbt's <profile dataset>_staging, on both engines
TABLE = "erasure_requests"
MAX_USER_ID = 2**63 - 1  # BigQuery's INT64, DuckDB's BIGINT
_COLUMNS = "request_id, user_id, requested_at, completed_at"
# Column types per engine: DuckDB's TIMESTAMP has no time zone, TIMESTAMPTZ is an instant.
_TYPES = {
    "duckdb": ("varchar", "bigint", "timestamptz"),
    "bigquery": ("string", "int64", "timestamp"),
}


class ErasureNotFound(NotFound):
    field = "request_id"


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    user_id: int
    requested_at: datetime
    completed_at: datetime | None  # None: pending

    @property
    def status(self) -> str:
        return "pending" if self.completed_at is None else "completed"

    def as_json(self) -> dict[str, Any]:
        completed = self.completed_at
        return {
            "request_id": self.request_id,
            "user_id": self.user_id,
            "status": self.status,
            "requested_at": self.requested_at.isoformat(),
            "completed_at": None if completed is None else completed.isoformat(),
        }


def requested_user_id(body: Mapping[str, Any]) -> int:
    """The user id of a request body ``{"user_id": <int>}``."""
    validation.known_fields(body, "", ("user_id",))
    return validation.integer(body.get("user_id"), "user_id", 1, MAX_USER_ID)


def any_of(warehouse: Warehouse, column: str, name: str) -> str:
    """``column`` equals one of the values of the list parameter ``name``."""
    placeholder = warehouse.placeholder(name)
    if warehouse.engine == "bigquery":
        return f"{column} in unnest({placeholder})"
    return f"list_contains({placeholder}, {column})"


class ErasureLedger:
    """The erasure requests of one warehouse (writable to record or complete requests)."""

    def __init__(self, warehouse: Warehouse, project: str | None = None):
        self.warehouse = warehouse
        self.project = project
        if warehouse.engine == "bigquery":
            self.table = f"`{project}.{STAGING_SCHEMA}.{TABLE}`"
        else:
            self.table = f"{STAGING_SCHEMA}.{TABLE}"

    def prepare(self) -> None:
        """The table, before any build has created it (the dbt hook's definition). On
        BigQuery the dataset is Terraform's; locally the schema is made here."""
        text, number, instant = _TYPES[self.warehouse.engine]
        if self.warehouse.engine == "duckdb":
            self.warehouse.query(f"create schema if not exists {STAGING_SCHEMA}")
        self.warehouse.query(
            f"create table if not exists {self.table} (request_id {text}, user_id {number}, "
            f"requested_at {instant}, completed_at {instant})"
        )

    def record(self, user_id: int, at: datetime) -> ErasureRequest:
        request = ErasureRequest(uuid.uuid4().hex, user_id, at, None)
        p = self.warehouse.placeholder
        self.warehouse.query(
            f"insert into {self.table} ({_COLUMNS}) "  # noqa: S608 (the table is configuration)
            f"values ({p('request_id')}, {p('user_id')}, {p('requested_at')}, null)",
            {"request_id": request.request_id, "user_id": user_id, "requested_at": at},
            labels={"purpose": "erasure_request"},
        )
        return request

    def find(self, request_id: str) -> ErasureRequest:
        if not self._exists():  # nothing recorded and never built: no request, not an outage
            raise ErasureNotFound(f"no erasure request {request_id}")
        found = self._select(
            f"where request_id = {self.warehouse.placeholder('request_id')}",
            {"request_id": request_id},
        )
        if not found:
            raise ErasureNotFound(f"no erasure request {request_id}")
        return found[0]

    def pending(self) -> tuple[ErasureRequest, ...]:
        return self._select("where completed_at is null", {})

    def complete(self, request_ids: Iterable[str], at: datetime) -> None:
        ids = list(request_ids)
        if not ids:
            return
        self.warehouse.query(
            f"update {self.table} set completed_at = {self.warehouse.placeholder('completed_at')} "  # noqa: S608
            f"where completed_at is null and {any_of(self.warehouse, 'request_id', 'request_ids')}",
            {"completed_at": at, "request_ids": ids},
            labels={"purpose": "erasure_completion"},
        )

    def _exists(self) -> bool:
        return staging_table_exists(self.warehouse, self.project, TABLE, "erasure_status")

    def _select(self, condition: str, params: Mapping[str, Any]) -> tuple[ErasureRequest, ...]:
        result = self.warehouse.query(
            f"select {_COLUMNS} from {self.table} {condition} order by requested_at",  # noqa: S608
            params,
            labels={"purpose": "erasure_status"},
        )
        return tuple(
            ErasureRequest(
                row["request_id"],
                row["user_id"],
                _utc(row["requested_at"]),
                None if row["completed_at"] is None else _utc(row["completed_at"]),
            )
            for row in result.table.to_pylist()
        )


def staging_table_exists(
    warehouse: Warehouse, project: str | None, table: str, purpose: str
) -> bool:
    """Whether dbt's staging schema holds ``table`` (``project``: BigQuery's); ``purpose``
    labels the query."""
    p = warehouse.placeholder
    if warehouse.engine == "bigquery":
        tables = f"`{project}.{STAGING_SCHEMA}`.INFORMATION_SCHEMA.TABLES"
        sql = f"select count(*) as n from {tables} where table_name = {p('table')}"  # noqa: S608
        params = {"table": table}
    else:
        where = f"table_schema = {p('schema')} and table_name = {p('table')}"
        sql = f"select count(*) as n from information_schema.tables where {where}"  # noqa: S608
        params = {"schema": STAGING_SCHEMA, "table": table}
    result = warehouse.query(sql, params, labels={"purpose": purpose})
    return result.table.to_pylist()[0]["n"] > 0


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
