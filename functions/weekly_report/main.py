"""weekly_report: the weekly executive report, made on schedule in each language.

Cloud Scheduler publishes weekly-report-requested with {"locale": "en-US" | "de-DE"} every Monday
07:00 in the reporting time zone (infra/envs/*.tfvars); its push subscription delivers it here.
The report is POST /reports/weekly's (``common.reports.weekly``), stored once per ISO week and
language: a redelivery, or a second request for a week already reported, makes no second report.
A payload that names no known language is recorded and acknowledged (retrying cannot fix it).
"""

import functools
from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from common.backends import start_function
from common.events.consumer import PermanentError
from common.events.envelope import Event
from common.money import currency_of
from common.reports.texts import report_language
from common.reports.weekly import WeeklyReports
from common.validation import InvalidInput, known_fields

CONFIG, BACKENDS = start_function("weekly_report")
CURRENCY = currency_of(CONFIG.currency)  # an unknown code stops the function at start


@functools.cache
def weekly_reports() -> WeeklyReports:
    return WeeklyReports.configured(CONFIG, BACKENDS, CURRENCY)


def produce(event: Event) -> dict:
    if event.event_type != "weekly-report-requested":
        raise PermanentError(f"weekly_report does not handle {event.event_type}")
    try:
        payload = known_fields(event.payload, "", ("locale",))
        language = report_language(payload.get("locale", "en-US"))
    except InvalidInput as exc:
        raise PermanentError(str(exc)) from exc  # "locale: must be one of ..."
    report, made = weekly_reports().make_once(language, datetime.now(UTC))
    return {"report_id": report.report_id, "subject": report.subject, "made": made}


@functions_framework.cloud_event
def weekly_report(cloud_event: CloudEvent) -> None:
    BACKENDS.consume(cloud_event, "weekly_report", produce)
