"""Load raw thelook tables into the warehouse's ``raw`` schema (DuckDB).

Two sources, one schema:

- generated Parquet (``python -m scripts.data.thelook``), one folder per table;
- the real exports in ``shared/datasets/thelook_ecommerce``: the ``subset_joinable`` tables (the
  only part whose keys join), the full product catalogue, and the ``sample_unjoined`` events and
  inventory items. Exports repeat rows, so every table is deduplicated on its key.

Timestamps are stored as naive UTC ``TIMESTAMP`` so that dates come out the same whatever the
session's time zone is.

    python -m scripts.data.thelook.load --generated .local/thelook
    python -m scripts.data.thelook.load --shared ../shared/datasets
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from common.config import load_config
from scripts.data.thelook.cutoff import CREATED

# thelook's columns and the types the raw schema stores them as.
RAW_TABLES: dict[str, dict[str, str]] = {
    "users": {
        "id": "bigint",
        "first_name": "varchar",
        "last_name": "varchar",
        "email": "varchar",
        "age": "integer",
        "gender": "varchar",
        "state": "varchar",
        "street_address": "varchar",
        "postal_code": "varchar",
        "city": "varchar",
        "country": "varchar",
        "latitude": "double",
        "longitude": "double",
        "traffic_source": "varchar",
        "created_at": "timestamp",
        "user_geom": "varchar",
    },
    "orders": {
        "order_id": "bigint",
        "user_id": "bigint",
        "status": "varchar",
        "gender": "varchar",
        "created_at": "timestamp",
        "returned_at": "timestamp",
        "shipped_at": "timestamp",
        "delivered_at": "timestamp",
        "num_of_item": "integer",
    },
    "order_items": {
        "id": "bigint",
        "order_id": "bigint",
        "user_id": "bigint",
        "product_id": "bigint",
        "inventory_item_id": "bigint",
        "status": "varchar",
        "created_at": "timestamp",
        "shipped_at": "timestamp",
        "delivered_at": "timestamp",
        "returned_at": "timestamp",
        "sale_price": "double",
    },
    "products": {
        "id": "bigint",
        "cost": "double",
        "category": "varchar",
        "name": "varchar",
        "brand": "varchar",
        "retail_price": "double",
        "department": "varchar",
        "sku": "varchar",
        "distribution_center_id": "bigint",
    },
    "events": {
        "id": "bigint",
        "user_id": "bigint",
        "sequence_number": "integer",
        "session_id": "varchar",
        "created_at": "timestamp",
        "ip_address": "varchar",
        "city": "varchar",
        "state": "varchar",
        "postal_code": "varchar",
        "browser": "varchar",
        "traffic_source": "varchar",
        "uri": "varchar",
        "event_type": "varchar",
    },
    "inventory_items": {
        "id": "bigint",
        "product_id": "bigint",
        "created_at": "timestamp",
        "sold_at": "timestamp",
        "cost": "double",
        "product_category": "varchar",
        "product_name": "varchar",
        "product_brand": "varchar",
        "product_retail_price": "double",
        "product_department": "varchar",
        "product_sku": "varchar",
        "product_distribution_center_id": "bigint",
    },
    "distribution_centers": {
        "id": "bigint",
        "name": "varchar",
        "latitude": "double",
        "longitude": "double",
        "distribution_center_geom": "varchar",
    },
}
KEYS = {table: "order_id" if table == "orders" else "id" for table in RAW_TABLES}

# Where each table comes from in shared/datasets/thelook_ecommerce.
SHARED_FILES = {
    "users": "subset_joinable/users.csv",
    "orders": "subset_joinable/orders.csv",
    "order_items": "subset_joinable/order_items.csv",
    "products": "full_orders_products_2025-01-25/products.csv",
    "events": "sample_unjoined/events.csv",
    "inventory_items": "sample_unjoined/inventory_items.csv",
    "distribution_centers": "full_orders_products_2025-01-25/distribution_centers.csv",
}


def _typed_columns(table: str, *, from_text: bool) -> str:
    columns = []
    for name, kind in RAW_TABLES[table].items():
        value = f'"{name}"'
        if kind == "timestamp" and from_text:
            # '2024-10-25 07:09:00.000000 UTC' and '2024-07-23 11:09:00 UTC' are both UTC.
            value = f"regexp_replace({value}, ' UTC$', '')"
        elif kind == "timestamp":
            value = f"timezone('UTC', {value})"  # Parquet's UTC instant → naive UTC
        columns.append(f'cast({value} as {kind}) as "{name}"')
    return ", ".join(columns)


def _replace_table(
    con: duckdb.DuckDBPyConnection, table: str, reader: str, *, from_text: bool
) -> int:
    con.execute("create schema if not exists raw")
    # Table and column names come from RAW_TABLES, file paths from the command line.
    select = f"select {_typed_columns(table, from_text=from_text)} from {reader}"  # noqa: S608
    if from_text:
        # The exports repeat rows; generated keys are unique by construction (dbt tests it).
        key = KEYS[table]
        select += f' qualify row_number() over (partition by "{key}" order by "{key}") = 1'
    if table in CREATED:
        # Stored in time order, a table's blocks of older rows are skipped by the filters of
        # incremental builds on recent rows (their min/max timestamps rule them out).
        select += f' order by "{CREATED[table]}"'
    con.execute(f"create or replace table raw.{table} as {select}")
    return con.execute(f"select count(*) from raw.{table}").fetchone()[0]  # noqa: S608


def load_generated(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    counts = {}
    for table in RAW_TABLES:
        files = (Path(folder) / table).as_posix() + "/*.parquet"
        counts[table] = _replace_table(con, table, f"read_parquet('{files}')", from_text=False)
    return counts


def load_shared(con: duckdb.DuckDBPyConnection, datasets: Path) -> dict[str, int]:
    root = Path(datasets) / "thelook_ecommerce"
    counts = {}
    for table, relative in SHARED_FILES.items():
        reader = f"read_csv('{(root / relative).as_posix()}', header=true, all_varchar=true)"
        counts[table] = _replace_table(con, table, reader, from_text=True)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--generated", type=Path, help="folder written by the generator")
    source.add_argument("--shared", type=Path, help="the shared datasets folder")
    parser.add_argument("--duckdb", type=Path, default=None, help="default: EXECKPI_DUCKDB_PATH")
    args = parser.parse_args(argv)
    path = args.duckdb or load_config().duckdb_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        if args.generated:
            counts = load_generated(con, args.generated)
        else:
            counts = load_shared(con, args.shared)
    for table, rows in counts.items():
        print(f"raw.{table:<22} {rows:>12,} rows")


if __name__ == "__main__":
    main()
