"""BigQueryWarehouse against a fake BigQuery REST API.

The edge of these tests is HTTP: a small local server answers the BigQuery v2 REST routes
(jobs.query, jobs.insert, jobs.get, jobs.getQueryResults, jobs.cancel) with canned JSON in the
real API's shape and records every request. Nothing of ours or of google-cloud-bigquery is
mocked, so the tests see exactly what the client library would send to Google and how our code
handles what Google answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from common.warehouse import WarehouseQueryError, WarehouseUnavailable
from common.warehouse.bigquery_engine import BigQueryWarehouse
from tests.support.bigquery_fake import FakeBigQuery, api_error, running_fake_bigquery
from tests.support.bigquery_fake import dry_run_job as fake_dry_run_job

PROJECT, DATASET, LOCATION = "test-project", "kpi", "EU"
MAX_BYTES = 5 * 10**9
TIMEOUT_SECONDS = 1.0


@pytest.fixture
def fake_bq() -> Iterator[FakeBigQuery]:
    with running_fake_bigquery() as fake:
        yield fake


@pytest.fixture
def make_warehouse(fake_bq: FakeBigQuery) -> Iterator[Callable[..., BigQueryWarehouse]]:
    opened: list[BigQueryWarehouse] = []

    def make(timeout_seconds: float = TIMEOUT_SECONDS) -> BigQueryWarehouse:
        client = bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": fake_bq.url},
        )
        warehouse = BigQueryWarehouse(
            project=PROJECT,
            dataset=DATASET,
            location=LOCATION,
            max_bytes_billed=MAX_BYTES,
            client=client,
            timeout_seconds=timeout_seconds,
        )
        opened.append(warehouse)
        return warehouse

    yield make
    for warehouse in opened:
        warehouse.close()


@pytest.fixture
def warehouse(make_warehouse: Callable[..., BigQueryWarehouse]) -> BigQueryWarehouse:
    return make_warehouse()


JOB_REFERENCE = {"projectId": PROJECT, "jobId": "job_abc", "location": LOCATION}
SCHEMA = {
    "fields": [
        {"name": "n", "type": "INTEGER", "mode": "NULLABLE"},
        {"name": "revenue", "type": "FLOAT", "mode": "NULLABLE"},
        {"name": "status", "type": "STRING", "mode": "NULLABLE"},
        {"name": "ok", "type": "BOOLEAN", "mode": "NULLABLE"},
        {"name": "day", "type": "DATE", "mode": "NULLABLE"},
        {"name": "at", "type": "TIMESTAMP", "mode": "NULLABLE"},
        {"name": "amount", "type": "NUMERIC", "mode": "NULLABLE"},
    ]
}
AT = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
AT_MICROS = str(int(AT.timestamp()) * 10**6)  # the client asks for int64 timestamps


def row(*values: str | None) -> dict[str, Any]:
    """A row as the REST API encodes it: each value a string or null."""
    return {"f": [{"v": value} for value in values]}


ROWS = [
    row("2", "14.5", "Complete", "true", "2024-03-01", AT_MICROS, "1.25"),
    row("0", None, "Cancelled", "false", None, None, None),
]
QUERY_RESPONSE = {
    "kind": "bigquery#queryResponse",
    "schema": SCHEMA,
    "jobReference": JOB_REFERENCE,
    "queryId": "query_abc",
    "totalRows": "2",
    "rows": ROWS,
    "totalBytesProcessed": "123456789",
    "jobComplete": True,
    "cacheHit": False,
}


def dry_run_job(sql: str, total_bytes: str) -> dict[str, Any]:
    return fake_dry_run_job(PROJECT, LOCATION, sql, total_bytes)


def test_query_sends_sql_and_typed_named_parameters(fake_bq, warehouse):
    fake_bq.answer("jobs.query", (200, QUERY_RESPONSE))
    hostile = "x'; DROP TABLE t; --"
    sql = "select * from orders where status = @status and id in unnest(@ids)"
    params = {
        "i": 7,
        "f": 2.5,
        "b": True,
        "status": hostile,
        "d": date(2024, 2, 29),
        "ts": datetime(2024, 1, 1, 12, 30, tzinfo=UTC),
        "dt": datetime(2024, 1, 1, 12, 30),
        "n": Decimal("1.25"),
        "ids": [1, 3],
    }

    warehouse.query(sql, params, labels={"kpi": "revenue"})

    [request] = fake_bq.requests
    assert (request.method, request.path) == ("POST", f"/bigquery/v2/projects/{PROJECT}/queries")
    body = request.body
    assert body["query"] == sql
    assert hostile not in body["query"]
    assert body["parameterMode"] == "NAMED"
    assert body["useLegacySql"] is False
    assert body["maximumBytesBilled"] == str(MAX_BYTES)
    assert body["location"] == LOCATION
    assert body["defaultDataset"] == {"projectId": PROJECT, "datasetId": DATASET}
    assert body["labels"] == {"app": "execkpi", "kpi": "revenue"}

    sent = {p["name"]: p for p in body["queryParameters"]}
    assert {name: p["parameterType"] for name, p in sent.items()} == {
        "i": {"type": "INT64"},
        "f": {"type": "FLOAT64"},
        "b": {"type": "BOOL"},
        "status": {"type": "STRING"},
        "d": {"type": "DATE"},
        "ts": {"type": "TIMESTAMP"},
        "dt": {"type": "DATETIME"},
        "n": {"type": "NUMERIC"},
        "ids": {"type": "ARRAY", "arrayType": {"type": "INT64"}},
    }
    value = {name: p["parameterValue"].get("value") for name, p in sent.items()}
    assert value["status"] == hostile
    assert (value["i"], float(value["f"]), value["b"]) == ("7", 2.5, "true")
    assert (value["d"], value["n"]) == ("2024-02-29", "1.25")
    assert datetime.fromisoformat(value["ts"]) == params["ts"]
    assert datetime.fromisoformat(value["dt"]) == params["dt"]
    assert sent["ids"]["parameterValue"]["arrayValues"] == [{"value": "1"}, {"value": "3"}]
    # The hostile value travels as a parameter and nowhere else.
    assert json.dumps(body).count(json.dumps(hostile)[1:-1]) == 1


def test_query_returns_rows_as_arrow_with_bytes_processed(fake_bq, warehouse):
    fake_bq.answer("jobs.query", (200, QUERY_RESPONSE))

    result = warehouse.query("select 1")

    assert result.table.schema.names == ["n", "revenue", "status", "ok", "day", "at", "amount"]
    assert [f.type for f in result.table.schema] == [
        pa.int64(),
        pa.float64(),
        pa.string(),
        pa.bool_(),
        pa.date32(),
        pa.timestamp("us", tz="UTC"),
        pa.decimal128(38, 9),
    ]
    assert result.table.to_pylist() == [
        {
            "n": 2,
            "revenue": 14.5,
            "status": "Complete",
            "ok": True,
            "day": date(2024, 3, 1),
            "at": AT,
            "amount": Decimal("1.25"),
        },
        {
            "n": 0,
            "revenue": None,
            "status": "Cancelled",
            "ok": False,
            "day": None,
            "at": None,
            "amount": None,
        },
    ]
    assert result.bytes_processed == 123456789
    assert result.elapsed_ms > 0
    assert [r.route for r in fake_bq.requests] == ["jobs.query"]


def test_query_still_running_is_polled_until_done(fake_bq, warehouse):
    running = {
        "kind": "bigquery#queryResponse",
        "jobReference": JOB_REFERENCE,
        "jobComplete": False,
    }
    job = {
        "kind": "bigquery#job",
        "id": f"{PROJECT}:{LOCATION}.job_abc",
        "jobReference": JOB_REFERENCE,
        "configuration": {"query": {"query": "select 1"}},
        "statistics": {"query": {"totalBytesProcessed": "42"}},
    }
    fake_bq.answer("jobs.query", (200, running))
    fake_bq.answer(
        "jobs.get",
        (200, {**job, "status": {"state": "RUNNING"}}),
        (200, {**job, "status": {"state": "DONE"}}),
    )
    fake_bq.answer(
        "jobs.getQueryResults",
        (200, {**running, "kind": "bigquery#getQueryResultsResponse"}),
        (200, {**QUERY_RESPONSE, "kind": "bigquery#getQueryResultsResponse"}),
    )

    result = warehouse.query("select 1")

    assert result.table.num_rows == 2
    assert result.table.column("status").to_pylist() == ["Complete", "Cancelled"]
    first, *polls, fetch = fake_bq.requests
    assert first.route == "jobs.query"
    assert {r.route for r in polls} == {"jobs.get", "jobs.getQueryResults"}
    assert fetch.route == "jobs.getQueryResults"  # the rows, once the job is done
    assert "maxResults" not in fetch.query
    assert all(r.path.endswith("/job_abc") for r in [*polls, fetch])
    assert all(r.query["location"] == [LOCATION] for r in [*polls, fetch])


def test_estimate_bytes_sends_a_dry_run_job(fake_bq, warehouse):
    sql = "select count(*) from orders where status = @status"
    fake_bq.answer("jobs.insert", (200, dry_run_job(sql, "987654321")))

    estimate = warehouse.estimate_bytes(sql, {"status": "Complete"}, labels={"kpi": "orders"})

    assert estimate == 987654321
    [request] = fake_bq.requests
    assert (request.method, request.path) == ("POST", f"/bigquery/v2/projects/{PROJECT}/jobs")
    assert request.body["jobReference"]["location"] == LOCATION
    config = request.body["configuration"]
    assert config["dryRun"] is True
    assert config["labels"] == {"app": "execkpi", "kpi": "orders"}
    query = config["query"]
    assert query["query"] == sql
    assert query["useQueryCache"] is False
    assert query["useLegacySql"] is False
    assert query["parameterMode"] == "NAMED"
    assert query["maximumBytesBilled"] == str(MAX_BYTES)
    assert query["defaultDataset"] == {"projectId": PROJECT, "datasetId": DATASET}
    assert query["queryParameters"] == [
        {
            "name": "status",
            "parameterType": {"type": "STRING"},
            "parameterValue": {"value": "Complete"},
        }
    ]


@pytest.mark.parametrize("call", ["query", "estimate_bytes"])
def test_rejected_query_raises_query_error_without_the_sql(fake_bq, warehouse, call):
    # Like BigQuery's own messages, this one quotes the query; none of it may reach the caller.
    rejection = api_error(400, "invalidQuery", "Unrecognized name: secret_column at [1:8]")
    fake_bq.answer("jobs.query", rejection)
    fake_bq.answer("jobs.insert", rejection)
    sql = "select secret_column from customers"

    with pytest.raises(WarehouseQueryError) as raised:
        getattr(warehouse, call)(sql)

    assert sql not in str(raised.value)
    assert "secret_column" not in str(raised.value)
    assert len(fake_bq.requests) == 1  # a rejected query is not retried


def call_with_deadline(fake: FakeBigQuery, call: Callable[[], object], deadline: float):
    """Run call() and return (exception raised, seconds taken, whether it overran deadline).

    If the call overruns, the fake starts rejecting every request with a 400, which ends any
    retry loop in the client library, so no retrying thread outlives the test.
    """
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(call)
        try:
            future.exception(timeout=deadline)
            overran = False
        except TimeoutError:
            overran = True
            for route in ("jobs.query", "jobs.insert", "jobs.get", "jobs.getQueryResults"):
                fake.answer(route, api_error(400, "invalidQuery", "stop"))
        raised = future.exception()
    return raised, time.perf_counter() - started, overran


def test_persistent_503_raises_unavailable_within_the_timeout(fake_bq, warehouse):
    fake_bq.answer("jobs.query", api_error(503, "backendError", "Service unavailable"))

    raised, took, overran = call_with_deadline(
        fake_bq, lambda: warehouse.query("select 1"), TIMEOUT_SECONDS + 1.0
    )

    assert not overran, f"query() still retrying after {took:.1f}s"
    assert isinstance(raised, WarehouseUnavailable)
    assert len(fake_bq.calls("jobs.query")) >= 2  # transient errors were retried


def test_estimate_bytes_persistent_503_raises_unavailable_within_the_timeout(fake_bq, warehouse):
    fake_bq.answer("jobs.insert", api_error(503, "backendError", "Service unavailable"))

    raised, took, overran = call_with_deadline(
        fake_bq, lambda: warehouse.estimate_bytes("select 1"), TIMEOUT_SECONDS + 1.0
    )

    assert not overran, f"estimate_bytes() still retrying after {took:.1f}s"
    assert isinstance(raised, WarehouseUnavailable)


def test_query_still_running_at_the_timeout_raises_unavailable(fake_bq, make_warehouse):
    running = {
        "kind": "bigquery#queryResponse",
        "jobReference": JOB_REFERENCE,
        "jobComplete": False,
    }
    job = {"kind": "bigquery#job", "jobReference": JOB_REFERENCE, "status": {"state": "RUNNING"}}
    fake_bq.answer("jobs.query", (200, running))
    fake_bq.answer("jobs.get", (200, job))
    fake_bq.answer("jobs.getQueryResults", (200, running))
    fake_bq.answer("jobs.cancel", (200, {"kind": "bigquery#jobCancelResponse", "job": job}))
    warehouse = make_warehouse(timeout_seconds=0.3)

    with pytest.raises(WarehouseUnavailable):
        warehouse.query("select 1")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"a-b": 1}, ValueError),
        ({"1x": 1}, ValueError),
        ({"": 1}, ValueError),
        ({"ok": object()}, TypeError),
        ({"ok": [1, object()]}, TypeError),
        ({"ok": {"nested": 1}}, TypeError),
    ],
)
@pytest.mark.parametrize("call", ["query", "estimate_bytes"])
def test_bad_parameters_are_refused_before_any_request(fake_bq, warehouse, call, params, error):
    fake_bq.answer("jobs.query", (200, QUERY_RESPONSE))

    with pytest.raises(error):
        getattr(warehouse, call)("select 1", params)

    assert fake_bq.requests == []


def test_placeholder_is_an_at_name(warehouse):
    assert warehouse.placeholder("status") == "@status"
    assert warehouse.placeholder("_from_date2") == "@_from_date2"
    for bad in ["a-b", "1x", "", "x; drop table t", "a b"]:
        with pytest.raises(ValueError):
            warehouse.placeholder(bad)
