"""Zero-row Parquet files with the ingested tables' columns, one per table, which Terraform puts
at ingest/curated/<table>/ingested_on=1970-01-01/schema.parquet in the artifact bucket.

BigQuery's external tables over the ingest function's curated objects (infra/bigquery.tf) take
their schema from this file (reference_file_schema_uri) rather than from whichever batch they
read first, and their wildcard matches a file before any batch has arrived: a wildcard that
matches nothing fails the query, and with it the build. The columns are those of the dbt source
`ingested` (dbt_project/models/staging/thelook/_ingested__sources.yml), typed as the ingest
function writes them; timestamps are UTC instants, which BigQuery reads as TIMESTAMP.

The model's batch scores are read the same way (infra/bigquery.tf, source `ml_scores`): their
zero-row file holds ``common.ml.batch_scores.SCORE_SCHEMA``.

    python -m scripts.deploy.ingested_schemas    # rewrites infra/ingested_schemas/*.parquet
                                                 # and infra/score_schemas/*.parquet
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from common.ingest.contracts import ARROW_TYPES
from common.ml.batch_scores import SCORE_SCHEMA
from scripts.deploy.catalog import REPO_ROOT

SOURCES_FILE = REPO_ROOT / "dbt_project/models/staging/thelook/_ingested__sources.yml"
SCHEMAS_DIR = REPO_ROOT / "infra/ingested_schemas"
SCORE_SCHEMA_FILE = REPO_ROOT / "infra/score_schemas/conversion_scores.parquet"


def ingested_columns() -> dict[str, dict[str, str]]:
    """Per ingested table, its columns and their DuckDB types as the dbt source declares them."""
    (source,) = yaml.safe_load(SOURCES_FILE.read_text())["sources"]
    return {
        table["name"]: {column["name"]: column["data_type"] for column in table["columns"]}
        for table in source["tables"]
    }


def parquet_schema(columns: dict[str, str]) -> pa.Schema:
    """The columns as the ingest function writes them (common.ingest.contracts), every one
    nullable: a column a zero-row file marked REQUIRED would make BigQuery refuse the batches
    whose rows leave it empty."""
    return pa.schema([pa.field(name, ARROW_TYPES[kind]) for name, kind in columns.items()])


def write_schemas(folder: Path = SCHEMAS_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, columns in ingested_columns().items():
        path = folder / f"{table}.parquet"
        pq.write_table(parquet_schema(columns).empty_table(), path)
        written.append(path)
    return written


def write_score_schema(path: Path = SCORE_SCHEMA_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(SCORE_SCHEMA.empty_table(), path)
    return path


def main() -> None:
    for path in [*write_schemas(), write_score_schema()]:
        print(path.relative_to(REPO_ROOT))


if __name__ == "__main__":
    main()
