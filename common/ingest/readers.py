"""Reading a batch (JSON, CSV or Parquet, CSV and JSON optionally gzipped) as chunks of the
table's columns, a bounded number of rows at a time.

A problem with the batch as a whole (not UTF-8, a missing column, another delimiter, a Parquet
schema that does not match, a gzip stream that inflates beyond the cap) raises InvalidInput
naming it; a problem with a value is left to common.ingest.checks, row by row.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from common.ingest.checks import WIDE_TYPES, Violation
from common.ingest.contracts import TableContract
from common.validation import InvalidInput

FORMATS = ("json", "csv", "parquet")
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_DELIMITERS = (";", "\t", "|")
_JSON_KINDS = {  # what a JSON value must be in a column of each kind
    "bigint": ((int,), "must be a JSON integer"),
    "integer": ((int,), "must be a JSON integer"),
    "double": ((int, float), "must be a JSON number"),
    "varchar": ((str,), "must be a JSON string"),
    "timestamp": ((str,), "must be a JSON string holding a date and time"),
}


@dataclass(frozen=True)
class Limits:
    max_json_rows: int = 10_000  # one JSON batch: the rows of a request body
    chunk_rows: int = 65_536  # rows checked and written at a time
    csv_block_bytes: int = 8 * 1024**2
    max_inflated_bytes: int = 1024**3  # a gzip body inflates to at most this


@dataclass(frozen=True)
class Chunk:
    columns: pa.Table  # the contract's columns, as text (CSV, JSON) or typed (Parquet)
    flagged: tuple[Violation, ...] = ()  # cells a reader refused already


def read_chunks(
    contract: TableContract, source: BinaryIO, fmt: str, limits: Limits
) -> Iterator[Chunk]:
    """The batch's rows as chunks; raises InvalidInput for a batch that cannot be read."""
    if fmt == "parquet":
        return _parquet_chunks(contract, source, limits)
    stream = _inflated(source, limits.max_inflated_bytes)
    if fmt == "json":
        return _json_chunks(contract, stream, limits)
    return _csv_chunks(contract, stream, limits)


class _CappedInflater(io.RawIOBase):
    """A gzip stream's bytes, refused once they exceed the cap (a gzip bomb stops there)."""

    def __init__(self, source: BinaryIO, cap: int):
        self._inner = gzip.GzipFile(fileobj=source, mode="rb")
        self._cap, self._read = cap, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            size = self._inner.readinto(buffer)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInput("body", f"is not a valid gzip stream: {exc}") from None
        self._read += size
        if self._read > self._cap:
            raise InvalidInput("body", f"inflates to more than {self._cap} bytes")
        return size


def _inflated(source: BinaryIO, cap: int) -> BinaryIO:
    start = source.tell()
    magic = source.read(2)
    source.seek(start)
    if magic != _GZIP_MAGIC:
        return source
    return io.BufferedReader(_CappedInflater(source, cap))


def _json_chunks(contract: TableContract, stream: BinaryIO, limits: Limits) -> Iterator[Chunk]:
    try:
        body = json.load(stream)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("body", f"malformed JSON or not UTF-8: {exc}") from None
    except RecursionError:
        raise InvalidInput("body", "JSON nested too deeply") from None
    if not isinstance(body, dict) or set(body) != {"rows"}:
        raise InvalidInput("body", 'must be a JSON object {"rows": [...]}')
    rows = body["rows"]
    if not isinstance(rows, list) or not 1 <= len(rows) <= limits.max_json_rows:
        raise InvalidInput("rows", f"must be a list of 1 to {limits.max_json_rows} rows")
    for start in range(0, len(rows), limits.chunk_rows):
        yield _json_chunk(contract, rows[start : start + limits.chunk_rows], start)


def _json_chunk(contract: TableContract, rows: list[Any], offset: int) -> Chunk:
    known = set(contract.names)
    for number, row in enumerate(rows, start=offset):
        if not isinstance(row, dict):
            raise InvalidInput(f"rows[{number}]", "must be a JSON object")
        unknown = sorted(set(row) - known)
        if unknown:
            raise InvalidInput(f"rows[{number}].{unknown[0]}", "unknown column")
    columns, flagged = {}, []
    for column in contract.columns:
        kinds, rule = _JSON_KINDS[column.kind]
        values = [row.get(column.name) for row in rows]
        wrong = [
            i
            for i, v in enumerate(values)
            if v is not None and (isinstance(v, bool) or not isinstance(v, kinds))
        ]
        if wrong:
            shown = pa.array([json.dumps(values[i]) for i in wrong], pa.string())
            flagged.append(Violation(column.name, rule, pa.array(wrong, pa.int64()), shown))
            for i in wrong:
                values[i] = None
        columns[column.name] = _as_text(values, WIDE_TYPES[column.kind])
    return Chunk(pa.table(columns), tuple(flagged))


