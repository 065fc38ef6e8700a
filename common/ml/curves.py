"""The champion's holdout curves, computed with numpy alone (serving never loads scikit-learn):
the ROC curve thinned to a size a page can draw, and cumulative gains and lift by decile.

ROC: one point per distinct score (everyone at or above it flagged), as scikit-learn's
``roc_curve`` defines them. Points on a straight segment between their neighbours are dropped
first (scikit-learn's ``drop_intermediate``: the curve is unchanged); if more than
``ROC_POINTS`` remain, points evenly spread along the curve (by fpr + tpr) are kept. Every
kept point is an exact point of the curve; only the straight lines between them approximate it.
"""

from __future__ import annotations

import numpy as np

ROC_POINTS = 200
GAINS_BINS = 10


def roc_points(y: np.ndarray, p: np.ndarray, at_most: int = ROC_POINTS) -> list[dict]:
    """[{fpr, tpr, threshold}] from (0, 0) to (1, 1); the first point flags nobody
    (threshold null: above every score)."""
    order = np.argsort(-p, kind="mergesort")
    scores, hits = p[order].astype(np.float64), y[order].astype(np.int64)
    last_of_score = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.r_[0, np.cumsum(hits)[last_of_score]]
    fps = np.r_[0, last_of_score + 1 - tps[1:]]
    thresholds = np.r_[np.nan, scores[last_of_score]]
    kept = _corners(fps, tps)
    if len(kept) > at_most:
        kept = _spread(fps[kept] / fps[-1] + tps[kept] / tps[-1], at_most, kept)
    return [
        {
            "fpr": float(fps[i] / fps[-1]),
            "tpr": float(tps[i] / tps[-1]),
            "threshold": None if np.isnan(thresholds[i]) else float(thresholds[i]),
        }
        for i in kept
    ]


def _corners(fps: np.ndarray, tps: np.ndarray) -> np.ndarray:
    """The origin, the ends of the scores' points and each of them where the curve changes
    direction, as scikit-learn keeps them (it looks at the points after the origin)."""
    if len(fps) <= 3:
        return np.arange(len(fps))
    bends = np.logical_or(np.diff(fps[1:], 2), np.diff(tps[1:], 2))
    return np.r_[0, 1 + np.flatnonzero(np.r_[True, bends, True])]


def _spread(position: np.ndarray, at_most: int, kept: np.ndarray) -> np.ndarray:
    """``at_most`` of ``kept`` (ends included), each the first at or past an even step of
    ``position``, which rises from 0 to 2 along the curve."""
    steps = np.linspace(0.0, 2.0, at_most)
    chosen = np.unique(np.minimum(np.searchsorted(position, steps), len(position) - 1))
    return kept[np.union1d(chosen, [0, len(position) - 1])]


def trapezoid_auc(points: list[dict]) -> float:
    fpr = np.array([point["fpr"] for point in points])
    tpr = np.array([point["tpr"] for point in points])
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def gains(y: np.ndarray, p: np.ndarray, bins: int = GAINS_BINS) -> list[dict]:
    """Per decile of users by score (highest first, ties in row order as in the top-decile
    lift): the share of all positives they hold, and that share over their share of users."""
    hits = np.cumsum(y[np.argsort(-p, kind="mergesort")])
    rows, positives = len(y), hits[-1]
    out = []
    for k in range(1, bins + 1):
        top = max(1, int(np.ceil(rows * k / bins)))
        captured = float(hits[top - 1] / positives)
        out.append(
            {
                "decile": k,
                "share_of_users": top / rows,
                "share_of_positives": captured,
                "cumulative_lift": captured / (top / rows),
            }
        )
    return out
