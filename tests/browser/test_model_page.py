"""The Model view's plots and downloads in a real browser: the ROC, gains, calibration and SHAP
dependence charts render from the API's data, the feature picker fetches that feature's
samples, numbers shown beside them equal direct API calls formatted by hand in English and
German, and a table's CSV download is the API's own bytes (the fixtures and formatters of
test_dashboard.py; the test stack trains a fresh champion, so its version has every plot)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import requests

from common.openapi import description
from tests.browser import test_dashboard as dashboard
from tests.browser.test_dashboard import api, count, percent, score

# The browser and page fixtures, shared by name.
browser = dashboard.browser
browser_page = dashboard.browser_page


def drawn(page, plot: str) -> bool:
    """The plot's canvas exists and Chart.js painted something on it."""
    return page.locator(f'[data-plot="{plot}"] canvas').evaluate(
        "c => c.width > 0 && c.height > 0 && "
        "c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)"
    )


def lifts(curves: dict, german: bool) -> str:
    shown = [
        f"{g['decile']}: {score(g['cumulative_lift'], german)}\u00a0\u00d7" for g in curves["gains"]
    ]
    return " · ".join(shown)


def test_model_plots_render_the_apis_curves_and_samples(browser_page, gateway) -> None:
    page = browser_page.page
    champion = api(gateway, "/ml/latest")
    curves = api(gateway, "/ml/curves")
    shap = api(gateway, "/ml/shap")
    assert curves["version"] == champion["version"], "the stack's champion has curves"
    top = shap["importances"][0]["feature"]
    # The other feature is a categorical one: its levels make the x axis.
    other = next(f["feature"] for f in shap["features"] if f["kind"] == "categorical")

    with page.expect_response(lambda r: f"/ml/shap/dependence/{top}" in r.url):
        page.goto("/#/model")
    page.wait_for_selector('[data-plot="dependence"] canvas')
    for plot in ("roc", "gains", "calibration", "dependence"):
        assert drawn(page, plot), plot
    assert page.locator('select[name="dependence-feature"]').input_value() == top
    rows = api(gateway, f"/ml/shap/dependence/{top}")["sample"]["rows"]
    note = page.locator("[data-dependence-rows]")
    assert note.get_attribute("data-dependence-rows") == str(rows)
    assert note.inner_text().startswith(f"{count(rows, False)} sampled holdout rows")
    lift = page.locator("[data-lift]")
    assert lift.inner_text() == f"Cumulative lift by decile: {lifts(curves, False)}"
    browser_page.screenshot("model-plots-en")

    # Another feature: its own samples are fetched and drawn.
    with page.expect_response(lambda r: f"/ml/shap/dependence/{other}" in r.url) as answered:
        page.select_option('select[name="dependence-feature"]', other)
    assert answered.value.status == 200
    page.wait_for_selector(
        f'[data-plot="dependence"] canvas[aria-label="SHAP dependence: {other}"]'
    )
    assert drawn(page, "dependence")
    levels = {p["value"] for p in api(gateway, f"/ml/shap/dependence/{other}")["points"]}
    assert len(levels - {None}) > 1
    browser_page.screenshot("model-dependence-categorical-en")

    page.click('button[data-language="de"]')
    page.wait_for_selector("text=ROC-Kurve auf dem Holdout")
    assert lift.inner_text() == f"Kumulierter Lift nach Dezil: {lifts(curves, True)}"
    page.wait_for_selector(f'canvas[aria-label="SHAP-Abhängigkeit: {other}"]')
    for plot in ("roc", "gains", "calibration", "dependence"):
        assert drawn(page, plot), plot
    browser_page.screenshot("model-plots-de")

    # The SHAP importance table's download is the API's own German CSV.
    with page.expect_download() as started:
        page.click('[data-table="shap"] button[data-format="csv"]')
    download = started.value
    expected = requests.get(
        f"{gateway}/ml/shap", params={"format": "csv", "locale": "de-DE"}, timeout=60
    )
    assert expected.status_code == 200
    assert Path(download.path()).read_bytes() == expected.content
    assert download.suggested_filename == f"conversion_{champion['version']}_shap.csv"
    assert expected.content.decode("utf-8-sig").startswith("feature;kind;mean_abs_shap;")
    assert browser_page.errors == []


def measure(value: float, german: bool) -> str:  # a PSI: 6 significant digits, never 1e-05
    text = np.format_float_positional(value, precision=6, unique=True, fractional=False, trim="-")
    return text.replace(".", ",") if german else text


def documented_drift(version: str) -> dict:
    """GET /ml/latest's drift once a validated build measured the champion: the API
    description's example, about this champion."""
    latest = description()["paths"]["/ml/latest"]["get"]["responses"]["200"]
    example = latest["content"]["application/json"]["example"]["drift"]
    return {**example, "model_version": version}


def test_model_drift_shows_each_psi_with_its_level_and_the_calibration(
    browser_page, gateway
) -> None:
    page = browser_page.page
    champion = api(gateway, "/ml/latest")
    # The stack trains its champion without a build after it: nothing measured it yet.
    assert champion["drift"] is None
    page.goto("/#/model")
    empty = page.wait_for_selector('[data-drift="none"]')
    assert empty.inner_text().startswith("Not measured yet: the next validated build")

    drift = documented_drift(champion["version"])
    page.route("**/ml/latest", lambda route: route.fulfill(json={**champion, "drift": drift}))
    page.reload()
    page.wait_for_selector(f'[data-drift="{drift["level"]}"]')
    by_psi = sorted(drift["psi"].items(), key=lambda item: -item[1])
    for german, levels in ((False, LEVELS_EN), (True, LEVELS_DE)):
        rows = page.locator("tr[data-psi]")
        shown = [r.split("\t") for r in rows.all_inner_texts()]
        expected = [
            [name, measure(psi, german), levels[judged(psi, drift)]]
            for name, psi in [(levels["score"], drift["score"]["psi"]), *by_psi]
        ]
        assert shown == expected
        deciles = page.locator("table.drift-calibration tbody tr").all_inner_texts()
        assert [d.split("\t") for d in deciles] == [
            [
                str(bin_["decile"]),
                count(bin_["rows"], german),
                percent(bin_["mean_score"], german),
                percent(bin_["observed_rate"], german),
            ]
            for bin_ in drift["calibration"]["deciles"]
        ]
        verdict = page.locator("[data-drift-verdict]").inner_text()
        assert verdict == VERDICTS[german].format(", ".join(drift["warning"]))
        browser_page.screenshot(f"model-drift-{'de' if german else 'en'}")
        if not german:
            page.click('button[data-language="de"]')
            page.wait_for_selector("text=Drift seit dem Training")
    assert browser_page.errors == []


# The documented example warns (the message on the page is the language's, not the API's).
VERDICTS = {
    False: "warning At or above the warning level: {}.",
    True: "Warnung Auf oder über der Warnstufe: {}.",
}
LEVELS_EN = {"ok": "stable", "warn": "warning", "block": "blocking", "score": "model score"}
LEVELS_DE = {"ok": "stabil", "warn": "Warnung", "block": "blockierend", "score": "Modell-Score"}


def judged(psi: float, drift: dict) -> str:
    return "block" if psi >= drift["block"] else "warn" if psi >= drift["warn"] else "ok"
