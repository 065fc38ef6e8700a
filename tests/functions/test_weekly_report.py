"""weekly_report through functions-framework, fed what Cloud Scheduler publishes (infra/
scheduler.tf: the job's body and the attributes of common.events.envelope.scheduled_message) as
its push subscription delivers it: the PDFs' text (read back by pypdf) says what the KPI API
answers in English and German; a redelivery or a second run in the same week makes no second
report; bad messages are recorded and acknowledged, never retried."""

from __future__ import annotations

import json
from datetime import date

import pytest

from common.artifacts.local import LocalArtifactStore
from common.events.consumer import marker_key
from common.events.envelope import scheduled_message
from common.reports.store import SCHEDULED
from tests.support.cloud_events import delivery_of, post_cloud_event
from tests.support.reports import (
    last_complete_weeks,
    says_the_weeks_kpis_in_english,
    says_the_weeks_kpis_in_german,
    text_of,
)

EVENT = "weekly-report-requested"


def scheduled(locale: str, job: str = "execkpi-report-week"):
    """One run of a Cloud Scheduler job: a new Pub/Sub message, as pushed to the function."""
    data, attributes = scheduled_message(EVENT, job, {"locale": locale})
    return delivery_of(data, EVENT, attributes)


def outcome(artifacts, cloud_event) -> dict:
    """What consume() recorded for the delivered message (its id is the event's)."""
    key = marker_key("weekly_report", cloud_event["id"])
    return LocalArtifactStore(artifacts).get_json(key)


def test_scheduled_reports_say_what_the_kpi_api_answers_once_a_week(
    function_client, settings, artifacts
):
    before, week = last_complete_weeks(function_client("kpi", **settings))
    scheduler = function_client("weekly_report", **settings)
    english, german = scheduled("en-US"), scheduled("de-DE")
    assert post_cloud_event(scheduler, english) == 200
    assert post_cloud_event(scheduler, german) == 200
    assert outcome(artifacts, english)["result"]["made"] is True

    reports = function_client("reports", **settings)
    listed = reports.get("/reports").get_json()["reports"]
    assert sorted((r["kind"], r["locale"]) for r in listed) == [
        ("weekly", "de-DE"),
        ("weekly", "en-US"),
    ]
    texts = {r["locale"]: text_of(reports.get(r["url"]).data) for r in listed}
    says_the_weeks_kpis_in_english(texts["en-US"], before, week)
    says_the_weeks_kpis_in_german(texts["de-DE"], week)
    year, number, _ = date.fromisoformat(week["period"]).isocalendar()
    assert {r["subject"] for r in listed} == {f"{year}-W{number:02d}"}

    # Pub/Sub redelivers the same message; Scheduler runs the job again (a new message).
    assert post_cloud_event(scheduler, english) == 200
    again = scheduled("en-US")
    assert post_cloud_event(scheduler, again) == 200
    assert outcome(artifacts, again)["result"] == {
        **outcome(artifacts, english)["result"],
        "made": False,
    }
    assert len(reports.get("/reports").get_json()["reports"]) == 2
    marks = LocalArtifactStore(artifacts).list(SCHEDULED)
    assert len(marks) == 2, marks


@pytest.mark.parametrize(
    ("data", "attributes", "failed_on"),
    [
        # A language the reports do not speak, a field they do not know: refused for good.
        (b'{"locale": "fr-FR"}', None, "locale"),
        (b'{"locale": "de-DE", "week": "2026-W01"}', None, "week"),
        # Not what Scheduler publishes: no valid envelope, recorded as invalid.
        (b"not json", None, None),
        (b'["de-DE"]', None, None),
        (b'{"locale": "de-DE"}', {"schema_version": "2"}, None),
    ],
)
def test_bad_messages_are_recorded_and_acknowledged(
    function_client, settings, artifacts, capsys, data, attributes, failed_on
):
    _, scheduler_attributes = scheduled_message(EVENT, "execkpi-report-week", {})
    delivered = delivery_of(data, EVENT, {**scheduler_attributes, **(attributes or {})})
    client = function_client("weekly_report", **settings)
    assert post_cloud_event(client, delivered) == 200  # acknowledged: no retry, no dead letter
    store = LocalArtifactStore(artifacts)
    if failed_on:
        recorded = outcome(artifacts, delivered)
        assert recorded["outcome"] == "failed" and recorded["error"].startswith(failed_on), recorded
    else:
        assert store.list(f"events/weekly_report/invalid/{delivered['id']}")
    assert store.list("reports/") == []
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    consumer = [entry for entry in logged if entry["logger"] == "common.events.consumer"]
    assert consumer[-1]["severity"] == "ERROR", logged  # Cloud Logging's JSON on stdout


def test_a_failing_warehouse_is_retried(function_client, settings, tmp_path):
    """A transient failure is no acknowledgement: Pub/Sub redelivers, then dead-letters."""
    broken = {**settings, "EXECKPI_DUCKDB_PATH": str(tmp_path / "empty.duckdb")}
    client = function_client("weekly_report", **broken)
    assert post_cloud_event(client, scheduled("en-US")) == 500
