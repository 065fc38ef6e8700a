"""Capping a mean metric's raw per-unit values from above (GrowthBook's metric capping).

An outlier can swamp a mean metric's variance; capping replaces every value above a threshold
by the threshold. The threshold is absolute, or a quantile of both compared arms' values pooled
(GrowthBook's percentile capping; linear interpolation, as SQL's PERCENTILE_CONT and numpy's
default), so the same cap applies to both arms and the comparison stays fair. The capped
sufficient statistics then feed the usual Welch test.

A warehouse produces the same statistics without shipping raw values: the quantile over the
pooled rows first, then per arm ``COUNT(*)``, ``SUM(LEAST(value, cap))`` and
``SUM(POWER(LEAST(value, cap), 2))`` (in DuckDB ``quantile_cont(value, 0.99)`` over both arms,
cross-joined to the per-arm aggregate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from common.stats.inputs import Cap, Moments


@dataclass(frozen=True)
class Capped:
    moments: Moments  # n, sum and sum_squares of the capped values
    threshold: float
    capped: int  # the values above the threshold, now equal to it


def pooled_quantile(arms: Sequence[Sequence[float]], q: float, *, ignore_zeros: bool = False):
    """The q-quantile (0 < q < 1) of all arms' values together.

    ignore_zeros: computed over the non-zero values only (GrowthBook's option), for metrics
    such as revenue where most units have 0 and the 99th percentile would be too low a cap.
    """
    values = np.concatenate([np.asarray(a, dtype=np.float64) for a in arms])
    if ignore_zeros:
        values = values[values != 0]
    return float(np.quantile(values, q)) if values.size else np.nan


def cap(values: Sequence[float], threshold: float) -> Capped:
    v = np.asarray(values, dtype=np.float64)
    capped = np.minimum(v, threshold)
    return Capped(
        moments=Moments(
            n=float(v.size), sum=float(capped.sum()), sum_squares=float(capped @ capped)
        ),
        threshold=float(threshold),
        capped=int(np.count_nonzero(v > threshold)),
    )


def cap_arms(
    rule: Cap, control: Sequence[float], treatment: Sequence[float]
) -> tuple[Capped, Capped]:
    """Both compared arms capped at the rule's one threshold: (control, treatment)."""
    threshold = rule.value
    if threshold is None:
        threshold = pooled_quantile(
            (control, treatment), rule.quantile, ignore_zeros=rule.ignore_zeros
        )
        # Only zeros, none counted: every value is 0 and stays 0, as a cap at 0 leaves it.
        threshold = 0.0 if np.isnan(threshold) else threshold
    return cap(control, threshold), cap(treatment, threshold)
