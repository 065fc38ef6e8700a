"""hello_event: the foundation's sample Pub/Sub-triggered function.

On greeting-requested it writes greetings/<run_id>.json once, however often the event arrives.
"""

from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from common.artifacts import MUST_NOT_EXIST, PreconditionFailed
from common.backends import start_function
from common.events.consumer import PermanentError
from common.events.envelope import Event

CONFIG, BACKENDS = start_function("hello_event")


def record_greeting(event: Event) -> dict:
    name = event.payload.get("name")
    if not isinstance(name, str) or not name:
        raise PermanentError("payload.name must be a non-empty string")
    greeting = {
        "greeting": f"Hello, {name}!",
        "run_id": event.run_id,
        "event_id": event.event_id,
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    try:
        BACKENDS.artifacts.put_json(
            f"greetings/{event.run_id}.json", greeting, if_version=MUST_NOT_EXIST
        )
    except PreconditionFailed:
        return {"recorded": False}  # an earlier delivery got this far before crashing
    return {"recorded": True}


@functions_framework.cloud_event
def hello_event(cloud_event: CloudEvent) -> None:
    BACKENDS.consume(cloud_event, "hello_event", record_greeting)
