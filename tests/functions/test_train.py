"""train end to end on generated thelook data: a data-validated CloudEvent trains, writes a
version, promotes it over the champion and publishes model-trained; redeliveries train nothing;
a deliberately worse challenger is rejected and LATEST stays where it was."""

import json
import os
import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from common.artifacts.local import LocalArtifactStore
from common.events.envelope import Event
from common.ml.features import CONVERSION
from common.ml.registry import Registry
from common.pipeline.ingest_builds import ingest_run_id, trigger
from common.pipeline.pending import PendingBatch
from common.runs import BUILD, TRAINING, run_key
from common.warehouse.duckdb_engine import DuckDBWarehouse
from scripts.local.emulators import free_port
from tests.support.cloud_events import delivery_of, post_cloud_event, published, push

MART = "execkpi_marts.features_conversion"


@pytest.fixture
def store(champion_artifacts, tmp_path):
    shutil.copytree(champion_artifacts, tmp_path / "artifacts")
    return tmp_path / "artifacts"


@pytest.fixture
def registry(store):
    return Registry(LocalArtifactStore(store), CONVERSION.model)


@pytest.fixture
def train_client(function_client, store, bus):
    def make(warehouse_path, **settings):
        return function_client(
            "train",
            EXECKPI_DUCKDB_PATH=str(warehouse_path),
            EXECKPI_ARTIFACT_DIR=str(store),
            EXECKPI_LOCAL_BUS_URL=bus.url,
            **settings,
        )

    return make


def validated(warehouse_path, run_id: str) -> Event:
    """data-validated as validate publishes it: about the data the warehouse holds now."""
    data_version = DuckDBWarehouse(warehouse_path).data_version()
    return Event("data-validated", "validate", run_id, {"data_version": data_version})


def test_data_validated_trains_promotes_and_publishes(
    train_client, generated_warehouse, registry, bus
):
    champion = registry.latest().version
    client = train_client(generated_warehouse)
    event = validated(generated_warehouse, "a" * 32)
    assert push(client, event) == 200

    latest = registry.latest()
    assert latest.version != champion and latest.body["run_id"] == event.run_id
    record = registry.history_record(latest.version)
    assert record["decision"] == "promoted" and record["champion_before"] == champion
    assert "not worse than the champion" in record["reasons"][-1]
    assert registry.store.exists(f"models/conversion/{latest.version}/model_card.json")
    (trained,) = published(bus)
    assert (trained.event_type, trained.run_id) == ("model-trained", event.run_id)
    assert trained.payload["promoted"] and trained.payload["version"] == latest.version
    ledger = registry.store.get_json(run_key(event.run_id, TRAINING))
    assert (ledger["status"], ledger["version"]) == ("promoted", latest.version)
    assert ledger == record  # the run's one record, which the version's history repeats

    # At-least-once delivery: the same event again, then a manual request reusing the run id.
    assert push(client, event) == 200
    assert push(client, Event("model-retrain-requested", "model", event.run_id, {})) == 200
    assert [h["run_id"] for h in registry.history()] == [event.run_id, "champion"]
    assert registry.latest() == latest
    _, repeat = published(bus)
    assert repeat.payload["repeated"] and repeat.payload["version"] == latest.version


def test_a_worse_challenger_is_not_promoted(
    train_client, generated_warehouse, registry, bus, tmp_path
):
    # Corrupt the training weeks (labels shuffled) and keep the two held-out weeks intact: the
    # challenger learns noise, the champion is re-scored on the same intact weeks. The floor is
    # lowered so that the champion comparison is the gate that says no.
    corrupted = tmp_path / "corrupted.duckdb"
    shutil.copy(generated_warehouse, corrupted)
    with duckdb.connect(str(corrupted)) as con:
        con.execute(
            f"""
            create or replace table {MART} as
            with ranked as (
                select *,
                    snapshot_date < (select distinct snapshot_date from {MART}
                                     order by 1 desc limit 1 offset 1) as training,
                    row_number() over (partition by snapshot_date order by user_id) as position,
                    row_number() over (partition by snapshot_date order by hash(user_id, 7))
                        as shuffled_position
                from {MART}
            )
            select a.* exclude (label_purchased, training, position, shuffled_position),
                case when a.training then b.label_purchased else a.label_purchased end
                    as label_purchased
            from ranked a join ranked b
                on a.snapshot_date = b.snapshot_date and a.position = b.shuffled_position
            """
        )
    before = registry.latest()
    client = train_client(corrupted, EXECKPI_MODEL_AUC_FLOOR="0.5")
    event = validated(corrupted, "b" * 32)
    assert push(client, event) == 200

    assert registry.latest() == before
    (record,) = [h for h in registry.history() if h["run_id"] == event.run_id]
    assert record["decision"] == "rejected" and record["champion_before"] == before.version
    assert record["holdout_roc_auc"] < record["champion_auc_on_this_holdout"] - 0.01
    assert "worse than the champion" in record["reasons"][-1]
    (trained,) = published(bus)
    assert not trained.payload["promoted"] and trained.payload["reasons"] == record["reasons"]


