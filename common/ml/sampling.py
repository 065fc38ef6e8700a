"""A bounded training set: the features mart sampled in the warehouse, so that a growing shop
neither loads nor fits more rows than the caps allow and training stays inside the train
function's time limit.

The table is split by period first, as ``split.time_split`` splits it: the holdout is the
latest ``holdout_snapshots`` snapshot dates, training everything before. Each period whose rows
exceed its cap is sampled down to exactly the cap, stratified by label: each class keeps its
share of the period (largest remainder), and within a class the rows with the smallest sample
key are kept. The key is the first 32 bits of SHA-256("<user_id>:<snapshot_date>"), the same
number on DuckDB and BigQuery and in Python (``hashlib``): a row is in or out of the sample by
its own identity, whatever order the mart stores rows in, on any engine, with nothing but bound
values in the SQL.

The holdout is capped separately and higher than the training set: the promotion gate
compares the challenger and the champion on the same holdout rows, so a holdout sample keeps
that comparison fair, but the larger it is, the less the AUCs it compares wander.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from common.ml.features import FeatureSpec
    from common.warehouse import Warehouse

KEY_SPACE = 2**32
# The window that ranks a class's keys only sees rows with a key below a threshold a little
# above the quota's share (ten standard deviations of a binomial count, plus a constant), so
# the engine sorts about the sample, not the whole table. Should fewer rows pass (odds below
# 1e-20), the class keeps fewer than its quota: the cap still holds.
_MARGIN_SDS, _MARGIN_ROWS = 10, 100


@dataclass(frozen=True)
class Caps:
    train_rows: int
    holdout_rows: int
    holdout_snapshots: int

    @classmethod
    def from_config(cls, config: Any) -> Caps:
        return cls(
            config.model_train_rows, config.model_holdout_rows, config.model_holdout_snapshots
        )


@dataclass(frozen=True)
class Quota:
    """One period of the table and what its sample keeps."""

    rows: int
    positives: int
    cap: int

    @property
    def sampled(self) -> bool:
        return self.rows > self.cap

    @property
    def kept_positives(self) -> int:
        if not self.sampled:
            return self.positives
        # Largest remainder of two classes: the share rounded to the nearest row.
        return math.floor(self.cap * self.positives / self.rows + 0.5)

    @property
    def kept(self) -> int:
        return min(self.rows, self.cap)

    def kept_of(self, label: int) -> int:
        return self.kept_positives if label else self.kept - self.kept_positives

    def rows_of(self, label: int) -> int:
        return self.positives if label else self.rows - self.positives

    def key_below(self, label: int) -> int:
        """The sample key threshold of the rows the class's window ranks."""
        kept, rows = self.kept_of(label), self.rows_of(label)
        wanted = kept + _MARGIN_SDS * math.sqrt(kept) + _MARGIN_ROWS
        return min(KEY_SPACE, math.ceil(wanted / max(rows, 1) * KEY_SPACE))

    def to_json(self) -> dict[str, Any]:
        return {
            "cap": self.cap,
            "rows": self.rows,
            "positives": self.positives,
            "kept": self.kept,
            "kept_positives": self.kept_positives,
            "rate": round(self.kept / self.rows, 6) if self.rows else 1.0,
        }


@dataclass(frozen=True)
class Plan:
    holdout_start: date
    train: Quota
    holdout: Quota

    @property
    def sampled(self) -> bool:
        return self.train.sampled or self.holdout.sampled

    def to_json(self, spec: FeatureSpec) -> dict[str, Any]:
        return {
            "key": f"first 32 bits of sha256('<{spec.group_column}>:<{spec.time_column}>')",
            "rule": "per period, each label keeps its share of the cap: its smallest keys",
            "holdout_from": self.holdout_start.isoformat(),
            "train": self.train.to_json(),
            "holdout": self.holdout.to_json(),
        }


def plan(counts: list[tuple[date, int, int]], caps: Caps) -> Plan | None:
    """The sample of a table whose (snapshot date, label, rows) are ``counts``; None when it
    has too few snapshot dates to hold any out (``time_split`` then says so)."""
    dates = sorted({day for day, _, _ in counts})
    if len(dates) <= caps.holdout_snapshots:
        return None
    start = dates[-caps.holdout_snapshots]
    periods = {True: [0, 0], False: [0, 0]}  # held out → [rows, positives]
    for day, label, rows in counts:
        period = periods[day >= start]
        period[0] += rows
        period[1] += rows if label else 0
    return Plan(
        start,
        Quota(*periods[False], caps.train_rows),
        Quota(*periods[True], caps.holdout_rows),
    )


def profile_sql(spec: FeatureSpec, table: str) -> str:
    time, label = spec.time_column, spec.label
    # Names come from the feature spec, never from a request.
    return f"select {time}, {label}, count(*) from {table} group by {time}, {label}"  # noqa: S608


def sampled_sql(
    warehouse: Warehouse, spec: FeatureSpec, table: str, columns: list[str], sample: Plan
) -> tuple[str, dict[str, Any]]:
    """The SQL that reads ``columns`` of the sample, in the loader's fixed order, and its
    parameters."""
    params: dict[str, Any] = {"holdout_start": sample.holdout_start}
    start = warehouse.placeholder("holdout_start")
    periods = []
    for name, quota, condition in (
        ("train", sample.train, "<"),
        ("holdout", sample.holdout, ">="),
    ):
        where = f"{spec.time_column} {condition} {start}"
        if not quota.sampled:
            # Names come from the feature spec, never from a request.
            periods.append(f"select {', '.join(columns)} from {table} where {where}")  # noqa: S608
            continue
        names = {}
        for label in (0, 1):
            for kind, value in (("kept", quota.kept_of(label)), ("below", quota.key_below(label))):
                names[kind, label] = f"{name}_{kind}_{label}"
                params[names[kind, label]] = value
        periods.append(_period_sql(warehouse, spec, table, columns, where, names))
    union = " union all ".join(f"({period})" for period in periods)
    order = ", ".join(c for c in (spec.time_column, spec.group_column) if c)
    # Names come from the feature spec, never from a request; values are bound.
    sql = f"select {', '.join(columns)} from ({union}) sampled order by {order}"  # noqa: S608
    return sql, params


def _period_sql(
    warehouse: Warehouse,
    spec: FeatureSpec,
    table: str,
    columns: list[str],
    where: str,
    names: dict[tuple[str, int], str],
) -> str:
    def by_label(kind: str) -> str:
        positive, negative = (warehouse.placeholder(names[kind, v]) for v in (1, 0))
        return f"case when {spec.label} = 1 then {positive} else {negative} end"

    listed = ", ".join(columns)
    return (  # names from the feature spec, values bound
        f"select {listed} from ("  # noqa: S608
        f"select {listed}, row_number() over (partition by {spec.label} "
        f"order by sample_key, {spec.group_column}, {spec.time_column}) as sample_rank "
        f"from (select {listed}, {sample_key_sql(warehouse.engine, spec)} as sample_key "
        f"from {table} where {where}) keyed "
        f"where sample_key < {by_label('below')}"
        f") ranked where sample_rank <= {by_label('kept')}"
    )


def sample_key_sql(engine: str, spec: FeatureSpec) -> str:
    """The row's sample key in [0, 2^32): its hex digest's first 8 digits as an integer."""
    text = f"concat(cast({spec.group_column} as string), ':', cast({spec.time_column} as string))"
    digest = f"to_hex(sha256({text}))" if engine == "bigquery" else f"sha256({text})"
    return f"cast(concat('0x', substr({digest}, 1, 8)) as int64)"
