"""The training data comes back in one order whatever order the mart stores its rows in (a
parallel dbt build stores them differently each time), so the same data trains the same model."""

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from common.ml.data import Dataset, load_features
from common.ml.fitting import fit_and_evaluate
from common.warehouse.duckdb_engine import DuckDBWarehouse
from tests.support.ml_synthetic import SETTINGS, SPEC, dataset


def _stored(path: Path, data: Dataset, order: np.ndarray) -> DuckDBWarehouse:
    channel = data.frame["channel"]
    columns = {
        "visits": data.frame["visits"],
        "cart_adds": data.frame["cart_adds"],
        "recency": data.frame["recency"],
        "channel": np.asarray(channel.categories)[channel.codes],
        "bought": data.label,
        "snapshot": data.time,
        "user": data.groups,
    }
    rows = pa.table({name: values[order] for name, values in columns.items()})
    with duckdb.connect(str(path)) as con:
        con.register("stored_rows", rows)
        con.execute("create schema marts; create table marts.unused as from stored_rows")
    return DuckDBWarehouse(path)


def test_rows_stored_in_another_order_load_and_train_the_same(tmp_path: Path) -> None:
    data = dataset(users=400, snapshots=4)
    shuffled = np.random.default_rng(3).permutation(data.rows)
    first = load_features(_stored(tmp_path / "a.duckdb", data, np.arange(data.rows)), SPEC, "marts")
    second = load_features(_stored(tmp_path / "b.duckdb", data, shuffled), SPEC, "marts")

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
