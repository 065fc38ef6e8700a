"""Numbers, money, percentages and dates as a report's reader expects them, from CLDR through
Babel: ``1,234.56`` and ``Dec 7, 2026`` in English, ``1.234,56 €`` and ``07.12.2026`` in German.
Values are the API's own (already rounded money, the engine's p-values); only their spelling
changes here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

MISSING = "\u2013"  # an en dash: an undefined value (the API's null)
P_FLOOR = 0.001  # smaller p-values are written "< 0.001", as the API's summaries do
DATE_FORMATS = {"en-US": "MMM d, yyyy", "de-DE": "dd.MM.yyyy"}


@dataclass(frozen=True)
class Formats:
    locale_tag: str  # en-US or de-DE
    babel: str  # Babel's locale
    currency: str  # ISO 4217 code (EXECKPI_CURRENCY)
    time_zone: str  # IANA zone the instants are shown in (EXECKPI_TIME_ZONE)

    def money(self, amount: float | None) -> str:
        from babel.numbers import format_currency

        return (
            MISSING if amount is None else format_currency(amount, self.currency, locale=self.babel)
        )

    def count(self, value: float | None) -> str:
        from babel.numbers import format_decimal

        return MISSING if value is None else format_decimal(value, "#,##0", locale=self.babel)

    def number(self, value: float | None, digits: int = 4) -> str:
        """A statistic (a mean, an absolute lift) with up to ``digits`` decimals."""
        from babel.numbers import format_decimal

        pattern = "#,##0." + "#" * digits
        return MISSING if value is None else format_decimal(value, pattern, locale=self.babel)

    def p_value(self, value: float | None) -> str:
        """As the dashboard writes p: three decimals, or < 0.001 (never a bare 0.0000)."""
        from babel.numbers import format_decimal

        if value is None:
            return MISSING
        if value < P_FLOOR:
            return f"< {format_decimal(P_FLOOR, '0.000', locale=self.babel)}"
        return format_decimal(value, "0.000", locale=self.babel)

    def p_clause(self, value: float | None) -> str:
        """p in a sentence: "p = 0.042", "p < 0.001"."""
        shown = self.p_value(value)
        return f"p {shown}" if shown.startswith("<") else f"p = {shown}"

    def percent(self, ratio: float | None, signed: bool = False) -> str:
        """0.0523 → 5.23% (en) / 5,23 % (de): the locale's own percent pattern (CLDR's, where
        German puts a no-break space before %) with two decimals; ``signed`` adds + to gains
        (a change, a lift)."""
        from babel import Locale
        from babel.numbers import format_percent

        if ratio is None:
            return MISSING
        pattern = Locale.parse(self.babel).percent_formats[None].pattern
        pattern = pattern.replace("#,##0", "#,##0.00")
        if signed:
            pattern = f"+{pattern};-{pattern}"
        return format_percent(ratio, pattern, locale=self.babel)

    def day(self, value: date | str | None) -> str:
        from babel.dates import format_date

        if value is None:
            return MISSING
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, DATE_FORMATS[self.locale_tag], locale=self.babel)

    def instant(self, value: datetime) -> str:
        """An aware instant as the day and minute in the reporting time zone."""
        local = value.astimezone(ZoneInfo(self.time_zone))
        return f"{self.day(local.date())} {local:%H:%M}"
