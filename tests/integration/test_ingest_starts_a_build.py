"""An ingested batch starts a build: ingest → data-ingested on the local bus → dbt_build (real dbt
on a copy of the generated warehouse), whose run says why it ran and whose staging has the row.
The coalescing itself is tested on its own in tests/unit/pipeline/test_ingest_builds.py."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from common.artifacts.local import LocalArtifactStore
from scripts.local.bus import LocalBus, LocalBusServer
from tests.support.cloud_events import envelope, post_cloud_event

# The generated data ends on 2026-11-01: let dbt's source freshness accept it whatever today is.
FRESHNESS = {"EXECKPI_FRESHNESS_ERROR_DAYS": "3650"}
ORDER_ID = 987_654_321
ORDER = {
    "order_id": ORDER_ID,
    "user_id": 7,
    "status": "Complete",
    "gender": "F",
    "created_at": "2025-01-02T03:04:05Z",
    "shipped_at": "2025-01-03T00:00:00Z",
    "delivered_at": "2025-01-04T00:00:00Z",
    "num_of_item": 2,
}


@pytest.fixture
def warehouse(generated_warehouse, tmp_path):
    """A private copy: dbt_build replaces the file it builds."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, path)
    return path


def test_an_ingested_batch_is_built_by_the_build_its_event_starts(
    function_client, tmp_path, warehouse
):
    bus = LocalBusServer(LocalBus(max_attempts=1)).start()
    settings = {
        "EXECKPI_DUCKDB_PATH": str(warehouse),
        "EXECKPI_ARTIFACT_DIR": str(tmp_path / "artifacts"),
        "EXECKPI_LOCAL_BUS_URL": bus.url,
        **FRESHNESS,
    }
    ingest = function_client("ingest", **settings)
    dbt_build = function_client("dbt_build", **settings)
    answers, completed = [], []
    bus.bus.subscribe("data-ingested", lambda ce: answers.append(post_cloud_event(dbt_build, ce)))
    bus.bus.subscribe("dbt-build-completed", lambda ce: completed.append(envelope(ce)))
    try:
        batch = ingest.post("/ingest/orders", json={"rows": [ORDER]}).get_json()
        assert batch["accepted"] == 1, batch
        assert bus.wait_idle(900)
    finally:
        bus.stop()

    assert answers == [200]
    (event,) = completed
    assert event.run_id.endswith("Z-ingest") and event.payload["status"] == "success"
    run = dbt_build.get(f"/pipeline/runs/{event.run_id}").get_json()
    trigger = run["stages"]["build"]["trigger"]
    assert (trigger["kind"], trigger["batch_ids"], trigger["tables"]) == (
        "data-ingested",
        [batch["batch_id"]],
        {"orders": 1},
    )
    assert LocalArtifactStore(tmp_path / "artifacts").list("builds/pending/") == []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (schema,) = con.execute(
            "select table_schema from information_schema.tables"
            " where table_name = 'stg_thelook__orders'"
        ).fetchone()
        rows = con.execute(
            f"select status from {schema}.stg_thelook__orders where order_id = ?", [ORDER_ID]
        ).fetchall()
    assert rows == [("Complete",)]
