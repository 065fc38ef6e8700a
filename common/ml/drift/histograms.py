"""The latest snapshot's rows in the champion's reference bins, counted in the warehouse.

One query, a ``union all`` of one ``group by`` per feature over the rows of one snapshot date:
a numeric feature's bin is the number of its edges below the value (``x > edge`` summed, the
rule of ``psi.numeric_counts``), nulls in the bin after; a categorical feature is grouped by its
text. Column names come from the feature spec; the edges and the date are bound parameters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from common.ml.features import FeatureSpec
from common.warehouse import Warehouse

LABELS = {"component": "ml-drift"}


def latest_snapshot(warehouse: Warehouse, table: str, spec: FeatureSpec) -> date | None:
    sql = f"select max({spec.time_column}) as latest from {table}"  # noqa: S608
    return warehouse.query(sql, labels=LABELS).table.to_pylist()[0]["latest"]


def snapshot_counts(
    warehouse: Warehouse,
    table: str,
    spec: FeatureSpec,
    reference: dict[str, Any],
    snapshot: date,
) -> dict[str, list[int]]:
    """Each feature of ``spec`` the reference has: its counts in the reference bins (unseen
    categories and nulls last, as ``reference.reference_document`` lays them out). Names come
    from the spec, not from the stored document."""
    params: dict[str, Any] = {"snapshot": snapshot}
    where = f"{spec.time_column} = {warehouse.placeholder('snapshot')}"
    stored = reference["features"]
    histograms = {f.name: stored[f.name] for f in spec.features if f.name in stored}
    parts = []
    for i, (name, histogram) in enumerate(histograms.items()):
        if histogram["kind"] == "categorical":
            bucket = f"cast({name} as string)"
        else:
            above = []
            for k, edge in enumerate(histogram["edges"]):
                params[f"e{i}_{k}"] = float(edge)
                edge_sql = warehouse.placeholder(f"e{i}_{k}")
                above.append(f"case when {name} > {edge_sql} then 1 else 0 end")
            bin_sql = " + ".join(above) or "0"
            null_bin = len(histogram["edges"]) + 1
            bucket = f"cast(case when {name} is null then {null_bin} else {bin_sql} end as string)"
        parts.append(
            f"select '{name}' as feature, bucket, count(*) as n "  # noqa: S608
            f"from (select {bucket} as bucket from {table} where {where}) binned group by bucket"
        )
    rows = warehouse.query(" union all ".join(parts), params, labels=LABELS).table.to_pylist()
    counts = {name: [0] * len(h["counts"]) for name, h in histograms.items()}
    for row in rows:
        name, bucket, n = row["feature"], row["bucket"], int(row["n"])
        counts[name][_bin(histograms[name], bucket)] += n
    return counts


def _bin(histogram: dict[str, Any], bucket: str | None) -> int:
    if histogram["kind"] != "categorical":
        return int(bucket)
    if bucket is None:
        return len(histogram["counts"]) - 1
    categories = histogram["categories"]
    return categories.index(bucket) if bucket in categories else len(categories)
