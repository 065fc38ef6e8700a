"""``dbt build`` and ``dbt source freshness`` in this process (dbt's programmatic dbtRunner).

dbt is imported on the first build only. dbtRunner is not safe to run twice at once in one
process, so builds take a lock.

On BigQuery dbt writes the datasets in place (target ``prod``). On DuckDB the functions that
serve the marts keep the database file open read-only, and DuckDB lets nobody write a file that
another process has open: the build runs on a copy, which then replaces the file in one rename
(target ``local``). Readers reopen it when they notice (common.warehouse.duckdb_engine).
Whatever else writes the DuckDB file (erasure requests) does so the same way, under the same
lock, so that no build swaps in a copy that misses it.

Around dbt, a build reads the pending erasure requests (common.privacy) and, once dbt has
rebuilt the marts without those users, completes them. Models are incremental (the first build
of a warehouse is a full one); common.pipeline.full_refresh says when a build rebuilds them all
(``--full-refresh``): pending erasures, or a project or setting changed since the last complete
build. The data tests of an incremental build check the rows it changed (dbt var
test_changed_rows, dbt_project/macros/tests/changed_rows.sql); the first build and a full
refresh check every row. Before dbt, it copies the current experiment definitions
(common.definitions) into the staging tables dbt reads them from.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.artifacts import open_artifact_store
from common.config import Config
from common.definitions.staging import prepare_build
from common.definitions.store import DefinitionStore
from common.errors import Unavailable
from common.ml.batch_scores import SCORES_PREFIX
from common.money import currency_of
from common.pipeline import full_refresh
from common.privacy.completion import ErasureOutcome, Marts, complete_erasures
from common.privacy.erasures import ErasureLedger, staging_table_exists
from common.warehouse import Warehouse, WarehouseUnavailable, open_warehouse

_LOCK = threading.Lock()
_ERRORS = frozenset({"error", "runtime error"})  # dbt's statuses of a node that did not run


class DbtCrashed(Unavailable):
    """dbt could not run at all (no connection, a broken project): retrying may help."""

    code = "dbt_failed"


@dataclass(frozen=True)
class DbtResults:
    run_results: dict[str, Any]  # dbt build's run_results.json
    sources: dict[str, Any]  # dbt source freshness' sources.json
    erasures: ErasureOutcome  # the erasure requests this build included
    full_refresh: str | None  # why every incremental model was rebuilt; None: incremental


@dataclass(frozen=True)
class BuildTarget:
    """What dbt builds: BigQuery in place, or a copy of the DuckDB file."""

    dbt_target: str
    env: dict[str, str]
    duckdb_file: Path | None  # None: BigQuery

    def open(self, config: Config) -> Warehouse:
        """A writable connection to what dbt builds (close it before dbt opens the file)."""
        if self.duckdb_file is None:
            return open_warehouse(config)
        from common.warehouse.duckdb_engine import DuckDBWarehouse

        return DuckDBWarehouse(self.duckdb_file, read_only=False)


def project_vars(config: Config) -> dict[str, Any]:
    """The dbt vars the configuration decides, the same however dbt is run."""
    return {
        "freshness_error_days": config.freshness_error_days,
        "reporting_time_zone": config.time_zone,
        "currency_minor_unit": currency_of(config.currency).minor_unit,
        # DuckDB builds copy the ingest function's curated Parquet from here (BigQuery reads
        # the bucket through external tables); absolute, as dbt may run in another folder.
        "ingested_dir": str((config.artifact_dir / "ingest" / "curated").resolve()),
        # ... and the model's batch scores (common/ml/batch_scores.py) from here.
        "scores_dir": str((config.artifact_dir / SCORES_PREFIX).resolve()),
    }


def run_build(config: Config, run_id: str, project_dir: Path, work_dir: Path) -> DbtResults:
    """Build every model, seed and test, check source freshness, then complete the erasure
    requests pending when the build started (those the build's staging left out)."""
    dbt_vars = project_vars(config)
    marts = Marts(config.marts_schema, config.bq_project)
    store = open_artifact_store(config)
    basis = full_refresh.basis(project_dir, dbt_vars, run_id)
    with _LOCK, _build_target(config, run_id) as target:
        with closing(target.open(config)) as warehouse:
            ledger = ErasureLedger(warehouse, config.bq_project)
            ledger.prepare()
            included = ledger.pending()
            # One of the incremental models: it exists once a build has run.
            built_before = staging_table_exists(
                warehouse, config.bq_project, "int_orders", "build_scope"
            )
            seeds = project_dir / "seeds"
            prepare_build(
                warehouse, DefinitionStore(store), seeds, datetime.now(UTC), config.bq_project
            )
        refresh = full_refresh.reason(store, basis, len(included))
        dbt_vars["test_changed_rows"] = built_before and refresh is None
        run_results, sources = _build_and_check(
            project_dir, work_dir, target.dbt_target, dbt_vars, target.env, refresh is not None
        )
        models_built = _models_built(run_results)
        with closing(target.open(config)) as warehouse:
            erasures = complete_erasures(
                ErasureLedger(warehouse, config.bq_project),
                included,
                marts,
                models_built=models_built,
                at=datetime.now(UTC),
            )
    if models_built:  # recorded once the file is swapped in: the basis of the next builds
        full_refresh.record(store, basis)
    else:
        full_refresh.record_failure(store, run_id)
    return DbtResults(run_results, sources, erasures, refresh)


@contextmanager
def writable_warehouse(config: Config, purpose: str) -> Iterator[Warehouse]:
    """The warehouse to write outside dbt (erasure requests): BigQuery as it is; on DuckDB,
    once no build runs, a copy of the file that replaces it when the block succeeds (a build
    started meanwhile would otherwise swap in a copy without the write)."""
    if config.warehouse == "bigquery":
        with closing(open_warehouse(config)) as warehouse:
            yield warehouse
        return
    with _LOCK, _build_target(config, purpose) as target, closing(target.open(config)) as warehouse:
        yield warehouse


@contextmanager
def _build_target(config: Config, run_id: str) -> Iterator[BuildTarget]:
    if config.warehouse == "bigquery":
        yield BuildTarget("prod", {}, None)
        return
    with building_copy(config.duckdb_path, run_id) as building:
        yield BuildTarget("local", {"EXECKPI_DUCKDB_PATH": str(building)}, building)


def _models_built(run_results: dict[str, Any]) -> bool:
    """No node errored: every model was rebuilt (a failed data test does not undo that)."""
    return not any(r["status"] in _ERRORS for r in run_results["results"])


def _build_and_check(
    project_dir: Path,
    work_dir: Path,
    target: str,
    dbt_vars: dict[str, Any],
    env: dict[str, str],
    full: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """dbt build (every model rebuilt: ``full``) and dbt source freshness: their run_results.json
    and sources.json."""
    target_path = work_dir / "target"
    options = [
        *("--project-dir", str(project_dir), "--profiles-dir", str(project_dir)),
        *("--target", target, "--target-path", str(target_path)),
        *("--log-path", str(work_dir / "logs"), "--vars", json.dumps(dbt_vars), "--quiet"),
    ]
    for stale in ("run_results.json", "sources.json"):  # left by the previous build
        (target_path / stale).unlink(missing_ok=True)
    with _environment({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}):
        _invoke(["build", *options, *(["--full-refresh"] if full else [])])
        run_results = json.loads((target_path / "run_results.json").read_text())
        _invoke(["source", "freshness", *options])
        sources = json.loads((target_path / "sources.json").read_text())
    return run_results, sources


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