@pytest.mark.parametrize("mart", ["missing", "empty"])
def test_data_that_cannot_train_is_reported_not_retried(
    train_client, generated_warehouse, registry, bus, tmp_path, mart
):
    broken = tmp_path / "broken.duckdb"
    if mart == "empty":
        shutil.copy(generated_warehouse, broken)
        with duckdb.connect(str(broken)) as con:
            con.execute(f"delete from {MART}")
    else:
        duckdb.connect(str(broken)).close()
    before = registry.latest()
    event = validated(broken, "c" * 32)
    assert push(train_client(broken), event) == 200  # acknowledged: Pub/Sub will not redeliver

    marker = registry.store.get_json(f"events/train/{event.event_id}.json")
    assert marker["outcome"] == "failed"
    assert registry.latest() == before
    assert registry.store.get_json(run_key(event.run_id, TRAINING))["status"] == "failed"
    (trained,) = published(bus)
    assert trained.payload["decision"] == "failed" and trained.payload["error"]


def test_validated_data_that_a_newer_build_replaced_trains_nothing(
    train_client, generated_warehouse, registry, bus, tmp_path
):
    """Out of order: the verdict about yesterday's build arrives after today's build replaced
    its data. Training on today's unvalidated data would be wrong; the run is skipped."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(generated_warehouse, warehouse)
    event = validated(warehouse, "d" * 32)
    shutil.copy(generated_warehouse, tmp_path / "newer.duckdb")
    os.replace(tmp_path / "newer.duckdb", warehouse)  # what the next build does
    before = registry.latest()

    assert push(train_client(warehouse), event) == 200

    assert registry.latest() == before
    assert [h for h in registry.history() if h["run_id"] == event.run_id] == []
    (trained,) = published(bus)
    assert trained.payload["decision"] == "skipped"
    assert registry.store.get_json(run_key(event.run_id, TRAINING))["status"] == "skipped"


def test_data_validated_without_a_data_version_is_refused(
    train_client, generated_warehouse, registry
):
    event = Event("data-validated", "validate", "e" * 32, {})
    assert push(train_client(generated_warehouse), event) == 200
    marker = registry.store.get_json(f"events/train/{event.event_id}.json")
    assert marker["outcome"] == "failed" and "data_version" in marker["error"]


def _envelope(**change) -> bytes:
    event = Event("model-retrain-requested", "model", "f" * 32, {"reason": ""})
    return json.dumps({**json.loads(event.to_bytes()), **change}).encode()


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b'{"payload":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        _envelope(run_id="../x"),
        _envelope(run_id="-1"),
        _envelope(event_id=""),
        _envelope(event_id="r" * 1025),
    ],
    ids=["not-json", "deep", "run-id-path", "run-id-dash", "event-id-empty", "event-id-long"],
)
def test_a_message_that_can_never_be_an_event_is_acknowledged_and_recorded(
    function_client, execkpi_env, bus, data
):
    """Retrying cannot fix it: a 5xx would only have Pub/Sub redeliver it up to the dead-letter
    limit. It is acknowledged (2xx) and kept under events/train/invalid/ for a person."""
    delivery = delivery_of(data)
    client = function_client("train", EXECKPI_LOCAL_BUS_URL=bus.url)
    assert post_cloud_event(client, delivery) == 200

    store = LocalArtifactStore(execkpi_env["EXECKPI_ARTIFACT_DIR"])
    record = store.get_json(f"events/train/invalid/{delivery['id']}.json")
    assert record["error"]
    assert published(bus) == []


def test_a_transient_failure_answers_5xx_so_that_pubsub_redelivers(
    function_client, execkpi_env, tmp_path
):
    """The bus is down when train publishes its outcome: the delivery fails (5xx) and the event
    is not marked handled, so the redelivery runs it again."""
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    event = Event("data-validated", "validate", "g" * 32, {"data_version": "replaced since"})
    client = function_client(
        "train",
        EXECKPI_DUCKDB_PATH=str(warehouse),
        EXECKPI_LOCAL_BUS_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens
    )
    assert push(client, event) >= 500

    store = LocalArtifactStore(execkpi_env["EXECKPI_ARTIFACT_DIR"])
    assert not store.exists(f"events/train/{event.event_id}.json")


def built_by(registry, kind: str) -> str:
    """A finished build's run id and record, as dbt_build leaves them in the run ledger."""
    batch = PendingBatch("builds/pending/b.json", datetime.now(UTC), "orders", "batch-1")
    if kind == "data-ingested":
        run_id, why = ingest_run_id(batch), trigger([batch], "message-1")
    else:
        run_id, why = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-build", {"kind": kind, "job": "daily"}
    record = {"run_id": run_id, "status": "success", "trigger": why}
    registry.store.put_json(run_key(run_id, BUILD), record)
    return run_id


