"""dbt_build: builds the warehouse once per schedule slot, publishes dbt-build-completed, and
serves the run ledger.

POST /                         Cloud Scheduler (OIDC) or a Pub/Sub push: build this slot;
                               a data-ingested push: build the ingested batches, or leave them
                               to the build in progress (common.pipeline.ingest_builds)
POST /pipeline/build           the same for people: {"scheduled_at": "<ISO time>", "reason": ""}
GET  /pipeline/runs            the newest runs (?limit=1..200), each stage's status and timings;
                               ?format=csv|xlsx&locale=en-US|de-DE: as a file, a row per run
GET  /pipeline/runs/<run_id>   one run with every stage's full record
POST /pipeline/erasures        record a user's erasure request {"user_id": <int>}: 202
GET  /pipeline/erasures/<id>   the request: pending until a build has removed the user

A build answers 200 with its summary once dbt has finished (tests may have failed: the summary
says so and validation will reject it); 409 while the slot is being built; 503 when dbt could
not run or the event could not be published (the next retry resumes; nothing is built twice).
dbt is imported by the first build only. An erasure request is recorded in the warehouse; the
next build leaves the user out of every model and marks the request completed once no mart
holds the user id (common.privacy).
"""

import functools
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask
import functions_framework

from common import validation
from common.backends import start_function
from common.events.envelope import Event
from common.http import Router, json_body, json_response, optional_json_body
from common.negotiation import RESPONSE_OPTIONS, VARY, download_response, requested
from common.pipeline.builds import build_run_id, slot_of, summarize
from common.pipeline.ingest_builds import IngestBuilds, build_ingested
from common.pipeline.ledger import Ledger, RunNotFound
from common.pipeline.pending import IngestedBatch, PendingBatches, ingested_batch
from common.pipeline.runs_table import runs_table
from common.pipeline.triggers import scheduled_time
from common.privacy.erasures import ErasureLedger, requested_user_id
from common.runs import BUILD, RUN_RESULTS, SOURCES, Claim, claim, finish, interrupt, run_key

CONFIG, BACKENDS = start_function("dbt_build")
router = Router(CONFIG, prefix="/pipeline")
RUNS_LIMIT = 200

# The deployed package carries the dbt project next to main.py; a checkout has it at the root.
_HERE = Path(__file__).resolve().parent
DBT_PROJECT = next(
    p for p in (_HERE / "dbt_project", _HERE.parents[1] / "dbt_project") if p.is_dir()
)


@functools.cache
def work_dir() -> Path:
    """dbt's target and log folders: the source folder is read-only once deployed."""
    return Path(tempfile.mkdtemp(prefix="execkpi-dbt-"))


def now() -> datetime:
    return datetime.now(UTC)


@router.route("/", methods=("POST",))
@router.route("/build", methods=("POST",))
def build(request: flask.Request) -> dict:
    body = optional_json_body(request)
    batch = ingested_batch(body)
    if batch is not None:
        return _build_ingested(batch, body["message"])
    scheduled_at, trigger = scheduled_time(request.headers, body, now())
    slot = slot_of(scheduled_at)
    run_id = build_run_id(slot)
    details = {"slot": slot.isoformat(), "trigger": trigger}
    lease = timedelta(seconds=CONFIG.build_lease_seconds)
    claimed = claim(BACKENDS.artifacts, run_id, BUILD, details, lease, now())
    repeated = not isinstance(claimed, Claim)
    record = claimed if repeated else _build(claimed)
    event = _announce(record)
    PendingBatches(BACKENDS.artifacts).clear_covered(run_id)
    return {
        "run_id": run_id,
        "status": record["status"],
        "repeated": repeated,
        "event_id": event.event_id,
        "build": record,
    }


