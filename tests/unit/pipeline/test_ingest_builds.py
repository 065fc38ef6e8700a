"""The coalescing of data-ingested builds (common.pipeline.ingest_builds) on a real artifact
store and real run claims. dbt is replaced by a build that takes a moment of a fake clock, during
which other events may arrive: what dbt_build's _settle does around dbt, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from common.pipeline.ingest_builds import FOLLOW_UP_SECONDS, build_ingested, ingest_run_id
from common.pipeline.pending import IngestedBatch, PendingBatches
from common.runs import BUILD, Claim, InProgress, finish, run_key

LEASE = timedelta(minutes=40)
BUILD_SECONDS = 120


def batch(n: int, table: str = "events") -> IngestedBatch:
    return IngestedBatch(
        f"b{n:03d}", table, 10, f"ingest/curated/{table}/ingested_on=x/b{n}.parquet"
    )


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.at += timedelta(milliseconds=1)  # every reading is a new instant, as in life
        return self.at


class Builds:
    """The settle callable: a build reads the markers listed when it starts, takes
    BUILD_SECONDS, during which ``arrivals`` run (the events that came meanwhile), and clears
    what it read once finished."""

    def __init__(self, store, clock: Clock):
        self.store, self.clock = store, clock
        self.read: list[list[str]] = []  # the batch ids each build read
        self.arrivals: list[Callable[[], None]] = []

    def settle(self, claimed):
        pending = PendingBatches(self.store)
        if isinstance(claimed, Claim):
            read = pending.waiting()
            self.read.append([b.batch_id for b in read])
            self.clock.at += timedelta(seconds=BUILD_SECONDS)
            arrivals, self.arrivals = self.arrivals, []
            for arrive in arrivals:
                arrive()
            pending.mark_covered(claimed.run_id, read)
            claimed = finish(self.store, claimed, {"status": "success"}, self.clock())
        pending.clear_covered(claimed["run_id"])
        return claimed

    def ingest(self, n: int, table: str = "events"):
        return build_ingested(
            self.store, batch(n, table), f"m{n}", now=self.clock, lease=LEASE, settle=self.settle
        )


@pytest.fixture
def builds(store) -> Builds:
    return Builds(store, Clock())


def test_a_lone_batch_gets_one_build_that_records_why_it_ran(builds, store):
    outcome = builds.ingest(1, "orders")

    (record,) = outcome.builds
    assert builds.read == [["b001"]]
    assert record["run_id"].endswith("Z-ingest") and record["status"] == "success"
    assert record["trigger"] == {
        "kind": "data-ingested",
        "message_id": "m1",
        "batches": 1,
        "tables": {"orders": 1},
        "batch_ids": ["b001"],
        "oldest_recorded_at": record["trigger"]["oldest_recorded_at"],
    }
    assert PendingBatches(store).waiting() == []
    assert store.get_json(run_key(record["run_id"], "ingested_batches.json"))[0].endswith(
        "/orders/b001.json"
    )


def test_a_batch_during_a_build_waits_for_it_and_a_second_build_follows(builds, store):
    answers = []
    builds.arrivals.append(lambda: answers.append(builds.ingest(2)))

    outcome = builds.ingest(1)

    (waiting,) = answers
    first, second = outcome.builds
    assert waiting.builds == () and waiting.waiting_for == first["run_id"]
    assert builds.read == [["b001"], ["b002"]]
    assert second["run_id"] > first["run_id"]
    assert PendingBatches(store).waiting() == []


def test_many_batches_during_one_build_coalesce_into_one_follow_up(builds, store):
    """A burst: 200 events while the first build runs start no build of their own."""
    answers = []
    for n in range(2, 202):
        builds.arrivals.append(lambda n=n: answers.append(builds.ingest(n, "events")))

    outcome = builds.ingest(1)

    assert len(outcome.builds) == 2 and len(answers) == 200
    assert {a.waiting_for for a in answers} == {outcome.builds[0]["run_id"]}
    assert builds.read[1] == [f"b{n:03d}" for n in range(2, 202)]
    follow_up = outcome.builds[1]["trigger"]
    assert (follow_up["batches"], follow_up["tables"]) == (200, {"events": 200})
    assert len(follow_up["batch_ids"]) == 20


def test_two_batches_before_a_build_starts_share_it(builds, store):
    """The second event of a window finds the first's build claimed (the claim is named after
    the oldest marker): it waits, and the build reads both."""
    PendingBatches(store).record(batch(1), builds.clock())
    expected = ingest_run_id(PendingBatches(store).waiting()[0])

    outcome = builds.ingest(2)

    (record,) = outcome.builds
    assert builds.read == [["b001", "b002"]]
    assert record["run_id"] == expected
    assert record["trigger"]["batches"] == 2


def test_a_build_that_finished_but_did_not_publish_is_completed_by_the_retry(builds, store):
    """The crash between finishing the record and clearing the markers: the redelivered event
    names the same run, which is settled (published, cleared) without building again."""
    pending = PendingBatches(store)
    pending.record(batch(1), builds.clock())
    (oldest,) = pending.waiting()
    run_id = ingest_run_id(oldest)
    store.put_json(run_key(run_id, BUILD), {"run_id": run_id, "status": "success"})
    pending.mark_covered(run_id, [oldest])

    outcome = builds.ingest(1)  # the redelivery records the batch again

    assert len(outcome.builds) == 2 and outcome.builds[0]["run_id"] == run_id
    assert builds.read == [["b001"]]  # the repeat marker, read by one new build
    assert pending.waiting() == []


def test_a_build_in_progress_elsewhere_leaves_the_event_waiting(builds, store):
    pending = PendingBatches(store)
    pending.record(batch(1), builds.clock())
    run_id = ingest_run_id(pending.waiting()[0])
    now = builds.clock()
    running = {"run_id": run_id, "status": "running", "started_at": now.isoformat()}
    store.put_json(run_key(run_id, BUILD), {**running, "lease_until": (now + LEASE).isoformat()})

    outcome = builds.ingest(2)

    assert (outcome.builds, outcome.waiting_for) == ((), run_id)
    assert builds.read == []
    assert [b.batch_id for b in pending.waiting()] == ["b001", "b002"]


def test_follow_ups_stop_after_the_budget_and_leave_the_rest_pending(builds, store):
    """Batches keep coming during every build: the request stops starting builds once
    FOLLOW_UP_SECONDS have passed, and the rest waits for the next event or scheduled build."""
    rounds = FOLLOW_UP_SECONDS // BUILD_SECONDS + 1
    arrivals = iter(range(2, 100))

    def another() -> None:
        builds.ingest(next(arrivals))
        builds.arrivals.append(another)

    builds.arrivals.append(another)

    outcome = builds.ingest(1)

    assert len(outcome.builds) == rounds
    assert len(PendingBatches(store).waiting()) == 1


def test_a_run_that_did_not_read_its_oldest_batch_asks_for_a_retry(builds, store):
    pending = PendingBatches(store)
    pending.record(batch(1), builds.clock())
    run_id = ingest_run_id(pending.waiting()[0])
    store.put_json(run_key(run_id, BUILD), {"run_id": run_id, "status": "success"})

    with pytest.raises(InProgress, match="b001"):
        builds.ingest(2)
