"""reports: one-page PDF reports, in English (en-US) or German (de-DE), kept as artifacts.

POST /reports/weekly                    {"locale"?}: the weekly executive report (the last
                                        complete ISO week's KPIs against the week before,
                                        experiment decisions, the model's health); 201 with
                                        the stored report, a new version on every call (the
                                        weekly_report function makes the scheduled ones).
POST /reports/experiments/<id>          {"locale"?}: the experiment's one-page report
GET  /reports                           the stored reports, newest first
GET  /reports/<report_id>               the PDF

The content comes from the code the kpi, abtest and model functions answer with; ReportLab
is imported when the first report is drawn, not at start.
"""

import functools
from datetime import UTC, datetime

import flask
import functions_framework

from common.backends import start_function
from common.http import Router, optional_json_body
from common.money import currency_of
from common.reports import pdf
from common.reports.content import experiment_content
from common.reports.formats import Formats
from common.reports.store import ReportStore
from common.reports.texts import ReportLanguage, report_language
from common.reports.weekly import WeeklyReports
from common.validation import known_fields

CONFIG, BACKENDS = start_function("reports")
CURRENCY = currency_of(CONFIG.currency)  # an unknown code stops the function at start
router = Router(CONFIG, prefix="/reports", audit_as="reports")


@functools.cache
def weekly_reports() -> WeeklyReports:
    return WeeklyReports.configured(CONFIG, BACKENDS, CURRENCY)


def store() -> ReportStore:
    return ReportStore(BACKENDS.artifacts)


def _language(request: flask.Request) -> ReportLanguage:
    body = known_fields(optional_json_body(request), "", ("locale",))
    return report_language(body.get("locale", "en-US"))


def _formats(language: ReportLanguage) -> Formats:
    return Formats(language.tag, language.babel, CURRENCY.code, CONFIG.time_zone)


@router.route("/", methods=("GET",))
def listed(request: flask.Request) -> dict:
    return {"reports": [report.describe() for report in store().listed()]}


@router.route("/weekly", methods=("POST",))
def weekly(request: flask.Request) -> tuple[dict, int]:
    report = weekly_reports().make(_language(request), datetime.now(UTC))
    return report.describe(), 201


@router.route("/experiments/<experiment_id>", methods=("POST",))
def experiment(request: flask.Request, experiment_id: str) -> tuple[dict, int]:
    language = _language(request)
    content = experiment_content(
        BACKENDS.warehouse, CONFIG.marts_schema, CONFIG.time_zone, experiment_id, language.words
    )
    now = datetime.now(UTC)
    document = pdf.experiment_pdf(content, language, _formats(language), now)
    subject = content.experiment["experiment_id"]
    return store().save("experiment", subject, language.tag, document, now).describe(), 201


@router.route("/<report_id>", methods=("GET",))
def download(request: flask.Request, report_id: str) -> flask.Response:
    report, document = store().document(report_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{report.name}"',
        "Cache-Control": "private, max-age=86400, immutable",  # a stored report never changes
    }
    return flask.Response(document, 200, headers, mimetype="application/pdf")


@functions_framework.http
def reports(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
