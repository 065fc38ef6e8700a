"""Rows a shop sends through the ingest function reach the marts.

Curated Parquet is written here as the ingest function writes it (ingest/curated/<table>/
ingested_on=<day>/<batch_id>.parquet: thelook's raw columns, UTC instants, plus _batch_id and
_ingested_at), then one more dbt build runs on a copy of the generated warehouse. What the
marts must show is predicted by hand from the warehouse built without those files: a new user's
order on a new day adds exactly its kept item; an item sent in two batches counts once, as the
later batch states it; an existing item sent again with a new status replaces thelook's row; an
erased customer's ingested rows stay out.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from scripts.data.dbt_runner import DBT_PROJECT, run_dbt
from scripts.data.thelook.load import RAW_TABLES
from tests.support.reporting_time import REPORTING_ZONE, local_day

TABLES = ("events", "orders", "order_items", "users", "products")
SOURCES_FILE = DBT_PROJECT / "models" / "staging" / "thelook" / "_ingested__sources.yml"
FIRST_BATCH_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
SECOND_BATCH_AT = FIRST_BATCH_AT + timedelta(hours=1)
NEW_ITEM_PRICE = Decimal("19.99")


def write_batch(
    artifacts: Path, table: str, batch_id: str, at: datetime, rows: list[dict], naive=False
):
    """One curated object as the contract states it: thelook's columns typed as raw.<table>
    (timestamps as UTC instants, or ``naive`` UTC), then _batch_id and _ingested_at."""
    columns = {**RAW_TABLES[table], "_batch_id": "varchar", "_ingested_at": "timestamp"}
    instant = "timestamp" if naive else "timestamptz"
    typed = {name: instant if kind == "timestamp" else kind for name, kind in columns.items()}
    folder = artifacts / "ingest" / "curated" / table / f"ingested_on={at:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            "create table batch (" + ", ".join(f'"{n}" {k}' for n, k in typed.items()) + ")"
        )
        for row in rows:
            values = {**row, "_batch_id": batch_id, "_ingested_at": at}
            con.execute(
                f"insert into batch values ({', '.join('?' for _ in typed)})",
                [values.get(name) for name in typed],
            )
        con.execute(f"copy batch to '{folder / f'{batch_id}.parquet'}' (format parquet)")


@dataclass(frozen=True)
class Ingested:
    before: Path  # the generated warehouse, built without ingested files
    after: Path  # a copy rebuilt with them
    artifacts: Path  # where the curated files are
    new_day: object
    new_user_id: int  # the next one was erased
    purchase: tuple  # (event id, naive UTC time) of the event sent twice
    corrected_item: tuple  # (id, order_id, local day, price as invoiced) of a thelook item


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.execute(sql).fetchone()


@pytest.fixture(scope="module")
def ingested(generated_warehouse: Path, tmp_path_factory) -> Ingested:
    root = tmp_path_factory.mktemp("ingested")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, warehouse)
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        user_id, order_id, item_id, product_id, event_id = _one(
            con,
            "select (select max(id) + 1 from raw.users), (select max(order_id) + 1 from "
            "raw.orders), (select max(id) + 1 from raw.order_items), (select max(id) + 1 from "
            "raw.products), (select max(id) + 1 from raw.events)",
        )
        last_order_at = _one(con, "select max(created_at) from raw.orders")[0]
        # A thelook item kept as revenue, alone in its order: returning it removes the order.
        corrected = _one(
            con,
            "select i.id, i.order_id, i.created_at, round(i.sale_price, 2) from raw.order_items i "
            "where i.status = 'Complete' and 1 = (select count(*) from raw.order_items o "
            "where o.order_id = i.order_id) order by i.id limit 1",
        )
        corrected_row = dict(
            zip(
                RAW_TABLES["order_items"],
                _one(con, f"select * from raw.order_items where id = {corrected[0]}"),
                strict=True,
            )
        )
    # Noon UTC, three days after the last order: a day of its own in the reporting zone.
    placed = (last_order_at + timedelta(days=3)).replace(hour=12, minute=0, second=0)
    placed_utc = placed.replace(tzinfo=UTC)
    artifacts = root / "artifacts"
    # A second new customer who asked to be erased: nothing of theirs may reach the marts.
    erased_user = {"gender": "M", "traffic_source": "Email", "created_at": placed_utc}
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into execkpi_staging.erasure_requests values (?, ?, ?, null)",
            ["erasure-of-an-ingested-user", user_id + 1, FIRST_BATCH_AT],
        )

    write_batch(
        artifacts,
        "users",
        "b1-users",
        FIRST_BATCH_AT,
        [
            {
                "id": user_id,
                "first_name": "Ada",
                "age": 36,
                "gender": "F",
                "country": "Germany",
                "traffic_source": "Search",
                "created_at": placed_utc - timedelta(hours=1),
            },
            {**erased_user, "id": user_id + 1},
        ],
    )
    write_batch(
        artifacts,
        "products",
        "b1-products",
        FIRST_BATCH_AT,
        [
            {
                "id": product_id,
                "cost": 8.0,
                "category": "Socks",
                "name": "Wool socks",
                "brand": "Ada",
                "retail_price": 19.99,
                "department": "Women",
                "sku": "ADA-1",
                "distribution_center_id": 1,
            }
        ],
    )
    write_batch(
        artifacts,
        "orders",
        "b1-orders",
        FIRST_BATCH_AT,
        [
            {
                "order_id": order_id,
                "user_id": user_id,
                "status": "Complete",
                "gender": "F",
                "created_at": placed_utc,
                "num_of_item": 2,
            },
            {
                "order_id": order_id + 1,
                "user_id": user_id + 1,
                "status": "Complete",
                "created_at": placed_utc,
                "num_of_item": 1,
            },
        ],
    )
    item = {
        "order_id": order_id,
        "user_id": user_id,
        "product_id": product_id,
        "inventory_item_id": 1,
        "created_at": placed_utc,
    }
    write_batch(
        artifacts,
        "order_items",
        "b1-items",
        FIRST_BATCH_AT,
        [
            {**item, "id": item_id, "status": "Complete", "sale_price": float(NEW_ITEM_PRICE)},
            {**item, "id": item_id + 1, "status": "Complete", "sale_price": 5.0},
            {
                **item,
                "id": item_id + 2,
                "order_id": order_id + 1,
                "user_id": user_id + 1,
                "status": "Complete",
                "sale_price": 7.0,
            },
        ],
    )
    # The second item comes back returned, and so does the thelook item, in a later batch.
    write_batch(
        artifacts,
        "order_items",
        "b2-items",
        SECOND_BATCH_AT,
        [
            {
                **item,
                "id": item_id + 1,
                "status": "Returned",
                "sale_price": 5.0,
                "returned_at": placed_utc + timedelta(hours=2),
            },
            {
                **corrected_row,
                "status": "Returned",
                "returned_at": (corrected_row["delivered_at"] or corrected_row["created_at"])
                + timedelta(days=1),
            },
        ],
    )
    session = {"user_id": user_id, "session_id": "ingested-session", "browser": "Firefox"}
    events = [
        {
            **session,
            "id": event_id + step,
            "sequence_number": step + 1,
            "created_at": placed_utc - timedelta(minutes=10 - step),
            "traffic_source": "Email",
            "uri": "/",
            "event_type": kind,
        }
        for step, kind in enumerate(["home", "department", "product", "cart", "purchase"])
    ]
    write_batch(artifacts, "events", "b1-events", FIRST_BATCH_AT, events)
    # Sent twice, the second time by a writer whose timestamps are naive UTC.
    write_batch(artifacts, "events", "b2-events", SECOND_BATCH_AT, events[-1:], naive=True)

    # dbt on a machine whose zone is not UTC: ingested timestamps must not shift.
    env = {
        "EXECKPI_TIME_ZONE": REPORTING_ZONE,
        "EXECKPI_ARTIFACT_DIR": str(artifacts),
        "TZ": "America/New_York",
    }
    run_dbt(["build"], duckdb_path=warehouse, env=env)
    return Ingested(
        before=generated_warehouse,
        after=warehouse,
        artifacts=artifacts,
        new_day=local_day(placed),
        new_user_id=user_id,
        corrected_item=(corrected[0], corrected[1], local_day(corrected[2]), corrected[3]),
        purchase=(events[-1]["id"], events[-1]["created_at"].replace(tzinfo=None)),
    )


def _revenue_daily(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select order_date, orders_placed, orders, items, revenue "
            "from execkpi_marts.revenue_daily"
        ).fetchall()
    return {row[0]: list(row[1:]) for row in rows}


def test_revenue_daily_gains_the_new_order_and_loses_the_returned_item(ingested):
    expected = _revenue_daily(ingested.before)
    assert ingested.new_day not in expected
    # The new order: placed and kept, one item kept (the other came back returned).
    expected[ingested.new_day] = [1, 1, 1, NEW_ITEM_PRICE]
    # The thelook item returned by the later batch: its order is placed but no longer kept.
    _, _, day, price = ingested.corrected_item
    placed, kept, items, revenue = expected[day]
    expected[day] = [placed, kept - 1, items - 1, revenue - Decimal(str(price))]
    assert _revenue_daily(ingested.after) == expected


def test_a_key_sent_twice_counts_once(ingested):
    counts = {}
    for label, path in (("before", ingested.before), ("after", ingested.after)):
        with duckdb.connect(str(path), read_only=True) as con:
            counts[label] = {
                table: _one(con, f"select count(*) from execkpi_staging.stg_thelook__{table}")[0]
                for table in TABLES
            }
    added = {table: counts["after"][table] - counts["before"][table] for table in TABLES}
    # Items: two new ones (one sent twice); the corrected thelook item replaces its row. The
    # erased customer's user, order and item are left out.
    assert added == {"events": 5, "orders": 1, "order_items": 2, "users": 1, "products": 1}


def test_the_new_customer_has_the_kept_item_as_lifetime_revenue(ingested):
    with duckdb.connect(str(ingested.after), read_only=True) as con:
        ltv = con.execute(
            "select user_id, lifetime_revenue from execkpi_marts.customer_ltv "
            f"where user_id >= {ingested.new_user_id}",
        ).fetchall()
    assert ltv == [(ingested.new_user_id, NEW_ITEM_PRICE)]  # not the erased one


def test_without_ingested_files_the_tables_exist_empty_and_typed(generated_warehouse):
    declared = yaml.safe_load(SOURCES_FILE.read_text())["sources"][0]["tables"]
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        for table in declared:
            name = table["name"]
            assert _one(con, f"select count(*) from execkpi_ingest.{name}") == (0,)
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                f"where table_schema = 'execkpi_ingest' and table_name = '{name}' "
                "order by ordinal_position"
            ).fetchall()
            raw = [(column, kind.upper()) for column, kind in RAW_TABLES[name].items()]
            assert columns == [*raw, ("_batch_id", "VARCHAR"), ("_ingested_at", "TIMESTAMP")]


def test_the_declared_columns_are_the_raw_tables_and_the_batch_columns():
    declared = yaml.safe_load(SOURCES_FILE.read_text())["sources"][0]["tables"]
    assert [t["name"] for t in declared] == ["users", "orders", "order_items", "products", "events"]
    for table in declared:
        columns = {c["name"]: c["data_type"] for c in table["columns"]}
        assert columns == {
            **RAW_TABLES[table["name"]],
            "_batch_id": "varchar",
            "_ingested_at": "timestamp",
        }


def _freshness(warehouse: Path, artifacts: Path, target: Path) -> dict[str, tuple]:
    """dbt source freshness of the ingested tables on a copy (its on-run-start hooks write)."""
    target.mkdir(parents=True)
    copy = target / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    env = {"EXECKPI_TIME_ZONE": REPORTING_ZONE, "EXECKPI_ARTIFACT_DIR": str(artifacts)}
    args = ["source", "freshness", "--select", "source:ingested", "--target-path", str(target)]
    run_dbt(args, duckdb_path=copy, env=env)
    results = json.loads((target / "sources.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: (r["status"], r["max_loaded_at"]) for r in results}


def test_freshness_is_the_newest_batch_and_never_ingested_only_warns(ingested, tmp_path):
    fresh = _freshness(ingested.after, ingested.artifacts, tmp_path / "ingested")
    newest = {"events": SECOND_BATCH_AT, "order_items": SECOND_BATCH_AT}
    assert fresh == {
        table: ("pass", newest.get(table, FIRST_BATCH_AT).isoformat()) for table in TABLES
    }
    # Nothing ingested: 1970 as the newest row, a warning the validation gate lets through.
    never = _freshness(ingested.before, tmp_path / "none", tmp_path / "none")
    assert never == {table: ("warn", "1970-01-01T00:00:00+00:00") for table in TABLES}


def test_ingested_timestamps_stay_utc_whatever_the_writer_or_the_machine(ingested):
    event_id, created_at = ingested.purchase
    with duckdb.connect(str(ingested.after), read_only=True) as con:
        found = _one(
            con,
            "select created_at from execkpi_staging.stg_thelook__events "
            f"where event_id = {event_id}",
        )
    assert found == (created_at,)
