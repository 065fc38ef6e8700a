"""DuckDB, the embedded default warehouse."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path

import duckdb

from common.warehouse.base import (
    Params,
    QueryResult,
    WarehouseQueryError,
    WarehouseUnavailable,
    check_param_name,
    check_params,
)


class DuckDBWarehouse:
    """Queries a DuckDB database file.

    A read-only warehouse opens the file for each query and closes it right after: DuckDB lets
    one process write a file only while no other process holds it, so a long-lived reader (a
    function instance) would lock the daily dbt build out. A writer keeps one connection and
    gives each query its own cursor, which is safe across threads.
    """

    engine = "duckdb"

    def __init__(self, path: Path | str, *, read_only: bool = True):
        self.path = Path(path)
        self.read_only = read_only
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def placeholder(self, name: str) -> str:
        return "$" + check_param_name(name)

    def query(
        self, sql: str, params: Params | None = None, *, labels: Mapping[str, str] | None = None
    ) -> QueryResult:
        # labels only mean something to BigQuery's billing; DuckDB has nothing to attach them to.
        values = check_params(params)
        started = time.perf_counter()
        connection = self._connect()
        try:
            cursor = connection.cursor()
            try:
                relation = cursor.sql(sql, params=values or None)
                table = relation.to_arrow_table() if relation is not None else None
            finally:
                cursor.close()
        except duckdb.IOException as exc:
            raise WarehouseUnavailable("the DuckDB database is busy or unreadable") from exc
        except duckdb.Error as exc:
            raise WarehouseQueryError("the warehouse rejected the query") from exc
        finally:
            if self.read_only:
                connection.close()
        if table is None:
            import pyarrow as pa

            table = pa.table({})
        return QueryResult(table=table, elapsed_ms=(time.perf_counter() - started) * 1000)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self.read_only:
            if not self.path.exists():
                raise WarehouseUnavailable(
                    f"no DuckDB database at {self.path}: load the data first"
                )
            try:
                return duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                raise WarehouseUnavailable("the DuckDB database is busy or unreadable") from exc
        with self._lock:
            if self._connection is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._connection = duckdb.connect(str(self.path))
            return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
