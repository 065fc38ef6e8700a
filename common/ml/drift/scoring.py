"""The champion's score on a bounded sample of one snapshot, and its calibration by decile.

The sample is the snapshot's ``rows`` rows with the smallest sample keys (``sampling``'s
SHA-256 key of user and date): the same rows on every engine, read in one bounded query
whatever the shop's size. Every snapshot in the mart has its label window behind it, so the
latest one is also the latest whose outcome is known.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from common.ml.data import dataset_from_arrow
from common.ml.drift.histograms import LABELS
from common.ml.encoding import Encoder
from common.ml.features import FeatureSpec
from common.ml.models import Model
from common.ml.sampling import sample_key_sql
from common.warehouse import Warehouse

SAMPLE_ROWS = 20_000


def scored_sample(
    warehouse: Warehouse,
    table: str,
    spec: FeatureSpec,
    snapshot: date,
    model: Model,
    encoder: Encoder,
    rows: int = SAMPLE_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """The champion's probabilities on the sample, and the sample's labels."""
    columns = [*spec.names, spec.label, spec.time_column, spec.group_column]
    key = sample_key_sql(warehouse.engine, spec)
    sql = (  # names from the feature spec, values bound
        f"select {', '.join(columns)} from {table} "  # noqa: S608
        f"where {spec.time_column} = {warehouse.placeholder('snapshot')} "
        f"order by {key}, {spec.group_column} limit {warehouse.placeholder('rows')}"
    )
    params = {"snapshot": snapshot, "rows": rows}
    result = warehouse.query(sql, params, labels=LABELS)
    dataset = dataset_from_arrow(result.table, spec, {"table": table})
    return model.predict(encoder.transform(dataset.frame)), dataset.label


def calibration_by_decile(scores: np.ndarray, labels: np.ndarray) -> list[dict[str, Any]]:
    """Rows ranked by score, cut into ten groups as equal as can be (lowest scores first):
    each group's mean predicted probability against its observed positive rate."""
    order = np.argsort(scores, kind="stable")
    deciles = []
    for i, rows in enumerate(np.array_split(order, 10), start=1):
        if rows.size == 0:
            continue
        deciles.append(
            {
                "decile": i,
                "rows": int(rows.size),
                "mean_score": round(float(scores[rows].mean()), 6),
                "observed_rate": round(float(labels[rows].mean()), 6),
            }
        )
    return deciles
