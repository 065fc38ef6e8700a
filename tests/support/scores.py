"""The model's batch scores in tests: the KPIs only a promotion fills, and the calibration by
decile recomputed with pandas from a scores file and the features mart's labels."""

from __future__ import annotations

import pandas as pd

# Empty in a warehouse built before any promotion (the session's test warehouses):
# tests/integration/test_pipeline.py checks their rows after one.
KPIS_OF_SCORES = frozenset({"score_calibration"})


def calibration_by_decile(scores: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per snapshot, model version and decile: users, the sum of their scores and of their
    labels (NaN where the snapshot has no labels), sorted as the KPI answers."""
    merged = scores.merge(labels, on=["user_id", "snapshot_date"], how="left")
    labelled = set(labels["snapshot_date"])
    table = (
        merged.groupby(["snapshot_date", "model_version", "decile"])
        .agg(
            users=("user_id", "size"),
            expected=("score", "sum"),
            actual=("label_purchased", "sum"),
        )
        .reset_index()
    )
    table.loc[~table["snapshot_date"].isin(labelled), "actual"] = float("nan")
    return table.sort_values(["snapshot_date", "model_version", "decile"], ignore_index=True)
