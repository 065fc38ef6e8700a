"""What an analysis returns: frozen dataclasses holding plain Python values only.

Every float is finite or None (null in JSON): undefined quantities are None with a message,
never NaN or infinity, so ``dataclasses.asdict`` of any result is valid JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from common.stats.inputs import BayesianModel, Direction, MetricKind, Options, Role, Scale
from common.stats.srm import SrmResult

Verdict = Literal["SHIP", "DO NOT SHIP", "INCONCLUSIVE"]
Bound = float | None  # None: unbounded or undefined


@dataclass(frozen=True)
class ArmValue:
    n: float
    mean: float | None


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    se: float | None
    ci: tuple[Bound, Bound]  # (None, None) on the block that is not the comparison's scale


@dataclass(frozen=True)
class BayesianResult:
    chance_to_beat_control: float | None
    expected_loss: float | None  # of shipping the treatment, in the scale's units
    expected_loss_control: float | None  # of keeping the control
    credible_interval: tuple[Bound, Bound]
    # gaussian: on the test's estimate and SE; beta_binomial: on the arms' conversion counts
    model: BayesianModel = "gaussian"


@dataclass(frozen=True)
class CupedResult:
    theta: float
    variance_reduction: float | None


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test of the conversion table, asked for with options.fisher.

    A separate read-out: it never changes the comparison's p_value, significant or the
    decision, which come from the comparison's one estimator.
    """

    p_value: float | None  # on options.sided; None when skipped
    odds_ratio: float | None  # the sample cross-product ratio; None when unbounded or 0/0
    conditional_odds_ratio: float | None  # R's fisher.test estimate; None likewise, or skipped
    skipped: str | None  # why the exact test was not computed (a table too large to be worth it)


@dataclass(frozen=True)
class CappingResult:
    threshold: float  # values above it counted as it
    capped_control: int  # how many values each arm had above it
    capped_treatment: int


@dataclass(frozen=True)
class MannWhitneyResult:
    u: float
    p_value: float


@dataclass(frozen=True)
class Comparison:
    """One treatment against the control on one metric."""

    variant: str
    metric: str
    kind: MetricKind
    role: Role
    direction: Direction
    margin: float | None  # a guardrail's non-inferiority margin, relative to the control mean
    # relative_z | relative_welch_t | two_proportion_z | welch_t | z (quantiles), + "_cuped",
    # + "_sequential" or "_group_sequential"
    method: str
    scale: Scale  # the block whose interval inverts the test: its ci excludes 0 iff significant
    ci_level: float  # of that interval: 1 - alpha, or 1 - alpha·p/p_adjusted after a correction
    control: ArmValue
    treatment: ArmValue
    absolute: Interval  # treatment - control
    relative: Interval  # (treatment - control) / control
    statistic: float | None
    df: float | None  # None for z-tests
    p_value: float  # 1.0 where the test is undefined
    p_value_adjusted: float
    significant: bool  # p_value_adjusted <= alpha
    cohens_d: float | None
    mann_whitney: MannWhitneyResult | None
    cuped: CupedResult | None
    bayesian: BayesianResult | None
    fisher: FisherResult | None  # only with options.fisher, for proportions
    capping: CappingResult | None  # only for a metric with a cap
    mde_relative: float | None  # relative lift detectable with options.power at this size
    underpowered: bool | None  # mde_relative > options.mde; None without options.mde
    messages: tuple[str, ...]
    group_sequential: GroupSequentialLook | None = None  # with options.group_sequential

    @property
    def reported(self) -> Interval:
        """The interval of the comparison's scale: the one the test inverts."""
        return self.relative if self.scale == "relative" else self.absolute


@dataclass(frozen=True)
class Reason:
    code: Literal[
        "srm_failed",
        "significant_win",
        "significant_harm",
        "guardrail_harmed",
        "guardrail_not_noninferior",
        "ci_crosses_zero",
        "underpowered",
        "untestable",
    ]
    message: str
    variant: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class ShipDecision:
    verdict: Verdict
    variant: str | None  # the treatment to ship, or the one this decision is about
    reasons: tuple[Reason, ...]
    summary: str


@dataclass(frozen=True)
class VariantInfo:
    name: str
    units: float
    weight: float


@dataclass(frozen=True)
class GroupSequentialLook:
    """The comparison at its planned look; boundaries are on the z scale."""

    look: int  # 1-based
    information_fraction: float
    boundary: float | None  # c_k; None: nothing is spent by this look, no crossing possible
    nominal_alpha: float  # the fixed-horizon level that c_k corresponds to
    alpha_spent: float  # by this look, both sides together
    crossed: bool  # after the correction: equals significant


@dataclass(frozen=True)
class GroupSequentialDesign:
    """Every planned look's boundary (a look's boundary depends only on the looks before)."""

    information_fractions: tuple[float, ...]
    boundaries: tuple[Bound, ...]
    nominal_alpha: tuple[float, ...]
    alpha_spent: tuple[float, ...]  # cumulative


@dataclass(frozen=True)
class Analysis:
    control: str
    variants: tuple[VariantInfo, ...]
    options: Options
    srm: SrmResult
    comparisons: tuple[Comparison, ...]
    decisions: tuple[ShipDecision, ...]  # one per treatment
    decision: ShipDecision  # for the experiment as a whole
    group_sequential: GroupSequentialDesign | None = None  # with options.group_sequential
