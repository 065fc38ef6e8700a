"""Warehouses built once per test session: raw thelook data loaded into DuckDB, then
``dbt build`` on it. One from the real shared exports (skipped when ../shared is absent), one
from the generator (always available)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from scripts.dbt_runner import run_dbt
from scripts.thelook.load import load_generated, load_shared
from tests.conftest import SHARED_DATASETS

GENERATED_USERS = 4000
GENERATED_SEED = 7


def build_warehouse(path: Path, load) -> Path:
    with duckdb.connect(str(path)) as con:
        load(con)
    run_dbt(["build"], duckdb_path=path)
    return path


@pytest.fixture(scope="session")
def generated_raw(tmp_path_factory) -> Path:
    from scripts.thelook.generator import generate

    folder = tmp_path_factory.mktemp("thelook")
    generate(folder, users=GENERATED_USERS, seed=GENERATED_SEED, progress=False)
    return folder


@pytest.fixture(scope="session")
def generated_warehouse(tmp_path_factory, generated_raw) -> Path:
    path = tmp_path_factory.mktemp("generated") / "warehouse.duckdb"
    return build_warehouse(path, lambda con: load_generated(con, generated_raw))


@pytest.fixture(scope="session")
def shared_warehouse(tmp_path_factory) -> Path:
    if not (SHARED_DATASETS / "thelook_ecommerce").is_dir():
        pytest.skip(f"the shared thelook exports are not at {SHARED_DATASETS}")
    path = tmp_path_factory.mktemp("shared") / "warehouse.duckdb"
    return build_warehouse(path, lambda con: load_shared(con, SHARED_DATASETS))


@pytest.fixture(params=["generated", "shared"])
def warehouse(request) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a built warehouse, for each dataset."""
    path = request.getfixturevalue(f"{request.param}_warehouse")
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()
