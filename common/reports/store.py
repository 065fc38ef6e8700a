"""Reports kept as artifacts (a local folder locally, the bucket in production):

    reports/<report_id>.pdf    the document, written once
    reports/<report_id>.json   what the list shows: name, kind, subject, locale, created, size
    reports/scheduled/<kind>_<subject>_<locale>.json
                               the report the schedule made for that subject (week) and locale

Every generation is a new version under a new id (its UTC creation time first, so ids sort by
age) and is never overwritten: last week's report stays as it was sent. The PDF is written
before its description, so a listed report can always be downloaded."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from common.artifacts import MUST_NOT_EXIST, ArtifactNotFound, ArtifactStore, PreconditionFailed
from common.errors import NotFound
from common.validation import run_id

log = logging.getLogger(__name__)

PREFIX = "reports/"
SCHEDULED = PREFIX + "scheduled/"
LIST_LIMIT = 200  # newest first
Kind = Literal["experiment", "weekly"]
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # file names need no escaping in Content-Disposition


class ReportNotFound(NotFound):
    code = "report_not_found"
    field = "report_id"


@dataclass(frozen=True)
class StoredReport:
    report_id: str
    name: str  # the file name a download gets
    kind: Kind
    subject: str  # the experiment's id, or the ISO week (2026-W48)
    locale: str
    created: str  # ISO instant, UTC
    size: int  # bytes

    @property
    def url(self) -> str:
        return f"/reports/{self.report_id}"

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "url": self.url}


class ReportStore:
    def __init__(self, artifacts: ArtifactStore):
        self.artifacts = artifacts

    def save(
        self, kind: Kind, subject: str, locale: str, pdf: bytes, created: datetime
    ) -> StoredReport:
        report_id = f"{created:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"  # µs: ids sort by age
        name = f"{kind}_{_UNSAFE.sub('_', subject)}_{locale}_{created:%Y%m%dT%H%M%S}Z.pdf"
        report = StoredReport(report_id, name, kind, subject, locale, created.isoformat(), len(pdf))
        base = PREFIX + report_id
        self.artifacts.put(
            base + ".pdf", pdf, content_type="application/pdf", if_version=MUST_NOT_EXIST
        )
        self.artifacts.put_json(base + ".json", asdict(report), if_version=MUST_NOT_EXIST)
        return report

    def scheduled(self, kind: Kind, subject: str, locale: str) -> StoredReport | None:
        """The report the schedule made for ``subject`` in ``locale``, if it made one."""
        try:
            return StoredReport(**self.artifacts.get_json(_scheduled_key(kind, subject, locale)))
        except ArtifactNotFound:
            return None

    def mark_scheduled(self, report: StoredReport) -> None:
        """Record ``report`` as the schedule's for its subject and locale (written after the
        report itself, so a marked report always exists)."""
        key = _scheduled_key(report.kind, report.subject, report.locale)
        try:
            self.artifacts.put_json(key, asdict(report), if_version=MUST_NOT_EXIST)
        except PreconditionFailed:  # a concurrent delivery marked its own first: that one stays
            log.warning("report %s made after %s was marked", report.report_id, key)

    def listed(self) -> list[StoredReport]:
        keys = [
            k
            for k in self.artifacts.list(PREFIX)
            if k.endswith(".json") and "/" not in k.removeprefix(PREFIX)  # not the marks
        ]
        return [
            StoredReport(**self.artifacts.get_json(key))
            for key in sorted(keys, reverse=True)[:LIST_LIMIT]
        ]

    def document(self, report_id: str) -> tuple[StoredReport, bytes]:
        """The report's description and PDF; ReportNotFound (404) for an unknown id."""
        base = PREFIX + run_id(report_id, "report_id")
        try:
            report = StoredReport(**self.artifacts.get_json(base + ".json"))
            return report, self.artifacts.get(base + ".pdf").data
        except ArtifactNotFound:
            raise ReportNotFound(f"no report {report_id!r}") from None


def _scheduled_key(kind: Kind, subject: str, locale: str) -> str:
    return f"{SCHEDULED}{kind}_{_UNSAFE.sub('_', subject)}_{locale}.json"
