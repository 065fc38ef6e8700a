"""Who visits the site when: signed-in sessions per user, and anonymous sessions.

Each user draws a lifetime number of orders (calibrated) and of browsing sessions, and spreads
them uniformly over an activity period after signup; what would fall on or after ``as_of`` has
not happened yet and is dropped. Each order is placed in a session of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from scripts.data.thelook import columns as col
from scripts.data.thelook.calibration import (
    ACTIVE_DAYS_MEAN,
    ANONYMOUS_PER_SIGNED_IN_SESSION,
    BROWSE_SESSIONS_SHAPE,
    EVENT_GAP_SECONDS,
    ITEMS_PER_ORDER,
    ORDERS_PER_PURCHASING_USER,
    PRODUCTS_VIEWED,
    PURCHASING_USER_SHARE,
    SIGNED_IN_PURCHASE_SHARE,
)
from scripts.data.thelook.people import ANONYMOUS, Users
from scripts.data.thelook.timeline import DAY, Timeline, fit_in_day

# The longest session: home, department, the most product pages, cart, purchase, cancel.
MAX_EVENTS = 5 + max(max(ITEMS_PER_ORDER), max(PRODUCTS_VIEWED))
MAX_SESSION_SECONDS = (MAX_EVENTS - 1) * EVENT_GAP_SECONDS[1]


@dataclass(frozen=True)
class Sessions:
    user: np.ndarray  # position of the user in the chunk, or ANONYMOUS
    start: np.ndarray  # epoch seconds of the first event
    purchase: np.ndarray  # the session places an order
    extra_item: np.ndarray  # its order gets one more item (a planted effect)

    def __len__(self) -> int:
        return self.user.size

    def where(self, keep: np.ndarray) -> Sessions:
        return Sessions(*(getattr(self, f.name)[keep] for f in fields(self)))

    @property
    def day(self) -> np.ndarray:
        return self.start // DAY

    @classmethod
    def concat(cls, *parts: Sessions) -> Sessions:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def _lifetime_orders(rng: np.random.Generator, n: int) -> np.ndarray:
    counts = np.array(list(ORDERS_PER_PURCHASING_USER), dtype=np.int64)
    orders = counts[col.pick(rng, ORDERS_PER_PURCHASING_USER, n)]
    return np.where(rng.random(n) < PURCHASING_USER_SHARE, orders, 0)


def _browse_sessions_mean() -> float:
    """Browsing sessions per user that make purchases SIGNED_IN_PURCHASE_SHARE of all sessions."""
    users = sum(ORDERS_PER_PURCHASING_USER.values())
    orders = sum(k * count for k, count in ORDERS_PER_PURCHASING_USER.items()) / users
    orders *= PURCHASING_USER_SHARE
    return orders * (1 - SIGNED_IN_PURCHASE_SHARE) / SIGNED_IN_PURCHASE_SHARE


def signed_in_sessions(rng: np.random.Generator, users: Users, timeline: Timeline) -> Sessions:
    n = users.ids.size
    orders = _lifetime_orders(rng, n)
    shape = BROWSE_SESSIONS_SHAPE
    browsing = rng.negative_binomial(shape, shape / (shape + _browse_sessions_mean()), n)
    active = rng.exponential(ACTIVE_DAYS_MEAN * DAY, n)
    per_user = orders + browsing
    user = np.repeat(np.arange(n), per_user)
    # Start late enough after signup that squeezing into the day cannot move it before signup.
    offset = MAX_SESSION_SECONDS + 1 + (rng.random(user.size) * active[user]).astype(np.int64)
    instant = users.signup[user] + offset
    purchase = col.ranks(per_user) < orders[user]  # the first ones; times are shuffled anyway
    happened = np.flatnonzero(instant < timeline.end)
    chronological = happened[np.lexsort((instant[happened], user[happened]))]
    return Sessions(
        user[chronological],
        fit_in_day(instant[chronological], MAX_SESSION_SECONDS),
        purchase[chronological],
        np.zeros(chronological.size, dtype=bool),
    )


def anonymous_sessions(rng: np.random.Generator, n: int, timeline: Timeline) -> Sessions:
    """Visitors who never sign in: they browse but cannot buy."""
    start = fit_in_day(np.sort(timeline.growing(rng, n)), MAX_SESSION_SECONDS)
    no = np.zeros(n, dtype=bool)
    return Sessions(np.full(n, ANONYMOUS), start, no, no)


def anonymous_count(signed_in: int) -> int:
    return round(signed_in * ANONYMOUS_PER_SIGNED_IN_SESSION)
