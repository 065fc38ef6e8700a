import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from common.artifacts.local import LocalArtifactStore
from common.events.consumer import Outcome, PermanentError, consume, marker_key
from common.events.envelope import (
    PUBSUB_MESSAGE_PUBLISHED,
    Event,
    InvalidEvent,
    event_from_cloud_event,
    scheduled_message,
)
from scripts.local.bus import LocalBus, LocalBusServer, new_message


def make_event(**overrides) -> Event:
    fields = {"event_type": "dbt-build-completed", "producer": "dbt_build", "run_id": "run-1"}
    return Event(**{**fields, "payload": {"status": "success"}, **overrides})


def test_envelope_round_trip_and_attributes():
    event = make_event()
    body = json.loads(event.to_bytes())
    assert set(body) == {
        "schema_version",
        "event_id",
        "event_type",
        "occurred_at",
        "producer",
        "run_id",
        "payload",
    }
    assert body["occurred_at"].endswith("Z")
    assert Event.from_bytes(event.to_bytes()) == event
    assert event.attributes() == {
        "event_type": "dbt-build-completed",
        "schema_version": "1",
        "run_id": "run-1",
    }


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"schema_version": "1"}', "missing or non-string fields"),
        (
            json.dumps({**json.loads(make_event().to_bytes()), "schema_version": "9"}).encode(),
            "unsupported schema_version",
        ),
        (
            json.dumps({**json.loads(make_event().to_bytes()), "event_type": "nope"}).encode(),
            "unknown event_type",
        ),
        (
            json.dumps(
                {**json.loads(make_event().to_bytes()), "occurred_at": "yesterday"}
            ).encode(),
            "ISO-8601",
        ),
        (
            json.dumps(
                {**json.loads(make_event().to_bytes()), "occurred_at": "2026-01-01T00:00:00"}
            ).encode(),
            "time zone",
        ),
    ],
)
def test_invalid_envelopes_are_rejected(data, problem):
    with pytest.raises(InvalidEvent, match=problem):
        Event.from_bytes(data)


def _with(**change) -> bytes:
    return json.dumps({**json.loads(make_event().to_bytes()), **change}).encode()


@pytest.mark.parametrize("field", ["event_id", "run_id"])
@pytest.mark.parametrize("value", ["", "-1", "=x", "../x", "a/b", "rün", "r" * 1025])
def test_ids_that_cannot_name_an_artifact_are_invalid(field, value):
    with pytest.raises(InvalidEvent, match=f"{field} must be"):
        Event.from_bytes(_with(**{field: value}))


