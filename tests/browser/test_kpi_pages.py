"""The KPIs page's other KPIs in a real browser (funnel, retention cohorts, month-over-month
growth, the customer tables): their numbers are checked against direct API calls, formatted by
hand for each language (the fixtures and formatters of test_dashboard.py)."""

from __future__ import annotations

from tests.browser import test_dashboard as dashboard
from tests.browser.test_dashboard import api, cells, count, day, money

# The browser and page fixtures, shared by name.
browser = dashboard.browser
browser_page = dashboard.browser_page


def column(answer: dict, name: str) -> list:
    at = [c["name"] for c in answer["columns"]].index(name)
    return [row[at] for row in answer["rows"]]


def open_kpi(page, name: str, selector: str) -> None:
    page.click(f'button[data-kpi="{name}"]')
    page.wait_for_selector(selector)


def test_funnel_retention_and_growth_show_the_apis_numbers(browser_page, gateway) -> None:
    page = browser_page.page
    page.goto("/")
    page.wait_for_selector("table.rows tbody tr")

    funnel = api(gateway, "/kpi/funnel")
    assert funnel["rows"], "the demo data has sessions"
    open_kpi(page, "funnel", 'td[data-column="sessions"]')
    assert page.locator("canvas[role=img]").count() == 1
    assert cells(page, "sessions") == [count(n, False) for n in column(funnel, "sessions")]
    assert cells(page, "traffic_source") == column(funnel, "traffic_source")
    browser_page.screenshot("kpi-funnel-en")

    for grain in ("week", "month"):
        retention = api(gateway, "/kpi/retention", grain=grain)
        cohorts = dict(
            zip(column(retention, "cohort"), column(retention, "cohort_size"), strict=True)
        )
        if grain == "week":
            open_kpi(page, "retention", "tr[data-cohort]")
        else:
            with page.expect_response(
                lambda r: "/kpi/retention" in r.url and "grain=month" in r.url
            ):
                page.select_option('select[name="retention-grain"]', "month")
            page.wait_for_selector(f'tr[data-cohort="{next(iter(cohorts))}"]')
        shown = page.locator("tr[data-cohort]")
        assert [shown.nth(i).get_attribute("data-cohort") for i in range(shown.count())] == list(
            cohorts
        )
        assert cells(page, "cohort_size") == [count(n, False) for n in cohorts.values()]
        # One shaded cell per cohort and period the API answers.
        assert page.locator("td[data-rate]").count() == len(retention["rows"])
    browser_page.screenshot("kpi-retention-month-en")

    whole = api(gateway, "/kpi/mom_growth")
    with_partial = api(gateway, "/kpi/mom_growth", include_partial="true")
    open_kpi(page, "mom_growth", 'td[data-column="revenue"]')
    assert cells(page, "revenue") == [money(v, False) for v in column(whole, "revenue")]
    assert page.locator("table.rows tr.partial").count() == 0
    with page.expect_response(lambda r: "include_partial=true" in r.url):
        page.check('input[name="include_partial"]')
    page.wait_for_selector(f'td[data-column="month"] >> nth={len(with_partial["rows"]) - 1}')
    assert cells(page, "revenue") == [money(v, False) for v in column(with_partial, "revenue")]
    partial = column(with_partial, "complete").count(False)
    assert page.locator("table.rows tr.partial .badge").count() == partial
    browser_page.screenshot("kpi-growth-en")

    page.click('button[data-language="de"]')
    page.wait_for_selector("text=Umsatzwachstum zum Vormonat")
    assert cells(page, "revenue") == [money(v, True) for v in column(with_partial, "revenue")]
    assert cells(page, "month") == [day(d, True) for d in column(with_partial, "month")]
    open_kpi(page, "funnel", 'td[data-column="sessions"]')
    assert cells(page, "sessions") == [count(n, True) for n in column(funnel, "sessions")]
    browser_page.screenshot("kpi-funnel-de")
    assert browser_page.errors == []


def test_customer_tables_show_the_apis_numbers_and_download(browser_page, gateway) -> None:
    page = browser_page.page
    page.goto("/")
    page.wait_for_selector("table.rows tbody tr")
    channels = api(gateway, "/kpi/channel_performance")
    open_kpi(page, "channel_performance", 'td[data-column="revenue"]')
    assert cells(page, "revenue") == [money(v, False) for v in column(channels, "revenue")]
    segments = api(gateway, "/kpi/rfm_segments")
    open_kpi(page, "rfm_segments", 'td[data-column="segment"]')
    assert cells(page, "customers") == [count(n, False) for n in column(segments, "customers")]
    top = api(gateway, "/kpi/customer_ltv")
    open_kpi(page, "customer_ltv", 'td[data-column="lifetime_revenue"]')
    shown = cells(page, "lifetime_revenue")
    assert shown == [money(v, False) for v in column(top, "lifetime_revenue")]
    browser_page.screenshot("kpi-customer-ltv-en")
    with page.expect_download() as started:
        page.click('button[data-format="csv"]')
    assert started.value.suggested_filename.startswith("customer_ltv")
    assert browser_page.errors == []
