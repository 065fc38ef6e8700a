"""Fixtures of the function tests: a champion model for model and train, the settings of the
report tests, and validate's client with a private warehouse copy to tamper with."""

import shutil
from pathlib import Path

import pytest

from common.artifacts.local import LocalArtifactStore
from common.ml.data import load_features
from common.ml.features import CONVERSION
from common.ml.fitting import Settings
from common.ml.promotion import Gates
from common.ml.registry import Registry
from common.ml.training_run import train_run
from common.warehouse.duckdb_engine import DuckDBWarehouse


@pytest.fixture(scope="session")
def champion_artifacts(generated_warehouse, tmp_path_factory):
    """An artifact folder with a champion trained on the generated data, once per session.
    Tests that write artifacts copy it first."""
    root = tmp_path_factory.mktemp("champion")
    outcome = train_run(
        Registry(LocalArtifactStore(root), CONVERSION.model),
        lambda: load_features(DuckDBWarehouse(generated_warehouse), CONVERSION, "execkpi_marts"),
        CONVERSION,
        Settings(holdout_snapshots=2, shap_rows=2000, gates=Gates(0.7, 0.01)),
        "champion",
        {},
    )
    assert outcome["promoted"]
    return root


@pytest.fixture
def artifacts(champion_artifacts, tmp_path):
    """A copy of the champion's artifact folder, for a test that writes artifacts."""
    copy = tmp_path / "artifacts"
    shutil.copytree(champion_artifacts, copy)
    return copy


@pytest.fixture
def settings(generated_warehouse, artifacts):
    """The report tests': the generated warehouse, that copy, euros and Berlin's days."""
    return {
        "EXECKPI_DUCKDB_PATH": str(generated_warehouse),
        "EXECKPI_ARTIFACT_DIR": str(artifacts),
        "EXECKPI_CURRENCY": "EUR",
        "EXECKPI_TIME_ZONE": "Europe/Berlin",
    }


@pytest.fixture
def validate_client(function_client, bus):
    def make(warehouse_path: Path, **settings: str):
        return function_client(
            "validate",
            EXECKPI_DUCKDB_PATH=str(warehouse_path),
            EXECKPI_LOCAL_BUS_URL=bus.url,
            **settings,
        )

    return make


@pytest.fixture
def warehouse_copy(generated_warehouse, tmp_path) -> Path:
    """A private copy of the generated warehouse, for tests that tamper with the marts."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(generated_warehouse, path)
    return path
