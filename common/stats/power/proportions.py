"""Conversion rates p (control) and p + delta (treatment): each method's test statistic.

- pooled: the difference, with the pooled rate's variance under H0 and each arm's under H1
  (Fleiss; R's power.prop.test, statsmodels' power_proportions_2indep). The z-test /ab/analyze
  runs on proportions pools its variance too, so this plans the test that will be run.
- unpooled: the difference with each arm's variance under both hypotheses (a Wald test).
- arcsine: Cohen's h = 2·asin√p₂ - 2·asin√p₁, whose variance does not depend on p.
- delta: the relative lift (common.stats.power.relative), each arm with its Bernoulli variance.
"""

from __future__ import annotations

import math

from common.stats.power import relative
from common.stats.power.model import Method, PowerQuery
from common.stats.power.rejection import Statistic


def statistic(q: PowerQuery, method: Method, delta: float) -> Statistic:
    r = q.ratio
    p1, p2 = q.baseline, min(max(q.baseline + delta, 0.0), 1.0)
    var_c, var_t = p1 * (1 - p1), p2 * (1 - p2)
    if method == "arcsine":
        spread = math.sqrt(1 + 1 / r)
        return Statistic(effect_size(q, delta), spread, spread)
    if method == "delta":
        return relative.statistic(var_c, p1, var_t, delta, r)
    spread = math.sqrt(var_c + var_t / r)
    if method == "unpooled":
        return Statistic(delta, spread, spread)
    pooled = (p1 + r * p2) / (1 + r)
    return Statistic(delta, math.sqrt(pooled * (1 - pooled) * (1 + 1 / r)), spread)


def effect_size(q: PowerQuery, delta: float) -> float:
    """Cohen's h."""
    p2 = min(max(q.baseline + delta, 0.0), 1.0)
    return 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(q.baseline))


def unit_sd(q: PowerQuery) -> float:
    return math.sqrt(q.baseline * (1 - q.baseline))
