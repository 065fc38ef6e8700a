"""One experiment's results page in a real browser: its decision, SRM banner, numbers, breakdown,
cumulative effect and power calculator are checked against direct calls of the documented API
(POST /ab/analyze, /ab/breakdown, /ab/power, GET /ab/experiments/<id>/timeline), formatted here
by hand for each language; the bodies it POSTs on opening are the ones the offline snapshot
embeds answers for; its CSV download must be the API's own bytes and its PDF report must name
the decision and the API's numbers."""

from __future__ import annotations

import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import requests

from scripts.local.snapshot import analysis_body, breakdown_body
from tests.browser import test_dashboard as dashboard
from tests.browser.test_dashboard import count, day, money, percent

# The browser and page fixtures, shared by name.
browser = dashboard.browser
browser_page = dashboard.browser_page

NBSP = "\u00a0"
VERDICTS_DE = {
    "SHIP": "Ausrollen",
    "DO NOT SHIP": "Nicht ausrollen",
    "INCONCLUSIVE": "Nicht eindeutig",
}
CALCULATOR = {"baseline": 0.12, "mde": 0.1, "alpha": 0.05, "power": 0.9, "daily_traffic": 1500}
# The same, typed on the German page: decimal commas, a thousands point, and one decimal point
# (it cannot separate thousands, so it is read as the English-minded user meant it).
GERMAN_CALCULATOR = {
    "baseline": "0,12",
    "mde": "0,1",
    "alpha": "0.05",
    "power": "0,9",
    "daily_traffic": "1.500",
}


def post(gateway: str, path: str, body: dict) -> dict:
    response = requests.post(gateway + path, json=body, timeout=120)
    assert response.status_code == 200, response.text[:500]
    return response.json()


# --- how each language writes the page's numbers (by hand: the page uses Intl.NumberFormat) ---


def _decimal(value: Decimal, german: bool) -> str:
    text = f"{value:,}"
    return text.translate(str.maketrans(",.", ".,")) if german else text


def _two_places(value: float, scale: int = 1) -> Decimal:
    # Intl scales exactly and rounds half away from zero: so does Decimal, from the exact float.
    return (Decimal(value) * scale).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def lift(value: float, german: bool) -> str:
    """A relative lift or bound: +7.92% / +7,92 % (the page's default, relative, scale)."""
    places = _two_places(value, 100)
    text = ("+" if places > 0 else "") + _decimal(places, german)
    return f"{text}{NBSP}%" if german else f"{text}%"


def rate(value: float, german: bool) -> str:
    """A conversion rate with two decimals: 29.88% / 29,88 %."""
    text = _decimal(_two_places(value, 100), german)
    return f"{text}{NBSP}%" if german else f"{text}%"


def p_value(value: float, german: bool) -> str:
    """Three decimals, or < 0.001, as the API's summaries write p."""
    if value < 0.001:
        return f"<{NBSP}{'0,001' if german else '0.001'}"
    text = f"{Decimal(value).quantize(Decimal('0.001'), rounding=ROUND_HALF_UP)}"
    return text.replace(".", ",") if german else text


def mean(comparison_arm: dict, kind: str, german: bool) -> str:
    value = comparison_arm["mean"]
    return rate(value, german) if kind == "proportion" else money(value, german)


def cell(page, metric: str, variant: str, column: str):
    row = f'table.results tr[data-row="{metric}:{variant}"]'
    return page.locator(f'{row} td[data-column="{column}"]')


