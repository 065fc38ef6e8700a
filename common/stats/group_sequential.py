"""Group-sequential tests: K planned looks with boundaries from an alpha-spending function.

A spending function f(a, t) says how much of the type I error a the looks up to information
fraction t may use (Lan & DeMets 1983); one side of the test spends f(a, t), so a two-sided
symmetric test with total alpha spends f(alpha/2, t) on each side, as gsDesign, rpact and
ldbounds do:

    O'Brien-Fleming type  f(a, t) = 2·(1 - Φ(Φ⁻¹(1 - a/2) / √t))
    Pocock type           f(a, t) = a·ln(1 + (e - 1)·t)
    power family          f(a, t) = a·t^rho          (Kim & DeMets; Spotify's default rho = 3)

Under H0 the z-statistics at the looks are jointly normal with corr(Z_i, Z_j) = √(t_i/t_j)
(independent increments). The boundary c_k is the value whose crossing probability at look k,
having continued at every earlier look, equals f(t_k) - f(t_(k-1)). That probability comes from
the recursive numerical integration of Armitage, McPherson & Rowe (1969) (Jennison & Turnbull
2000, ch. 19): the sub-density of Z_(k-1) on the continuation region, carried forward with the
normal transition of the increment, integrated by Simpson's rule.

The information fractions are those of the looks so far, the current one last: a boundary only
depends on the looks before it, so looks may be added or moved as the data arrive. At look k,
|Z_k| >= c_k (two-sided) or Z_k >= c_k ("greater"; Z_k <= -c_k for "less") rejects H0, and
estimate ± c_k·SE is the repeated confidence interval: it covers the effect at every look with
probability >= 1 - alpha (Jennison & Turnbull 1989).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from common.stats import distributions as dist
from common.stats.inputs import SPENDINGS as SPENDINGS  # with the other option values
from common.stats.inputs import Sided, Spending
from common.validation import InvalidInput

MAX_LOOKS = 20  # keeps every call well under a second
MIN_STEP = 0.01  # the grid must resolve an increment's spread, √step: finer costs time
_TAIL = 8.0  # Z beyond ±8 has probability < 2e-15 under H0: the grid stops there
_STEP_PER_SPREAD = 4  # grid points per standard deviation of the narrowest increment
_MAX_SPACING = 0.05


@dataclass(frozen=True)
class Design:
    information_fractions: tuple[float, ...]  # of the looks so far, increasing, in (0, 1]
    alpha: float = 0.05  # total, both sides together for a two-sided test
    sided: Sided = "two-sided"
    spending: Spending = "obrien_fleming"
    rho: float = 3.0  # the power family's exponent; the other families ignore it


@dataclass(frozen=True)
class Boundaries:
    information_fractions: tuple[float, ...]
    z: tuple[float, ...]  # c_k >= 0; for "less" the boundary is -c_k; inf: no crossing possible
    nominal_alpha: tuple[float, ...]  # the fixed-sample p-value that c_k corresponds to
    alpha_spent: tuple[float, ...]  # cumulative, both sides together


@dataclass(frozen=True)
class LookResult:
    look: int  # 1-based
    information_fraction: float
    estimate: float
    se: float
    z: float
    boundary: float  # c_k, as in Boundaries.z
    nominal_alpha: float
    alpha_spent: float
    crossed: bool  # H0 is rejected at this look
    ci: tuple[
        float, float
    ]  # the repeated confidence interval; ±inf for a one-sided test's open end


def spent(spending: Spending, alpha: float, t: float, rho: float = 3.0) -> float:
    """f(alpha, t): the type I error one side may have used by information fraction t."""
    if spending == "obrien_fleming":
        return float(2 * dist.norm_cdf(-dist.norm_ppf(1 - alpha / 2) / math.sqrt(t)))
    if spending == "pocock":
        return alpha * math.log(1 + (math.e - 1) * t)
    return alpha * t**rho


def check(design: Design) -> Design:
    fractions = design.information_fractions
    if not 1 <= len(fractions) <= MAX_LOOKS:
        raise InvalidInput("information_fractions", f"must list 1 to {MAX_LOOKS} looks")
    if not all(0 < t <= 1 for t in fractions):
        raise InvalidInput("information_fractions", "must each be greater than 0 and at most 1")
    if any(later - earlier < MIN_STEP - 1e-9 for earlier, later in itertools.pairwise(fractions)):
        raise InvalidInput("information_fractions", f"must increase by at least {MIN_STEP}")
    if not 0 < design.alpha < 0.5:
        raise InvalidInput("alpha", "must be strictly between 0 and 0.5")
    if design.spending == "power" and not 0 < design.rho <= 20:
        raise InvalidInput("rho", "must be greater than 0 and at most 20")
    return design


def _simpson_grid(low: float, high: float, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points and Simpson weights covering [low, high] at about the given spacing."""
    intervals = 2 * max(1, math.ceil((high - low) / spacing / 2))
    points = np.linspace(low, high, intervals + 1)
    weights = np.ones(intervals + 1)
    weights[1:-1:2], weights[2:-1:2] = 4, 2
    return points, weights * (high - low) / (3 * intervals)


