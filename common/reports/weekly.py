"""The weekly executive report, made on request (POST /reports/weekly on the reports function)
or on schedule (the weekly_report function: Cloud Scheduler publishes weekly-report-requested
every Monday, once per language).

On request every call stores a new version. On schedule the report is made once per ISO week
and language: a redelivered or repeated request for a week already reported returns that
week's report instead of a second one (``ReportStore.scheduled``). The check and the making do
not interleave because weekly_report takes one delivery at a time (max_instances 1); only a
crash between storing the report and marking it makes the redelivery store a second version,
which is better than none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from common.kpi.service import KpiService
from common.reports import pdf
from common.reports.content import WeeklyContent, weekly_content
from common.reports.formats import Formats
from common.reports.store import ReportStore, StoredReport

if TYPE_CHECKING:
    from common.backends import Backends
    from common.config import Config
    from common.money import Currency
    from common.reports.texts import ReportLanguage

KIND = "weekly"


@dataclass(frozen=True)
class WeeklyReports:
    kpis: KpiService
    backends: Backends
    marts: str
    time_zone: str
    currency: str  # ISO 4217

    @classmethod
    def configured(cls, config: Config, backends: Backends, currency: Currency) -> WeeklyReports:
        kpis = KpiService.configured(config, backends.warehouse, currency)
        return cls(kpis, backends, config.marts_schema, config.time_zone, currency.code)

    def make(self, language: ReportLanguage, now: datetime) -> StoredReport:
        """A new version of the report of the last complete week."""
        return self._save(self._content(language), language, now)

    def make_once(self, language: ReportLanguage, now: datetime) -> tuple[StoredReport, bool]:
        """The report of the last complete week in ``language`` as the schedule made it, and
        whether this call made it (False: an earlier delivery did)."""
        content = self._content(language)
        reports = ReportStore(self.backends.artifacts)
        made = reports.scheduled(KIND, week_of(content), language.tag)
        if made is not None:
            return made, False
        report = self._save(content, language, now)
        reports.mark_scheduled(report)
        return report, True

    def _content(self, language: ReportLanguage) -> WeeklyContent:
        warehouse, artifacts = self.backends.warehouse, self.backends.artifacts
        return weekly_content(
            self.kpis, warehouse, self.marts, self.time_zone, artifacts, language.words
        )

    def _save(
        self, content: WeeklyContent, language: ReportLanguage, now: datetime
    ) -> StoredReport:
        formats = Formats(language.tag, language.babel, self.currency, self.time_zone)
        document = pdf.weekly_pdf(content, language, formats, now)
        reports = ReportStore(self.backends.artifacts)
        return reports.save(KIND, week_of(content), language.tag, document, now)


def week_of(content: WeeklyContent) -> str:
    """The report's subject: the ISO week it is about (2026-W48)."""
    return content.week.start.strftime("%G-W%V") if content.week else "no-week"
