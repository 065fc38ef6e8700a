"""Issue 17's "done when": CSV files dropped in the local landing folder flow, after the next
build, into the marts and into the KPI answers.

A new customer's users, orders and order_items files are dropped in the landing folder; the
local poller (scripts/local/landing.py) hands them to the ingest_landing function as storage
CloudEvents; dbt builds a copy of the generated warehouse with the artifact folder the function
wrote; the kpi function then answers GET /kpi/revenue for the orders' reporting day. What it
must answer is computed here, independently of the marts: the day's revenue before, plus the
dropped kept items' sale prices summed with Decimal; one more kept order and its items.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from scripts.data.dbt_runner import run_dbt
from scripts.data.thelook.load import RAW_TABLES
from scripts.local.landing import LandingWatcher
from tests.support.cloud_events import post_cloud_event
from tests.support.reporting_time import REPORTING_ZONE, local_day

PRICES = ("19.99", "5.25", "100.10")  # the dropped items, all kept


def csv_file(landing: Path, name: str, rows: list[dict]) -> None:
    """A CSV file with every column of thelook's table, as a shop would export it."""
    table = name.split("/")[0]
    columns = list(RAW_TABLES[table])
    path = landing / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(columns)]
    lines += [",".join(str(row.get(c, "")) for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def revenue_on(kpi, day) -> dict:
    response = kpi.get(f"/kpi/revenue?grain=day&start={day}&end={day}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    names = [column["name"] for column in body["columns"]]
    [row] = body["rows"]
    return dict(zip(names, row, strict=True))


@pytest.fixture(scope="module")
def shop(generated_warehouse, tmp_path_factory):
    """A copy of the generated warehouse, the landing folder and the ids of a new customer."""
    root = tmp_path_factory.mktemp("landing")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids = con.execute(
            "select (select max(id) + 1 from raw.users), (select max(order_id) + 1 from "
            "raw.orders), (select max(id) + 1 from raw.order_items), (select min(id) from "
            "raw.products), (select max(created_at) from raw.orders)"
        ).fetchone()
    return generated_warehouse, root, warehouse, ids


def test_a_dropped_file_reaches_the_marts_and_the_kpi(shop, function_client, bus):
    generated, root, warehouse, (user_id, order_id, item_id, product_id, last_order_at) = shop
    landing, artifacts = root / "landing", root / "artifacts"
    settings = {
        "EXECKPI_DUCKDB_PATH": str(warehouse),
        "EXECKPI_ARTIFACT_DIR": str(artifacts),
        "EXECKPI_TIME_ZONE": REPORTING_ZONE,
    }
    # A day the data already has (so "before" is a number), at noon UTC, in the past.
    placed = (last_order_at - timedelta(days=2)).replace(hour=12, minute=0, second=0)
    day = local_day(placed)
    at = f"{placed:%Y-%m-%d %H:%M:%S} UTC"
    # Asked of the warehouse the copy was made from: the copy stays free for dbt to write.
    kpi = function_client("kpi", **{**settings, "EXECKPI_DUCKDB_PATH": str(generated)})
    before = revenue_on(kpi, day)

    user = {"id": user_id, "first_name": "Ada", "gender": "F", "traffic_source": "Search"}
    csv_file(landing, "users/new-customer.csv", [{**user, "created_at": at}])
    order = {"order_id": order_id, "user_id": user_id, "status": "Complete", "created_at": at}
    csv_file(landing, "orders/2025/orders.csv", [{**order, "num_of_item": len(PRICES)}])
    items = [
        {**order, "id": item_id + i, "product_id": product_id, "sale_price": price}
        for i, price in enumerate(PRICES)
    ]
    csv_file(landing, "order_items/items.csv", items)
    ingest = function_client(
        "ingest_landing",
        EXECKPI_ARTIFACT_DIR=str(artifacts),
        EXECKPI_LANDING_DIR=str(landing),
        EXECKPI_LOCAL_BUS_URL=bus.url,
    )
    handed = LandingWatcher(landing, lambda e: post_cloud_event(ingest, e)).once(0)
    assert handed == {
        "order_items/items.csv": 200,
        "orders/2025/orders.csv": 200,
        "users/new-customer.csv": 200,
    }
    curated = sorted(
        p.relative_to(artifacts / "ingest" / "curated").parts[0]
        for p in (artifacts / "ingest" / "curated").rglob("*.parquet")
    )
    assert curated == ["order_items", "orders", "users"]

    # The next build (the daily tick's dbt build), then the KPI's answer for that day.
    run_dbt(["build"], duckdb_path=warehouse, env=settings)
    kpi = function_client("kpi", **settings)
    after = revenue_on(kpi, day)
    dropped = sum(Decimal(price) for price in PRICES)
    assert Decimal(str(after["revenue"])) - Decimal(str(before["revenue"])) == dropped
    assert after["orders"] == before["orders"] + 1
    assert after["items"] == before["items"] + len(PRICES)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ltv = con.execute(
            "select lifetime_revenue from execkpi_marts.customer_ltv where user_id = ?",
            [user_id],
        ).fetchall()
    assert ltv == [(dropped,)]
