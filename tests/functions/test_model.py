"""model through functions-framework, serving a champion trained on generated thelook data:
latest, SHAP summary, history, predictions with reasons, retrain requests, reloads."""

import json
import math
import shutil

import duckdb
import numpy as np
import pytest

from common.artifacts.local import LocalArtifactStore
from common.ml.encoding import Categorical, Encoder
from common.ml.features import CONVERSION
from common.ml.models import load_model
from common.ml.registry import CARD, Registry
from tests.support.chunked import chunked

ROWS_SQL = f"select {', '.join(CONVERSION.names)} from execkpi_marts.features_conversion"
BIG_BODIES = str(8 * 1024**2)


@pytest.fixture(scope="module")
def feature_rows(generated_warehouse):
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        table = con.sql(ROWS_SQL + " order by user_id, snapshot_date limit 10000").to_arrow_table()
    return table.to_pylist()


@pytest.fixture
def serve(function_client):
    def make(artifacts, **settings):
        return function_client("model", EXECKPI_ARTIFACT_DIR=str(artifacts), **settings)

    return make


@pytest.fixture
def client(serve, champion_artifacts):
    return serve(champion_artifacts)


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


def test_without_a_champion_it_says_so(serve, tmp_path):
    client = serve(tmp_path / "empty")
    for path in ("/ml/latest", "/ml/shap"):
        response = client.get(path)
        assert response.status_code == 404 and error_of(response)["code"] == "no_champion"
    response = client.post("/ml/predict", json={"rows": [{}]})
    assert response.status_code == 503 and error_of(response)["code"] == "no_champion"
    assert client.get("/ml/models").get_json() == {"champion": None, "models": []}


def test_latest_shap_and_models(client, champion_artifacts):
    latest = Registry(LocalArtifactStore(champion_artifacts), CONVERSION.model).latest()
    body = client.get("/ml/latest").get_json()
    assert body["version"] == latest.version == body["model_card"]["version"]
    assert body["metrics"]["roc_auc"] > 0.8  # the generator plants a learnable signal
    assert [f["name"] for f in body["model_card"]["features"]] == list(CONVERSION.names)

    shap = client.get("/ml/shap").get_json()
    importances = [f["mean_abs_shap"] for f in shap["features"]]
    assert importances == sorted(importances, reverse=True) and importances[0] > 0
    assert {f["feature"] for f in shap["features"]} == set(CONVERSION.names)
    assert all(f["chart"] for f in shap["features"])

    models = client.get("/ml/models").get_json()
    assert models["champion"] == latest.version
    (record,) = models["models"]
    assert record["decision"] == "promoted" and record["run_id"] == "champion"
    for limit in ("0", "201", "²", "①", "ten"):
        assert error_of(client.get(f"/ml/models?limit={limit}"))["field"] == "limit"


def test_predictions_match_the_champion_and_carry_reasons(client, champion_artifacts, feature_rows):
    rows = feature_rows[:50]
    response = client.post("/ml/predict", json={"rows": rows})
    assert response.status_code == 200
    body = response.get_json()

    registry = Registry(LocalArtifactStore(champion_artifacts), CONVERSION.model)
    card = registry.read_json(body["version"], "model_card.json")
    model = load_model(card["model"]["kind"], registry.read(body["version"], card["model"]["file"]))
    columns = {name: [row[name] for row in rows] for name in CONVERSION.names}
    frame = {
        f.name: Categorical.from_values(columns[f.name])
        if f.kind == "categorical"
        else np.array([math.nan if v is None else v for v in columns[f.name]], np.float32)
        for f in CONVERSION.features
    }
    expected = model.predict(Encoder.from_json(card["encoding"]).transform(frame))
    got = [p["probability"] for p in body["predictions"]]
    np.testing.assert_allclose(got, expected, atol=1e-6)

    for row, prediction in zip(rows, body["predictions"], strict=True):
        reasons = prediction["reasons"]
        assert len(reasons) == 3
        assert [abs(r["shap"]) for r in reasons] == sorted(
            (abs(r["shap"]) for r in reasons), reverse=True
        )
        for reason in reasons:
            sent = row[reason["feature"]]
            assert reason["value"] == sent or reason["value"] == pytest.approx(sent)


