"""A table (a KPI's answer, an experiment's results) as a file to download: CSV or an Excel
workbook, formatted for a locale, under a name that says what it holds
(``revenue_2026-09-04_2026-12-02.csv``).

Babel and xlsxwriter are imported here on first use only: most requests want JSON, and a
function instance should not pay their import on every cold start."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.locales import DownloadLocale
from common.validation import is_number

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Table:
    """Rows under named, typed columns (``{"name", "type"}``; types as a KPI's: date, number,
    integer, boolean, string, ...), the sheet's name and the file's name without extension."""

    name: str
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    file_stem: str

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
    if locale.babel is None:
        writer.writerows([[_boolean_as_json(v) for v in row] for row in result.rows])
    else:
        cell = _localized_cell(locale.babel)
        kinds = [column["type"] for column in result.columns]
        for row in result.rows:
            writer.writerow([cell(v, k) for v, k in zip(row, kinds, strict=True)])
    return Download(buffer.getvalue().encode("utf-8"), CSV, result.file_name("csv"))


def _boolean_as_json(value: Any) -> Any:
    """true/false as JSON spells them, in every locale: a flag, not words to translate."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _localized_cell(babel_locale: str) -> Callable[[Any, str], Any]:
    from babel.dates import format_date
    from babel.numbers import format_decimal

    def cell(value: Any, kind: str) -> Any:
        if value is None or isinstance(value, bool):
            return _boolean_as_json(value)
        if kind == "date":  # CLDR's medium date: dd.MM.y in German
            return format_date(date.fromisoformat(value), "medium", locale=babel_locale)
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
    kinds = [column["type"] for column in result.columns]
    for r, row in enumerate(result.rows, start=1):
        for c, (value, kind) in enumerate(zip(row, kinds, strict=True)):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif kind == "date":
                sheet.write_datetime(r, c, date.fromisoformat(value), dates)
            elif is_number(value):
                sheet.write_number(r, c, value)
            else:  # never a formula, whatever the text starts with
                sheet.write_string(r, c, str(value))
    sheet.autofit()
    workbook.close()
    return Download(buffer.getvalue(), XLSX, result.file_name("xlsx"))
