"""The three candidate models and how each is fitted (fixed seeds, documented parameters).

- ``logistic_regression``: scikit-learn's L2 logistic regression on standardised inputs (nulls
  imputed with the training median plus a missing indicator), stored as JSON coefficients.
- ``random_forest``: XGBoost's random-forest mode (one round of bagged, column-sampled trees),
  so that a forest winner is stored, served and explained by XGBoost like the boosted model.
- ``xgboost``: gradient-boosted trees (``hist``), the number of rounds chosen by early stopping
  on a validation fold of the training period: its latest snapshot date, which stands to the
  earlier weeks as the holdout stands to the training period (a random fold would hold the same
  users' neighbouring weeks and keep "improving" long after the holdout stopped).

The two baselines fit on a seeded sample of at most ``max_rows`` training rows: beyond that they
gain little and would dominate the retrain time on a large warehouse (at 650k users the forest
on 50,000 rows instead of 100,000 fits in half the time and loses 0.0012 of holdout AUC, still
below XGBoost's: ``scripts/benchmarks/training_sample.py --trade-offs``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from common.ml.models import LinearModel, Model, TreeModel, impute_with_indicators
from common.ml.split import sample_rows

SEED = 20261101
EARLY_STOPPING_ROUNDS = 20


@dataclass(frozen=True)
class Fitted:
    model: Model
    params: dict[str, Any]  # as used, e.g. the rounds early stopping settled on


@dataclass(frozen=True)
class Candidate:
    name: str
    params: Mapping[str, Any]
    max_rows: int | None
    fit_fn: Callable[[np.ndarray, np.ndarray, int, Mapping[str, Any]], Fitted]

    def fit(self, x: np.ndarray, y: np.ndarray, validation_rows: int = 0) -> Fitted:
        """Fit on ``x``. Its last ``validation_rows`` rows are the validation fold for early
        stopping where the candidate uses one (kept as slices: a copy of a million users'
        matrix costs ~0.7 GiB), else fitted on. Sampling down to ``max_rows`` is seeded."""
        rows = sample_rows(len(y), self.max_rows, SEED)
        if len(rows) < len(y):
            validation_rows = int((rows >= len(y) - validation_rows).sum())
            x, y = x[rows], y[rows]
        return self.fit_fn(x, y, validation_rows, self.params)

    def with_params(self, params: Mapping[str, Any]) -> Candidate:
        return replace(self, params=dict(params))


def training_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _fit_logistic(x, y, validation_rows, params) -> Fitted:
    from sklearn.linear_model import LogisticRegression  # lazily: ~4 s to import

    impute = np.nan_to_num(np.nanmedian(x, axis=0)).astype(np.float64)
    indicators = np.flatnonzero(np.isnan(x).any(axis=0))
    design = impute_with_indicators(x, impute, indicators)
    mean, scale = design.mean(axis=0), design.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(
        C=params["C"], max_iter=params["max_iter"], tol=params["tol"], random_state=SEED
    ).fit((design - mean) / scale, y)
    model = LinearModel(
        impute, indicators, mean, scale, fitted.coef_[0].copy(), float(fitted.intercept_[0])
    )
    return Fitted(model, {**params, "iterations": int(fitted.n_iter_[0])})


def _fit_trees(kind: str) -> Callable[..., Fitted]:
    def fit(x, y, validation_rows, params) -> Fitted:
        import xgboost as xgb  # lazily: ~4.7 s to import

        booster_params = {k: v for k, v in params.items() if k != "rounds"}
        booster_params |= {
            "seed": SEED,
            "nthread": training_threads(),
            "objective": "binary:logistic",
        }
        if not validation_rows:
            train = xgb.QuantileDMatrix(x, y, max_bin=params["max_bin"])
            booster = xgb.train(booster_params, train, num_boost_round=params["rounds"])
            return Fitted(TreeModel(kind, booster), dict(params))
        cut = len(y) - validation_rows
        train = xgb.QuantileDMatrix(x[:cut], y[:cut], max_bin=params["max_bin"])
        valid = xgb.QuantileDMatrix(x[cut:], y[cut:], ref=train, max_bin=params["max_bin"])
        booster = xgb.train(
            booster_params,
            train,
            num_boost_round=params["rounds"],
            evals=[(valid, "validation")],
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            verbose_eval=False,
        )
        rounds = booster.best_iteration + 1
        # Keep only the trees early stopping chose: a smaller model that explains faster.
        return Fitted(TreeModel(kind, booster[:rounds]), {**params, "rounds": rounds})

    return fit


LOGISTIC_REGRESSION = Candidate(
    "logistic_regression",
    {"C": 1.0, "max_iter": 300, "tol": 1e-4},
    max_rows=200_000,
    fit_fn=_fit_logistic,
)
RANDOM_FOREST = Candidate(
    "random_forest",
    {
        "tree_method": "hist",
        "max_bin": 128,
        "num_parallel_tree": 50,
        "max_depth": 8,
        "subsample": 0.632,
        "colsample_bynode": 0.5,
        "min_child_weight": 2,
        "learning_rate": 1.0,
        "rounds": 1,
    },
    max_rows=50_000,
    fit_fn=_fit_trees("random_forest"),
)
XGBOOST = Candidate(
    "xgboost",
    {
        "tree_method": "hist",
        "max_bin": 128,
        "max_depth": 5,
        "learning_rate": 0.15,
        "min_child_weight": 5,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "eval_metric": "logloss",
        "rounds": 300,
    },
    max_rows=None,
    fit_fn=_fit_trees("xgboost"),
)
CANDIDATES = (LOGISTIC_REGRESSION, RANDOM_FOREST, XGBOOST)
