"""Per-user experiment tables simulated with numpy, with a known effect per country: the input of
the effect models (common.ml.effects) without a warehouse, for their tests and benchmark."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from common.ml.effects.users import ExperimentUsers, from_columns

COUNTRIES = {"China": 0.35, "United States": 0.25, "Brasil": 0.15, "France": 0.15, "Japan": 0.1}
BROWSERS = {"Chrome": 0.5, "Safari": 0.3, "Firefox": 0.2}
BASE_RATE = 0.3


def _draw(rng: np.random.Generator, mix: Mapping[str, float], n: int) -> np.ndarray:
    return rng.choice(list(mix), n, p=list(mix.values())).astype(object)


def simulate_users(
    n: int, seed: int, lift_by_country: Mapping[str, float] | None = None
) -> ExperimentUsers:
    """Half the users treated; returning buyers convert more; treated users of a country in
    ``lift_by_country`` convert that many percentage points more (as a probability difference);
    revenue is 0 or an exponential order value of mean 60."""
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < 0.5
    country = _draw(rng, COUNTRIES, n)
    returning = rng.random(n) < 0.15
    rate = np.where(returning, 0.55, BASE_RATE)
    for name, lift in (lift_by_country or {}).items():
        rate = rate + np.where(treated & (country == name), lift, 0.0)
    converted = (rng.random(n) < rate).astype(float)
    return from_columns(
        {
            "variant": np.where(treated, "treatment", "control"),
            "converted": converted,
            "revenue": converted * rng.exponential(60.0, n),
            "pre_converted": returning.astype(float),
            "pre_revenue": returning * rng.exponential(80.0, n),
            "browser": _draw(rng, BROWSERS, n),
            "traffic_source": _draw(rng, {"Email": 0.5, "Organic": 0.5}, n),
            "country": country,
        },
        "treatment",
    )
