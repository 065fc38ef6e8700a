"""What an analysis returns: frozen dataclasses holding plain Python values only.

Every float is finite or None (null in JSON): undefined quantities are None with a message,
never NaN or infinity, so ``dataclasses.asdict`` of any result is valid JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from common.stats.inputs import Direction, MetricKind, Options, Role, Scale
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
    expected_loss: float | None  # of shipping the treatment, in relative-lift units
    expected_loss_control: float | None  # of keeping the control
    credible_interval: tuple[Bound, Bound]


@dataclass(frozen=True)
class CupedResult:
    theta: float
    variance_reduction: float | None


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
    # relative_z | relative_welch_t | two_proportion_z | welch_t, + "_cuped", + "_sequential"
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
    mde_relative: float | None  # relative lift detectable with options.power at this size
    underpowered: bool | None  # mde_relative > options.mde; None without options.mde
    messages: tuple[str, ...]

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
class Analysis:
    control: str
    variants: tuple[VariantInfo, ...]
    options: Options
    srm: SrmResult
    comparisons: tuple[Comparison, ...]
    decisions: tuple[ShipDecision, ...]  # one per treatment
    decision: ShipDecision  # for the experiment as a whole
