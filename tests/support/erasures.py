"""The erasure request GET /pipeline/erasures/{request_id}'s worked example reads, written
into a DuckDB warehouse the way dbt_build writes requests (the table as ErasureLedger makes
it), so that the example's id exists for the tests that send it."""

from __future__ import annotations

from typing import Any

from common.privacy.erasures import ErasureLedger
from common.warehouse.duckdb_engine import DuckDBWarehouse
from tests.support.openapi import operations, worked_example

_COLUMNS = ("request_id", "user_id", "requested_at", "completed_at")


def seed_erasure_example(document: dict[str, Any], duckdb_path: str) -> None:
    [read] = [
        op
        for op in operations(document)
        if (op.method, op.path) == ("GET", "/pipeline/erasures/{request_id}")
    ]
    example = worked_example(document, read).response
    ledger = ErasureLedger(DuckDBWarehouse(duckdb_path, read_only=False))
    try:
        ledger.prepare()
        ledger.warehouse.query(
            f"insert into {ledger.table} values "
            "($request_id, $user_id, $requested_at::timestamptz, $completed_at::timestamptz)",
            {name: example[name] for name in _COLUMNS},
        )
    finally:
        ledger.warehouse.close()
