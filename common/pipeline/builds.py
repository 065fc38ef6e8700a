"""One dbt build per schedule slot, and the compact summary of what dbt did.

A slot is the minute a build was scheduled for: Cloud Scheduler's retries of one tick carry the
same schedule time, so they map to the same run id, and the run's claim on ``build.json``
(``common.runs``) lets only one of them build.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

_FAILED_NODES_SHOWN = 20
# dbt's node statuses, grouped the way the summary reports them
_PASSED = frozenset({"success", "pass"})
_FAILED = frozenset({"error", "fail", "runtime error"})


def slot_of(scheduled_at: datetime) -> datetime:
    return scheduled_at.astimezone(UTC).replace(second=0, microsecond=0)


def build_run_id(slot: datetime) -> str:
    return f"{slot:%Y%m%dT%H%M%S}Z-build"


def summarize(
    run_results: dict[str, Any], sources: dict[str, Any] | None, data_version: str
) -> dict[str, Any]:
    """dbt's run results (and source freshness) in a few numbers: what the completion event
    carries and the validation gates read."""
    counts: dict[str, Counter] = {}
    failed = []
    for result in run_results["results"]:
        kind = result["unique_id"].split(".", 1)[0]
        kind = "tests" if kind in ("test", "unit_test") else kind + "s"
        status = result["status"]
        if status in _FAILED:
            failed.append(result["unique_id"])
        group = "passed" if status in _PASSED else "failed" if status in _FAILED else status
        counts.setdefault(kind, Counter())[group] += 1
    statuses = {r["status"] for r in run_results["results"]}
    status = "error" if statuses & {"error", "runtime error"} else "fail" if failed else "success"
    return {
        "status": status,
        **{kind: dict(sorted(c.items())) for kind, c in sorted(counts.items())},
        "failed_nodes": failed[:_FAILED_NODES_SHOWN],
        "dbt_seconds": round(float(run_results.get("elapsed_time", 0.0)), 2),
        "freshness": _freshness(sources),
        "data_version": data_version,
    }


def _freshness(sources: dict[str, Any] | None) -> dict[str, Any]:
    """Per source: dbt's verdict (pass, warn, error, runtime error) and the newest row's age."""
    if sources is None:
        return {}
    verdicts = {}
    for result in sources["results"]:
        name = result["unique_id"].split(".", 2)[-1]  # source.<project>.<source>.<table>
        age = result.get("max_loaded_at_time_ago_in_s")
        verdicts[name] = {
            "status": result["status"],
            "max_loaded_at": result.get("max_loaded_at"),
            "age_hours": None if age is None else round(age / 3600, 1),
        }
    return dict(sorted(verdicts.items()))