def _build_ingested(batch: IngestedBatch, message: dict) -> dict:
    """The builds this request ran (none: another build already read the batch), or the build
    in progress that runs again for it (Pub/Sub acknowledges either answer)."""
    message_id = message.get("messageId", message.get("message_id"))
    outcome: IngestBuilds = build_ingested(
        BACKENDS.artifacts,
        batch,
        None if message_id is None else str(message_id)[:200],
        now=now,
        lease=timedelta(seconds=CONFIG.build_lease_seconds),
        settle=_settle,
    )
    return {
        "batch_id": outcome.batch_id,
        "waiting_for": outcome.waiting_for,
        "builds": list(outcome.builds),
    }


def _announce(record: dict) -> Event:
    event = Event.for_run(
        "dbt-build-completed",
        "dbt_build",
        record["run_id"],
        {**record["summary"], "slot": record["slot"], "seconds": record["seconds"]},
    )
    BACKENDS.publisher.publish(event)
    return event


def _settle(claimed: Claim | dict) -> dict:
    """Build a claim (a finished record: it was built), publish its completion, then clear the
    pending batches it read: a crash before the publish leaves them for the retry to settle."""
    record = _build(claimed) if isinstance(claimed, Claim) else claimed
    event = _announce(record)
    PendingBatches(BACKENDS.artifacts).clear_covered(record["run_id"])
    return {**record, "event_id": event.event_id}


def _build(claimed: Claim) -> dict:
    """Run dbt for the claimed slot and record the outcome; an attempt that raises is marked
    interrupted so that the next request retries it."""
    from common.pipeline.dbt import run_build

    store = BACKENDS.artifacts
    pending = PendingBatches(store)
    read = pending.waiting()  # listed before dbt reads: the batches this build takes in
    try:
        results = run_build(CONFIG, claimed.run_id, DBT_PROJECT, work_dir())
        store.put_json(run_key(claimed.run_id, RUN_RESULTS), results.run_results)
        store.put_json(run_key(claimed.run_id, SOURCES), results.sources)
        summary = summarize(results.run_results, results.sources, BACKENDS.warehouse.data_version())
        summary["erasures"] = results.erasures.counts()
        summary["full_refresh"] = results.full_refresh
    except Exception as exc:
        interrupt(store, claimed, f"{type(exc).__name__}: {exc}", now())
        raise
    pending.mark_covered(claimed.run_id, read)
    return finish(store, claimed, {"status": summary["status"], "summary": summary}, now())


@router.route("/runs", query=("limit", *RESPONSE_OPTIONS))
def runs(request: flask.Request) -> flask.Response:
    wanted = requested(request)  # a bad format or locale: 400 before the ledger is read
    limit = validation.whole_number(request.args.get("limit", "20"), "limit", 1, RUNS_LIMIT)
    listed = Ledger(BACKENDS.artifacts).runs(limit)
    headers = {"Vary": VARY}
    if wanted.is_download:
        return download_response(runs_table(listed), wanted, headers)
    return json_response({"runs": listed}, 200, headers)


@router.route("/runs/<run_id>")
def run(request: flask.Request, run_id: str) -> dict:
    found = Ledger(BACKENDS.artifacts).run(validation.run_id(run_id))
    if found is None:
        raise RunNotFound(f"no run {run_id}")
    return found


@router.route("/erasures", methods=("POST",))
def request_erasure(request: flask.Request) -> tuple[dict, int]:
    """Accepted whether or not the user id is known: the answer reveals nobody's existence."""
    from common.pipeline.dbt import writable_warehouse

    user_id = requested_user_id(json_body(request))
    with writable_warehouse(CONFIG, f"erasure-{now():%Y%m%dT%H%M%S%f}") as warehouse:
        ledger = ErasureLedger(warehouse, CONFIG.bq_project)
        ledger.prepare()
        recorded = ledger.record(user_id, now())
    return recorded.as_json(), 202


@router.route("/erasures/<request_id>")
def erasure(request: flask.Request, request_id: str) -> dict:
    ledger = ErasureLedger(BACKENDS.warehouse, CONFIG.bq_project)
    return ledger.find(validation.identifier(request_id, "request_id")).as_json()


@functions_framework.http
def dbt_build(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
