"""The BigQuery SQL executed: the unchanged ``prod`` target (dbt-bigquery) builds against the
BigQuery emulator, and every mart it writes equals, row for row, the DuckDB build of the same data.

A slice of the generated data (tests/support/bigquery_slice.py: the emulator loads CSV at a few
hundred rows a second) is loaded into the dataset the thelook source names on BigQuery, and the
same slice into DuckDB's raw schema. One ``dbt build --target prod`` (BIGQUERY_EMULATOR_HOST, the
oauth-secrets method with a dummy token, as CI compiles the BigQuery SQL) runs every seed, model,
data test and unit test; the marts compared, values and column types, are the models the build's
manifest puts in the marts dataset.

The emulator refuses query parameters and dry runs, so what the functions send BigQuery
themselves (the kpi function's parameterised queries and byte estimates) stays tested at the
client library's request layer (tests/data/test_kpi_function.py, tests/unit/*_bigquery.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from common.ml.batch_scores import SCORE_SCHEMA, SCORES_PREFIX
from scripts.data.dbt_runner import run_dbt
from scripts.data.thelook.load import load_generated
from scripts.local.emulators import BigQueryEmulator
from tests.support import bigquery_emulator
from tests.support.bigquery_slice import write_slice
from tests.support.reporting_time import REPORTING_ZONE
from tests.support.warehouses import build_warehouse

pytestmark = pytest.mark.emulator

# Every 40th of the session's generated users: 100 users, ~4k rows (3.3k of them events), ~20 s
# of loading. Every mart has rows and the experiments' metrics are not all zero (every 80th
# leaves variants without a conversion).
EVERY_NTH_USER = 40
PROJECT = "execkpi-offline"  # the project run_dbt's offline BigQuery settings name
NUMERIC_TOLERANCE = 1e-9
# DuckDB's types as the BigQuery type a mart column must have (legacy names, as the REST API
# reports them): money is DECIMAL(38, 9) on DuckDB precisely because it is NUMERIC on BigQuery.
BIGQUERY_TYPE_OF = {
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "DOUBLE": "FLOAT",
    "DECIMAL(38,9)": "NUMERIC",
    "VARCHAR": "STRING",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",  # naive UTC
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[BigQueryEmulator]:
    reason = BigQueryEmulator.unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with BigQueryEmulator() as running:
        yield running


@pytest.fixture(scope="module")
def data_slice(generated_raw: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bigquery-slice")
    write_slice(generated_raw, folder, EVERY_NTH_USER)
    return folder


def scores_of_the_slice() -> pa.Table:
    """A scoring run of the slice's users (every 40th id) on its newest feature snapshot (as in
    the pipeline test), and of ids the slice does not hold: actual conversions from the labels
    of some users, none from others."""
    users = [*range(EVERY_NTH_USER, 4001, EVERY_NTH_USER), *range(1, 40)]
    scored_at = dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC)
    columns = {
        "user_id": users,
        "snapshot_date": [dt.date(2026, 10, 12)] * len(users),
        "score": [(i % 13) / 13 for i in range(len(users))],
        "decile": [1 + i * 10 // len(users) for i in range(len(users))],
        "model_version": ["20261102T060000Z-abcdef"] * len(users),
        "scored_at": [scored_at] * len(users),
    }
    return pa.table(columns, schema=SCORE_SCHEMA)


def insert_scores(bq, table: str, scores: pa.Table) -> None:
    """The rows as literals: the emulator takes neither streaming inserts nor parameters."""
    values = ",\n".join(
        f"({r['user_id']}, date '{r['snapshot_date']}', {r['score']!r}, {r['decile']}, "
        f"'{r['model_version']}', timestamp '{r['scored_at'].isoformat()}')"
        for r in scores.to_pylist()
    )
    bq.query(f"insert into `{table}` ({', '.join(scores.column_names)}) values {values}").result()


@pytest.fixture(scope="module")
def builds(emulator: BigQueryEmulator, data_slice: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The prod target built on the emulator (returns its dbt target folder) and the local
    target built on DuckDB (returns the warehouse), from the same slice. The DuckDB build runs
    meanwhile: it is its own dbt process, and the emulator's load and build are mostly waiting."""
    warehouse = tmp_path_factory.mktemp("duckdb-slice") / "warehouse.duckdb"
    target = tmp_path_factory.mktemp("dbt-prod")
    env = {emulator.env_var: emulator.url, "EXECKPI_TIME_ZONE": REPORTING_ZONE}
    prod = ["--target-path", str(target)]
    scores = scores_of_the_slice()
    # The model's scores, where each build reads them: a Parquet object in the DuckDB build's
    # artifact folder (tests/support/warehouses.py), rows of the external table on BigQuery.
    folder = warehouse.parent / "artifacts" / SCORES_PREFIX / "conversion"
    folder = folder / "snapshot_on=2026-10-12"
    folder.mkdir(parents=True)
    pq.write_table(scores, folder / "scores.parquet")
    with ThreadPoolExecutor(max_workers=1) as pool:
        # No tests: the session's generated warehouse runs them on DuckDB.
        duckdb_build = pool.submit(
            build_warehouse,
            warehouse,
            lambda con: load_generated(con, data_slice),
            *("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"),
        )
        bq = bigquery_emulator.client(emulator.url, PROJECT)
        bigquery_emulator.load_thelook(bq, data_slice)
        bigquery_emulator.create_ingested_tables(bq, f"{PROJECT}.execkpi_ingest")
        insert_scores(bq, f"{PROJECT}.execkpi_ingest.conversion_scores", scores)
        run_dbt(["build", *prod], prod_offline=True, env=env)
        return target, duckdb_build.result()


