"""Sample-ratio mismatch: Pearson's chi-square of the assigned units against the planned split.

Arms planned at weight 0 are left out (gbstats skips them too); the degrees of freedom are the
remaining arms - 1. A p-value below the threshold (0.001 by default: SRM checks run on every
experiment, so false alarms must be rare) means the assignment or the logging is broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.stats import distributions as dist


@dataclass(frozen=True)
class SrmResult:
    chi_square: float
    df: int
    p_value: float
    threshold: float
    passed: bool
    observed: tuple[float, ...]
    expected: tuple[float, ...]  # 0 for arms planned at weight 0
    message: str | None = None


def srm_test(
    observed: Sequence[float], weights: Sequence[float], threshold: float = 0.001
) -> SrmResult:
    active = [i for i, w in enumerate(weights) if w > 0]
    total = sum(observed[i] for i in active)
    planned = sum(weights[i] for i in active)
    expected = tuple(w / planned * total if w > 0 else 0.0 for w in weights)
    df = len(active) - 1
    if total <= 0 or df < 1:
        chi_square, p = 0.0, 1.0
        message = "no units in the planned arms: the split cannot be checked"
    else:
        chi_square = sum((observed[i] - expected[i]) ** 2 / expected[i] for i in active)
        p, message = float(dist.chi2_sf(df, chi_square)), None
    return SrmResult(
        chi_square=float(chi_square),
        df=max(df, 0),
        p_value=p,
        threshold=threshold,
        passed=p >= threshold,
        observed=tuple(float(c) for c in observed),
        expected=expected,
        message=message,
    )
