"""Fitted models as they are stored and served, never pickled.

``TreeModel`` wraps an XGBoost booster (gradient boosting, or a random forest grown by XGBoost's
random-forest mode) stored in XGBoost's own UBJSON format. ``LinearModel`` is a logistic
regression kept as a JSON document of its preprocessing and coefficients, scored with numpy.
Both give probabilities and SHAP values in log-odds space on the encoded columns (last column:
the base value), so serving needs xgboost at most and never scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

SERVING_THREADS = 2


class Model(Protocol):
    kind: str
    file_name: str

    def predict(self, matrix: np.ndarray) -> np.ndarray: ...

    def contributions(self, matrix: np.ndarray) -> np.ndarray: ...

    def to_bytes(self) -> bytes: ...


class TreeModel:
    file_name = "model.ubj"

    def __init__(self, kind: str, booster: Any):
        self.kind, self.booster = kind, booster

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        return self.booster.predict(self._dmatrix(matrix))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        # Exact TreeSHAP inside XGBoost; the same values as shap's TreeExplainer, much faster.
        return self.booster.predict(self._dmatrix(matrix), pred_contribs=True)

    def to_bytes(self) -> bytes:
        return bytes(self.booster.save_raw(raw_format="ubj"))

    @classmethod
    def from_bytes(cls, kind: str, data: bytes) -> TreeModel:
        import xgboost as xgb  # lazily: ~4.7 s, paid on the first prediction only

        booster = xgb.Booster(params={"nthread": SERVING_THREADS})
        booster.load_model(bytearray(data))
        return cls(kind, booster)

    def _dmatrix(self, matrix: np.ndarray) -> Any:
        import xgboost as xgb

        return xgb.DMatrix(matrix, nthread=SERVING_THREADS)


def impute_with_indicators(
    matrix: np.ndarray, impute: np.ndarray, indicators: np.ndarray
) -> np.ndarray:
    """Nulls replaced by ``impute``, then a 0/1 missing indicator per column in ``indicators``."""
    missing = np.isnan(matrix[:, indicators])
    filled = np.where(np.isnan(matrix), impute, matrix)
    return np.hstack([filled, missing]).astype(np.float64)


@dataclass(frozen=True, eq=False)
class LinearModel:
    """Logistic regression on standardised inputs.

    Design: each input column with its nulls imputed (training median), then a 0/1 "missing"
    indicator for every input column that had nulls in training; every design column is
    standardised with the training mean and scale. SHAP values are ``coef * z`` (z has mean 0 on
    the training data), an indicator's value credited to its input column.
    """

    kind = "logistic_regression"
    file_name = "model.json"

    impute: np.ndarray  # per input column
    indicators: np.ndarray  # input columns that get a missing indicator
    mean: np.ndarray  # per design column
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def design(self, matrix: np.ndarray) -> np.ndarray:
        raw = impute_with_indicators(matrix, self.impute, self.indicators)
        return (raw - self.mean) / self.scale

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        margin = self.design(matrix) @ self.coef + self.intercept
        return 1 / (1 + np.exp(-margin))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        terms = self.design(matrix) * self.coef
        n_inputs = matrix.shape[1]
        per_input = terms[:, :n_inputs].copy()
        np.add.at(per_input.T, self.indicators, terms[:, n_inputs:].T)
        bias = np.full((len(matrix), 1), self.intercept)
        return np.hstack([per_input, bias])

    def to_bytes(self) -> bytes:
        document = {
            "format": "execkpi-logistic-v1",
            "impute": self.impute.tolist(),
            "indicators": self.indicators.tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }
        return json.dumps(document, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearModel:
        raw = json.loads(data)
        if raw.get("format") != "execkpi-logistic-v1":
            raise ValueError("not an execkpi logistic regression document")
        return cls(
            np.array(raw["impute"], dtype=np.float64),
            np.array(raw["indicators"], dtype=np.int64),
            np.array(raw["mean"], dtype=np.float64),
            np.array(raw["scale"], dtype=np.float64),
            np.array(raw["coef"], dtype=np.float64),
            float(raw["intercept"]),
        )


TREE_KINDS = ("xgboost", "random_forest")


def load_model(kind: str, data: bytes) -> Model:
    if kind in TREE_KINDS:
        return TreeModel.from_bytes(kind, data)
    if kind == LinearModel.kind:
        return LinearModel.from_bytes(data)
    raise ValueError(f"unknown model kind {kind!r}")


def file_name(kind: str) -> str:
    return TreeModel.file_name if kind in TREE_KINDS else LinearModel.file_name
