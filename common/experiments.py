"""Deterministic experiment assignment, shared with dbt (macro ``hash_bucket``).

bucket = first 8 bytes of SHA-256("<experiment_id>:<user_id>") as an unsigned big-endian integer
/ 2^64, a number in [0, 1); the variant is the first whose cumulative weight exceeds the bucket.
The SQL of both engines computes the same double: the 64-bit integer is assembled from two
32-bit halves whose sum is rounded to a double once, exactly as Python rounds ``int / 2**64``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import accumulate

_TWO_POW_64 = 2**64


def hash_bucket(experiment_id: str, user_id: int | str) -> float:
    digest = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _TWO_POW_64


def check_weights(variants: Sequence[str], weights: Sequence[float]) -> None:
    if len(variants) < 2 or len(variants) != len(weights):
        raise ValueError("need at least two variants and one weight per variant")
    if len(set(variants)) != len(variants):
        raise ValueError("variant names must be unique")
    if any(w < 0 for w in weights) or abs(sum(weights) - 1) > 1e-9:
        raise ValueError("weights must be non-negative and sum to 1")


def assign_variant(
    experiment_id: str, user_id: int | str, variants: Sequence[str], weights: Sequence[float]
) -> str:
    check_weights(variants, weights)
    bucket = hash_bucket(experiment_id, user_id)
    for variant, upper in zip(variants, accumulate(weights), strict=True):
        if bucket < upper:
            return variant
    return variants[-1]  # the cumulative sum may round to just under 1