def check_numbers(page, analysis: dict, german: bool) -> None:
    decision = analysis["decision"]
    shown = page.locator("[data-verdict]")
    assert shown.get_attribute("data-verdict") == decision["verdict"]
    label = VERDICTS_DE[decision["verdict"]] if german else decision["verdict"]
    assert shown.locator(".verdict strong").inner_text() == label
    if not german:  # in German the API's German words: test_the_decision_is_the_apis_german_text
        assert page.locator("[data-summary]").inner_text() == decision["summary"]
    reasons = page.locator("[data-verdict] li[data-reason]")
    assert [reasons.nth(i).get_attribute("data-reason") for i in range(reasons.count())] == [
        r["code"] for r in decision["reasons"]
    ]

    srm = analysis["srm"]
    banner = page.locator("[data-srm]")
    assert banner.get_attribute("data-srm") == ("passed" if srm["passed"] else "failed")
    shown_p = p_value(srm["p_value"], german)
    clause = f"p{NBSP}{shown_p}" if shown_p.startswith("<") else f"p{NBSP}={NBSP}{shown_p}"
    assert clause in banner.inner_text()
    if not srm["passed"]:
        observed = " : ".join(count(v, german) for v in srm["observed"])
        assert banner.locator('[data-split="observed"]').inner_text() == observed

    for c in analysis["comparisons"]:
        assert c["scale"] == "relative", "the page's default request is the API's default"

        def shown(column: str, c: dict = c) -> str:
            return cell(page, c["metric"], c["variant"], column).inner_text()

        assert shown("n") == count(c["treatment"]["n"], german)
        assert shown("mean") == mean(c["treatment"], c["kind"], german)
        assert shown("lift") == lift(c["relative"]["estimate"], german)
        low, high = c["relative"]["ci"]
        interval = cell(page, c["metric"], c["variant"], "ci")
        assert interval.locator('[data-bound="low"]').inner_text() == lift(low, german)
        assert interval.locator('[data-bound="high"]').inner_text() == lift(high, german)
        assert shown("p_value") == p_value(c["p_value"], german)
        assert shown("p_value_adjusted") == p_value(c["p_value_adjusted"], german)
        chance = c["bayesian"]["chance_to_beat_control"]
        assert shown("chance_to_beat_control") == percent(chance, german)
        credible = page.locator(
            f'table.bayesian tr[data-row="{c["metric"]}:{c["variant"]}"] '
            'td[data-column="credible_interval"]'
        )
        low, high = c["bayesian"]["credible_interval"]
        assert credible.locator('[data-bound="low"]').inner_text() == lift(low, german)
        assert credible.locator('[data-bound="high"]').inner_text() == lift(high, german)
        control_n = cell(page, c["metric"], analysis["control"], "n").inner_text()
        assert control_n == count(c["control"]["n"], german)


def check_breakdown(page, breakdown: dict, german: bool) -> None:
    values = page.locator('table.breakdown th[scope="rowgroup"]')
    assert values.all_inner_texts() == [v["dimension_value"] for v in breakdown["values"]]
    units = page.locator('table.breakdown td[data-column="units"]').all_inner_texts()
    assert units == [count(v["units"], german) for v in breakdown["values"]]
    across = page.locator('table.breakdown td[data-column="p_value_across_values"]')
    assert across.all_inner_texts() == [
        p_value(c["p_value_across_values"], german)
        for v in breakdown["values"]
        for c in v["comparisons"]
    ]


def check_cumulative_effect(page, timeline: dict, german: bool) -> None:
    """Each series' last day as the page writes it (relative lifts, as the page's default)."""
    assert timeline["series"], "the demo experiment has days of data"
    for series in timeline["series"]:
        assert series["scale"] == "relative"
        last = series["points"][-1]
        shown = page.locator(
            f'.effect-series[data-metric="{series["metric"]}"]'
            f'[data-variant="{series["variant"]}"] .effect-last'
        )
        assert shown.locator("strong").inner_text() == lift(last["estimate"], german)
        text = shown.inner_text()
        assert f" {day(last['day'], german)}: " in text
        assert f" {lift(last['ci_lower'], german)} … {lift(last['ci_upper'], german)}), " in text
        assert f" {p_value(last['p_value'], german)}, " in text


def check_calculator(page, power: dict, german: bool) -> None:
    card = lambda name: page.locator(f'[data-power="{name}"] .card-value').inner_text()  # noqa: E731
    assert card("n_per_arm") == count(power["n_per_arm"], german)
    assert card("total") == count(power["total"], german)
    assert card("days") == count(power["days"], german)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace(NBSP, " ").replace("\u202f", " ")


