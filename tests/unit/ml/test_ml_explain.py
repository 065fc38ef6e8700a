"""Explanations: XGBoost's pred_contribs against shap's TreeExplainer, the linear model's values
against shap's LinearExplainer, and the per-feature sums that reasons and summaries rely on."""

import numpy as np
import pytest
import shap

from common.ml.candidates import LOGISTIC_REGRESSION, RANDOM_FOREST, XGBOOST
from common.ml.encoding import Encoder
from common.ml.explain import per_feature, reasons, summary
from tests.support.ml_synthetic import SPEC, dataset


@pytest.fixture(scope="module")
def data():
    d = dataset(users=300, snapshots=4)
    encoder = Encoder.fit(SPEC, d.frame)
    return d, encoder, encoder.transform(d.frame)


@pytest.mark.parametrize("candidate", [XGBOOST, RANDOM_FOREST], ids=["xgboost", "forest"])
def test_pred_contribs_equal_shap_tree_explainer(data, candidate):
    d, _, x = data
    model = (
        candidate.with_params({**candidate.params, "rounds": min(40, candidate.params["rounds"])})
        .fit(x, d.label)
        .model
    )
    sample = x[:300]  # holds nulls (recency) and every channel
    ours = model.contributions(sample)
    explainer = shap.TreeExplainer(model.booster)
    theirs = explainer.shap_values(sample)
    np.testing.assert_allclose(ours[:, :-1], theirs, atol=2e-4)
    np.testing.assert_allclose(ours[:, -1], explainer.expected_value, atol=2e-4)


def test_linear_values_equal_shap_linear_explainer(data):
    d, _, x = data
    model = LOGISTIC_REGRESSION.fit(x, d.label).model
    design = model.design(x)
    masker = shap.maskers.Independent(design, max_samples=len(design))
    theirs = shap.LinearExplainer((model.coef, model.intercept), masker).shap_values(design)
    # Our values credit each missing indicator to the column it describes.
    n_inputs = x.shape[1]
    folded = theirs[:, :n_inputs].copy()
    np.add.at(folded.T, model.indicators, theirs[:, n_inputs:].T)
    ours = model.contributions(x)
    np.testing.assert_allclose(ours[:, :-1], folded, atol=1e-6)
    assert model.indicators.tolist() == [SPEC.names.index("recency")]


@pytest.mark.parametrize("candidate", [XGBOOST, LOGISTIC_REGRESSION], ids=lambda c: c.name)
def test_feature_values_add_up_to_the_margin(data, candidate):
    d, encoder, x = data
    model = candidate.fit(x, d.label).model
    explanation = per_feature(model.contributions(x), encoder)
    assert explanation.values.shape == (len(x), len(SPEC.features))
    p = model.predict(x).astype(np.float64)
    margin = np.log(p / (1 - p))
    np.testing.assert_allclose(explanation.values.sum(axis=1) + explanation.base, margin, atol=1e-4)


def test_summary_and_reasons(data):
    d, encoder, x = data
    model = XGBOOST.fit(x, d.label).model
    explanation = per_feature(model.contributions(x), encoder)
    result = summary(explanation, d.frame, SPEC.features)
    importances = [f["mean_abs_shap"] for f in result["features"]]
    assert importances == sorted(importances, reverse=True)
    assert {f["feature"] for f in result["features"]} == set(SPEC.names)
    by_name = {f["feature"]: f for f in result["features"]}
    assert sum(b["count"] for b in by_name["recency"]["chart"]) == len(x)
    assert by_name["recency"]["chart"][-1]["value"] is None  # nulls get their own bar
    assert {b["value"] for b in by_name["channel"]["chart"]} == {
        "Search", "Organic", "Email", "Rare"
    }  # fmt: skip

    why = reasons(explanation, d.frame, SPEC.features)
    assert len(why) == len(x) and all(len(r) == 3 for r in why)
    for row, values in zip(why, explanation.values, strict=True):
        strengths = [abs(r["shap"]) for r in row]
        assert strengths == sorted(strengths, reverse=True)
        assert strengths[0] == pytest.approx(np.abs(values).max(), abs=1e-6)
    channel_reasons = [r for row in why for r in row if r["feature"] == "channel"]
    assert all(isinstance(r["value"], str) for r in channel_reasons)
