"""Experiments as the warehouse holds them: the definition in the dbt seeds (read through
``common.experiments``) and the sufficient statistics in ``ab_metrics``, in the marts
schema/dataset; and how those become the engine's input.

The experiment id travels as a bound parameter; ``marts`` comes from configuration only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from common.errors import NotFound
from common.experiments import ExperimentDefinition, stored_definition
from common.stats.inputs import Experiment, Metric, Moments, Options, Variant
from common.warehouse import Warehouse

# ab_metrics names its statistics after Moments' fields; its other columns are the keys.
_MOMENTS = frozenset(field.name for field in fields(Moments))
_KINDS = {"conversion": "proportion"}  # every other ab_metrics metric is a per-user mean
_LABELS = {"function": "abtest"}


class ExperimentNotFound(NotFound):
    field = "experiment_id"

    def __init__(self, experiment_id: str):
        super().__init__(f"no experiment {experiment_id!r} in the warehouse")
        self.experiment_id = experiment_id


@dataclass(frozen=True)
class StoredExperiment:
    """An experiment's definition and its ab_metrics rows, by (variant, metric)."""

    definition: ExperimentDefinition
    moments: Mapping[tuple[str, str], Moments]

    def engine_input(self, options: Options) -> Experiment:
        """The arms in their planned order (control first) with the definition's weights,
        the primary metric first; an arm nobody reached counts 0."""
        primary = self.definition.primary_metric
        found = {metric for _, metric in self.moments}
        metric_names = sorted(found | {primary}, key=lambda m: (m != primary, m))
        metrics = tuple(
            Metric(m, _KINDS.get(m, "mean"), "primary" if m == primary else "secondary")
            for m in metric_names
        )
        variants = tuple(
            Variant(v, {m: self.moments.get((v, m), Moments(0.0, 0.0)) for m in metric_names})
            for v in self.definition.variants
        )
        return Experiment(variants, metrics, replace(options, weights=self.definition.weights))


def experiment_definition(
    warehouse: Warehouse, marts: str, experiment_id: str
) -> ExperimentDefinition:
    found = stored_definition(warehouse, marts, experiment_id, _LABELS)
    if found is None:
        raise ExperimentNotFound(experiment_id)
    return found


def stored_experiment(warehouse: Warehouse, marts: str, experiment_id: str) -> StoredExperiment:
    """The experiment's definition and every ab_metrics row it has."""
    definition = experiment_definition(warehouse, marts, experiment_id)
    p = warehouse.placeholder("experiment_id")
    sql = f"select * from {marts}.ab_metrics where experiment_id = {p}"  # noqa: S608
    rows = warehouse.query(sql, {"experiment_id": experiment_id}, labels=_LABELS)
    moments = {(row["variant"], row["metric"]): _moments(row) for row in rows.table.to_pylist()}
    return StoredExperiment(definition, moments)


def _moments(row: Mapping[str, Any]) -> Moments:
    return Moments(**{k: float(v) for k, v in row.items() if k in _MOMENTS and v is not None})
