"""Orders, their items and the inventory behind them, from the sessions that bought.

An order is created at its purchase event and then, depending on its status, shipped, delivered
and returned after calibrated delays. Milestones that would fall on or after ``as_of`` have not
happened yet: their timestamps stay NULL and the status says how far the order got (recent
orders are Processing or Shipped, as in the real data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from scripts.data.thelook import columns as col
from scripts.data.thelook.calibration import (
    HOURS_TO_DELIVER,
    HOURS_TO_RETURN,
    HOURS_TO_SHIP,
    STOCK_DAYS_BEFORE_SALE,
    TIMESTAMPS_BY_STATUS,
    UNSOLD_PER_SOLD,
    Delay,
)
from scripts.data.thelook.catalogue import Catalogue
from scripts.data.thelook.funnel import CANCELLED, Funnel
from scripts.data.thelook.people import Users
from scripts.data.thelook.schema import GENDERS, ORDER_STATUSES, table
from scripts.data.thelook.timeline import DAY, Timeline

MILESTONES = (HOURS_TO_SHIP, HOURS_TO_DELIVER, HOURS_TO_RETURN)  # each after the one before
# How many milestones each status has passed, and the status an order has after passing k.
PASSED = np.array([len(TIMESTAMPS_BY_STATUS[status]) for status in ORDER_STATUSES])
STATUS_AFTER = np.array(
    [ORDER_STATUSES.index(s) for s in ("Processing", "Shipped", "Complete", "Returned")]
)


@dataclass(frozen=True)
class Fulfilment:
    status: np.ndarray  # ORDER_STATUSES index, as of the end of the timeline
    times: tuple[np.ndarray, ...]  # shipped, delivered, returned (epoch seconds)
    missing: tuple[np.ndarray, ...]  # which of them are NULL


def _delay(rng: np.random.Generator, delay: Delay, n: int) -> np.ndarray:
    return (rng.uniform(delay.low_hours, delay.high_hours, n) * 3600).astype(np.int64)


def fulfil(
    rng: np.random.Generator, created: np.ndarray, status: np.ndarray, timeline: Timeline
) -> Fulfilment:
    times, instant = [], created
    for milestone in MILESTONES:
        instant = instant + _delay(rng, milestone, created.size)
        times.append(instant)
    # Milestone times increase, so the ones before the end are a prefix.
    happened = sum((t < timeline.end).astype(np.int64) for t in times)
    passed = np.minimum(PASSED[status], happened)
    final = np.where(status == CANCELLED, CANCELLED, STATUS_AFTER[passed])
    missing = tuple(passed <= k for k in range(len(MILESTONES)))
    return Fulfilment(final, tuple(times), missing)


# order_items copies these columns of its order.
ITEM_COLUMNS_OF_ORDER = ("status", "created_at", "shipped_at", "delivered_at", "returned_at")
# inventory_items copies these product columns, under these names.
INVENTORY_PRODUCT_COLUMNS = {
    "cost": "cost",
    "product_category": "category",
    "product_name": "name",
    "product_brand": "brand",
    "product_retail_price": "retail_price",
    "product_department": "department",
    "product_sku": "sku",
    "product_distribution_center_id": "distribution_center_id",
}


def build_orders(
    rng: np.random.Generator,
    funnel: Funnel,
    users: Users,
    catalogue: Catalogue,
    timeline: Timeline,
    first_id: Mapping[str, int],
) -> dict[str, pa.Table]:
    """orders, order_items and inventory_items; ids start at ``first_id[table]``."""
    buying = funnel.buying
    user = funnel.sessions.user[buying]
    created = funnel.purchase_time(buying)
    done = fulfil(rng, created, funnel.status[buying], timeline)
    shipped, delivered, returned = map(col.timestamps, done.times, done.missing)
    sizes = funnel.slots[buying]
    orders = table(
        "orders",
        {
            "order_id": col.sequence(first_id["orders"], buying.size),
            "user_id": users.ids[user],
            "status": col.labels(ORDER_STATUSES, done.status),
            "gender": col.labels(GENDERS, users.gender[user]),
            "created_at": col.timestamps(created),
            "returned_at": returned,
            "shipped_at": shipped,
            "delivered_at": delivered,
            "num_of_item": sizes.astype(np.int64),
        },
    )

    # One item per product slot of the buying session, with its order's status and times.
    product = funnel.product[col.ranges(funnel.first_slot[buying], sizes)]
    item_order = np.repeat(np.arange(buying.size), sizes)
    of_order = orders.take(item_order)
    first_stock = first_id["inventory_items"]  # the sold stock items come first
    order_items = table(
        "order_items",
        {
            "id": col.sequence(first_id["order_items"], product.size),
            "order_id": of_order["order_id"],
            "user_id": of_order["user_id"],
            "product_id": catalogue.products["id"].take(product),
            "inventory_item_id": col.sequence(first_stock, product.size),
            **{name: of_order[name] for name in ITEM_COLUMNS_OF_ORDER},
            "sale_price": catalogue.products["retail_price"].take(product),
        },
    )
    inventory = _inventory(rng, catalogue, timeline, product, created[item_order], first_stock)
    return {"orders": orders, "order_items": order_items, "inventory_items": inventory}


def _inventory(
    rng: np.random.Generator,
    catalogue: Catalogue,
    timeline: Timeline,
    sold_product: np.ndarray,
    sold_at: np.ndarray,
    first_id: int,
) -> pa.Table:
    """One stock item per order item, sold when ordered, then unsold stock."""
    low, high = STOCK_DAYS_BEFORE_SALE
    stocked = sold_at - (rng.uniform(low, high, sold_at.size) * DAY).astype(np.int64)
    unsold = round(sold_at.size * UNSOLD_PER_SOLD)
    product = np.concatenate([sold_product, catalogue.draw_any(rng, unsold)])
    created = np.concatenate([stocked, timeline.growing(rng, unsold)])
    never = np.arange(product.size) >= sold_at.size
    sold = np.concatenate([sold_at, np.zeros(unsold, dtype=np.int64)])
    products = catalogue.products.take(product)
    return table(
        "inventory_items",
        {
            "id": col.sequence(first_id, product.size),
            "product_id": products["id"],
            "created_at": col.timestamps(created),
            "sold_at": col.timestamps(sold, never),
            **{name: products[column] for name, column in INVENTORY_PRODUCT_COLUMNS.items()},
        },
    )
