"""Raw thelook tables as they stood at an earlier day: the warehouse of a day before.

Generated data holds every row and milestone up to its ``as_of``. Cutting it at 00:00 UTC of
an earlier day leaves the rows created before then, clears the milestones (shipped, delivered,
returned, sold) that came later and sets each order's and item's status to the last milestone
it had passed, as the generator does at its own ``as_of`` (scripts/data/thelook/orders.py).
Loading the same data cut at one day after another replays the days a shop's warehouse saw:
new rows, and older orders that ship, arrive and come back.
"""

from __future__ import annotations

from datetime import date, datetime, time

import duckdb

# The tables with rows that appear over time, and their timestamp of creation.
CREATED = {
    "users": "created_at",
    "events": "created_at",
    "orders": "created_at",
    "order_items": "created_at",
    "inventory_items": "created_at",
}
MILESTONES = ("shipped_at", "delivered_at", "returned_at")
STATUS_AT_CUTOFF = """
    case
        when status = 'Cancelled' then status
        when returned_at is not null then 'Returned'
        when delivered_at is not null then 'Complete'
        when shipped_at is not null then 'Shipped'
        else 'Processing'
    end
"""


def cut_at(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Make the ``raw`` tables hold what existed before ``day`` 00:00 UTC."""
    rewind_to(con, datetime.combine(day, time()))


def rewind_to(con: duckdb.DuckDBPyConnection, instant: datetime) -> None:
    """Make the ``raw`` tables hold what existed before ``instant`` (naive UTC, as raw stores)."""
    at = {"at": instant}
    for table, created in CREATED.items():
        con.execute(f"delete from raw.{table} where {created} >= $at", at)  # noqa: S608
    for table in ("orders", "order_items"):
        cleared = ", ".join(f"{m} = case when {m} < $at then {m} end" for m in MILESTONES)
        con.execute(f"update raw.{table} set {cleared}", at)  # noqa: S608
        con.execute(f"update raw.{table} set status = {STATUS_AT_CUTOFF}")  # noqa: S608
    con.execute("update raw.inventory_items set sold_at = null where sold_at >= $at", at)
