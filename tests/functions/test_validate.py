"""validate on generated thelook data: a dbt-build-completed CloudEvent runs every quality gate
on the marts, writes runs/<run_id>/validation_report.json and publishes data-validated or
data-rejected. Each gate is made to fail on a private, tampered copy of the warehouse, and the
numbers of the report are checked against the marts read independently here.

The end-to-end chain (real dbt build, failing dbt test, redelivery, crash, expiry) lives in
tests/integration/test_pipeline.py; these tests feed validate hand-built build summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from common.artifacts.local import LocalArtifactStore
from common.events.envelope import Event
from common.marts import SCORED_BY_THE_MODEL
from common.pipeline.ledger import VALIDATION, run_key
from common.warehouse.duckdb_engine import DuckDBWarehouse
from tests.support.cloud_events import published, push
from tests.support.validation import (
    MARTS,
    RUN_ID,
    SLOT,
    build_summary,
    completed,
    gate,
    judge,
    query,
    tamper,
)

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
EARLIER_SLOT, EARLIER_RUN_ID = "2026-10-14T05:00:00+00:00", "20261014T050000Z-build"
LATER_SLOT, LATER_RUN_ID = "2026-10-16T05:00:00+00:00", "20261016T050000Z-build"
GATES = [
    "current_data",
    "dbt_tests",
    "source_freshness",
    "row_counts",
    "features",
    "label_rate",
    "srm",
    "drift",
]


@pytest.fixture
def store(execkpi_env) -> LocalArtifactStore:
    return LocalArtifactStore(execkpi_env["EXECKPI_ARTIFACT_DIR"])


def test_clean_data_passes_every_gate_with_the_numbers_of_the_marts(
    validate_client, generated_warehouse, store, bus
):
    payload = build_summary(generated_warehouse)
    report, verdict = judge(validate_client(generated_warehouse), store, bus, RUN_ID, payload)

    assert report["status"] == "validated" and report["failed_gates"] == []
    assert [g["name"] for g in report["gates"]] == GATES
    assert all(g["passed"] for g in report["gates"])
    assert report["run_id"] == RUN_ID and report["data_version"] == payload["data_version"]
    assert report["thresholds"] == {
        "max_row_drift": 0.25,
        "label_rate_min": 0.001,
        "label_rate_max": 0.5,
        "srm_p": 0.001,
        "psi_warn": 0.1,
        "psi_block": 0.25,
    }

    assert verdict.event_type == "data-validated" and verdict.producer == "validate"
    assert verdict.event_id == Event.for_run("data-validated", "validate", RUN_ID, {}).event_id
    assert verdict.payload == {
        "status": "validated",
        "data_version": payload["data_version"],
        "failed_gates": [],
        "passed_gates": GATES,
        "report": f"runs/{RUN_ID}/validation_report.json",
    }

    # Row counts, counted here one mart at a time: every table dbt built in the marts schema
    # except the seeds (so a new mart cannot be forgotten by the gate).
    tables = query(
        generated_warehouse,
        f"select table_name from information_schema.tables where table_schema = '{MARTS}'",
    )
    served = {name for (name,) in tables} - {seed.stem for seed in SEEDS.glob("*.csv")}
    assert set(report["row_counts"]) == served
    for mart in served:
        ((rows,),) = query(generated_warehouse, f"select count(*) from {MARTS}.{mart}")
        assert report["row_counts"][mart] == rows, mart
        assert rows > 0 or mart in SCORED_BY_THE_MODEL, mart  # no model promoted here yet
    counts = gate(report, "row_counts")["numbers"]
    assert counts["may_be_empty"] == sorted(SCORED_BY_THE_MODEL)
    assert counts["previous_run"] is None  # the first validated run has nothing to compare to
    assert counts["tables"]["funnel"] == {
        "rows": report["row_counts"]["funnel"],
        "previous": None,
        "change": None,
    }

    # Feature ranges and the label rate, from the column values fetched here.
    rows = query(
        generated_warehouse,
        f"select age, monetary, days_since_signup, traffic_share_email, label_purchased "
        f"from {MARTS}.features_conversion",
    )
    age, monetary, days, email, label = (np.array(column) for column in zip(*rows, strict=True))
    features = gate(report, "features")["numbers"]
    assert features["rows"] == len(rows)
    for name, values in [
        ("age", age),
        ("monetary", monetary),
        ("days_since_signup", days),
        ("traffic_share_email", email),
    ]:
        entry = features["features"][name]
        assert entry["nulls"] == 0
        assert entry["min"] == pytest.approx(float(np.min(values)), abs=1e-9), name
        assert entry["max"] == pytest.approx(float(np.max(values)), abs=1e-9), name
    assert features["features"]["age"]["allowed"] == [0, 120]
    assert features["features"]["gender"] == {"nulls": 0}  # categorical: nulls only
    rate = gate(report, "label_rate")["numbers"]
    labels = [int(v) for v in label]
    assert rate["rate"] == pytest.approx(sum(labels) / len(labels), abs=1e-6)
    assert rate["nulls"] == 0 and 0 < rate["rate"] < 0.5

    srm = gate(report, "srm")["numbers"]
    assert list(srm["experiments"]) == ["recs_carousel"]

    # No champion in this store: drift has nothing to compare with (tests/functions/test_drift.py).
    drift = gate(report, "drift")
    assert drift["numbers"] == {
        "measured": False,
        "reason": "no champion yet: nothing to compare with",
        "warn": 0.1,
        "block": 0.25,
    }


@pytest.mark.parametrize(
    ("zone", "running"),
    [("Europe/Berlin", ["recs_carousel"]), ("UTC", ["checkout_one_click", "recs_carousel"])],
)
def test_experiments_run_on_the_slots_day_in_the_reporting_time_zone(
    validate_client, generated_warehouse, store, bus, zone, running
):
    # 22:30 UTC on 12 October is the 13th in Berlin, after checkout_one_click's last day.
    payload = build_summary(generated_warehouse, slot="2026-10-12T22:30:00+00:00")
    client = validate_client(generated_warehouse, EXECKPI_TIME_ZONE=zone)
    report, _ = judge(client, store, bus, RUN_ID, payload)
    assert sorted(gate(report, "srm")["numbers"]["experiments"]) == running


def _assignment_counts(path: Path, experiment: str) -> dict[str, int]:
    rows = query(
        path,
        f"select variant, count(user_id) from {MARTS}.ab_assignments "
        f"where experiment_id = '{experiment}' group by variant",
    )
    return dict(rows)


@pytest.mark.parametrize(
    ("dropped", "srm_p", "rejected"),
    [
        # 20% of ~350 treatment users: p ≈ 0.007, a mismatch at 1% but not at the default 0.1%
        (0.2, "0.001", False),
        (0.2, "0.01", True),
        (0.4, "0.001", True),
    ],
)
def test_a_sample_ratio_mismatch_rejects_the_data(
    validate_client, warehouse_copy, store, bus, dropped, srm_p, rejected
):
    before = _assignment_counts(warehouse_copy, "recs_carousel")
    drop = round(before["treatment"] * dropped)
    data_version = tamper(
        warehouse_copy,
        f"""
        delete from {MARTS}.ab_assignments
        where experiment_id = 'recs_carousel' and user_id in (
            select user_id from {MARTS}.ab_assignments
            where experiment_id = 'recs_carousel' and variant = 'treatment'
            order by user_id limit {drop}
        )
        """,
    )
    counts = _assignment_counts(warehouse_copy, "recs_carousel")
    assert counts == {"control": before["control"], "treatment": before["treatment"] - drop}
    chi_square, p_value = stats.chisquare([counts["control"], counts["treatment"]])

    client = validate_client(warehouse_copy, EXECKPI_VALIDATION_SRM_P=srm_p)
    payload = build_summary(warehouse_copy)
    assert payload["data_version"] == data_version
    report, verdict = judge(client, store, bus, RUN_ID, payload)

    srm = gate(report, "srm")
    carousel = srm["numbers"]["experiments"]["recs_carousel"]
    assert carousel["variants"] == counts
    assert carousel["weights"] == [0.5, 0.5]
    assert carousel["p_value"] == pytest.approx(p_value, rel=1e-6)
    assert carousel["chi_square"] == pytest.approx(chi_square, abs=1e-6)
    assert srm["numbers"]["threshold"] == float(srm_p)
    if rejected:
        assert p_value < float(srm_p)
        assert report["status"] == "rejected" and report["failed_gates"] == ["srm"]
        assert not srm["passed"] and "recs_carousel" in srm["message"]
        assert verdict.event_type == "data-rejected"
        assert [g["name"] for g in verdict.payload["failed_gates"]] == ["srm"]
        assert verdict.payload["failed_gates"][0] == srm
        assert "srm" not in verdict.payload["passed_gates"]
    else:
        assert p_value > float(srm_p)
        assert srm["passed"] and report["status"] == "validated"
        assert verdict.event_type == "data-validated"


def test_null_and_out_of_range_features_reject_the_data(
    validate_client, warehouse_copy, store, bus
):
    table = f"{MARTS}.features_conversion"
    data_version = tamper(
        warehouse_copy,
        f"""update {table} set age = null where (user_id, snapshot_date) in (
            select (user_id, snapshot_date) from {table} order by user_id, snapshot_date limit 3)
        """,
        f"""update {table} set traffic_share_email = 1.5 where (user_id, snapshot_date) = (
            select (user_id, snapshot_date) from {table}
            order by user_id desc, snapshot_date limit 1)
        """,
    )
    assert query(warehouse_copy, f"select count(*) - count(age) from {table}") == [(3,)]
    client = validate_client(warehouse_copy)
    report, verdict = judge(client, store, bus, RUN_ID, build_summary(warehouse_copy))

    assert report["data_version"] == data_version
    assert report["status"] == "rejected" and report["failed_gates"] == ["features"]
    features = gate(report, "features")
    assert "age has 3 nulls" in features["message"]
    assert "traffic_share_email max 1.5 > 1" in features["message"]
    assert features["numbers"]["features"]["age"]["nulls"] == 3
    assert features["numbers"]["features"]["traffic_share_email"]["max"] == 1.5
    assert verdict.event_type == "data-rejected"
    assert verdict.payload["failed_gates"] == [features]


def test_a_label_rate_outside_its_bounds_rejects_the_data(
    validate_client, generated_warehouse, store, bus
):
    client = validate_client(
        generated_warehouse,
        EXECKPI_VALIDATION_LABEL_RATE_MIN="0.5",
        EXECKPI_VALIDATION_LABEL_RATE_MAX="0.9",
    )
    report, verdict = judge(client, store, bus, RUN_ID, build_summary(generated_warehouse))

    assert report["status"] == "rejected" and report["failed_gates"] == ["label_rate"]
    label = gate(report, "label_rate")
    assert (label["numbers"]["min"], label["numbers"]["max"]) == (0.5, 0.9)
    ((mean,),) = query(
        generated_warehouse, f"select avg(label_purchased) from {MARTS}.features_conversion"
    )
    assert label["numbers"]["rate"] == pytest.approx(mean, abs=1e-6)
    assert "outside [50.000%, 90.000%]" in label["message"]
    assert verdict.event_type == "data-rejected"
    assert [g["name"] for g in verdict.payload["failed_gates"]] == ["label_rate"]


def test_rows_drifting_from_the_last_validated_run_reject_the_data(
    validate_client, warehouse_copy, store, bus
):
    client = validate_client(warehouse_copy)
    first, _ = judge(
        client, store, bus, EARLIER_RUN_ID, build_summary(warehouse_copy, EARLIER_SLOT)
    )
    assert first["status"] == "validated"
    funnel_rows = first["row_counts"]["funnel"]

    data_version = tamper(warehouse_copy, f"delete from {MARTS}.funnel where rowid % 2 = 0")
    payload = build_summary(warehouse_copy)
    assert payload["data_version"] == data_version != first["data_version"]
    second, verdict = judge(client, store, bus, RUN_ID, payload)
    ((left,),) = query(warehouse_copy, f"select count(*) from {MARTS}.funnel")
    assert funnel_rows / 2 - 1 <= left <= funnel_rows / 2 + 1

    assert second["status"] == "rejected" and second["failed_gates"] == ["row_counts"]
    drift = gate(second, "row_counts")
    assert drift["numbers"]["previous_run"] == EARLIER_RUN_ID
    assert drift["numbers"]["tables"]["funnel"] == {
        "rows": left,
        "previous": funnel_rows,
        "change": round((left - funnel_rows) / funnel_rows, 6),
    }
    assert f"funnel {funnel_rows:,} → {left:,} rows" in drift["message"]
    assert "rfm_segments" not in drift["message"]  # untouched marts did not move
    assert verdict.event_type == "data-rejected"

    # The rejected run is no baseline: the next build is still compared with the earlier run.
    third, _ = judge(client, store, bus, LATER_RUN_ID, build_summary(warehouse_copy, LATER_SLOT))
    assert third["failed_gates"] == ["row_counts"]
    assert gate(third, "row_counts")["numbers"]["previous_run"] == EARLIER_RUN_ID
    assert gate(third, "row_counts")["numbers"]["tables"]["funnel"]["previous"] == funnel_rows


def test_a_build_whose_data_was_replaced_is_judged_on_nothing_else(
    validate_client, generated_warehouse, store, bus
):
    payload = build_summary(generated_warehouse, data_version="duckdb:1:2:3")
    report, verdict = judge(validate_client(generated_warehouse), store, bus, RUN_ID, payload)

    assert report["status"] == "rejected" and report["failed_gates"] == ["current_data"]
    assert [g["name"] for g in report["gates"]] == ["current_data"]
    assert gate(report, "current_data")["numbers"] == {
        "build": "duckdb:1:2:3",
        "warehouse": DuckDBWarehouse(generated_warehouse).data_version(),
    }
    assert report["row_counts"] == {}
    assert verdict.event_type == "data-rejected"
    assert verdict.payload["data_version"] == "duckdb:1:2:3"
    assert verdict.payload["passed_gates"] == []


@pytest.mark.parametrize(
    ("overrides", "failed", "message"),
    [
        (
            {"status": "fail", "failed_nodes": ["test.execkpi.x"]},
            "dbt_tests",
            "dbt build fail: 1 failed nodes",
        ),
        (
            {
                "freshness": {
                    "thelook.orders": {
                        "status": "error",
                        "max_loaded_at": "2026-01-01T00:00:00",
                        "age_hours": 7000.0,
                    },
                    "thelook.users": {
                        "status": "pass",
                        "max_loaded_at": "2026-11-01T00:00:00",
                        "age_hours": 1.0,
                    },
                }
            },
            "source_freshness",
            "stale sources: thelook.orders",
        ),
    ],
    ids=["dbt_tests", "source_freshness"],
)
def test_what_dbt_reported_rejects_the_data(
    validate_client, generated_warehouse, store, bus, overrides, failed, message
):
    payload = build_summary(generated_warehouse, **overrides)
    report, verdict = judge(validate_client(generated_warehouse), store, bus, RUN_ID, payload)

    assert report["status"] == "rejected" and report["failed_gates"] == [failed]
    assert [g["name"] for g in report["gates"]] == GATES  # the marts were still measured
    assert gate(report, failed)["message"] == message
    assert verdict.event_type == "data-rejected"
    assert verdict.payload["failed_gates"] == [gate(report, failed)]
    if failed == "dbt_tests":
        assert gate(report, failed)["numbers"]["failed_nodes"] == ["test.execkpi.x"]


def test_a_build_summary_missing_fields_is_acknowledged_and_recorded(
    validate_client, generated_warehouse, store, bus
):
    event = completed(RUN_ID, {"status": "success", "slot": SLOT})
    assert push(validate_client(generated_warehouse), event) == 200  # no redelivery

    marker = store.get_json(f"events/validate/{event.event_id}.json")
    assert marker["outcome"] == "failed"
    for field in ("data_version", "failed_nodes", "freshness"):  # each missing one is named
        assert field in marker["error"]
    assert "slot" not in marker["error"] and "status" not in marker["error"]
    assert not store.exists(run_key(RUN_ID, VALIDATION))
    assert published(bus) == []


def test_a_missing_warehouse_fails_the_delivery_so_that_it_is_retried(
    validate_client, tmp_path, store, bus, generated_warehouse
):
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    event = completed(RUN_ID, build_summary(generated_warehouse))
    assert push(validate_client(missing), event) >= 500

    assert not store.exists(run_key(RUN_ID, VALIDATION))
    assert not store.exists(f"events/validate/{event.event_id}.json")  # not marked as handled
    assert published(bus) == []
