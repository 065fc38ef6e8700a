"""Users and the places they (and anonymous visitors) browse from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scripts.data.thelook import columns as col
from scripts.data.thelook.calibration import (
    COUNTRY_MIX,
    GENDER_MIX,
    USER_AGE_RANGE,
    USER_TRAFFIC_SOURCE_MIX,
)
from scripts.data.thelook.schema import GENDERS, table
from scripts.data.thelook.timeline import Timeline
from scripts.data.thelook.vocabulary import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_SUFFIXES,
    UNIT_PREFIXES,
)

# Cities of each country, in COUNTRY_MIX order, for a two-step draw: country, then city.
_CITIES_OF = [
    np.array([i for i, city in enumerate(CITIES) if city.country == country])
    for country in COUNTRY_MIX
]
_CITY_FIELDS = {field: [getattr(city, field) for city in CITIES] for field in CITIES[0]._fields}
# First names of both genders in one vocabulary, and the positions of each gender's.
_FIRST_NAMES = [name for g in GENDERS for name in FIRST_NAMES[g]]
_FIRST_NAMES_OF = [np.array([_FIRST_NAMES.index(n) for n in FIRST_NAMES[g]]) for g in GENDERS]
ANONYMOUS = -1  # the user position of a session nobody is signed in to
COORDINATE_JITTER_DEGREES = 0.05  # spread users around their city centre (~5 km)
UNIT_SHARE = 0.3  # addresses with an "Apt." or "Suite" number


@dataclass(frozen=True)
class Places:
    city: np.ndarray  # index into vocabulary.CITIES
    postal_code: pa.Array

    def take(self, rows: np.ndarray) -> Places:
        return Places(self.city[rows], self.postal_code.take(rows))

    def concat(self, other: Places) -> Places:
        return Places(
            np.concatenate([self.city, other.city]),
            pa.concat_arrays([self.postal_code, other.postal_code]),
        )

    def columns(self) -> dict[str, pa.Array]:
        """thelook's city, state and postal_code columns."""
        return {
            "city": col.labels(_CITY_FIELDS["city"], self.city),
            "state": col.labels(_CITY_FIELDS["state"], self.city),
            "postal_code": self.postal_code,
        }


def draw_places(rng: np.random.Generator, n: int) -> Places:
    city = col.pick_within(rng, _CITIES_OF, col.pick(rng, COUNTRY_MIX, n))
    postal_digits = np.array(_CITY_FIELDS["postal_digits"])[city]
    postal_code = col.join(
        col.words(_CITY_FIELDS["postal_prefix"], city),
        col.digits(rng, postal_digits),
        col.words(_CITY_FIELDS["postal_suffix"], city),
    )
    return Places(city, postal_code)


@dataclass(frozen=True)
class Users:
    """One chunk of users; arrays are indexed by the user's position in the chunk."""

    ids: np.ndarray
    gender: np.ndarray  # index into schema.GENDERS
    signup: np.ndarray  # epoch seconds
    places: Places
    table: pa.Table


def _street_addresses(rng: np.random.Generator, n: int) -> pa.Array:
    unit = col.join(
        " ",
        col.words(UNIT_PREFIXES, rng.integers(0, len(UNIT_PREFIXES), n)),
        " ",
        col.text(rng.integers(100, 1000, n)),
    )
    no_unit = pa.array(rng.random(n) >= UNIT_SHARE)
    return col.join(
        col.text(rng.integers(1, 100_000, n)),
        " ",
        col.words(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n)),
        " ",
        col.words(STREET_SUFFIXES, rng.integers(0, len(STREET_SUFFIXES), n)),
        pc.if_else(no_unit, "", unit),
    )


def _coordinate(rng: np.random.Generator, centre: list[float], city: np.ndarray) -> np.ndarray:
    jitter = rng.normal(0, COORDINATE_JITTER_DEGREES, city.size)
    return np.round(np.array(centre)[city] + jitter, 6)


def build_users(rng: np.random.Generator, first_id: int, n: int, timeline: Timeline) -> Users:
    ids = col.sequence(first_id, n)
    gender = col.pick(rng, GENDER_MIX, n, GENDERS)
    first = col.pick_within(rng, _FIRST_NAMES_OF, gender)
    last = rng.integers(0, len(LAST_NAMES), n)
    email = col.join(
        col.words([name.lower() for name in _FIRST_NAMES], first),
        col.words([name.lower() for name in LAST_NAMES], last),
        "@",
        col.words(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), n)),
    )
    places = draw_places(rng, n)
    latitude = _coordinate(rng, _CITY_FIELDS["latitude"], places.city)
    longitude = _coordinate(rng, _CITY_FIELDS["longitude"], places.city)
    signup = timeline.growing(rng, n)
    located = places.columns()
    users = table(
        "users",
        {
            "id": ids,
            "first_name": col.labels(_FIRST_NAMES, first),
            "last_name": col.labels(LAST_NAMES, last),
            "email": email,
            "age": rng.integers(USER_AGE_RANGE[0], USER_AGE_RANGE[1] + 1, n),
            "gender": col.labels(GENDERS, gender),
            "state": located["state"],
            "street_address": _street_addresses(rng, n),
            "postal_code": located["postal_code"],
            "city": located["city"],
            "country": col.labels(_CITY_FIELDS["country"], places.city),
            "latitude": latitude,
            "longitude": longitude,
            "traffic_source": col.draw(rng, USER_TRAFFIC_SOURCE_MIX, n),
            "created_at": col.timestamps(signup),
            "user_geom": col.join("POINT(", col.text(longitude), " ", col.text(latitude), ")"),
        },
    )
    return Users(ids, gender, signup, places, users)


@dataclass(frozen=True)
class Visitors:
    """Who is behind each session: its signed-in user, or an anonymous visitor."""

    user_id: pa.Array  # NULL when anonymous
    gender: np.ndarray  # picks the department browsed
    places: Places


def visitors(rng: np.random.Generator, users: Users, session_user: np.ndarray) -> Visitors:
    """``session_user``: the chunk position of each session's user, or ANONYMOUS."""
    anonymous = session_user == ANONYMOUS
    strangers = int(anonymous.sum())
    # Anonymous visitors are drawn like users and numbered after them, one per session.
    person = session_user.copy()
    person[anonymous] = users.ids.size + np.arange(strangers)
    gender = np.concatenate([users.gender, col.pick(rng, GENDER_MIX, strangers, GENDERS)])
    places = users.places.concat(draw_places(rng, strangers))
    user_id = pa.array(users.ids[np.where(anonymous, 0, session_user)], mask=anonymous)
    return Visitors(user_id, gender[person], places.take(person))
