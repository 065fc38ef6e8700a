"""A table (a KPI's answer, an experiment's results) as a file to download: CSV or an Excel
workbook, formatted for a locale, under a name that says what it holds
(``revenue_2026-09-04_2026-12-02.csv``).

Babel's dates and xlsxwriter are imported here on first use only: most requests want JSON,
and a function instance should not pay their import on every cold start (Babel's numbers are
loaded at start by the currency check, ``common/money.py``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.locales import DownloadLocale
from common.money import Currency
from common.validation import is_number

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Table:
    """Rows under named, typed columns (``{"name", "type"}``; types as a KPI's: date, number,
    money, integer, boolean, string, ...), the sheet's name and the file's name without
    extension. ``currency`` is that of the money columns; a table without any needs none."""

    name: str
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    file_stem: str
    currency: Currency | None = None

    def __post_init__(self) -> None:
        if self.currency is None and any(c["type"] == "money" for c in self.columns):
            raise ValueError(f"{self.name}: money columns need the table's currency")

    def file_name(self, extension: str) -> str:
        return f"{self.file_stem}.{extension}"


@dataclass(frozen=True)
class Download:
    body: bytes
    mimetype: str
    file_name: str

    @property
    def disposition(self) -> str:  # names are identifiers and ISO dates: nothing to escape
        return f'attachment; filename="{self.file_name}"'


def as_csv(result: Table, locale: DownloadLocale) -> Download:
    buffer = io.StringIO()
    if locale.bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=locale.delimiter, lineterminator="\n")
    writer.writerow([column["name"] for column in result.columns])
    cell = _csv_cell(locale, result.currency)
    kinds = [column["type"] for column in result.columns]
    for row in result.rows:
        writer.writerow([cell(v, k) for v, k in zip(row, kinds, strict=True)])
    return Download(buffer.getvalue().encode("utf-8"), CSV, result.file_name("csv"))


def _decimals(currency: Currency) -> str:
    """The fraction part of a number pattern showing every minor-unit digit: .00, or none."""
    return "." + "0" * currency.minor_unit if currency.minor_unit else ""


def _csv_cell(locale: DownloadLocale, currency: Currency | None) -> Callable[[Any, str], Any]:
    if locale.babel is not None:
        return _localized_cell(locale.babel, currency)

    def cell(value: Any, kind: str) -> Any:
        """The JSON value; money with every minor-unit digit (12.50, as booked)."""
        if kind == "money" and value is not None:
            return f"{value:.{currency.minor_unit}f}"
        return _boolean_as_json(value)

    return cell


def _boolean_as_json(value: Any) -> Any:
    """true/false as JSON spells them, in every locale: a flag, not words to translate."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _localized_cell(babel_locale: str, currency: Currency | None) -> Callable[[Any, str], Any]:
    from babel.dates import format_date
    from babel.numbers import format_decimal

    money = "0" + _decimals(currency) if currency else None  # no grouping, as for numbers

    def cell(value: Any, kind: str) -> Any:
        if value is None or isinstance(value, bool):
            return _boolean_as_json(value)
        if kind == "date":  # CLDR's medium date: dd.MM.y in German
            return format_date(date.fromisoformat(value), "medium", locale=babel_locale)
        if kind == "money":  # already rounded: the pattern only fixes the digits shown
            return format_decimal(value, money, locale=babel_locale)
        if is_number(value):  # every digit kept; no grouping, which other readers misparse
            return format_decimal(
                value, locale=babel_locale, group_separator=False, decimal_quantization=False
            )
        return value

    return cell


def as_xlsx(result: Table, locale: DownloadLocale) -> Download:
    """One sheet named after the table: a header row of its columns, then typed cells (numbers
    as numbers, dates as dates shown in the locale's format), so Excel can sum and sort."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(result.name[:31])  # Excel's limit on a sheet's name
    sheet.write_row(0, 0, [c["name"] for c in result.columns], workbook.add_format({"bold": True}))
    sheet.freeze_panes(1, 0)
    dates = workbook.add_format({"num_format": locale.excel_date})
    money = result.currency and workbook.add_format(
        {"num_format": excel_money_format(locale, result.currency)}
    )
    kinds = [column["type"] for column in result.columns]
    for r, row in enumerate(result.rows, start=1):
        for c, (value, kind) in enumerate(zip(row, kinds, strict=True)):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif kind == "date":
                sheet.write_datetime(r, c, date.fromisoformat(value), dates)
            elif kind == "money":
                sheet.write_number(r, c, value, money)
            elif is_number(value):
                sheet.write_number(r, c, value)
            else:  # never a formula, whatever the text starts with
                sheet.write_string(r, c, str(value))
    sheet.autofit()
    workbook.close()
    return Download(buffer.getvalue(), XLSX, result.file_name("xlsx"))


def excel_money_format(locale: DownloadLocale, currency: Currency) -> str:
    """The currency's symbol in the locale and every minor-unit digit, e.g. '#,##0.00 [$€-407]'
    (de-DE, EUR) or '[$$-409]#,##0.00' (en-US, USD); Excel shows grouping and decimal marks as
    the reader's own settings say."""
    from babel.numbers import get_currency_symbol

    symbol = get_currency_symbol(currency.code, locale.symbols)
    return locale.excel_money.format(symbol=symbol, amount="#,##0" + _decimals(currency))
