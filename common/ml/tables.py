"""The Model view's tables as downloads (``common.downloads.Table``): the training history,
the champion's SHAP importance and its calibration bins, each named after what it holds."""

from __future__ import annotations

from typing import Any

from common.downloads import Table


def _columns(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "type": kind} for name, kind in pairs]


def history_table(model: str, records: list[dict[str, Any]]) -> Table:
    """One row per training run, newest first; the promotion reasons joined by "; "."""
    columns = _columns(
        ("version", "string"),
        ("run_id", "string"),
        ("started_at", "timestamp"),
        ("decision", "string"),
        ("winner", "string"),
        ("holdout_roc_auc", "number"),
        ("reasons", "string"),
    )
    rows = [
        [
            r.get("version"),
            r.get("run_id"),
            r.get("started_at"),
            r.get("decision", r.get("status")),
            r.get("winner"),
            r.get("holdout_roc_auc"),
            "; ".join(r.get("reasons", [])),
        ]
        for r in records
    ]
    return Table("models", columns, rows, f"{model}_models")


def importance_table(summary: dict[str, Any]) -> Table:
    """Mean |SHAP| and mean SHAP per feature (log-odds), most important first."""
    columns = _columns(
        ("feature", "string"),
        ("kind", "string"),
        ("mean_abs_shap", "number"),
        ("mean_shap", "number"),
    )
    rows = [
        [f["feature"], f["kind"], f["mean_abs_shap"], f["mean_shap"]] for f in summary["features"]
    ]
    return Table("shap", columns, rows, f"{summary['model']}_{summary['version']}_shap")


def calibration_table(model: str, version: str, metrics: dict[str, Any]) -> Table:
    """The holdout's probability bins: their bounds, rows, mean prediction and observed rate."""
    columns = _columns(
        ("low", "number"),
        ("high", "number"),
        ("count", "integer"),
        ("mean_predicted", "number"),
        ("observed_rate", "number"),
    )
    keys = [c["name"] for c in columns]
    rows = [[b[k] for k in keys] for b in metrics["calibration"]]
    return Table("calibration", columns, rows, f"{model}_{version}_calibration")
