"""What the validation gates measure in the marts, on DuckDB and BigQuery alike.

Table and column names come from code (common.marts, the feature spec), never from an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from common.experiments import stored_definitions
from common.marts import MARTS
from common.ml.features import FeatureSpec
from common.warehouse import Warehouse

_LABELS = {"component": "pipeline-validate"}


def row_counts(warehouse: Warehouse, schema: str) -> dict[str, int]:
    """Rows of every mart of the build's data: an empty one, or one that jumps in size, fails
    validation."""
    sql = " union all ".join(
        f"select '{mart}' as mart, count(*) as n from {schema}.{mart}"  # noqa: S608
        for mart in MARTS
    )
    rows = warehouse.query(sql, labels=_LABELS).table.to_pylist()
    return {row["mart"]: int(row["n"]) for row in sorted(rows, key=lambda r: r["mart"])}


@dataclass(frozen=True)
class FeatureProfile:
    rows: int
    label_rate: float | None
    label_nulls: int
    nulls: dict[str, int]
    minimum: dict[str, float | None]  # numeric features only
    maximum: dict[str, float | None]


def feature_profile(warehouse: Warehouse, schema: str, spec: FeatureSpec) -> FeatureProfile:
    columns = [
        "count(*) as n_rows",
        f"avg({spec.label}) as label_rate",
        f"count(*) - count({spec.label}) as label_nulls",
    ]
    for feature in spec.features:
        columns.append(f"count(*) - count({feature.name}) as {feature.name}__nulls")
        if feature.kind == "numeric":
            columns.append(f"min({feature.name}) as {feature.name}__min")
            columns.append(f"max({feature.name}) as {feature.name}__max")
    sql = f"select {', '.join(columns)} from {schema}.{spec.table}"  # noqa: S608
    row = warehouse.query(sql, labels=_LABELS).table.to_pylist()[0]
    numeric = [f.name for f in spec.features if f.kind == "numeric"]
    return FeatureProfile(
        rows=int(row["n_rows"]),
        label_rate=None if row["label_rate"] is None else float(row["label_rate"]),
        label_nulls=int(row["label_nulls"]),
        nulls={f.name: int(row[f"{f.name}__nulls"]) for f in spec.features},
        minimum={name: _number(row[f"{name}__min"]) for name in numeric},
        maximum={name: _number(row[f"{name}__max"]) for name in numeric},
    )


@dataclass(frozen=True)
class ExperimentSplit:
    experiment_id: str
    variants: tuple[str, ...]
    weights: tuple[float, ...]
    units: tuple[int, ...]  # exposed users per variant, in the order of ``variants``


def running_experiments(warehouse: Warehouse, schema: str, on: date) -> list[ExperimentSplit]:
    """Experiments running on ``on`` with their planned split and the users assigned so far."""
    running = [e for e in stored_definitions(warehouse, schema, _LABELS) if e.runs_on(on)]
    sql = (
        "select experiment_id, variant, count(*) as units "  # noqa: S608
        f"from {schema}.ab_assignments group by experiment_id, variant"
    )
    rows = warehouse.query(sql, labels=_LABELS).table.to_pylist()
    units = {(row["experiment_id"], row["variant"]): int(row["units"]) for row in rows}
    return [
        ExperimentSplit(
            e.experiment_id,
            e.variants,
            e.weights,
            tuple(units.get((e.experiment_id, v), 0) for v in e.variants),
        )
        for e in running
    ]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
