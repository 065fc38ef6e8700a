"""hello_event receiving real CloudEvents, in the encodings Eventarc and Pub/Sub push use."""

import base64
import json

import pytest
from cloudevents.conversion import to_binary, to_structured

from common.artifacts.local import LocalArtifactStore
from common.events.envelope import Event
from scripts.local.bus import LocalBus


def cloud_event_for(event: Event):
    captured = []
    bus = LocalBus(project="local")
    bus.subscribe("greeting-requested", captured.append, name="hello_event")
    bus.publish(event)
    return captured[0]


@pytest.fixture
def client(function_client):
    return function_client("hello_event")


@pytest.fixture
def store(execkpi_env):
    return LocalArtifactStore(execkpi_env["EXECKPI_ARTIFACT_DIR"])


def greeting_event(name="Ada") -> Event:
    return Event("greeting-requested", "test", "a" * 32, {"name": name})


@pytest.mark.parametrize("encode", [to_binary, to_structured])
def test_cloud_event_is_handled_once(client, store, encode):
    event = greeting_event()
    headers, body = encode(cloud_event_for(event))
    for _ in range(3):  # at-least-once delivery
        assert client.post("/", headers=headers, data=body).status_code == 200
    greeting = store.get_json(f"greetings/{event.run_id}.json")
    assert greeting["greeting"] == "Hello, Ada!" and greeting["event_id"] == event.event_id
    assert store.list("events/hello_event/") == [f"events/hello_event/{event.event_id}.json"]


def test_pubsub_push_body_is_accepted(client, store):
    event = greeting_event("Grace")
    push = {
        "message": {
            "data": base64.b64encode(event.to_bytes()).decode(),
            "attributes": event.attributes(),
            "messageId": "123",
            "publishTime": "2026-01-01T00:00:00.000Z",
        },
        "subscription": "projects/local/subscriptions/hello_event",
    }
    response = client.post(
        "/projects/local/topics/greeting-requested",
        data=json.dumps(push),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert store.get_json(f"greetings/{event.run_id}.json")["greeting"] == "Hello, Grace!"


def test_bad_payload_is_acknowledged_not_retried(client, store):
    event = Event("greeting-requested", "test", "b" * 32, {"name": ""})
    headers, body = to_binary(cloud_event_for(event))
    assert client.post("/", headers=headers, data=body).status_code == 200
    marker = store.get_json(f"events/hello_event/{event.event_id}.json")
    assert marker["outcome"] == "failed"
    assert not store.exists(f"greetings/{event.run_id}.json")
