"""Prediction requests: ``{"rows": [{feature: value, ...}, ...]}`` checked against the features
of the model that will answer them (from its model card), then turned into columns.

Every row must hold exactly the model's features. Numbers must be JSON numbers (not booleans or
strings), within the range the card documents for the feature (its definition's ``minimum`` and
``maximum``: an age of 130 or a negative order count is a client's mistake, not a prediction);
null only where the feature allows it. A card written before features had ranges bounds no
value. Categories are strings; a value the model never saw is accepted only if training folded
rare values into a learned "other" level.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from common.ml.encoding import Categorical, Column, Encoder
from common.ml.features import Feature
from common.validation import InvalidInput, is_number, known_fields

MAX_ROWS = 10_000
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def parse_rows(
    body: dict[str, Any], features: tuple[Feature, ...], encoder: Encoder
) -> dict[str, Column]:
    rows = known_fields(body, "", ("rows",)).get("rows")
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_ROWS:
        raise InvalidInput("rows", f"must be a list of 1 to {MAX_ROWS} feature objects")
    names = [f.name for f in features]
    expected = set(names)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"rows[{i}]", "must be an object of feature values")
        if row.keys() != expected:
            missing, extra = sorted(expected - row.keys()), sorted(row.keys() - expected)
            problems = [f"missing feature(s): {', '.join(missing)}"] if missing else []
            problems += [f"unknown feature(s): {', '.join(extra)}"] if extra else []
            raise InvalidInput(f"rows[{i}].{(missing or extra)[0]}", "; ".join(problems))

    levels = {c.feature: c for c in encoder.categorical}
    frame: dict[str, Column] = {}
    for feature in features:
        values = [row[feature.name] for row in rows]
        if feature.kind == "numeric":
            frame[feature.name] = _numeric(feature, values)
        else:
            frame[feature.name] = _categorical(feature, values, levels[feature.name])
    return frame


def _numeric(feature: Feature, values: list[Any]) -> np.ndarray:
    allowed = "a number or null" if feature.nullable else "a number"
    low = -math.inf if feature.minimum is None else feature.minimum
    high = math.inf if feature.maximum is None else feature.maximum
    for i, value in enumerate(values):
        if value is None and feature.nullable:
            continue
        if not is_number(value) or abs(value) > _FLOAT32_MAX:
            raise InvalidInput(f"rows[{i}].{feature.name}", f"must be {allowed}")
        if not low <= value <= high:
            raise InvalidInput(f"rows[{i}].{feature.name}", _range_rule(feature))
    return np.array([math.nan if v is None else v for v in values], dtype=np.float32)


def _range_rule(feature: Feature) -> str:
    card = "(the range in the model card)"
    if feature.maximum is None:
        return f"must be at least {feature.minimum:g} {card}"
    if feature.minimum is None:
        return f"must be at most {feature.maximum:g} {card}"
    return f"must be from {feature.minimum:g} to {feature.maximum:g} {card}"


def _categorical(feature: Feature, values: list[Any], levels: Any) -> Categorical:
    known = set(levels.levels)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidInput(f"rows[{i}].{feature.name}", "must be a string")
        if value not in known and not levels.has_other:
            raise InvalidInput(
                f"rows[{i}].{feature.name}",
                f"must be one of {', '.join(levels.levels)} (the values the model was trained on)",
            )
    return Categorical.from_values(values)
