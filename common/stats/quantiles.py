"""Quantile metrics: the effect on the q-th quantile (median, P90, ...) of a per-unit metric.

A sample quantile's standard error needs no density estimate. Its distribution-free confidence
interval is a pair of order statistics at ranks n·(q ∓ z·√(q(1-q)/n)), z = Φ⁻¹(0.975), so that
interval's width over 2z is the SE (GrowthBook's QuantileStatistic):

    var(q̂) = (n*/n) · ((n - 1)/n) · ((upper - lower) / (2z))²

``lower`` and ``upper`` are the sample quantiles at the levels ``bound_levels(q, n*)``. n* is
the n those levels were computed for: n itself, or a smaller value when SQL must fix the levels
before it knows n (GrowthBook uses a grid of n*). The width shrinks as 1/√n*, and n*/n rescales
it to n. The (n - 1)/n factor is GrowthBook's convention, kept so the results match it. It
changes nothing at the sample sizes this method needs.

Each arm becomes a ``Summary`` whose mean is the quantile, and the engine compares it as any
other metric (``frequentist.compare`` with the "z" family): a z-test, since the SE is a
large-sample normal approximation with no degrees of freedom to lose; on the relative scale the
lift's delta-method SE, on the absolute scale the difference with Fieller's interval for the lift.
Sequential, group-sequential, corrections and the Bayesian read-out apply unchanged; CUPED does
not (a quantile has no covariate statistics).

Quantiles are linear-interpolated (numpy's default, DuckDB's ``quantile_cont``, PostgreSQL's
``percentile_cont``), so raw values and SQL give the same sufficient statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from common.stats.summary import Summary
from common.validation import InvalidInput

# The bounds' coverage is fixed at 95%, whatever alpha the test uses: only their width matters.
BOUND_Z = 1.959963984540054  # Φ⁻¹(0.975)


@dataclass(frozen=True)
class QuantileArm:
    """One arm's sufficient statistics for the quantile at level q of a per-unit metric."""

    level: float  # q: the bounds were chosen for it, so it belongs to the statistics
    n: float  # units with a value
    quantile: float  # the sample quantile at level q
    lower: float  # the sample quantile at bound_levels(q, n_star)[0]
    upper: float  # ... and at bound_levels(q, n_star)[1]
    n_star: float | None = None  # the n the bound levels were computed for; None: n

    @property
    def bound_n(self) -> float:
        return self.n if self.n_star is None else self.n_star

    @property
    def has_covariate(self) -> bool:
        return False  # CUPED does not apply


def bound_levels(level: float, n: float) -> tuple[float, float]:
    """The levels of the sample quantiles that bracket the q-th one (clipped to [0, 1])."""
    half_width = BOUND_Z * math.sqrt(level * (1 - level) / n)
    return max(level - half_width, 0.0), min(level + half_width, 1.0)


def min_units(level: float) -> float:
    """Fewer units (or a smaller n*) put a bound level outside (0, 1): no variance estimate."""
    odds = level / (1 - level)
    return BOUND_Z**2 * max(odds, 1 / odds)


def arm_from_values(values: Sequence[float], level: float) -> QuantileArm:
    """The sufficient statistics of raw per-unit values (at least one)."""
    data = np.asarray(values, dtype=float)
    lower_level, upper_level = bound_levels(level, data.size)
    quantile, lower, upper = np.quantile(data, (level, lower_level, upper_level))
    return QuantileArm(level, data.size, float(quantile), float(lower), float(upper))


def check_arm(arm: QuantileArm, field: str) -> QuantileArm:
    """Refuse sufficient statistics no sample could give (each number is checked before)."""
    if not arm.lower <= arm.quantile <= arm.upper:
        raise InvalidInput(field, "must satisfy lower <= quantile <= upper")
    if arm.n_star is not None and not 0 < arm.n_star <= arm.n:
        raise InvalidInput(f"{field}.n_star", "must be greater than 0 and at most n")
    return arm


def summarize(arm: QuantileArm) -> Summary:
    """The arm as a Summary: the quantile as its 'mean', with a per-unit variance.

    The variance is NaN when the bounds cannot give one: a bound level was clipped at 0 or 1
    (too few units), or both bounds are the same value (no spread around the quantile).
    """
    n = np.float64(arm.n)
    half_spread = (arm.upper - arm.lower) / (2 * BOUND_Z)
    variance = arm.bound_n / n * (n - 1) * half_spread**2
    if arm.bound_n <= min_units(arm.level) or half_spread == 0:
        variance = np.nan
    quantile = np.float64(arm.quantile)
    return Summary(n, quantile, variance, quantile)


def undefined_reason(control: QuantileArm, treatment: QuantileArm) -> str | None:
    for name, arm in (("control", control), ("treatment", treatment)):
        if arm.bound_n <= min_units(arm.level):
            needed = math.floor(min_units(arm.level)) + 1
            return f"the {name} arm needs at least {needed} units for the {arm.level:g} quantile"
        if arm.upper == arm.lower:
            return f"the {name} arm's values do not vary around the {arm.level:g} quantile"
    if control.quantile == 0:
        return "the control's quantile is 0: the relative effect is undefined"
    return None
