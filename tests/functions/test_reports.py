"""reports through functions-framework, on generated thelook data with a trained champion: the
PDFs' text (read back by pypdf, an independent reader) says what the API answers, in English
and German; reports are stored, listed and downloadable; bad input is a 4xx naming it."""

import re
import subprocess
import sys

import pytest

from common.reports.texts import LABELS
from scripts.deploy.catalog import REPO_ROOT
from tests.support.reports import (
    german,
    last_complete_weeks,
    p_clause,
    says_the_weeks_kpis_in_english,
    says_the_weeks_kpis_in_german,
    text_of,
)

EXPERIMENT = "checkout_one_click"


@pytest.fixture
def client(function_client, settings):
    return function_client("reports", **settings)


def made(client, path: str, locale: str) -> tuple[dict, str]:
    response = client.post(path, json={"locale": locale})
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()
    download = client.get(stored["url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert stored["name"] in download.headers["Content-Disposition"]
    assert stored["size"] == len(download.data)
    return stored, text_of(download.data)


def test_experiment_report_says_what_the_analysis_answers(function_client, settings):
    analysis = (
        function_client("abtest", **settings)
        .post("/ab/analyze", json={"experiment_id": EXPERIMENT})
        .get_json()
    )
    client = function_client("reports", **settings)
    stored, english = made(client, f"/reports/experiments/{EXPERIMENT}", "en-US")
    assert stored["kind"] == "experiment" and stored["subject"] == EXPERIMENT
    primary = next(c for c in analysis["comparisons"] if c["role"] == "primary")
    verdict = {"SHIP": "Ship", "DO NOT SHIP": "Do not ship", "INCONCLUSIVE": "Inconclusive"}
    assert f"Decision: {verdict[analysis['decision']['verdict']]}" in english
    assert p_clause(primary["p_value"], in_german=False) in english
    lift = primary["relative"]["estimate"] * 100
    assert f"{lift:+.2f}%" in english
    assert ("No sample ratio mismatch" in english) == analysis["srm"]["passed"]
    for reason in analysis["decision"]["reasons"]:
        assert re.sub(r"\s+", " ", reason["message"])[:40] in english

    _, deutsch = made(client, f"/reports/experiments/{EXPERIMENT}", "de-DE")
    abtest = function_client("abtest", **settings)
    german_analysis = abtest.post(
        "/ab/analyze", json={"experiment_id": EXPERIMENT, "locale": "de-DE"}
    ).get_json()
    assert german_analysis["locale"] == "de-DE"
    for reason in german_analysis["decision"]["reasons"]:  # POST /ab/analyze's German words
        assert plain(reason["message"]) in deutsch
        assert plain(reason["message"]) not in english
    german_verdict = {"SHIP": "Ausrollen", "DO NOT SHIP": "Nicht ausrollen"}
    assert (
        f"Entscheidung: {german_verdict.get(analysis['decision']['verdict'], 'Nicht eindeutig')}"
        in deutsch
    )
    assert p_clause(primary["p_value"], in_german=True) in deutsch
    assert f"{'+' if lift >= 0 else '-'}{german(abs(lift))} %" in deutsch  # CLDR: 5,23 %
    start = analysis_start(function_client, settings)
    assert f"{start[8:10]}.{start[5:7]}.{start[:4]}" in deutsch  # DD.MM.YYYY


def plain(text: str) -> str:
    """As text_of reads a PDF: every run of blanks (a no-break space too) one space."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def analysis_start(function_client, settings) -> str:
    client = function_client("abtest", **settings)
    return client.get(f"/ab/experiments/{EXPERIMENT}").get_json()["start_date"]


def test_weekly_report_says_what_the_kpi_api_answers(function_client, settings):
    before, week = last_complete_weeks(function_client("kpi", **settings))
    client = function_client("reports", **settings)

    stored, english = made(client, "/reports/weekly", "en-US")
    assert stored["kind"] == "weekly" and stored["locale"] == "en-US"
    says_the_weeks_kpis_in_english(english, before, week)

    _, deutsch = made(client, "/reports/weekly", "de-DE")
    says_the_weeks_kpis_in_german(deutsch, week)
    abtest = function_client("abtest", **settings)
    for locale, text in (("en-US", english), ("de-DE", deutsch)):
        for lead in decision_headlines(abtest, locale):
            assert plain(lead) in text, (locale, lead)

    listed = client.get("/reports").get_json()["reports"]
    assert [r["locale"] for r in listed[:2]] == ["de-DE", "en-US"]  # newest first
    assert listed[1]["report_id"] == stored["report_id"]


def decision_headlines(abtest, locale: str) -> list[str]:
    """The first sentence of each analysed experiment's summary, as POST /ab/analyze words it
    in ``locale`` (asked through Accept-Language here, the body's locale above)."""
    listed = abtest.get("/ab/experiments").get_json()["experiments"]
    headlines = []
    for e in listed:
        if e["status"] == "planned":
            continue
        answer = abtest.post(
            "/ab/analyze",
            json={"experiment_id": e["experiment_id"]},
            headers={"Accept-Language": locale},
        ).get_json()
        assert answer["locale"] == locale
        headlines.append(answer["decision"]["summary"].split(". ")[0] + ".")
    return headlines


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_bad_requests_are_4xx_naming_the_problem(client):
    unknown = client.post("/reports/experiments/nope", json={"locale": "en-US"})
    error = error_of(unknown, 404)
    assert error["field"] == "experiment_id" and EXPERIMENT in error["known"]
    error = error_of(client.post("/reports/weekly", json={"locale": "fr-FR"}), 400)
    assert error["field"] == "locale" and "en-US" in error["message"]
    error = error_of(client.post("/reports/weekly", json={"language": "de-DE"}), 400)
    assert error["field"] == "language"
    assert error_of(client.get("/reports/20260101T000000Z-0000"), 404)["field"] == "report_id"
    assert error_of(client.get("/reports/..x"), 400)["field"] == "report_id"
    assert client.get("/reports").get_json() == {"reports": []}


def test_the_function_starts_without_reportlab(tmp_path):
    code = (
        "import sys; sys.path.insert(0, 'functions/reports'); import main; "
        "print('reportlab' in sys.modules)"
    )
    env = {
        "NO_GCE_CHECK": "true",
        "EXECKPI_ARTIFACT_DIR": str(tmp_path / "a"),
        "EXECKPI_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_every_language_has_every_label():
    """The decision's reasons are worded in common.stats.wording (tests/unit/stats/
    test_wording.py checks every reason has German)."""
    assert set(LABELS["de-DE"]) == set(LABELS["en-US"])
