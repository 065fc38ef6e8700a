"""Whether a validated build retrains the model: builds started by ingestion are throttled.

Streaming ingestion starts a build every minute or so (``common.pipeline.ingest_builds``).
Training after each would cost a train instance per build and churn the champion, so the
validated data of a build started by ingestion trains only a model older than
``EXECKPI_RETRAIN_MIN_INTERVAL_HOURS``; scheduled and manual builds, and POST /ml/train, always
train. Why a build ran is read from its record in the run ledger (``runs/<run_id>/build.json``,
written before the build's event): one small read, and true for events already in flight.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common.artifacts import ArtifactNotFound, ArtifactStore
from common.ml.registry import Registry
from common.runs import BUILD, run_key

# The trigger kind common.pipeline.ingest_builds.trigger records for the builds it starts.
INGEST_TRIGGER = "data-ingested"
# Versions that trained a model; a failed attempt trained none and holds no retraining off.
TRAINED = frozenset({"promoted", "rejected"})


def started_by_ingestion(store: ArtifactStore, run_id: str) -> bool:
    """Whether the run's build was started by ingested data (no build record: a run that no
    build started, such as a manual retrain, is not)."""
    try:
        build = store.get_json(run_key(run_id, BUILD))
    except ArtifactNotFound:
        return False
    trigger = build.get("trigger")
    return isinstance(trigger, dict) and trigger.get("kind") == INGEST_TRIGGER


def too_recent(registry: Registry, interval: timedelta, now: datetime) -> str | None:
    """Why an ingest build trains nothing now: the newest trained model is younger than
    ``interval``; None when there is none or it is old enough."""
    newest = registry.newest_record(TRAINED)
    if newest is None:
        return None
    age = now - datetime.fromisoformat(newest["finished_at"])
    if age >= interval:
        return None
    hours, limit = age / timedelta(hours=1), interval / timedelta(hours=1)
    return (
        f"ingest build; model {newest['version']} trained {hours:.1f} h ago, "
        f"retrain interval {limit:g} h"
    )
