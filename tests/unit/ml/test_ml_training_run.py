"""A training run: its artifacts, once per run id, and the leakage guard."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from common import runs
from common.artifacts.local import LocalArtifactStore
from common.ml.data import TrainingDataError
from common.ml.features import Feature, FeatureSpec
from common.ml.fitting import fit_and_evaluate
from common.ml.leakage import LeakageSuspected
from common.ml.registry import Registry
from common.ml.training_run import RUN_LEASE, train_run
from tests.support.ml_synthetic import SETTINGS, SPEC, dataset

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def registry(tmp_path):
    return Registry(LocalArtifactStore(tmp_path), SPEC.model)


class CountingLoad:
    def __init__(self, make=dataset):
        self.make, self.calls = make, 0

    def __call__(self):
        self.calls += 1
        return self.make()


def test_a_run_writes_its_version_and_trains_once_per_run_id(registry):
    load = CountingLoad()
    first = train_run(registry, load, SPEC, SETTINGS, "run-a", {"event_type": "data-validated"})
    again = train_run(registry, load, SPEC, SETTINGS, "run-a", {"event_type": "data-validated"})
    assert load.calls == 1
    assert again == {**first, "repeated": True}
    assert first["decision"] == "promoted" and registry.latest().version == first["version"]

    version = first["version"]
    files = registry.store.list(f"models/{SPEC.model}/{version}/")
    assert {f.rsplit("/", 1)[1] for f in files} == {
        "model.ubj" if first["winner"] != "logistic_regression" else "model.json",
        "metrics.json",
        "curves.json",
        "shap_summary.json",
        "shap_dependence.json",
        "drift_reference.json",
        "model_card.json",
    }
    card = registry.read_json(version, "model_card.json")
    assert card["run_id"] == "run-a" and card["model"]["kind"] == first["winner"]
    assert [f["name"] for f in card["features"]] == list(SPEC.names)
    assert all(f["definition"] for f in card["features"])
    assert card["data"]["holdout_snapshot_dates"] == ["2026-08-31"]
    assert card["libraries"]["xgboost"] and card["libraries"]["numpy"]
    assert {"load", "encode", "xgboost.fit", "explain"} <= set(card["timings"])
    assert card["metrics"]["roc_auc"] == first["holdout_roc_auc"] > 0.7
    metrics = registry.read_json(version, "metrics.json")
    assert set(metrics["candidates"]) == {"logistic_regression", "random_forest", "xgboost"}
    for result in metrics["candidates"].values():
        assert {"roc_auc", "pr_auc", "log_loss", "brier", "top_decile_lift"} <= set(result)
        assert result["cv"]["folds"] == 3 and result["cv"]["grouped_by"] == "user"
    shap = registry.read_json(version, "shap_summary.json")
    assert shap["sample"]["rows"] == SETTINGS.shap_rows
    assert {f["feature"] for f in shap["features"]} == set(SPEC.names)
    assert registry.history() == [first]
    # One record of the run: its claim, finished with the outcome.
    assert registry.store.list("runs/") == ["runs/run-a/training.json"]
    assert registry.store.get_json(runs.run_key("run-a", runs.TRAINING)) == first
    assert (first["status"], first["attempt"], first["run_id"]) == ("promoted", 1, "run-a")
    assert not registry.store.list(f"models/{SPEC.model}/runs/")


def test_a_run_in_progress_is_retried_later_and_a_dead_one_taken_over(registry):
    runs.claim(registry.store, "run-b", runs.TRAINING, {"version": "x"}, RUN_LEASE, NOW)
    load = CountingLoad()
    with pytest.raises(runs.InProgress):
        train_run(registry, load, SPEC, SETTINGS, "run-b", {}, now=lambda: NOW)
    later = NOW + RUN_LEASE + timedelta(seconds=1)
    outcome = train_run(registry, load, SPEC, SETTINGS, "run-b", {}, now=lambda: later)
    assert load.calls == 1 and outcome["decision"] == "promoted"
    assert (outcome["attempt"], outcome["previous_attempt"]["status"]) == (2, "running")
    assert registry.store.get_json(runs.run_key("run-b", runs.TRAINING)) == outcome


def test_data_that_cannot_train_fails_once_for_good(registry):
    def one_class():
        d = dataset()
        return type(d)(d.frame, np.zeros_like(d.label), d.time, d.groups, d.source)

    load = CountingLoad(one_class)
    with pytest.raises(TrainingDataError, match="single class"):
        train_run(registry, load, SPEC, SETTINGS, "run-c", {})
    repeat = train_run(registry, load, SPEC, SETTINGS, "run-c", {})
    assert load.calls == 1 and repeat["decision"] == "failed" and repeat["repeated"]
    assert registry.latest() is None
    with pytest.raises(TrainingDataError, match="run id"):
        train_run(registry, load, SPEC, SETTINGS, "../etc", {})


def test_the_leakage_guard_refuses_a_feature_that_gives_the_label_away(registry):
    # "orders_next_14d" is computed over the label window itself, as a feature built from
    # data on or after the snapshot day would be: it almost equals the label.
    leaky = FeatureSpec(
        SPEC.model,
        SPEC.table,
        (*SPEC.features, Feature("orders_next_14d", "numeric", "orders in the label window")),
        SPEC.label,
        SPEC.label_definition,
        SPEC.time_column,
        SPEC.group_column,
    )

    def with_leak():
        d = dataset()
        noise = np.random.default_rng(1).random(d.rows) < 0.01
        leaked = np.where(noise, 1 - d.label, d.label).astype(np.float32)
        return type(d)({**d.frame, "orders_next_14d": leaked}, d.label, d.time, d.groups, d.source)

    with pytest.raises(LeakageSuspected, match="orders_next_14d"):
        train_run(registry, with_leak, leaky, SETTINGS, "run-d", {})
    assert registry.latest() is None
    (record,) = registry.history()
    assert record["decision"] == "failed" and "leakage" in record["reasons"][0]
    # The honest features pass the same guard, and the card says how close they came.
    outcome = train_run(registry, dataset, SPEC, SETTINGS, "run-e", {})
    card = registry.read_json(outcome["version"], "model_card.json")
    assert max(card["leakage_guard"]["strongest_columns"].values()) < 0.98
    json.dumps(card)  # plain JSON all the way down


def test_shuffled_labels_score_at_chance():
    # With every label permuted there is nothing to learn: a holdout AUC clearly above 0.5 could
    # only come from the pipeline feeding holdout labels into a model (split, encoder, early
    # stopping, cross-validation). Null AUC sd here is about 0.02; the band is 5 of them.
    d = dataset(users=1500)
    shuffled = type(d)(
        d.frame, np.random.default_rng(8).permutation(d.label), d.time, d.groups, d.source
    )
    training = fit_and_evaluate(shuffled, SPEC, SETTINGS)
    for result in training.results:
        assert abs(result.metrics["roc_auc"] - 0.5) < 0.1, result.name
        assert abs(result.metrics["cv"]["roc_auc_mean"] - 0.5) < 0.1, result.name
