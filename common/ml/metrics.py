"""Classification metrics in numpy (scikit-learn's definitions; the tests hold them to it).

The threshold metrics use a documented decision threshold: the positive rate of the training
data. A user is flagged when the model thinks a purchase is likelier than for the average user,
a sensible default for campaign targeting when positives are rare (0.5 would flag almost nobody).
"""

from __future__ import annotations

from typing import Any

import numpy as np

CALIBRATION_BINS = 10


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC-AUC needs both classes")
    ranks = _average_ranks(p)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """PR-AUC as the precision-weighted sum of recall steps over the distinct scores."""
    order = np.argsort(-p, kind="mergesort")
    y_sorted, p_sorted = y[order], p[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(p_sorted)), len(p_sorted) - 1]
    true_positives = np.cumsum(y_sorted)[last_of_tie]
    precision = true_positives / (last_of_tie + 1)
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    eps = np.finfo(np.float64).eps
    q = np.clip(p.astype(np.float64), eps, 1 - eps)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p.astype(np.float64) - y) ** 2))


def at_threshold(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    flagged = p >= threshold
    hits = int((flagged & (y == 1)).sum())
    return {
        "threshold": float(threshold),
        "accuracy": float(np.mean(flagged == (y == 1))),
        "precision": hits / int(flagged.sum()) if flagged.any() else 0.0,
        "recall": hits / int(y.sum()),
        "flagged_share": float(flagged.mean()),
    }


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Positive rate among the 10% highest scores over the overall positive rate."""
    top = np.argsort(-p, kind="mergesort")[: max(1, int(np.ceil(len(p) / 10)))]
    return float(y[top].mean() / y.mean())


def calibration(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Equal-width probability bins with their mean prediction and observed rate."""
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    predicted = np.bincount(which, weights=p, minlength=bins)
    observed = np.bincount(which, weights=y, minlength=bins)
    return [
        {
            "low": i / bins,
            "high": (i + 1) / bins,
            "count": int(counts[i]),
            "mean_predicted": float(predicted[i] / counts[i]),
            "observed_rate": float(observed[i] / counts[i]),
        }
        for i in range(bins)
        if counts[i]
    ]


def evaluate(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    return {
        "roc_auc": roc_auc(y, p),
        "pr_auc": average_precision(y, p),
        "log_loss": log_loss(y, p),
        "brier": brier(y, p),
        **at_threshold(y, p, threshold),
        "top_decile_lift": top_decile_lift(y, p),
        "calibration": calibration(y, p),
        "rows": len(y),
        "positives": int(y.sum()),
    }


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(values)] - 1
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = (first[group] + last[group]) / 2 + 1
    return ranks
