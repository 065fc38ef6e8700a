"""The cumulative effect over time: the analysis POST /ab/analyze {experiment_id} answers, run
on each day's cumulative statistics (``warehouse_source.stored_timeline``), so that a day's
point is what the read-out said with the data up to that day, and the last day's is today's.

Every day is analysed whole (every metric and treatment), so the correction across them, and
with it ``p_value_adjusted`` and ``significant``, is the full read-out's even when the answer
keeps one metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from common.experiments import MART_METRICS
from common.stats.analyze import analyze
from common.stats.decision import GuardrailVerdict, guardrail_verdict
from common.stats.inputs import SCALES, Direction, MetricKind, Options, Role, Scale
from common.stats.results import Bound, Comparison
from common.validation import choice, known_fields

if TYPE_CHECKING:
    from common.stats.warehouse_source import StoredTimeline

QUERY = ("metric", "scale", "cuped")
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class TimelineRequest:
    metric: str | None  # None: every metric
    options: Options  # POST /ab/analyze's defaults, but for scale and cuped when given


def timeline_request(args: Mapping[str, str]) -> TimelineRequest:
    """Query parameters metric, scale (relative, absolute) and cuped (true, false)."""
    known_fields(args, "", QUERY)
    metric = choice(args["metric"], "metric", MART_METRICS) if "metric" in args else None
    options = Options()
    if "scale" in args:
        options = replace(options, scale=choice(args["scale"], "scale", SCALES))
    if "cuped" in args:
        cuped = choice(args["cuped"], "cuped", tuple(_BOOLEANS))
        options = replace(options, cuped=_BOOLEANS[cuped])
    return TimelineRequest(metric, options)


@dataclass(frozen=True)
class Point:
    """One day: the arms' users and means so far, and the lift on the series' scale."""

    day: date
    control_n: float
    treatment_n: float
    control_mean: float | None
    treatment_mean: float | None
    estimate: float | None
    ci_lower: Bound
    ci_upper: Bound
    ci_level: float
    p_value: float
    p_value_adjusted: float
    significant: bool
    guardrail_verdict: GuardrailVerdict | None  # None but for a guardrail


@dataclass(frozen=True)
class Series:
    """One treatment against the control on one metric, day by day."""

    metric: str
    variant: str
    kind: MetricKind
    role: Role
    direction: Direction
    margin: float | None  # a guardrail's non-inferiority margin, relative to the control mean
    scale: Scale
    unit: str  # of estimate and its bounds: ratio (a relative lift), else the metric's unit
    points: tuple[Point, ...]


def cumulative_effect(
    stored: StoredTimeline, wanted: TimelineRequest, units: Mapping[str, str]
) -> tuple[Series, ...]:
    """units: each metric's unit (``common.experiments.mart_metric_units``)."""
    points: dict[tuple[str, str], list[Point]] = {}
    last: dict[tuple[str, str], Comparison] = {}
    for day, experiment in stored.days:
        analysis = analyze(experiment.engine_input(wanted.options))
        for c in analysis.comparisons:
            if wanted.metric in (None, c.metric):
                points.setdefault((c.metric, c.variant), []).append(_point(day, c))
                last[c.metric, c.variant] = c
    return tuple(
        Series(
            metric,
            variant,
            c.kind,
            c.role,
            c.direction,
            c.margin,
            c.scale,
            "ratio" if c.scale == "relative" else units[metric],
            tuple(points[metric, variant]),
        )
        for (metric, variant), c in last.items()
    )


def _point(day: date, c: Comparison) -> Point:
    reported = c.reported
    return Point(
        day,
        c.control.n,
        c.treatment.n,
        c.control.mean,
        c.treatment.mean,
        reported.estimate,
        *reported.ci,
        c.ci_level,
        c.p_value,
        c.p_value_adjusted,
        c.significant,
        guardrail_verdict(c),
    )
