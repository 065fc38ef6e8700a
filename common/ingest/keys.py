"""Which keys a table already holds: the index that makes a row sent twice a duplicate.

Chosen over scanning the curated Parquet's keys with DuckDB because a claim must be atomic: two
batches holding the same key, checked at the same time, would both find it new in a scan. Here
each batch claims its new keys with one compare-and-swap on a small pointer object:

    ingest/keys/<table>/HEAD    {"compacted": key | null, "recent": {batch_id: segment key}}
    ingest/keys/<table>/batches/<batch_id>-<attempt>.parquet   the keys a batch claimed
    ingest/keys/<table>/compacted/<batch_id>-<attempt>.parquet every key merged before

A losing writer reads the new HEAD and checks again. A batch leaves ``recent`` (is merged into a
compacted object) only once it is committed, so a batch that crashed after its claim finds its
own segment on the retry and writes exactly the rows it claimed. Each attempt writes objects of
its own name, so objects never change once HEAD names them, and an instance keeps those it read.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common.artifacts import MUST_NOT_EXIST, ArtifactNotFound, ArtifactStore, PreconditionFailed
from common.errors import Unavailable
from common.ingest.staging import ROW

PREFIX = "ingest/keys"
COMPACT_AT = 64  # segments in ``recent`` that trigger a merge
_ATTEMPTS = 50


@dataclass(frozen=True)
class Claim:
    rows: pa.Array  # ROW numbers of the rows to write: the first of each key new to the table
    duplicates: int  # rows whose key the table holds, or an earlier row of the batch


class KeyIndex:
    def __init__(
        self,
        store: ArtifactStore,
        table: str,
        is_committed: Callable[[str], bool],
        compact_at: int = COMPACT_AT,
    ):
        self.store, self.table = store, table
        self.is_committed, self.compact_at = is_committed, compact_at
        self._segments: dict[str, pa.Array] = {}

    def claim(self, batch_id: str, keys: pa.Table) -> Claim:
        """``keys``: the batch's (key, ROW) pairs. Claims the keys new to the table for it."""
        firsts, first_rows = _firsts(keys)
        for _ in range(_ATTEMPTS):
            head, version = self._head()
            if batch_id in head["recent"]:  # claimed by an attempt that crashed after it
                mine = self._segment(head["recent"][batch_id]).to_numpy()
                return _claim(first_rows[np.isin(firsts, mine)], len(keys))
            new = ~np.isin(firsts, self._known(head).to_numpy())
            attempt = f"{batch_id}-{uuid.uuid4().hex[:12]}"
            segment = f"{PREFIX}/{self.table}/batches/{attempt}.parquet"
            self.store.put(segment, _parquet(pa.array(firsts[new])), if_version=MUST_NOT_EXIST)
            try:
                following = self._next(head, batch_id, segment, attempt)
                self.store.put_json(self._head_key, following, if_version=version)
            except PreconditionFailed:  # another batch claimed first: check against its keys
                continue
            return _claim(first_rows[new], len(keys))
        raise Unavailable(f"too many batches for {self.table} at once; try again")

    @property
    def _head_key(self) -> str:
        return f"{PREFIX}/{self.table}/HEAD"

    def _head(self) -> tuple[dict, str]:
        try:
            blob = self.store.get(self._head_key)
        except ArtifactNotFound:
            return {"compacted": None, "recent": {}}, MUST_NOT_EXIST
        return json.loads(blob.data), blob.version

    def _segment(self, key: str) -> pa.Array:
        if key not in self._segments:
            table = pq.read_table(io.BytesIO(self.store.get(key).data))
            self._segments[key] = table.column(0).combine_chunks()
        return self._segments[key]

    def _known(self, head: dict) -> pa.Array:
        keys = [self._segment(segment) for segment in head["recent"].values()]
        if head["compacted"]:
            keys.append(self._segment(head["compacted"]))
        # Forget segments merged away since: the compacted object holds their keys.
        wanted = {*head["recent"].values(), head["compacted"]}
        self._segments = {k: v for k, v in self._segments.items() if k in wanted}
        return pa.concat_arrays(keys) if keys else pa.array([], pa.int64())

    def _next(self, head: dict, batch_id: str, segment: str, attempt: str) -> dict:
        recent = {**head["recent"], batch_id: segment}
        done = [b for b in head["recent"] if len(recent) > self.compact_at and self.is_committed(b)]
        if not done:
            return {"compacted": head["compacted"], "recent": recent}
        merged = [self._segment(head["recent"][batch]) for batch in done]
        if head["compacted"]:
            merged.append(self._segment(head["compacted"]))
        compacted = f"{PREFIX}/{self.table}/compacted/{attempt}.parquet"
        self.store.put(compacted, _parquet(pa.concat_arrays(merged)), if_version=MUST_NOT_EXIST)
        pending = {batch: key for batch, key in recent.items() if batch not in done}
        return {"compacted": compacted, "recent": pending}


def _firsts(keys: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Each key once (sorted), and the row number of its first row. Rows come in order, so a
    stable sort's first index of a key is its first row. NumPy arrays rather than Arrow tables:
    about a third of the memory of a hash group_by and the tables it filters."""
    unique, first = np.unique(keys.column(0).to_numpy(), return_index=True)
    return unique, keys.column(ROW).to_numpy()[first]


def _claim(rows: np.ndarray, batch_rows: int) -> Claim:
    return Claim(pa.array(np.sort(rows)), batch_rows - len(rows))


def _parquet(keys: pa.Array | pa.ChunkedArray) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"key": keys}), sink)
    return sink.getvalue()
