"""What happens inside each session: how far down the funnel it goes, which products it shows,
what its order looks like, and when each of its events happens.

A session walks home → department → product page(s) → cart → purchase (→ cancel), stopping at
its furthest step. A buying session shows exactly its order's products; the department page is
that of its first product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scripts.data.thelook import columns as col
from scripts.data.thelook.calibration import (
    CANCEL_EVENT_SHARE,
    EVENT_GAP_SECONDS,
    FUNNEL_REACH,
    ITEMS_PER_ORDER,
    PRODUCTS_VIEWED,
    SIGNED_IN_PURCHASE_SHARE,
    STATUS_MIX,
)
from scripts.data.thelook.catalogue import Catalogue
from scripts.data.thelook.schema import EVENT_TYPES, ORDER_STATUSES
from scripts.data.thelook.sessions import Sessions

HOME, DEPARTMENT, PRODUCT, CART, PURCHASE, CANCEL = range(len(EVENT_TYPES))
CANCELLED = ORDER_STATUSES.index("Cancelled")
NO_ORDER = -1


def _browsing_depth_mix() -> dict[int, float]:
    """Furthest step of a session that does not buy, so that all signed-in sessions together
    reach each step with the FUNNEL_REACH shares."""
    reach = [*FUNNEL_REACH.values(), SIGNED_IN_PURCHASE_SHARE]
    return {step: reach[step] - reach[step + 1] for step in range(len(FUNNEL_REACH))}


@dataclass(frozen=True)
class Funnel:
    sessions: Sessions
    status: np.ndarray  # per session: ORDER_STATUSES index of its order, NO_ORDER if none
    first_slot: np.ndarray  # per session: its first product slot
    slots: np.ndarray  # per session: products shown (the order's items when it buys)
    product: np.ndarray  # per slot: catalogue product index
    first_event: np.ndarray  # per session: index of its first event
    event_session: np.ndarray  # per event
    event_position: np.ndarray  # per event: 0, 1, ... within its session
    event_type: np.ndarray  # per event: EVENT_TYPES index
    event_time: np.ndarray  # per event: epoch seconds

    @property
    def buying(self) -> np.ndarray:
        return np.flatnonzero(self.status != NO_ORDER)

    def purchase_time(self, sessions: np.ndarray) -> np.ndarray:
        """When each of these buying sessions placed its order (its purchase event)."""
        return self.event_time[self.first_event[sessions] + PRODUCT + self.slots[sessions] + 1]


def _order_sizes(rng: np.random.Generator, extra_item: np.ndarray) -> np.ndarray:
    sizes = np.array(list(ITEMS_PER_ORDER))[col.pick(rng, ITEMS_PER_ORDER, extra_item.size)]
    return np.minimum(sizes + extra_item, max(ITEMS_PER_ORDER))


def _event_types(position: np.ndarray, product_pages: np.ndarray) -> np.ndarray:
    """Event types from positions in the session: home, department, the product pages, then
    cart, purchase and cancel as far as the session got."""
    after_products = position - PRODUCT - product_pages
    steps = [position == HOME, position == DEPARTMENT, after_products < 0]
    steps += [after_products == 0, after_products == 1]
    return np.select(steps, [HOME, DEPARTMENT, PRODUCT, CART, PURCHASE], CANCEL).astype(np.int8)


def _event_times(
    rng: np.random.Generator, start: np.ndarray, first_event: np.ndarray, session: np.ndarray
) -> np.ndarray:
    gap = rng.integers(EVENT_GAP_SECONDS[0], EVENT_GAP_SECONDS[1] + 1, session.size)
    gap[first_event] = 0
    elapsed = np.cumsum(gap)
    return start[session] + elapsed - elapsed[first_event][session]


def walk(
    rng: np.random.Generator, sessions: Sessions, gender: np.ndarray, catalogue: Catalogue
) -> Funnel:
    """Lay out every session's events. ``gender`` picks the department browsed per session."""
    n = len(sessions)
    buys = sessions.purchase
    depth = np.where(buys, PURCHASE, col.pick(rng, _browsing_depth_mix(), n))
    status = np.where(buys, col.pick(rng, STATUS_MIX, n, ORDER_STATUSES), NO_ORDER)
    cancel = (status == CANCELLED) & (rng.random(n) < CANCEL_EVENT_SHARE)

    # Product slots: the order's items, the pages viewed, or the one product whose department
    # page a session that stops early shows.
    viewed = np.array(list(PRODUCTS_VIEWED))[col.pick(rng, PRODUCTS_VIEWED, n)]
    browsed = np.where(depth >= PRODUCT, viewed, 1)
    slots = np.where(buys, _order_sizes(rng, sessions.extra_item), browsed)
    product = catalogue.draw(rng, np.repeat(gender, slots))

    product_pages = np.where(depth >= PRODUCT, slots, 0)
    events = 1 + (depth >= DEPARTMENT) + product_pages + (depth >= CART) + buys + cancel
    first_event = np.cumsum(events) - events
    session = np.repeat(np.arange(n), events)
    position = col.ranks(events)
    return Funnel(
        sessions=sessions,
        status=status,
        first_slot=np.cumsum(slots) - slots,
        slots=slots,
        product=product,
        first_event=first_event,
        event_session=session,
        event_position=position,
        event_type=_event_types(position, product_pages[session]),
        event_time=_event_times(rng, sessions.start, first_event, session),
    )
