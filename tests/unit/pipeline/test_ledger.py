"""The run ledger read back from the artifact store: run lists, one run, the previous validation."""

import pytest

from common.pipeline.ledger import STAGES, Ledger
from common.runs import run_key

OLDEST = "20261121T050000Z-build"
REJECTED = "20261122T050000Z-build"
BUILDING = "20261123T050000Z-build"
RETRAIN = "20261123T051233Z-retrain-ab12cd34"


def timed(status, day, start, finish, **fields):
    """A stage record with its timings (minutes past 05:00 UTC on 2026-11-<day>)."""
    return {
        "status": status,
        "started_at": f"2026-11-{day}T05:{start:02d}:00+00:00",
        "finished_at": f"2026-11-{day}T05:{finish:02d}:00+00:00",
        "seconds": (finish - start) * 60.0,
        **fields,
    }


RECORDS = {
    OLDEST: {
        "build": timed("success", 21, 0, 4, attempt=1, summary={"models": {"passed": 11}}),
        "validation": timed("validated", 21, 4, 5, run_id=OLDEST, row_counts={"funnel": 1000}),
        "training": timed("promoted", 21, 5, 9, version="v1"),
    },
    REJECTED: {
        "build": timed("success", 22, 0, 4, attempt=2),
        "validation": timed("rejected", 22, 4, 5, run_id=REJECTED, row_counts={"funnel": 9}),
    },
    BUILDING: {
        "build": {"status": "running", "attempt": 1, "started_at": "2026-11-23T05:00:07+00:00"},
    },
    RETRAIN: {"training": timed("rejected", 23, 12, 16, version="v2")},
}


@pytest.fixture
def ledger(store):
    for run_id, stages in RECORDS.items():
        for stage, record in stages.items():
            store.put_json(run_key(run_id, STAGES[stage]), record)
    store.put_json(run_key(OLDEST, "run_results.json"), {"results": []})  # not a stage
    store.put_json("models/conversion/LATEST", {"version": "v1"})  # outside runs/
    return Ledger(store)


def test_run_ids_are_every_run_oldest_first(ledger):
    assert ledger.run_ids() == [OLDEST, REJECTED, BUILDING, RETRAIN]


def test_runs_newest_first_with_stages_reduced(ledger):
    runs = ledger.runs(10)
    assert [r["run_id"] for r in runs] == [RETRAIN, BUILDING, REJECTED, OLDEST]
    oldest = runs[-1]
    assert oldest["stage"] == "training" and oldest["status"] == "promoted"
    assert oldest["started_at"] == "2026-11-21T05:00:00+00:00"
    assert oldest["stages"] == {
        stage: {
            "status": record["status"],
            "started_at": record["started_at"],
            "finished_at": record["finished_at"],
            "seconds": record["seconds"],
        }
        for stage, record in RECORDS[OLDEST].items()
    }
    assert runs[1]["stages"] == {
        "build": {
            "status": "running",
            "started_at": "2026-11-23T05:00:07+00:00",
            "finished_at": None,
            "seconds": None,
        }
    }


@pytest.mark.parametrize(("limit", "count"), [(0, 0), (1, 1), (3, 3), (4, 4), (50, 4)])
def test_runs_limit(ledger, limit, count):
    runs = ledger.runs(limit)
    assert [r["run_id"] for r in runs] == [RETRAIN, BUILDING, REJECTED, OLDEST][:count]


def test_runs_of_an_empty_store(store):
    assert Ledger(store).runs(10) == []


@pytest.mark.parametrize(
    ("run_id", "stage", "status", "started_at"),
    [
        (OLDEST, "training", "promoted", "2026-11-21T05:00:00+00:00"),
        (REJECTED, "validation", "rejected", "2026-11-22T05:00:00+00:00"),
        (BUILDING, "build", "running", "2026-11-23T05:00:07+00:00"),
        (RETRAIN, "training", "rejected", "2026-11-23T05:12:00+00:00"),
    ],
)
def test_run_returns_the_full_records(ledger, run_id, stage, status, started_at):
    """The stage is the last one present (build → validation → training), and its status."""
    run = ledger.run(run_id)
    assert run == {
        "run_id": run_id,
        "stage": stage,
        "status": status,
        "started_at": started_at,
        "stages": RECORDS[run_id],
    }
    assert list(run["stages"]) == [s for s in STAGES if s in RECORDS[run_id]]


def test_unknown_run_is_none(ledger):
    assert ledger.run("20261124T050000Z-build") is None
    assert ledger.stage(OLDEST, "sources.json") is None


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [
        (BUILDING, OLDEST),  # skips the rejected run in between
        (REJECTED, OLDEST),
        ("20261130T050000Z-build", OLDEST),  # runs without a report are skipped too
        (OLDEST, None),  # its own report and later ones do not count
        ("20261101T050000Z-build", None),
    ],
)
def test_previous_validation(ledger, run_id, expected):
    report = ledger.previous_validation(run_id)
    if expected is None:
        assert report is None
    else:
        assert report == RECORDS[expected]["validation"]
        assert report["row_counts"] == {"funnel": 1000}


def test_previous_validation_takes_the_newest_validated(ledger, store):
    newer = "20261122T170000Z-build"
    store.put_json(run_key(newer, STAGES["validation"]), timed("validated", 22, 0, 1, run_id=newer))
    assert ledger.previous_validation(BUILDING)["run_id"] == newer
    assert ledger.previous_validation(newer)["run_id"] == OLDEST
