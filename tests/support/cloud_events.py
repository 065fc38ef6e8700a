"""Events as the tests deliver and read them: the Pub/Sub CloudEvent a push subscription sends,
posted in binary mode to a function's test client, and the envelopes a recording bus received."""

from __future__ import annotations

import base64

from cloudevents.conversion import to_binary

from common.events.envelope import Event
from scripts.local.bus import LocalBus, LocalBusServer, new_message


def as_cloud_event(event: Event):
    """``event`` as the local bus (and Pub/Sub) delivers it to a subscriber."""
    captured = []
    bus = LocalBus()
    bus.subscribe(event.event_type, captured.append)
    bus.publish(event)
    return captured[0]


def delivery_of(data: bytes, topic: str = "data-validated", attributes: dict | None = None):
    """Any bytes published to ``topic``, as Pub/Sub pushes them to a subscriber: how a message
    that is no valid envelope arrives, or one Cloud Scheduler published."""
    bus = LocalBus()
    subscription = bus.subscribe(topic, lambda _: None)
    return bus.cloud_event(subscription, new_message(topic, data, attributes or {}))


def post_cloud_event(client, cloud_event) -> int:
    """POST a delivered CloudEvent to a function's test client; the HTTP status it answered."""
    headers, body = to_binary(cloud_event)
    return client.post("/", headers=headers, data=body).status_code


def push(client, event: Event) -> int:
    return post_cloud_event(client, as_cloud_event(event))


def envelope(cloud_event) -> Event:
    return Event.from_bytes(base64.b64decode(cloud_event.data["message"]["data"]))


def published(bus: LocalBusServer) -> list[Event]:
    """What a recording bus (subscribers appending to ``bus.received``) has received so far."""
    assert bus.wait_idle(10)
    return [envelope(cloud_event) for cloud_event in bus.received]
