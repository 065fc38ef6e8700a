"""Checking a whole batch, chunk by chunk, into local files: the rows that pass (Parquet, with
their row numbers), their keys, and one dead-letter line per broken rule. Memory stays bounded
by the chunk size, except the keys (8 bytes and a row number per row)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common.ingest.checks import CheckedChunk, check_chunk
from common.ingest.contracts import TableContract
from common.ingest.readers import Chunk
from common.validation import InvalidInput

ROW = "_row"  # a row's 1-based position in the batch, as errors name it
MAX_ERRORS_SHOWN = 100


@dataclass(frozen=True)
class Staged:
    rows: int
    rejected: int
    error_count: int
    errors: tuple[dict, ...]  # the first MAX_ERRORS_SHOWN {row, field, rule}, by row
    candidates: Path  # Parquet: the rows that passed, the contract's columns and ROW
    keys: pa.Table  # key, ROW of every row that passed
    dead_letter: Path  # JSON lines {row, field, rule, value}


def stage(contract: TableContract, chunks: Iterable[Chunk], now: datetime, folder: Path) -> Staged:
    candidates, dead_letter = folder / "candidates.parquet", folder / "rejected.jsonl"
    schema = contract.schema.append(pa.field(ROW, pa.int64()))
    rows = rejected = error_count = 0
    shown: list[dict] = []
    keys: list[pa.Table] = []
    with pq.ParquetWriter(candidates, schema) as writer, dead_letter.open("w") as dead:
        for chunk in chunks:
            checked = check_chunk(contract, chunk.columns, now, chunk.flagged)
            numbers = pc.add(checked.accepted_positions.cast(pa.int64()), rows + 1)
            passed = checked.accepted.append_column(ROW, numbers)
            writer.write_table(passed)
            keys.append(passed.select([contract.key, ROW]))
            for error in _errors(checked, rows):
                dead.write(json.dumps(error, allow_nan=False) + "\n")
                if len(shown) < MAX_ERRORS_SHOWN:
                    shown.append({k: error[k] for k in ("row", "field", "rule")})
                error_count += 1
            rows += checked.rows
            rejected += checked.rejected
    if rows == 0:
        raise InvalidInput("body", "holds no rows (a header alone, or nothing)")
    key_table = pa.concat_tables(keys)
    return Staged(rows, rejected, error_count, tuple(shown), candidates, key_table, dead_letter)


def _errors(checked: CheckedChunk, offset: int) -> list[dict]:
    """The chunk's broken rules, one per row and rule, in row order."""
    errors = [
        {"row": offset + row + 1, "field": v.field, "rule": v.rule, "value": value}
        for v in checked.violations
        for row, value in zip(v.rows.to_pylist(), v.values.to_pylist(), strict=True)
    ]
    return sorted(errors, key=lambda error: error["row"])
