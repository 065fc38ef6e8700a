"""The distribution a champion was trained on, stored with its version (``drift_reference.json``)
so that drift is measured against it without reading the old snapshots again.

Each feature keeps its bins and the training rows' counts in them: a numeric feature its decile
edges (``psi.decile_edges``), then one bin per interval and one for nulls; a categorical feature
its training categories, then one bin for a category training never saw and one for nulls. The
score keeps the deciles of the winner's probabilities on the same rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.ml.drift.psi import decile_edges, numeric_counts
from common.ml.encoding import Categorical, Column
from common.ml.features import Feature

RULE = (
    "PSI = sum((current - reference) * ln(current / reference)) over bins of shares, a share of "
    "0 taken as 0.0001; numeric bins cut at the training rows' distinct deciles (a value equal "
    "to an edge in the lower bin) plus a null bin; categorical bins per training category plus "
    "an unseen-category bin and a null bin"
)


def reference_document(
    features: tuple[Feature, ...], frame: dict[str, Column], rows: np.ndarray, scores: np.ndarray
) -> dict[str, Any]:
    """The histograms of ``rows`` of ``frame`` (the training rows) and of their ``scores``."""
    histograms = {f.name: _histogram(f, frame[f.name], rows) for f in features}
    score_edges = decile_edges(scores)
    return {
        "rows": len(rows),
        "rule": RULE,
        "features": histograms,
        "score": {"edges": score_edges, "counts": numeric_counts(scores, score_edges)},
    }


def _histogram(feature: Feature, column: Column, rows: np.ndarray) -> dict[str, Any]:
    if isinstance(column, Categorical):
        codes = column.codes[rows]
        present = np.bincount(codes[codes >= 0], minlength=len(column.categories))
        seen = [i for i, n in enumerate(present.tolist()) if n]
        return {
            "kind": "categorical",
            "categories": [column.categories[i] for i in seen],
            "counts": [*(int(present[i]) for i in seen), 0, int((codes < 0).sum())],
        }
    values = column[rows]
    edges = decile_edges(values)
    return {"kind": feature.kind, "edges": edges, "counts": numeric_counts(values, edges)}
