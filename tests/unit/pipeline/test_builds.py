"""One build per schedule slot: run ids, the claim's lease and takeovers, and dbt's summary."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from common.pipeline.builds import (
    BuildInProgress,
    Claim,
    LeaseLost,
    build_run_id,
    claim_build,
    finish_build,
    interrupt_build,
    slot_of,
    summarize,
)

RUN_ID = "20261123T050000Z-build"
DETAILS = {"slot": "2026-11-23T05:00:00+00:00", "trigger": {"kind": "scheduler", "job": "daily"}}
LEASE = timedelta(minutes=30)
NOW = datetime(2026, 11, 23, 5, 0, 7, tzinfo=UTC)
SUMMARY = {"status": "success", "models": {"passed": 3}, "failed_nodes": []}


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


def test_first_claim_starts_attempt_one(store):
    claim = claim_build(store, RUN_ID, DETAILS, LEASE, NOW)
    assert isinstance(claim, Claim)
    assert claim.key == "runs/20261123T050000Z-build/build.json"
    assert claim.record == {
        **DETAILS,
        "run_id": RUN_ID,
        "status": "running",
        "attempt": 1,
        "started_at": "2026-11-23T05:00:07+00:00",
        "lease_until": "2026-11-23T05:30:07+00:00",
    }
    blob = store.get(claim.key)
    assert store.get_json(claim.key) == claim.record and blob.version == claim.version


@pytest.mark.parametrize(
    "later", [timedelta(0), timedelta(seconds=1), LEASE - timedelta(seconds=1)]
)
def test_second_claim_within_the_lease_is_refused(store, later):
    first = claim_build(store, RUN_ID, DETAILS, LEASE, NOW)
    with pytest.raises(BuildInProgress, match="building since 2026-11-23T05:00:07"):
        claim_build(store, RUN_ID, DETAILS, LEASE, NOW + later)
    assert store.get_json(first.key) == first.record


@pytest.mark.parametrize("status", ["success", "fail", "error"])
def test_finished_build_is_returned_not_rebuilt(store, status):
    """After finish_build any later claim (even past the lease) gets the recorded outcome."""
    claim = claim_build(store, RUN_ID, DETAILS, LEASE, NOW)
    summary = {**SUMMARY, "status": status}
    record = finish_build(store, claim, summary, NOW + timedelta(seconds=90, microseconds=123400))
    assert "lease_until" not in record
    assert record["status"] == status and record["summary"] == summary
    assert record["seconds"] == 90.12
    assert record["finished_at"] == "2026-11-23T05:01:37.123400+00:00"
    assert record["attempt"] == 1 and record["started_at"] == claim.record["started_at"]
    assert store.get_json(claim.key) == record
    for later in (timedelta(minutes=2), LEASE + timedelta(days=1)):
        assert claim_build(store, RUN_ID, DETAILS, LEASE, NOW + later) == record
    assert store.get_json(claim.key)["attempt"] == 1


def test_expired_lease_is_taken_over(store):
    """A build that outlived its lease (the process died) is taken over as attempt 2."""
    claim_build(store, RUN_ID, DETAILS, LEASE, NOW)
    later = NOW + LEASE
    details = {**DETAILS, "trigger": {"kind": "manual", "reason": "retry"}}
    second = claim_build(store, RUN_ID, details, LEASE, later)
    assert isinstance(second, Claim)
    assert second.record["attempt"] == 2
    assert second.record["trigger"] == {"kind": "manual", "reason": "retry"}
    assert second.record["started_at"] == later.isoformat()
    assert second.record["lease_until"] == (later + LEASE).isoformat()
    assert second.record["previous_attempt"] == {
        "status": "running",
        "started_at": NOW.isoformat(),
        "error": None,
    }
    assert store.get_json(second.key) == second.record


def test_interrupted_build_is_retried_at_once(store):
    """An attempt that raised is taken over within its lease; attempts keep counting."""
    first = claim_build(store, RUN_ID, DETAILS, LEASE, NOW)
    interrupt_build(store, first, "dbt crashed", NOW + timedelta(seconds=10))
    stored = store.get_json(first.key)
    assert stored["status"] == "interrupted" and stored["error"] == "dbt crashed"
    assert stored["failed_at"] == "2026-11-23T05:00:17+00:00"
    second = claim_build(store, RUN_ID, DETAILS, LEASE, NOW + timedelta(seconds=20))
    assert isinstance(second, Claim) and second.record["attempt"] == 2
    assert second.record["previous_attempt"] == {
        "status": "interrupted",
        "started_at": NOW.isoformat(),
        "error": "dbt crashed",
    }
    with pytest.raises(BuildInProgress):  # attempt 2 now holds its own lease
        claim_build(store, RUN_ID, DETAILS, LEASE, NOW + timedelta(seconds=30))
    assert store.get_json(first.key) == second.record
    interrupt_build(store, second, "dbt crashed again", NOW + timedelta(seconds=40))
    third = claim_build(store, RUN_ID, DETAILS, LEASE, NOW + timedelta(seconds=50))
    assert third.record["attempt"] == 3
    assert third.record["previous_attempt"] == {
        "status": "interrupted",
        "started_at": "2026-11-23T05:00:27+00:00",
        "error": "dbt crashed again",
    }


def test_stale_claim_loses_to_the_taker(store):
    """After a takeover, the first attempt can neither finish nor mark the slot interrupted."""
    first = claim_build(store, RUN_ID, DETAILS, LEASE, NOW)
    second = claim_build(store, RUN_ID, DETAILS, LEASE, NOW + LEASE + timedelta(minutes=1))
    with pytest.raises(LeaseLost, match=RUN_ID):
        finish_build(store, first, SUMMARY, NOW + LEASE + timedelta(minutes=2))
    interrupt_build(store, first, "late failure", NOW + LEASE + timedelta(minutes=3))
    assert store.get_json(first.key) == second.record
    assert finish_build(store, second, SUMMARY, NOW + LEASE + timedelta(minutes=4))["attempt"] == 2


def test_concurrent_takeover_has_one_winner(store, monkeypatch):
    """Two takers read the same expired claim: the compare-and-swap lets only one build."""
    claim_build(store, RUN_ID, DETAILS, LEASE, NOW)
    later = NOW + LEASE + timedelta(minutes=1)
    read, rival = store.get, []

    def read_then_rival_takes_over(key):
        blob = read(key)
        monkeypatch.setattr(store, "get", read)
        rival.append(claim_build(store, RUN_ID, DETAILS, LEASE, later))
        return blob

    monkeypatch.setattr(store, "get", read_then_rival_takes_over)
    with pytest.raises(BuildInProgress, match="taken over concurrently"):
        claim_build(store, RUN_ID, DETAILS, LEASE, later)
    assert rival[0].record["attempt"] == 2
    assert store.get_json(rival[0].key) == rival[0].record


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
