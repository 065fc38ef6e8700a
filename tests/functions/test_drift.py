"""The drift gate through validate, and its numbers on model's GET /ml/latest, on generated
thelook data with a champion trained on it: the latest snapshot as built passes; one feature
moved in a private copy of the warehouse warns, then blocks (the build is rejected, naming the
feature and its PSI). Every PSI is recomputed here from the marts with the formula written out."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from common.artifacts.local import LocalArtifactStore
from common.ml.features import CONVERSION
from common.ml.registry import DRIFT_REFERENCE, Registry
from common.openapi import description
from common.pipeline.ledger import Ledger
from common.pipeline.quality_report import Thresholds, validate_build
from common.warehouse.duckdb_engine import DuckDBWarehouse
from tests.support.openapi import operations, response_schema, validator
from tests.support.validation import MARTS, RUN_ID, build_summary, gate, judge, query, tamper

EPSILON = 1e-4
LATEST = f"(select max(snapshot_date) from {MARTS}.features_conversion)"


def psi(reference_counts: list[int], current_counts: list[int]) -> float:
    """Shares, a zero share taken as EPSILON, then the sum of (c - r) ln(c / r)."""
    r = np.maximum(np.asarray(reference_counts, float) / sum(reference_counts), EPSILON)
    c = np.maximum(np.asarray(current_counts, float) / sum(current_counts), EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def counted_here(path, feature: str, histogram: dict) -> list[int]:
    """The latest snapshot's rows in the reference's bins, one value at a time."""
    sql = f"select {feature} from {MARTS}.features_conversion where snapshot_date = {LATEST}"
    values = [value for (value,) in query(path, sql)]
    if histogram["kind"] == "categorical":
        categories = histogram["categories"]
        counts = [0] * (len(categories) + 2)
        for v in values:
            unseen = len(categories)
            counts[
                unseen + 1 if v is None else categories.index(v) if v in categories else unseen
            ] += 1
        return counts
    edges = histogram["edges"]
    counts = [0] * (len(edges) + 2)
    for v in values:
        counts[len(edges) + 1 if v is None else sum(v > edge for edge in edges)] += 1
    return counts


def reference_of(store: LocalArtifactStore) -> dict:
    registry = Registry(store, CONVERSION.model)
    return registry.read_json(registry.latest().version, DRIFT_REFERENCE)


def check_against_the_marts(numbers: dict, reference: dict, path) -> None:
    for feature, histogram in reference["features"].items():
        expected = psi(histogram["counts"], counted_here(path, feature, histogram))
        assert numbers["psi"][feature] == pytest.approx(expected, abs=2e-6), feature


@pytest.fixture
def store(execkpi_env, champion_artifacts) -> LocalArtifactStore:
    root = execkpi_env["EXECKPI_ARTIFACT_DIR"]
    shutil.copytree(champion_artifacts, root)
    return LocalArtifactStore(root)


def test_the_snapshot_as_built_passes(validate_client, generated_warehouse, store, bus):
    payload = build_summary(generated_warehouse)
    report, _ = judge(validate_client(generated_warehouse), store, bus, RUN_ID, payload)
    drift = gate(report, "drift")
    numbers = drift["numbers"]
    assert drift["passed"] and report["status"] == "validated"
    assert numbers["level"] == "ok" and numbers["warning"] == numbers["blocking"] == []
    assert (numbers["warn"], numbers["block"]) == (0.1, 0.25)
    assert report["thresholds"]["psi_warn"] == 0.1 and report["thresholds"]["psi_block"] == 0.25
    reference = reference_of(store)
    assert set(numbers["psi"]) == set(CONVERSION.names) == set(reference["features"])
    ((latest,),) = query(generated_warehouse, f"select {LATEST}")
    assert numbers["snapshot"] == latest.isoformat()
    assert latest.isoformat() not in reference["snapshot_dates"]  # training rows only
    check_against_the_marts(numbers, reference, generated_warehouse)
    # The sample is the whole snapshot at this size: calibration counts every row once.
    calibration = numbers["calibration"]
    assert calibration["rows"] == numbers["score"]["rows"] == numbers["rows"]
    assert [d["decile"] for d in calibration["deciles"]] == list(range(1, 11))
    assert sum(d["rows"] for d in calibration["deciles"]) == calibration["rows"]
    ((positives,),) = query(
        generated_warehouse,
        f"select sum(label_purchased) from {MARTS}.features_conversion "
        f"where snapshot_date = {LATEST}",
    )
    observed = sum(d["observed_rate"] * d["rows"] for d in calibration["deciles"])
    assert observed == pytest.approx(positives, abs=1e-3)
    means = [d["mean_score"] for d in calibration["deciles"]]
    assert means == sorted(means)


@pytest.mark.parametrize(("moved", "level"), [(15, "warn"), (40, "block")])
def test_a_moved_feature_warns_then_blocks(
    validate_client, warehouse_copy, store, bus, moved, level
):
    # ``moved`` percent of the latest snapshot's users become 119 years old: the top age bin
    # grows, every other bin shrinks.
    data_version = tamper(
        warehouse_copy,
        f"update {MARTS}.features_conversion set age = 119 "
        f"where snapshot_date = {LATEST} and hash(user_id) % 100 < {moved}",
    )
    payload = build_summary(warehouse_copy, data_version=data_version)
    report, verdict = judge(validate_client(warehouse_copy), store, bus, RUN_ID, payload)
    drift = gate(report, "drift")
    numbers = drift["numbers"]
    check_against_the_marts(numbers, reference_of(store), warehouse_copy)
    age = numbers["psi"]["age"]
    assert numbers["level"] == level
    assert gate(report, "features")["passed"]  # 119 is a valid age: only drift sees the move
    if level == "warn":
        assert 0.1 <= age < 0.25 and numbers["warning"] == ["age"]
        assert drift["passed"] and report["status"] == "validated"
        assert f"warning: age PSI {age:.3f} at or above 0.1" in drift["message"]
        assert verdict.event_type == "data-validated"
    else:
        assert age >= 0.25 and numbers["blocking"][0] == "age"
        assert not drift["passed"] and report["status"] == "rejected"
        assert report["failed_gates"] == ["drift"]
        assert drift["message"].startswith(f"age PSI {age:.3f} at or above the blocking 0.25")
        assert "no retraining on this build" in drift["message"]
        assert verdict.event_type == "data-rejected"
        assert verdict.payload["failed_gates"][0]["name"] == "drift"
    # Every other feature is as built.
    assert max(v for k, v in numbers["psi"].items() if k != "age") < 0.1


def test_latest_shows_the_newest_validation_of_the_champion(
    function_client, generated_warehouse, store
):
    warehouse = DuckDBWarehouse(generated_warehouse)
    build = build_summary(generated_warehouse)
    thresholds = Thresholds(0.25, 0.001, 0.5, 0.001, 0.1, 0.25)
    registry = Registry(store, CONVERSION.model)
    client = function_client("model")
    assert client.get("/ml/latest").get_json()["drift"] is None  # nothing validated yet

    report = validate_build(
        RUN_ID, build, warehouse, MARTS, Ledger(store), thresholds, "UTC", registry
    )
    store.put_json(f"runs/{RUN_ID}/validation_report.json", report)
    body = client.get("/ml/latest").get_json()
    drift = body["drift"]
    numbers = gate(report, "drift")["numbers"]
    assert drift["run_id"] == RUN_ID and drift["model_version"] == body["version"]
    assert drift["psi"] == numbers["psi"] and drift["score"] == numbers["score"]
    assert drift["calibration"] == numbers["calibration"]
    assert drift["level"] == "ok" and drift["passed"] is True
    check_against_the_marts(drift, reference_of(store), generated_warehouse)
    document = description()
    (operation,) = [op for op in operations(document) if op.id == "GET /ml/latest"]
    schema = response_schema(document, operation, 200)
    assert list(validator(document, schema).iter_errors(body)) == []


@pytest.mark.parametrize(
    ("removed", "reason"),
    [
        (DRIFT_REFERENCE, "was trained before reference distributions were stored"),
        ("model.ubj", "'s model cannot be read"),
    ],
)
def test_a_champion_without_what_drift_needs_is_not_judged(
    generated_warehouse, store, removed, reason
):
    registry = Registry(store, CONVERSION.model)
    version = registry.latest().version
    card = registry.read_json(version, "model_card.json")
    if removed == "model.ubj":
        removed = card["model"]["file"]
    (store.root / f"models/{CONVERSION.model}/{version}/{removed}").unlink()
    report = validate_build(
        RUN_ID,
        build_summary(generated_warehouse),
        DuckDBWarehouse(generated_warehouse),
        MARTS,
        Ledger(store),
        Thresholds(0.25, 0.001, 0.5, 0.001, 0.1, 0.25),
        "UTC",
        registry,
    )
    drift = gate(report, "drift")
    assert drift["passed"] and not drift["numbers"]["measured"]
    assert drift["message"] == f"not measured: {drift['numbers']['reason']}"
    assert reason in drift["message"] and version in drift["message"]
