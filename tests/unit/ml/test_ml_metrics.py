"""The metrics, held to their definitions on fixed arrays, ties included."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from common.ml import metrics
from common.ml.leakage import single_column_auc

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
    p = np.round(rng.random(2000), 2)  # rounded: many ties
    y = (rng.random(2000) < p * 0.3).astype(np.int8)
    return y, p


def test_roc_auc_is_the_chance_a_positive_outscores_a_negative(data):
    y, p = data
    positives, negatives = p[y == 1][:, None], p[y == 0][None, :]
    pairs = (positives > negatives) + 0.5 * (positives == negatives)
    assert metrics.roc_auc(y, p) == pytest.approx(pairs.mean(), abs=1e-12)


def test_average_precision_sums_precision_over_recall_steps():
    # Distinct scores in descending order: each positive adds 1/4 of recall at its precision.
    y = np.array([1, 0, 1, 0, 0, 1, 0, 1])
    p = np.linspace(0.9, 0.2, 8)
    expected = (1 / 1 + 2 / 3 + 3 / 6 + 4 / 8) / 4
    assert metrics.average_precision(y, p) == pytest.approx(expected, abs=1e-12)


def test_probability_metrics_follow_their_formulas(data):
    y, p = data
    q = np.clip(p, 0.01, 0.99)
    expected_log_loss = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    assert metrics.log_loss(y, q) == pytest.approx(expected_log_loss, abs=1e-12)
    assert metrics.brier(y, q) == pytest.approx(np.mean((q - y) ** 2), abs=1e-12)


def test_float32_predictions_are_scored_in_float64():
    """Models predict float32; the metrics must not lose digits to it."""
    rng = np.random.default_rng(4)
    q = rng.uniform(0.001, 0.999, 5000).astype(np.float32)
    y = (rng.random(5000) < q).astype(np.int8)
    wide = q.astype(np.float64)
    assert metrics.log_loss(y, q) == metrics.log_loss(y, wide)
    assert metrics.brier(y, q) == metrics.brier(y, wide)


def test_log_loss_of_one_class_is_defined():
    y = np.zeros(4, dtype=np.int8)
    assert metrics.log_loss(y, np.full(4, 0.2)) == pytest.approx(-np.log(0.8))


def test_threshold_metrics_count_the_flagged_users():
    # At 0.4: 10 users flagged (score >= 0.4), 5 of them among the 6 positives.
    got = metrics.at_threshold(Y, P, 0.4)
    assert got == pytest.approx(
        {
            "threshold": 0.4,
            "accuracy": (5 + 9) / 20,
            "precision": 5 / 10,
            "recall": 5 / 6,
            "flagged_share": 10 / 20,
        }
    )
    assert metrics.at_threshold(Y, P, 0.95)["precision"] == 0.0  # nobody flagged


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


def test_the_leakage_guard_ranks_nulls_lowest():
    # Nulls only among the negatives: below every value, they separate the classes perfectly.
    y = np.array([0, 0, 0, 1, 1, 1, 0, 0], dtype=np.int8)
    x = np.array([[np.nan], [np.nan], [np.nan], [0.5], [0.7], [0.9], [0.1], [0.6]], np.float32)
    (auc,) = single_column_auc(x, y, ("column",), seed=0).values()
    assert auc == pytest.approx(14 / 15)  # one pair of 15 misordered: 0.6 over 0.5
    assert single_column_auc(np.full((8, 1), np.nan), y, ("empty",), seed=0) == {"empty": 0.5}
