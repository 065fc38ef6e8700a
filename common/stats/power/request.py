"""POST /ab/power's JSON to a PowerQuery, refusing what the arithmetic cannot answer.

Beyond the rules of common.validation, magnitudes are bounded where float arithmetic would
overflow or a scipy routine lose its accuracy: alpha down to 1e-6, power up to 1 - 1e-6, means
and standard deviations within 1e±150, ratios 1e±3, arms of at most 1e15 units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from common.stats.inputs import MAX_ARMS, SequentialOptions
from common.stats.power.model import (
    CORRECTIONS,
    MAX_ARM,
    METHODS,
    MIN_ARM,
    SIDES,
    PowerQuery,
)
from common.validation import (
    InvalidInput,
    boolean,
    choice,
    known_fields,
    number,
    positive,
    probability,
    whole_number,
)

FIELDS = (
    "metric", "baseline", "sd", "mde", "mde_type", "n_per_arm", "days", "alpha", "power",
    "method", "sided", "ratio", "arms", "correction", "sequential", "daily_traffic",
)  # fmt: skip
MIN_ALPHA = 1e-6  # the noncentral t is checked down to a per-comparison level of 3e-9
MAX_POWER = 1 - 1e-6
MAX_MAGNITUDE = 1e150  # of a mean, a standard deviation or an absolute mde
MAX_RATIO = 1e3
MAX_CV = 1e12  # sd / |baseline| for a relative (delta-method) test
MIN_DAILY_TRAFFIC = 1e-3
_DEFAULT_TUNING = SequentialOptions().tuning  # the analysis's default, GrowthBook's


def power_request(body: Mapping[str, Any]) -> PowerQuery:
    data = known_fields(body, "", FIELDS)
    metric = choice(data.get("metric", "proportion"), "metric", ("proportion", "mean"))
    baseline, sd = _baseline_and_sd(data, metric)
    relative = choice(data.get("mde_type", "relative"), "mde_type", ("relative", "absolute"))
    relative = relative == "relative"
    mde = _mde(data, baseline, relative, metric)
    alpha = _bounded(probability(data.get("alpha", 0.05), "alpha"), "alpha", MIN_ALPHA, 1)
    if "power" in data and mde is not None and ("n_per_arm" in data or "days" in data):
        raise InvalidInput("power", "is the result when both mde and a size are given")
    power = _bounded(probability(data.get("power", 0.8), "power"), "power", 0, MAX_POWER)
    if power <= alpha:
        raise InvalidInput("power", "must exceed alpha")
    method = None
    if "method" in data:
        method = choice(data["method"], "method", METHODS[metric])
    sided = choice(data.get("sided", "two-sided"), "sided", SIDES)
    tuning = _sequential(data.get("sequential", False), sided, method)
    spread = math.sqrt(baseline * (1 - baseline)) if sd is None else sd  # per unit
    if method == "delta" and spread > MAX_CV * abs(baseline):
        raise InvalidInput("baseline", "too close to 0 for a relative (delta-method) test")
    ratio = _bounded(positive(data.get("ratio", 1.0), "ratio"), "ratio", 1 / MAX_RATIO, MAX_RATIO)
    arms = whole_number(data.get("arms", 2), "arms", 2, MAX_ARMS)
    correction = choice(data.get("correction", "bonferroni"), "correction", CORRECTIONS)
    daily_traffic = None
    if "daily_traffic" in data:
        daily_traffic = positive(data["daily_traffic"], "daily_traffic")
        _bounded(daily_traffic, "daily_traffic", MIN_DAILY_TRAFFIC, MAX_ARM)
    n = _control_size(data, daily_traffic, 1 + (arms - 1) * ratio)
    if n is not None and n * ratio < MIN_ARM:
        raise InvalidInput("ratio", f"leaves fewer than {MIN_ARM:.0f} units in a treatment arm")
    if mde is None and n is None:
        raise InvalidInput("mde", "give mde (to get n_per_arm), n_per_arm or days (to get mde)")
    return PowerQuery(
        baseline, metric, sd, mde, relative, n, alpha, power, method, sided, ratio, arms,
        correction, tuning, daily_traffic,
    )  # fmt: skip


def _bounded(value: float, field: str, lowest: float, highest: float) -> float:
    if not lowest <= value <= highest:
        raise InvalidInput(field, f"must be between {lowest:g} and {highest:g}")
    return value


def _magnitude(value: float, field: str) -> None:
    if abs(value) > MAX_MAGNITUDE:
        raise InvalidInput(field, f"must be at most {MAX_MAGNITUDE:g} in magnitude")


def _baseline_and_sd(data: Mapping[str, Any], metric: str) -> tuple[float, float | None]:
    if "baseline" not in data:
        raise InvalidInput("baseline", "is required")
    baseline = number(data["baseline"], "baseline")
    if metric == "proportion":
        if not 0 < baseline < 1:
            raise InvalidInput("baseline", "a conversion rate must be strictly between 0 and 1")
        if "sd" in data:
            raise InvalidInput("sd", "applies to mean metrics only")
        return baseline, None
    _magnitude(baseline, "baseline")
    if "sd" not in data:
        raise InvalidInput("sd", "is required for a mean metric")
    sd = positive(data["sd"], "sd")
    return baseline, _bounded(sd, "sd", 1 / MAX_MAGNITUDE, MAX_MAGNITUDE)


def _mde(data: Mapping[str, Any], baseline: float, relative: bool, metric: str) -> float | None:
    if "mde" not in data:
        return None
    mde = number(data["mde"], "mde")
    if mde == 0:
        raise InvalidInput("mde", "must not be 0")
    if relative and baseline == 0:
        raise InvalidInput("mde_type", "a relative mde needs a non-zero baseline")
    change = mde * baseline if relative else mde
    if metric == "proportion" and not 0 < baseline + change < 1:
        raise InvalidInput("mde", "baseline + mde must stay strictly between 0 and 1")
    if metric == "mean":
        _magnitude(change, "mde")
    return mde


def _sequential(raw: Any, sided: str, method: str | None) -> float | None:
    """GrowthBook's tuning (units in a comparison where the interval is tightest), or None."""
    if isinstance(raw, bool):
        tuning = _DEFAULT_TUNING if boolean(raw, "sequential") else None
    else:
        data = known_fields(raw, "sequential", ("tuning",))
        tuning = positive(data.get("tuning", _DEFAULT_TUNING), "sequential.tuning")
        _bounded(tuning, "sequential.tuning", 1, MAX_ARM)
    if tuning is not None and sided != "two-sided":
        raise InvalidInput("sequential", "always-valid inference is two-sided only")
    if tuning is not None and method == "t":
        raise InvalidInput("method", "sequential power is normal-based: use z or delta")
    return tuning


def _control_size(data: Mapping[str, Any], daily_traffic: float | None, units: float):
    """n_per_arm as given, or what `days` of traffic put in the control arm."""
    if "days" in data:
        if "n_per_arm" in data:
            raise InvalidInput("days", "give n_per_arm or days, not both")
        if daily_traffic is None:
            raise InvalidInput("daily_traffic", "is required with days")
        n = positive(data["days"], "days") * daily_traffic / units
        field = "days"
    elif "n_per_arm" in data:
        n, field = number(data["n_per_arm"], "n_per_arm"), "n_per_arm"
    else:
        return None
    if not MIN_ARM <= n <= MAX_ARM:
        raise InvalidInput(field, f"must give {MIN_ARM:.0f} to {MAX_ARM:.0e} units per arm")
    return n
