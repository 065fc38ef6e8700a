"""Fitting and judging the candidates, without any store or warehouse: split, encode, guard
against leakage, fit every candidate, score it on the holdout, explain the winner.

Selection: the winner is the candidate with the best ROC-AUC on the holdout (the latest
snapshot weeks). Each candidate is also cross-validated (``CV_FOLDS`` folds stratified on the
label, a user's rows kept in one fold) on a seeded sample of ``CV_ROWS`` training rows with the
settings it was fitted with: the spread across folds says how stable the choice is, and a large
gap between CV and holdout AUC flags drift between the periods.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from common.ml.candidates import CANDIDATES, SEED, Candidate, Fitted
from common.ml.curves import gains, roc_points
from common.ml.data import Dataset, TrainingDataError
from common.ml.encoding import Encoder, take
from common.ml.explain import dependence, per_feature, summary
from common.ml.features import Feature, FeatureSpec
from common.ml.leakage import check_leakage
from common.ml.metrics import evaluate, roc_auc
from common.ml.models import LinearModel
from common.ml.promotion import Gates
from common.ml.split import Split, sample_rows, stratified_folds, time_split

VALIDATION_FOLDS = 5  # without dates, XGBoost early-stops on one stratified fold in five
CV_FOLDS = 3
# Reported, never used to choose: at 650k users 10,000 rows cost a quarter of 30,000's seconds
# and keep the fold spread within 0.005 (scripts/benchmarks/training_sample.py --trade-offs).
CV_ROWS = 10_000


@dataclass(frozen=True)
class Settings:
    holdout_snapshots: int
    shap_rows: int
    gates: Gates

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        return cls(
            config.model_holdout_snapshots,
            config.model_shap_rows,
            Gates(config.model_auc_floor, config.model_auc_tolerance),
        )


@dataclass(frozen=True)
class CandidateResult:
    name: str
    fitted: Fitted
    metrics: dict[str, Any]  # holdout metrics, CV, parameters and timings
    curves: dict[str, Any]  # holdout ROC points and gains by decile, for plots


@dataclass(frozen=True)
class Training:
    encoder: Encoder
    split: Split
    threshold: float
    results: tuple[CandidateResult, ...]
    strongest_columns: dict[str, float]  # single-column AUCs from the leakage guard

    @property
    def winner(self) -> CandidateResult:
        return max(self.results, key=lambda r: r.metrics["roc_auc"])


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(time.perf_counter() - started, 3)


def fit_and_evaluate(
    dataset: Dataset, spec: FeatureSpec, settings: Settings, clock: Stopwatch | None = None
) -> Training:
    clock = clock or Stopwatch()
    split = time_split(dataset.time, dataset.label, settings.holdout_snapshots, SEED)
    train_rows, validation_rows = _validation_last(dataset, split)
    y_train, y_hold = dataset.label[train_rows], dataset.label[split.holdout]
    for part, y in (("training", y_train), ("holdout", y_hold)):
        if y.min() == y.max():
            raise TrainingDataError(f"the {part} rows hold a single class")
    with clock("encode"):
        encoder = Encoder.fit(spec, dataset.frame, train_rows)
        x_train = encoder.transform(dataset.frame, train_rows)
        x_hold = encoder.transform(dataset.frame, split.holdout)
    with clock("leakage_guard"):
        strongest = check_leakage(x_train, y_train, encoder.columns, SEED)
    threshold = float(y_train.mean())
    cv_rows = sample_rows(len(y_train), CV_ROWS, SEED)
    cv_groups = None if dataset.groups is None else dataset.groups[train_rows][cv_rows]
    results = []
    for candidate in CANDIDATES:
        with clock(f"{candidate.name}.fit"):
            fitted = candidate.fit(x_train, y_train, validation_rows)
        with clock(f"{candidate.name}.predict"):
            scores = fitted.model.predict(x_hold)
        with clock(f"{candidate.name}.cv"):
            cv = cross_validate(
                candidate.with_params(fitted.params),
                x_train[cv_rows],
                y_train[cv_rows],
                cv_groups,
                spec.group_column,
            )
        metrics = {
            **evaluate(y_hold, scores, threshold),
            "cv": cv,
            "params": fitted.params,
            # The baselines fit on a sample (``Candidate.max_rows``): say how many rows.
            "fit_rows": min(len(y_train), candidate.max_rows or len(y_train)),
            "fit_seconds": clock.seconds[f"{candidate.name}.fit"],
            "predict_seconds": clock.seconds[f"{candidate.name}.predict"],
        }
        curves = {"roc": roc_points(y_hold, scores), "gains": gains(y_hold, scores)}
        results.append(CandidateResult(candidate.name, fitted, metrics, curves))
    return Training(encoder, split, threshold, tuple(results), strongest)


def _validation_last(dataset: Dataset, split: Split) -> tuple[np.ndarray, int]:
    """The training rows with XGBoost's early-stopping fold last, and that fold's size: the
    latest training date (or, without dates, one stratified fold in ``VALIDATION_FOLDS``)."""
    if dataset.time is None:
        validation = stratified_folds(dataset.label[split.train], VALIDATION_FOLDS, SEED) == 0
    else:
        dates = dataset.time[split.train]
        validation = dates == dates.max()
    order = np.r_[np.flatnonzero(~validation), np.flatnonzero(validation)]
    return split.train[order], int(validation.sum())


def cross_validate(
    candidate: Candidate,
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray | None,
    group_column: str | None,
) -> dict[str, Any]:
    folds = stratified_folds(y, CV_FOLDS, SEED, groups)
    aucs = []
    for fold in range(CV_FOLDS):
        held = folds == fold
        model = candidate.fit(x[~held], y[~held]).model
        aucs.append(roc_auc(y[held], model.predict(x[held])))
    return {
        "roc_auc_mean": float(np.mean(aucs)),
        "roc_auc_std": float(np.std(aucs)),
        "folds": CV_FOLDS,
        "rows": len(y),
        "grouped_by": group_column if groups is not None else None,
    }


@dataclass(frozen=True)
class Explained:
    summary: dict[str, Any]  # global importance and chart data
    dependence: dict[str, Any]  # (value, SHAP value) samples per feature


def explain(
    training: Training, dataset: Dataset, features: tuple[Feature, ...], rows: int
) -> Explained:
    """SHAP summary of the winner on a seeded uniform sample of ``rows`` holdout rows, and
    dependence samples drawn from the same rows."""
    sample = training.split.holdout[sample_rows(len(training.split.holdout), rows, SEED)]
    frame = take(dataset.frame, sample)
    model = training.winner.fitted.model
    contributions = model.contributions(training.encoder.transform(frame))
    explanation = per_feature(contributions, training.encoder)
    result = summary(explanation, frame, features)
    result["sample"] = {"rows": len(sample), "seed": SEED, "from": "holdout", "uniform": True}
    if isinstance(model, LinearModel):
        indicator_names = [f"{training.encoder.columns[i]}:missing" for i in model.indicators]
        names = [*training.encoder.columns, *indicator_names]
        result["standardised_coefficients"] = sorted(
            ({"column": n, "coef": float(c)} for n, c in zip(names, model.coef, strict=True)),
            key=lambda row: -abs(row["coef"]),
        )
    return Explained(result, {**dependence(explanation, frame, features, SEED), "from": "holdout"})
