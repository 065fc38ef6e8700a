"""The throttle on retraining after builds started by ingestion: which build counts as one
(its record in the run ledger, as dbt_build writes it) and which model's age decides."""

from datetime import UTC, datetime, timedelta

import pytest

from common.artifacts.local import LocalArtifactStore
from common.ml.registry import Registry
from common.ml.retrain_policy import started_by_ingestion, too_recent
from common.pipeline.ingest_builds import ingest_run_id, trigger
from common.pipeline.pending import PendingBatch
from common.runs import BUILD, run_key

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


@pytest.fixture
def registry(tmp_path):
    return Registry(LocalArtifactStore(tmp_path), "conversion")


def trained(registry, version: str, decision: str, hours_ago: float) -> None:
    finished = NOW - timedelta(hours=hours_ago)
    registry.record(
        version, {"version": version, "decision": decision, "finished_at": finished.isoformat()}
    )


def test_the_build_record_says_whether_ingestion_started_the_run(registry):
    store = registry.store
    batch = PendingBatch("builds/pending/x.json", NOW, "orders", "batch-1")
    ingest_run = ingest_run_id(batch)  # what dbt_build names and records (ingest_builds)
    store.put_json(run_key(ingest_run, BUILD), {"trigger": trigger([batch], "m-1")})
    scheduled = "20261203T050000Z-build"
    store.put_json(run_key(scheduled, BUILD), {"trigger": {"kind": "scheduler", "job": "daily"}})
    manual = "20261203T051500Z-build"
    store.put_json(run_key(manual, BUILD), {"trigger": {"kind": "manual"}})

    assert started_by_ingestion(store, ingest_run)
    assert not started_by_ingestion(store, scheduled)
    assert not started_by_ingestion(store, manual)
    assert not started_by_ingestion(store, "20261203T060000Z-retrain-0a1b2c3d")  # no build


def test_a_model_younger_than_the_interval_holds_retraining_off(registry):
    trained(registry, "20261203T153600Z-aaaaaa", "promoted", 2.4)
    assert too_recent(registry, DAY, NOW) == (
        "ingest build; model 20261203T153600Z-aaaaaa trained 2.4 h ago, retrain interval 24 h"
    )
    assert too_recent(registry, timedelta(hours=2.4), NOW) is None  # exactly as old: retrain


def test_the_newest_trained_version_decides_rejected_too_failed_never(registry):
    trained(registry, "20261201T050000Z-aaaaaa", "promoted", 61)
    assert too_recent(registry, DAY, NOW) is None
    trained(registry, "20261203T120000Z-bbbbbb", "rejected", 6)  # a model trained all the same
    assert "20261203T120000Z-bbbbbb trained 6.0 h" in too_recent(registry, DAY, NOW)
    trained(registry, "20261203T170000Z-cccccc", "failed", 1)  # trained nothing
    assert "20261203T120000Z-bbbbbb" in too_recent(registry, DAY, NOW)


def test_no_model_yet_or_no_interval_means_train(registry):
    assert too_recent(registry, DAY, NOW) is None
    trained(registry, "20261203T175900Z-aaaaaa", "promoted", 0.01)
    assert too_recent(registry, timedelta(0), NOW) is None