def test_deeply_nested_data_is_invalid_not_a_crash():
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        Event.from_bytes(b'{"payload":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_local_bus_delivers_a_pubsub_cloud_event():
    received = []
    bus = LocalBus(project="local", topic_prefix="dev-")
    bus.subscribe("dev-dbt-build-completed", received.append, name="validate")
    bus.subscribe("dev-data-validated", lambda e: pytest.fail("wrong topic"))
    event = make_event()
    message_id = bus.publish(event)

    (cloud_event,) = received
    assert cloud_event["type"] == PUBSUB_MESSAGE_PUBLISHED
    assert (
        cloud_event["source"]
        == "//pubsub.googleapis.com/projects/local/topics/dev-dbt-build-completed"
    )
    assert cloud_event["id"] == message_id
    message = cloud_event.data["message"]
    assert message["messageId"] == message_id and message["publishTime"].endswith("Z")
    assert message["attributes"]["event_type"] == "dbt-build-completed"
    assert json.loads(base64.b64decode(message["data"])) == json.loads(event.to_bytes())
    assert cloud_event.data["subscription"] == "projects/local/subscriptions/validate"
    assert event_from_cloud_event(cloud_event) == event


def scheduler_delivery(data: bytes, attributes: dict[str, str]):
    bus = LocalBus()
    subscription = bus.subscribe("weekly-report-requested", lambda _: None)
    return bus.cloud_event(subscription, new_message("weekly-report-requested", data, attributes))


def test_a_scheduled_message_becomes_an_event_named_by_its_message():
    """Cloud Scheduler publishes the same body every week: the id and time come from Pub/Sub."""
    data, attributes = scheduled_message("weekly-report-requested", "job-1", {"locale": "de-DE"})
    assert json.loads(data) == {"locale": "de-DE"}
    assert attributes == {
        "event_type": "weekly-report-requested",
        "schema_version": "1",
        "scheduled_by": "job-1",
    }
    delivered = scheduler_delivery(data, attributes)
    message = delivered.data["message"]
    event = event_from_cloud_event(delivered)
    assert event.event_id == message["messageId"] == delivered["id"]
    assert event.occurred_at == datetime.fromisoformat(message["publishTime"])
    assert event.event_type == "weekly-report-requested" and event.producer == "job-1"
    assert event.payload == {"locale": "de-DE"}
    assert event.run_id == f"job-1-{event.occurred_at:%Y%m%dT%H%M%SZ}"
    again = scheduler_delivery(data, attributes)  # next week's run: a new message, a new event
    assert event_from_cloud_event(again).event_id != event.event_id


@pytest.mark.parametrize(
    ("data", "attributes", "problem"),
    [
        (b"{}", {"schema_version": "2"}, "schema_version"),
        (b"{}", {"event_type": "no-such-event"}, "event_type"),
        (b"{}", {"scheduled_by": "../x"}, "run_id"),
        (b"[]", {}, "JSON object"),
        (b"\xff", {}, "JSON body"),
    ],
)
def test_invalid_scheduled_messages_are_rejected(data, attributes, problem):
    _, scheduler = scheduled_message("weekly-report-requested", "job-1", {})
    with pytest.raises(InvalidEvent, match=problem):
        event_from_cloud_event(scheduler_delivery(data, {**scheduler, **attributes}))


def test_local_bus_retries_then_dead_letters():
    attempts = []

    def flaky(cloud_event):
        attempts.append(cloud_event["id"])
        if len(attempts) < 3:
            raise ConnectionError("transient")

    bus = LocalBus(max_attempts=3, retry_delay_seconds=0)
    bus.subscribe("dbt-build-completed", flaky)
    bus.publish(make_event())
    assert len(attempts) == 3 and len(set(attempts)) == 1  # same message redelivered
    assert bus.dead_letters == []

    bus.subscribe("data-validated", lambda e: 1 / 0, name="broken")
    bus.publish(make_event(event_type="data-validated"))
    assert [d["subscription"] for d in bus.dead_letters] == ["broken"]


class Recorder:
    def __init__(self, fail_times: int = 0, error: Exception | None = None):
        self.calls, self.fail_times, self.error = 0, fail_times, error

    def __call__(self, event: Event) -> dict:
        self.calls += 1
        if self.error:
            raise self.error
        if self.calls <= self.fail_times:
            raise ConnectionError("warehouse hiccup")
        return {"rows": 3}


@pytest.fixture
def store(tmp_path):
    return LocalArtifactStore(tmp_path)


def deliver(store, handler, event=None, cloud_event=None, now=None):
    bus = LocalBus()
    captured = []
    bus.subscribe("dbt-build-completed", captured.append)
    bus.publish(event or make_event())
    return consume(
        cloud_event or captured[0],
        consumer="validate",
        handler=handler,
        store=store,
        max_age=timedelta(hours=1),
        now=now or (lambda: datetime.now(UTC)),
    )


def test_each_event_is_handled_once(store):
    handler, event = Recorder(), make_event()
    assert deliver(store, handler, event) == Outcome.HANDLED
    assert deliver(store, handler, event) == Outcome.DUPLICATE
    assert handler.calls == 1
    marker = store.get_json(marker_key("validate", event.event_id))
    assert marker["outcome"] == "handled" and marker["result"] == {"rows": 3}


def test_transient_errors_propagate_and_redelivery_completes(store):
    handler, event = Recorder(fail_times=1), make_event()
    with pytest.raises(ConnectionError):
        deliver(store, handler, event)
    assert not store.exists(marker_key("validate", event.event_id))
    assert deliver(store, handler, event) == Outcome.HANDLED
    assert handler.calls == 2


def test_permanent_errors_are_recorded_and_acknowledged(store):
    handler, event = Recorder(error=PermanentError("no rows")), make_event()
    assert deliver(store, handler, event) == Outcome.FAILED
    assert deliver(store, handler, event) == Outcome.DUPLICATE
    assert handler.calls == 1
    assert store.get_json(marker_key("validate", event.event_id))["error"] == "no rows"


def test_old_events_are_dropped(store):
    handler = Recorder()
    later = lambda: datetime.now(UTC) + timedelta(hours=2)  # noqa: E731
    assert deliver(store, handler, now=later) == Outcome.EXPIRED
    assert handler.calls == 0


@pytest.mark.parametrize(
    ("message_id", "recorded"), [("-1", "1"), ("==", "unknown"), ("ü" * 2000, "_" * 128)]
)
def test_any_cloud_event_id_names_its_invalid_record(store, message_id, recorded):
    cloud_event = {"id": message_id, "data": {"message": {"data": "bm90IGpzb24="}}}
    assert deliver(store, Recorder(), cloud_event=cloud_event) == Outcome.INVALID
    assert store.list("events/validate/invalid/") == [f"events/validate/invalid/{recorded}.json"]


def test_invalid_messages_are_acknowledged_and_recorded(store):
    cloud_event = {"id": "42/../x", "data": {"message": {"data": "bm90IGpzb24="}}}
    assert deliver(store, Recorder(), cloud_event=cloud_event) == Outcome.INVALID
    assert store.list("events/validate/invalid/") == ["events/validate/invalid/42____x.json"]


def test_a_concurrent_subscription_gets_the_next_message_while_one_is_being_handled():
    """As Pub/Sub pushes: the second message arrives before the first delivery has answered,
    and the server is idle only once both have."""
    started, release = [], threading.Event()

    def slow(cloud_event):
        started.append(cloud_event["id"])
        assert release.wait(10)

    server = LocalBusServer(LocalBus()).start()
    try:
        server.bus.subscribe("data-ingested", slow, "dbt_build", concurrent=True)
        first = server.bus.publish(make_event(event_type="data-ingested"))
        second = server.bus.publish(make_event(event_type="data-ingested"))
        deadline = time.monotonic() + 10
        while len(started) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(started) == sorted([first, second])
        assert not server.wait_idle(0.1)
        release.set()
        assert server.wait_idle(10) and server.bus.dead_letters == []
    finally:
        release.set()
        server.stop()
