"""The daily pipeline on the local bus: scheduler tick → dbt_build (real dbt on a copy of the
generated warehouse) → dbt-build-completed → validate → data-validated → train → model-trained.

The functions run in this process through functions-framework's test clients, and the local bus
delivers every event to them as the Pub/Sub CloudEvent a push subscription would send, retrying
failed deliveries. Effects must happen once however often and in whatever order events arrive.
"""

from __future__ import annotations

import io
import logging
import random
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow.parquet as pq
import pytest
import requests

from common.artifacts.local import LocalArtifactStore
from common.events.envelope import Event
from common.ml.batch_scores import SCORES_PREFIX
from common.ml.features import CONVERSION
from common.ml.registry import Registry
from common.runs import BUILD, RUN_RESULTS, TRAINING, VALIDATION, run_key
from scripts.deploy.catalog import discover
from scripts.local.bus import LocalBus, LocalBusServer
from scripts.local.emulators import PubSubEmulator, free_port, free_ports_for_stack
from scripts.local.scheduler_tick import describe, follow, tick
from scripts.local.stack import LocalStack
from tests.support.cloud_events import envelope, post_cloud_event, push
from tests.support.scores import calibration_by_decile

# The generated data ends on 2026-11-01: let dbt's source freshness accept it whatever today is.
FRESHNESS = {"EXECKPI_FRESHNESS_ERROR_DAYS": "3650"}
SLOT = "2026-10-15T05:00:00Z"  # recs_carousel is running that day: the SRM gate checks it
RUN_ID = "20261015T050000Z-build"
FEATURES = "execkpi_marts.features_conversion"
EVENT_TYPES = ("dbt-build-completed", "data-validated", "data-rejected", "model-trained")


class Chain:
    """dbt_build, validate and train wired by a local bus, with every published event kept."""

    def __init__(self, function_client, tmp_path, warehouse):
        self.store = LocalArtifactStore(tmp_path / "artifacts")
        self.bus = LocalBusServer(LocalBus(max_attempts=3, retry_delay_seconds=0.05)).start()
        self.settings = {
            "EXECKPI_DUCKDB_PATH": str(warehouse),
            "EXECKPI_ARTIFACT_DIR": str(tmp_path / "artifacts"),
            "EXECKPI_LOCAL_BUS_URL": self.bus.url,
            **FRESHNESS,
        }
        self._make = function_client
        self.dbt_build = self.client("dbt_build")
        self.validate = self.client("validate")
        self.train = self.client("train")
        self.events: list[tuple[Event, object]] = []  # (envelope, CloudEvent as delivered)
        for event_type in EVENT_TYPES:
            self.bus.bus.subscribe(event_type, self._keep, f"record-{event_type}")
        self.bus.bus.subscribe("dbt-build-completed", deliver_to(self.validate), "validate")
        self.bus.bus.subscribe("data-validated", deliver_to(self.train), "train")

    def client(self, name: str, **settings: str):
        return self._make(name, **{**self.settings, **settings})

    def _keep(self, cloud_event) -> None:
        self.events.append((envelope(cloud_event), cloud_event))

    def tick(self, client=None, scheduled_at: str = SLOT):
        headers = {"X-CloudScheduler-ScheduleTime": scheduled_at}
        return (client or self.dbt_build).post("/", json={}, headers=headers)

    def settle(self) -> None:
        assert self.bus.wait_idle(600), "the bus did not deliver everything"
        assert not self.bus.bus.dead_letters, self.bus.bus.dead_letters

    def published(self, event_type: str) -> list[Event]:
        return [event for event, _ in self.events if event.event_type == event_type]

    def delivered(self, event_type: str) -> list[object]:
        return [ce for event, ce in self.events if event.event_type == event_type]

    def model_versions(self, run_id: str) -> list[str]:
        registry = Registry(self.store, CONVERSION.model)
        return [r["version"] for r in registry.history() if r.get("run_id") == run_id]


def deliver_to(*clients) -> Callable[[object], None]:
    """A push endpoint: the first attempt goes to the first client, a retry to the next (as
    Pub/Sub redelivers to whichever instance is up); a non-2xx answer is a failed delivery."""
    attempts = iter(range(len(clients)))

    def deliver(cloud_event) -> None:
        client = clients[min(next(attempts, len(clients) - 1), len(clients) - 1)]
        status = post_cloud_event(client, cloud_event)
        if status != 200:
            raise RuntimeError(f"delivery answered {status}")

    return deliver