def test_results_page_shows_the_apis_analysis_in_english_and_german(browser_page, gateway) -> None:
    page = browser_page.page
    page.goto("/#/experiments")
    listed = dashboard.api(gateway, "/ab/experiments")["experiments"]
    assert listed, "the demo data defines experiments"
    experiment_id = next(
        (e["experiment_id"] for e in listed if e["experiment_id"] == "checkout_one_click"),
        listed[0]["experiment_id"],
    )
    with (
        page.expect_request(lambda r: r.url.endswith("/ab/analyze")) as analyzed,
        page.expect_request(lambda r: r.url.endswith("/ab/breakdown")) as broken_down,
    ):
        page.click(f'tr[data-experiment="{experiment_id}"] a')
    page.wait_for_selector("[data-verdict]")
    assert page.url.endswith(f"#/experiments/{experiment_id}")
    # The snapshot's keys hold the bodies the page sends on opening.
    assert json.loads(analyzed.value.post_data) == analysis_body(experiment_id)
    assert json.loads(broken_down.value.post_data) == breakdown_body(experiment_id)

    analysis = post(gateway, "/ab/analyze", {"experiment_id": experiment_id})
    check_numbers(page, analysis, german=False)
    metrics = {c["metric"] for c in analysis["comparisons"]}
    assert page.locator("figure.metric-plot canvas[role=img]").count() == len(metrics)

    breakdown = post(
        gateway, "/ab/breakdown", {"experiment_id": experiment_id, "dimension": "browser"}
    )
    page.wait_for_selector('table.breakdown th[scope="rowgroup"]')
    check_breakdown(page, breakdown, german=False)
    timeline = dashboard.api(gateway, f"/ab/experiments/{experiment_id}/timeline", scale="relative")
    page.wait_for_selector(".cumulative-effect .effect-last")
    check_cumulative_effect(page, timeline, german=False)

    for name, value in CALCULATOR.items():
        page.fill(f'form.power input[name="{name}"]', str(value))
    power = post(gateway, "/ab/power", CALCULATOR)
    page.click('form.power button[type="submit"]')
    page.wait_for_selector('[data-power="n_per_arm"]')
    check_calculator(page, power, german=False)
    browser_page.screenshot("experiment-results-en")

    page.click('button[data-language="de"]')
    page.wait_for_selector("text=Ergebnisse von")
    check_numbers(page, analysis, german=True)
    check_cumulative_effect(page, timeline, german=True)
    check_calculator(page, power, german=True)
    # The typed numbers follow the language, and German ones are read the German way.
    assert page.input_value('form.power input[name="baseline"]') == "0,12"
    for name, value in GERMAN_CALCULATOR.items():
        page.fill(f'form.power input[name="{name}"]', value)
    with page.expect_response(lambda r: "/ab/power" in r.url) as answered:
        page.click('form.power button[type="submit"]')
    assert answered.value.request.post_data_json == CALCULATOR
    page.wait_for_selector('[data-power="n_per_arm"]')
    check_calculator(page, power, german=True)
    countries = post(
        gateway, "/ab/breakdown", {"experiment_id": experiment_id, "dimension": "country"}
    )
    with page.expect_response(lambda r: "/ab/breakdown" in r.url):
        page.select_option('select[name="dimension"]', "country")
    first_country = countries["values"][0]["dimension_value"]
    page.wait_for_selector(f'table.breakdown th[scope="rowgroup"] >> text="{first_country}"')
    check_breakdown(page, countries, german=True)
    browser_page.screenshot("experiment-results-de")

    # The CSV is the API's own file in the page's language.
    with page.expect_download() as started:
        page.click('.report button[data-format="csv"]')
    downloaded = Path(started.value.path()).read_bytes()
    expected = requests.get(
        f"{gateway}/ab/experiments/{experiment_id}",
        params={"format": "csv", "locale": "de-DE"},
        timeout=120,
    )
    assert expected.status_code == 200, expected.text[:500]
    assert downloaded == expected.content
    assert started.value.suggested_filename.startswith(experiment_id)

    # The PDF report, made in German: the decision and the primary metric's lift.
    with page.expect_download(timeout=120_000) as started:
        page.click('button[data-report="pdf"]')
    assert started.value.suggested_filename.endswith(".pdf")
    text = pdf_text(Path(started.value.path()).read_bytes())
    assert VERDICTS_DE[analysis["decision"]["verdict"]] in text
    primary = next(c for c in analysis["comparisons"] if c["role"] == "primary")
    assert lift(primary["relative"]["estimate"], german=True).replace(NBSP, " ") in text

    # The sequential switch asks /ab/analyze again: always-valid intervals, as the API answers.
    body = {"experiment_id": experiment_id, "options": {"sequential": True}}
    sequential = post(gateway, "/ab/analyze", body)
    with page.expect_response(lambda r: "/ab/analyze" in r.url):
        page.check('input[name="sequential"]')
    page.wait_for_selector('[aria-busy="false"] [data-sequential]')
    check_numbers(page, sequential, german=True)
    assert browser_page.errors == []

    # A refused input: the API's 400 names the field, the page shows it and marks the input.
    page.fill('form.power input[name="baseline"]', "1.5")
    page.click('form.power button[type="submit"]')
    alert = page.wait_for_selector('form.power + [role="alert"]')
    assert "400" in alert.inner_text() and "baseline" in alert.inner_text()
    assert page.locator('form.power input[name="baseline"]').get_attribute("aria-invalid") == "true"
    # The browser itself logs the refused request; nothing else may go wrong.
    assert [e for e in browser_page.errors if "status of 400" not in e] == []


