"""A bounded root search: bisection on a bracket, so every solve ends in a fixed number of steps."""

from __future__ import annotations

import math
from collections.abc import Callable

_STEPS = 200  # halves a bracket of 1e-300..1e300 in log scale down to adjacent floats


def increasing_root(f: Callable[[float], float], lo: float, hi: float) -> float:
    """The x in [lo, hi] (both > 0) where an increasing f crosses 0, bisected in log scale.

    The caller checks f(lo) < 0 <= f(hi); the answer is the bracket's upper end, where f >= 0.
    """
    for _ in range(_STEPS):
        mid = math.sqrt(lo) * math.sqrt(hi)  # the geometric mean, without overflow
        if not lo < mid < hi:
            break
        if f(mid) >= 0:
            hi = mid
        else:
            lo = mid
    return hi
