"""Fixtures of the function tests: a champion model for model and train, and the settings of the
report tests."""

import shutil

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
