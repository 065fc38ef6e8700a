"""What a power question is and what its answer says: frozen dataclasses, no arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Metric = Literal["proportion", "mean"]
Method = Literal["pooled", "unpooled", "arcsine", "delta", "t", "z"]
Sided = Literal["two-sided", "one-sided"]
Correction = Literal["bonferroni", "none"]

METHODS: dict[str, tuple[Method, ...]] = {  # the first is the default
    "proportion": ("pooled", "unpooled", "arcsine", "delta"),
    "mean": ("t", "z", "delta"),
}
SIDES: tuple[Sided, ...] = ("two-sided", "one-sided")
CORRECTIONS: tuple[Correction, ...] = ("bonferroni", "none")
MIN_ARM = 2.0  # units in the smallest arm: a variance needs two
MAX_ARM = 1e15  # units in an arm; beyond it an effect counts as undetectable


@dataclass(frozen=True)
class PowerQuery:
    baseline: float  # conversion rate, or mean of a "mean" metric
    metric: Metric = "proportion"
    sd: float | None = None  # per-unit standard deviation, "mean" metrics only
    mde: float | None = None  # the change to detect (negative: a decrease)
    relative: bool = True  # mde as a share of the baseline, else in the metric's units
    n_per_arm: float | None = None  # the control arm; each treatment arm has ratio times it
    alpha: float = 0.05  # family-wise, over the arms' comparisons with the control
    power: float = 0.8  # the target when solving for n_per_arm or mde
    method: Method | None = None  # None: the metric's default (see chosen_method)
    sided: Sided = "two-sided"  # one-sided: tested in the mde's direction
    ratio: float = 1.0  # units in each treatment arm per control unit
    arms: int = 2  # the control included
    correction: Correction = "bonferroni"
    sequential_tuning: float | None = None  # always-valid (GrowthBook's tuning), else fixed
    daily_traffic: float | None = None  # units entering per day, all arms together

    @property
    def chosen_method(self) -> Method:
        """pooled for proportions; t for means, z under sequential (always-valid is normal)."""
        if self.method is not None:
            return self.method
        if self.metric == "mean" and self.sequential_tuning is not None:
            return "z"
        return METHODS[self.metric][0]

    @property
    def comparisons(self) -> int:
        return self.arms - 1

    @property
    def alpha_per_comparison(self) -> float:
        return self.alpha / self.comparisons if self.correction == "bonferroni" else self.alpha

    @property
    def units_per_control_unit(self) -> float:
        """All arms' units per control unit: what one control unit costs in traffic."""
        return 1 + self.comparisons * self.ratio


@dataclass(frozen=True)
class Assumptions:
    method: Method
    alpha: float
    alpha_per_comparison: float
    power: float  # the target, or the result when solving for power
    sided: Sided
    arms: int
    correction: Correction
    ratio: float
    allocation: tuple[float, ...]  # each arm's share of the traffic, control first
    sequential_tuning: float | None
    daily_traffic: float | None


@dataclass(frozen=True)
class PowerResult:
    solved_for: Literal["n_per_arm", "mde", "power"]
    method: Method
    n_per_arm: int  # the control arm, rounded up (every arm when ratio is 1)
    n_per_arm_exact: float
    arm_sizes: tuple[int, ...]  # control first, rounded up
    total: int
    days: int | None  # with daily_traffic: days to enrol `total`, rounded up
    mde_absolute: float | None  # None: no change in range reaches the power
    mde_relative: float | None
    effect_size: float | None  # Cohen's h (proportions) or d (means) of the mde
    power: float
    alpha: float
    assumptions: Assumptions
    message: str | None = None
