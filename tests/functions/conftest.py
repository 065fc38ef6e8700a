"""Fixtures of the function tests: a champion model for model and train."""

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