@pytest.fixture(scope="module")
def prod_manifest(builds) -> dict:
    return json.loads((builds[0] / "manifest.json").read_text())


def mart_relations(manifest: dict) -> list[tuple[str, str, str]]:
    """(project, dataset, table) of every model in the marts dataset."""
    return sorted(
        (node["database"], node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"].endswith("_marts")
    )


def normalised(value: object) -> object:
    """A value both engines can agree on: numbers as floats (compared with a tolerance),
    instants as naive UTC, arrays as tuples."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list | tuple):
        return tuple(normalised(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, normalised(v)) for k, v in value.items()))
    return value


def sort_key(row: tuple) -> tuple:
    # Rounded, so rows that differ by float noise sort the same on both sides.
    return tuple(
        (v is None, round(v, 6) if isinstance(v, float) else repr(v) if v is not None else "")
        for v in row
    )


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=NUMERIC_TOLERANCE, abs_tol=NUMERIC_TOLERANCE)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def bigquery_type(duckdb_type: str) -> str:
    if duckdb_type.endswith("[]"):
        return bigquery_type(duckdb_type.removesuffix("[]")) + "[]"
    return BIGQUERY_TYPE_OF.get(duckdb_type, f"(DuckDB {duckdb_type})")


def table_rows(rows: Iterator[tuple]) -> list[tuple]:
    return sorted((tuple(normalised(v) for v in row) for row in rows), key=sort_key)


def test_the_prod_build_runs_every_model_seed_and_test(builds, prod_manifest):
    executable = {
        unique_id
        for unique_id, node in prod_manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "test")
    } | set(prod_manifest["unit_tests"])
    results = json.loads((builds[0] / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results if r["unique_id"] in executable}
    assert set(statuses) == executable
    assert set(statuses.values()) <= {"success", "pass"}


def test_every_mart_equals_the_duckdb_build(builds, prod_manifest, emulator):
    bq = bigquery_emulator.client(emulator.url, PROJECT)
    marts = mart_relations(prod_manifest)
    assert marts, "no model in the marts dataset"
    differences = []
    with duckdb.connect(str(builds[1]), read_only=True) as con:
        for project, dataset, table in marts:
            columns, bigquery_rows = bigquery_emulator.rows(bq, f"{project}.{dataset}.{table}")
            expected = con.execute(f'select * from "{dataset}"."{table}"')
            duckdb_columns = [(d[0], bigquery_type(str(d[1]))) for d in expected.description]
            duckdb_rows = table_rows(iter(expected.fetchall()))
            got = table_rows(bigquery_rows)
            if columns != duckdb_columns:
                differing = [(b, d) for b, d in zip_longest(columns, duckdb_columns) if b != d]
                differences.append(f"{table}: columns (BigQuery, DuckDB as BigQuery) {differing}")
                continue
            if not duckdb_rows:
                differences.append(f"{table}: no rows on DuckDB (the slice is too small)")
            if len(got) != len(duckdb_rows):
                differences.append(f"{table}: {len(got)} rows on BigQuery, {len(duckdb_rows)}")
                continue
            for bigquery_row, duckdb_row in zip(got, duckdb_rows, strict=True):
                if not same(bigquery_row, duckdb_row):
                    differing = {
                        name: (b, d)
                        for (name, _), b, d in zip(columns, bigquery_row, duckdb_row, strict=True)
                        if not same(b, d)
                    }
                    differences.append(
                        f"{table}: (BigQuery, DuckDB) differ in {differing}, "
                        f"in the row {dict(zip(dict(columns), bigquery_row, strict=True))}"[:2000]
                    )
                    break
    assert not differences, "\n".join(differences)
