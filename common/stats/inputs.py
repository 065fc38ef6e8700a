"""What the engine takes in: sufficient statistics per arm and metric, and the analysis options.

The numeric fields of ``Moments`` may be floats or numpy arrays (one element per experiment):
every kernel computes elementwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from common.stats.quantiles import QuantileArm

MetricKind = Literal["proportion", "mean", "ratio", "quantile"]
Role = Literal["primary", "secondary", "guardrail"]
Direction = Literal["increase", "decrease"]
Sided = Literal["two-sided", "greater", "less"]  # H1 about treatment - control
Correction = Literal["none", "bonferroni", "holm", "bh"]
Scale = Literal["relative", "absolute"]
BayesianModel = Literal["gaussian", "beta_binomial"]
Spending = Literal["obrien_fleming", "pocock", "power"]  # group-sequential alpha spending

METRIC_KINDS: tuple[MetricKind, ...] = ("proportion", "mean", "ratio", "quantile")
ROLES: tuple[Role, ...] = ("primary", "secondary", "guardrail")
DIRECTIONS: tuple[Direction, ...] = ("increase", "decrease")
SIDES: tuple[Sided, ...] = ("two-sided", "greater", "less")
CORRECTIONS: tuple[Correction, ...] = ("none", "bonferroni", "holm", "bh")
SCALES: tuple[Scale, ...] = ("relative", "absolute")
BAYESIAN_MODELS: tuple[BayesianModel, ...] = ("gaussian", "beta_binomial")
SPENDINGS: tuple[Spending, ...] = ("obrien_fleming", "pocock", "power")
MAX_ARMS = 20


@dataclass(frozen=True)
class RatioCovariate:
    """The pre-period ratio Σx/Σe of a ratio metric Σy/Σd, with the sums ``Moments`` lacks.

    ``Moments`` carries the post-period y and d and the pre-period numerator x
    (covariate_sum Σx, covariate_sum_squares Σx², cross_product_sum Σxy); these complete the
    sums of products of (y, d, x, e) the multivariate delta method needs.
    """

    e_sum: float  # Σe
    e_squares: float  # Σe²
    xe_sum: float  # Σxe
    ye_sum: float  # Σye
    de_sum: float  # Σde
    dx_sum: float  # Σdx


@dataclass(frozen=True)
class Moments:
    """One arm's sufficient statistics for one metric y (per unit, summed over n units).

    A proportion needs only n and sum (successes); a mean adds sum_squares; CUPED adds the
    pre-period covariate x; a ratio metric Σy/Σd adds its denominator d, and its CUPED takes the
    pre-period ratio Σx/Σe (x in the covariate sums, the rest in ``ratio_covariate``).
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
    ratio_covariate: RatioCovariate | None = None  # CUPED of a ratio metric: pre-period Σx/Σe
    values: tuple[float, ...] | None = None  # raw per-unit y, for Mann-Whitney

    @property
    def squares(self) -> float:
        return self.sum if self.sum_squares is None else self.sum_squares

    @property
    def has_covariate(self) -> bool:
        return self.covariate_sum is not None


@dataclass(frozen=True)
class Cap:
    """Values above ``value``, or above the ``quantile`` of both compared arms' values pooled
    (over the non-zero ones with ignore_zeros), count as that threshold (``capping``)."""

    value: float | None = None
    quantile: float | None = None
    ignore_zeros: bool = False


@dataclass(frozen=True)
class Metric:
    name: str
    kind: MetricKind
    role: Role = "secondary"
    direction: Direction = "increase"
    # Non-inferiority margin of a guardrail, relative to the control mean: 0.02 accepts up to 2%
    # worse (in the direction's bad sense). None: only a significant harm blocks.
    margin: float | None = None
    cap: Cap | None = None  # winsorise a mean metric's raw values before the test


@dataclass(frozen=True)
class Variant:
    name: str
    metrics: Mapping[str, Moments | QuantileArm]  # a QuantileArm for a quantile metric
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
class GroupSequentialOptions:
    """A design of planned looks; the analysis is look ``look`` of it."""

    information_fractions: tuple[float, ...]  # of every planned look, increasing, in (0, 1]
    look: int  # 1-based
    spending: Spending = "obrien_fleming"
    rho: float = 3.0  # the power spending's exponent (Spotify's default)


@dataclass(frozen=True)
class BayesianOptions:
    """A Gaussian prior on the relative lift; prior_sd None means a flat (improper) prior."""

    prior_mean: float = 0.0
    prior_sd: float | None = None
    # beta_binomial: Jeffreys' Beta priors on each arm's rate (proportions only; no prior_*).
    model: BayesianModel = "gaussian"


@dataclass(frozen=True)
class Options:
    alpha: float = 0.05
    sided: Sided = "two-sided"
    # The scale of the test and of the interval it inverts: the relative lift (GrowthBook's
    # default; comparable across metrics) or treatment - control (statsmodels, Spotify).
    scale: Scale = "relative"
    correction: Correction = "holm"
    sequential: SequentialOptions | None = None
    group_sequential: GroupSequentialOptions | None = None  # exclusive with sequential
    cuped: bool = True  # applied wherever covariate statistics are given
    fisher: bool = False  # Fisher's exact test as an extra read-out of proportion metrics
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
