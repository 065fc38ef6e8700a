"""A small slice of generated thelook data, for the BigQuery emulator (which loads CSV at a few
hundred rows a second) and for the DuckDB build it is compared with.

The slice keeps every ``every``-th user with all their orders, order items and events, the same
share of anonymous sessions, the inventory items those order items sold and the products either
names. Its keys still join, so staging's relationship tests pass on it; it is written in the
generator's layout (``<table>/part-00000.parquet``), so scripts.data.thelook.load reads it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from scripts.data.thelook.load import RAW_TABLES

# Each table's rows in the slice, given views of the full tables under the same names.
_SLICE = {
    "users": "select * from users where id % {every} = 0",
    "orders": "select * from orders where user_id in (select id from slice_users)",
    "order_items": "select * from order_items where user_id in (select id from slice_users)",
    "events": """
        select * from events where user_id in (select id from slice_users)
        union all
        select * from events where user_id is null and session_id in (
            select session_id from (
                select distinct session_id from events where user_id is null
            ) qualify row_number() over (order by session_id) % {every} = 0
        )""",
    "inventory_items": """
        select * from inventory_items
        where id in (select inventory_item_id from slice_order_items)""",
    "products": """
        select * from products where id in (
            select product_id from slice_order_items
            union select product_id from slice_inventory_items
        )""",
    "distribution_centers": "select * from distribution_centers",
}


def write_slice(raw: Path, out: Path, every: int) -> dict[str, int]:
    """Write the slice of the generated data in ``raw`` to ``out``; returns rows per table."""
    counts = {}
    with duckdb.connect() as con:
        for table in RAW_TABLES:
            files = (Path(raw) / table).as_posix() + "/*.parquet"
            con.execute(f"create view {table} as select * from read_parquet('{files}')")
        for table, select in _SLICE.items():
            sql = select.format(every=int(every))
            con.execute(f"create table slice_{table} as {sql}")
            folder = Path(out) / table
            folder.mkdir(parents=True, exist_ok=True)
            target = (folder / "part-00000.parquet").as_posix()
            con.execute(f"copy slice_{table} to '{target}' (format parquet)")
            counts[table] = con.execute(f"select count(*) from slice_{table}").fetchone()[0]
    return counts
