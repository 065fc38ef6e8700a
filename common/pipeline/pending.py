"""Ingested batches no build has read yet: one marker per announced batch.

    builds/pending/<recorded at>/<table>/<batch_id>.json   the data-ingested payload

The key carries what the coalescing needs (when, which table, which batch), so one listing
answers "what waits, and since when" without opening a marker. A build lists the markers before
dbt reads anything and writes the list to ``runs/<run_id>/ingested_batches.json`` before its
record is finished; the markers are deleted once the completion event is out, so a crash in
between leaves markers that name a finished run, and whoever claims that run again publishes
and deletes them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from common.artifacts import ArtifactNotFound, ArtifactStore
from common.events.envelope import Event, InvalidEvent
from common.runs import run_key
from common.validation import InvalidInput, count, identifier, known_fields

PREFIX = "builds/pending/"
COVERED = "ingested_batches.json"
EVENT_TYPE = "data-ingested"
_TIME = "%Y%m%dT%H%M%S%fZ"
_PUSH_FIELDS = ("deliveryAttempt", "message", "subscription")


@dataclass(frozen=True)
class IngestedBatch:
    """What a data-ingested event announces."""

    batch_id: str
    table: str
    rows: int
    object: str


@dataclass(frozen=True)
class PendingBatch:
    key: str
    recorded_at: datetime
    table: str
    batch_id: str


def ingested_batch(body: dict[str, Any]) -> IngestedBatch | None:
    """The batch a Pub/Sub push of data-ingested announces; None for any other push or body
    (a scheduled tick), which the build request reads as before."""
    message = body.get("message")
    attributes = message.get("attributes") if isinstance(message, dict) else None
    if not isinstance(attributes, dict) or attributes.get("event_type") != EVENT_TYPE:
        return None
    known_fields(body, "", _PUSH_FIELDS)
    try:
        event = Event.from_bytes(base64.b64decode(message.get("data", ""), validate=True))
    except (InvalidEvent, binascii.Error, TypeError) as exc:
        raise InvalidInput("message.data", f"must be a data-ingested envelope ({exc})") from None
    if event.event_type != EVENT_TYPE:
        raise InvalidInput("message.data", "must be a data-ingested envelope")
    payload = event.payload
    known_fields(payload, "payload", ("batch_id", "table", "rows", "object"))
    return IngestedBatch(
        batch_id=identifier(payload.get("batch_id"), "payload.batch_id"),
        table=identifier(payload.get("table"), "payload.table"),
        rows=int(count(payload.get("rows"), "payload.rows")),
        object=_object_key(payload.get("object")),
    )


def _object_key(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("ingest/curated/") or len(value) > 500:
        raise InvalidInput("payload.object", "must be a key under ingest/curated/")
    return value


class PendingBatches:
    def __init__(self, store: ArtifactStore):
        self.store = store

    def record(self, batch: IngestedBatch, now: datetime) -> None:
        """Before the event is acknowledged: from here on some build must read the batch."""
        at = now.astimezone(UTC).strftime(_TIME)
        key = f"{PREFIX}{at}/{batch.table}/{batch.batch_id}.json"
        self.store.put_json(key, {**asdict(batch), "recorded_at": now.isoformat()})

    def waiting(self) -> list[PendingBatch]:
        """Every marker, oldest first."""
        return [_parse(key) for key in sorted(self.store.list(PREFIX))]

    def mark_covered(self, run_id: str, batches: list[PendingBatch]) -> None:
        """The batches a build read: written before its record is finished."""
        if batches:
            self.store.put_json(run_key(run_id, COVERED), [b.key for b in batches])

    def clear_covered(self, run_id: str) -> int:
        """Delete the markers of the batches the finished run ``run_id`` read (once its
        completion is published); how many it read."""
        try:
            covered = self.store.get_json(run_key(run_id, COVERED))
        except ArtifactNotFound:
            return 0
        for key in covered:
            self.store.delete(key)
        return len(covered)


def _parse(key: str) -> PendingBatch:
    at, table, name = key[len(PREFIX) :].split("/")
    recorded_at = datetime.strptime(at, _TIME).replace(tzinfo=UTC)
    return PendingBatch(key, recorded_at, table, name.removesuffix(".json"))