@pytest.fixture
def warehouse(generated_warehouse, tmp_path):
    """A private copy: dbt_build replaces the file it builds."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, path)
    return path


@pytest.fixture
def chain(function_client, tmp_path, warehouse):
    chain = Chain(function_client, tmp_path, warehouse)
    yield chain
    chain.bus.stop()


def test_tick_builds_validates_and_trains_and_repeats_change_nothing(
    chain, function_client, tmp_path
):
    first = chain.tick()
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["run_id"] == RUN_ID and body["status"] == "success" and not body["repeated"]
    assert body["build"]["summary"]["tests"]["passed"] > 100
    # The generated warehouse was built by hand: the function's first build rebuilds it all.
    assert body["build"]["summary"]["full_refresh"] == (
        "no complete build is recorded for this warehouse"
    )
    chain.settle()

    (completed,) = chain.published("dbt-build-completed")
    (validated,) = chain.published("data-validated")
    (trained,) = chain.published("model-trained")
    assert completed.payload["data_version"] == validated.payload["data_version"]
    assert validated.payload["failed_gates"] == []
    assert set(validated.payload["passed_gates"]) == {
        "current_data", "dbt_tests", "source_freshness", "row_counts", "features",
        "label_rate", "srm", "drift",
    }  # fmt: skip
    assert trained.payload["decision"] == "promoted"
    assert not chain.published("data-rejected")

    runs = chain.dbt_build.get("/pipeline/runs").get_json()["runs"]
    assert [r["run_id"] for r in runs] == [RUN_ID]
    assert runs[0]["stage"] == "training" and runs[0]["status"] == "promoted"
    for stage in ("build", "validation", "training"):
        record = runs[0]["stages"][stage]
        assert record["started_at"] <= record["finished_at"] and record["seconds"] >= 0
    srm = chain.dbt_build.get(f"/pipeline/runs/{RUN_ID}").get_json()["stages"]["validation"]
    srm = next(g for g in srm["gates"] if g["name"] == "srm")
    assert "recs_carousel" in srm["numbers"]["experiments"]

    # Every event again, three times over and shuffled: the scheduler's tick, the build's
    # completion, the validation's verdict (the verdict before the completion, too).
    build_record = chain.store.get(run_key(RUN_ID, BUILD))
    report = chain.store.get(run_key(RUN_ID, VALIDATION))
    redeliveries = [
        *[(chain.validate, ce) for ce in chain.delivered("dbt-build-completed")] * 3,
        *[(chain.train, ce) for ce in chain.delivered("data-validated")] * 3,
    ]
    random.Random(7).shuffle(redeliveries)
    redeliveries.sort(key=lambda pair: pair[0] is chain.validate)  # verdicts first
    for client, cloud_event in redeliveries:
        assert post_cloud_event(client, cloud_event) == 200
    for _ in range(3):
        again = chain.tick()
        assert again.status_code == 200 and again.get_json()["repeated"]
        assert again.get_json()["event_id"] == completed.event_id
    chain.settle()

    assert chain.store.get(run_key(RUN_ID, BUILD)) == build_record  # one build, untouched
    assert chain.store.get(run_key(RUN_ID, VALIDATION)) == report  # one validation
    assert len(chain.model_versions(RUN_ID)) == 1  # one model version
    assert len(chain.published("model-trained")) == 1
    # The ticks republished the same completion: validate ignored it, and published nothing.
    assert {e.event_id for e in chain.published("dbt-build-completed")} == {completed.event_id}
    assert len(chain.published("data-validated")) == 1
    # The promotion scored every user, once however often training was redelivered.
    scores_are_read_by_the_next_build(chain, function_client, tmp_path)


def test_a_failing_dbt_test_rejects_the_data_and_trains_nothing(chain, warehouse):
    # The day's newest order twice: unique(order_id) fails (the warehouse was built before, so
    # the build tests the rows that changed lately, as a daily build does).
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into raw.orders select * from raw.orders order by created_at desc limit 1"
        )

    response = chain.tick()
    assert response.status_code == 200
    assert response.get_json()["status"] == "fail"
    chain.settle()

    (rejected,) = chain.published("data-rejected")
    failed = {gate["name"]: gate for gate in rejected.payload["failed_gates"]}
    assert "dbt_tests" in failed
    assert any(
        "unique_stg_thelook__orders_order_id" in node
        for node in failed["dbt_tests"]["numbers"]["failed_nodes"]
    )
    assert not chain.published("data-validated") and not chain.published("model-trained")
    assert not chain.store.exists(run_key(RUN_ID, TRAINING))
    assert chain.model_versions(RUN_ID) == []
    run = chain.dbt_build.get(f"/pipeline/runs/{RUN_ID}").get_json()
    assert (run["stage"], run["status"]) == ("validation", "rejected")


def test_crashes_mid_way_are_completed_once_by_the_redelivery(chain):
    """Each stage's first attempt dies after its work and before its event (the bus is out of
    reach); the retry, on another instance, finishes the run without redoing the work."""
    unreachable = {"EXECKPI_LOCAL_BUS_URL": f"http://127.0.0.1:{free_port()}"}
    crashing_build = chain.client("dbt_build", **unreachable)
    crashing_validate = chain.client("validate", **unreachable)
    crashing_train = chain.client("train", **unreachable)
    healthy_build = chain.client("dbt_build")
    chain.bus.bus.subscriptions = [
        s for s in chain.bus.bus.subscriptions if s.name.startswith("record-")
    ]
    chain.bus.bus.subscribe(
        "dbt-build-completed", deliver_to(crashing_validate, chain.validate), "validate"
    )
    chain.bus.bus.subscribe("data-validated", deliver_to(crashing_train, chain.train), "train")

    crashed = chain.tick(crashing_build)
    assert crashed.status_code == 503, crashed.get_json()
    assert chain.store.get_json(run_key(RUN_ID, BUILD))["status"] == "success"
    results = chain.store.get(run_key(RUN_ID, RUN_RESULTS))

    retried = chain.tick(healthy_build)  # Cloud Scheduler's retry of the same tick
    assert retried.status_code == 200 and retried.get_json()["repeated"]
    chain.settle()

    assert chain.store.get_json(run_key(RUN_ID, BUILD))["attempt"] == 1  # dbt ran once
    assert chain.store.get(run_key(RUN_ID, RUN_RESULTS)) == results
    assert len(chain.published("dbt-build-completed")) == 1
    assert len(chain.published("data-validated")) == 1
    assert len(chain.published("model-trained")) == 1
    assert len(chain.model_versions(RUN_ID)) == 1
    training = chain.store.get_json(run_key(RUN_ID, TRAINING))
    assert training["status"] == "promoted"
    assert training["version"] == chain.model_versions(RUN_ID)[0]


def test_an_event_past_its_max_age_is_dropped_and_logged(chain, caplog):
    logging.getLogger("common.events.consumer").addHandler(caplog.handler)
    old = Event(
        "dbt-build-completed",
        "dbt_build",
        RUN_ID,
        {"status": "success"},
        occurred_at=datetime.now(UTC) - timedelta(days=2),  # the default max age is one day
    )
    assert push(chain.validate, old) == 200  # acknowledged
    chain.settle()
    assert not chain.store.exists(run_key(RUN_ID, VALIDATION))
    assert chain.events == []
    dropped = [r for r in caplog.records if r.getMessage().startswith("dropped")]
    assert dropped and dropped[0].levelname == "WARNING"
    assert old.event_type in dropped[0].getMessage()


@pytest.mark.parametrize("bus", ["local-bus", "pubsub-emulator"])
def test_the_chain_runs_across_the_local_stack(warehouse, tmp_path, bus):
    """The main job's path: every function in its own functions-framework process, events
    over HTTP from the local bus or from the Pub/Sub emulator's push subscriptions, the
    scheduler tick over HTTP; the serving functions see the rebuilt warehouse."""
    use_emulator = bus == "pubsub-emulator"
    if use_emulator and (reason := PubSubEmulator.unavailable_reason()):
        pytest.skip(reason)
    env = {
        "EXECKPI_DUCKDB_PATH": str(warehouse),
        "EXECKPI_ARTIFACT_DIR": str(tmp_path / "artifacts"),
        **FRESHNESS,
    }
    specs = discover()
    base_port, _ = free_ports_for_stack(len(specs))
    stack = LocalStack(
        specs, base_port, env, use_emulator=use_emulator, log_dir=tmp_path / "logs"
    ).start()
    try:
        built = tick(stack.urls["dbt_build"], datetime.fromisoformat(SLOT))
        assert (built["run_id"], built["status"]) == (RUN_ID, "success")
        run = follow(stack.urls["dbt_build"], RUN_ID, timeout=300)
        assert (run["stage"], run["status"]) == ("training", "promoted")
        assert [line.split()[0] for line in describe(run)] == ["build", "validation", "training"]

        latest = requests.get(f"{stack.urls['model']}/ml/latest", timeout=30).json()
        assert latest["pointer"]["run_id"] == RUN_ID
        revenue = requests.get(f"{stack.urls['kpi']}/kpi/revenue", timeout=30)
        assert revenue.status_code == 200 and revenue.json()["rows"]
        assert stack.wait_idle(30)
        assert stack.bus is None or not stack.bus.bus.dead_letters
    finally:
        stack.stop()


def scores_are_read_by_the_next_build(chain, function_client, tmp_path) -> None:
    """After the run's promotion: the train function scored the latest snapshot; the next build
    copies the scores into the warehouse, whose calibration mart and KPI match pandas over the
    scores file and the labels."""
    warehouse = chain.settings["EXECKPI_DUCKDB_PATH"]
    (trained,) = chain.published("model-trained")
    version = trained.payload["version"]

    with duckdb.connect(warehouse, read_only=True) as con:
        ((snapshot,),) = con.execute(f"select max(snapshot_date) from {FEATURES}").fetchall()
        users = con.execute(
            f"select user_id from {FEATURES} where snapshot_date = ? order by user_id", [snapshot]
        ).fetchall()
    (key,) = chain.store.list(SCORES_PREFIX + "/")
    assert key == f"{SCORES_PREFIX}/conversion/snapshot_on={snapshot}/{version}.parquet"
    scores = pq.read_table(io.BytesIO(chain.store.get(key).data)).to_pandas()
    assert scores["user_id"].tolist() == [user for (user,) in users]  # each user once
    assert set(scores["snapshot_date"]) == {snapshot} and set(scores["model_version"]) == {version}
    sizes = scores["decile"].value_counts().sort_index()
    assert sizes.index.tolist() == list(range(1, 11)) and sizes.max() - sizes.min() <= 1
    by_decile = scores.groupby("decile")["score"]
    assert (by_decile.min().iloc[:-1].to_numpy() >= by_decile.max().iloc[1:].to_numpy()).all()
    # The scores are the champion's predictions for those users.
    model = function_client("model", **chain.settings)
    some = scores.sample(20, random_state=7)
    answer = model.post("/ml/predict", json={"user_ids": some["user_id"].tolist()}).get_json()
    assert answer["version"] == version and answer["snapshot_date"] == snapshot.isoformat()
    served = [p["probability"] for p in answer["predictions"]]
    assert served == pytest.approx(some["score"].tolist(), abs=1e-6)

    # The next build reads the scores (validation only: no second training).
    chain.bus.bus.subscriptions = [s for s in chain.bus.bus.subscriptions if s.name != "train"]
    assert chain.tick(scheduled_at="2026-10-16T05:00:00Z").status_code == 200
    chain.settle()
    assert chain.published("data-validated")[-1].run_id == "20261016T050000Z-build"
    # Read under another name: DuckDB hands a process the database it already has open under
    # a path (the functions here still hold the file the build replaced).
    built = shutil.copyfile(warehouse, tmp_path / "built.duckdb")
    with duckdb.connect(str(built), read_only=True) as con:
        labels = con.sql(
            f"select user_id, snapshot_date, label_purchased from {FEATURES}"
        ).to_arrow_table()
        mart = con.sql(
            "select snapshot_date, model_version, decile, users, expected_conversions, "
            "actual_conversions from execkpi_marts.ml_score_calibration order by decile"
        ).to_arrow_table()
    expected = calibration_by_decile(scores, labels.to_pandas())
    assert mart.column("users").to_pylist() == expected["users"].tolist()
    assert mart.column("expected_conversions").to_pylist() == pytest.approx(
        expected["expected"].tolist()
    )
    assert mart.column("actual_conversions").to_pylist() == expected["actual"].tolist()
    assert expected["actual"].sum() > 0  # the snapshot's outcomes are known

    kpi = function_client("kpi", EXECKPI_DUCKDB_PATH=str(built))
    kpi = kpi.get("/kpi/score_calibration").get_json()
    rows = [dict(zip([c["name"] for c in kpi["columns"]], row, strict=True)) for row in kpi["rows"]]
    assert [r["decile"] for r in rows] == expected["decile"].tolist()
    assert {r["snapshot_date"] for r in rows} == {snapshot.isoformat()}
    assert [r["expected_conversions"] for r in rows] == pytest.approx(expected["expected"].tolist())
    assert [r["actual_conversions"] for r in rows] == expected["actual"].tolist()
    assert [r["observed_rate"] for r in rows] == pytest.approx(
        (expected["actual"] / expected["users"]).tolist()
    )
