"""What the engine takes in: sufficient statistics per arm and metric, and the analysis options.

The numeric fields of ``Moments`` may be floats or numpy arrays (one element per experiment):
every kernel computes elementwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

MetricKind = Literal["proportion", "mean", "ratio"]
Role = Literal["primary", "secondary", "guardrail"]
Direction = Literal["increase", "decrease"]
Sided = Literal["two-sided", "greater", "less"]  # H1 about treatment - control
Correction = Literal["none", "bonferroni", "holm", "bh"]
Scale = Literal["relative", "absolute"]

METRIC_KINDS: tuple[MetricKind, ...] = ("proportion", "mean", "ratio")
ROLES: tuple[Role, ...] = ("primary", "secondary", "guardrail")
DIRECTIONS: tuple[Direction, ...] = ("increase", "decrease")
SIDES: tuple[Sided, ...] = ("two-sided", "greater", "less")
CORRECTIONS: tuple[Correction, ...] = ("none", "bonferroni", "holm", "bh")
SCALES: tuple[Scale, ...] = ("relative", "absolute")
MAX_ARMS = 20


@dataclass(frozen=True)
class Moments:
    """One arm's sufficient statistics for one metric y (per unit, summed over n units).

    A proportion needs only n and sum (successes); a mean adds sum_squares; CUPED adds the
    pre-period covariate x; a ratio metric Σy/Σd adds its denominator d.
    """

    n: float
    sum: float
    sum_squares: float | None = None  # None for a proportion: Σy² = Σy for 0/1 values
    covariate_sum: float | None = None  # Σx
    covariate_sum_squares: float | None = None  # Σx²
    cross_product_sum: float | None = None  # Σxy
    denominator_sum: float | None = None  # Σd
    denominator_sum_squares: float | None = None  # Σd²
    numerator_denominator_sum: float | None = None  # Σyd
    values: tuple[float, ...] | None = None  # raw per-unit y, for Mann-Whitney

    @property
    def squares(self) -> float:
        return self.sum if self.sum_squares is None else self.sum_squares

    @property
    def has_covariate(self) -> bool:
        return self.covariate_sum is not None


@dataclass(frozen=True)
class Metric:
    name: str
    kind: MetricKind
    role: Role = "secondary"
    direction: Direction = "increase"
    # Non-inferiority margin of a guardrail, relative to the control mean: 0.02 accepts up to 2%
    # worse (in the direction's bad sense). None: only a significant harm blocks.
    margin: float | None = None


@dataclass(frozen=True)
class Variant:
    name: str
    metrics: Mapping[str, Moments]
    units: float | None = None  # assigned units, for SRM; default: the largest metric n

    @property
    def assigned(self) -> float:
        if self.units is not None:
            return self.units
        return max((m.n for m in self.metrics.values()), default=0)


@dataclass(frozen=True)
class SequentialOptions:
    # GrowthBook's tuning parameter: the sample size (both arms) at which the always-valid
    # interval is tightest. Its default is GrowthBook's.
    tuning: float = 5000.0


@dataclass(frozen=True)
class BayesianOptions:
    """A Gaussian prior on the relative lift; prior_sd None means a flat (improper) prior."""

    prior_mean: float = 0.0
    prior_sd: float | None = None


@dataclass(frozen=True)
class Options:
    alpha: float = 0.05
    sided: Sided = "two-sided"
    # The scale of the test and of the interval it inverts: the relative lift (GrowthBook's
    # default; comparable across metrics) or treatment - control (statsmodels, Spotify).
    scale: Scale = "relative"
    correction: Correction = "holm"
    sequential: SequentialOptions | None = None
    cuped: bool = True  # applied wherever covariate statistics are given
    bayesian: BayesianOptions | None = BayesianOptions()
    srm_threshold: float = 0.001
    weights: tuple[float, ...] | None = None  # planned split, in variant order; None: equal
    mde: float | None = None  # relative lift worth detecting; flags underpowered comparisons
    power: float = 0.8  # for the detectable effect reported with each comparison


@dataclass(frozen=True)
class Experiment:
    """Everything one analysis needs; the first variant is the control."""

    variants: tuple[Variant, ...]
    metrics: tuple[Metric, ...]
    options: Options = Options()

    @property
    def weights(self) -> tuple[float, ...]:
        k = len(self.variants)
        return self.options.weights or tuple(1 / k for _ in range(k))

    @property
    def primary(self) -> Metric:
        return next((m for m in self.metrics if m.role == "primary"), self.metrics[0])
