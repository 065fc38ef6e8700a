"""The events table: one row per page view of every logged session."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scripts.data.thelook import columns as col
from scripts.data.thelook.calibration import BROWSER_MIX, EVENT_TRAFFIC_SOURCE_MIX
from scripts.data.thelook.catalogue import Catalogue
from scripts.data.thelook.funnel import CANCEL, CART, DEPARTMENT, HOME, PRODUCT, PURCHASE, Funnel
from scripts.data.thelook.people import Visitors
from scripts.data.thelook.schema import EVENT_TYPES, table

# Pages without a parameter, by event type; then a department page and a page per product.
FIXED_PAGES = {HOME: "/", CART: "/cart", PURCHASE: "/purchase", CANCEL: "/cancel"}


def page_uris(catalogue: Catalogue) -> pa.Array:
    """Every uri of the site: FIXED_PAGES, then per product its department page and its page.

    thelook writes department pages as ``/department/men/category/fashionhoodies&sweatshirts/
    brand/hurley``: lower case, spaces removed.
    """
    products = catalogue.products

    def slug(column: str) -> pa.Array:
        lower = pc.utf8_lower(products[column].combine_chunks().fill_null(""))
        return pc.replace_substring(lower, " ", "")

    department = col.join(
        "/department/", slug("department"), "/category/", slug("category"), "/brand/", slug("brand")
    )
    product = col.join("/product/", col.text(products["id"].combine_chunks()))
    return pa.concat_arrays([pa.array(list(FIXED_PAGES.values())), department, product])


def _uri_index(funnel: Funnel, product_count: int) -> np.ndarray:
    """Each event's position in ``page_uris``."""
    kind, session = funnel.event_type, funnel.event_session
    fixed = np.zeros(len(EVENT_TYPES), dtype=np.int64)
    fixed[list(FIXED_PAGES)] = np.arange(len(FIXED_PAGES))
    index = fixed[kind]
    # The department page is that of the session's first product; product pages go slot by slot.
    department = kind == DEPARTMENT
    first_product = funnel.product[funnel.first_slot[session[department]]]
    index[department] = len(FIXED_PAGES) + first_product
    page = kind == PRODUCT
    slot = funnel.first_slot[session[page]] + funnel.event_position[page] - PRODUCT
    index[page] = len(FIXED_PAGES) + product_count + funnel.product[slot]
    return index


def _ip_addresses(rng: np.random.Generator, n: int) -> pa.Array:
    octets = [rng.integers(1, 224, n), *(rng.integers(0, 256, n) for _ in range(3))]
    return pc.binary_join_element_wise(*(col.text(o) for o in octets), ".")


def build_events(
    rng: np.random.Generator, funnel: Funnel, who: Visitors, uris: pa.Array, first_id: int
) -> pa.Table:
    """``who`` is per session of the funnel."""
    n = len(funnel.sessions)
    session = funnel.event_session
    per_session: Mapping[str, pa.Array] = {
        "session_id": col.uuids(rng, n),
        "ip_address": _ip_addresses(rng, n),
        **who.places.columns(),
        "browser": col.draw(rng, BROWSER_MIX, n),
        "traffic_source": col.draw(rng, EVENT_TRAFFIC_SOURCE_MIX, n),
    }
    repeated = {name: values.take(session) for name, values in per_session.items()}
    product_count = (len(uris) - len(FIXED_PAGES)) // 2
    return table(
        "events",
        {
            "id": col.sequence(first_id, session.size),
            "user_id": who.user_id.take(session),
            "sequence_number": funnel.event_position + 1,
            "session_id": repeated["session_id"],
            "created_at": col.timestamps(funnel.event_time),
            "ip_address": repeated["ip_address"],
            "city": repeated["city"],
            "state": repeated["state"],
            "postal_code": repeated["postal_code"],
            "browser": repeated["browser"],
            "traffic_source": repeated["traffic_source"],
            "uri": uris.take(_uri_index(funnel, product_count)),
            "event_type": col.labels(EVENT_TYPES, funnel.event_type),
        },
    )
