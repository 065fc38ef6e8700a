"""Sending events: to Pub/Sub in production, to the local bus on a laptop."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Protocol

from common.errors import Unavailable
from common.events.envelope import Event

if TYPE_CHECKING:
    from google.cloud import pubsub_v1

    from common.config import Config

_PUBLISH_TIMEOUT_SECONDS = 30.0


class EventPublisher(Protocol):
    def publish(self, event: Event) -> str:
        """Send the event; return the message id once the bus has accepted it."""


class PublishError(Unavailable):
    """The bus did not accept the event; the caller may retry. The message is safe to show
    a client; the bus's own error is the cause."""

    code = "bus_unavailable"


def topic_path(project: str, topic: str) -> str:
    return f"projects/{project}/topics/{topic}"


class PubSubPublisher:
    """Publishes with google-cloud-pubsub (honours PUBSUB_EMULATOR_HOST)."""

    def __init__(
        self, project: str, topic_prefix: str = "", client: pubsub_v1.PublisherClient | None = None
    ):
        self.project, self.topic_prefix = project, topic_prefix
        self._client = client

    @property
    def client(self) -> pubsub_v1.PublisherClient:
        if self._client is None:
            from google.cloud import pubsub_v1

            self._client = pubsub_v1.PublisherClient()
        return self._client

    def publish(self, event: Event) -> str:
        topic = topic_path(self.project, self.topic_prefix + event.event_type)
        # The client retries transient errors itself; result() raises once it gives up.
        future = self.client.publish(topic, event.to_bytes(), **event.attributes())
        try:
            return future.result(timeout=_PUBLISH_TIMEOUT_SECONDS)
        except Exception as exc:
            raise PublishError(f"Pub/Sub did not accept {event.event_type}") from exc


class LocalBusPublisher:
    """Publishes to the local bus server over HTTP, in the shape of Pub/Sub's REST API."""

    def __init__(self, bus_url: str, project: str = "local", topic_prefix: str = ""):
        self.bus_url, self.project, self.topic_prefix = bus_url, project, topic_prefix

    def publish(self, event: Event) -> str:
        topic = topic_path(self.project, self.topic_prefix + event.event_type)
        message = {
            "data": base64.b64encode(event.to_bytes()).decode(),
            "attributes": event.attributes(),
        }
        request = urllib.request.Request(
            f"{self.bus_url}/v1/{topic}:publish",
            data=json.dumps({"messages": [message]}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=_PUBLISH_TIMEOUT_SECONDS) as response:
                return json.loads(response.read())["messageIds"][0]
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            raise PublishError(f"the local bus did not accept {event.event_type}") from exc


def open_publisher(config: Config) -> EventPublisher:
    if config.events == "pubsub":
        return PubSubPublisher(config.pubsub_project, config.topic_prefix)
    return LocalBusPublisher(config.local_bus_url, config.pubsub_project, config.topic_prefix)