def _as_text(values: list[Any], wide: pa.DataType) -> pa.Array:
    """JSON values of the right kind as the text the checks read (numbers by Arrow, at once)."""
    if wide in (pa.int64(), pa.float64()):
        try:
            return pa.array(values, wide).cast(pa.string())
        except (OverflowError, pa.ArrowInvalid):  # an integer beyond int64: left to the checks
            values = [None if v is None else repr(v) for v in values]
    return pa.array(values, pa.string())


def _csv_chunks(contract: TableContract, stream: BinaryIO, limits: Limits) -> Iterator[Chunk]:
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=limits.csv_block_bytes),
            # A quoted value may hold a line break (RFC 4180), even across a block boundary.
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in contract.names},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _csv_problem(exc) from None
    _check_header(contract, reader.schema.names)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise _csv_problem(exc) from None
        table = pa.Table.from_batches([batch]).select(list(contract.names))
        for start in range(0, len(table), limits.chunk_rows):
            yield Chunk(table.slice(start, limits.chunk_rows))


def _csv_problem(exc: Exception) -> InvalidInput:
    message = str(exc)
    if "UTF8" in message or "UTF-8" in message:
        return InvalidInput("body", "is not UTF-8 text")
    if "Empty CSV file" in message:
        return InvalidInput("body", "is empty")
    return InvalidInput("body", f"is not comma-separated values with double quotes: {message}")


def _check_header(contract: TableContract, names: list[str]) -> None:
    if len(names) == 1:
        for delimiter in _OTHER_DELIMITERS:
            if delimiter in names[0]:
                rule = f"is separated by {delimiter!r}: send comma-separated values"
                raise InvalidInput("body", rule)
    _check_columns(contract, names)


def _check_columns(contract: TableContract, names: list[str]) -> None:
    if len(set(names)) != len(names):
        raise InvalidInput("columns", "a column appears twice")
    missing = [name for name in contract.names if name not in names]
    if missing:
        raise InvalidInput("columns", f"missing: {', '.join(missing)}")
    unknown = sorted(set(names) - set(contract.names))
    if unknown:
        raise InvalidInput("columns", f"unknown: {', '.join(unknown)}")


def _parquet_chunks(contract: TableContract, source: BinaryIO, limits: Limits) -> Iterator[Chunk]:
    try:
        file = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput("body", f"is not a Parquet file: {exc}") from None
    schema = file.schema_arrow
    _check_columns(contract, schema.names)
    for column in contract.columns:
        given = schema.field(column.name).type
        if not _readable_as(column.kind, given):
            raise InvalidInput(column.name, f"is {given} in the Parquet file, not {column.kind}")
    for batch in row_group_batches(file, limits.chunk_rows, list(contract.names)):
        widened = [_widened(batch.column(c.name), WIDE_TYPES[c.kind]) for c in contract.columns]
        yield Chunk(pa.table(widened, names=list(contract.names)))


def row_group_batches(
    file: pq.ParquetFile, batch_size: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """The file's rows, reading one row group at a time: asked for several, pyarrow reads all of
    their bytes ahead at once (pre_buffer), which for a whole file is the whole file."""
    for group in range(file.num_row_groups):
        yield from file.iter_batches(batch_size=batch_size, row_groups=[group], columns=columns)


def _readable_as(kind: str, given: pa.DataType) -> bool:
    if pa.types.is_dictionary(given):
        given = given.value_type
    if kind in ("bigint", "integer"):
        return pa.types.is_integer(given)
    if kind == "double":
        return pa.types.is_integer(given) or pa.types.is_floating(given)
    if kind == "timestamp":
        return pa.types.is_timestamp(given)
    return pa.types.is_string(given) or pa.types.is_large_string(given)


def _widened(values: pa.Array, wide: pa.DataType) -> pa.Array:
    """A time without a zone is read as UTC; nanoseconds are cut to microseconds."""
    try:
        return values.cast(wide, safe=not pa.types.is_timestamp(wide))
    except pa.ArrowInvalid as exc:  # an unsigned integer beyond int64
        raise InvalidInput("body", f"a Parquet value does not fit: {exc}") from None
