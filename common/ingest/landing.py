"""Files landed in the landing bucket, ingested as one batch each with the same contract and the
same idempotency as POST /ingest (common.ingest.batches): the batch id is the file's checksum,
so the same file landed twice, or its event delivered twice, changes nothing.

An object named ``<table>/<anything>.{csv,csv.gz,json,json.gz,parquet}`` is read into a local
temporary file a block at a time, then handed to the Ingestor. A file that can never be ingested
(a name outside that pattern, an unknown table, too large, unreadable, the wrong columns, a
header alone, not UTF-8, a gzip bomb) leaves a rejected-file record naming the problem,
``ingest/rejected_files/<table or _unknown>/<day>/<checksum>.json``, and the event is
acknowledged: redelivering it could not help. Anything else (the store or the bus failing)
raises, so the event is delivered again.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from common.artifacts import MUST_NOT_EXIST, ArtifactStore, PreconditionFailed
from common.ingest.batches import Ingestor, Upload
from common.ingest.contracts import CONTRACTS
from common.ingest.landing_store import LandingStore, ObjectGone
from common.validation import InvalidInput

FINALIZED = "google.cloud.storage.object.v1.finalized"
# A GCS Pub/Sub notification pushed to the function arrives as messagePublished.
MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
_FORMATS = {  # name ending -> (format, gzipped); longest endings first
    ".csv.gz": ("csv", True),
    ".json.gz": ("json", True),
    ".csv": ("csv", False),
    ".json": ("json", False),
    ".parquet": ("parquet", False),
}
UNKNOWN_TABLE = "_unknown"
# A function's temporary disk is its memory, and the raw copy is uploaded from memory
# (common.ingest.batches): a file, its copy and its upload fit the function's 4 GiB.
MAX_FILE_BYTES = 1024**3
_BLOCK = 1024**2


@dataclass(frozen=True)
class LandedObject:
    bucket: str
    name: str
    generation: str | None


@dataclass(frozen=True)
class LandedFile:
    table: str
    fmt: str
    gzipped: bool


def landed_object(cloud_event: Any) -> LandedObject | None:
    """The object a finalize event names, from Eventarc's storage CloudEvent or a GCS
    notification pushed through Pub/Sub; None for any other event (nothing to do)."""
    data = cloud_event.data if isinstance(cloud_event.data, dict) else {}
    if cloud_event["type"] == FINALIZED:
        bucket, name, generation = data.get("bucket"), data.get("name"), data.get("generation")
    elif cloud_event["type"] == MESSAGE_PUBLISHED:
        attributes = (data.get("message") or {}).get("attributes") or {}
        if attributes.get("eventType") != "OBJECT_FINALIZE":
            return None
        bucket, name = attributes.get("bucketId"), attributes.get("objectId")
        generation = attributes.get("objectGeneration")
    else:
        return None
    if not isinstance(bucket, str) or not isinstance(name, str) or not bucket or not name:
        return None
    return LandedObject(bucket, name, None if generation is None else str(generation))


def landed_file(name: str) -> LandedFile:
    """What ``<table>/<anything>.<format>`` holds; InvalidInput("object", ...) otherwise."""
    table, _, rest = name.partition("/")
    segments = name.split("/")
    if not rest or "\\" in name or any(s in ("", ".", "..") for s in segments):
        raise InvalidInput("object", "must be named <table>/<file>")
    if table not in CONTRACTS:
        raise InvalidInput("table", f"must be one of {', '.join(CONTRACTS)}")
    for ending, (fmt, gzipped) in _FORMATS.items():
        if name.endswith(ending):
            return LandedFile(table, fmt, gzipped)
    raise InvalidInput("object", f"must end in one of {', '.join(_FORMATS)}")


def table_of(name: str) -> str:
    table = name.partition("/")[0]
    return table if table in CONTRACTS else UNKNOWN_TABLE


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LandingIntake:
    def __init__(
        self,
        landing: LandingStore,
        store: ArtifactStore,
        ingestor: Ingestor,
        max_file_bytes: int = MAX_FILE_BYTES,
        clock: Callable[[], datetime] = _utc_now,
    ):
        self.landing, self.store, self.ingestor = landing, store, ingestor
        self.max_file_bytes, self.clock = max_file_bytes, clock

    def take(self, landed: LandedObject) -> dict:
        """The batch's receipt, or the rejected-file record (its ``rule`` names the problem)."""
        with tempfile.TemporaryFile(prefix="landed-") as copy:
            try:
                with self.landing.open(landed.bucket, landed.name, landed.generation) as source:
                    digest, size = self._copy(source, copy)
            except ObjectGone:
                # No bytes to hash: the record is named by the object and its generation.
                identity = f"{landed.bucket}/{landed.name}#{landed.generation}".encode()
                gone = InvalidInput("object", "no longer exists")
                return self._reject(landed, hashlib.sha256(identity).hexdigest(), gone)
            try:
                kind = landed_file(landed.name)
                if size > self.max_file_bytes:
                    raise InvalidInput("object", f"is larger than {self.max_file_bytes} bytes")
                copy.seek(0)
                return self.ingestor.ingest(Upload(kind.table, kind.fmt, copy, kind.gzipped))
            except InvalidInput as problem:
                return self._reject(landed, digest, problem)

    def _copy(self, source: BinaryIO, copy: BinaryIO) -> tuple[str, int]:
        """Copy up to the size cap into ``copy``; the whole object's SHA-256 and size. A file
        over the cap is still read through (for its checksum) but never kept whole."""
        digest, size = hashlib.sha256(), 0
        while block := source.read(_BLOCK):
            digest.update(block)
            size += len(block)
            if size <= self.max_file_bytes:
                copy.write(block)
        return digest.hexdigest(), size

    def _reject(self, landed: LandedObject, digest: str, problem: InvalidInput) -> dict:
        """Create the record once; a redelivery finds the first one and answers it."""
        day = self.clock().date().isoformat()
        key = f"ingest/rejected_files/{table_of(landed.name)}/{day}/{digest}.json"
        record = {
            "bucket": landed.bucket,
            "object": landed.name,
            "generation": landed.generation,
            "checksum": digest,
            "field": problem.field,
            "rule": problem.message,
            "rejected_at": self.clock().isoformat(),
            "record": key,
        }
        with contextlib.suppress(PreconditionFailed):
            self.store.put_json(key, record, if_version=MUST_NOT_EXIST)
            return record
        return self.store.get_json(key)