def test_an_ingest_build_does_not_retrain_a_model_younger_than_the_interval(
    train_client, generated_warehouse, registry, bus, function_client, store
):
    """Streaming ingestion builds every minute or so: the champion (trained minutes ago by the
    fixture) stands, and the run ledger says why nothing trained."""
    before = registry.latest()
    event = validated(generated_warehouse, built_by(registry, "data-ingested"))
    assert push(train_client(generated_warehouse), event) == 200

    assert registry.latest() == before
    assert [h for h in registry.history() if h["run_id"] == event.run_id] == []
    (reason,) = registry.store.get_json(run_key(event.run_id, TRAINING))["reasons"]
    assert reason.startswith(f"ingest build; model {before.version} trained 0.")
    assert reason.endswith(" h ago, retrain interval 24 h")
    (trained,) = published(bus)
    assert (trained.payload["decision"], trained.payload["reasons"]) == ("skipped", [reason])
    runs = function_client("dbt_build", EXECKPI_ARTIFACT_DIR=str(store))
    run = runs.get(f"/pipeline/runs/{event.run_id}").get_json()
    assert (run["stage"], run["status"]) == ("training", "skipped")
    assert run["stages"]["training"]["reasons"] == [reason]


def test_an_ingest_build_retrains_a_model_older_than_the_interval(
    train_client, generated_warehouse, registry, bus
):
    champion = registry.latest().version
    record = registry.history_record(champion)
    two_days_ago = datetime.now(UTC) - timedelta(hours=48)
    registry.store.put_json(
        f"models/conversion/history/{champion}.json",
        {**record, "finished_at": two_days_ago.isoformat()},
    )
    event = validated(generated_warehouse, built_by(registry, "data-ingested"))
    assert push(train_client(generated_warehouse), event) == 200

    (record,) = [h for h in registry.history() if h["run_id"] == event.run_id]
    assert record["decision"] in ("promoted", "rejected")
    (trained,) = published(bus)
    assert trained.payload["version"] == record["version"]


def test_a_scheduled_build_retrains_however_young_the_model(
    train_client, generated_warehouse, registry, bus
):
    """Manual builds take the same path: tests/unit/ml/test_ml_retrain_policy.py classifies
    every kind of build record; one end-to-end training suffices here."""
    event = validated(generated_warehouse, built_by(registry, "scheduler"))
    client = train_client(generated_warehouse, EXECKPI_RETRAIN_MIN_INTERVAL_HOURS="8760")
    assert push(client, event) == 200

    (record,) = [h for h in registry.history() if h["run_id"] == event.run_id]
    assert record["decision"] in ("promoted", "rejected")
    (trained,) = published(bus)
    assert trained.payload["version"] == record["version"]
