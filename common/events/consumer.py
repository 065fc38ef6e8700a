"""Handling a delivered event the way at-least-once delivery demands.

``consume`` wraps an event handler:

- a message that is not a valid envelope is recorded and acknowledged (retrying cannot fix it);
- an event older than the configured maximum age is dropped and logged;
- an event this consumer already handled is acknowledged and ignored;
- a ``PermanentError`` from the handler is recorded and acknowledged;
- any other exception propagates, so Pub/Sub redelivers the event later.

A handled event leaves a marker ``events/<consumer>/<event_id>.json`` in the artifact store.
The marker is written after the handler succeeds, so a crash mid-way means a redelivery runs the
handler again: handlers must make their own effects idempotent (e.g. key what they write by
run or event id, and write with ``if_version=MUST_NOT_EXIST``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from common.artifacts import MUST_NOT_EXIST, ArtifactStore, PreconditionFailed
from common.events.envelope import Event, InvalidEvent, event_from_cloud_event
from common.logs import reset_trace, set_trace

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """The event can never be handled (bad payload, missing input): do not retry."""


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    INVALID = "invalid"
    FAILED = "failed"


def marker_key(consumer: str, event_id: str) -> str:
    return f"events/{consumer}/{event_id}.json"


def consume(
    cloud_event: Any,
    *,
    consumer: str,
    handler: Callable[[Event], dict[str, Any] | None],
    store: ArtifactStore,
    max_age: timedelta,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Outcome:
    try:
        event = event_from_cloud_event(cloud_event)
    except InvalidEvent as exc:
        message_id = _message_id(cloud_event)
        log.error("invalid event %s acknowledged without handling: %s", message_id, exc)
        _record(store, f"events/{consumer}/invalid/{message_id}.json", {"error": str(exc)})
        return Outcome.INVALID

    token = set_trace(event.run_id)
    try:
        fields = {
            "event_id": event.event_id,
            "event_type": event.event_type,
            "run_id": event.run_id,
        }
        age = now() - event.occurred_at
        if age > max_age:
            log.warning("dropped %s: %s old", event.event_type, age, extra={"fields": fields})
            return Outcome.EXPIRED
        key = marker_key(consumer, event.event_id)
        if store.exists(key):
            log.info("ignored %s: already handled", event.event_type, extra={"fields": fields})
            return Outcome.DUPLICATE
        try:
            result = handler(event) or {}
        except PermanentError as exc:
            log.error("failed %s for good: %s", event.event_type, exc, extra={"fields": fields})
            _record(store, key, {**fields, "outcome": Outcome.FAILED, "error": str(exc)})
            return Outcome.FAILED
        _record(store, key, {**fields, "outcome": Outcome.HANDLED, "result": result})
        log.info("handled %s", event.event_type, extra={"fields": fields})
        return Outcome.HANDLED
    finally:
        reset_trace(token)


def _record(store: ArtifactStore, key: str, record: dict[str, Any]) -> None:
    record = {**record, "recorded_at": datetime.now(UTC).isoformat()}
    with suppress(PreconditionFailed):  # a concurrent delivery recorded it first
        store.put_json(key, record, if_version=MUST_NOT_EXIST)


def _message_id(cloud_event: Any) -> str:
    """The CloudEvent id, made safe for use in an artifact key."""
    try:
        raw = str(cloud_event["id"])
    except (KeyError, TypeError):
        raw = ""
    # A key segment starts with a letter, digit or _ (common.validation.is_run_id).
    return re.sub(r"[^A-Za-z0-9_=-]", "_", raw)[:128].lstrip("-=") or "unknown"
