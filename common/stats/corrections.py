"""Multiple-comparison corrections; adjusted p-values come back in input order.

bonferroni and holm control the family-wise error rate (Holm is never less powerful), bh
(Benjamini-Hochberg) the false discovery rate. Same results as statsmodels' ``multipletests``
with "bonferroni", "holm" and "fdr_bh"; significant means adjusted p <= alpha, as there.
Families are small (arms x metrics), so plain Python.

A corrected comparison reports its interval at the level alpha' = alpha·p/p_adjusted: the test
rejects at alpha' exactly when p < alpha', i.e. when p_adjusted < alpha, so the interval excludes
0 exactly when the adjusted p-value is significant. (GrowthBook's adjusted intervals follow the
same idea, backing a normal SE out of the adjusted p-value.) For Bonferroni alpha' is alpha/m.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.stats.inputs import Correction


def adjust(p_values: Sequence[float], method: Correction) -> tuple[float, ...]:
    m = len(p_values)
    if method == "none" or m <= 1:
        return tuple(p_values)
    if method == "bonferroni":
        return tuple(min(p * m, 1.0) for p in p_values)
    order = sorted(range(m), key=p_values.__getitem__)
    adjusted = [0.0] * m
    if method == "holm":
        # Step-down: the k-th smallest (k from 0) times m - k, kept non-decreasing.
        running = 0.0
        for k, i in enumerate(order):
            running = max(running, min(p_values[i] * (m - k), 1.0))
            adjusted[i] = running
    else:
        # Step-up: the k-th smallest (k from 1) times m / k, kept non-increasing from the top.
        running = 1.0
        for k in range(m, 0, -1):
            i = order[k - 1]
            running = min(running, p_values[i] * m / k)
            adjusted[i] = running
    return tuple(adjusted)


def interval_level(alpha: float, p: float, p_adjusted: float) -> float:
    """The alpha of the interval that agrees with the adjusted p-value (alpha when unchanged)."""
    if p_adjusted <= p or p <= 0:  # unchanged, or both 0: no ratio to scale by
        return alpha
    return alpha * (p / p_adjusted)
