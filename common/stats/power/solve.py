"""Answer a power question: the sample size, the detectable effect, or the power, then the days.

Every unknown is found by bisection on a bracket (common.stats.power.search) of the exact
power: a bounded number of steps whatever the inputs. Sizes run from MIN_ARM units per arm to
MAX_ARM per control arm; the mde is searched from a millionth to a million times the normal
approximation's, never past a rate of 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from common.stats import distributions as dist
from common.stats.power import means, proportions, rejection
from common.stats.power.model import MAX_ARM, MIN_ARM, Assumptions, PowerQuery, PowerResult
from common.stats.power.search import increasing_root
from common.validation import InvalidInput

_BRACKET = 1e6  # the mde search's reach either side of the normal approximation
_ROUNDING = 1e-9  # an exact size a hair above a whole number is that number


def solve(q: PowerQuery) -> PowerResult:
    kind = proportions if q.metric == "proportion" else means
    method = q.chosen_method

    def power_at(n: float, delta: float) -> float:
        return rejection.probability(kind.statistic(q, method, delta), n, q)

    absolute = None
    if q.mde is not None:
        absolute = q.mde * q.baseline if q.relative else q.mde
    message = None
    power = q.power
    if q.n_per_arm is None:
        n, message = _sample_size(lambda n: power_at(n, absolute), q)
        solved = "n_per_arm"
    elif absolute is None:
        n = q.n_per_arm
        absolute, message = _detectable(lambda delta: power_at(n, delta), q, kind.unit_sd(q))
        solved = "mde"
    else:
        n = q.n_per_arm
        power = power_at(n, absolute)
        solved = "power"
    effect = None if absolute is None else kind.effect_size(q, absolute)
    sizes = (_whole(n), *(_whole(q.ratio * n) for _ in range(q.comparisons)))
    days = None
    if q.daily_traffic is not None:
        days = _whole(n * q.units_per_control_unit / q.daily_traffic)
    return PowerResult(
        solved_for=solved,
        method=method,
        n_per_arm=sizes[0],
        n_per_arm_exact=n,
        arm_sizes=sizes,
        total=sum(sizes),
        days=days,
        mde_absolute=absolute,
        mde_relative=_relative(absolute, q.baseline),
        effect_size=effect,
        power=power,
        alpha=q.alpha,
        assumptions=_assumptions(q, method, power),
        message=message,
    )


def _sample_size(power_at: Callable[[float], float], q: PowerQuery) -> tuple[float, str | None]:
    smallest = max(MIN_ARM, MIN_ARM / q.ratio)  # every arm gets MIN_ARM units
    if power_at(smallest) >= q.power:
        return smallest, f"the smallest arms ({MIN_ARM:.0f} units) already reach that power"
    if power_at(MAX_ARM) < q.power:
        raise InvalidInput("mde", f"too small to detect with up to {MAX_ARM:.0e} units per arm")
    return increasing_root(lambda n: power_at(n) - q.power, smallest, MAX_ARM), None


def _detectable(
    power_at: Callable[[float], float], q: PowerQuery, unit_sd: float
) -> tuple[float | None, str | None]:
    """The smallest increase over the baseline reaching the power (None if none in range)."""
    tail = q.alpha_per_comparison / (2 if q.sided == "two-sided" else 1)
    shift = float(dist.norm_ppf(q.power)) - float(dist.norm_ppf(tail))
    guess = shift * unit_sd * math.sqrt((1 + 1 / q.ratio) / q.n_per_arm)
    hi = guess * _BRACKET
    if q.metric == "proportion":
        hi = min(hi, 1 - q.baseline)
    lo = min(guess / _BRACKET, hi / 2)
    if power_at(hi) < q.power:
        return None, "no increase over the baseline reaches that power at this size"
    if power_at(lo) >= q.power:
        return lo, None
    return increasing_root(lambda delta: power_at(delta) - q.power, lo, hi), None


def _relative(absolute: float | None, baseline: float) -> float | None:
    """The mde as a share of the baseline: None at a baseline of 0, or one so near 0 that the
    share exceeds a float (a mean of 1e-300 and an mde of 1)."""
    if absolute is None or baseline == 0:
        return None
    share = absolute / baseline
    return share if math.isfinite(share) else None


def _whole(x: float) -> int:
    return math.ceil(x * (1 - _ROUNDING))


def _assumptions(q: PowerQuery, method: str, power: float) -> Assumptions:
    share = 1 / q.units_per_control_unit
    return Assumptions(
        method=method,
        alpha=q.alpha,
        alpha_per_comparison=q.alpha_per_comparison,
        power=power,
        sided=q.sided,
        arms=q.arms,
        correction=q.correction,
        ratio=q.ratio,
        allocation=(share, *(q.ratio * share for _ in range(q.comparisons))),
        sequential_tuning=q.sequential_tuning,
        daily_traffic=q.daily_traffic,
    )
