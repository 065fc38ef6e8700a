"""The locales KPI downloads (CSV, XLSX) are formatted for. JSON is locale-free.

en-US keeps the machine format CSV has always had (``,``, ``.``, ISO dates) so that scripts
reading it keep working; de-DE is what German Excel opens without an import dialog: ``;``
between fields (its list separator, since the comma is the decimal mark), a UTF-8 byte order
mark (without it Excel reads the file as Windows-1252), and numbers and dates as Babel formats
them from CLDR. Money has all its minor-unit digits in both (``12.50``, ``12,50``); in XLSX it is
a number cell in the locale's currency format (symbol from CLDR, Excel's locale id for where
the symbol goes)."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import LanguageAccept

from common.validation import choice


@dataclass(frozen=True)
class DownloadLocale:
    tag: str  # BCP 47, as clients send it
    babel: str | None  # Babel's locale for numbers and dates; None: the machine format
    delimiter: str  # between CSV fields
    bom: bool  # a UTF-8 byte order mark before the CSV
    excel_date: str  # the XLSX date cells' number format
    symbols: str  # Babel's locale naming currency symbols ($, €)
    # The XLSX money cells' number format: {symbol} and {amount} (#,##0.00) filled in.
    excel_money: str


LOCALES = {
    locale.tag: locale
    for locale in (
        DownloadLocale("en-US", None, ",", False, "yyyy-mm-dd", "en_US", "[${symbol}-409]{amount}"),
        DownloadLocale(
            "de-DE", "de_DE", ";", True, "dd.mm.yyyy", "de_DE", "{amount} [${symbol}-407]"
        ),
    )
}
DEFAULT_LOCALE = LOCALES["en-US"]


def choose_locale(requested: str | None, accepted: LanguageAccept) -> DownloadLocale:
    """The ``locale`` query parameter (validated), else the best ``Accept-Language`` match
    (werkzeug's: ``de`` matches de-DE; ``de-AT`` does so only if nothing else accepted
    matches), else en-US: a header is a preference, never an error."""
    if requested is not None:
        return LOCALES[choice(requested, "locale", tuple(LOCALES))]
    return LOCALES.get(accepted.best_match(tuple(LOCALES)), DEFAULT_LOCALE)
