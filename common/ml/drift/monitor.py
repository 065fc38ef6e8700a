"""Drift of the champion: PSI of each feature between its training rows (the reference stored
with its version) and the latest snapshot, counted in the warehouse; PSI of its score and its
calibration by decile on a bounded sample of that snapshot, scored here.

The result is numbers only; ``common.pipeline.gates.drift`` judges them.
"""

from __future__ import annotations

from typing import Any

from common.artifacts import ArtifactNotFound
from common.ml.drift.histograms import latest_snapshot, snapshot_counts
from common.ml.drift.psi import numeric_counts, population_stability
from common.ml.drift.scoring import SAMPLE_ROWS, calibration_by_decile, scored_sample
from common.ml.encoding import Encoder
from common.ml.features import FeatureSpec
from common.ml.models import load_model
from common.ml.registry import CARD, DRIFT_REFERENCE, Registry
from common.warehouse import Warehouse


def measure_drift(
    warehouse: Warehouse,
    schema: str,
    registry: Registry,
    spec: FeatureSpec,
    sample_rows: int = SAMPLE_ROWS,
) -> dict[str, Any]:
    """``{"measured": True, ...numbers}``, or ``{"measured": False, "reason": ...}`` when there
    is nothing to compare: no champion, a champion trained before references were stored or
    whose model cannot be read, or an empty mart."""
    pointer = registry.latest()
    if pointer is None:
        return {"measured": False, "reason": "no champion yet: nothing to compare with"}
    version = pointer.version
    try:
        reference = registry.read_json(version, DRIFT_REFERENCE)
    except ArtifactNotFound:
        reason = f"champion {version} was trained before reference distributions were stored"
        return {"measured": False, "model_version": version, "reason": reason}
    table = f"{schema}.{spec.table}"
    snapshot = latest_snapshot(warehouse, table, spec)
    if snapshot is None:
        return {"measured": False, "model_version": version, "reason": f"{table} has no rows"}
    try:
        card = registry.read_json(version, CARD)
        model = load_model(card["model"]["kind"], registry.read(version, card["model"]["file"]))
        encoder = Encoder.from_json(card["encoding"])
    except (ArtifactNotFound, KeyError, ValueError) as exc:
        # Not the data's fault: rejecting the build would only stop the retraining that
        # replaces this champion.
        reason = f"champion {version}'s model cannot be read: {exc!r}"
        return {"measured": False, "model_version": version, "reason": reason}
    counts = snapshot_counts(warehouse, table, spec, reference, snapshot)
    scores, labels = scored_sample(warehouse, table, spec, snapshot, model, encoder, sample_rows)
    score_psi = population_stability(
        reference["score"]["counts"], numeric_counts(scores, reference["score"]["edges"])
    )
    dates = reference.get("snapshot_dates") or [None]
    return {
        "measured": True,
        "model_version": version,
        "reference": {"rows": reference["rows"], "snapshot_dates": [dates[0], dates[-1]]},
        "snapshot": snapshot.isoformat(),
        "rows": sum(next(iter(counts.values()), [])),
        "psi": {
            name: round(population_stability(reference["features"][name]["counts"], current), 6)
            for name, current in counts.items()
        },
        "score": {"psi": round(score_psi, 6), "rows": len(scores)},
        "calibration": {
            "snapshot": snapshot.isoformat(),
            "rows": len(scores),
            "deciles": calibration_by_decile(scores, labels),
        },
        "rule": reference["rule"],
    }
