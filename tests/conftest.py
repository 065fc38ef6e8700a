"""Shared fixtures: a clean EXECKPI_* environment per test, emulators, function test clients,
warehouses built once per session (raw thelook data loaded into DuckDB, then dbt build): one
from the generator (always available), one from the real shared exports (skipped when
../shared is absent), and the API as a client meets it: the HTTP functions behind the gateway,
on the generated warehouse with a champion model trained on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from common.events.envelope import EVENT_TYPES
from common.openapi import description
from scripts.data.thelook.load import load_generated, load_shared
from scripts.deploy.catalog import EXAMPLES_DIR, REPO_ROOT, discover
from scripts.local.bus import LocalBus, LocalBusServer
from scripts.local.emulators import GcsEmulator, PubSubEmulator, free_ports_for_stack
from scripts.local.stack import LocalStack
from tests.support.api import clean_env
from tests.support.datasets import SHARED_DATASETS
from tests.support.definitions import seed_definition_example
from tests.support.erasures import seed_erasure_example
from tests.support.reporting_time import with_local_day
from tests.support.reports import seed_report_example
from tests.support.warehouses import build_warehouse

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
    """A read-only connection to a built warehouse, for each dataset, with ``local_day`` (see
    tests.support.reporting_time)."""
    path = request.getfixturevalue(f"{request.param}_warehouse")
    con = with_local_day(duckdb.connect(str(path), read_only=True))
    yield con
    con.close()


# --- the API behind the gateway (tests/api) -------------------------------------------------


@pytest.fixture(scope="session")
def api_settings(generated_warehouse: Path, tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("api")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, warehouse)  # a build through the API replaces it
    seed_erasure_example(description(), str(warehouse))  # the request its example reads
    seed_report_example(description(), str(root / "artifacts"))  # the report its example reads
    seed_definition_example(description(), str(root / "artifacts"))  # the one PATCH changes
    settings = {
        "EXECKPI_DUCKDB_PATH": str(warehouse),
        "EXECKPI_ARTIFACT_DIR": str(root / "artifacts"),
    }
    trained = subprocess.run(
        [sys.executable, "-m", "scripts.local.train_model", "--run-id", "champion"],
        cwd=REPO_ROOT,
        env=clean_env(**settings),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert json.loads(trained.stdout)["promoted"], trained.stdout[-3000:]
    return settings


@pytest.fixture(scope="session")
def api_stack(api_settings: dict[str, str], tmp_path_factory) -> Iterator[LocalStack]:
    """The HTTP functions and the gateway in front of them. Event functions stay out: nothing
    routes to them, and a retrain requested through the API would train for minutes."""
    specs = [spec for spec in discover() if spec.is_http]
    base_port, gateway_port = free_ports_for_stack(len(specs))
    stack = LocalStack(
        specs,
        base_port,
        api_settings,
        log_dir=tmp_path_factory.mktemp("api-logs"),
        gateway_port=gateway_port,
    ).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def gateway(api_stack: LocalStack) -> str:
    """The one URL of the API."""
    return api_stack.gateway_url
