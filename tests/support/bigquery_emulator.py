"""What the prod target expects to find in BigQuery, put into the BigQuery emulator
(scripts.local.emulators.BigQueryEmulator), and tables read back from it.

In production thelook is the public dataset (or a copy) and Terraform creates the ingest
dataset's external tables; here raw tables are loaded from CSV (the only format the emulator
loads) and the ingested tables are empty tables of the source's contract types.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import duckdb
import yaml
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from scripts.data.thelook.load import RAW_TABLES, load_generated
from scripts.deploy.catalog import REPO_ROOT

# The thelook source's default on BigQuery (models/staging/thelook/_thelook__sources.yml).
THELOOK_DATASET = "bigquery-public-data.thelook_ecommerce"
INGESTED_SOURCES = REPO_ROOT / "dbt_project/models/staging/thelook/_ingested__sources.yml"
SCORES_SOURCES = REPO_ROOT / "dbt_project/models/staging/ml/_ml_scores__sources.yml"
# The raw schema's and the ingest contract's types as BigQuery names them.
BIGQUERY_TYPES = {
    "bigint": "INT64",
    "integer": "INT64",
    "varchar": "STRING",
    "double": "FLOAT64",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}


def client(url: str, project: str) -> bigquery.Client:
    return bigquery.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )


def _csv_field(value: object) -> str:
    """One CSV field as BigQuery's loader reads it: unquoted empty is NULL, quoted empty is '',
    floats in plain decimals (the loader takes no exponent), timestamps naive UTC."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(" ", "microseconds")
    return str(value)


def _csv(con: duckdb.DuckDBPyConnection, table: str) -> bytes:
    rows = con.execute(f"select * from raw.{table}").fetchall()
    return "".join(",".join(map(_csv_field, row)) + "\n" for row in rows).encode()


def load_thelook(bq: bigquery.Client, generated: Path) -> None:
    """Generated thelook data (the generator's layout) as the thelook source's tables, typed as
    scripts.data.thelook.load types the DuckDB raw schema. Tables load in parallel: the
    emulator inserts loaded rows one by one."""
    bq.create_dataset(THELOOK_DATASET, exists_ok=True)
    with duckdb.connect() as con:
        load_generated(con, generated)
        files = {table: _csv(con, table) for table in RAW_TABLES}

    def load(table: str) -> None:
        schema = [bigquery.SchemaField(c, BIGQUERY_TYPES[t]) for c, t in RAW_TABLES[table].items()]
        config = bigquery.LoadJobConfig(source_format="CSV", schema=schema)
        bq.load_table_from_file(
            io.BytesIO(files[table]), f"{THELOOK_DATASET}.{table}", job_config=config
        ).result()

    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        list(pool.map(load, files))


def create_ingested_tables(bq: bigquery.Client, dataset: str) -> None:
    """The tables of the sources Terraform makes external tables over Parquet (the ingested
    batches, the model's scores), empty: nothing ingested or scored, as in the DuckDB build."""
    bq.create_dataset(dataset, exists_ok=True)
    for sources in (INGESTED_SOURCES, SCORES_SOURCES):
        for table in yaml.safe_load(sources.read_text())["sources"][0]["tables"]:
            columns = ", ".join(
                f"`{c['name']}` {BIGQUERY_TYPES[c['data_type']]}" for c in table["columns"]
            )
            name = table.get("identifier", table["name"])
            bq.query(f"create table `{dataset}.{name}` ({columns})").result()


def rows(bq: bigquery.Client, table: str) -> tuple[list[tuple[str, str]], Iterator[tuple]]:
    """A table's columns as (name, BigQuery type, ``[]`` appended when repeated) and its rows,
    by tabledata.list: no SQL between the table and the test."""
    listed = bq.list_rows(table)
    columns = [
        (field.name, field.field_type + ("[]" if field.mode == "REPEATED" else ""))
        for field in listed.schema
    ]
    return columns, (tuple(row.values()) for row in listed)
