"""The training data: the features mart read through the warehouse back-end.

One query returns an Arrow table; each column becomes a numpy array without a Python object
per value: numerics as float32 (null → NaN), categoricals dictionary-encoded (codes plus their
categories), which keeps a few million rows within a function's memory.
"""

from __future__ import annotations

import ctypes
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from common.ml.encoding import Categorical, Column
from common.ml.features import Feature, FeatureSpec
from common.ml.sampling import Caps, plan, profile_sql, sampled_sql

if TYPE_CHECKING:
    import pyarrow as pa

    from common.warehouse import Warehouse


class TrainingDataError(ValueError):
    """The data cannot train a model (empty, one class, nulls in the label): do not retry."""


@dataclass(frozen=True)
class Dataset:
    frame: dict[str, Column]
    label: np.ndarray  # int8, 0/1
    time: np.ndarray | None  # datetime64[D] snapshot dates, or None
    groups: np.ndarray | None  # e.g. user ids, or None
    source: dict[str, Any]  # where the rows came from, for the model card

    @property
    def rows(self) -> int:
        return len(self.label)


def load_features(
    warehouse: Warehouse, spec: FeatureSpec, schema: str, caps: Caps | None = None
) -> Dataset:
    """The mart's rows; with ``caps``, a table with snapshot dates and users is sampled down to
    them in the warehouse (``common.ml.sampling``), and ``source["sample"]`` says how."""
    table = f"{schema}.{spec.table}"
    extra = [c for c in (spec.time_column, spec.group_column) if c]
    columns = [*spec.names, spec.label, *extra]
    # A fixed row order: a parallel dbt build stores the mart's rows in a different order each
    # time, and the seeded samples, the categories' codes and so the model follow row order.
    order = extra or columns
    # Names come from the feature spec, never from a request.
    sql = f"select {', '.join(columns)} from {table} order by {', '.join(order)}"  # noqa: S608
    params: dict[str, Any] = {}
    source: dict[str, Any] = {"engine": warehouse.engine, "table": table}
    if caps is not None and spec.time_column and spec.group_column:
        labels = {"component": "ml-train"}
        counts = warehouse.query(profile_sql(spec, table), labels=labels).table.to_pylist()
        sample = plan([tuple(row.values()) for row in counts], caps)
        if sample is not None:
            source["sample"] = sample.to_json(spec)
            if sample.sampled:
                sql, params = sampled_sql(warehouse, spec, table, columns, sample)
    result = warehouse.query(sql, params, labels={"component": "ml-train"})
    source["query_ms"] = round(result.elapsed_ms)
    dataset = dataset_from_arrow(result.table, spec, source)
    del result
    _return_freed_memory()
    return dataset


def dataset_from_arrow(table: pa.Table, spec: FeatureSpec, source: dict[str, Any]) -> Dataset:
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        raise TrainingDataError(f"{source.get('table', 'the table')} has no rows")
    frame = feature_frame(table, spec.features)
    label = table.column(spec.label)
    if label.null_count:
        raise TrainingDataError(f"{spec.label} has {label.null_count} nulls")
    y = pc.cast(label, pa.int8()).to_numpy(zero_copy_only=False)
    if not np.isin(y, (0, 1)).all():
        raise TrainingDataError(f"{spec.label} must be 0 or 1")
    time = groups = None
    if spec.time_column:
        time = table.column(spec.time_column).to_numpy().astype("datetime64[D]")
    if spec.group_column:
        groups = table.column(spec.group_column).to_numpy()
    return Dataset(frame, y, time, groups, {**source, "rows": table.num_rows})


def feature_frame(table: pa.Table, features: tuple[Feature, ...]) -> dict[str, Column]:
    """The features' columns as the encoder reads them: float32 numerics (null → NaN) and
    dictionary-encoded categoricals."""
    import pyarrow as pa
    import pyarrow.compute as pc

    frame: dict[str, Column] = {}
    for feature in features:
        column = table.column(feature.name)
        if feature.kind == "numeric":
            values = pc.cast(column, pa.float32()).to_numpy(zero_copy_only=False)
            frame[feature.name] = np.asarray(values, dtype=np.float32)
        else:
            frame[feature.name] = _categorical(column)
    return frame


def _return_freed_memory() -> None:
    """Hand the freed query result back to the OS. DuckDB's Arrow export is many small
    allocations that glibc keeps in its heap once freed (~0.6 GiB at a million users), and the
    large arrays of training are mapped afresh, so they would stack on top of it."""
    with suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _categorical(column: pa.ChunkedArray) -> Categorical:
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.cast(column, pa.string()).dictionary_encode().combine_chunks()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    return Categorical(codes, tuple(encoded.dictionary.to_pylist()))
