"""From feature columns to the float32 matrix every candidate is fitted on.

Numeric features pass through (null → NaN, which XGBoost routes natively and the linear model
imputes). Categoricals are one-hot encoded over the levels frequent enough in the training data;
rarer levels share an implicit "other" level (all zeros). One-hot rather than XGBoost's native
categoricals because all candidates then see the same matrix, and a category's SHAP value is the
plain sum of its columns' values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from common.ml.features import FeatureSpec

MIN_LEVEL_ROWS = 50  # a level seen less often than this is folded into "other"
MAX_LEVELS = 30


@dataclass(frozen=True)
class Categorical:
    """A categorical column as integer codes into ``categories``; -1 is null."""

    codes: np.ndarray
    categories: tuple[str, ...]

    @classmethod
    def from_values(cls, values: Sequence[str | None]) -> Categorical:
        present = sorted({v for v in values if v is not None})
        index = {value: i for i, value in enumerate(present)}
        codes = np.fromiter((index.get(v, -1) for v in values), np.int32, len(values))
        return cls(codes, tuple(present))

    def take(self, rows: np.ndarray) -> Categorical:
        return Categorical(self.codes[rows], self.categories)

    def values(self) -> list[str | None]:
        lookup = [*self.categories, None]  # code -1 picks the trailing None
        return [lookup[c] for c in self.codes.tolist()]


Column = np.ndarray | Categorical
Frame = Mapping[str, Column]


def take(frame: Frame, rows: np.ndarray) -> dict[str, Column]:
    return {
        name: column[rows] if isinstance(column, np.ndarray) else column.take(rows)
        for name, column in frame.items()
    }


@dataclass(frozen=True)
class Levels:
    feature: str
    levels: tuple[str, ...]
    has_other: bool  # training saw values outside ``levels``: "other" is a learned level


@dataclass(frozen=True)
class Encoder:
    features: tuple[str, ...]  # in spec order
    numeric: tuple[str, ...]
    categorical: tuple[Levels, ...]

    @classmethod
    def fit(cls, spec: FeatureSpec, frame: Frame, rows: np.ndarray | None = None) -> Encoder:
        """Levels from the training data: ``rows`` of ``frame`` (default: all)."""
        categorical = []
        for feature in spec.features:
            if feature.kind != "categorical":
                continue
            column = frame[feature.name]
            codes = column.codes if rows is None else column.codes[rows]
            counts = np.bincount(codes[codes >= 0], minlength=len(column.categories))
            order = np.argsort(-counts, kind="stable")
            kept = [int(i) for i in order[:MAX_LEVELS] if counts[i] >= MIN_LEVEL_ROWS]
            levels = tuple(column.categories[i] for i in kept)
            has_other = int(counts.sum() - counts[kept].sum()) > 0
            categorical.append(Levels(feature.name, levels, has_other))
        numeric = tuple(f.name for f in spec.features if f.kind == "numeric")
        return cls(spec.names, numeric, tuple(categorical))

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the encoded matrix's columns: numerics, then ``feature=level``."""
        one_hot = (f"{c.feature}={level}" for c in self.categorical for level in c.levels)
        return (*self.numeric, *one_hot)

    @property
    def groups(self) -> np.ndarray:
        """For each encoded column, the index in ``features`` of the feature it encodes."""
        position = {name: i for i, name in enumerate(self.features)}
        owners = [*self.numeric, *(c.feature for c in self.categorical for _ in c.levels)]
        return np.array([position[name] for name in owners], dtype=np.int64)

    def transform(self, frame: Frame, rows: np.ndarray | None = None) -> np.ndarray:
        """The encoded matrix of ``rows`` of ``frame`` (default: all), without copying the frame."""
        n = _length(frame) if rows is None else len(rows)
        matrix = np.zeros((n, len(self.columns)), dtype=np.float32)
        for j, name in enumerate(self.numeric):
            matrix[:, j] = frame[name] if rows is None else frame[name][rows]
        offset = len(self.numeric)
        for spec in self.categorical:
            column = frame[spec.feature]
            if rows is not None:
                column = column.take(rows)
            slot = {level: i for i, level in enumerate(spec.levels)}
            # category code → one-hot slot (-1: other or null); the extra entry serves code -1.
            lookup = np.array([slot.get(c, -1) for c in column.categories] + [-1], np.int64)
            slots = lookup[column.codes]
            hit = slots >= 0
            matrix[np.flatnonzero(hit), offset + slots[hit]] = 1.0
            offset += len(spec.levels)
        return matrix

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "numeric": list(self.numeric),
            "categorical": [
                {"feature": c.feature, "levels": list(c.levels), "has_other": c.has_other}
                for c in self.categorical
            ],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Encoder:
        return cls(
            tuple(raw["features"]),
            tuple(raw["numeric"]),
            tuple(
                Levels(c["feature"], tuple(c["levels"]), bool(c["has_other"]))
                for c in raw["categorical"]
            ),
        )


def _length(frame: Frame) -> int:
    column = next(iter(frame.values()))
    return len(column) if isinstance(column, np.ndarray) else len(column.codes)
