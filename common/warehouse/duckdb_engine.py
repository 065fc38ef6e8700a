"""DuckDB, the embedded default warehouse."""

from __future__ import annotations

import os
import threading
import time
import warnings
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

# Arrow out of an executed statement copies its rows once more: the copy of a KPI's rows costs
# far less than the second parse and bind the warning's advice (a relation) would.
warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)


class DuckDBWarehouse:
    """Queries a DuckDB database file, one cursor per query on a shared connection.

    Opening a large file costs tens of milliseconds, so the connection stays open. A
    read-only warehouse reopens it when the file is replaced or rewritten (its inode or mtime
    changes), which is how it sees a new dbt build. While it is open, DuckDB lets no other
    process write the file: a local build should write a new file and rename it into place.
    """

    engine = "duckdb"

    def __init__(self, path: Path | str, *, read_only: bool = True):
        self.path = Path(path)
        self.read_only = read_only
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def placeholder(self, name: str) -> str:
        return "$" + check_param_name(name)

    def query(
        self, sql: str, params: Params | None = None, *, labels: Mapping[str, str] | None = None
    ) -> QueryResult:
        # labels only mean something to BigQuery's billing; DuckDB has nothing to attach them to.
        values = check_params(params)
        started = time.perf_counter()
        cursor = self._connect().cursor()
        try:
            # Run once: a relation (cursor.sql) parses and binds the statement, then does it
            # all again to run it, which costs more than the query itself on a KPI's few rows.
            table = cursor.execute(sql, values or None).to_arrow_table()
        except duckdb.IOException as exc:
            raise WarehouseUnavailable("the DuckDB database is busy or unreadable") from exc
        except duckdb.Error as exc:
            raise WarehouseQueryError("the warehouse rejected the query") from exc
        finally:
            cursor.close()
        return QueryResult(table=table, elapsed_ms=(time.perf_counter() - started) * 1000)

    def estimate_bytes(self, sql: str, params: Params | None = None) -> None:
        return None  # nothing is billed locally

    def data_version(self) -> str:
        stat = self._stat()
        return f"duckdb:{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}"

    def _stat(self) -> os.stat_result:
        try:
            return self.path.stat()
        except FileNotFoundError:
            raise WarehouseUnavailable(
                f"no DuckDB database at {self.path}: load the data first"
            ) from None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self.read_only:
                stat = self._stat()
                identity = (stat.st_ino, stat.st_mtime_ns)
                if self._connection is not None and identity != self._identity:
                    self._connection.close()
                    self._connection = None
                self._identity = identity
            if self._connection is None:
                self._connection = self._open()
            return self._connection

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            if self.read_only:
                return duckdb.connect(str(self.path), read_only=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise WarehouseUnavailable("the DuckDB database is busy or unreadable") from exc

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