def test_ten_thousand_rows_are_served(serve, champion_artifacts, feature_rows):
    client = serve(
        champion_artifacts, EXECKPI_MAX_REQUEST_BYTES="4194304"
    )  # as function.yaml sets it
    assert len(feature_rows) == 10_000
    response = client.post("/ml/predict", json={"rows": feature_rows})
    assert response.status_code == 200
    assert len(response.get_json()["predictions"]) == 10_000


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda r: r.pop("age"), "rows[0].age", "missing feature(s): age"),
        (lambda r: r.update(user_id=3), "rows[0].user_id", "unknown feature(s): user_id"),
        (lambda r: r.update(frequency="2"), "rows[0].frequency", "must be a number"),
        (lambda r: r.update(monetary=True), "rows[0].monetary", "must be a number"),
        (lambda r: r.update(sessions_30d=None), "rows[0].sessions_30d", "must be a number"),
        (lambda r: r.update(recency_days="x"), "rows[0].recency_days", "number or null"),
        (lambda r: r.update(gender="X"), "rows[0].gender", "must be one of"),
        (lambda r: r.update(country=7), "rows[0].country", "must be a string"),
        # Outside the ranges the model card documents for each feature (features.py).
        (lambda r: r.update(age=121), "rows[0].age", "must be from 0 to 120"),
        (lambda r: r.update(age=-1), "rows[0].age", "must be from 0 to 120"),
        (lambda r: r.update(frequency=-0.5), "rows[0].frequency", "must be at least 0"),
        (lambda r: r.update(recency_days=-3), "rows[0].recency_days", "must be at least 0"),
        (lambda r: r.update(traffic_share_email=1.01), "rows[0].traffic_share_email", "0 to 1"),
    ],
)
def test_bad_rows_are_400s_naming_the_feature(client, feature_rows, change, field, words):
    row = dict(feature_rows[0])
    change(row)
    response = client.post("/ml/predict", json={"rows": [row]})
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == field and words in error["message"]


def test_a_card_without_feature_ranges_checks_none(
    serve, champion_artifacts, tmp_path, feature_rows
):
    """Cards written before features had ranges keep serving: they bound no value."""
    store = tmp_path / "artifacts"
    shutil.copytree(champion_artifacts, store)
    registry = Registry(LocalArtifactStore(store), CONVERSION.model)
    version = registry.latest().version
    card = registry.read_json(version, CARD)
    for feature in card["features"]:
        del feature["minimum"], feature["maximum"]
    (store / "models" / CONVERSION.model / version / CARD).write_text(json.dumps(card))
    row = {**feature_rows[0], "age": 130, "frequency": -1}

    response = serve(store).post("/ml/predict", json={"rows": [row]})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"rows": []}, "rows"), ({"rows": "all"}, "rows"), ({"data": []}, "data")],
)
def test_bad_bodies_are_400s(client, body, field):
    response = client.post("/ml/predict", json=body)
    assert response.status_code == 400 and error_of(response)["field"] == field


def test_more_than_ten_thousand_rows_is_a_400(serve, champion_artifacts, feature_rows):
    client = serve(champion_artifacts, EXECKPI_MAX_REQUEST_BYTES=BIG_BODIES)
    response = client.post("/ml/predict", json={"rows": feature_rows + feature_rows[:1]})
    assert response.status_code == 400 and error_of(response)["field"] == "rows"


def test_a_new_champion_is_picked_up(serve, champion_artifacts, tmp_path):
    store = tmp_path / "artifacts"
    shutil.copytree(champion_artifacts, store)
    registry = Registry(LocalArtifactStore(store), CONVERSION.model)
    client = serve(store, EXECKPI_MODEL_RELOAD_SECONDS="0")
    first = registry.latest()
    assert client.get("/ml/latest").get_json()["version"] == first.version

    # Publish a copy of the champion as a new version, as a promotion would.
    successor = "29990101T000000Z-000000"
    prefix = f"models/{CONVERSION.model}/"
    files = {
        key.rsplit("/", 1)[1]: registry.store.get(key).data
        for key in registry.store.list(f"{prefix}{first.version}/")
    }
    registry.write_version(successor, files)
    registry.swap_latest({**first.body, "version": successor}, expected=first)
    assert client.get("/ml/latest").get_json()["version"] == successor


def test_train_publishes_a_retrain_request(serve, champion_artifacts, bus):
    client = serve(champion_artifacts, EXECKPI_LOCAL_BUS_URL=bus.url)
    response = client.post("/ml/train", json={"reason": "new campaign"})
    assert response.status_code == 202
    run_id = response.get_json()["run_id"]
    assert bus.wait_idle(10)
    (cloud_event,) = bus.received
    assert cloud_event.data["message"]["attributes"]["run_id"] == run_id
    assert client.post("/ml/train").status_code == 202  # no body: no reason
    response = client.post("/ml/train", json={"reason": 5})
    assert response.status_code == 400 and error_of(response)["field"] == "reason"
    response = client.post("/ml/train", json={"reason": "x", "priority": "high"})
    assert response.status_code == 400 and error_of(response)["field"] == "priority"


def test_train_reads_a_chunked_body(serve, champion_artifacts, bus):
    client = serve(champion_artifacts, EXECKPI_LOCAL_BUS_URL=bus.url)
    response = client.post("/ml/train", **chunked(b'{"reason": 5}'))
    assert response.status_code == 400 and error_of(response)["field"] == "reason"
    assert client.post("/ml/train", **chunked(b"")).status_code == 202
    assert client.post("/ml/train", **chunked(b'{"reason": "backfill"}')).status_code == 202
    assert bus.wait_idle(10) and len(bus.received) == 2
