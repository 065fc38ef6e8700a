"""``dbt build`` and ``dbt source freshness`` in this process (dbt's programmatic dbtRunner).

dbt is imported on the first build only. dbtRunner is not safe to run twice at once in one
process, so builds take a lock.

On BigQuery dbt writes the datasets in place (target ``prod``). On DuckDB the functions that
serve the marts keep the database file open read-only, and DuckDB lets nobody write a file that
another process has open: the build runs on a copy, which then replaces the file in one rename
(target ``local``). Readers reopen it when they notice (common.warehouse.duckdb_engine).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.config import Config
from common.errors import Unavailable
from common.money import currency_of
from common.warehouse import WarehouseUnavailable

_LOCK = threading.Lock()


class DbtCrashed(Unavailable):
    """dbt could not run at all (no connection, a broken project): retrying may help."""

    code = "dbt_failed"


@dataclass(frozen=True)
class DbtResults:
    run_results: dict[str, Any]  # dbt build's run_results.json
    sources: dict[str, Any]  # dbt source freshness' sources.json


def project_vars(config: Config) -> dict[str, Any]:
    """The dbt vars the configuration decides, the same however dbt is run."""
    return {
        "freshness_error_days": config.freshness_error_days,
        "reporting_time_zone": config.time_zone,
        "currency_minor_unit": currency_of(config.currency).minor_unit,
    }


def run_build(config: Config, run_id: str, project_dir: Path, work_dir: Path) -> DbtResults:
    """Build every model, seed and test, then check source freshness."""
    dbt_vars = project_vars(config)
    with _LOCK:
        if config.warehouse == "bigquery":
            return _build_and_check(project_dir, work_dir, "prod", dbt_vars, {})
        with building_copy(config.duckdb_path, run_id) as building:
            env = {"EXECKPI_DUCKDB_PATH": str(building)}
            return _build_and_check(project_dir, work_dir, "local", dbt_vars, env)


def _build_and_check(
    project_dir: Path, work_dir: Path, target: str, dbt_vars: dict[str, Any], env: dict[str, str]
) -> DbtResults:
    target_path = work_dir / "target"
    options = [
        *("--project-dir", str(project_dir), "--profiles-dir", str(project_dir)),
        *("--target", target, "--target-path", str(target_path)),
        *("--log-path", str(work_dir / "logs"), "--vars", json.dumps(dbt_vars), "--quiet"),
    ]
    for stale in ("run_results.json", "sources.json"):  # left by the previous build
        (target_path / stale).unlink(missing_ok=True)
    with _environment({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}):
        _invoke(["build", *options])
        run_results = json.loads((target_path / "run_results.json").read_text())
        _invoke(["source", "freshness", *options])
        sources = json.loads((target_path / "sources.json").read_text())
    return DbtResults(run_results, sources)


def _invoke(args: list[str]) -> None:
    from dbt.cli.main import dbtRunner

    try:
        result = dbtRunner().invoke(args)
    finally:
        _close_duckdb_connections()
    # Failing tests and stale sources are results (success is False, exception None); an
    # exception means dbt did not get to run the project.
    if result.exception is not None:
        raise DbtCrashed(f"dbt {args[0]} could not run: {result.exception}") from None


def _close_duckdb_connections() -> None:
    """dbt-duckdb keeps its database open after a run; close it before the file is renamed."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # a BigQuery-only deployment
        return
    DuckDBConnectionManager.close_all_connections()


@contextmanager
def building_copy(database: Path, run_id: str, swap_in: bool = True) -> Iterator[Path]:
    """A copy of the DuckDB file to work on while others hold it open; when the block succeeds
    it replaces the file in one rename (``swap_in``), otherwise it is thrown away."""
    if not database.is_file():
        raise WarehouseUnavailable(f"no DuckDB database at {database}: load the raw data first")
    building = database.with_name(f"{database.name}.{run_id}.building")
    shutil.copyfile(database, building)
    try:
        yield building
        if swap_in:
            os.replace(building, database)
    finally:
        building.unlink(missing_ok=True)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """dbt reads its profile's settings from the environment; set them for this build only."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
