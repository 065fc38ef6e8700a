"""Builds started by data-ingested: a burst of batches coalesces into a few builds, and no batch
is left unbuilt.

Why a pending marker rather than a build per "ingest slot" of N minutes: a slot's build that
starts when its first batch arrives misses the batches that come later in the slot, so a slot
must either wait for its end (and Pub/Sub's redelivery is no timer to wait on: after
max_delivery_attempts the event is dead-lettered) or build twice. With markers, the build itself
is the coalescing window and nothing waits on a clock:

1. every data-ingested event records a marker for its batch (``common.pipeline.pending``)
   before it is acknowledged;
2. it then claims the build named after the oldest marker (``<recorded at>Z-ingest``), so all
   requests that see the same oldest batch name the same run, and the run claim
   (``common.runs``) lets one of them build. The build reads every marker listed when dbt starts
   and clears them once its completion is published;
3. an event that finds that build in progress is acknowledged: its marker is durable and
   the build in progress runs again for it, since
4. the request that built keeps building while markers remain (batches that came during its
   build), each round named after the then-oldest marker. Hundreds of events a minute thus
   start one build per build duration, each reading everything that arrived before it began.

A request starts no further round after ``FOLLOW_UP_SECONDS``: Pub/Sub stops waiting for a push
at its 600 s maximum ack deadline and the function's timeout must not cut a build short. What
is still pending then is built by the next data-ingested event, and in any case by the next
scheduled build, which clears the markers it read as every build does. A crashed build marks its
claim interrupted and answers 503, so Pub/Sub redelivers the event, which takes the claim over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from common.artifacts import ArtifactStore
from common.pipeline.pending import IngestedBatch, PendingBatch, PendingBatches
from common.runs import BUILD, Claim, InProgress, claim

FOLLOW_UP_SECONDS = 540
_BATCH_IDS_SHOWN = 20


@dataclass(frozen=True)
class IngestBuilds:
    """What one data-ingested request did: the builds it ran or completed (their finished
    records), or the build in progress its batch waits for."""

    batch_id: str
    builds: tuple[dict[str, Any], ...] = ()
    waiting_for: str | None = None


def ingest_run_id(oldest: PendingBatch) -> str:
    return f"{oldest.recorded_at:%Y%m%dT%H%M%S%f}Z-ingest"


def trigger(waiting: list[PendingBatch], message_id: str | None) -> dict[str, Any]:
    """Why the build ran, for the run ledger: the batches waiting when it was claimed."""
    return {
        "kind": "data-ingested",
        "message_id": message_id,
        "batches": len(waiting),
        "tables": dict(sorted(Counter(b.table for b in waiting).items())),
        "batch_ids": [b.batch_id for b in waiting[:_BATCH_IDS_SHOWN]],
        "oldest_recorded_at": waiting[0].recorded_at.isoformat(),
    }


def build_ingested(
    store: ArtifactStore,
    batch: IngestedBatch,
    message_id: str | None,
    *,
    now: Callable[[], datetime],
    lease: timedelta,
    settle: Callable[[Claim | dict[str, Any]], dict[str, Any]],
) -> IngestBuilds:
    """Record ``batch`` as pending, then build until nothing is pending (or the time is up).

    ``settle`` takes a claim (runs dbt) or a finished record, publishes the completion and
    clears the markers the build read; it returns the finished record."""
    pending = PendingBatches(store)
    started = now()
    pending.record(batch, started)
    builds: list[dict[str, Any]] = []
    settled_oldest = None
    while waiting := pending.waiting():
        oldest = waiting[0]
        if oldest.key == settled_oldest:
            # Its run finished without reading it: recorded in the same microsecond after the
            # build listed the markers. A retry names the next run after this one's.
            raise InProgress(f"batch {oldest.batch_id} came after its run had listed batches")
        if builds and (now() - started).total_seconds() > FOLLOW_UP_SECONDS:
            break
        run_id = ingest_run_id(oldest)
        details = {"slot": now().isoformat(), "trigger": trigger(waiting, message_id)}
        try:
            claimed = claim(store, run_id, BUILD, details, lease, now())
        except InProgress:
            if builds:  # another request took the next round over: it keeps going
                break
            return IngestBuilds(batch.batch_id, waiting_for=run_id)
        builds.append(settle(claimed))
        settled_oldest = oldest.key
    return IngestBuilds(batch.batch_id, tuple(builds))
