"""The Model view's plot data and tables through the model function, on a champion trained on
generated thelook data: the holdout ROC curve and gains against scikit-learn on the holdout
rows read back from the warehouse, the SHAP dependence samples against shap's TreeExplainer
and the warehouse's feature values, versions without them, and the tables as CSV/XLSX."""

import csv
import io
import math
import shutil

import duckdb
import numpy as np
import openpyxl
import pytest
import shap
from sklearn.metrics import roc_curve

from common.artifacts.local import LocalArtifactStore
from common.ml.curves import ROC_POINTS, trapezoid_auc
from common.ml.encoding import Categorical, Encoder
from common.ml.explain import per_feature
from common.ml.features import CONVERSION
from common.ml.models import TREE_KINDS, load_model
from common.ml.registry import CARD, CURVES, SHAP_DEPENDENCE, Registry

BOM = "\ufeff"


@pytest.fixture
def client(function_client, champion_artifacts):
    return function_client("model", EXECKPI_ARTIFACT_DIR=str(champion_artifacts))


@pytest.fixture(scope="module")
def champion(champion_artifacts, generated_warehouse):
    """The champion's card and model, and its holdout rows as the warehouse holds them."""
    registry = Registry(LocalArtifactStore(champion_artifacts), CONVERSION.model)
    version = registry.latest().version
    card = registry.read_json(version, CARD)
    model = load_model(card["model"]["kind"], registry.read(version, card["model"]["file"]))
    columns = ", ".join([*CONVERSION.names, CONVERSION.label])
    dates = card["data"]["holdout_snapshot_dates"]
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        rows = con.execute(
            f"select {columns} from execkpi_marts.features_conversion"
            " where cast(snapshot_date as varchar) in (select unnest(?))",
            [dates],
        ).fetchall()
    return card, model, rows


def frame_of(rows: list[tuple]) -> dict:
    return {
        f.name: Categorical.from_values([r[i] for r in rows])
        if f.kind == "categorical"
        else np.array([math.nan if r[i] is None else r[i] for r in rows], np.float32)
        for i, f in enumerate(CONVERSION.features)
    }


def test_the_roc_points_lie_on_scikit_learns_holdout_curve(client, champion):
    card, model, rows = champion
    body = client.get("/ml/curves").get_json()
    assert body["version"] == card["version"] and body["rows"] == len(rows)
    encoder = Encoder.from_json(card["encoding"])
    scores = model.predict(encoder.transform(frame_of(rows)))
    label = np.array([r[-1] for r in rows])
    fpr, tpr, thresholds = roc_curve(label, scores, drop_intermediate=False)
    exact = {t: (f, r) for f, r, t in zip(fpr, tpr, thresholds, strict=True)}
    points = body["roc"]
    assert 2 < len(points) <= ROC_POINTS
    for point in points:
        key = np.inf if point["threshold"] is None else np.float32(point["threshold"])
        assert exact[key] == pytest.approx((point["fpr"], point["tpr"]), abs=1e-12)
    assert trapezoid_auc(points) == pytest.approx(card["metrics"]["roc_auc"], abs=1e-3)
    gains = body["gains"]
    assert gains[0]["cumulative_lift"] == pytest.approx(card["metrics"]["top_decile_lift"])
    assert gains[-1]["share_of_positives"] == 1.0
    captured = [g["share_of_positives"] for g in gains]
    assert captured == sorted(captured)


def test_dependence_samples_are_holdout_rows_with_shaps_tree_values(client, champion):
    card, model, rows = champion
    if card["model"]["kind"] not in TREE_KINDS:
        pytest.skip("the champion is linear; TreeExplainer checks tree models")
    samples = {
        f.name: client.get(f"/ml/shap/dependence/{f.name}").get_json() for f in CONVERSION.features
    }
    sampled = samples[CONVERSION.names[0]]["sample"]
    assert sampled["rows"] == 500 and sampled["from"] == "holdout"
    # Index i is one row in every feature's answer: read the rows back whole.
    sample_rows = [
        tuple(samples[name]["points"][i]["value"] for name in CONVERSION.names)
        for i in range(sampled["rows"])
    ]

    def as_stored(row: tuple) -> tuple:
        return tuple(
            v if f.kind == "categorical" or v is None else float(np.float32(v))
            for f, v in zip(CONVERSION.features, row, strict=True)
        )

    holdout = {as_stored(r[:-1]) for r in rows}
    assert all(as_stored(row) in holdout for row in sample_rows)

    encoder = Encoder.from_json(card["encoding"])
    matrix = encoder.transform(frame_of(sample_rows))
    explainer = shap.TreeExplainer(model.booster)
    theirs = explainer.shap_values(matrix)
    bias = np.full((len(matrix), 1), explainer.expected_value)
    expected = per_feature(np.hstack([theirs, bias]), encoder).values
    for j, name in enumerate(encoder.features):
        got = [p["shap"] for p in samples[name]["points"]]
        np.testing.assert_allclose(got, expected[:, j], atol=2e-4, err_msg=name)


