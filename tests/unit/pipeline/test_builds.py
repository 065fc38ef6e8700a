"""One build per schedule slot: run ids and dbt's summary (the slot's claim is a run record's:
tests/unit/test_runs.py)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from common.pipeline.builds import build_run_id, slot_of, summarize

RUN_ID = "20261123T050000Z-build"


def test_slot_is_the_utc_minute():
    """Seconds and microseconds are dropped and a +02:00 time becomes its UTC minute."""
    local = datetime(2026, 11, 23, 7, 0, 42, 123456, tzinfo=timezone(timedelta(hours=2)))
    slot = slot_of(local)
    assert slot == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert slot.utcoffset() == timedelta(0) and (slot.second, slot.microsecond) == (0, 0)
    assert build_run_id(slot) == RUN_ID


def test_retries_of_one_tick_share_the_run_id():
    """Every time within the same UTC minute maps to one run id, whatever its offset."""
    times = [
        datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 5, 0, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 23, 0, 0, 30, tzinfo=timezone(timedelta(hours=-5))),
    ]
    assert {build_run_id(slot_of(t)) for t in times} == {RUN_ID}


def test_run_ids_sort_chronologically():
    slots = [
        datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2026, 11, 23, 5, 1, tzinfo=UTC),
    ]
    by_id = sorted(slots, key=build_run_id)
    assert by_id == sorted(slots)
    assert build_run_id(by_id[0]) == "20261123T050000Z-build"
    assert build_run_id(by_id[-1]) == "20270101T000000Z-build"


def _result(unique_id, status):
    return {"unique_id": unique_id, "status": status}


def test_summary_groups_dbt_results():
    run_results = {
        "elapsed_time": 12.3456,
        "results": [
            _result("model.execkpi.stg_orders", "success"),
            _result("model.execkpi.funnel", "error"),
            _result("model.execkpi.revenue_daily", "skipped"),
            _result("test.execkpi.not_null_orders_order_id.1a2b", "pass"),
            _result("test.execkpi.unique_users_id.3c4d", "fail"),
            _result("test.execkpi.accepted_values_orders_status.5e6f", "warn"),
            _result("unit_test.execkpi.funnel.test_step_rates", "pass"),
            _result("seed.execkpi.experiments", "success"),
        ],
    }
    summary = summarize(run_results, None, "v-42")
    assert summary == {
        "status": "error",
        "models": {"failed": 1, "passed": 1, "skipped": 1},
        "tests": {"failed": 1, "passed": 2, "warn": 1},
        "seeds": {"passed": 1},
        "failed_nodes": ["model.execkpi.funnel", "test.execkpi.unique_users_id.3c4d"],
        "dbt_seconds": 12.35,
        "freshness": {},
        "data_version": "v-42",
    }


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["success", "pass", "warn"], "success"),
        (["success", "skipped", "pass"], "success"),
        (["success", "pass", "fail"], "fail"),
        (["error", "pass", "fail"], "error"),
        (["success", "runtime error"], "error"),
    ],
)
def test_summary_status(statuses, expected):
    """Any errored node makes the build an error; failed tests alone make it a fail."""
    results = [_result(f"test.execkpi.t{i}", s) for i, s in enumerate(statuses)]
    assert summarize({"results": results}, None, "v")["status"] == expected


def test_summary_lists_at_most_twenty_failed_nodes():
    results = [_result(f"test.execkpi.check_{i:02d}", "fail") for i in range(25)]
    summary = summarize({"results": results, "elapsed_time": 3}, None, "v")
    assert summary["failed_nodes"] == [f"test.execkpi.check_{i:02d}" for i in range(20)]
    assert summary["tests"] == {"failed": 25}
    assert summary["dbt_seconds"] == 3.0


def test_summary_maps_source_freshness():
    sources = {
        "results": [
            {
                "unique_id": "source.execkpi.thelook.orders",
                "status": "pass",
                "max_loaded_at": "2026-11-23T04:10:00+00:00",
                "max_loaded_at_time_ago_in_s": 3000.0,  # 0.833 h
            },
            {
                "unique_id": "source.execkpi.thelook.events",
                "status": "warn",
                "max_loaded_at": "2026-11-21T03:00:00+00:00",
                "max_loaded_at_time_ago_in_s": 180_000.0,  # 50 h
            },
            {"unique_id": "source.execkpi.thelook.users", "status": "runtime error"},
        ]
    }
    freshness = summarize({"results": []}, sources, "v")["freshness"]
    assert freshness == {
        "thelook.events": {
            "status": "warn",
            "max_loaded_at": "2026-11-21T03:00:00+00:00",
            "age_hours": 50.0,
        },
        "thelook.orders": {
            "status": "pass",
            "max_loaded_at": "2026-11-23T04:10:00+00:00",
            "age_hours": 0.8,
        },
        "thelook.users": {"status": "runtime error", "max_loaded_at": None, "age_hours": None},
    }
