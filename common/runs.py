"""A run's records in the artifact store, and the claim that lets one attempt at a time do a
stage of the run.

    runs/<run_id>/build.json              dbt_build: the slot's claim, then outcome and summary
    runs/<run_id>/run_results.json        dbt's own run results; sources.json its freshness
    runs/<run_id>/validation_report.json  validate: every gate with its numbers
    runs/<run_id>/training.json           train: the claim, then the model version and decision

Run ids start with the UTC time they stand for (``20261123T050000Z-build``), so sorting the ids
sorts the runs by time.

Pub/Sub and Cloud Scheduler deliver at least once, so a stage that must run once per run claims
its record: the record is created once (create-only write) with a lease, and then

- finished (any status but running or interrupted): later attempts get the recorded outcome;
- running within its lease: another attempt is at work (``InProgress``: come back later);
- running past its lease (the process died) or interrupted (an attempt raised): the next
  attempt takes it over with a compare-and-swap, so two takers cannot both do the work;
- finishing or interrupting is a compare-and-swap too: an attempt that was taken over cannot
  overwrite its taker's record (``LeaseLost``).
"""

from __future__ import annotations

import json
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from common.artifacts import MUST_NOT_EXIST, ArtifactStore, PreconditionFailed
from common.errors import Conflict

PREFIX = "runs/"
BUILD = "build.json"
RUN_RESULTS = "run_results.json"
SOURCES = "sources.json"
VALIDATION = "validation_report.json"
TRAINING = "training.json"

RUNNING = "running"
INTERRUPTED = "interrupted"


def run_key(run_id: str, name: str) -> str:
    return f"{PREFIX}{run_id}/{name}"


def new_run_id(kind: str, now: datetime) -> str:
    """A run id for work no schedule slot names (a manual retrain): its time first, to sort."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{kind}-{secrets.token_hex(4)}"


class InProgress(Conflict):
    """Another attempt holds the claim within its lease; try again later."""

    code = "build_in_progress"  # only dbt_build answers it over HTTP


class LeaseLost(Conflict):
    """The attempt outlived its lease and another attempt took the record over."""

    code = "build_in_progress"  # to the client: the slot is someone else's build now


@dataclass(frozen=True)
class Claim:
    key: str
    record: dict[str, Any]
    version: str  # of the record, for the compare-and-swap that finishes the attempt

    @property
    def run_id(self) -> str:
        return self.record["run_id"]


def claim(
    store: ArtifactStore,
    run_id: str,
    name: str,
    details: dict[str, Any],
    lease: timedelta,
    now: datetime,
) -> Claim | dict[str, Any]:
    """A claim on the record ``name`` of ``run_id``, or that record if a stage finished it.

    Raises InProgress while another attempt holds it."""
    key = run_key(run_id, name)
    record = {
        **details,
        "run_id": run_id,
        "status": RUNNING,
        "attempt": 1,
        "started_at": now.isoformat(),
        "lease_until": (now + lease).isoformat(),
    }
    try:
        return Claim(key, record, store.put_json(key, record, if_version=MUST_NOT_EXIST))
    except PreconditionFailed:
        pass
    blob = store.get(key)
    current = json.loads(blob.data)
    if current["status"] not in (RUNNING, INTERRUPTED):
        return current
    if current["status"] == RUNNING and now < datetime.fromisoformat(current["lease_until"]):
        raise InProgress(f"{key} has been in progress since {current['started_at']}")
    record["attempt"] = current.get("attempt", 1) + 1
    record["previous_attempt"] = {k: current.get(k) for k in ("status", "started_at", "error")}
    try:
        return Claim(key, record, store.put_json(key, record, if_version=blob.version))
    except PreconditionFailed:
        raise InProgress(f"{key} was taken over concurrently") from None


def finish(
    store: ArtifactStore, claim: Claim, outcome: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Record the attempt's ``outcome`` (its fields, ``status`` among them) and how long it
    took; raises LeaseLost if another attempt took the record over."""
    started = datetime.fromisoformat(claim.record["started_at"])
    record = {
        **claim.record,
        **outcome,
        "finished_at": now.isoformat(),
        "seconds": round((now - started).total_seconds(), 2),
    }
    record.pop("lease_until")
    try:
        store.put_json(claim.key, record, if_version=claim.version)
    except PreconditionFailed:
        raise LeaseLost(f"{claim.key} was taken over by another attempt") from None
    return record


def interrupt(store: ArtifactStore, claim: Claim, error: str, now: datetime) -> dict[str, Any]:
    """Mark an attempt that raised, so that the next attempt takes over at once; the record."""
    record = {**claim.record, "status": INTERRUPTED, "error": error, "failed_at": now.isoformat()}
    with suppress(PreconditionFailed):  # already taken over: the taker's record stands
        store.put_json(claim.key, record, if_version=claim.version)
    return record
