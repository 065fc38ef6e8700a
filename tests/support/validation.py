"""Running validate in the function tests: hand-built build summaries pushed as CloudEvents,
the report and verdict read back, and private copies of the warehouse tampered with as a build
would replace them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from common.artifacts.local import LocalArtifactStore
from common.events.envelope import Event
from common.pipeline.ledger import VALIDATION, run_key
from common.warehouse.duckdb_engine import DuckDBWarehouse
from tests.support.cloud_events import published, push

MARTS = "execkpi_marts"
# recs_carousel runs 2026-10-01..2026-10-28 (dbt_project/seeds/initial_experiments.csv); the
# other two experiments ended before these days, so the SRM gate checks recs_carousel alone.
SLOT = "2026-10-15T05:00:00+00:00"
RUN_ID = "20261015T050000Z-build"


def tamper(path: Path, *statements: str) -> str:
    """Run ``statements`` on a copy of ``path`` and rename the copy into place, as a build does
    (validate may hold the file open read-only). Returns the new data version.

    Read the tampered file only once validate has reopened it: DuckDB shares one database
    instance per path within a process, so a connection opened while validate still holds the
    replaced file would read the old data."""
    scratch = path.with_name(path.name + ".tampering")
    shutil.copyfile(path, scratch)
    with duckdb.connect(str(scratch)) as con:
        for statement in statements:
            con.execute(statement)
    os.replace(scratch, path)
    return DuckDBWarehouse(path).data_version()


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def build_summary(warehouse_path: Path, slot: str = SLOT, **overrides) -> dict:
    """The dbt-build-completed payload as dbt_build publishes it for a successful build."""
    summary = {
        "status": "success",
        "models": {"passed": 42},
        "tests": {"passed": 180},
        "seeds": {"passed": 1},
        "failed_nodes": [],
        "dbt_seconds": 12.5,
        "freshness": {
            "thelook.orders": {
                "status": "pass",
                "max_loaded_at": "2026-11-01T00:00:00",
                "age_hours": 1.0,
            }
        },
        "data_version": DuckDBWarehouse(warehouse_path).data_version(),
        "slot": slot,
        "seconds": 14.0,
    }
    return {**summary, **overrides}


def completed(run_id: str, payload: dict) -> Event:
    return Event.for_run("dbt-build-completed", "dbt_build", run_id, payload)


def gate(report: dict, name: str) -> dict:
    (found,) = [g for g in report["gates"] if g["name"] == name]
    return found


def judge(client, store: LocalArtifactStore, bus, run_id: str, payload: dict) -> tuple[dict, Event]:
    """Push one build, return its report and the single verdict published for it."""
    before = len(published(bus))
    assert push(client, completed(run_id, payload)) == 200
    report = store.get_json(run_key(run_id, VALIDATION))
    verdicts = published(bus)[before:]
    assert len(verdicts) == 1, verdicts
    assert verdicts[0].run_id == run_id
    return report, verdicts[0]
