"""thelook's seven tables: column names, order and Arrow types, as in the BigQuery dataset."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

ID = pa.int64()
MONEY = pa.float64()
TEXT = pa.string()
TIMESTAMP = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "users": pa.schema(
        [
            ("id", ID),
            ("first_name", TEXT),
            ("last_name", TEXT),
            ("email", TEXT),
            ("age", pa.int64()),
            ("gender", TEXT),
            ("state", TEXT),
            ("street_address", TEXT),
            ("postal_code", TEXT),
            ("city", TEXT),
            ("country", TEXT),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("traffic_source", TEXT),
            ("created_at", TIMESTAMP),
            ("user_geom", TEXT),
        ]
    ),
    "orders": pa.schema(
        [
            ("order_id", ID),
            ("user_id", ID),
            ("status", TEXT),
            ("gender", TEXT),
            ("created_at", TIMESTAMP),
            ("returned_at", TIMESTAMP),
            ("shipped_at", TIMESTAMP),
            ("delivered_at", TIMESTAMP),
            ("num_of_item", pa.int64()),
        ]
    ),
    "order_items": pa.schema(
        [
            ("id", ID),
            ("order_id", ID),
            ("user_id", ID),
            ("product_id", ID),
            ("inventory_item_id", ID),
            ("status", TEXT),
            ("created_at", TIMESTAMP),
            ("shipped_at", TIMESTAMP),
            ("delivered_at", TIMESTAMP),
            ("returned_at", TIMESTAMP),
            ("sale_price", MONEY),
        ]
    ),
    "products": pa.schema(
        [
            ("id", ID),
            ("cost", MONEY),
            ("category", TEXT),
            ("name", TEXT),
            ("brand", TEXT),
            ("retail_price", MONEY),
            ("department", TEXT),
            ("sku", TEXT),
            ("distribution_center_id", ID),
        ]
    ),
    "inventory_items": pa.schema(
        [
            ("id", ID),
            ("product_id", ID),
            ("created_at", TIMESTAMP),
            ("sold_at", TIMESTAMP),
            ("cost", MONEY),
            ("product_category", TEXT),
            ("product_name", TEXT),
            ("product_brand", TEXT),
            ("product_retail_price", MONEY),
            ("product_department", TEXT),
            ("product_sku", TEXT),
            ("product_distribution_center_id", ID),
        ]
    ),
    "events": pa.schema(
        [
            ("id", ID),
            ("user_id", ID),
            ("sequence_number", pa.int64()),
            ("session_id", TEXT),
            ("created_at", TIMESTAMP),
            ("ip_address", TEXT),
            ("city", TEXT),
            ("state", TEXT),
            ("postal_code", TEXT),
            ("browser", TEXT),
            ("traffic_source", TEXT),
            ("uri", TEXT),
            ("event_type", TEXT),
        ]
    ),
    "distribution_centers": pa.schema(
        [
            ("id", ID),
            ("name", TEXT),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("distribution_center_geom", TEXT),
        ]
    ),
}

# The closed vocabularies of thelook's text columns (traffic sources: common.traffic_sources).
ORDER_STATUSES = ("Processing", "Shipped", "Complete", "Cancelled", "Returned")
EVENT_TYPES = ("home", "department", "product", "cart", "purchase", "cancel")
BROWSERS = ("Chrome", "Firefox", "Safari", "IE", "Other")
GENDERS = ("M", "F")


def table(name: str, columns: dict[str, pa.Array | pa.ChunkedArray | np.ndarray]) -> pa.Table:
    """Assemble one table, checking the columns against its schema (names, order and types).

    Text columns may be dictionary-encoded; Parquet files are written without the Arrow
    schema, so they read back as plain strings.
    """
    schema = SCHEMAS[name]
    if list(columns) != schema.names:
        raise ValueError(f"{name}: columns {list(columns)} are not {schema.names}")
    arrays = [
        values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
        for values in columns.values()
    ]
    for field, array in zip(schema, arrays, strict=True):
        kind = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
        if kind != field.type:
            raise TypeError(f"{name}.{field.name} is {array.type}, not {field.type}")
    return pa.Table.from_arrays(arrays, names=schema.names)