def _upper_crossing(c: float, points, mass, scale_prev: float, scale: float, spread: float):
    """P(continued to look k-1, Z_k >= c); mass holds the sub-density times Simpson's weights."""
    return float(mass @ dist.norm_cdf((points * scale_prev - c * scale) / spread))


def _solve(target: float, lowest: float, *transition) -> float:
    """The c whose upper-crossing probability is target, by bisection (it decreases in c).

    With alpha < 0.5, target < P(continued to look k-1), so the root lies in [lowest, 4·_TAIL].
    Bisection needs no scipy.optimize (seconds of cold import) and ~50 cheap steps.
    """
    if target <= 0:
        return math.inf
    low, high = lowest, 4 * _TAIL
    while high - low > 1e-12 * max(1.0, abs(high)):
        middle = 0.5 * (low + high)
        if _upper_crossing(middle, *transition) > target:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def boundaries(design: Design) -> Boundaries:
    check(design)
    fractions = design.information_fractions
    two_sided = design.sided == "two-sided"
    per_side = design.alpha / 2 if two_sided else design.alpha
    cumulative = [spent(design.spending, per_side, t, design.rho) for t in fractions]
    # Look k's grid resolves the increments into and out of it (both spreads >= √step).
    steps = [fractions[0], *np.diff(fractions), 1.0]
    spacing = [
        min(_MAX_SPACING, math.sqrt(min(into, out)) / _STEP_PER_SPREAD)
        for into, out in itertools.pairwise(steps)
    ]
    lowest = 0.0 if two_sided else -_TAIL

    z = [float(-dist.norm_ppf(cumulative[0])) if cumulative[0] > 0 else math.inf]
    points, weights = _simpson_grid(
        -min(z[0], _TAIL) if two_sided else -_TAIL, min(z[0], _TAIL), spacing[0]
    )
    density = np.exp(-0.5 * points**2) / math.sqrt(2 * math.pi)
    for k in range(1, len(fractions)):
        scale_prev, scale = math.sqrt(fractions[k - 1]), math.sqrt(fractions[k])
        spread = math.sqrt(fractions[k] - fractions[k - 1])
        mass = density * weights
        target = cumulative[k] - cumulative[k - 1]
        c = _solve(target, lowest, points, mass, scale_prev, scale, spread)
        z.append(c)
        edge = min(c, _TAIL)
        new_points, weights = _simpson_grid(-edge if two_sided else -_TAIL, edge, spacing[k])
        # Z_k = (√t_(k-1)·Z_(k-1) + √(t_k - t_(k-1))·W) / √t_k, W standard normal.
        gap = (new_points[:, None] * scale - points[None, :] * scale_prev) / spread
        density = (np.exp(-0.5 * gap**2) @ mass) * scale / (spread * math.sqrt(2 * math.pi))
        points = new_points

    sides = 2 if two_sided else 1
    return Boundaries(
        information_fractions=tuple(fractions),
        z=tuple(z),
        nominal_alpha=tuple(float(sides * dist.norm_cdf(-c)) for c in z),
        alpha_spent=tuple(sides * a for a in cumulative),
    )


def analyze_look(design: Design, estimate: float, se: float) -> LookResult:
    """The test at the last look of design.information_fractions.

    With only a z-statistic, pass it as the estimate with se = 1: the interval is then on the
    z scale.
    """
    if not se > 0:
        raise InvalidInput("se", "must be greater than 0")
    bounds = boundaries(design)
    c = bounds.z[-1]
    z = estimate / se
    width = c * se
    if design.sided == "two-sided":
        crossed, ci = abs(z) >= c, (estimate - width, estimate + width)
    elif design.sided == "greater":
        crossed, ci = z >= c, (estimate - width, math.inf)
    else:
        crossed, ci = z <= -c, (-math.inf, estimate + width)
    return LookResult(
        look=len(bounds.z),
        information_fraction=bounds.information_fractions[-1],
        estimate=estimate,
        se=se,
        z=z,
        boundary=c,
        nominal_alpha=bounds.nominal_alpha[-1],
        alpha_spent=bounds.alpha_spent[-1],
        crossed=bool(crossed),
        ci=ci,
    )
