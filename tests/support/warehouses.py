"""DuckDB warehouses for tests: raw thelook tables loaded, then the local target built on them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from scripts.data.dbt_runner import run_dbt
from tests.support.reporting_time import REPORTING_ZONE


def build_warehouse(path: Path, load, *dbt_options: str) -> Path:
    """Raw tables put in by ``load``, then ``dbt build`` with ``dbt_options``."""
    with duckdb.connect(str(path)) as con:
        load(con)
    # An artifact folder of its own: nothing ingested (a developer's .local holds their batches).
    env = {
        "EXECKPI_TIME_ZONE": REPORTING_ZONE,
        "EXECKPI_ARTIFACT_DIR": str(path.parent / "artifacts"),
    }
    run_dbt(["build", *dbt_options], duckdb_path=path, env=env)
    return path
