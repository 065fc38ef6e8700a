"""KPI downloads for a locale: a German CSV and an Excel workbook that read back as the JSON
answer, with a file name; JSON stays locale-free. The readers are independent of the writers:
Python's csv module with a decimal comma parsed by hand, and openpyxl for xlsxwriter's files."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import openpyxl
import pytest

from tests.data.test_kpi_function import error_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = b"\xef\xbb\xbf"
SPAN = {"start": "2026-01-01", "end": "2026-03-31", "grain": "week"}
# The demo data is in USD: a currency number format with the symbol where each locale puts it.
MONEY_FORMATS = {"de-DE": "#,##0.00 [$$-407]", "en-US": "[$$-409]#,##0.00"}


@pytest.fixture
def client(function_client, generated_warehouse):
    return function_client("kpi", EXECKPI_DUCKDB_PATH=str(generated_warehouse))


def german_cell(text: str, kind: str):
    """A cell as German Excel reads it: DD.MM.YYYY dates, decimal comma, no grouping."""
    if text == "":
        return None
    if kind == "date":
        return datetime.strptime(text, "%d.%m.%Y").date().isoformat()
    if kind == "integer":
        return int(text)
    if kind == "boolean":  # a flag, spelt as in JSON whatever the locale
        return {"true": True, "false": False}[text]
    if kind == "money":  # every cent shown, as booked: 12487,30
        assert text.count(",") == 1 and len(text.split(",")[1]) == 2, text
        return float(text.replace(",", "."))
    if kind == "number":
        assert "." not in text, f"{text!r}: a grouping or decimal point in a German number"
        return float(text.replace(",", "."))
    return text


def read_german_csv(body: bytes, columns: list[dict]) -> list[list]:
    assert body.startswith(BOM), "without a byte order mark Excel reads the file as cp1252"
    header, *rows = csv.reader(
        io.StringIO(body[len(BOM) :].decode("utf-8"), newline=""), delimiter=";"
    )
    assert header == [c["name"] for c in columns]
    kinds = [c["type"] for c in columns]
    return [[german_cell(t, k) for t, k in zip(row, kinds, strict=True)] for row in rows]


def test_a_german_csv_of_revenue_reads_back_as_the_json_answer(client):
    as_json = client.get("/kpi/revenue", query_string=SPAN).get_json()
    response = client.get("/kpi/revenue", query_string={**SPAN, "format": "csv", "locale": "de-DE"})
    assert (response.status_code, response.mimetype) == (200, "text/csv")
    rows = read_german_csv(response.get_data(), as_json["columns"])
    assert rows == as_json["rows"] and len(rows) >= 13
    first = response.get_data().decode("utf-8-sig").splitlines()[1].split(";")
    assert first[0].count(".") == 2 and "," in first[3]  # 29.12.2025;…;12487,35;…


def test_an_xlsx_of_revenue_reads_back_as_the_json_answer(client):
    as_json = client.get("/kpi/revenue", query_string=SPAN).get_json()
    for locale, date_format in (("de-DE", "dd.mm.yyyy"), ("en-US", "yyyy-mm-dd")):
        response = client.get(
            "/kpi/revenue", query_string={**SPAN, "format": "xlsx", "locale": locale}
        )
        assert (response.status_code, response.mimetype) == (200, XLSX)
        sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["revenue"]
        header, *cells = sheet.iter_rows()
        assert [c.value for c in header] == [c["name"] for c in as_json["columns"]]
        assert len(cells) == len(as_json["rows"])
        for row, expected in zip(cells, as_json["rows"], strict=True):
            period, *numbers, complete = row
            assert period.is_date and period.number_format == date_format
            assert period.value.date().isoformat() == expected[0]
            assert all(c.data_type == "n" for c in numbers)  # numbers, not text
            money = [
                c
                for c, column in zip(row, as_json["columns"], strict=True)
                if column["type"] == "money"
            ]
            assert {c.number_format for c in money} == {MONEY_FORMATS[locale]}
            # xlsxwriter writes 16 significant digits, one more than Excel computes with.
            assert [c.value for c in numbers] == pytest.approx(expected[1:-1], rel=1e-15)
            assert (complete.data_type, complete.value) == ("b", expected[-1])


def test_downloads_are_named_after_the_kpi_and_the_answered_range(client):
    for query, name in (
        ({**SPAN, "format": "csv"}, "revenue_2026-01-01_2026-03-31.csv"),
        ({**SPAN, "format": "xlsx", "locale": "de-DE"}, "revenue_2026-01-01_2026-03-31.xlsx"),
    ):
        disposition = client.get("/kpi/revenue", query_string=query).headers
        assert disposition["Content-Disposition"] == f'attachment; filename="{name}"'
    # The default range is the one the answer reports; a KPI without dates has just its name.
    answer = client.get("/kpi/mom_growth").get_json()["params"]
    csv_name = client.get("/kpi/mom_growth?format=csv").headers["Content-Disposition"]
    assert csv_name == f'attachment; filename="mom_growth_{answer["start"]}_{answer["end"]}.csv"'
    ltv = client.get("/kpi/customer_ltv", headers={"Accept": XLSX})
    assert ltv.mimetype == XLSX
    assert ltv.headers["Content-Disposition"] == 'attachment; filename="customer_ltv.xlsx"'
    assert "Content-Disposition" not in client.get("/kpi/customer_ltv").headers


def test_accept_language_chooses_the_locale_and_the_parameter_wins(client):
    url = "/kpi/channel_performance?format=csv"
    plain = client.get(url).get_data()
    german = client.get(url + "&locale=de-DE").get_data()
    assert german.startswith(BOM) and not plain.startswith(BOM) and german != plain
    for header in ("de-DE,de;q=0.9,en;q=0.8", "de", "de-AT,de;q=0.9,en;q=0.8"):
        assert client.get(url, headers={"Accept-Language": header}).get_data() == german
    for header in ("en-GB,en;q=0.9", "fr-FR", "*"):  # unknown languages fall back to en-US
        assert client.get(url, headers={"Accept-Language": header}).get_data() == plain
    overridden = client.get(url + "&locale=en-US", headers={"Accept-Language": "de-DE"})
    assert overridden.get_data() == plain
    assert "Accept-Language" in overridden.headers["Vary"]


def test_the_default_csv_is_the_machine_format_it_always_was(client):
    as_json = client.get("/kpi/revenue", query_string=SPAN).get_json()
    body = client.get("/kpi/revenue", query_string={**SPAN, "format": "csv"}).get_data(as_text=True)
    header, *rows = csv.reader(io.StringIO(body, newline=""))
    assert header == [c["name"] for c in as_json["columns"]]
    parse = {"date": str, "integer": int, "number": float, "money": float, "boolean": json.loads}
    kinds = [parse[c["type"]] for c in as_json["columns"]]
    assert [[k(v) for k, v in zip(kinds, row, strict=True)] for row in rows] == as_json["rows"]


@pytest.mark.parametrize("locale", ["fr-FR", "de", "de_DE", "", "de-DE;"])
def test_an_unknown_locale_is_refused_before_the_warehouse_is_asked(
    function_client, tmp_path, locale
):
    # Without a database a query would answer 503: the 400 comes first.
    missing = function_client("kpi", EXECKPI_DUCKDB_PATH=str(tmp_path / "none.duckdb"))
    for response in (
        missing.get("/kpi/revenue", query_string={"format": "csv", "locale": locale}),
        missing.post("/kpi/revenue", query_string={"locale": locale}, json={}),
    ):
        assert response.status_code == 400
        error = error_of(response)
        assert error["field"] == "locale" and "de-DE" in error["message"]


def test_json_stays_locale_free(client):
    plain = client.get("/kpi/revenue", query_string=SPAN)
    for localized in (
        client.get("/kpi/revenue", query_string={**SPAN, "locale": "de-DE"}),
        client.get("/kpi/revenue", query_string=SPAN, headers={"Accept-Language": "de-DE"}),
        client.post("/kpi/revenue?locale=de-DE", json=SPAN),
    ):
        assert localized.mimetype == "application/json"
        body, expected = localized.get_json(), plain.get_json()
        assert (body["params"], body["columns"], body["rows"]) == (
            expected["params"],
            expected["columns"],
            expected["rows"],
        )
        assert localized.headers["ETag"] == plain.headers["ETag"]
