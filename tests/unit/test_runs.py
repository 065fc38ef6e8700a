"""A run's records and their claims: created once, finished once, taken over after the lease
expired or the attempt was interrupted, and never by two attempts at a time.

The guarantees rest on the store's create-only and compare-and-swap writes, which
tests/unit/test_artifacts.py checks on the local folder and on the Cloud Storage emulator."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from common import runs
from common.artifacts.local import LocalArtifactStore

RUN_ID = "20261123T050000Z-build"
KEY = "runs/20261123T050000Z-build/build.json"
DETAILS = {"slot": "2026-11-23T05:00:00+00:00", "trigger": {"kind": "scheduler", "job": "daily"}}
LEASE = timedelta(minutes=30)
NOW = datetime(2026, 11, 23, 5, 0, 7, tzinfo=UTC)
EXPIRED = NOW + LEASE
OUTCOME = {"status": "success", "summary": {"models": {"passed": 3}}}


@pytest.fixture
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "artifacts")


def claim_build(store, now, details=DETAILS):
    return runs.claim(store, RUN_ID, runs.BUILD, details, LEASE, now)


def test_the_first_claim_creates_the_record(store):
    first = claim_build(store, NOW)
    assert isinstance(first, runs.Claim)
    assert first.key == KEY == runs.run_key(RUN_ID, runs.BUILD) and first.run_id == RUN_ID
    assert first.record == {
        **DETAILS,
        "run_id": RUN_ID,
        "status": "running",
        "attempt": 1,
        "started_at": "2026-11-23T05:00:07+00:00",
        "lease_until": "2026-11-23T05:30:07+00:00",
    }
    blob = store.get(KEY)
    assert store.get_json(KEY) == first.record and blob.version == first.version


def test_each_record_of_a_run_has_its_own_claim(store):
    build = claim_build(store, NOW)
    training = runs.claim(store, RUN_ID, runs.TRAINING, {"model": "conversion"}, LEASE, NOW)
    assert isinstance(training, runs.Claim) and training.key == f"runs/{RUN_ID}/training.json"
    assert store.list("runs/") == sorted([build.key, training.key])


@pytest.mark.parametrize("later", [timedelta(0), timedelta(seconds=1), LEASE / 2, LEASE * 0.99])
def test_a_claim_within_the_lease_is_refused(store, later):
    first = claim_build(store, NOW)
    with pytest.raises(
        runs.InProgress, match=f"{KEY} has been in progress since 2026-11-23T05:00:07"
    ):
        claim_build(store, NOW + later)
    assert store.get_json(KEY) == first.record


@pytest.mark.parametrize("status", ["success", "fail", "promoted", "failed", "skipped"])
def test_a_finished_record_is_returned_and_never_claimed_again(store, status):
    first = claim_build(store, NOW)
    outcome = {**OUTCOME, "status": status}
    record = runs.finish(store, first, outcome, NOW + timedelta(seconds=90, microseconds=123400))
    assert record == {
        **{k: v for k, v in first.record.items() if k != "lease_until"},
        **outcome,
        "finished_at": "2026-11-23T05:01:37.123400+00:00",
        "seconds": 90.12,
    }
    assert store.get_json(KEY) == record
    for later in (timedelta(minutes=2), LEASE + timedelta(days=1)):
        assert claim_build(store, NOW + later) == record
    assert store.get_json(KEY) == record


def test_an_expired_lease_is_taken_over(store):
    """An attempt that outlived its lease (its process died) is taken over as attempt 2."""
    claim_build(store, NOW)
    details = {**DETAILS, "trigger": {"kind": "manual", "reason": "retry"}}
    second = claim_build(store, EXPIRED, details)
    assert isinstance(second, runs.Claim)
    assert second.record == {
        **details,
        "run_id": RUN_ID,
        "status": "running",
        "attempt": 2,
        "started_at": EXPIRED.isoformat(),
        "lease_until": (EXPIRED + LEASE).isoformat(),
        "previous_attempt": {"status": "running", "started_at": NOW.isoformat(), "error": None},
    }
    assert store.get_json(KEY) == second.record


def test_an_interrupted_attempt_is_taken_over_at_once(store):
    """An attempt that raised is taken over within its lease; attempts keep counting."""
    first = claim_build(store, NOW)
    marked = runs.interrupt(store, first, "dbt crashed", NOW + timedelta(seconds=10))
    assert (
        store.get_json(KEY)
        == marked
        == {
            **first.record,
            "status": "interrupted",
            "error": "dbt crashed",
            "failed_at": "2026-11-23T05:00:17+00:00",
        }
    )
    second = claim_build(store, NOW + timedelta(seconds=20))
    assert isinstance(second, runs.Claim) and second.record["attempt"] == 2
    assert second.record["previous_attempt"] == {
        "status": "interrupted",
        "started_at": NOW.isoformat(),
        "error": "dbt crashed",
    }
    with pytest.raises(runs.InProgress):  # attempt 2 now holds its own lease
        claim_build(store, NOW + timedelta(seconds=30))
    assert store.get_json(KEY) == second.record
    runs.interrupt(store, second, "dbt crashed again", NOW + timedelta(seconds=40))
    third = claim_build(store, NOW + timedelta(seconds=50))
    assert third.record["attempt"] == 3
    assert third.record["previous_attempt"] == {
        "status": "interrupted",
        "started_at": "2026-11-23T05:00:27+00:00",
        "error": "dbt crashed again",
    }


def test_a_taken_over_attempt_can_neither_finish_nor_interrupt(store):
    first = claim_build(store, NOW)
    second = claim_build(store, EXPIRED + timedelta(minutes=1))
    with pytest.raises(runs.LeaseLost, match=RUN_ID):
        runs.finish(store, first, OUTCOME, EXPIRED + timedelta(minutes=2))
    runs.interrupt(store, first, "late failure", EXPIRED + timedelta(minutes=3))
    assert store.get_json(KEY) == second.record
    assert runs.finish(store, second, OUTCOME, EXPIRED + timedelta(minutes=4))["attempt"] == 2


def test_a_takeover_between_read_and_swap_loses(store, monkeypatch):
    """Two takers read the same expired record: the compare-and-swap lets only one through."""
    claim_build(store, NOW)
    read, rival = store.get, []

    def read_then_rival_takes_over(key):
        blob = read(key)
        monkeypatch.setattr(store, "get", read)
        rival.append(claim_build(store, EXPIRED))
        return blob

    monkeypatch.setattr(store, "get", read_then_rival_takes_over)
    with pytest.raises(runs.InProgress, match="taken over concurrently"):
        claim_build(store, EXPIRED)
    assert rival[0].record["attempt"] == 2
    assert store.get_json(KEY) == rival[0].record


@pytest.mark.parametrize("state", ["new", "expired", "interrupted"])
def test_racing_claims_have_one_winner(store, state):
    if state != "new":
        first = claim_build(store, NOW)
        if state == "interrupted":
            runs.interrupt(store, first, "crashed", NOW)
    contenders = 6
    barrier, won, refused = threading.Barrier(contenders), [], []

    def contend() -> None:
        barrier.wait()
        try:
            won.append(claim_build(store, EXPIRED))
        except runs.InProgress:
            refused.append(True)

    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(won), len(refused)) == (1, contenders - 1)
    assert store.get_json(KEY) == won[0].record
    assert won[0].record["attempt"] == (1 if state == "new" else 2)
