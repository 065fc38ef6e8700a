"""Experiments as the warehouse holds them: the definition in the experiments marts (read through
``common.experiments``), the day the marts were built (``ab_experiments``), the sufficient
statistics in ``ab_metrics``, their breakdowns in ``ab_metrics_by_dimension`` and their
cumulative values day by day in ``ab_metrics_cumulative``, in the marts schema/dataset; and how
those become the engine's input.

Every value travels as a bound parameter; ``marts`` comes from configuration only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, Literal

from common.definitions.spec import Guardrail
from common.errors import NotFound
from common.experiments import ExperimentDefinition, stored_definition, stored_definitions
from common.reporting_time import today
from common.stats.inputs import Experiment, Metric, Moments, Options, Variant
from common.warehouse import Warehouse

# ab_metrics names its statistics after Moments' fields; its other columns are the keys.
_MOMENTS = frozenset(field.name for field in fields(Moments))
_KINDS = {"conversion": "proportion"}  # every other ab_metrics metric is a per-user mean
_LABELS = {"function": "abtest"}


AsOfSource = Literal["marts_built", "today"]


class ExperimentNotFound(NotFound):
    field = "experiment_id"

    def __init__(self, experiment_id: str, known: tuple[str, ...] = ()):
        listed = ", ".join(known) if known else "none"
        super().__init__(
            f"no experiment {experiment_id!r} in the warehouse; known experiments: {listed}",
            known=known,
        )
        self.experiment_id = experiment_id


@dataclass(frozen=True)
class StoredExperiment:
    """An experiment's definition and its ab_metrics rows, by (variant, metric)."""

    definition: ExperimentDefinition
    moments: Mapping[tuple[str, str], Moments]
    guardrails: tuple[Guardrail, ...] = ()  # the definitions store's (common.definitions)

    def guarded(self, guardrails: tuple[Guardrail, ...]) -> StoredExperiment:
        return replace(self, guardrails=guardrails)

    def engine_input(self, options: Options) -> Experiment:
        """The arms in their planned order (control first) with the definition's weights,
        the primary metric first, the guardrails with their direction and margin; an arm
        nobody reached counts 0."""
        primary = self.definition.primary_metric
        found = {metric for _, metric in self.moments}
        metric_names = sorted(found | {primary}, key=lambda m: (m != primary, m))
        guarding = {g.metric: g for g in self.guardrails}
        metrics = tuple(
            Metric(m, _KINDS.get(m, "mean"), "guardrail", guarding[m].direction, guarding[m].margin)
            if m in guarding
            else Metric(m, _KINDS.get(m, "mean"), "primary" if m == primary else "secondary")
            for m in metric_names
        )
        variants = tuple(
            Variant(v, {m: self.moments.get((v, m), Moments(0.0, 0.0)) for m in metric_names})
            for v in self.definition.variants
        )
        return Experiment(variants, metrics, replace(options, weights=self.definition.weights))


@dataclass(frozen=True)
class Catalog:
    """Every defined experiment, and the day their status is reported on: the day the marts
    were built, or today in the reporting time zone when the warehouse does not say."""

    definitions: tuple[ExperimentDefinition, ...]
    as_of: date
    as_of_source: AsOfSource

    def definition(self, experiment_id: str) -> ExperimentDefinition:
        known = {d.experiment_id: d for d in self.definitions}
        if experiment_id not in known:
            raise ExperimentNotFound(experiment_id, tuple(known))
        return known[experiment_id]


def catalog(warehouse: Warehouse, marts: str, time_zone: str) -> Catalog:
    definitions = stored_definitions(warehouse, marts, _LABELS)
    sql = f"select max(built_on) as built_on from {marts}.ab_experiments"  # noqa: S608
    built_on = warehouse.query(sql, labels=_LABELS).table.to_pylist()[0]["built_on"]
    if built_on is None:  # no experiment, or the marts were never built
        return Catalog(definitions, today(time_zone), "today")
    return Catalog(definitions, built_on, "marts_built")


