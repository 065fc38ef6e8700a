"""The run ledger: every stage's record of a run read back (the layout is ``common.runs``'s).

Run ids sort by time, so the newest runs are read without opening the older ones.
"""

from __future__ import annotations

from typing import Any

from common.artifacts import ArtifactNotFound, ArtifactStore
from common.errors import NotFound
from common.runs import BUILD, PREFIX, TRAINING, VALIDATION, run_key

STAGES = {"build": BUILD, "validation": VALIDATION, "training": TRAINING}
# What the run list shows of each stage; GET of one run returns the whole records.
_STAGE_FIELDS = ("status", "started_at", "finished_at", "seconds")


class RunNotFound(NotFound):
    field = "run_id"


class Ledger:
    def __init__(self, store: ArtifactStore):
        self.store = store

    def run_ids(self) -> list[str]:
        """Every run with at least one record, oldest first."""
        return sorted({key[len(PREFIX) :].split("/", 1)[0] for key in self.store.list(PREFIX)})

    def stage(self, run_id: str, name: str) -> dict[str, Any] | None:
        try:
            return self.store.get_json(run_key(run_id, name))
        except ArtifactNotFound:
            return None

    def run(self, run_id: str, *, full: bool = True) -> dict[str, Any] | None:
        """One run: its stages so far and where it stands (None: no such run)."""
        stages = {}
        for stage, name in STAGES.items():
            record = self.stage(run_id, name)
            if record is not None:
                stages[stage] = record if full else {k: record.get(k) for k in _STAGE_FIELDS}
        if not stages:
            return None
        last = list(stages)[-1]
        return {
            "run_id": run_id,
            "stage": last,
            "status": stages[last]["status"],
            "started_at": next(iter(stages.values())).get("started_at"),
            "stages": stages,
        }

    def runs(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` runs, newest first, each stage reduced to status and timings."""
        runs: list[dict[str, Any]] = []
        for run_id in reversed(self.run_ids()):
            if len(runs) == limit:
                break
            if (run := self.run(run_id, full=False)) is not None:
                runs.append(run)
        return runs

    def newest_validation(self) -> dict[str, Any] | None:
        """The newest validation report, validated or rejected."""
        for run_id in reversed(self.run_ids()):
            report = self.stage(run_id, VALIDATION)
            if report is not None:
                return report
        return None

    def previous_validation(self, run_id: str) -> dict[str, Any] | None:
        """The validation report of the newest build run before ``run_id`` that passed."""
        earlier = [r for r in self.run_ids() if r < run_id]
        for candidate in reversed(earlier):
            report = self.stage(candidate, VALIDATION)
            if report is not None and report.get("status") == "validated":
                return report
        return None
