"""The stored report the description's examples name (GET /reports/{report_id}), so that the
worked example of a download has something to download."""

from __future__ import annotations

from typing import Any

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
