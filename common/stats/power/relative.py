"""The relative lift's standard error by the delta method (GrowthBook's power calculator).

    Var(m_t / m_c - 1) ≈ var_t / (m_c² n_t) + var_c · m_t² / (m_c⁴ n_c)

written with coefficients of variation so that large means do not overflow m_c⁴.
"""

from __future__ import annotations

import math

from common.stats.power.rejection import Statistic


def lift_variance(
    var_c: float, mean_c: float, n_c: float, var_t: float, mean_t: float, n_t: float
) -> float:
    lift_factor = mean_t / mean_c
    return (var_t / mean_c**2) / n_t + (var_c / mean_c**2) * lift_factor**2 / n_c


def statistic(var_c: float, mean_c: float, var_t: float, delta: float, ratio: float) -> Statistic:
    """The test of the lift delta / mean_c; the same spread under H0 and H1, as GrowthBook."""
    sd = math.sqrt(lift_variance(var_c, mean_c, 1.0, var_t, mean_c + delta, ratio))
    return Statistic(delta / mean_c, sd, sd)
