"""Means with a common per-unit standard deviation sd: each method's test statistic.

- t: Cohen's d = delta / sd under the noncentral t (R's power.t.test, statsmodels'
  TTestIndPower); what /ab/analyze runs on means is Welch's t, the same with equal variances.
- z: the same statistic, normal (large samples; what always-valid inference assumes).
- delta: the relative lift (common.stats.power.relative), sd in both arms.
"""

from __future__ import annotations

import math

from common.stats.power import relative
from common.stats.power.model import Method, PowerQuery
from common.stats.power.rejection import Statistic


def statistic(q: PowerQuery, method: Method, delta: float) -> Statistic:
    variance = q.sd * q.sd
    if method == "delta":
        return relative.statistic(variance, q.baseline, variance, delta, q.ratio)
    spread = math.sqrt(1 + 1 / q.ratio)
    return Statistic(effect_size(q, delta), spread, spread, t_test=method == "t")


def effect_size(q: PowerQuery, delta: float) -> float:
    """Cohen's d."""
    return delta / q.sd


def unit_sd(q: PowerQuery) -> float:
    return q.sd
