"""SHAP values per feature: the global summary a chart draws and the reasons behind a score.

Values are in log-odds (the models' margin). SHAP values add up, so a categorical feature's value
is the sum over its one-hot columns and the linear model's missing indicators are credited to
their column; per row, base value + the feature values = the margin of the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from common.ml.encoding import Categorical, Encoder, Frame
from common.ml.features import Feature
from common.ml.split import sample_rows

CHART_BINS = 10
REASONS_PER_ROW = 3
DEPENDENCE_ROWS = 500  # enough to see a feature's effect in a scatter plot, small to serve


@dataclass(frozen=True)
class Explanation:
    values: np.ndarray  # (rows, features), in the encoder's feature order
    base: np.ndarray  # (rows,)


def per_feature(contributions: np.ndarray, encoder: Encoder) -> Explanation:
    groups = encoder.groups
    to_feature = np.zeros((len(groups), len(encoder.features)))
    to_feature[np.arange(len(groups)), groups] = 1.0
    values = contributions[:, :-1].astype(np.float64) @ to_feature
    return Explanation(values, contributions[:, -1].astype(np.float64))


def summary(explanation: Explanation, frame: Frame, features: tuple[Feature, ...]) -> dict:
    """Global mean |SHAP| per feature, most important first, with chart data for each."""
    rows = []
    for j, feature in enumerate(features):
        phi = explanation.values[:, j]
        column = frame[feature.name]
        chart = (
            _category_chart(column, phi)
            if isinstance(column, Categorical)
            else _numeric_chart(column, phi)
        )
        rows.append(
            {
                "feature": feature.name,
                "kind": feature.kind,
                "mean_abs_shap": float(np.mean(np.abs(phi))),
                "mean_shap": float(np.mean(phi)),
                "shap_quantiles": dict(
                    zip(
                        ("p05", "p25", "p50", "p75", "p95"),
                        np.quantile(phi, [0.05, 0.25, 0.5, 0.75, 0.95]).tolist(),
                        strict=True,
                    )
                ),
                "chart": chart,
            }
        )
    rows.sort(key=lambda row: -row["mean_abs_shap"])
    return {
        "space": "log-odds",
        "base_value": float(np.mean(explanation.base)),
        "rows": len(explanation.base),
        "features": rows,
    }


def with_importances(summary: dict, features: tuple[Feature, ...]) -> dict:
    """A stored summary plus the original ExecKPI fields: ``feature_names`` in the model's input
    order and ``importances`` ({feature, mean_abs_shap}, largest first), read from the summary's
    own rows so both show the same numbers, also for summaries stored before these fields."""
    return {
        **summary,
        "feature_names": [feature.name for feature in features],
        "importances": [
            {"feature": row["feature"], "mean_abs_shap": row["mean_abs_shap"]}
            for row in summary["features"]
        ],
    }


def dependence(
    explanation: Explanation, frame: Frame, features: tuple[Feature, ...], seed: int
) -> dict[str, Any]:
    """Per feature, (value, SHAP value) of the same seeded ``DEPENDENCE_ROWS`` rows: index i
    is one row in every feature's lists, so a row can be read back whole."""
    rows = sample_rows(len(explanation.base), DEPENDENCE_ROWS, seed)
    return {
        "rows": len(rows),
        "seed": seed,
        "features": {
            f.name: {
                "kind": f.kind,
                "values": _values(frame[f.name], rows),
                "shap": np.round(explanation.values[rows, j], 6).tolist(),
            }
            for j, f in enumerate(features)
        },
    }


def _values(column: Categorical | np.ndarray, rows: np.ndarray) -> list[Any]:
    if isinstance(column, Categorical):
        return column.take(rows).values()
    # The shortest decimal that reads back as the same float32: 0.3, not 0.30000001192...
    return [None if v != v else float(str(v)) for v in column[rows]]


def reasons(
    explanation: Explanation, frame: Frame, features: tuple[Feature, ...]
) -> list[list[dict[str, Any]]]:
    """Per row, the features that moved its score most (by |SHAP|), strongest first."""
    top = np.argsort(-np.abs(explanation.values), axis=1, kind="stable")[:, :REASONS_PER_ROW]
    values = {
        f.name: (
            frame[f.name].values()
            if isinstance(frame[f.name], Categorical)
            else [_number(v) for v in frame[f.name].tolist()]
        )
        for f in features
    }
    return [
        [
            {
                "feature": features[j].name,
                "value": values[features[j].name][i],
                "shap": round(float(explanation.values[i, j]), 6),
            }
            for j in row
        ]
        for i, row in enumerate(top.tolist())
    ]


def _numeric_chart(values: np.ndarray, phi: np.ndarray) -> list[dict[str, Any]]:
    """SHAP by value range: quantile bins of the feature (ties merged), nulls apart."""
    present = ~np.isnan(values)
    bins = []
    if present.any():
        v, p = values[present].astype(np.float64), phi[present]
        edges = np.unique(np.quantile(v, np.linspace(0, 1, CHART_BINS + 1)))
        which = np.searchsorted(edges[1:-1], v, side="right")
        for b in range(len(edges) - 1 if len(edges) > 1 else 1):
            mask = which == b
            if mask.any():
                bins.append(
                    {
                        "low": float(v[mask].min()),
                        "high": float(v[mask].max()),
                        "count": int(mask.sum()),
                        "mean_value": float(v[mask].mean()),
                        "mean_shap": float(p[mask].mean()),
                    }
                )
    if not present.all():
        missing = ~present
        bins.append(
            {"value": None, "count": int(missing.sum()), "mean_shap": float(phi[missing].mean())}
        )
    return bins


def _category_chart(column: Categorical, phi: np.ndarray) -> list[dict[str, Any]]:
    codes = column.codes
    out = []
    for code in np.unique(codes).tolist():
        mask = codes == code
        out.append(
            {
                "value": column.categories[code] if code >= 0 else None,
                "count": int(mask.sum()),
                "mean_shap": float(phi[mask].mean()),
            }
        )
    return sorted(out, key=lambda row: -row["count"])


def _number(value: float) -> float | None:
    return None if value != value else value  # NaN is the only value unequal to itself
