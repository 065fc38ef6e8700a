"""One experiment definition as a client writes it, and the rules it must satisfy.

    {"experiment_id": "free_shipping_banner", "hypothesis": "...",
     "variants": [{"name": "control", "weight": 0.5}, {"name": "banner", "weight": 0.5}],
     "start_date": "2026-12-01", "end_date": "2026-12-28" | null,
     "primary_metric": "conversion", "secondary_metrics": ["revenue_per_user"],
     "guardrails": [{"metric": "revenue_per_user", "direction": "increase", "margin": 0.02}],
     "dimensions": ["country"]}

Metrics are those the marts compute per user (``MART_METRICS``); a metric has one role. A
guardrail's margin is the analysis' non-inferiority margin (relative to the control mean), its
direction the one in which the metric gets better. Dimensions are the breakdowns the marts hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.experiments import MART_METRICS, ExperimentDefinition, check_weights
from common.stats.breakdown import DIMENSIONS
from common.stats.inputs import DIRECTIONS
from common.validation import (
    InvalidInput,
    choice,
    identifier,
    iso_date,
    known_fields,
    name,
    positive,
    probability,
)

MAX_VARIANTS = 10
FIELDS = (
    "experiment_id",
    "hypothesis",
    "variants",
    "start_date",
    "end_date",
    "primary_metric",
    "secondary_metrics",
    "guardrails",
    "dimensions",
)
REQUIRED = ("experiment_id", "hypothesis", "variants", "start_date", "primary_metric")


@dataclass(frozen=True)
class Guardrail:
    metric: str
    direction: str  # the direction in which the metric gets better
    margin: float | None  # None: only a significant harm blocks


@dataclass(frozen=True)
class DefinitionSpec:
    experiment_id: str
    hypothesis: str
    variants: tuple[str, ...]  # the control first
    weights: tuple[float, ...]
    start_date: date
    end_date: date | None  # inclusive; None: runs until an end is set
    primary_metric: str
    secondary_metrics: tuple[str, ...]
    guardrails: tuple[Guardrail, ...]
    dimensions: tuple[str, ...]

    @property
    def experiment(self) -> ExperimentDefinition:
        return ExperimentDefinition(
            self.experiment_id,
            self.variants,
            self.weights,
            self.start_date,
            self.end_date,
            self.primary_metric,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "hypothesis": self.hypothesis,
            "variants": [
                {"name": v, "weight": w} for v, w in zip(self.variants, self.weights, strict=True)
            ],
            "start_date": self.start_date.isoformat(),
            "end_date": None if self.end_date is None else self.end_date.isoformat(),
            "primary_metric": self.primary_metric,
            "secondary_metrics": list(self.secondary_metrics),
            "guardrails": [
                {"metric": g.metric, "direction": g.direction, "margin": g.margin}
                for g in self.guardrails
            ],
            "dimensions": list(self.dimensions),
        }


def parse_definition(body: Any) -> DefinitionSpec:
    """A full definition (a POST body, or a stored version); 400 naming the first bad field."""
    data = known_fields(body, "", FIELDS)
    for field in REQUIRED:
        if field not in data:
            raise InvalidInput(field, "is required")
    variants, weights = _variants(data["variants"])
    start = iso_date(data["start_date"], "start_date")
    end = None if data.get("end_date") is None else iso_date(data["end_date"], "end_date")
    if end is not None and end < start:
        raise InvalidInput("end_date", "must be on or after start_date")
    primary = choice(data["primary_metric"], "primary_metric", MART_METRICS)
    others = tuple(m for m in MART_METRICS if m != primary)
    # A metric has one role: without secondary_metrics, every metric but the primary and the
    # guardrails is secondary.
    given = "secondary_metrics" in data
    secondary = _distinct(data.get("secondary_metrics", []), "secondary_metrics", others)
    guardrails = _guardrails(
        data.get("guardrails", []), tuple(m for m in others if m not in secondary)
    )
    if not given:
        secondary = tuple(m for m in others if m not in {g.metric for g in guardrails})
    dimensions = _distinct(data.get("dimensions", list(DIMENSIONS)), "dimensions", DIMENSIONS)
    return DefinitionSpec(
        identifier(data["experiment_id"], "experiment_id"),
        name(data["hypothesis"], "hypothesis"),
        variants,
        weights,
        start,
        end,
        primary,
        secondary,
        guardrails,
        dimensions,
    )


def _variants(raw: Any) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_VARIANTS:
        raise InvalidInput("variants", f"must be a list of 2 to {MAX_VARIANTS} variants")
    names, weights = [], []
    for i, item in enumerate(raw):
        field = f"variants[{i}]"
        data = known_fields(item, field, ("name", "weight"))
        names.append(name(data.get("name"), f"{field}.name"))
        weights.append(probability(data.get("weight"), f"{field}.weight"))
    try:
        check_weights(names, weights)
    except ValueError as exc:
        raise InvalidInput("variants", str(exc)) from None
    return tuple(names), tuple(weights)


def _distinct(raw: Any, field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A list of distinct names out of ``allowed``."""
    if not isinstance(raw, list) or len(raw) > len(allowed):
        raise InvalidInput(field, f"must be a list of distinct values out of {', '.join(allowed)}")
    chosen = tuple(choice(v, f"{field}[{i}]", allowed) for i, v in enumerate(raw))
    if len(set(chosen)) != len(chosen):
        raise InvalidInput(field, "must not repeat a value")
    return chosen


def _guardrails(raw: Any, allowed: tuple[str, ...]) -> tuple[Guardrail, ...]:
    """Each on a mart metric that is neither the primary nor a secondary one."""
    if not isinstance(raw, list) or len(raw) > len(MART_METRICS):
        raise InvalidInput(
            "guardrails", f"must be a list of at most {len(MART_METRICS)} guardrails"
        )
    guardrails = []
    for i, item in enumerate(raw):
        field = f"guardrails[{i}]"
        data = known_fields(item, field, ("metric", "direction", "margin"))
        metric = data.get("metric")
        if metric not in allowed:
            rule = f"must be a metric without another role, one of {', '.join(allowed) or 'none'}"
            raise InvalidInput(f"{field}.metric", rule)
        margin = data.get("margin")
        guardrails.append(
            Guardrail(
                metric,
                choice(data.get("direction", "increase"), f"{field}.direction", DIRECTIONS),
                None if margin is None else positive(margin, f"{field}.margin"),
            )
        )
    if len({g.metric for g in guardrails}) != len(guardrails):
        raise InvalidInput("guardrails", "must not repeat a metric")
    return tuple(guardrails)


def merged(current: DefinitionSpec, changes: Mapping[str, Any]) -> DefinitionSpec:
    """The definition a PATCH body asks for: its fields replace the current ones. A new primary
    metric or new guardrails without secondary_metrics leave every other metric secondary."""
    known_fields(changes, "", FIELDS)
    base = current.as_json()
    if {"primary_metric", "guardrails"} & set(changes) and "secondary_metrics" not in changes:
        del base["secondary_metrics"]
    return parse_definition({**base, **changes})


def changed_fields(old: DefinitionSpec, new: DefinitionSpec) -> tuple[str, ...]:
    before, after = old.as_json(), new.as_json()
    return tuple(f for f in FIELDS if before[f] != after[f])
