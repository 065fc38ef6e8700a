"""A guard against label leakage: no single column may (nearly) give the label away.

A feature computed at or after the snapshot day (an order in the label window, a status set by
the purchase) separates buyers from non-buyers almost perfectly on its own, which honest
behavioural features never do here. The guard scores every encoded column alone by ROC-AUC on
the training rows and refuses to train when one reaches ``LEAK_AUC`` (or 1 - it): the model
would look excellent offline and be useless in production. It cannot see a leak that is only
partial; the mart's own test (tests/data/test_feature_leakage.py) rebuilds features from data
rewound to the snapshot day for that.
"""

from __future__ import annotations

import numpy as np

from common.ml.data import TrainingDataError
from common.ml.metrics import roc_auc
from common.ml.split import sample_rows

LEAK_AUC = 0.98
# A column near LEAK_AUC is told apart on far fewer rows: at 650k users the strongest column's
# AUC moves by 0.003 from 200,000 rows to 50,000 (scripts/benchmarks/training_sample.py).
GUARD_ROWS = 50_000
# Nulls rank below every value; finite, because scikit-learn refuses infinite scores.
NULL_SCORE = np.finfo(np.float64).min


class LeakageSuspected(TrainingDataError):
    """A column predicts the label too well to be a feature known before the snapshot."""


def single_column_auc(
    x: np.ndarray, y: np.ndarray, columns: tuple[str, ...], seed: int, rows: int = GUARD_ROWS
) -> dict[str, float]:
    """Each column's ROC-AUC as the only score (nulls ranked lowest), oriented to be ≥ 0.5, on
    a seeded sample of at most ``rows`` rows."""
    rows = sample_rows(len(y), rows, seed)
    labels = y[rows]
    scores = {}
    for j, name in enumerate(columns):
        values = np.nan_to_num(x[rows, j].astype(np.float64), nan=NULL_SCORE)
        auc = roc_auc(labels, values)
        scores[name] = max(auc, 1 - auc)
    return scores


def check_leakage(
    x: np.ndarray, y: np.ndarray, columns: tuple[str, ...], seed: int
) -> dict[str, float]:
    """The five strongest single columns; raises LeakageSuspected past the limit."""
    scores = single_column_auc(x, y, columns, seed)
    leaked = {name: auc for name, auc in scores.items() if auc >= LEAK_AUC}
    if leaked:
        listed = ", ".join(f"{name} (AUC {auc:.3f})" for name, auc in sorted(leaked.items()))
        raise LeakageSuspected(
            f"label leakage suspected: {listed} alone separate(s) the label; "
            f"a feature must only use data from before the snapshot day"
        )
    strongest = sorted(scores.items(), key=lambda item: -item[1])[:5]
    return {name: round(auc, 4) for name, auc in strongest}
