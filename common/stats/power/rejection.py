"""The probability that a two-sample test rejects: its power at a given size.

A method reduces to its statistic with n control units (ratio·n in each treatment arm): mean
shift·√n, standard deviation sd_null/√n under H0 and sd_alt/√n under H1. A z-test rejects when
|statistic| > z·sd_null/√n, so

    power = Φ((shift·√n - z·sd_null) / sd_alt)  [+ Φ((-shift·√n - z·sd_null) / sd_alt) two-sided]

counting both rejection regions (statsmodels, G*Power, R's strict = TRUE; R's default drops the
far one, which changes nothing visible at useful powers). A t-test uses the noncentral t with
n·(1 + ratio) - 2 degrees of freedom (R's power.t.test, statsmodels' TTestIndPower).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from common.stats import distributions as dist
from common.stats.power import sequential
from common.stats.power.model import PowerQuery


@dataclass(frozen=True)
class Statistic:
    shift: float  # in the statistic's units, per √(control units)
    sd_null: float
    sd_alt: float
    t_test: bool = False


def probability(stat: Statistic, n: float, q: PowerQuery) -> float:
    two_sided = q.sided == "two-sided"
    tail = q.alpha_per_comparison / 2 if two_sided else q.alpha_per_comparison
    shift = abs(stat.shift) * math.sqrt(n)
    if stat.t_test:
        df = n * (1 + q.ratio) - 2
        critical = -float(dist.t_ppf(df, tail))
        ncp = shift / stat.sd_alt
        power = 1 - float(dist.nct_cdf(df, ncp, critical))
        return power + (float(dist.nct_cdf(df, ncp, -critical)) if two_sided else 0.0)
    z = -float(dist.norm_ppf(tail))
    widen = 1.0
    if q.sequential_tuning is not None:
        widen = sequential.widening(n * (1 + q.ratio), q.alpha_per_comparison, q.sequential_tuning)
    null, alt = z * stat.sd_null * widen, stat.sd_alt * widen
    power = float(dist.norm_cdf((shift - null) / alt))
    return power + (float(dist.norm_cdf((-shift - null) / alt)) if two_sided else 0.0)
