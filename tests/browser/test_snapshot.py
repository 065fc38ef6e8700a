"""The dashboard's offline snapshot (scripts/local/snapshot.py) in a real browser: written from
the API test stack, opened from file:// with every network request aborted. It must show the
numbers it embedded (which are the API's), in English and German, load every view and sub-tab
without an error, refuse what needs the API, and make no request at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.local.snapshot import DATA_ELEMENT, REQUESTS, write_snapshot
from tests.browser import test_dashboard as dashboard
from tests.browser.test_dashboard import api, check_rows_match

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


def settled(page) -> None:
    """The view has finished loading and shows no error."""
    page.wait_for_function("!document.querySelector('.status.loading')")
    assert page.locator(".status.error").all_inner_texts() == []


def test_the_snapshot_opens_offline_with_its_embedded_numbers(
    offline_page, snapshot, gateway
) -> None:
    data = embedded(snapshot)
    assert set(data["answers"]) == {get.url for get in REQUESTS}
    weekly = data["answers"]["/kpi/revenue?grain=week"]
    assert weekly == {"status": 200, "body": api(gateway, "/kpi/revenue", grain="week")}

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
