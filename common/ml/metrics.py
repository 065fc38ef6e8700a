"""Classification metrics: scikit-learn's, plus the two it does not have in this form (top
decile lift, and a calibration table with counts).

The threshold metrics use a documented decision threshold: the positive rate of the training
data. A user is flagged when the model thinks a purchase is likelier than for the average user,
a sensible default for campaign targeting when positives are rare (0.5 would flag almost nobody).

"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

CALIBRATION_BINS = 10


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if y.min() == y.max():  # scikit-learn would answer NaN with a warning
        raise ValueError("ROC-AUC needs both classes")
    return float(_sklearn().roc_auc_score(y, p))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """PR-AUC as the precision-weighted sum of recall steps over the distinct scores."""
    return float(_sklearn().average_precision_score(y, p))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(_sklearn().log_loss(y, _float64(p), labels=(0, 1)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(_sklearn().brier_score_loss(y, _float64(p)))


def at_threshold(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    sklearn, flagged = _sklearn(), p >= threshold
    return {
        "threshold": float(threshold),
        "accuracy": float(sklearn.accuracy_score(y, flagged)),
        "precision": float(sklearn.precision_score(y, flagged, zero_division=0.0)),
        "recall": float(sklearn.recall_score(y, flagged)),
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


def _sklearn() -> ModuleType:
    from sklearn import metrics  # on first use: scikit-learn takes seconds to import

    return metrics


def _float64(p: np.ndarray) -> np.ndarray:
    """Models predict float32; scikit-learn would clip and sum in float32 and lose digits."""
    return p.astype(np.float64, copy=False)
