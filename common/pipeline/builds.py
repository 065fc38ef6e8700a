"""One dbt build per schedule slot, and the compact summary of what dbt did.

A slot is the minute a build was scheduled for: Cloud Scheduler's retries of one tick carry the
same schedule time, so they map to the same run id and the claim below lets only one of them
build. The claim ``runs/<run_id>/build.json`` is created once (create-only write) with a lease:

- finished (success, fail or error): later requests get the recorded outcome, nothing runs;
- running and within its lease: a build is in progress, the caller should come back later;
- running past its lease (the process died) or interrupted (an attempt raised): the next request
  takes it over with a compare-and-swap, so two takers cannot both build.
"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from common.artifacts import MUST_NOT_EXIST, ArtifactStore, PreconditionFailed
from common.errors import Conflict
from common.pipeline.ledger import BUILD, run_key

FINISHED = frozenset({"success", "fail", "error"})
_FAILED_NODES_SHOWN = 20
# dbt's node statuses, grouped the way the summary reports them
_PASSED = frozenset({"success", "pass"})
_FAILED = frozenset({"error", "fail", "runtime error"})


class BuildInProgress(Conflict):
    """Another request is building this slot right now."""

    code = "build_in_progress"


class LeaseLost(Conflict):
    """The build outlived its lease and another request took the slot over."""

    code = "build_in_progress"  # to the client: the slot is someone else's build now


def slot_of(scheduled_at: datetime) -> datetime:
    return scheduled_at.astimezone(UTC).replace(second=0, microsecond=0)


def build_run_id(slot: datetime) -> str:
    return f"{slot:%Y%m%dT%H%M%S}Z-build"


@dataclass(frozen=True)
class Claim:
    run_id: str
    record: dict[str, Any]
    version: str  # of build.json, for the compare-and-swap that finishes the build

    @property
    def key(self) -> str:
        return run_key(self.run_id, BUILD)


def claim_build(
    store: ArtifactStore, run_id: str, details: dict[str, Any], lease: timedelta, now: datetime
) -> Claim | dict[str, Any]:
    """A claim to build ``run_id``, or the record of the build that already finished."""
    key = run_key(run_id, BUILD)
    record = {
        **details,
        "run_id": run_id,
        "status": "running",
        "attempt": 1,
        "started_at": now.isoformat(),
        "lease_until": (now + lease).isoformat(),
    }
    try:
        return Claim(run_id, record, store.put_json(key, record, if_version=MUST_NOT_EXIST))
    except PreconditionFailed:
        pass
    blob = store.get(key)
    current = json.loads(blob.data)
    if current["status"] in FINISHED:
        return current
    if current["status"] == "running" and now < datetime.fromisoformat(current["lease_until"]):
        raise BuildInProgress(f"run {run_id} has been building since {current['started_at']}")
    record["attempt"] = current.get("attempt", 1) + 1
    record["previous_attempt"] = {k: current.get(k) for k in ("status", "started_at", "error")}
    try:
        return Claim(run_id, record, store.put_json(key, record, if_version=blob.version))
    except PreconditionFailed:
        raise BuildInProgress(f"run {run_id} was taken over concurrently") from None


def finish_build(
    store: ArtifactStore, claim: Claim, summary: dict[str, Any], now: datetime
) -> dict[str, Any]:
    started = datetime.fromisoformat(claim.record["started_at"])
    record = {
        **claim.record,
        "status": summary["status"],
        "finished_at": now.isoformat(),
        "seconds": round((now - started).total_seconds(), 2),
        "summary": summary,
    }
    record.pop("lease_until")
    try:
        store.put_json(claim.key, record, if_version=claim.version)
    except PreconditionFailed:
        raise LeaseLost(f"run {claim.run_id} was taken over while it built") from None
    return record


def interrupt_build(store: ArtifactStore, claim: Claim, error: str, now: datetime) -> None:
    """Mark an attempt that raised, so that the next request retries at once."""
    record = {**claim.record, "status": "interrupted", "error": error, "failed_at": now.isoformat()}
    with suppress(PreconditionFailed):  # already taken over: the taker's record stands
        store.put_json(claim.key, record, if_version=claim.version)


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
