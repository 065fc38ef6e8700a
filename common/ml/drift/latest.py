"""The champion's drift as the newest validation measured it, for ``GET /ml/latest``.

Serving reads the number validation recorded rather than measuring again: the model function
neither reads the warehouse nor scores a sample per request, and the page shows what the
pipeline judged. A newer champion than the one measured has no drift to show until the next
build is validated.
"""

from __future__ import annotations

from typing import Any

from common.pipeline.ledger import Ledger

GATE = "drift"


def champion_drift(ledger: Ledger, version: str) -> dict[str, Any] | None:
    """The newest validation report's drift numbers if they measured ``version``, else None."""
    report = ledger.newest_validation()
    if report is None:
        return None
    found = [g for g in report["gates"] if g["name"] == GATE]
    if not found or not found[0]["numbers"].get("measured"):
        return None
    gate = found[0]
    if gate["numbers"]["model_version"] != version:
        return None
    return {
        "run_id": report["run_id"],
        "measured_at": report["finished_at"],
        "passed": gate["passed"],
        "message": gate["message"],
        **{k: v for k, v in gate["numbers"].items() if k != "measured"},
    }