def test_an_unknown_experiment_says_so(browser_page, gateway) -> None:
    page = browser_page.page
    page.goto("/#/experiments/no_such_experiment")
    shown = page.wait_for_selector("[data-not-found]")
    assert '"no_such_experiment"' in shown.inner_text()
    page.click('button[data-language="de"]')
    assert "„no_such_experiment“" in page.locator("[data-not-found]").inner_text()
    # Only the one refused request, logged by the browser itself.
    assert len(browser_page.errors) == 1 and "status of 404" in browser_page.errors[0]


def test_the_decision_is_the_apis_german_text(browser_page, gateway) -> None:
    """In German the page asks POST /ab/analyze for de-DE: its summary and each reason's message
    are the API's German ones, word for word, beside the page's own German reason labels; back
    in English, the English ones."""
    page = browser_page.page
    experiment_id = "checkout_one_click"
    body = {"experiment_id": experiment_id}
    english = post(gateway, "/ab/analyze", body)["decision"]
    german = post(gateway, "/ab/analyze", {**body, "locale": "de-DE"})["decision"]
    assert german["summary"] != english["summary"]

    def shows(decision: dict) -> None:
        page.wait_for_function(
            "s => document.querySelector('[data-summary]')?.textContent.trim() === s",
            arg=decision["summary"],
        )
        reasons = page.locator("[data-verdict] li[data-reason]")
        assert reasons.count() == len(decision["reasons"])
        for i, reason in enumerate(decision["reasons"]):
            shown = reasons.nth(i)
            assert shown.get_attribute("data-reason") == reason["code"]
            message = shown.inner_text().removeprefix(shown.locator(".badge").inner_text())
            assert message.strip() == reason["message"]

    page.goto(f"/#/experiments/{experiment_id}")
    page.wait_for_selector("[data-verdict]")
    shows(english)
    page.click('button[data-language="de"]')
    shows(german)
    assert page.locator("[data-summary]").inner_text() == german["summary"]
    labels = {  # the page's own labels of the codes (web/src/i18n.js), kept beside the API's words
        "srm_failed": "Sample Ratio Mismatch",
        "significant_win": "signifikante Verbesserung",
        "significant_harm": "signifikante Verschlechterung",
        "guardrail_harmed": "Leitplanke verletzt",
        "guardrail_not_noninferior": "Leitplanke nicht als sicher belegt",
        "ci_crosses_zero": "Intervall schließt keine Änderung ein",
        "underpowered": "zu geringe Teststärke",
        "untestable": "nicht testbar",
    }
    badges = page.locator("[data-verdict] li[data-reason] .badge").all_inner_texts()
    assert badges == [labels[r["code"]] for r in german["reasons"]]
    browser_page.screenshot("experiment-decision-de")
    page.click('button[data-language="en"]')
    shows(english)
    assert browser_page.errors == []
