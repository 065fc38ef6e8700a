"""A Pub/Sub stand-in for laptops and tests.

``LocalBus`` delivers every message published on a topic to each subscriber of that topic as a
real Pub/Sub CloudEvent (``google.cloud.pubsub.topic.v1.messagePublished``, base64
``message.data``, attributes, messageId, publishTime). A subscriber is either a callable (tests,
in-process) or a URL of a functions-framework process (the local stack), which receives the
CloudEvent in binary HTTP mode exactly as Eventarc would send it. Like Pub/Sub, delivery is at
least once: a failed delivery is retried with back-off, and a message no attempt could deliver
lands in ``dead_letters``. A ``concurrent`` subscription gets each message on a thread of its
own, as Pub/Sub pushes the next message while one is being handled: the local stack subscribes
an HTTP function's push_events so (dbt_build coalesces the batches whose data-ingested events
arrive while it builds).

``LocalBusServer`` puts the bus behind HTTP so that function processes can publish to it with
``LocalBusPublisher``; it accepts Pub/Sub's REST publish call and delivers asynchronously.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from common.events.envelope import PUBSUB_MESSAGE_PUBLISHED, Event, pubsub_push_data

log = logging.getLogger(__name__)

Target = Callable[[Any], Any] | str
_PUBLISH_PATH = re.compile(r"/v1/projects/([^/]+)/topics/([^/:]+):publish")
_DELIVERY_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Subscription:
    name: str
    topic: str
    target: Target
    concurrent: bool = False


@dataclass(frozen=True)
class Message:
    topic: str
    data: bytes
    attributes: dict[str, str]
    message_id: str
    publish_time: datetime


class LocalBus:
    def __init__(
        self,
        project: str = "local",
        topic_prefix: str = "",
        *,
        max_attempts: int = 5,
        retry_delay_seconds: float = 0.5,
    ):
        self.project, self.topic_prefix = project, topic_prefix
        self.max_attempts, self.retry_delay_seconds = max_attempts, retry_delay_seconds
        self.subscriptions: list[Subscription] = []
        self.dead_letters: list[dict[str, Any]] = []
        self._in_flight: set[threading.Thread] = set()
        self._in_flight_lock = threading.Lock()

    def subscribe(
        self, topic: str, target: Target, name: str | None = None, *, concurrent: bool = False
    ) -> Subscription:
        name = name or f"{topic}-sub-{len(self.subscriptions)}"
        subscription = Subscription(name, topic, target, concurrent)
        self.subscriptions.append(subscription)
        return subscription

    def in_flight(self) -> int:
        """Deliveries still running on concurrent subscriptions' threads."""
        with self._in_flight_lock:
            self._in_flight = {thread for thread in self._in_flight if thread.is_alive()}
            return len(self._in_flight)

    def publish(self, event: Event) -> str:
        """EventPublisher: deliver now, in this thread."""
        message = new_message(
            self.topic_prefix + event.event_type, event.to_bytes(), event.attributes()
        )
        self.deliver(message)
        return message.message_id

    def deliver(self, message: Message) -> None:
        subscribers = [s for s in self.subscriptions if s.topic == message.topic]
        if not subscribers:
            log.info(
                "no subscriber on topic %s; message %s dropped", message.topic, message.message_id
            )
        for subscription in subscribers:
            if subscription.concurrent:
                thread = threading.Thread(
                    target=self._deliver_with_retries, args=(subscription, message), daemon=True
                )
                with self._in_flight_lock:
                    self._in_flight.add(thread)
                thread.start()
            else:
                self._deliver_with_retries(subscription, message)

    def cloud_event(self, subscription: Subscription, message: Message) -> Any:
        from cloudevents.http import CloudEvent

        attributes = {
            "specversion": "1.0",
            "type": PUBSUB_MESSAGE_PUBLISHED,
            "source": f"//pubsub.googleapis.com/projects/{self.project}/topics/{message.topic}",
            "id": message.message_id,
            "time": message.publish_time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
        }
        data = pubsub_push_data(
            message.data,
            message.attributes,
            message.message_id,
            message.publish_time,
            f"projects/{self.project}/subscriptions/{subscription.name}",
        )
        return CloudEvent(attributes, data)

    def _deliver_with_retries(self, subscription: Subscription, message: Message) -> None:
        event = self.cloud_event(subscription, message)
        for attempt in range(1, self.max_attempts + 1):
            try:
                if callable(subscription.target):
                    subscription.target(event)
                else:
                    _post_cloud_event(subscription.target, event)
                return
            except Exception as exc:
                log.warning(
                    "delivery %d/%d of %s to %s failed: %s",
                    attempt,
                    self.max_attempts,
                    message.message_id,
                    subscription.name,
                    exc,
                )
                if attempt < self.max_attempts:
                    time.sleep(self.retry_delay_seconds * 2 ** (attempt - 1))
        log.error("message %s dead-lettered for %s", message.message_id, subscription.name)
        self.dead_letters.append(
            {
                "subscription": subscription.name,
                "message_id": message.message_id,
                "topic": message.topic,
                "attributes": message.attributes,
            }
        )


