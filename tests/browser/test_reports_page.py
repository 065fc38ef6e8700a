"""The Reports view in a real browser: the weekly report is made from the page in its language,
listed, and downloaded; the PDF's text (pypdf) carries the KPI headline GET /kpi/revenue?grain=week
answers, formatted here by hand as the report writes it (the fixtures and formatters of
test_dashboard.py)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from pypdf import PdfReader

from tests.browser import test_dashboard as dashboard
from tests.browser.test_dashboard import api, count, day, money

# The browser and page fixtures, shared by name.
browser = dashboard.browser
browser_page = dashboard.browser_page
LANGUAGE_NAMES = {"en-US": "English", "de-DE": "Deutsch"}
WEEKLY = {False: "Weekly executive report", True: "Wöchentlicher Management-Bericht"}


def pdf_text(document: bytes) -> str:
    """One page's text, every run of blanks (a no-break space before $ or %) one space."""
    reader = PdfReader(io.BytesIO(document))
    assert len(reader.pages) == 1, "a report is one page"
    return re.sub(r"\s+", " ", reader.pages[0].extract_text())


def percent(ratio: float, german: bool) -> str:
    """A signed change as the report writes it: +5.23% (en), +5,23 % (de, CLDR)."""
    text = f"{ratio * 100:+.2f}"
    return f"{text.replace('.', ',')} %" if german else f"{text}%"


def shown_time(instant: str, german: bool) -> str:
    """A creation time as the page writes it: UTC in English, Berlin time (named) in German."""
    if not german:
        utc = datetime.fromisoformat(instant).astimezone(ZoneInfo("UTC"))
        return f"{utc:%m/%d/%Y, %I:%M %p} UTC"
    berlin = datetime.fromisoformat(instant).astimezone(ZoneInfo("Europe/Berlin"))
    return f"{berlin:%d.%m.%Y, %H:%M} {'MESZ' if berlin.dst() else 'MEZ'}"


def headline_weeks(gateway: str) -> tuple[dict, dict]:
    """The weekly report's weeks: the last two complete ones of the view's default range."""
    answer = api(gateway, "/kpi/revenue", grain="week")
    names = [c["name"] for c in answer["columns"]]
    weeks = [dict(zip(names, row, strict=True)) for row in answer["rows"]]
    before, week = [w for w in weeks if w["complete"]][-2:]
    return week, before


def make_weekly_report(page, german: bool) -> dict:
    """The page's button: POST /reports/weekly with the page's locale; the new report listed."""
    with page.expect_response(lambda r: r.url.endswith("/reports/weekly")) as answered:
        page.click('button[data-make="weekly"]')
    response = answered.value
    assert response.status == 201 and response.request.post_data_json == {
        "locale": "de-DE" if german else "en-US"
    }
    stored = response.json()
    page.wait_for_selector(f'tr.new[data-report="{stored["report_id"]}"]')
    return stored


def downloaded_pdf(page, gateway: str, stored: dict) -> str:
    with page.expect_download() as started:
        page.click(f'button[data-download="{stored["report_id"]}"]')
    download = started.value
    assert download.suggested_filename == stored["name"]
    document = Path(download.path()).read_bytes()
    assert document == requests.get(gateway + stored["url"], timeout=60).content
    return pdf_text(document)


def check_row(page, stored: dict, german: bool) -> None:
    row = page.locator(f'tr[data-report="{stored["report_id"]}"]')

    def cell(name: str) -> str:
        return row.locator(f'td[data-column="{name}"]').inner_text()

    assert cell("kind") == WEEKLY[german]
    assert cell("period") == stored["subject"]
    assert cell("language") == LANGUAGE_NAMES[stored["locale"]]  # each in its own language
    assert cell("created") == shown_time(stored["created"], german)
    assert cell("size") == count(stored["size"], german)


def test_the_weekly_report_is_made_listed_and_downloaded_in_english_and_german(
    browser_page, gateway
) -> None:
    page = browser_page.page
    page.goto("/#/reports")
    page.wait_for_selector("table.reports tbody tr")
    listed = api(gateway, "/reports")["reports"]
    shown = page.locator("tr[data-report]")
    assert [shown.nth(i).get_attribute("data-report") for i in range(shown.count())] == [
        r["report_id"] for r in listed
    ]
    week, before = headline_weeks(gateway)

    stored = make_weekly_report(page, german=False)
    assert (
        page.locator("tr[data-report]").first.get_attribute("data-report") == (stored["report_id"])
    )  # newest first
    check_row(page, stored, german=False)
    english = downloaded_pdf(page, gateway, stored)
    monday = date.fromisoformat(week["period"])
    assert f"KPIs of the week {monday:%b} {monday.day}, {monday.year}" in english  # MMM d, yyyy
    assert f"Revenue {money(week['revenue'], False)} {money(before['revenue'], False)}" in english
    assert f"Orders {count(week['orders'], False)} {count(before['orders'], False)}" in english
    change = (week["revenue"] - before["revenue"]) / before["revenue"]
    assert percent(change, False) in english
    assert money(week["aov"], False) in english
    browser_page.screenshot("reports-en")

    page.click('button[data-language="de"]')
    page.wait_for_selector("text=Wochenbericht erstellen")
    check_row(page, stored, german=True)
    gestored = make_weekly_report(page, german=True)
    check_row(page, gestored, german=True)
    deutsch = downloaded_pdf(page, gateway, gestored)
    monday = day(week["period"], True)
    assert f"Kennzahlen der Woche {monday}" in deutsch
    revenue = [money(w["revenue"], True).replace("\xa0", " ") for w in (week, before)]
    assert f"Umsatz {revenue[0]} {revenue[1]}" in deutsch
    assert f"Bestellungen {count(week['orders'], True)} {count(before['orders'], True)}" in deutsch
    assert percent(change, True) in deutsch
    assert [r["report_id"] for r in api(gateway, "/reports")["reports"][:2]] == [
        gestored["report_id"],
        stored["report_id"],
    ]
    browser_page.screenshot("reports-de")
    assert browser_page.errors == []
