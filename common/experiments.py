"""Experiment definitions and their deterministic assignment, shared with dbt.

A definition is read from dbt's ``experiments`` (one row per experiment) and
``experiment_variants`` (one row per experiment and variant, in ``variant_index`` order) models,
built from the definitions store (common.definitions), or from the seed files, the initial
content (``initial_experiments.csv``, ``initial_experiment_variants.csv``), by the generator.

bucket = first 8 bytes of SHA-256("<experiment_id>:<user_id>") as an unsigned big-endian integer
/ 2^64, a number in [0, 1); the variant is the first whose cumulative weight exceeds the bucket.
The SQL of both engines computes the same double: the 64-bit integer is assembled from two
32-bit halves whose sum is rounded to a double once, exactly as Python rounds ``int / 2**64``.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from common.warehouse import Warehouse

_TWO_POW_64 = 2**64

# The metrics ab_metrics computes for every experiment (a definition's primary_metric is one of
# them; tests/data/test_experiment_tables.py keeps this list and the mart equal).
MART_METRICS = ("conversion", "revenue_per_user")


def mart_metric_units(currency: str) -> dict[str, str]:
    """The unit of each one's per-user value: a 0/1 conversion averages to a ratio, revenue to
    money in the shop's currency (its ISO 4217 code)."""
    return {"conversion": "ratio", "revenue_per_user": currency}


SEED_EXPERIMENTS = "initial_experiments.csv"
SEED_VARIANTS = "initial_experiment_variants.csv"

Status = Literal["planned", "running", "finished"]
STATUSES: tuple[Status, ...] = ("planned", "running", "finished")


def hash_bucket(experiment_id: str, user_id: int | str) -> float:
    digest = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _TWO_POW_64


def check_weights(variants: Sequence[str], weights: Sequence[float]) -> None:
    if len(variants) < 2 or len(variants) != len(weights):
        raise ValueError("need at least two variants and one weight per variant")
    if len(set(variants)) != len(variants):
        raise ValueError("variant names must be unique")
    if any(w < 0 for w in weights) or abs(sum(weights) - 1) > 1e-9:
        raise ValueError("weights must be non-negative and sum to 1")


def assign_variant(
    experiment_id: str, user_id: int | str, variants: Sequence[str], weights: Sequence[float]
) -> str:
    check_weights(variants, weights)
    bucket = hash_bucket(experiment_id, user_id)
    for variant, upper in zip(variants, accumulate(weights), strict=True):
        if bucket < upper:
            return variant
    return variants[-1]  # the cumulative sum may round to just under 1


@dataclass(frozen=True)
class ExperimentDefinition:
    experiment_id: str
    variants: tuple[str, ...]  # the control first
    weights: tuple[float, ...]  # one per variant, summing to 1
    start_date: date
    end_date: date | None  # inclusive; None: still running
    primary_metric: str

    def variant(self, user_id: int | str) -> str:
        return assign_variant(self.experiment_id, user_id, self.variants, self.weights)

    @property
    def other_metrics(self) -> tuple[str, ...]:
        return tuple(m for m in MART_METRICS if m != self.primary_metric)

    def runs_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

    def status_on(self, day: date) -> Status:
        if day < self.start_date:
            return "planned"
        return "running" if self.runs_on(day) else "finished"


# The warehouse readers take the caller's query labels: BigQuery bills the job to them.


def stored_definition(
    warehouse: Warehouse, schema: str, experiment_id: str, labels: Mapping[str, str]
) -> ExperimentDefinition | None:
    """The experiment as built into ``schema``; None when there is no such one."""
    p = warehouse.placeholder("experiment_id")
    condition = f"e.experiment_id = {p}"
    found = _stored(warehouse, schema, condition, {"experiment_id": experiment_id}, labels)
    return found[0] if found else None


def stored_definitions(
    warehouse: Warehouse, schema: str, labels: Mapping[str, str]
) -> tuple[ExperimentDefinition, ...]:
    """Every experiment built into ``schema``, by experiment id."""
    return _stored(warehouse, schema, "true", {}, labels)


def seed_definitions(seeds: Path) -> tuple[ExperimentDefinition, ...]:
    """Every experiment of the seed files in the folder ``seeds``, in the files' order."""
    arms: dict[str, list[dict[str, str]]] = {}
    for row in read_csv(seeds / SEED_VARIANTS):
        arms.setdefault(row["experiment_id"], []).append(row)
    return _definitions(
        {**experiment, **arm}
        for experiment in read_csv(seeds / SEED_EXPERIMENTS)
        for arm in sorted(arms.get(experiment["experiment_id"], ()), key=_variant_index)
    )


def _stored(
    warehouse: Warehouse,
    schema: str,
    condition: str,
    params: Mapping[str, Any],
    labels: Mapping[str, str],
) -> tuple[ExperimentDefinition, ...]:
    sql = (
        "select e.experiment_id, e.start_date, e.end_date, e.primary_metric, "  # noqa: S608
        "v.variant, v.weight "
        f"from {schema}.experiments as e "
        f"inner join {schema}.experiment_variants as v on v.experiment_id = e.experiment_id "
        f"where {condition} order by e.experiment_id, v.variant_index"
    )
    return _definitions(warehouse.query(sql, params, labels=labels).table.to_pylist())


def _definitions(rows: Iterable[Mapping[str, Any]]) -> tuple[ExperimentDefinition, ...]:
    """Long-form rows, one per experiment and variant in variant order, as definitions."""
    arms: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        arms.setdefault(row["experiment_id"], []).append(row)
    return tuple(
        ExperimentDefinition(
            experiment_id=experiment_id,
            variants=tuple(arm["variant"] for arm in variants),
            weights=tuple(float(arm["weight"]) for arm in variants),
            start_date=_day(variants[0]["start_date"]),
            end_date=_day(variants[0]["end_date"]),
            primary_metric=variants[0]["primary_metric"],
        )
        for experiment_id, variants in arms.items()
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def _variant_index(row: Mapping[str, str]) -> int:
    return int(row["variant_index"])


def _day(value: date | str | None) -> date | None:
    """A seed file holds ISO dates as text, the warehouse as dates; an empty end is None."""
    if isinstance(value, str):
        return date.fromisoformat(value) if value else None
    return value
