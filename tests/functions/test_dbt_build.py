"""dbt_build's HTTP surface without running dbt: request validation, the run ledger, and the
slot claim in each of its states (finished, being built, interrupted), set up by writing
runs/<run_id>/build.json into the artifact store before the request.

Real builds (success, failing test, crash, redelivery) are covered end to end by
tests/integration/test_pipeline.py."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from common.artifacts.local import LocalArtifactStore
from common.events.envelope import Event
from common.runs import BUILD, run_key
from scripts.local.emulators import free_port
from tests.support.chunked import chunked
from tests.support.cloud_events import as_cloud_event, delivery_of, post_cloud_event, published

SLOT = "2026-10-15T05:00:00+00:00"
RUN_ID = "20261015T050000Z-build"
HEADER = "X-CloudScheduler-ScheduleTime"


@pytest.fixture
def store(execkpi_env) -> LocalArtifactStore:
    return LocalArtifactStore(execkpi_env["EXECKPI_ARTIFACT_DIR"])


@pytest.fixture
def client(function_client, bus):
    """dbt_build with EXECKPI_DUCKDB_PATH at a file that does not exist (execkpi_env)."""
    return function_client("dbt_build", EXECKPI_LOCAL_BUS_URL=bus.url)


def finished_record(run_id: str = RUN_ID, slot: str = SLOT) -> dict:
    """build.json of a slot whose build finished, as the finished claim records it."""
    return {
        "slot": slot,
        "trigger": {"kind": "scheduler", "job": "daily-build"},
        "run_id": run_id,
        "status": "success",
        "attempt": 1,
        "started_at": "2026-10-15T05:00:03+00:00",
        "finished_at": "2026-10-15T05:04:13+00:00",
        "seconds": 250.0,
        "summary": {
            "status": "success",
            "models": {"passed": 42},
            "tests": {"passed": 180},
            "failed_nodes": [],
            "dbt_seconds": 240.5,
            "freshness": {
                "thelook.orders": {
                    "status": "pass",
                    "max_loaded_at": "2026-11-01T00:00:00",
                    "age_hours": 1.0,
                }
            },
            "data_version": "duckdb:1:2:3",
        },
    }


def running_record(run_id: str = RUN_ID, slot: str = SLOT) -> dict:
    """build.json of a slot whose build started a minute ago and holds its lease."""
    now = datetime.now(UTC)
    return {
        "slot": slot,
        "trigger": {"kind": "scheduler", "job": "daily-build"},
        "run_id": run_id,
        "status": "running",
        "attempt": 1,
        "started_at": (now - timedelta(minutes=1)).isoformat(),
        "lease_until": (now + timedelta(minutes=30)).isoformat(),
    }


def assert_error(response, status: int, code: str, field: str | None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field), error
    return error


# --- bad input ------------------------------------------------------------------------------


def _in_a_week() -> str:
    return (datetime.now(UTC) + timedelta(days=7)).isoformat()


def manual(**body) -> tuple[str, dict]:
    return "/pipeline/build", {"json": body}


def push_body(body) -> tuple[str, dict]:
    return "/", {"json": body}


NAIVE = "2026-10-15T05:00:00"
BAD_POSTS = {
    "not-json": ("/", {"data": "not json{", "content_type": "application/json"}, "body"),
    "list": (*push_body([SLOT]), "body"),
    "unknown-field": (*manual(scheduled_at=SLOT, colour="red"), "colour"),
    "naive": (*manual(scheduled_at=NAIVE), "scheduled_at"),
    "garbage": (*manual(scheduled_at="yesterday"), "scheduled_at"),
    "number": (*manual(scheduled_at=1760504400), "scheduled_at"),
    "week-ahead": (*manual(scheduled_at=_in_a_week()), "scheduled_at"),
    "too-early": (*manual(scheduled_at="1999-12-31T23:59:00Z"), "scheduled_at"),
    "long-reason": (*manual(scheduled_at=SLOT, reason="x" * 201), "reason"),
    "reason-not-string": (*manual(reason=7), "reason"),
    "header-garbage": ("/", {"headers": {HEADER: "tomorrow at five"}}, HEADER),
    "header-naive": ("/", {"headers": {HEADER: NAIVE}}, HEADER),
    "push-message-string": (*push_body({"message": "hello", "subscription": "s"}), "message"),
    "push-unknown-field": (*push_body({"message": {"publishTime": SLOT}, "x": 1}), "x"),
    "push-no-time": (*push_body({"message": {"messageId": "1"}}), "message.publishTime"),
    "push-attributes-list": (
        *push_body({"message": {"attributes": ["a"], "publishTime": SLOT}}),
        "message.attributes",
    ),
}


@pytest.mark.parametrize(
    ("path", "request_args", "field"), list(BAD_POSTS.values()), ids=list(BAD_POSTS)
)
def test_bad_build_requests_answer_400_naming_the_field_and_claim_nothing(
    client, store, bus, path, request_args, field
):
    response = client.post(path, **request_args)

    error = assert_error(response, 400, "invalid_argument", field)
    assert error["message"]
    assert store.list("runs/") == []
    assert published(bus) == []


@pytest.mark.parametrize("path", ["/", "/pipeline/build"])
def test_a_chunked_body_is_read_not_ignored(client, store, bus, path):
    response = client.post(path, **chunked(b'{"scheduled_at": "2026-10-15T05:00:00Z", "x": 1}'))
    assert_error(response, 400, "invalid_argument", "x")
    assert store.list("runs/") == []

    store.put_json(run_key(RUN_ID, BUILD), finished_record())
    response = client.post(path, **chunked(b'{"scheduled_at": "2026-10-15T05:00:00Z"}'))
    assert response.status_code == 200 and response.get_json()["run_id"] == RUN_ID
    assert response.get_json()["repeated"] and len(published(bus)) == 1


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/pipeline/runs?limit=0", "limit"),
        ("/pipeline/runs?limit=201", "limit"),
        ("/pipeline/runs?limit=abc", "limit"),
        ("/pipeline/runs?limit=-1", "limit"),
        ("/pipeline/runs?limit=²", "limit"),  # str.isdigit() accepts it, int() does not
        ("/pipeline/runs?limit=①", "limit"),
        ("/pipeline/runs/bad$id", "run_id"),
        ("/pipeline/runs/" + "a" * 129, "run_id"),
        ("/pipeline/runs/-1", "run_id"),  # not a key segment the artifact store accepts
        ("/pipeline/runs/a..b", "run_id"),
    ],
)
def test_bad_ledger_requests_answer_400(client, store, path, field):
    assert_error(client.get(path), 400, "invalid_argument", field)
    assert store.list("runs/") == []


def test_the_ledger_of_no_runs_is_empty_and_an_unknown_run_is_404(client):
    response = client.get("/pipeline/runs")
    assert response.status_code == 200 and response.get_json() == {"runs": []}
    assert client.get("/runs").get_json() == {"runs": []}  # the cloudfunctions.net path
    error = assert_error(client.get(f"/pipeline/runs/{RUN_ID}"), 404, "not_found", "run_id")
    assert RUN_ID in error["message"]


def test_the_ledger_lists_runs_newest_first_and_returns_one_run_whole(client, store):
    older = finished_record("20261014T050000Z-build", "2026-10-14T05:00:00+00:00")
    store.put_json(run_key(older["run_id"], BUILD), older)
    store.put_json(run_key(RUN_ID, BUILD), running_record())

    runs = client.get("/pipeline/runs?limit=200").get_json()["runs"]
    assert [(r["run_id"], r["stage"], r["status"]) for r in runs] == [
        (RUN_ID, "build", "running"),
        (older["run_id"], "build", "success"),
    ]
    assert runs[1]["stages"]["build"] == {
        "status": "success",
        "started_at": older["started_at"],
        "finished_at": older["finished_at"],
        "seconds": older["seconds"],
    }
    assert [r["run_id"] for r in client.get("/pipeline/runs?limit=1").get_json()["runs"]] == [
        RUN_ID
    ]
    one = client.get(f"/pipeline/runs/{older['run_id']}").get_json()
    assert one["stages"] == {"build": older} and one["started_at"] == older["started_at"]


# --- the slot claim ---------------------------------------------------------------------------


def test_a_finished_slot_republishes_its_completion_and_builds_nothing(client, store, bus):
    record = finished_record()
    store.put_json(run_key(RUN_ID, BUILD), record)
    before = store.get(run_key(RUN_ID, BUILD))

    response = client.post("/", headers={HEADER: "2026-10-15T05:00:00Z"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    expected_id = Event.for_run("dbt-build-completed", "dbt_build", RUN_ID, {}).event_id
    assert body == {
        "run_id": RUN_ID,
        "status": "success",
        "repeated": True,
        "event_id": expected_id,
        "build": record,
    }
    (event,) = published(bus)
    assert (event.event_id, event.event_type, event.run_id) == (
        expected_id,
        "dbt-build-completed",
        RUN_ID,
    )
    assert event.payload == {**record["summary"], "slot": SLOT, "seconds": 250.0}
    assert store.get(run_key(RUN_ID, BUILD)) == before  # same bytes, same version: dbt never ran
    assert store.list("runs/") == [run_key(RUN_ID, BUILD)]


def test_a_slot_being_built_answers_409_and_leaves_the_claim_alone(client, store, bus):
    store.put_json(run_key(RUN_ID, BUILD), running_record())
    before = store.get(run_key(RUN_ID, BUILD))

    # Within the slot's minute: the seconds are truncated away.
    response = client.post("/", headers={HEADER: "2026-10-15T05:00:59.5Z"})

    error = assert_error(response, 409, "build_in_progress", None)
    assert RUN_ID in error["message"]
    assert store.get(run_key(RUN_ID, BUILD)) == before
    assert published(bus) == []


def test_a_missing_warehouse_interrupts_the_attempt_and_the_next_request_retries(
    client, store, bus, execkpi_env
):
    first = client.post("/", headers={HEADER: SLOT})

    error = assert_error(first, 503, "warehouse_unavailable", None)
    assert execkpi_env["EXECKPI_DUCKDB_PATH"] in error["message"]
    record = store.get_json(run_key(RUN_ID, BUILD))
    assert (record["status"], record["attempt"], record["slot"]) == ("interrupted", 1, SLOT)
    assert record["trigger"] == {"kind": "scheduler", "job": ""}
    assert record["error"].startswith("WarehouseUnavailable: no DuckDB database at")
    assert "summary" not in record

    second = client.post("/", headers={HEADER: SLOT})  # Scheduler's retry claims it again

    assert_error(second, 503, "warehouse_unavailable", None)
    retried = store.get_json(run_key(RUN_ID, BUILD))
    assert (retried["status"], retried["attempt"]) == ("interrupted", 2)
    assert retried["previous_attempt"] == {
        "status": "interrupted",
        "started_at": record["started_at"],
        "error": record["error"],
    }
    assert store.list("runs/") == [run_key(RUN_ID, BUILD)]  # no run results: dbt never ran
    assert published(bus) == []
    run = client.get(f"/pipeline/runs/{RUN_ID}").get_json()
    assert (run["stage"], run["status"]) == ("build", "interrupted")


def test_an_unreachable_bus_answers_503_so_that_the_tick_is_retried(function_client, store):
    store.put_json(run_key(RUN_ID, BUILD), finished_record())
    before = store.get(run_key(RUN_ID, BUILD))
    client = function_client("dbt_build", EXECKPI_LOCAL_BUS_URL=f"http://127.0.0.1:{free_port()}")

    response = client.post("/", headers={HEADER: SLOT})

    assert_error(response, 503, "bus_unavailable", None)
    assert store.get(run_key(RUN_ID, BUILD)) == before


def _push(publish_time: str, **attributes: str) -> dict:
    message = {
        "data": base64.b64encode(b"tick").decode(),
        "messageId": "1234567",
        "publishTime": publish_time,
    }
    if attributes:
        message["attributes"] = attributes
    return {"message": message, "subscription": "projects/local/subscriptions/daily-build"}


def test_a_pubsub_push_builds_the_minute_it_was_published(client, store, bus):
    store.put_json(run_key(RUN_ID, BUILD), running_record())
    body = _push("2026-10-15T05:00:42.123Z")

    assert_error(client.post("/", json=body), 409, "build_in_progress", None)
    # The minute before is another slot: with no claim on it, it tries to build (and finds no
    # warehouse), which shows the slot is taken from publishTime.
    earlier = client.post("/", json=_push("2026-10-15T04:59:59.999Z"))
    assert_error(earlier, 503, "warehouse_unavailable", None)
    other = store.get_json(run_key("20261015T045900Z-build", BUILD))
    assert other["trigger"] == {
        "kind": "pubsub",
        "message_id": "1234567",
        "subscription": "projects/local/subscriptions/daily-build",
    }

    store.put_json(run_key(RUN_ID, BUILD), finished_record())
    response = client.post("/", json=body)
    assert response.status_code == 200
    assert (response.get_json()["run_id"], response.get_json()["repeated"]) == (RUN_ID, True)
    # A scheduled_at attribute wins over the publish time.
    late = client.post("/", json=_push("2026-10-15T09:30:00Z", scheduled_at=SLOT))
    assert late.status_code == 200 and late.get_json()["run_id"] == RUN_ID
    assert [e.run_id for e in published(bus)] == [RUN_ID, RUN_ID]


@pytest.mark.parametrize(
    "scheduled_at",
    ["2026-10-15T05:00:00Z", "2026-10-15T07:00:30+02:00", "2026-10-15T01:00:00.5-04:00"],
)
def test_a_manual_build_maps_to_the_same_slot_as_the_scheduler(client, store, bus, scheduled_at):
    store.put_json(run_key(RUN_ID, BUILD), finished_record())

    manual = client.post("/pipeline/build", json={"scheduled_at": scheduled_at, "reason": "rerun"})
    scheduled = client.post("/", headers={HEADER: SLOT})

    assert manual.status_code == scheduled.status_code == 200
    assert manual.get_json() == scheduled.get_json()
    assert manual.get_json()["run_id"] == RUN_ID and manual.get_json()["repeated"]
    first, second = published(bus)
    assert first.event_id == second.event_id


# --- the ledger as a file (GET /pipeline/runs?format=) ----------------------------------------

STAGE_NAMES = ("build", "validation", "training")
STAGE_FIELDS = ("status", "started_at", "finished_at", "seconds")


def flattened(run: dict) -> dict:
    """A run of the JSON list as the file's row: the run, then each stage's fields side by side."""
    row = {k: run[k] for k in ("run_id", "stage", "status", "started_at")}
    for stage in STAGE_NAMES:
        record = run["stages"].get(stage, {})
        row |= {f"{stage}_{field}": record.get(field) for field in STAGE_FIELDS}
    return row


def test_the_ledger_as_a_german_csv_and_an_xlsx_reads_back_as_its_json(client, store):
    import csv
    import io

    import openpyxl

    older = finished_record("20261014T050000Z-build", "2026-10-14T05:00:00+00:00")
    older["seconds"] = 250.75
    store.put_json(run_key(older["run_id"], BUILD), older)
    store.put_json(run_key(RUN_ID, BUILD), running_record())
    expected = [flattened(r) for r in client.get("/pipeline/runs").get_json()["runs"]]

    response = client.get("/pipeline/runs?format=csv&locale=de-DE")
    assert (response.status_code, response.mimetype) == (200, "text/csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="pipeline_runs.csv"'
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    header, *rows = csv.reader(io.StringIO(text[1:], newline=""), delimiter=";")
    assert header == list(expected[0])

    def german(value: str, column: str):  # a decimal comma; an empty cell is a missing value
        if value == "":
            return None
        return float(value.replace(",", ".")) if column.endswith("_seconds") else value

    read = [{h: german(v, h) for h, v in zip(header, row, strict=True)} for row in rows]
    assert read == expected
    assert rows[1][header.index("build_seconds")] == "250,75"

    response = client.get("/pipeline/runs?format=xlsx&limit=1")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["pipeline_runs"]
    names, *values = ([c.value for c in row] for row in sheet.iter_rows())
    assert [dict(zip(names, row, strict=True)) for row in values] == expected[:1]


@pytest.mark.parametrize(
    ("query", "field"),
    [("format=pdf", "format"), ("format=csv&locale=fr-FR", "locale"), ("format=csv&x=1", "x")],
)
def test_a_bad_ledger_format_or_locale_is_400_naming_it(client, query, field):
    assert_error(client.get(f"/pipeline/runs?{query}"), 400, "invalid_argument", field)


# --- builds started by data-ingested (common.pipeline.ingest_builds) ---------------------------


def ingested(batch_id: str = "a" * 64, table: str = "orders", **payload) -> Event:
    """The event the ingest function publishes once a batch is committed."""
    object_key = f"ingest/curated/{table}/ingested_on=2026-11-02/{batch_id}.parquet"
    body = {"batch_id": batch_id, "table": table, "rows": 25, "object": object_key, **payload}
    return Event.for_run("data-ingested", "ingest", f"{table}-batch", body)


def test_a_data_ingested_push_claims_an_ingest_build_that_says_why_and_is_retried(
    client, store, bus
):
    """No warehouse here: the build is claimed, fails (503: Pub/Sub redelivers), and the
    redelivery takes the same run over; the batch stays pending until a build reads it."""
    delivery = as_cloud_event(ingested())

    assert post_cloud_event(client, delivery) == 503
    (key,) = store.list("runs/")
    run_id = key.split("/")[1]
    assert run_id.endswith("Z-ingest")
    record = store.get_json(key)
    assert (record["status"], record["attempt"]) == ("interrupted", 1)
    assert record["trigger"] == {
        "kind": "data-ingested",
        "message_id": delivery.data["message"]["messageId"],
        "batches": 1,
        "tables": {"orders": 1},
        "batch_ids": ["a" * 64],
        "oldest_recorded_at": record["trigger"]["oldest_recorded_at"],
    }

    assert post_cloud_event(client, delivery) == 503  # the redelivery
    assert store.get_json(key)["attempt"] == 2
    assert [k.rsplit("/", 1)[1] for k in store.list("builds/pending/")] == [f"{'a' * 64}.json"] * 2
    assert published(bus) == []
    run = client.get(f"/pipeline/runs/{run_id}").get_json()
    assert run["stages"]["build"]["trigger"]["kind"] == "data-ingested"


def test_a_data_ingested_push_during_an_ingest_build_is_acknowledged_and_waits(client, store, bus):
    assert post_cloud_event(client, as_cloud_event(ingested("first"))) == 503
    (key,) = store.list("runs/")
    run_id = key.split("/")[1]
    now = datetime.now(UTC)
    store.put_json(key, {**store.get_json(key), **running_record(run_id, now.isoformat())})

    response = client.post("/", **_binary(as_cloud_event(ingested("second", table="events"))))

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"batch_id": "second", "waiting_for": run_id, "builds": []}
    assert len(store.list("builds/pending/")) == 2
    assert published(bus) == []


def _binary(cloud_event) -> dict:
    from cloudevents.conversion import to_binary

    headers, body = to_binary(cloud_event)
    return {"headers": headers, "data": body}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"batch_id": "../x"}, "payload.batch_id"),
        ({"table": 7}, "payload.table"),
        ({"rows": -1}, "payload.rows"),
        ({"object": "runs/x"}, "payload.object"),
        ({"colour": "red"}, "payload.colour"),
    ],
)
def test_a_malformed_data_ingested_push_is_400_and_records_nothing(client, store, payload, field):
    response = client.post("/", **_binary(as_cloud_event(ingested(**payload))))

    assert_error(response, 400, "invalid_argument", field)
    assert store.list("") == []


def test_a_data_ingested_push_that_is_no_envelope_is_400(client, store):
    delivery = delivery_of(b"not json", "data-ingested", {"event_type": "data-ingested"})

    assert_error(client.post("/", **_binary(delivery)), 400, "invalid_argument", "message.data")
    assert store.list("") == []