def experiment_definition(
    warehouse: Warehouse, marts: str, experiment_id: str
) -> ExperimentDefinition:
    found = stored_definition(warehouse, marts, experiment_id, _LABELS)
    if found is None:  # read the others only now: the error lists them
        known = tuple(d.experiment_id for d in stored_definitions(warehouse, marts, _LABELS))
        raise ExperimentNotFound(experiment_id, known)
    return found


def stored_experiment(warehouse: Warehouse, marts: str, experiment_id: str) -> StoredExperiment:
    """The experiment's definition and every ab_metrics row it has."""
    definition = experiment_definition(warehouse, marts, experiment_id)
    p = warehouse.placeholder("experiment_id")
    sql = f"select * from {marts}.ab_metrics where experiment_id = {p}"  # noqa: S608
    rows = warehouse.query(sql, {"experiment_id": experiment_id}, labels=_LABELS)
    moments = {(row["variant"], row["metric"]): _moments(row) for row in rows.table.to_pylist()}
    return StoredExperiment(definition, moments)


@dataclass(frozen=True)
class StoredBreakdown:
    """An experiment's ab_metrics_by_dimension rows for one dimension, one StoredExperiment per
    dimension value, the values with the most units first and 'other' last."""

    dimension: str
    values: tuple[tuple[str, StoredExperiment], ...]

    def guarded(self, guardrails: tuple[Guardrail, ...]) -> StoredBreakdown:
        """Every value analysed with the experiment's guardrails, as the whole experiment is."""
        return replace(self, values=tuple((v, s.guarded(guardrails)) for v, s in self.values))


def stored_breakdown(
    warehouse: Warehouse, marts: str, experiment_id: str, dimension: str
) -> StoredBreakdown:
    definition = experiment_definition(warehouse, marts, experiment_id)
    p, q = warehouse.placeholder("experiment_id"), warehouse.placeholder("dimension")
    sql = (
        f"select * from {marts}.ab_metrics_by_dimension "  # noqa: S608
        f"where experiment_id = {p} and dimension = {q}"
    )
    params = {"experiment_id": experiment_id, "dimension": dimension}
    moments: dict[str, dict[tuple[str, str], Moments]] = {}
    units: dict[str, float] = {}
    for row in warehouse.query(sql, params, labels=_LABELS).table.to_pylist():
        value, key = row["dimension_value"], (row["variant"], row["metric"])
        moments.setdefault(value, {})[key] = _moments(row)
        if row["metric"] == definition.primary_metric:  # every metric counts every user
            units[value] = units.get(value, 0.0) + float(row["n"])
    order = sorted(moments, key=lambda v: (v == "other", -units.get(v, 0.0), v))
    return StoredBreakdown(
        dimension, tuple((v, StoredExperiment(definition, moments[v])) for v in order)
    )


@dataclass(frozen=True)
class StoredTimeline:
    """An experiment's ab_metrics_cumulative rows: one StoredExperiment per day, in order."""

    definition: ExperimentDefinition
    days: tuple[tuple[date, StoredExperiment], ...]

    def guarded(self, guardrails: tuple[Guardrail, ...]) -> StoredTimeline:
        """Every day analysed with the experiment's guardrails, as the whole experiment is."""
        return replace(self, days=tuple((d, s.guarded(guardrails)) for d, s in self.days))


def stored_timeline(warehouse: Warehouse, marts: str, experiment_id: str) -> StoredTimeline:
    definition = experiment_definition(warehouse, marts, experiment_id)
    p = warehouse.placeholder("experiment_id")
    sql = (
        f"select * from {marts}.ab_metrics_cumulative "  # noqa: S608
        f"where experiment_id = {p} order by day"
    )
    moments: dict[date, dict[tuple[str, str], Moments]] = {}
    for row in warehouse.query(
        sql, {"experiment_id": experiment_id}, labels=_LABELS
    ).table.to_pylist():
        moments.setdefault(row["day"], {})[row["variant"], row["metric"]] = _moments(row)
    return StoredTimeline(
        definition,
        tuple((day, StoredExperiment(definition, by_arm)) for day, by_arm in moments.items()),
    )


def _moments(row: Mapping[str, Any]) -> Moments:
    return Moments(**{k: float(v) for k, v in row.items() if k in _MOMENTS and v is not None})
