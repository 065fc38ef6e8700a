"""The API as a client meets it: every HTTP function of the local stack behind the gateway, on
free ports, serving a warehouse built from the generated data and a champion model trained on
it (by scripts/local/train_model.py, as a person would). Started once per session."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.deploy.catalog import REPO_ROOT, discover
from scripts.local.stack import LocalStack
from tests.support.api import clean_env, free_ports_for_stack


@pytest.fixture(scope="session")
def api_settings(generated_warehouse: Path, tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("api")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, warehouse)  # a build through the API replaces it
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
