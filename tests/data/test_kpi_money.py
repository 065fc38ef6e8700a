"""Money in every KPI answer: typed as money in the shop's currency, at most the currency's
minor-unit digits in JSON and CSV (en-US and de-DE), a currency format in XLSX, and revenue
sums that are cent-exact: checked against sums over the raw order items computed here with
Python's Decimal (each item's price as invoiced, in cents), never against the marts."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from common.kpi.catalogue import CATALOGUE
from common.kpi.original_queries import QUERY_FILES
from common.money import currency_of
from tests.support.money import as_invoiced
from tests.support.reporting_time import local_day

KEPT = ("Processing", "Shipped", "Complete")
UNITS = {"count", "ratio", "days", "weeks", "years", "periods", "date", "timestamp", "text", "id"}
UNITS |= {"boolean", "per_metric", "decile"}
MONEY_CSV = {"en-US": re.compile(r"-?\d+\.\d{2}"), "de-DE": re.compile(r"-?\d+,\d{2}")}


@pytest.fixture(params=["generated", "shared"])
def dataset(request, function_client):
    path = request.getfixturevalue(f"{request.param}_warehouse")
    client = function_client("kpi", EXECKPI_DUCKDB_PATH=str(path))
    con = duckdb.connect(str(path), read_only=True)
    yield client, con
    con.close()


def params_of(name: str) -> dict[str, str]:
    return {"experiment_id": "checkout_one_click"} if name == "experiment_metrics" else {}


def test_the_catalogue_lists_a_type_and_unit_for_every_column(function_client):
    kpis = function_client("kpi", EXECKPI_CURRENCY="EUR").get("/kpi").get_json()["kpis"]
    assert [kpi["name"] for kpi in kpis] == list(CATALOGUE)
    columns = [column for kpi in kpis for column in kpi["columns"]]
    for column in columns:
        expected = {"EUR"} if column["type"] == "money" else UNITS
        assert column["unit"] in expected, column
    money = {c["name"] for c in columns if c["type"] == "money"}
    assert {"revenue", "aov", "gross_profit", "lifetime_revenue", "avg_monetary"} <= money
    assert not {"refund_rate", "gross_margin", "revenue_growth_mom", "share"} & money
    # The original API's queries are described the same way (they are not in GET /kpi).
    currency = currency_of("EUR")
    for kpi in QUERY_FILES.values():
        for column in kpi.output_columns:
            described = column.describe(currency)
            assert described["unit"] in ({"EUR"} if column.type == "money" else UNITS), described


def money_values(body: dict) -> list:
    money = [i for i, column in enumerate(body["columns"]) if column["type"] == "money"]
    return [row[i] for row in body["rows"] for i in money if row[i] is not None]


def cents_at_most(value: float) -> bool:
    """Whether the number, as JSON writes it, has at most two decimals."""
    return Decimal(repr(value)).as_tuple().exponent >= -2


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_money_value_has_at_most_the_currencys_minor_unit_digits(dataset, name):
    client, _ = dataset
    body = client.get(f"/kpi/{name}", query_string=params_of(name)).get_json()
    values = money_values(body)
    has_money = any(c["type"] == "money" for c in body["columns"])
    assert bool(values) == has_money  # every money KPI answered some amounts to check
    assert all(isinstance(v, float | int) and cents_at_most(v) for v in values), values
    money = [c["type"] == "money" for c in body["columns"]]
    for locale, pattern in MONEY_CSV.items():
        response = client.get(
            f"/kpi/{name}", query_string={**params_of(name), "format": "csv", "locale": locale}
        )
        text = response.get_data().decode("utf-8-sig")
        header, *rows = csv.reader(io.StringIO(text), delimiter="," if locale == "en-US" else ";")
        assert header == [c["name"] for c in body["columns"]] and len(rows) == len(body["rows"])
        cells = [cell for row in rows for cell, m in zip(row, money, strict=True) if m and cell]
        assert len(cells) == len(values)
        assert all(pattern.fullmatch(cell) for cell in cells), (locale, cells[:5])


def test_rates_are_not_rounded(dataset):
    client, _ = dataset
    body = client.get("/kpi/refund_rate", query_string={"grain": "day"}).get_json()
    rates = [row[3] for row in body["rows"] if row[3] is not None]
    assert any(not cents_at_most(rate) for rate in rates)


def test_the_original_queries_round_money_too(dataset):
    client, _ = dataset
    for sql_file in ("api_revenue_daily.sql", "api_features_conversion.sql"):
        answer = client.post("/kpi/query", json={"sql_file": sql_file}).get_json()
        money = [c["name"] for c in answer["schema"] if c["type"] == "money"]
        values = [row[m] for row in answer["data"] for m in money if row[m] is not None]
        assert values and all(cents_at_most(v) for v in values), sql_file


def raw_revenue(con) -> tuple[dict[date, Decimal], dict[date, Decimal]]:
    """Kept revenue per order day (in the reporting time zone) and month: each item's price
    rounded half up to the cent (as its invoice line states it), summed exactly in Python."""
    items = con.execute(
        f"""
        select o.created_at, i.sale_price
        from raw.orders o join raw.order_items i on i.order_id = o.order_id
        where i.status in {KEPT}
        """
    ).fetchall()
    days: dict[date, Decimal] = defaultdict(Decimal)
    for ordered_at, price in items:
        days[local_day(ordered_at)] += as_invoiced(price)
    months: dict[date, Decimal] = defaultdict(Decimal)
    for day, revenue in days.items():
        months[day.replace(day=1)] += revenue
    return days, months


def test_revenue_per_day_and_month_is_the_cent_exact_raw_sum(dataset):
    client, con = dataset
    days, months = raw_revenue(con)
    span = {"start": min(days).isoformat(), "end": max(days).isoformat()}
    for grain, expected in (("day", days), ("month", months)):
        rows = client.get("/kpi/revenue", query_string={**span, "grain": grain}).get_json()["rows"]
        answered = {date.fromisoformat(row[0]): Decimal(repr(row[3])) for row in rows if row[3]}
        assert answered == {period: revenue for period, revenue in expected.items() if revenue}
    total = sum(days.values())
    assert total == sum(Decimal(repr(r[3])) for r in rows)  # no drift over the whole history


def test_a_german_shop_gets_euro_cells_in_excel(function_client, generated_warehouse):
    client = function_client(
        "kpi", EXECKPI_DUCKDB_PATH=str(generated_warehouse), EXECKPI_CURRENCY="EUR"
    )
    response = client.get("/kpi/gross_margin", query_string={"format": "xlsx", "locale": "de-DE"})
    header, *rows = openpyxl.load_workbook(io.BytesIO(response.get_data()))["gross_margin"].rows
    names = [cell.value for cell in header]
    assert names[:4] == ["period", "revenue", "cost_of_revenue", "gross_profit"] and rows
    for row in rows:
        for cell in row[1:4]:  # numbers Excel can sum, shown as euros
            assert cell.data_type == "n" and cell.number_format == "#,##0.00 [$€-407]"
        assert row[4].number_format == "General"  # the margin is a ratio, not money
