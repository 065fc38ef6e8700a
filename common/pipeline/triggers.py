"""When a build request says the build was scheduled for, and who asked.

- Cloud Scheduler (HTTP target, OIDC): the ``X-CloudScheduler-ScheduleTime`` header, which its
  retries of one tick repeat;
- a Pub/Sub push (a Scheduler job with a Pub/Sub target, or any publisher): the message's
  ``scheduled_at`` attribute, else its publish time, both kept across redeliveries;
- a person or a script: ``{"scheduled_at": "<ISO-8601 time>"}``, else the time of the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from common.validation import InvalidInput, iso_time, known_fields, reason

SCHEDULE_TIME_HEADER = "X-CloudScheduler-ScheduleTime"
JOB_NAME_HEADER = "X-CloudScheduler-JobName"
_BODY_FIELDS = ("reason", "scheduled_at")
_PUSH_FIELDS = ("deliveryAttempt", "message", "subscription")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_MAX_AHEAD = timedelta(days=1)


def scheduled_time(
    headers: Mapping[str, str], body: dict[str, Any], now: datetime
) -> tuple[datetime, dict[str, Any]]:
    """The scheduled time (validated) and a description of the trigger for the run record."""
    if "message" in body:
        return _pubsub_push(body, now)
    known_fields(body, "", _BODY_FIELDS)
    why = reason(body.get("reason", ""))
    if "scheduled_at" in body:
        at = _time("scheduled_at", body["scheduled_at"], now)
        return at, {"kind": "manual", "reason": why}
    if SCHEDULE_TIME_HEADER in headers:
        at = _time(SCHEDULE_TIME_HEADER, headers[SCHEDULE_TIME_HEADER], now)
        job = headers.get(JOB_NAME_HEADER, "")[:200]
        return at, {"kind": "scheduler", "job": job}
    return now, {"kind": "manual", "reason": why}


def _pubsub_push(body: dict[str, Any], now: datetime) -> tuple[datetime, dict[str, Any]]:
    known_fields(body, "", _PUSH_FIELDS)
    message = body["message"]
    if not isinstance(message, dict):
        raise InvalidInput("message", "must be a Pub/Sub message object")
    attributes = message.get("attributes", {})
    if not isinstance(attributes, dict):
        raise InvalidInput("message.attributes", "must be an object of strings")
    if "scheduled_at" in attributes:
        at = _time("message.attributes.scheduled_at", attributes["scheduled_at"], now)
    else:
        published = message.get("publishTime", message.get("publish_time"))
        at = _time("message.publishTime", published, now)
    message_id = message.get("messageId", message.get("message_id"))
    subscription = body.get("subscription")
    return at, {
        "kind": "pubsub",
        "message_id": None if message_id is None else str(message_id)[:200],
        "subscription": None if subscription is None else str(subscription)[:300],
    }


def _time(field: str, raw: Any, now: datetime) -> datetime:
    at = iso_time(raw, field)
    if not _EARLIEST <= at <= now + _MAX_AHEAD:
        raise InvalidInput(field, "must lie between 2000-01-01 and one day from now")
    return at
