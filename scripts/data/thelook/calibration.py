"""The numbers the generator is tuned to, and how they were measured.

"Measured" constants come from the real exports in ``shared/datasets/thelook_ecommerce`` (see
``reference/PROVENANCE.md``); ``measure()`` recomputes the order-level ones from
``full_orders_products_2025-01-25/orders.csv.gz`` so a test can re-check them. "Assumed"
constants are modelling choices the exports cannot tell us (they hold no usable events); each
says why it has the value it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# --- Orders: measured on the full orders table (124,092 orders, export of 2025-01-25) --------

STATUS_MIX = {
    "Shipped": 0.2979,
    "Complete": 0.2513,
    "Processing": 0.2006,
    "Cancelled": 0.1493,
    "Returned": 0.1009,
}
ITEMS_PER_ORDER = {1: 0.6992, 2: 0.2008, 3: 0.0502, 4: 0.0498}
# Users by their number of orders, of the 79,865 users with at least one order.
ORDERS_PER_PURCHASING_USER = {1: 50_328, 2: 19_777, 3: 4_830, 4: 4_930}
# 79,865 purchasing users of 100,000 (user ids run 1..100000; max(orders.user_id) = 100000).
PURCHASING_USER_SHARE = 0.7986
# The buyer's gender (orders.gender = users.gender); the user samples are too small to beat it.
GENDER_MIX = {"F": 0.4998, "M": 0.5002}
# Orders per calendar year grow 5,666 (2020) → 51,196 (2024): 1.734 times a year.
YEARLY_GROWTH = 1.734


@dataclass(frozen=True)
class Delay:
    """A uniform delay in hours: the real delays are flat between 0 and a hard maximum."""

    low_hours: float
    high_hours: float


# Measured: min 0, max 71.98 / 119.98 / 71.98 hours, means 36.05 / 60.32 / 36.05.
HOURS_TO_SHIP = Delay(0, 72)  # created_at → shipped_at
HOURS_TO_DELIVER = Delay(0, 120)  # shipped_at → delivered_at
HOURS_TO_RETURN = Delay(0, 72)  # delivered_at → returned_at

# Measured: each status sets exactly these timestamps, in every row; the others are always NULL.
FULFILMENT_COLUMNS = ("shipped_at", "delivered_at", "returned_at")
TIMESTAMPS_BY_STATUS = {
    "Processing": (),
    "Cancelled": (),
    "Shipped": ("shipped_at",),
    "Complete": ("shipped_at", "delivered_at"),
    "Returned": ("shipped_at", "delivered_at", "returned_at"),
}

# --- Users: measured on the 1,638 distinct users of sample_unjoined + subset_joinable ---------

USER_AGE_RANGE = (12, 70)  # inclusive; flat between the two
USER_TRAFFIC_SOURCE_MIX = {
    "Search": 0.699,
    "Organic": 0.148,
    "Facebook": 0.059,
    "Display": 0.049,
    "Email": 0.045,
}
# Assumed: both user exports are LIMIT samples ordered by state (Acre, Alabama, Aichi, ...), so
# their country mix says nothing. These are rough shares of the public table's users.
COUNTRY_MIX = {
    "China": 0.340,
    "United States": 0.225,
    "Brasil": 0.146,
    "South Korea": 0.053,
    "France": 0.047,
    "United Kingdom": 0.046,
    "Germany": 0.042,
    "Spain": 0.040,
    "Japan": 0.024,
    "Australia": 0.022,
    "Belgium": 0.012,
    "Poland": 0.002,
    "Colombia": 0.001,
}

# --- Products: measured on subset_joinable order_items (507 items) joined to the catalogue ----

# Every item's product department matches the buyer's gender (F → Women, M → Men), and 507
# items hit 501 distinct products: popularity is flat within a department.
DEPARTMENT_BY_GENDER = {"F": "Women", "M": "Men"}

# --- Inventory: measured on sample_unjoined/inventory_items (1,000 rows, 379 sold) ------------

UNSOLD_PER_SOLD = 621 / 379  # unsold stock rows per sold one
STOCK_DAYS_BEFORE_SALE = (0, 60)  # sold_at - created_at: flat, 0.3 to 59.9 days

# --- Web sessions: measured on sample_unjoined/events (1,000 rows) ----------------------------

BROWSER_MIX = {"Chrome": 0.499, "Firefox": 0.220, "Safari": 0.194, "IE": 0.046, "Other": 0.041}
EVENT_TRAFFIC_SOURCE_MIX = {
    "Email": 0.476,
    "Adwords": 0.263,
    "Facebook": 0.114,
    "YouTube": 0.101,
    "Organic": 0.046,
}

# --- Assumed behaviour (the exports hold no usable sessions: every sampled event is a cancel) -

# Share of signed-in sessions reaching each step: a typical shop's drop-off. Orders come from
# the calibrated counts; SIGNED_IN_PURCHASE_SHARE sets how many browsing sessions go with them.
FUNNEL_REACH = {"home": 1.0, "department": 0.70, "product": 0.55, "cart": 0.30}
SIGNED_IN_PURCHASE_SHARE = 0.125
BROWSE_SESSIONS_SHAPE = 2.0  # negative-binomial shape: some users browse far more than others
PRODUCTS_VIEWED = {1: 0.6, 2: 0.3, 3: 0.1}  # product pages in a session that does not buy
CANCEL_EVENT_SHARE = 0.5  # Cancelled orders cancelled on the site; the rest later, off-site
# A third of all sessions are anonymous (a public analysis of the BigQuery table reports ~57%
# guests); fewer here so that the rows go to signed-in behaviour.
ANONYMOUS_PER_SIGNED_IN_SESSION = 0.5
# A user's sessions spread over an activity period after signup, exponential with this mean:
# gives a median signup → order lag of ~5 weeks (subset_joinable: 162 days, but that subset
# is a window of signups with orders). Activity after as_of is cut off, so ~86% of the lifetime
# orders above happen: ~70% of users buy by as_of, not 80%.
ACTIVE_DAYS_MEAN = 180
EVENT_GAP_SECONDS = (5, 180)  # flat pause between two page views; sessions last < 25 min


def measure(orders_csv_gz: str | Path) -> dict:
    """Recompute the order-level constants above from the real orders export."""
    import duckdb

    con = duckdb.connect()
    # gender must be text: the sniffer reads the F/M column as BOOLEAN. Timestamps come as
    # '2024-07-23 11:09:00 UTC' or, for the newest rows, with microseconds.
    formats = ["%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S.%f UTC"]
    con.execute(
        """
        create table orders as
        select cast(user_id as bigint) as user_id, status, gender,
               cast(num_of_item as integer) as num_of_item,
               strptime(created_at, $formats) as created_at,
               strptime(shipped_at, $formats) as shipped_at,
               strptime(delivered_at, $formats) as delivered_at,
               strptime(returned_at, $formats) as returned_at
        from read_csv($path, all_varchar = true)
        """,
        {"path": str(orders_csv_gz), "formats": formats},
    )
    (orders,) = con.execute("select count(*) from orders").fetchone()

    def shares(column: str) -> dict:
        rows = con.execute(
            f"select {column}, count(*) from orders group by 1 order by 2 desc"  # noqa: S608
        ).fetchall()
        return {value: round(count / orders, 4) for value, count in rows}

    per_user = con.execute(
        """
        select n, count(*) from (select user_id, count(*) as n from orders group by user_id)
        group by n order by n
        """
    ).fetchall()
    (purchasers, max_user) = con.execute(
        "select count(distinct user_id), max(user_id) from orders"
    ).fetchone()

    def delay(start: str, end: str) -> tuple[float, float, float]:
        hours = f"epoch({end} - {start}) / 3600"
        row = con.execute(
            f"select min({hours}), max({hours}), avg({hours}) from orders"  # noqa: S608
        ).fetchone()
        return tuple(round(value, 2) for value in row)

    set_shares = {}
    for status, *counts in con.execute(
        "select status, count(*), count(shipped_at), count(delivered_at), count(returned_at) "
        "from orders group by status"
    ).fetchall():
        total, *filled = counts
        set_shares[status] = {
            column: n / total for column, n in zip(FULFILMENT_COLUMNS, filled, strict=True)
        }

    yearly = dict(
        con.execute("select year(created_at), count(*) from orders group by 1").fetchall()
    )
    full_years = sorted(yearly)[1:-1]  # the first and last years are partial
    growth = (yearly[full_years[-1]] / yearly[full_years[0]]) ** (1 / (len(full_years) - 1))
    return {
        "orders": orders,
        "status_mix": shares("status"),
        "items_per_order": {int(k): v for k, v in shares("num_of_item").items()},
        "orders_per_purchasing_user": dict(per_user),
        "purchasing_user_share": round(purchasers / max_user, 4),
        "gender_mix": shares("gender"),
        "hours_to_ship": delay("created_at", "shipped_at"),
        "hours_to_deliver": delay("shipped_at", "delivered_at"),
        "hours_to_return": delay("delivered_at", "returned_at"),
        "timestamp_set_share": set_shares,
        "yearly_growth": round(growth, 3),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure(sys.argv[1]), indent=2, default=str))
