"""Shared fixtures: a clean EXECKPI_* environment per test, emulators, function test clients,
and warehouses built once per session (raw thelook data loaded into DuckDB, then dbt build):
one from the generator (always available), one from the real shared exports (skipped when
../shared is absent)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from common.events.envelope import EVENT_TYPES
from scripts.data.dbt_runner import run_dbt
from scripts.data.thelook.load import load_generated, load_shared
from scripts.deploy.catalog import EXAMPLES_DIR, discover
from scripts.local.bus import LocalBus, LocalBusServer
from scripts.local.emulators import GcsEmulator, PubSubEmulator
from tests.support.datasets import SHARED_DATASETS

# Nothing in the tests may wait on the network.
os.environ.update(
    NO_GCE_CHECK="true", DBT_SEND_ANONYMOUS_USAGE_STATS="false", CHECKPOINT_DISABLE="1"
)


@pytest.fixture
def execkpi_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Local back-ends in a temp folder; returns the settings (also set in os.environ)."""
    for name in list(os.environ):
        if name.startswith("EXECKPI_"):
            monkeypatch.delenv(name)
    settings = {
        "EXECKPI_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "EXECKPI_ARTIFACT_DIR": str(tmp_path / "artifacts"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


@pytest.fixture
def function_client(
    execkpi_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., object]:
    """A Flask test client for one function folder, loaded as functions-framework loads it.

    Extra EXECKPI_* settings are applied before the module runs, since functions read their
    configuration at import time.
    """
    from functions_framework import create_app

    specs = {spec.name: spec for spec in [*discover(), *discover(EXAMPLES_DIR)]}

    def make(name: str, **settings: str):
        for key, value in settings.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("FUNCTION_SIGNATURE_TYPE", raising=False)
        spec = specs[name]
        app = create_app(spec.entry_point, str(spec.source), spec.signature_type)
        return app.test_client()

    return make


@pytest.fixture
def bus():
    """A local bus server recording every event published to it in ``bus.received``; point a
    function at it with EXECKPI_LOCAL_BUS_URL=bus.url."""
    received = []
    server = LocalBusServer(LocalBus(max_attempts=1)).start()
    for event_type in sorted(EVENT_TYPES):
        server.bus.subscribe(event_type, received.append)
    server.received = received
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GcsEmulator]:
    reason = GcsEmulator.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with GcsEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[PubSubEmulator]:
    reason = PubSubEmulator.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with PubSubEmulator() as emulator:
        yield emulator


GENERATED_USERS = 4000
GENERATED_SEED = 7


def build_warehouse(path: Path, load) -> Path:
    with duckdb.connect(str(path)) as con:
        load(con)
    run_dbt(["build"], duckdb_path=path)
    return path


@pytest.fixture(scope="session")
def generated_raw(tmp_path_factory) -> Path:
    from scripts.data.thelook.dataset import generate

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
