"""The scheduled time of a build request: Cloud Scheduler, Pub/Sub push, a person, and bad input."""

from datetime import UTC, datetime, timedelta

import pytest

from common.pipeline.triggers import scheduled_time
from common.validation import InvalidInput

NOW = datetime(2026, 11, 23, 5, 0, 40, tzinfo=UTC)
SCHEDULE = "X-CloudScheduler-ScheduleTime"
JOB = "X-CloudScheduler-JobName"
SCHEDULER_HEADERS = {SCHEDULE: "2026-11-23T05:00:00.437Z", JOB: "execkpi-dbt-build-daily"}


def push(message=None, **extra):
    """A Pub/Sub push body as the push subscription delivers it."""
    message = {
        "data": "e30=",
        "attributes": {"origin": "scheduler"},
        "messageId": "1",
        "publishTime": "2026-11-23T05:00:01.123456789Z",
        **(message or {}),
    }
    return {"message": message, "subscription": "projects/p/subscriptions/s", **extra}


def test_cloud_scheduler_header():
    at, trigger = scheduled_time(SCHEDULER_HEADERS, {}, NOW)
    assert at == datetime(2026, 11, 23, 5, 0, 0, 437000, tzinfo=UTC)
    assert at.tzinfo is UTC
    assert trigger == {"kind": "scheduler", "job": "execkpi-dbt-build-daily"}


def test_cloud_scheduler_job_name_is_optional_and_capped():
    _, trigger = scheduled_time({SCHEDULE: "2026-11-23T05:00:00Z"}, {}, NOW)
    assert trigger == {"kind": "scheduler", "job": ""}
    _, trigger = scheduled_time({SCHEDULE: "2026-11-23T05:00:00Z", JOB: "j" * 300}, {}, NOW)
    assert trigger["job"] == "j" * 200


def test_body_scheduled_at_wins_over_the_header():
    body = {"scheduled_at": "2026-11-22T07:00:00+02:00", "reason": "backfill"}
    at, trigger = scheduled_time(SCHEDULER_HEADERS, body, NOW)
    assert at == datetime(2026, 11, 22, 5, 0, tzinfo=UTC) and at.tzinfo is UTC
    assert trigger == {"kind": "manual", "reason": "backfill"}


def test_pubsub_push_uses_the_publish_time():
    """Nanosecond publish times (up to nine digits) are truncated to microseconds."""
    at, trigger = scheduled_time(SCHEDULER_HEADERS, push(deliveryAttempt=3), NOW)
    assert at == datetime(2026, 11, 23, 5, 0, 1, 123456, tzinfo=UTC)
    assert trigger == {
        "kind": "pubsub",
        "message_id": "1",
        "subscription": "projects/p/subscriptions/s",
    }


def test_pubsub_scheduled_at_attribute_wins_over_the_publish_time():
    body = push({"attributes": {"scheduled_at": "2026-11-23T06:00:00+01:00"}})
    at, _ = scheduled_time({}, body, NOW)
    assert at == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def test_pubsub_snake_case_fields():
    message = {"data": "", "message_id": "77", "publish_time": "2026-11-23T05:00:02Z"}
    at, trigger = scheduled_time({}, {"message": message}, NOW)
    assert at == datetime(2026, 11, 23, 5, 0, 2, tzinfo=UTC)
    assert trigger["message_id"] == "77"


@pytest.mark.parametrize(
    ("body", "trigger"),
    [
        ({}, {"kind": "manual", "reason": ""}),
        ({"reason": "rerun after the fix"}, {"kind": "manual", "reason": "rerun after the fix"}),
    ],
)
def test_no_hint_means_now(body, trigger):
    assert scheduled_time({}, body, NOW) == (NOW, trigger)


@pytest.mark.parametrize(
    "raw",
    ["2000-01-01T00:00:00Z", "2026-11-24T05:00:40Z", "2026-11-24T06:00:40+01:00"],
)
def test_range_bounds_are_inclusive(raw):
    """2000-01-01 and exactly one day ahead of now are still accepted."""
    at, _ = scheduled_time({}, {"scheduled_at": raw}, NOW)
    assert at == datetime.fromisoformat(raw)


@pytest.mark.parametrize(
    ("headers", "body", "field"),
    [
        ({}, {"scheduled_at": "2026-11-23T05:00:00"}, "scheduled_at"),  # naive
        ({}, {"scheduled_at": "2026-11-23"}, "scheduled_at"),  # a date is naive too
        ({}, {"scheduled_at": "yesterday at five"}, "scheduled_at"),
        ({}, {"scheduled_at": 1795410000}, "scheduled_at"),
        ({}, {"scheduled_at": None}, "scheduled_at"),
        ({}, {"scheduled_at": "2026-11-23T05:00:00Z" + " " * 50}, "scheduled_at"),  # > 64 chars
        ({}, {"scheduled_at": "2026-11-24T05:00:41Z"}, "scheduled_at"),  # a day and 1 s ahead
        ({}, {"scheduled_at": "1999-12-31T23:59:59Z"}, "scheduled_at"),
        ({SCHEDULE: "2026-11-23T05:00:00"}, {}, SCHEDULE),
        ({SCHEDULE: "soon"}, {}, SCHEDULE),
        ({}, {"scheduled_at": "2026-11-23T05:00:00Z", "force": True}, "force"),
        ({}, {"zeta": 1, "alpha": 2}, "alpha"),  # the first unknown field, sorted
        ({}, {"reason": "x" * 201}, "reason"),
        ({}, {"reason": 42}, "reason"),
        ({SCHEDULE: "2026-11-23T05:00:00Z"}, {"reason": ["why"]}, "reason"),
        ({}, {"message": "hello"}, "message"),
        ({}, {"message": None}, "message"),
        ({}, push({"attributes": ["scheduled_at"]}), "message.attributes"),
        ({}, push({"attributes": "scheduled_at=now"}), "message.attributes"),
        ({}, push(ackId="abc"), "ackId"),
        ({}, push({"publishTime": None}), "message.publishTime"),
        ({}, push({"publishTime": "1970-01-01T00:00:00Z"}), "message.publishTime"),
        ({}, push({"attributes": {"scheduled_at": "tomorrow"}}), "message.attributes.scheduled_at"),
    ],
)
def test_invalid_input_names_the_field(headers, body, field):
    with pytest.raises(InvalidInput) as caught:
        scheduled_time(headers, body, NOW)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_reason_of_two_hundred_characters_is_accepted():
    _, trigger = scheduled_time({}, {"reason": "x" * 200}, NOW)
    assert trigger["reason"] == "x" * 200


def test_time_more_than_a_day_ahead_says_why():
    ahead = (NOW + timedelta(days=1, seconds=1)).isoformat()
    with pytest.raises(InvalidInput, match="between 2000-01-01 and one day from now"):
        scheduled_time({}, {"scheduled_at": ahead}, NOW)
