"""Zero-row Parquet files with the ingested tables' columns, one per table, which Terraform puts
at ingest/curated/<table>/ingested_on=1970-01-01/schema.parquet in the artifact bucket.

BigQuery's external tables over the ingest function's curated objects (infra/bigquery.tf) take
their schema from this file (reference_file_schema_uri) rather than from whichever batch they
read first, and their wildcard matches a file before any batch has arrived: a wildcard that
matches nothing fails the query, and with it the build. The columns are those of the dbt source
`ingested` (dbt_project/models/staging/thelook/_ingested__sources.yml); timestamps are UTC
instants, which BigQuery reads as TIMESTAMP.

    python -m scripts.deploy.ingested_schemas    # rewrites infra/ingested_schemas/*.parquet
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from scripts.deploy.catalog import REPO_ROOT

SOURCES_FILE = REPO_ROOT / "dbt_project/models/staging/thelook/_ingested__sources.yml"
SCHEMAS_DIR = REPO_ROOT / "infra/ingested_schemas"


def ingested_columns() -> dict[str, dict[str, str]]:
    """Per ingested table, its columns and their DuckDB types as the dbt source declares them."""
    (source,) = yaml.safe_load(SOURCES_FILE.read_text())["sources"]
    return {
        table["name"]: {column["name"]: column["data_type"] for column in table["columns"]}
        for table in source["tables"]
    }


def parquet_type(data_type: str) -> str:
    """The DuckDB type that writes the column as the contract's Parquet type."""
    return "timestamptz" if data_type == "timestamp" else data_type


def write_schemas(folder: Path = SCHEMAS_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect() as con:
        for table, columns in ingested_columns().items():
            # Names and types come from the repository's YAML, not from any request.
            definition = ", ".join(f'"{n}" {parquet_type(k)}' for n, k in columns.items())
            con.execute(f"create or replace table {table} ({definition})")
            path = folder / f"{table}.parquet"
            con.execute(f"copy {table} to '{path.as_posix()}' (format parquet)")
            written.append(path)
    return written


def main() -> None:
    for path in write_schemas():
        print(path.relative_to(REPO_ROOT))


if __name__ == "__main__":
    main()
