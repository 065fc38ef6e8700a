"""Design-time power for a two-arm, two-sided test with equal arms.

Effect sizes are standardised: Cohen's h = 2·asin√p₁ - 2·asin√p₀ for a conversion rate (the
arcsine makes the variance free of p), d = δ/s for a mean. With k = √(n/2) for n units per arm,

    power(n) = Φ(h·k - z) + Φ(-h·k - z),   z = Φ⁻¹(1 - alpha/2)

(statsmodels' NormalIndPower, both tails counted). Give n_per_arm to get the detectable effect,
mde to get n_per_arm, or both to get the power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from common.stats import distributions as dist

_PDF = 1 / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class PowerQuery:
    baseline: float  # conversion rate, or mean of a "mean" metric
    metric: Literal["proportion", "mean"] = "proportion"
    sd: float | None = None  # per-unit standard deviation, "mean" metrics only
    mde: float | None = None
    relative: bool = True  # mde as a share of the baseline, else in the metric's units
    n_per_arm: float | None = None
    alpha: float = 0.05
    power: float = 0.8  # the target when solving for n_per_arm or mde


@dataclass(frozen=True)
class PowerResult:
    solved_for: Literal["n_per_arm", "mde", "power"]
    n_per_arm: int  # rounded up
    n_per_arm_exact: float
    total: int
    mde_absolute: float | None  # an increase over the baseline
    mde_relative: float | None
    effect_size: float  # Cohen's h or d
    power: float
    alpha: float
    message: str | None = None


def _power_at(u: float, z: float) -> float:
    """Power when the standardised shift h·k is u."""
    return float(dist.norm_cdf(u - z) + dist.norm_cdf(-u - z))


def _shift_for(power: float, z: float) -> float:
    """The h·k reaching the target power: Newton from the one-tail answer."""
    u = z + float(dist.norm_ppf(power))
    for _ in range(50):
        slope = _PDF * (math.exp(-0.5 * (u - z) ** 2) - math.exp(-0.5 * (u + z) ** 2))
        step = (_power_at(u, z) - power) / slope
        u -= step
        if abs(step) < 1e-14 * max(u, 1.0):
            break
    return u


def _effect_size(q: PowerQuery, absolute: float) -> float:
    if q.metric == "mean":
        return absolute / q.sd
    return 2 * math.asin(math.sqrt(q.baseline + absolute)) - 2 * math.asin(math.sqrt(q.baseline))


def _increase_for(q: PowerQuery, effect: float) -> float | None:
    """The absolute increase over the baseline with this effect size (None if unreachable)."""
    if q.metric == "mean":
        return effect * q.sd
    angle = math.asin(math.sqrt(q.baseline)) + effect / 2
    return math.sin(angle) ** 2 - q.baseline if angle <= math.pi / 2 else None


def solve(q: PowerQuery) -> PowerResult:
    z = float(dist.norm_ppf(1 - q.alpha / 2))
    absolute = None
    if q.mde is not None:
        absolute = q.mde * q.baseline if q.relative else q.mde
    message = None
    if q.n_per_arm is None:
        effect = abs(_effect_size(q, absolute))
        n = 2 * (_shift_for(q.power, z) / effect) ** 2
        solved, power = "n_per_arm", q.power
    elif absolute is None:
        n = q.n_per_arm
        effect = _shift_for(q.power, z) / math.sqrt(n / 2)
        absolute = _increase_for(q, effect)
        if absolute is None:
            message = "no increase over the baseline rate reaches that power at this size"
        solved, power = "mde", q.power
    else:
        n = q.n_per_arm
        effect = abs(_effect_size(q, absolute))
        solved, power = "power", _power_at(effect * math.sqrt(n / 2), z)
    relative = None
    if absolute is not None and q.baseline != 0:
        relative = absolute / q.baseline
    return PowerResult(
        solved_for=solved,
        n_per_arm=math.ceil(n - 1e-9),
        n_per_arm_exact=n,
        total=2 * math.ceil(n - 1e-9),
        mde_absolute=absolute,
        mde_relative=relative,
        effect_size=effect,
        power=power,
        alpha=q.alpha,
        message=message,
    )