def new_message(topic: str, data: bytes, attributes: dict[str, str]) -> Message:
    return Message(topic, data, attributes, str(uuid.uuid4().int >> 72), datetime.now(UTC))


def _post_cloud_event(url: str, event: Any) -> None:
    from cloudevents.conversion import to_binary

    headers, body = to_binary(event)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # urlopen raises HTTPError for any status >= 400: the message is then redelivered.
    with urllib.request.urlopen(request, timeout=_DELIVERY_TIMEOUT_SECONDS) as response:
        response.read()


class LocalBusServer:
    """The bus behind HTTP: accepts publishes at once, delivers from a worker thread."""

    def __init__(self, bus: LocalBus, host: str = "127.0.0.1", port: int = 0):
        self.bus = bus
        self._queue: queue.Queue[Message | None] = queue.Queue()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="bus-http", daemon=True),
            threading.Thread(target=self._deliver_forever, name="bus-delivery", daemon=True),
        ]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalBusServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once every accepted message has been delivered (or dead-lettered)."""
        deadline = time.monotonic() + timeout
        while self._busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._busy()

    def _busy(self) -> bool:
        return bool(self._queue.unfinished_tasks or self.bus.in_flight())

    def _deliver_forever(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self.bus.deliver(message)
            except Exception:
                log.exception("local bus failed to deliver %s", message.message_id)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _accept(self, topic: str, body: Any) -> list[str]:
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            raise ValueError('body must be {"messages": [{"data": base64, "attributes": {}}]}')
        accepted = []
        for item in messages:
            data = base64.b64decode(item.get("data", ""), validate=True)
            attributes = {str(k): str(v) for k, v in (item.get("attributes") or {}).items()}
            accepted.append(new_message(topic, data, attributes))
        for message in accepted:
            self._queue.put(message)
        return [m.message_id for m in accepted]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._reply(200, {"status": "ok"})
                elif self.path == "/v1/dead-letters":
                    self._reply(200, {"dead_letters": server.bus.dead_letters})
                else:
                    self._reply(404, {"error": {"code": "not_found", "message": "no such path"}})

            def do_POST(self) -> None:
                match = _PUBLISH_PATH.fullmatch(self.path)
                if not match:
                    self._reply(404, {"error": {"code": "not_found", "message": "no such path"}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    ids = server._accept(match.group(2), json.loads(self.rfile.read(length)))
                except (
                    ValueError,
                    TypeError,
                    AttributeError,
                ) as exc:  # binascii.Error is a ValueError
                    self._reply(400, {"error": {"code": "invalid_argument", "message": str(exc)}})
                    return
                self._reply(200, {"messageIds": ids})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("bus http: " + format, *args)

        return Handler
