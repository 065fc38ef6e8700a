"""The Pipeline view's run details, the funnel's date range, the language-aware date fields, wide
tables at a narrow width and the list downloads, in a real browser (the fixtures and formatters
of test_dashboard.py). The API tests' stack runs no pipeline, so two runs are written into its
artifact store the way the stages write them (the description's worked example of GET
/pipeline/runs/<id>, and a copy whose data validation failed), and removed afterwards."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from common.artifacts.local import LocalArtifactStore
from common.openapi import description
from common.runs import BUILD, TRAINING, VALIDATION, run_key
from tests.browser import test_dashboard as dashboard
from tests.browser.test_dashboard import api, cells, count, day
from tests.support.openapi import operations, worked_example

# The browser and page fixtures, shared by name.
browser = dashboard.browser
browser_page = dashboard.browser_page

GOOD_RUN = "20261101T050000Z-build"
FAILED_RUN = "20261102T050000Z-build"
RECORDS = {"build": BUILD, "validation": VALIDATION, "training": TRAINING}


def example_run() -> dict:
    document = description()
    [operation] = [o for o in operations(document) if o.id == "GET /pipeline/runs/{run_id}"]
    return worked_example(document, operation).response


def as_run(run: dict, run_id: str) -> dict:
    """The run under another id (each record names its run)."""
    renamed = copy.deepcopy(run)
    renamed["run_id"] = run_id
    for record in renamed["stages"].values():
        record["run_id"] = run_id
    return renamed


def failed_validation(run: dict) -> dict:
    """The run with its label rate out of bounds and a sample-ratio check far below its
    threshold: validation rejects it, and training never starts."""
    failed = copy.deepcopy(run)
    report = failed["stages"]["validation"]
    label = next(g for g in report["gates"] if g["name"] == "label_rate")
    label |= {
        "passed": False,
        "message": "label_purchased rate 61.200% above the maximum 50.000%",
        "numbers": {"rate": 0.612, "min": 0.001, "max": 0.5, "nulls": 1234},
    }
    report["gates"].append(
        {
            "name": "sample_ratio",
            "passed": False,
            "message": "checkout_one_click: sample ratio mismatch, p = 3.2e-09 < 0.001",
            "numbers": {"checkout_one_click": {"p_value": 3.2e-09, "units": 20871}},
        }
    )
    report |= {"status": "rejected", "failed_gates": ["label_rate", "sample_ratio"]}
    del failed["stages"]["training"]
    return failed | {"stage": "validation", "status": "rejected"}


@pytest.fixture
def seeded_runs(api_settings) -> dict[str, dict]:
    store = LocalArtifactStore(api_settings["EXECKPI_ARTIFACT_DIR"])
    good = as_run(example_run(), GOOD_RUN)
    runs = {GOOD_RUN: good, FAILED_RUN: as_run(failed_validation(good), FAILED_RUN)}
    keys = [
        run_key(run_id, RECORDS[stage]) for run_id, run in runs.items() for stage in run["stages"]
    ]
    for run_id, run in runs.items():
        for stage, record in run["stages"].items():
            store.put_json(run_key(run_id, RECORDS[stage]), record)
    yield runs
    for key in keys:
        store.delete(key)


# --- how the page writes a gate's numbers (by hand: the page uses Intl.NumberFormat) ---------


def measure(value: float, german: bool) -> str:
    """Whole numbers grouped; others in plain decimals (the seeded ones have at most 6
    significant digits, so nothing is rounded)."""
    if float(value).is_integer():
        return count(int(value), german)
    text = format(Decimal(repr(value)), "f")
    return text.replace(".", ",") if german else text


def numbers_of(values: dict, prefix: str = "") -> dict[str, float]:
    """The numbers of a gate, nested keys dotted (models.passed), as the page lists them."""
    found = {}
    for key, value in values.items():
        if isinstance(value, dict):
            found |= numbers_of(value, f"{prefix}{key}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[f"{prefix}{key}"] = value
    return found


def check_run_details(page, run: dict, german: bool) -> None:
    details = page.locator(f'[data-run-details="{run["run_id"]}"]')
    details.locator("[data-gate]").first.wait_for()
    gates = run["stages"]["validation"]["gates"]
    assert details.locator("tr[data-gate]").count() == len(gates)
    for gate in gates:
        row = details.locator(f'tr[data-gate="{gate["name"]}"]')
        verdict = ("bestanden" if gate["passed"] else "nicht bestanden") if german else None
        verdict = verdict or ("passed" if gate["passed"] else "failed")
        assert row.locator(".badge").inner_text() == verdict
        assert row.locator("td.message").inner_text() == gate["message"]
        numbers = numbers_of(gate["numbers"])
        for key, value in numbers.items():
            shown = row.locator(f'tr[data-key="{key}"] td').inner_text()
            assert shown == measure(value, german), (gate["name"], key)
    counts = run["stages"]["validation"]["row_counts"]
    for table, rows in counts.items():
        shown = details.locator(f'[data-numbers="row_counts"] tr[data-key="{table}"] td')
        assert shown.inner_text() == count(rows, german)


def test_a_runs_gates_show_the_apis_numbers_and_a_failure_stands_out(
    browser_page, gateway, seeded_runs
) -> None:
    page = browser_page.page
    listed = api(gateway, "/pipeline/runs", limit="20")["runs"]
    assert {GOOD_RUN, FAILED_RUN} <= {r["run_id"] for r in listed}
    good = api(gateway, f"/pipeline/runs/{GOOD_RUN}")
    failed = api(gateway, f"/pipeline/runs/{FAILED_RUN}")
    assert good == seeded_runs[GOOD_RUN] and failed == seeded_runs[FAILED_RUN]

    page.goto("/#/pipeline")
    page.click(f'button[data-expand="{GOOD_RUN}"]')
    check_run_details(page, good, german=False)
    details = page.locator(f'[data-run-details="{GOOD_RUN}"]')
    assert details.locator(".failure").count() == 0
    reasons = details.locator('[data-stage-details="training"] .reasons li').all_inner_texts()
    assert reasons == good["stages"]["training"]["reasons"]
    auc = good["stages"]["training"]["holdout_roc_auc"]
    shown_auc = details.locator('[data-numbers="training"] tr[data-key="Holdout ROC-AUC"] td')
    assert shown_auc.inner_text() == measure(auc, german=False)
    summary = good["stages"]["build"]["summary"]
    shown_tests = details.locator('[data-numbers="build"] tr[data-key="tests.passed"] td')
    assert shown_tests.inner_text() == count(summary["tests"]["passed"], german=False)
    browser_page.screenshot("pipeline-run-en")

    page.click(f'tr[data-run="{FAILED_RUN}"]')  # a click anywhere on the row opens it too
    check_run_details(page, failed, german=False)
    alert = page.locator(f'[data-run-details="{FAILED_RUN}"] .failure [data-failed-stage]')
    assert alert.count() == 1 and alert.get_attribute("data-failed-stage") == "validation"
    assert "sample_ratio" in alert.inner_text() and "label_rate" in alert.inner_text()
    assert page.locator(f'[data-run-details="{GOOD_RUN}"]').count() == 0  # one open at a time
    browser_page.screenshot("pipeline-failed-run-en")

    page.click('button[data-language="de"]')
    page.wait_for_selector("text=Prüfschritte der Validierung")
    check_run_details(page, failed, german=True)
    # The run's status in the list is German too.
    assert (
        page.locator(f'tr[data-run="{FAILED_RUN}"] .badge.run-rejected').inner_text() == "abgelehnt"
    )
    browser_page.screenshot("pipeline-failed-run-de")

    # The runs' download is the API's own German file.
    with page.expect_download() as started:
        page.click('button[data-format="csv"]')
    expected = requests.get(
        f"{gateway}/pipeline/runs",
        params={"limit": "20", "format": "csv", "locale": "de-DE"},
        timeout=60,
    )
    assert Path(started.value.path()).read_bytes() == expected.content
    assert started.value.suggested_filename == "pipeline_runs.csv"
    assert browser_page.errors == []


def test_the_funnel_range_takes_german_dates_and_changes_the_numbers_as_the_api_does(
    browser_page, gateway
) -> None:
    from playwright.sync_api import expect

    page = browser_page.page
    whole = api(gateway, "/kpi/funnel")
    last = date.fromisoformat(whole["meta"]["date_range"]["end"])
    start, end = (last - timedelta(days=6)).isoformat(), last.isoformat()
    week = api(gateway, "/kpi/funnel", start=start, end=end)
    sessions = [c["name"] for c in week["columns"]].index("sessions")
    assert [r[sessions] for r in week["rows"]] != [r[sessions] for r in whole["rows"]]

    page.goto("/")
    page.click('button[data-language="de"]')
    page.click('button[data-kpi="funnel"]')
    page.wait_for_selector('td[data-column="sessions"]')
    field = page.locator('input[name="funnel-start"]')
    assert field.get_attribute("placeholder") == "TT.MM.JJJJ"

    # Not a calendar day: marked, and never sent.
    asked: list[str] = []
    page.on("request", lambda r: "/kpi/funnel" in r.url and asked.append(r.url))
    field.fill("31.02.2026")
    assert field.get_attribute("aria-invalid") == "true"
    page.wait_for_timeout(300)
    assert asked == []

    with page.expect_response(lambda r: f"start={start}" in r.url and f"end={end}" in r.url):
        page.fill('input[name="funnel-start"]', day(start, german=True))
        page.fill('input[name="funnel-end"]', day(end, german=True))
    page.wait_for_selector(f'[data-testid="covers"]:has-text("{day(start, german=True)}")')
    assert page.locator('input[name="funnel-start"]').get_attribute("aria-invalid") is None
    assert cells(page, "sessions") == [count(r[sessions], True) for r in week["rows"]]
    assert page.locator('[data-testid="covers"]').inner_text() == (
        f"{day(start, True)} \u2013 {day(end, True)}"
    )
    browser_page.screenshot("kpi-funnel-range-de")

    # Back in English the same range is written the English way, and the numbers stay.
    page.click('button[data-language="en"]')
    page.wait_for_selector("text=Funnel by traffic source")
    # The field rewrites its text after the language's render (an effect): wait for it.
    expect(page.locator('input[name="funnel-start"]')).to_have_value(start)
    assert cells(page, "sessions") == [count(r[sessions], False) for r in week["rows"]]
    browser_page.screenshot("kpi-funnel-range-en")
    assert browser_page.errors == []


def test_wide_tables_scroll_in_their_box_and_the_experiment_list_downloads(
    browser_page, gateway
) -> None:
    page = browser_page.page
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto("/")
    page.click('button[data-kpi="funnel"]')
    page.wait_for_selector('td[data-column="sessions"]')
    box = page.locator(".table-wrap")
    sizes = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert sizes[0] > sizes[1], "the funnel's columns are wider than 800 px"
    # The page itself does not scroll sideways: only the table's box does.
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    box.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    last = page.locator("table.rows thead th").last
    # Scrolled to its end, the box shows the last column whole.
    left, right = box.evaluate(
        "e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right]"
    )
    shown = last.evaluate("e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right]")
    assert left <= shown[0] and shown[1] <= right + 1, (left, right, shown)
    browser_page.screenshot("kpi-funnel-800px-scrolled")

    page.goto("/#/experiments")
    page.click('button[data-language="de"]')
    page.wait_for_selector("text=Primäre Kennzahl")
    browser_page.screenshot("experiments-800px-de")
    with page.expect_download() as started:
        page.click('button[data-format="csv"]')
    expected = requests.get(
        f"{gateway}/ab/experiments", params={"format": "csv", "locale": "de-DE"}, timeout=60
    )
    assert Path(started.value.path()).read_bytes() == expected.content
    listed = api(gateway, "/ab/experiments")
    assert started.value.suggested_filename == f"experiments_{listed['as_of']}.csv"
    assert page.locator("html").get_attribute("lang") == "de"
    assert browser_page.errors == []
