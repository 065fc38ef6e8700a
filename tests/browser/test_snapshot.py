"""The dashboard's offline snapshot (scripts/local/snapshot.py) in a real browser: written from
the API test stack, opened from file:// with every network request aborted. It must show the
numbers it embedded (which are the API's), in English and German, load every view and sub-tab
without an error, open each listed experiment's results page and draw the Model plots from
what it embedded, refuse what needs the API, and make no request at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.local.snapshot import (
    DATA_ELEMENT,
    REQUESTS,
    Answer,
    Post,
    analysis_body,
    breakdown_body,
    follow_ups,
    write_snapshot,
)
from tests.browser import test_dashboard as dashboard
from tests.browser.test_dashboard import api, check_rows_match
from tests.browser.test_experiment_page import cell, check_breakdown, lift
from tests.browser.test_model_page import drawn

browser = dashboard.browser  # the browser fixture, shared by name
VIEWS = ("experiments", "pipeline", "model", "reports")


@pytest.fixture(scope="module")
def snapshot(gateway, tmp_path_factory) -> Path:
    return write_snapshot(gateway, tmp_path_factory.mktemp("snapshot") / "dashboard.html")


@pytest.fixture
def offline_page(browser, gateway) -> dashboard.Page:
    """A page whose every request but file:// is aborted, and remembered."""
    opened = dashboard.Page(browser, gateway)
    opened.requested = []

    def refuse(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            opened.requested.append(route.request.url)
            route.abort()

    opened.context.route("**/*", refuse)
    yield opened
    opened.context.close()


def embedded(path: Path) -> dict:
    page = path.read_text(encoding="utf-8")
    start = page.index(f'id="{DATA_ELEMENT}">') + len(f'id="{DATA_ELEMENT}">')
    return json.loads(page[start : page.index("</script>", start)])


def answers_of(data: dict) -> dict[str, Answer]:
    return {key: Answer(a["status"], a["body"]) for key, a in data["answers"].items()}


def served_aside(answer: dict) -> dict:
    meta = {k: v for k, v in answer["meta"].items() if k not in ("cached", "elapsed_ms")}
    return {**answer, "meta": meta}


def settled(page) -> None:
    """The view has finished loading and shows no error."""
    page.wait_for_function("!document.querySelector('.status.loading')")
    assert page.locator(".status.error").all_inner_texts() == []


def test_the_snapshot_opens_offline_with_its_embedded_numbers(
    offline_page, snapshot, gateway
) -> None:
    data = embedded(snapshot)
    answers = answers_of(data)
    assert set(answers) == {r.key for r in (*REQUESTS, *follow_ups(answers))}
    weekly = data["answers"]["/kpi/revenue?grain=week"]
    assert weekly["status"] == 200
    # The same answer, but for how it was served: the first read is computed, a later one cached.
    assert served_aside(weekly["body"]) == served_aside(api(gateway, "/kpi/revenue", grain="week"))

    page = offline_page.page
    page.goto(snapshot.as_uri())
    page.wait_for_selector("table.rows tbody tr")
    check_rows_match(page, weekly["body"], german=False)
    assert "Offline snapshot taken" in page.locator(".snapshot-note").inner_text()
    offline_page.screenshot("snapshot-kpis-en")
    for kpi in page.locator("button[data-kpi]").all():
        kpi.click()
        settled(page)
        assert page.locator("table.rows tbody tr").count() > 0

    page.click('button[data-language="de"]')
    page.click('button[data-kpi="revenue"]')
    page.wait_for_selector("text=Umsatz, Bestellungen und Warenkorbwert im Zeitverlauf")
    check_rows_match(page, weekly["body"], german=True)
    offline_page.screenshot("snapshot-kpis-de")
    for view in VIEWS:
        page.click(f'nav a[href="#/{view}"]')
        page.wait_for_selector(f'nav a[href="#/{view}"][aria-current="page"]')
        settled(page)

    # The reports are listed; making or downloading one needs the API, and says so.
    listed = data["answers"]["/reports"]["body"]["reports"]
    assert page.locator("tr[data-report]").count() == len(listed) > 0
    assert page.locator('button[data-make="weekly"]').is_disabled()
    assert page.locator("button[data-download]").first.is_disabled()
    assert "Offline-Momentaufnahme" in page.locator("section .note").inner_text()
    offline_page.screenshot("snapshot-reports-de")
    assert offline_page.requested == []
    assert offline_page.errors == []


def test_the_snapshot_opens_the_experiments_and_draws_the_model_plots_offline(
    offline_page, snapshot
) -> None:
    answers = answers_of(embedded(snapshot))
    page = offline_page.page
    page.goto(snapshot.as_uri() + "#/model")
    page.wait_for_selector('[data-plot="dependence"] canvas')
    settled(page)
    for plot in ("roc", "gains", "calibration", "dependence"):
        assert drawn(page, plot), plot
    features = [i["feature"] for i in answers["/ml/shap"].body["importances"]]
    # Another feature's samples were not captured: the plot says so.
    page.select_option('select[name="dependence-feature"]', features[1])
    refused = page.wait_for_selector('[data-plot="dependence"] .status.error')
    assert "not in this snapshot" in refused.inner_text()
    offline_page.screenshot("snapshot-model-en")

    listed = answers["/ab/experiments"].body["experiments"]
    assert listed, "the demo data defines experiments"
    for experiment in listed:
        experiment_id = experiment["experiment_id"]
        page.click('nav a[href="#/experiments"]')
        page.click(f'tr[data-experiment="{experiment_id}"] a')
        page.wait_for_selector(f'#results-title code >> text="{experiment_id}"')
        settled(page)
        if experiment["status"] == "planned":  # nobody exposed yet: no analysis to show
            assert page.locator("[data-planned]").count() == 1
            assert page.locator("[data-verdict]").count() == 0
            continue
        analysis = answers[Post("/ab/analyze", analysis_body(experiment_id)).key]
        assert analysis.status == 200, analysis.body
        verdict = analysis.body["decision"]["verdict"]
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == verdict
        primary = next(c for c in analysis.body["comparisons"] if c["role"] == "primary")
        shown = cell(page, primary["metric"], primary["variant"], "lift").inner_text()
        assert shown == lift(primary["relative"]["estimate"], german=False)
        breakdown = answers[Post("/ab/breakdown", breakdown_body(experiment_id)).key]
        check_breakdown(page, breakdown.body, german=False)
        assert page.locator(".cumulative-effect .effect-last").count() > 0
    offline_page.screenshot("snapshot-experiment-en")

    # An option whose answer was not captured says so; the page's defaults come back.
    page.select_option('select[name="scale"]', "absolute")
    refused = page.wait_for_selector(".experiment-results > .status.error")
    assert "not in this snapshot" in refused.inner_text()
    page.select_option('select[name="scale"]', "relative")
    page.wait_for_selector("[data-verdict]")
    settled(page)
    assert offline_page.requested == []
    assert offline_page.errors == []
