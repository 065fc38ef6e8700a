"""Fixtures of the function tests: a recording bus, and a champion model for model and train."""

import pytest

from common.artifacts.local import LocalArtifactStore
from common.events.envelope import EVENT_TYPES
from common.events.local_bus import LocalBus, LocalBusServer
from common.ml.data import load_features
from common.ml.features import CONVERSION
from common.ml.fitting import Settings
from common.ml.promotion import Gates
from common.ml.registry import Registry
from common.ml.training_run import train_run
from common.warehouse.duckdb_engine import DuckDBWarehouse


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
