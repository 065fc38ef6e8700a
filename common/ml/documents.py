"""The files of a model version: the model itself, ``metrics.json`` (every candidate on the
holdout), ``curves.json`` (the winner's holdout ROC curve and gains), ``shap_summary.json``
(the winner's explanation), ``shap_dependence.json`` (its SHAP values against each feature's
values on a sample of rows), ``drift_reference.json`` (the training rows' feature and score
bins that drift is measured against) and ``model_card.json`` (what the model is, what it was
trained on and how, how good it is)."""

from __future__ import annotations

import json
import platform
from datetime import datetime
from importlib import metadata
from typing import Any

import numpy as np

from common.ml.candidates import EARLY_STOPPING_ROUNDS, SEED
from common.ml.data import Dataset
from common.ml.drift.reference import RULE, reference_document
from common.ml.features import FeatureSpec
from common.ml.fitting import Explained, Training
from common.ml.leakage import GUARD_ROWS, LEAK_AUC
from common.ml.registry import CARD, CURVES, DRIFT_REFERENCE, SHAP_DEPENDENCE

_LIBRARIES = {
    "numpy": ("numpy",),
    "xgboost": ("xgboost-cpu", "xgboost"),
    "scikit-learn": ("scikit-learn",),
    "pyarrow": ("pyarrow",),
}


def version_files(
    base: dict[str, Any],
    spec: FeatureSpec,
    dataset: Dataset,
    training: Training,
    explained: Explained,
    timings: dict[str, float],
    created_at: datetime,
) -> dict[str, bytes]:
    """``base`` (model, run id, version, trigger) heads every JSON document."""
    winner = training.winner
    model = winner.fitted.model
    split = training.split
    metrics = {
        **base,
        "winner": winner.name,
        "selection": "highest holdout ROC-AUC",
        "threshold": {
            "value": training.threshold,
            "rule": "positive rate of the training rows (flag users likelier than average)",
        },
        "candidates": {r.name: r.metrics for r in training.results},
    }
    card = {
        **base,
        "created_at": created_at.isoformat(),
        "model": {"kind": model.kind, "file": model.file_name, "params": winner.fitted.params},
        "data": {
            **dataset.source,
            "train_snapshot_dates": list(split.train_dates),
            "holdout_snapshot_dates": list(split.holdout_dates),
            "train_rows": len(split.train),
            "holdout_rows": len(split.holdout),
            "train_positives": int(dataset.label[split.train].sum()),
            "holdout_positives": int(dataset.label[split.holdout].sum()),
        },
        "features": [f.to_json() for f in spec.features],
        "label": {"name": spec.label, "definition": spec.label_definition},
        "encoding": training.encoder.to_json(),
        "selection": metrics["selection"],
        "metrics": {k: v for k, v in winner.metrics.items() if k != "params"},
        "candidates": {r.name: r.metrics["roc_auc"] for r in training.results},
        "leakage_guard": {
            "rule": f"no single column may reach ROC-AUC {LEAK_AUC} alone",
            "rows": min(GUARD_ROWS, len(split.train)),  # a seeded sample of the training rows
            "strongest_columns": training.strongest_columns,
        },
        "drift_reference": {
            "file": DRIFT_REFERENCE,
            "rows": len(split.train),
            "snapshot_dates": list(split.train_dates),
            "rule": RULE,
        },
        "seed": SEED,
        "early_stopping_rounds": EARLY_STOPPING_ROUNDS,
        "libraries": {"python": platform.python_version(), **_library_versions()},
        "timings": timings,
    }
    shap = {**base, "kind": model.kind, **explained.summary}
    curves = {**base, "kind": model.kind, "rows": len(split.holdout), **winner.curves}
    shap_dependence = {**base, "kind": model.kind, "space": "log-odds", **explained.dependence}
    train_scores = model.predict(training.encoder.transform(dataset.frame, split.train))
    drift_reference = {
        **base,
        "kind": model.kind,
        "snapshot_dates": list(split.train_dates),
        **reference_document(spec.features, dataset.frame, split.train, train_scores),
    }
    return {
        model.file_name: model.to_bytes(),
        "metrics.json": _dump(metrics),
        CURVES: _dump(curves),
        "shap_summary.json": _dump(shap),
        SHAP_DEPENDENCE: _dump(shap_dependence, indent=None),
        DRIFT_REFERENCE: _dump(drift_reference),
        CARD: _dump(card),
    }


def _dump(value: dict[str, Any], indent: int | None = 1) -> bytes:
    """Indented for people to read; the long dependence lists are not (a third the size)."""
    return json.dumps(value, indent=indent, allow_nan=False, default=_json_default).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name, distributions in _LIBRARIES.items():
        versions[name] = None
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions
