"""The ROC points and gains against scikit-learn's roc_curve / roc_auc_score and the
top-decile lift's definition, ties included."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from common.ml import curves, metrics


def scored(rows: int, decimals: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.random(rows).astype(np.float32)
    if decimals is not None:
        p = np.round(p, decimals)  # many ties
    return (rng.random(rows) < p * 0.3).astype(np.int8), p


def columns(points: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fpr, tpr, threshold = (
        np.array([np.inf if p[k] is None else p[k] for p in points])
        for k in ("fpr", "tpr", "threshold")
    )
    return fpr, tpr, threshold


@pytest.mark.parametrize(("rows", "decimals"), [(60, None), (500, 2), (3000, 1)])
def test_small_curves_are_scikit_learns_with_intermediate_points_dropped(rows, decimals):
    y, p = scored(rows, decimals, seed=rows)
    fpr, tpr, threshold = roc_curve(y, p, drop_intermediate=True)
    assert len(fpr) <= curves.ROC_POINTS
    ours = columns(curves.roc_points(y, p))
    np.testing.assert_allclose(ours[0], fpr, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ours[1], tpr, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ours[2], threshold)  # the first: above every score
    assert curves.trapezoid_auc(curves.roc_points(y, p)) == pytest.approx(
        roc_auc_score(y, p), abs=1e-12
    )


@pytest.mark.parametrize(("rows", "decimals"), [(20_000, None), (20_000, 3)])
def test_large_curves_keep_exact_points_and_their_area(rows, decimals):
    y, p = scored(rows, decimals, seed=7)
    points = curves.roc_points(y, p)
    assert len(points) <= curves.ROC_POINTS
    fpr, tpr, threshold = roc_curve(y, p, drop_intermediate=False)
    exact = {t: (f, r) for f, r, t in zip(fpr, tpr, threshold, strict=True)}
    for point in points:
        key = np.inf if point["threshold"] is None else np.float32(point["threshold"])
        assert exact[key] == pytest.approx((point["fpr"], point["tpr"]), abs=1e-15)
    assert (points[0]["fpr"], points[0]["tpr"]) == (0.0, 0.0)
    assert (points[-1]["fpr"], points[-1]["tpr"]) == (1.0, 1.0)
    assert np.all(np.diff([q["fpr"] for q in points]) >= 0)
    assert curves.trapezoid_auc(points) == pytest.approx(roc_auc_score(y, p), abs=1e-3)


def test_one_distinct_score_is_the_diagonal():
    points = curves.roc_points(np.array([0, 1, 0, 1]), np.array([0.5] * 4))
    assert [(q["fpr"], q["tpr"]) for q in points] == [(0.0, 0.0), (1.0, 1.0)]


def test_gains_by_decile():
    y, p = scored(1234, 2, seed=3)
    gains = curves.gains(y, p)
    assert [g["decile"] for g in gains] == list(range(1, 11))
    assert gains[0]["cumulative_lift"] == pytest.approx(metrics.top_decile_lift(y, p), rel=1e-12)
    order = np.argsort(-p, kind="mergesort")
    for g in gains:
        top = int(np.ceil(len(y) * g["decile"] / 10))
        assert g["share_of_users"] == top / len(y)
        assert g["share_of_positives"] == y[order[:top]].sum() / y.sum()
    assert (gains[-1]["share_of_positives"], gains[-1]["cumulative_lift"]) == (1.0, 1.0)
