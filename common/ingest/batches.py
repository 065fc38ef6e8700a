"""Ingesting one batch, exactly once: check it, keep it, claim its keys, write its curated rows,
and announce them.

Everything about a batch lives under keys derived from its checksum (``batch_id``), so the same
bytes sent again find their batch. The steps, each safe to repeat after a crash:

1. ``ingest/batches/<table>/<batch_id>/receipt.json`` exists: the batch is done; answer what it
   answered, and announce it if that had not happened yet.
2. Check every row into local files (common.ingest.staging); a batch that cannot be read stops
   here with nothing written.
3. ``started.json`` (create-only) fixes the ingest day and time, so a retry writes to the same
   place; then the raw bytes, and the keys claim (common.ingest.keys).
4. The dead-letter file, then the curated Parquet (one create-only object: the whole batch
   becomes visible at once, or nothing), then the receipt.
5. The ``data-ingested`` event, then the ``published`` mark: a crash between the two repeats the
   event under the same id, which consumers ignore.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common.artifacts import MUST_NOT_EXIST, ArtifactStore, PreconditionFailed
from common.events.envelope import Event
from common.events.publishers import EventPublisher
from common.ingest.contracts import BATCH_ID, CONTRACTS, INGESTED_AT, TableContract
from common.ingest.keys import KeyIndex
from common.ingest.readers import Limits, read_chunks, row_group_batches
from common.ingest.staging import ROW, Staged, stage

EVENT_TYPE = "data-ingested"
# Clocks differ: a time up to this far ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=5)
_HASH_BLOCK = 1024**2
DEFAULT_LIMITS = Limits()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Upload:
    table: str
    fmt: str  # json, csv or parquet
    source: BinaryIO  # seekable
    gzipped: bool = False  # only for the raw copy's content type: readers detect gzip


class Ingestor:
    def __init__(
        self,
        store: ArtifactStore,
        publisher: EventPublisher,
        limits: Limits = DEFAULT_LIMITS,
        clock: Callable[[], datetime] = _utc_now,
    ):
        self.store, self.publisher, self.limits, self.clock = store, publisher, limits, clock
        self._indexes: dict[str, KeyIndex] = {}

    def ingest(self, upload: Upload) -> dict:
        """The batch's answer: {batch_id, table, accepted, duplicates, rejected, error_count,
        errors, object}."""
        contract = CONTRACTS[upload.table]
        batch_id = checksum(upload.source)
        folder = batch_folder(upload.table, batch_id)
        if not self.store.exists(f"{folder}/receipt.json"):
            with tempfile.TemporaryDirectory(prefix="ingest-") as work:
                self._commit(contract, upload, batch_id, Path(work))
        receipt = self.store.get_json(f"{folder}/receipt.json")
        self._announce(receipt)
        return receipt

    def _commit(self, contract: TableContract, upload: Upload, batch_id: str, work: Path) -> None:
        now = self.clock()
        chunks = read_chunks(contract, upload.source, upload.fmt, self.limits)
        staged = stage(contract, chunks, now + CLOCK_SKEW, work)
        folder = batch_folder(contract.name, batch_id)
        started = _put_once_json(self.store, f"{folder}/started.json", {"at": now.isoformat()})
        at = datetime.fromisoformat(started["at"])
        day = at.date().isoformat()
        content_type = "application/gzip" if upload.gzipped else _CONTENT_TYPES[upload.fmt]
        raw = f"ingest/raw/{contract.name}/{day}/{batch_id}.{upload.fmt}"
        _put_once(self.store, raw, upload.source, content_type)
        claim = self._index(contract.name).claim(batch_id, staged.keys)
        rejected_key = None
        if staged.error_count:
            rejected_key = f"ingest/rejected/{contract.name}/{day}/{batch_id}.jsonl"
            with staged.dead_letter.open("rb") as dead_letter:
                _put_once(self.store, rejected_key, dead_letter, "application/jsonl")
        curated = None
        if len(claim.rows):
            curated = f"ingest/curated/{contract.name}/ingested_on={day}/{batch_id}.parquet"
            path = work / "curated.parquet"
            _write_curated(contract, staged, claim.rows, batch_id, at, self.limits, path)
            with path.open("rb") as data:
                _put_once(self.store, curated, data, "application/vnd.apache.parquet")
        receipt = {
            "batch_id": batch_id,
            "table": contract.name,
            "accepted": len(claim.rows),
            "duplicates": claim.duplicates,
            "rejected": staged.rejected,
            "error_count": staged.error_count,
            "errors": list(staged.errors),
            "object": curated,
            "raw": raw,
            "rejected_rows": rejected_key,
        }
        _put_once_json(self.store, f"{folder}/receipt.json", receipt)

    def _index(self, table: str) -> KeyIndex:
        if table not in self._indexes:
            committed = functools.partial(_is_committed, self.store, table)
            self._indexes[table] = KeyIndex(self.store, table, committed)
        return self._indexes[table]

    def _announce(self, receipt: dict) -> None:
        """Publish data-ingested once the curated object exists (a batch of nothing new has
        nothing to announce); the mark stops a repeat after a crash-free publish."""
        if receipt["object"] is None:
            return
        mark = f"{batch_folder(receipt['table'], receipt['batch_id'])}/published"
        if self.store.exists(mark):
            return
        payload = {k: receipt[k] for k in ("batch_id", "table", "object")}
        payload["rows"] = receipt["accepted"]
        run_id = f"{receipt['table']}-{receipt['batch_id']}"
        self.publisher.publish(Event.for_run(EVENT_TYPE, "ingest", run_id, payload))
        _put_once(self.store, mark, io.BytesIO(b""), "text/plain")


_CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
}


def batch_folder(table: str, batch_id: str) -> str:
    return f"ingest/batches/{table}/{batch_id}"


def _is_committed(store: ArtifactStore, table: str, batch_id: str) -> bool:
    return store.exists(f"{batch_folder(table, batch_id)}/receipt.json")


def checksum(source: BinaryIO) -> str:
    """The batch id: SHA-256 of the bytes as received (the same file twice is the same batch)."""
    digest = hashlib.sha256()
    source.seek(0)
    while block := source.read(_HASH_BLOCK):
        digest.update(block)
    source.seek(0)
    return digest.hexdigest()


def _put_once(store: ArtifactStore, key: str, source: BinaryIO, content_type: str) -> None:
    """Create ``key`` from a file, streamed; if a crashed attempt created it already, its bytes
    stand."""
    with contextlib.suppress(PreconditionFailed):
        store.put_file(key, source, content_type=content_type, if_version=MUST_NOT_EXIST)


def _put_once_json(store: ArtifactStore, key: str, value: dict) -> dict:
    """Create ``key`` holding ``value``, or return what an earlier attempt put there."""
    try:
        store.put_json(key, value, if_version=MUST_NOT_EXIST)
    except PreconditionFailed:
        return store.get_json(key)
    return value


def _write_curated(
    contract: TableContract,
    staged: Staged,
    rows: pa.Array,
    batch_id: str,
    at: datetime,
    limits: Limits,
    path: Path,
) -> None:
    """The claimed rows with their batch and ingest time, written to ``path`` a chunk at a
    time."""
    schema = contract.curated_schema
    ingested_at = pa.scalar(at.astimezone(UTC), schema.field(INGESTED_AT).type)
    # Row numbers run from 1 to the batch's size: a mask indexed by them picks the claimed rows
    # in one pass (is_in would hash every claimed row again for each chunk).
    claimed = np.zeros(staged.rows + 1, dtype=bool)
    claimed[rows.to_numpy()] = True
    with pq.ParquetWriter(path, schema) as writer:
        for batch in row_group_batches(pq.ParquetFile(staged.candidates), limits.chunk_rows):
            kept = batch.filter(pa.array(claimed[batch.column(ROW).to_numpy()]))
            size = len(kept)
            table = pa.Table.from_batches([kept]).drop_columns([ROW])
            table = table.append_column(BATCH_ID, pa.repeat(pa.scalar(batch_id), size))
            table = table.append_column(INGESTED_AT, pa.repeat(ingested_at, size))
            writer.write_table(table.cast(schema))
