"""The event envelope and its Pub/Sub / CloudEvent wire formats.

Message body: UTF-8 JSON ``{schema_version, event_id, event_type, occurred_at, producer, run_id,
payload}``. Attributes carry only what routing and filtering need.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from common.validation import RUN_ID_RULE, is_run_id

SCHEMA_VERSION = "1"
PUBSUB_MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"

# Every event the platform publishes; the topic of an event is topic_prefix + event type.
EVENT_TYPES = frozenset(
    {
        "greeting-requested",
        "dbt-build-completed",
        "data-validated",
        "data-rejected",
        "model-retrain-requested",
        "model-trained",
        "weekly-report-requested",
        "data-ingested",
    }
)
# Namespace of the ids of events published once per pipeline run (Event.for_run).
_RUN_EVENT_IDS = uuid.UUID("6f1c2b0e-6c1a-4b5e-9d2e-3b8f3f0a7c41")
_FIELDS = ("schema_version", "event_id", "event_type", "occurred_at", "producer", "run_id")
# Cloud Scheduler publishes the same bytes on every run, so it cannot send an envelope: an id and
# a time fixed in Terraform would repeat every week. Its messages carry this attribute (the job's
# name) and the payload alone as their body; the envelope is made from what Pub/Sub gives each
# message: its id (the same on every redelivery) and its publish time.
SCHEDULED_BY = "scheduled_by"


class InvalidEvent(ValueError):
    """A message that is not a valid envelope: retrying cannot fix it."""


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Event:
    event_type: str
    producer: str
    run_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=_new_id)
    occurred_at: datetime = field(default_factory=_now)
    schema_version: str = SCHEMA_VERSION

    def __post_init__(self) -> None:
        # Both name artifact keys (handled-event markers, run folders): one rule for both.
        for name in ("event_id", "run_id"):
            if not is_run_id(getattr(self, name)):
                raise InvalidEvent(f"{name} {RUN_ID_RULE}")
        if self.event_type not in EVENT_TYPES:
            raise InvalidEvent(f"unknown event_type {self.event_type!r}")
        if self.occurred_at.tzinfo is None:
            raise InvalidEvent("occurred_at must carry a time zone")

    @classmethod
    def for_run(cls, event_type: str, producer: str, run_id: str, payload: dict[str, Any]) -> Event:
        """The event a pipeline stage publishes for a run. Its id derives from the run and the
        type, so publishing it again (a retry after a crash, a redelivery) repeats the same
        event, which consumers acknowledge and ignore as already handled."""
        event_id = uuid.uuid5(_RUN_EVENT_IDS, f"{run_id}/{event_type}").hex
        return cls(event_type, producer, run_id, payload, event_id=event_id)

    def to_bytes(self) -> bytes:
        body = asdict(self)
        body["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()

    def attributes(self) -> dict[str, str]:
        return {
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "run_id": self.run_id,
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> Event:
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidEvent(f"message data is not JSON: {exc}") from None
        except RecursionError:
            raise InvalidEvent("message data is nested too deeply") from None
        if not isinstance(body, dict):
            raise InvalidEvent("message data must be a JSON object")
        missing = [name for name in _FIELDS if not isinstance(body.get(name), str)]
        if missing:
            raise InvalidEvent(f"missing or non-string fields: {', '.join(missing)}")
        if body["schema_version"] != SCHEMA_VERSION:
            raise InvalidEvent(f"unsupported schema_version {body['schema_version']!r}")
        if not isinstance(body.get("payload", {}), dict):
            raise InvalidEvent("payload must be a JSON object")
        try:
            occurred_at = datetime.fromisoformat(body["occurred_at"])
        except ValueError:
            raise InvalidEvent("occurred_at is not an ISO-8601 time") from None
        return cls(
            event_type=body["event_type"],
            producer=body["producer"],
            run_id=body["run_id"],
            payload=body.get("payload", {}),
            event_id=body["event_id"],
            occurred_at=occurred_at,
        )


def pubsub_push_data(
    data: bytes,
    attributes: dict[str, str],
    message_id: str,
    publish_time: datetime,
    subscription: str,
) -> dict[str, Any]:
    """The ``data`` of a messagePublished CloudEvent, as Pub/Sub and Eventarc deliver it."""
    published = (
        publish_time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    message = {
        "data": base64.b64encode(data).decode(),
        "attributes": attributes,
        "messageId": message_id,
        "message_id": message_id,
        "publishTime": published,
        "publish_time": published,
    }
    return {"message": message, "subscription": subscription}


def scheduled_message(
    event_type: str, job: str, payload: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    """The body and attributes a Cloud Scheduler job publishes (infra/scheduler.tf sends the
    same: the job's body, and these attributes)."""
    attributes = {"event_type": event_type, "schema_version": SCHEMA_VERSION, SCHEDULED_BY: job}
    return json.dumps(payload).encode(), attributes


def event_from_cloud_event(cloud_event: Any) -> Event:
    """The envelope inside a Pub/Sub CloudEvent (anything with ``.data`` or a mapping)."""
    data = cloud_event.data if hasattr(cloud_event, "data") else cloud_event.get("data")
    try:
        message = data["message"]
        raw = base64.b64decode(message["data"], validate=True)
    except (TypeError, KeyError, binascii.Error):
        raise InvalidEvent("not a Pub/Sub message with base64 data") from None
    if SCHEDULED_BY in (message.get("attributes") or {}):
        return _scheduled_event(message, raw)
    return Event.from_bytes(raw)


def _scheduled_event(message: dict[str, Any], raw: bytes) -> Event:
    attributes = message["attributes"]
    if attributes.get("schema_version") != SCHEMA_VERSION:
        raise InvalidEvent(f"unsupported schema_version {attributes.get('schema_version')!r}")
    try:
        payload = json.loads(raw)
        published = datetime.fromisoformat(
            str(message.get("publishTime") or message.get("publish_time"))
        )
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidEvent("a scheduled message needs a JSON body and a publish time") from None
    if not isinstance(payload, dict):
        raise InvalidEvent("payload must be a JSON object")
    job = str(attributes[SCHEDULED_BY])
    return Event(
        event_type=str(attributes.get("event_type")),
        producer=job,
        # One run per scheduled time: the job and when it fired name it in the logs.
        run_id=f"{job}-{published.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        payload=payload,
        event_id=str(message.get("messageId") or message.get("message_id") or ""),
        occurred_at=published,
    )
