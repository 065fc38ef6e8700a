"""What the report tests share: the PDF's text as a reader sees it, the week's KPIs as the API
answers them and how a weekly report must say them, and the stored report the description's
examples name (GET /reports/{report_id}), so that the worked example of a download has
something to download."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader

from common.artifacts.local import LocalArtifactStore
from common.reports.store import PREFIX
from tests.support.openapi import operations, worked_example

# The smallest document a PDF reader opens: the download's bytes are not what is checked here.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed_report_example(document: dict[str, Any], artifact_dir: str) -> None:
    [listing] = [op for op in operations(document) if (op.method, op.path) == ("GET", "/reports")]
    [report] = worked_example(document, listing).response["reports"]
    store = LocalArtifactStore(artifact_dir)
    described = {k: v for k, v in report.items() if k != "url"}
    store.put(PREFIX + report["report_id"] + ".pdf", TINY_PDF, content_type="application/pdf")
    store.put_json(PREFIX + report["report_id"] + ".json", {**described, "size": len(TINY_PDF)})


def text_of(document: bytes) -> str:
    """The PDF's text, blanks (a no-break space before € or %) made plain spaces."""
    reader = PdfReader(io.BytesIO(document))
    assert len(reader.pages) == 1, "a report is one page"
    return re.sub(r"\s+", " ", reader.pages[0].extract_text().replace("\xa0", " "))


def german(value: float, digits: int = 2) -> str:
    """1234.5 → 1.234,50, written without Babel (the code under test uses it)."""
    return f"{value:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def p_clause(p: float, in_german: bool) -> str:
    """p as the reports write it in a sentence: three decimals, or "p < 0.001"."""
    if p < 0.001:
        return "p < 0,001" if in_german else "p < 0.001"
    return f"p = {german(p, 3) if in_german else f'{p:.3f}'}"


def last_complete_weeks(kpi_client) -> tuple[dict, dict]:
    """The week before and the last complete week of GET /kpi/revenue?grain=week."""
    answer = kpi_client.get("/kpi/revenue?grain=week").get_json()
    names = [c["name"] for c in answer["columns"]]
    weeks = [dict(zip(names, row, strict=True)) for row in answer["rows"]]
    before, week = [w for w in weeks if w["complete"]][-2:]
    return before, week


def says_the_weeks_kpis_in_english(text: str, before: dict, week: dict) -> None:
    """A weekly report in en-US with EUR as the currency."""
    assert f"€{week['revenue']:,.2f}" in text and f"€{before['revenue']:,.2f}" in text
    assert f"Orders {week['orders']:,} {before['orders']:,}" in text
    change = (week["revenue"] - before["revenue"]) / before["revenue"] * 100
    assert f"{change:+.2f}%" in text
    assert "Champion" in text and "ROC-AUC" in text


def says_the_weeks_kpis_in_german(text: str, week: dict) -> None:
    """A weekly report in de-DE with EUR as the currency."""
    assert f"{german(week['revenue'])} €" in text  # 1.234,56 €
    assert f"Bestellungen {german(week['orders'], 0)}" in text
    monday = week["period"]
    assert f"Kennzahlen der Woche {monday[8:10]}.{monday[5:7]}.{monday[:4]}" in text  # DD.MM.YYYY
    assert "Modellzustand" in text and "Umsatz" in text
