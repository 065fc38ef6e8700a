"""Checking a chunk of rows against its table's contract, column by column (Arrow compute, no
Python loop over rows): types, required fields, ranges, vocabularies, no future times, and the
order of a row's timestamps.

A chunk arrives as text (CSV, JSON) or typed (Parquet). Numbers are checked as int64/float64
and cast to the contract's narrower types only once the rows that break a range are gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.ingest.contracts import Column, TableContract

WIDE_TYPES = {
    "bigint": pa.int64(),
    "integer": pa.int64(),
    "double": pa.float64(),
    "varchar": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
_WHOLE = r"^[+-]?[0-9]{1,18}$"
_DECIMAL = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"
# A date and a time, optionally seconds and fractions, and a zone: thelook's " UTC", "Z" or an
# offset. A time without a zone is UTC, as in thelook's exports.
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
_ZONE = r"( UTC|Z|[+-][0-9]{2}:?[0-9]{2})?$"
_TYPE_RULES = {
    "bigint": "must be a whole number",
    "integer": "must be a whole number",
    "double": "must be a finite number",
    "timestamp": "must be a date and time like 2026-11-23T05:00:00Z",
}


@dataclass(frozen=True)
class Violation:
    """Rows of a chunk (0-based positions) that break one rule of one field, and their values."""

    field: str
    rule: str
    rows: pa.Array  # int64
    values: pa.Array  # string: the values as given


@dataclass(frozen=True)
class CheckedChunk:
    rows: int
    accepted: pa.Table  # the rows that break no rule, in the contract's schema
    accepted_positions: pa.Array  # their 0-based positions in the chunk
    violations: tuple[Violation, ...]
    rejected: int  # rows breaking at least one rule


def violation(field: str, rule: str, bad: pa.Array, values: pa.Array) -> Violation | None:
    """The rows where ``bad`` is true, or None if there are none."""
    rows = pc.indices_nonzero(bad.fill_null(False))
    if len(rows) == 0:
        return None
    shown = values.take(rows)
    return Violation(
        field, rule, rows, shown if shown.type == pa.string() else shown.cast(pa.string())
    )


def check_chunk(
    contract: TableContract,
    chunk: pa.Table,
    now: datetime,
    flagged: tuple[Violation, ...] = (),
) -> CheckedChunk:
    """``chunk`` holds the contract's columns, as text or already typed; ``flagged`` are cells a
    reader refused already (a JSON value of the wrong kind), left null in ``chunk``."""
    found = list(flagged)
    typed = {}
    for column in contract.columns:
        given = chunk.column(column.name).combine_chunks()
        already = _positions(flagged, column.name, len(chunk))
        value, problems = _check_column(column, given, already, now)
        typed[column.name] = value
        found.extend(problems)
    found.extend(_time_order(contract, typed))
    rejected = np.zeros(len(chunk), dtype=bool)
    for item in found:
        rejected[item.rows.to_numpy()] = True
    keep = pa.array(~rejected)
    accepted = pa.table(
        [typed[c.name].filter(keep).cast(c.arrow_type) for c in contract.columns],
        schema=contract.schema,
    )
    positions = pc.indices_nonzero(keep)
    return CheckedChunk(len(chunk), accepted, positions, tuple(found), int(rejected.sum()))


def _positions(flagged: tuple[Violation, ...], field: str, size: int) -> pa.Array:
    mask = np.zeros(size, dtype=bool)
    for item in flagged:
        if item.field == field:
            mask[item.rows.to_numpy()] = True
    return pa.array(mask)


def _check_column(
    column: Column, given: pa.Array, already: pa.Array, now: datetime
) -> tuple[pa.Array, list[Violation]]:
    problems = []
    missing = pc.and_(pc.is_null(given), pc.invert(already))
    if column.required:
        problems.append(violation(column.name, "is required", missing, given))
    value, unparsed = _typed(column, given)
    problems.append(violation(column.name, _TYPE_RULES.get(column.kind, ""), unparsed, given))
    problems.extend(_value_rules(column, value, now))
    return value, [p for p in problems if p is not None]


def _typed(column: Column, given: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The column in its wide type, and where a given value could not be read as one."""
    wide = WIDE_TYPES[column.kind]
    if given.type != pa.string():  # a typed reader (Parquet) has cast it already
        return given, pa.array(np.zeros(len(given), dtype=bool))
    if column.kind == "varchar":
        return given, pa.array(np.zeros(len(given), dtype=bool))
    if column.kind == "timestamp":
        readable = pc.match_substring_regex(given, _TIME + _ZONE)
        text = pc.replace_substring_regex(given, r" UTC$", "Z")
        text = pc.if_else(
            pc.match_substring_regex(text, _TIME + "$"),
            pc.binary_join_element_wise(text, "Z", ""),
            text,
        )
    else:
        readable = pc.match_substring_regex(given, _WHOLE if wide == pa.int64() else _DECIMAL)
        text = given
    readable = readable.fill_null(False)
    value = _cast(pc.if_else(readable, text, pa.scalar(None, pa.string())), wide)
    if wide == pa.float64():  # "1e999" reads as infinity
        value = pc.if_else(pc.is_finite(value), value, pa.scalar(None, wide))
    return value, pc.and_(pc.is_valid(given), pc.is_null(value))


def _cast(text: pa.Array, wide: pa.DataType) -> pa.Array:
    try:
        return pc.cast(text, wide)
    except pa.ArrowInvalid:  # a well-formed impossible time, like February 30th: value by value
        return pa.array([_cast_one(value, wide) for value in text.to_pylist()], wide)


def _cast_one(value: str | None, wide: pa.DataType) -> object:
    try:
        return pc.cast(pa.array([value]), wide)[0].as_py()
    except pa.ArrowInvalid:
        return None


def _value_rules(column: Column, value: pa.Array, now: datetime) -> list[Violation | None]:
    problems: list[Violation | None] = []
    if column.minimum is not None:
        rule = f"must be at least {column.minimum:g}"
        problems.append(violation(column.name, rule, pc.less(value, column.minimum), value))
    if column.maximum is not None:
        rule = f"must be at most {column.maximum:g}"
        problems.append(violation(column.name, rule, pc.greater(value, column.maximum), value))
    if column.vocabulary:
        outside = pc.and_(
            pc.is_valid(value), pc.invert(pc.is_in(value, pa.array(column.vocabulary)))
        )
        rule = f"must be one of {', '.join(column.vocabulary)}"
        problems.append(violation(column.name, rule, outside, value))
    if column.kind == "timestamp":
        future = pc.greater(value, pa.scalar(now, value.type))
        problems.append(violation(column.name, "must not be in the future", future, value))
    return problems


def _time_order(contract: TableContract, typed: dict[str, pa.Array]) -> list[Violation]:
    problems = []
    for earlier, later in contract.time_order:
        before = pc.less(typed[later], typed[earlier])
        found = violation(later, f"must not be before {earlier}", before, typed[later])
        if found is not None:
            problems.append(found)
    return problems
