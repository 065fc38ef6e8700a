"""The numpy metrics agree with scikit-learn's on fixed arrays, ties included."""

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from common.ml import metrics

Y = np.array([0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])
P = np.array(
    [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.05, 0.2, 0.4, 0.6,
     0.3, 0.7, 0.1, 0.15, 0.5, 0.55, 0.25, 0.05, 0.65, 0.2]
)  # fmt: skip


@pytest.fixture(params=["fixed", "random"])
def data(request):
    if request.param == "fixed":
        return Y, P
    rng = np.random.default_rng(3)
    p = np.round(rng.random(5000), 2)  # rounded: many ties
    y = (rng.random(5000) < p * 0.3).astype(np.int8)
    return y, p


def test_ranking_metrics_match_sklearn(data):
    y, p = data
    assert metrics.roc_auc(y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert metrics.average_precision(y, p) == pytest.approx(
        skm.average_precision_score(y, p), abs=1e-12
    )


def test_probability_metrics_match_sklearn(data):
    y, p = data
    q = np.clip(p, 0.01, 0.99)
    assert metrics.log_loss(y, q) == pytest.approx(skm.log_loss(y, q), abs=1e-12)
    assert metrics.brier(y, q) == pytest.approx(skm.brier_score_loss(y, q), abs=1e-12)


def test_threshold_metrics_match_sklearn(data):
    y, p = data
    threshold = 0.4
    predicted = (p >= threshold).astype(int)
    got = metrics.at_threshold(y, p, threshold)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    assert got["precision"] == pytest.approx(skm.precision_score(y, predicted))
    assert got["recall"] == pytest.approx(skm.recall_score(y, predicted))
    assert got["threshold"] == threshold


def test_top_decile_lift_and_calibration():
    # Top 10% of 20 rows: the two highest scores (0.9, 0.8), both positive; base rate 6/20.
    assert metrics.top_decile_lift(Y, P) == pytest.approx(1.0 / (6 / 20))
    bins = metrics.calibration(Y, P)
    assert sum(b["count"] for b in bins) == len(Y)
    top = bins[-1]  # 0.9 falls in [0.9, 1.0]
    assert (top["low"], top["count"], top["mean_predicted"], top["observed_rate"]) == (
        0.9,
        1,
        0.9,
        1.0,
    )


def test_calibration_matches_sklearn_away_from_bin_edges():
    # Bins are [low, high) here and (low, high] in scikit-learn: same answer off the edges.
    rng = np.random.default_rng(5)
    p = rng.random(3000)
    y = (rng.random(3000) < p).astype(np.int8)
    bins = metrics.calibration(y, p)
    frac_pos, mean_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    assert [b["observed_rate"] for b in bins] == pytest.approx(frac_pos)
    assert [b["mean_predicted"] for b in bins] == pytest.approx(mean_pred)


def test_evaluate_counts_and_needs_both_classes():
    result = metrics.evaluate(Y, P, threshold=0.5)
    assert (result["rows"], result["positives"]) == (20, 6)
    with pytest.raises(ValueError, match="both classes"):
        metrics.roc_auc(np.zeros(5, dtype=int), np.linspace(0, 1, 5))
