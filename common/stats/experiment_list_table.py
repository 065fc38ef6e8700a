"""The experiment list (GET /ab/experiments) as the table a person reads in a spreadsheet: one
row per experiment and variant, the control first, so that every weight is a number a sheet
can sum; each row repeats its experiment's status, dates and metrics and the day the status is
reckoned on, so that a row read alone (a filtered sheet) still says what it covers.

Built from the JSON answer itself: the file and the JSON of the same request agree cell for
cell."""

from __future__ import annotations

from datetime import date
from typing import Any

from common.downloads import Table

COLUMNS = (
    ("experiment_id", "string"),
    ("status", "string"),
    ("start_date", "date"),
    ("end_date", "date"),  # empty while the experiment runs open-ended
    ("primary_metric", "string"),
    ("other_metrics", "string"),  # comma-separated, as a cell holds one value
    ("variant", "string"),
    ("control", "boolean"),
    ("weight", "number"),
    ("as_of", "date"),
)


def experiment_list_table(listing: dict[str, Any], status: str | None) -> Table:
    """``listing``: experiment_list's answer; ``status``: the filter asked for, which names the
    file with the day (``experiments_finished_2026-12-03.csv``)."""
    as_of = _iso(listing["as_of"])
    rows = [
        [
            e["experiment_id"],
            e["status"],
            _iso(e["start_date"]),
            _iso(e["end_date"]),
            e["primary_metric"],
            ", ".join(e["other_metrics"]),
            v["name"],
            v["control"],
            v["weight"],
            as_of,
        ]
        for e in listing["experiments"]
        for v in e["variants"]
    ]
    stem = "_".join(["experiments", *([status] if status else []), as_of])
    return Table("experiments", [{"name": n, "type": t} for n, t in COLUMNS], rows, stem)


def _iso(day: date | str | None) -> str | None:
    """As the JSON answer carries dates (and a KPI's date cells)."""
    return day.isoformat() if isinstance(day, date) else day
