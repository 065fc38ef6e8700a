"""The definitions dbt builds from: the store's current versions, copied into two tables of
the staging schema before every build (as erasure requests reach dbt, common.privacy), so that
the build only ever reads the warehouse and the warehouse has one writer.

    experiment_definitions          one row per experiment (its current version)
    experiment_definition_variants  one row per experiment and variant, variant_index from 1

The tables are replaced whole inside the build's target (on DuckDB the copy that the build
swaps in). dbt's on-run-start hook creates them empty (dbt_project/macros/experiments.sql, the
same columns); dbt's ``experiments`` model falls back to the seed files only while they are
empty, which a plain ``dbt build`` outside the dbt_build function sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from common.definitions.initial import initial_specs
from common.definitions.store import DefinitionStore, Version
from common.privacy.erasures import STAGING_SCHEMA as SCHEMA
from common.warehouse import Warehouse

_LABELS = {"purpose": "experiment_definitions"}

EXPERIMENTS = "experiment_definitions"
VARIANTS = "experiment_definition_variants"
# Column types per engine, as dbt's macro declares them.
_TYPES = {
    "duckdb": {"text": "varchar", "day": "date", "whole": "bigint", "real": "double"},
    "bigquery": {"text": "string", "day": "date", "whole": "int64", "real": "float64"},
}
_COLUMNS = {
    EXPERIMENTS: (
        ("experiment_id", "text"),
        ("hypothesis", "text"),
        ("start_date", "day"),
        ("end_date", "day"),
        ("primary_metric", "text"),
        ("definition_version", "whole"),
    ),
    VARIANTS: (
        ("experiment_id", "text"),
        ("variant_index", "whole"),
        ("variant", "text"),
        ("weight", "real"),
    ),
}


def prepare_build(
    warehouse: Warehouse, store: DefinitionStore, seeds: Path, at: datetime, project: str | None
) -> int:
    """Import the seed files into a store that never had them, then copy its current
    definitions into the build's staging tables. Returns how many experiments it copied."""
    store.import_initial(initial_specs(seeds), at)
    versions = store.all()
    publish(warehouse, versions, project)
    return len(versions)


def publish(warehouse: Warehouse, versions: Sequence[Version], project: str | None = None) -> None:
    """Replace both tables' rows with ``versions`` (each experiment's current one)."""
    rows = {
        EXPERIMENTS: [
            {
                "experiment_id": v.definition.experiment_id,
                "hypothesis": v.definition.hypothesis,
                "start_date": v.definition.start_date,
                "end_date": v.definition.end_date,
                "primary_metric": v.definition.primary_metric,
                "definition_version": v.version,
            }
            for v in versions
        ],
        VARIANTS: [
            {
                "experiment_id": v.definition.experiment_id,
                "variant_index": i,
                "variant": name,
                "weight": weight,
            }
            for v in versions
            for i, (name, weight) in enumerate(
                zip(v.definition.variants, v.definition.weights, strict=True), start=1
            )
        ],
    }
    types = _TYPES[warehouse.engine]
    if warehouse.engine == "duckdb":
        warehouse.query(f"create schema if not exists {SCHEMA}")
    for table, columns in _COLUMNS.items():
        name = (
            f"`{project}.{SCHEMA}.{table}`"
            if warehouse.engine == "bigquery"
            else f"{SCHEMA}.{table}"
        )
        declared = ", ".join(f"{c} {types[t]}" for c, t in columns)
        warehouse.query(f"create table if not exists {name} ({declared})")
        warehouse.query(f"delete from {name} where true", labels=_LABELS)  # noqa: S608
        if rows[table]:
            _insert(warehouse, name, [(c, types[t]) for c, t in columns], rows[table])


def _insert(
    warehouse: Warehouse, table: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]
) -> None:
    """One statement for every row; each value a bound parameter named after its place, cast
    to its column's type (BigQuery types a null parameter as a string)."""
    params = {f"p{r}_{c}": row[c] for r, row in enumerate(rows) for c, _ in columns}
    values = ", ".join(
        "("
        + ", ".join(f"cast({warehouse.placeholder(f'p{r}_{c}')} as {t})" for c, t in columns)
        + ")"
        for r in range(len(rows))
    )
    names = ", ".join(c for c, _ in columns)
    sql = f"insert into {table} ({names}) values {values}"  # noqa: S608
    warehouse.query(sql, params, labels=_LABELS)