def test_an_unknown_feature_is_a_404_naming_the_known_ones(client):
    response = client.get("/ml/shap/dependence/shoe_size")
    error = response.get_json()["error"]
    assert response.status_code == 404 and error["field"] == "feature"
    assert "shoe_size" in error["message"] and error["known"] == list(CONVERSION.names)


def test_a_version_without_curves_or_samples_says_so(function_client, champion_artifacts, tmp_path):
    store = tmp_path / "artifacts"
    shutil.copytree(champion_artifacts, store)
    registry = Registry(LocalArtifactStore(store), CONVERSION.model)
    version = registry.latest().version
    for name in (CURVES, SHAP_DEPENDENCE):  # as a version trained before they were stored
        registry.store.delete(f"models/{CONVERSION.model}/{version}/{name}")
    client = function_client("model", EXECKPI_ARTIFACT_DIR=str(store))
    assert client.get("/ml/latest").status_code == 200
    for path in ("/ml/curves", "/ml/shap/dependence/age"):
        response = client.get(path)
        error = response.get_json()["error"]
        assert (response.status_code, error["code"]) == (404, "not_available")
        assert error["message"].startswith(f"not available for this version ({version})")


def read_csv(response, delimiter=","):
    text = response.get_data().decode()
    if text.startswith(BOM):
        text = text[1:]
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def german_number(text: str) -> float:
    return float(text.replace(",", "."))


def test_the_tables_download_as_csv(client):
    latest = client.get("/ml/latest").get_json()
    version = latest["version"]
    response = client.get("/ml/latest?format=csv")
    assert response.mimetype == "text/csv"
    disposition = f'attachment; filename="conversion_{version}_calibration.csv"'
    assert response.headers["Content-Disposition"] == disposition
    bins = read_csv(response)
    assert [float(b["observed_rate"]) for b in bins] == [
        b["observed_rate"] for b in latest["metrics"]["calibration"]
    ]
    german = read_csv(client.get("/ml/latest?format=csv&locale=de-DE"), delimiter=";")
    assert [german_number(b["mean_predicted"]) for b in german] == [
        b["mean_predicted"] for b in latest["metrics"]["calibration"]
    ]
    assert [int(b["count"]) for b in german] == [
        b["count"] for b in latest["metrics"]["calibration"]
    ]

    shap_summary = client.get("/ml/shap").get_json()
    rows = read_csv(client.get("/ml/shap", query_string={"format": "csv", "locale": "de-DE"}), ";")
    assert [(r["feature"], german_number(r["mean_abs_shap"])) for r in rows] == [
        (f["feature"], f["mean_abs_shap"]) for f in shap_summary["features"]
    ]

    (record,) = client.get("/ml/models").get_json()["models"]
    (row,) = read_csv(client.get("/ml/models?format=csv"))
    assert row["version"] == record["version"] and row["decision"] == "promoted"
    assert float(row["holdout_roc_auc"]) == record["holdout_roc_auc"]
    assert row["reasons"] == "; ".join(record["reasons"])


def test_the_tables_download_as_xlsx(client):
    summary = client.get("/ml/shap").get_json()
    response = client.get("/ml/shap?format=xlsx&locale=de-DE")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = sheet.iter_rows(values_only=True)
    assert header == ("feature", "kind", "mean_abs_shap", "mean_shap")
    assert [r[0] for r in rows] == [f["feature"] for f in summary["features"]]
    # Excel keeps 15 significant digits
    assert [r[2] for r in rows] == pytest.approx(
        [f["mean_abs_shap"] for f in summary["features"]], rel=1e-14
    )


@pytest.mark.parametrize("path", ["/ml/latest", "/ml/shap", "/ml/models"])
def test_bad_formats_and_locales_are_400s(client, path):
    for query, field in (("format=pdf", "format"), ("format=csv&locale=xx-XX", "locale")):
        response = client.get(f"{path}?{query}")
        assert (response.status_code, response.get_json()["error"]["field"]) == (400, field)
