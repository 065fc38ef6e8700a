"""The population stability index and the bins it compares.

PSI = sum over bins of (c - r) * ln(c / r), where r and c are the shares of the reference
(the champion's training rows) and of the current rows in each bin. A share of 0 becomes
``EPSILON`` first (the logarithm of 0 is undefined); a bin empty on both sides adds nothing.

Numeric bins are cut at the reference's deciles (``decile_edges``): bin i holds the values
above i of the edges, so a value equal to an edge falls in the lower bin, the same rule as
the warehouse's ``x > edge`` sums. Equal deciles (a feature that is mostly 0) merge into one
edge, so such a feature has fewer bins. Nulls have a bin of their own, after the numeric ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EPSILON = 1e-4
DECILES = tuple(i / 10 for i in range(1, 10))


def population_stability(reference: Sequence[float], current: Sequence[float]) -> float:
    """PSI of two histograms over the same bins (counts or shares: each is normalised)."""
    r, c = _shares(reference), _shares(current)
    if r.shape != c.shape:
        raise ValueError(f"{len(r)} reference bins against {len(c)} current bins")
    return float(np.sum((c - r) * np.log(c / r)))


def decile_edges(values: np.ndarray) -> list[float]:
    """The distinct deciles of the non-null values, each an observed value."""
    present = values[~np.isnan(values)].astype(np.float64)
    if present.size == 0:
        return []
    return np.unique(np.quantile(present, DECILES, method="inverted_cdf")).tolist()


def numeric_counts(values: np.ndarray, edges: Sequence[float]) -> list[int]:
    """Rows per bin: len(edges) + 1 value bins, then the nulls."""
    values = values.astype(np.float64)
    nulls = np.isnan(values)
    bins = np.searchsorted(np.asarray(edges, dtype=np.float64), values[~nulls], side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return [*counts.tolist(), int(nulls.sum())]


def _shares(counts: Sequence[float]) -> np.ndarray:
    x = np.asarray(counts, dtype=np.float64)
    total = x.sum()
    if total <= 0:
        raise ValueError("a histogram without rows has no shares")
    return np.maximum(x / total, EPSILON)
