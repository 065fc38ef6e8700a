"""The warehouse: DuckDB locally, BigQuery in production, behind one small interface.

SQL always travels with its values as named parameters; nothing from a request is pasted into
SQL text. Placeholders differ per engine (``$name`` on DuckDB, ``@name`` on BigQuery): build
them with ``warehouse.placeholder(name)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.warehouse.base import (
    QueryResult,
    Warehouse,
    WarehouseError,
    WarehouseQueryError,
    WarehouseUnavailable,
)

if TYPE_CHECKING:
    from common.config import Config

__all__ = [
    "QueryResult",
    "Warehouse",
    "WarehouseError",
    "WarehouseQueryError",
    "WarehouseUnavailable",
    "open_warehouse",
]


def open_warehouse(config: Config, *, read_only: bool = True) -> Warehouse:
    """The warehouse the configuration names; its client library is imported here."""
    if config.warehouse == "bigquery":
        from common.warehouse.bigquery_engine import BigQueryWarehouse

        return BigQueryWarehouse(
            project=config.bq_project or "",
            dataset=config.bq_dataset,
            location=config.bq_location,
            max_bytes_billed=config.bq_max_bytes_billed,
        )
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    return DuckDBWarehouse(config.duckdb_path, read_only=read_only)
