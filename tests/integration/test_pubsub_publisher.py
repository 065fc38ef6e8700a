"""PubSubPublisher against Google's Pub/Sub emulator: what lands on the topic is the envelope
with its routing attributes."""

import json

import pytest

from common.events.envelope import Event
from common.events.publishers import PubSubPublisher

PROJECT = "execkpi-test"


@pytest.fixture
def emulated_pubsub(pubsub_emulator, monkeypatch):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    from google.cloud import pubsub_v1

    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


def test_published_event_arrives_with_envelope_and_attributes(emulated_pubsub):
    publisher, subscriber = emulated_pubsub
    topic = publisher.topic_path(PROJECT, "test-model-trained")
    subscription = subscriber.subscription_path(PROJECT, "test-model-trained-pull")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)

    event = Event("model-trained", "train", "run-7", {"promoted": True, "auc": 0.91})
    message_id = PubSubPublisher(PROJECT, "test-", client=publisher).publish(event)

    response = subscriber.pull(subscription=subscription, max_messages=10, timeout=10)
    (received,) = response.received_messages
    assert received.message.message_id == message_id
    assert dict(received.message.attributes) == event.attributes()
    assert json.loads(received.message.data) == json.loads(event.to_bytes())
    assert Event.from_bytes(received.message.data) == event
