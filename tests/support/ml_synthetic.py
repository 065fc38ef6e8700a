"""A small dataset with a known signal, shaped like the features mart (weekly snapshots of the
same users), for fast tests of the training machinery."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from common.ml.data import Dataset
from common.ml.encoding import Categorical
from common.ml.features import Feature, FeatureSpec
from common.ml.fitting import Settings
from common.ml.promotion import Gates
from common.warehouse.duckdb_engine import DuckDBWarehouse

SPEC = FeatureSpec(
    model="synthetic",
    table="unused",
    features=(
        Feature("visits", "numeric", "visits in the last 30 days"),
        Feature("cart_adds", "numeric", "products added to the cart"),
        Feature("recency", "numeric", "days since the last order; null if none", nullable=True),
        Feature("channel", "categorical", "acquisition channel"),
    ),
    label="bought",
    label_definition="bought within the next two weeks",
    time_column="snapshot",
    group_column="user",
)
SETTINGS = Settings(holdout_snapshots=1, shap_rows=300, gates=Gates(0.6, 0.02))
CHANNELS = ("Search", "Organic", "Email", "Rare")


def dataset(users: int = 800, snapshots: int = 5, seed: int = 0, signal: float = 1.0) -> Dataset:
    rng = np.random.default_rng(seed)
    n = users * snapshots
    visits = rng.poisson(2.0, n).astype(np.float32)
    cart = rng.poisson(0.5, n).astype(np.float32)
    recency = np.where(rng.random(n) < 0.3, np.nan, rng.integers(1, 400, n)).astype(np.float32)
    channel = rng.choice(len(CHANNELS), n, p=[0.5, 0.3, 0.195, 0.005]).astype(np.int32)
    logit = -2.5 + signal * (
        0.4 * visits + 0.9 * cart - 0.004 * np.nan_to_num(recency, nan=400) + 0.6 * (channel == 2)
    )
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = {
        "visits": visits,
        "cart_adds": cart,
        "recency": recency,
        "channel": Categorical(channel, CHANNELS),
    }
    start = np.datetime64("2026-08-03")
    time = np.repeat(start + 7 * np.arange(snapshots), users).astype("datetime64[D]")
    groups = np.tile(np.arange(users), snapshots)
    return Dataset(frame, label, time, groups, {"engine": "synthetic", "rows": n})


def stored(path: Path, data: Dataset, order: np.ndarray) -> DuckDBWarehouse:
    """A DuckDB file holding ``data``'s rows in ``order`` as the table ``marts.unused``."""
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
