"""The run ledger's list (GET /pipeline/runs) as the table a person reads in a spreadsheet: one
row per run, newest first, with the stage it reached and its status, then each stage's status,
start, end and seconds side by side (empty where the run has not reached the stage).

Built from the JSON answer itself: the file and the JSON of the same request agree cell for
cell. Times stay ISO 8601 text with their offset, as the JSON carries them: a spreadsheet's
date cells would drop the offset."""

from __future__ import annotations

from typing import Any

from common.downloads import Table
from common.pipeline.ledger import STAGES

RUN_COLUMNS = (
    ("run_id", "string"),
    ("stage", "string"),
    ("status", "string"),
    ("started_at", "string"),
)
STAGE_COLUMNS = (
    ("status", "string"),
    ("started_at", "string"),
    ("finished_at", "string"),
    ("seconds", "number"),
)


def runs_table(runs: list[dict[str, Any]]) -> Table:
    """``runs``: Ledger.runs' answer (each stage reduced to status and timings)."""
    columns = [{"name": n, "type": t} for n, t in RUN_COLUMNS] + [
        {"name": f"{stage}_{n}", "type": t} for stage in STAGES for n, t in STAGE_COLUMNS
    ]
    rows = [
        [run[n] for n, _ in RUN_COLUMNS]
        + [run["stages"].get(stage, {}).get(n) for stage in STAGES for n, _ in STAGE_COLUMNS]
        for run in runs
    ]
    return Table("pipeline_runs", columns, rows, "pipeline_runs")
