"""What each ingestible table must hold: thelook's raw columns, their types, which are required,
their vocabularies and ranges, and the order its timestamps must follow.

The column names and types are those of ``raw.<table>`` as scripts/data/thelook/load.py creates
it in DuckDB (tests/unit/test_ingest_batches.py keeps the two equal), so curated Parquet reads
as the raw table does. The vocabularies are those the real thelook exports use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from common.traffic_sources import EVENT_TRAFFIC_SOURCES, USER_TRAFFIC_SOURCES

# load.py's DuckDB types and the Arrow type each is stored as in curated Parquet. Times are UTC
# instants (Parquet TIMESTAMP with isAdjustedToUTC=true): BigQuery's external tables read them as
# TIMESTAMP, not DATETIME, and DuckDB as TIMESTAMPTZ, which the build turns into raw.<table>'s
# naive UTC (dbt_project/macros/ingested.sql).
ARROW_TYPES = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "varchar": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
ORDER_STATUSES = ("Processing", "Shipped", "Complete", "Cancelled", "Returned")
EVENT_TYPES = ("home", "department", "product", "cart", "purchase", "cancel")
BROWSERS = ("Chrome", "Firefox", "Safari", "IE", "Other")
GENDERS = ("M", "F")
DEPARTMENTS = ("Women", "Men")
LATITUDE, LONGITUDE = (-90.0, 90.0), (-180.0, 180.0)
MAX_ID = 2**63 - 1
BATCH_ID, INGESTED_AT = "_batch_id", "_ingested_at"  # the columns curated objects add


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # a key of ARROW_TYPES
    required: bool = False
    vocabulary: tuple[str, ...] = ()
    # Inclusive bounds of a number (None: unbounded on that side).
    minimum: float | None = None
    maximum: float | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.kind]


@dataclass(frozen=True)
class TableContract:
    name: str
    key: str
    columns: tuple[Column, ...]
    # (earlier, later): when both are present, earlier <= later.
    time_order: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(column.name, column.arrow_type) for column in self.columns])

    @property
    def curated_schema(self) -> pa.Schema:
        """A curated object's columns: the table's, then the batch and when it was ingested."""
        return self.schema.append(pa.field(BATCH_ID, pa.string())).append(
            pa.field(INGESTED_AT, ARROW_TYPES["timestamp"])
        )

    def describe(self) -> dict:
        """The contract as the API shows it."""
        return {
            "table": self.name,
            "key": self.key,
            "columns": [
                {
                    "name": c.name,
                    "type": c.kind,
                    "required": c.required,
                    "vocabulary": list(c.vocabulary) or None,
                    "minimum": c.minimum,
                    "maximum": c.maximum,
                }
                for c in self.columns
            ],
            "time_order": [list(pair) for pair in self.time_order],
        }


def _id(name: str, *, required: bool = True) -> Column:
    return Column(name, "bigint", required=required, minimum=1, maximum=MAX_ID)


def _money(name: str, *, required: bool = True) -> Column:
    return Column(name, "double", required=required, minimum=0)


def _text(name: str, *, required: bool = False, vocabulary: tuple[str, ...] = ()) -> Column:
    return Column(name, "varchar", required=required, vocabulary=vocabulary)


def _time(name: str, *, required: bool = False) -> Column:
    return Column(name, "timestamp", required=required)


_FULFILMENT = (("created_at", "shipped_at"), ("shipped_at", "delivered_at"))
# thelook's items may ship "before" they were created (an item's created_at is when it joined
# the order): only delivery after shipping holds in the exports.
_ITEM_FULFILMENT = (("shipped_at", "delivered_at"),)

CONTRACTS: dict[str, TableContract] = {
    contract.name: contract
    for contract in (
        TableContract(
            "events",
            "id",
            (
                _id("id"),
                _id("user_id", required=False),  # guests' sessions have no user
                Column("sequence_number", "integer", required=True, minimum=1, maximum=2**31 - 1),
                _text("session_id", required=True),
                _time("created_at", required=True),
                _text("ip_address"),
                _text("city"),
                _text("state"),
                _text("postal_code"),
                _text("browser", vocabulary=BROWSERS),
                _text("traffic_source", vocabulary=EVENT_TRAFFIC_SOURCES),
                _text("uri"),
                _text("event_type", required=True, vocabulary=EVENT_TYPES),
            ),
        ),
        TableContract(
            "orders",
            "order_id",
            (
                _id("order_id"),
                _id("user_id"),
                _text("status", required=True, vocabulary=ORDER_STATUSES),
                _text("gender", vocabulary=GENDERS),
                _time("created_at", required=True),
                _time("returned_at"),
                _time("shipped_at"),
                _time("delivered_at"),
                Column("num_of_item", "integer", required=True, minimum=1, maximum=2**31 - 1),
            ),
            _FULFILMENT,
        ),
        TableContract(
            "order_items",
            "id",
            (
                _id("id"),
                _id("order_id"),
                _id("user_id"),
                _id("product_id"),
                _id("inventory_item_id", required=False),
                _text("status", required=True, vocabulary=ORDER_STATUSES),
                _time("created_at", required=True),
                _time("shipped_at"),
                _time("delivered_at"),
                _time("returned_at"),
                _money("sale_price"),
            ),
            _ITEM_FULFILMENT,
        ),
        TableContract(
            "users",
            "id",
            (
                _id("id"),
                _text("first_name"),
                _text("last_name"),
                _text("email"),
                Column("age", "integer", minimum=0, maximum=130),
                _text("gender", vocabulary=GENDERS),
                _text("state"),
                _text("street_address"),
                _text("postal_code"),
                _text("city"),
                _text("country"),
                Column("latitude", "double", minimum=LATITUDE[0], maximum=LATITUDE[1]),
                Column("longitude", "double", minimum=LONGITUDE[0], maximum=LONGITUDE[1]),
                _text("traffic_source", required=True, vocabulary=USER_TRAFFIC_SOURCES),
                _time("created_at", required=True),
                _text("user_geom"),
            ),
        ),
        TableContract(
            "products",
            "id",
            (
                _id("id"),
                _money("cost"),
                _text("category"),
                _text("name"),
                _text("brand"),
                _money("retail_price"),
                _text("department", vocabulary=DEPARTMENTS),
                _text("sku"),
                _id("distribution_center_id", required=False),
            ),
        ),
    )
}
TABLES = tuple(CONTRACTS)
