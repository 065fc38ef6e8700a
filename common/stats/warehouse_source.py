"""Experiments as the warehouse holds them: the definition in ``experiments`` (the dbt seed) and
the sufficient statistics in ``ab_metrics``, both in the marts schema/dataset.

The experiment id travels as a bound parameter; ``marts`` comes from configuration only.
"""

from __future__ import annotations

from dataclasses import replace

from common.errors import NotFound
from common.stats.inputs import Experiment, Metric, Moments, Options, Variant
from common.warehouse import Warehouse

# ab_metrics columns, in Moments' names.
_STAT_COLUMNS = (
    "n",
    "sum",
    "sum_squares",
    "covariate_sum",
    "covariate_sum_squares",
    "cross_product_sum",
)
_KINDS = {"conversion": "proportion"}  # every other ab_metrics metric is a per-user mean
_LABELS = {"function": "abtest"}


class ExperimentNotFound(NotFound):
    field = "experiment_id"

    def __init__(self, experiment_id: str):
        super().__init__(f"no experiment {experiment_id!r} in the warehouse")
        self.experiment_id = experiment_id


def experiment_arms(
    warehouse: Warehouse, marts: str, experiment_id: str
) -> tuple[tuple[str, ...], tuple[float, ...], str]:
    """Variant names and weights in their planned order, and the primary metric."""
    p = warehouse.placeholder("experiment_id")
    sql = (
        "select variants, weights, primary_metric "  # noqa: S608 - marts is configuration
        f"from {marts}.experiments where experiment_id = {p}"
    )
    rows = warehouse.query(sql, {"experiment_id": experiment_id}, labels=_LABELS)
    found = rows.table.to_pylist()
    if not found:
        raise ExperimentNotFound(experiment_id)
    row = found[0]
    variants = tuple(v.strip() for v in row["variants"].split("|"))
    weights = tuple(float(w) for w in row["weights"].split("|"))
    return variants, weights, row["primary_metric"]


def load_experiment(
    warehouse: Warehouse, marts: str, experiment_id: str, options: Options
) -> Experiment:
    """The experiment's arms (control first) and metrics; an arm nobody reached counts 0."""
    names, weights, primary = experiment_arms(warehouse, marts, experiment_id)
    p = warehouse.placeholder("experiment_id")
    sql = (
        f"select variant, metric, {', '.join(_STAT_COLUMNS)} "  # noqa: S608 - as above
        f"from {marts}.ab_metrics where experiment_id = {p} order by metric"
    )
    rows = warehouse.query(sql, {"experiment_id": experiment_id}, labels=_LABELS)
    stats: dict[str, dict[str, Moments]] = {}
    for row in rows.table.to_pylist():
        values = {k: float(row[k]) for k in _STAT_COLUMNS if row[k] is not None}
        stats.setdefault(row["variant"], {})[row["metric"]] = Moments(**values)
    found = {m for arm in stats.values() for m in arm}
    metric_names = sorted(found | {primary}, key=lambda m: (m != primary, m))
    metrics = tuple(
        Metric(m, _KINDS.get(m, "mean"), "primary" if m == primary else "secondary")
        for m in metric_names
    )
    variants = tuple(
        Variant(v, {m: stats.get(v, {}).get(m, Moments(0.0, 0.0)) for m in metric_names})
        for v in names
    )
    return Experiment(variants, metrics, replace(options, weights=weights))
