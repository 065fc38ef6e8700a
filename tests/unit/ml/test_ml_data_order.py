"""The training data comes back in one order whatever order the mart stores its rows in (a
parallel dbt build stores them differently each time), so the same data trains the same model."""

from pathlib import Path

import numpy as np

from common.ml.data import load_features
from common.ml.fitting import fit_and_evaluate
from tests.support.ml_synthetic import SETTINGS, SPEC, dataset, stored


def test_rows_stored_in_another_order_load_and_train_the_same(tmp_path: Path) -> None:
    data = dataset(users=400, snapshots=4)
    shuffled = np.random.default_rng(3).permutation(data.rows)
    first = load_features(stored(tmp_path / "a.duckdb", data, np.arange(data.rows)), SPEC, "marts")
    second = load_features(stored(tmp_path / "b.duckdb", data, shuffled), SPEC, "marts")

    for name in ("visits", "cart_adds", "recency"):
        np.testing.assert_array_equal(first.frame[name], second.frame[name])
    assert first.frame["channel"].categories == second.frame["channel"].categories
    np.testing.assert_array_equal(first.frame["channel"].codes, second.frame["channel"].codes)
    np.testing.assert_array_equal(first.label, second.label)
    np.testing.assert_array_equal(first.groups, second.groups)

    metrics = [
        {r.name: r.metrics["roc_auc"] for r in fit_and_evaluate(d, SPEC, SETTINGS).results}
        for d in (first, second)
    ]
    assert metrics[0] == metrics[1]
