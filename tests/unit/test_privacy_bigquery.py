"""Erasure requests on BigQuery, through google-cloud-bigquery's own request layer against the
fake BigQuery REST API (tests/support/bigquery_fake.py): what the library would send Google
when a request is recorded, read, checked for traces and completed. Every value travels as a
typed query parameter; the SQL text holds table names only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlglot
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from common.privacy.completion import Marts, complete_erasures
from common.privacy.erasures import ErasureLedger, ErasureRequest
from common.warehouse.bigquery_engine import BigQueryWarehouse
from tests.support.bigquery_fake import FakeBigQuery, running_fake_bigquery

PROJECT, LOCATION = "shop-project", "EU"
TABLE = f"`{PROJECT}.execkpi_staging.erasure_requests`"
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
USER_ID = 4242


@pytest.fixture
def fake_bq() -> Iterator[FakeBigQuery]:
    with running_fake_bigquery() as fake:
        yield fake


@pytest.fixture
def warehouse(fake_bq: FakeBigQuery) -> Iterator[BigQueryWarehouse]:
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": fake_bq.url},
    )
    warehouse = BigQueryWarehouse(
        project=PROJECT,
        dataset="execkpi_marts",
        location=LOCATION,
        max_bytes_billed=10**9,
        client=client,
        timeout_seconds=2.0,
    )
    yield warehouse
    warehouse.close()


def answer(fields: list[tuple[str, str]] = (), rows: list[list[str | None]] = ()) -> tuple:
    """jobs.query's answer: a finished job with these columns and rows (a DML: none)."""
    body: dict[str, Any] = {
        "kind": "bigquery#queryResponse",
        "jobReference": {"projectId": PROJECT, "jobId": "job_1", "location": LOCATION},
        "jobComplete": True,
        "totalRows": str(len(rows)),
        "schema": {"fields": [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in fields]},
        "rows": [{"f": [{"v": v} for v in row]} for row in rows],
    }
    return 200, body


def parameters(request) -> dict[str, dict]:
    return {p["name"]: p for p in request.body["queryParameters"]}


def test_recording_a_request_sends_an_insert_with_typed_parameters(fake_bq, warehouse):
    fake_bq.answer("jobs.query", answer())
    recorded = ErasureLedger(warehouse, PROJECT).record(USER_ID, AT)

    [request] = fake_bq.calls("jobs.query")
    sql = request.body["query"]
    assert sql.startswith(f"insert into {TABLE} ")
    assert "@user_id" in sql and str(USER_ID) not in json.dumps(request.body["query"])
    sent = parameters(request)
    assert sent["user_id"]["parameterType"] == {"type": "INT64"}
    assert sent["user_id"]["parameterValue"] == {"value": str(USER_ID)}
    assert sent["request_id"]["parameterValue"] == {"value": recorded.request_id}
    assert sent["requested_at"]["parameterType"] == {"type": "TIMESTAMP"}
    assert datetime.fromisoformat(sent["requested_at"]["parameterValue"]["value"]) == AT
    assert request.body["labels"]["purpose"] == "erasure_request"
    assert sqlglot.parse_one(sql, read="bigquery") is not None
    assert recorded.status == "pending"


def test_the_table_is_created_as_the_dbt_hook_creates_it(fake_bq, warehouse):
    fake_bq.answer("jobs.query", answer())
    ErasureLedger(warehouse, PROJECT).prepare()
    [request] = fake_bq.calls("jobs.query")  # no CREATE SCHEMA: the dataset is Terraform's
    create = sqlglot.parse_one(request.body["query"], read="bigquery")
    columns = {
        c.name: c.args["kind"].sql("bigquery") for c in create.find_all(sqlglot.exp.ColumnDef)
    }
    assert columns == {
        "request_id": "STRING",
        "user_id": "INT64",
        "requested_at": "TIMESTAMP",
        "completed_at": "TIMESTAMP",
    }


def test_a_request_is_read_back_by_its_id_as_a_parameter(fake_bq, warehouse):
    micros = str(int(AT.timestamp() * 10**6))
    fields = [
        ("request_id", "STRING"),
        ("user_id", "INTEGER"),
        ("requested_at", "TIMESTAMP"),
        ("completed_at", "TIMESTAMP"),
    ]
    table_exists = answer([("n", "INTEGER")], [["1"]])
    fake_bq.answer(
        "jobs.query", table_exists, answer(fields, [["abc", str(USER_ID), micros, None]])
    )
    found = ErasureLedger(warehouse, PROJECT).find("abc")
    assert found == ErasureRequest("abc", USER_ID, AT, None)
    exists, request = fake_bq.calls("jobs.query")
    assert f"`{PROJECT}.execkpi_staging`.INFORMATION_SCHEMA.TABLES" in exists.body["query"]
    assert "@request_id" in request.body["query"] and "'abc'" not in request.body["query"]
    assert parameters(request)["request_id"]["parameterValue"] == {"value": "abc"}


def test_completion_checks_every_user_table_then_updates_with_parameters(fake_bq, warehouse):
    catalogue = answer([("table_name", "STRING")], [["customer_ltv"], ["features_conversion"]])
    no_traces = answer([("table_name", "STRING"), ("found", "INTEGER")], [])
    fake_bq.answer("jobs.query", catalogue, no_traces, answer())
    included = [ErasureRequest("r1", USER_ID, AT, None), ErasureRequest("r2", 7, AT, None)]
    outcome = complete_erasures(
        ErasureLedger(warehouse, PROJECT),
        included,
        Marts("execkpi_marts", PROJECT),
        models_built=True,
        at=AT,
    )
    assert outcome.counts() == {"completed": 2, "pending": 0}
    listed, counted, updated = fake_bq.calls("jobs.query")
    assert f"`{PROJECT}.execkpi_marts`.INFORMATION_SCHEMA.COLUMNS" in listed.body["query"]
    check = counted.body["query"]
    assert f"`{PROJECT}.execkpi_marts.features_conversion`" in check
    assert check.count("user_id in unnest(@user_ids)") == 2
    ids = parameters(counted)["user_ids"]
    assert ids["parameterType"] == {"type": "ARRAY", "arrayType": {"type": "INT64"}}
    assert ids["parameterValue"]["arrayValues"] == [{"value": "7"}, {"value": str(USER_ID)}]
    assert updated.body["query"].startswith(f"update {TABLE} set completed_at = @completed_at")
    assert parameters(updated)["request_ids"]["parameterValue"]["arrayValues"] == [
        {"value": "r1"},
        {"value": "r2"},
    ]
    for request in (listed, counted, updated):
        assert sqlglot.parse_one(request.body["query"], read="bigquery") is not None


def test_a_trace_left_in_a_mart_keeps_every_request_pending(fake_bq, warehouse):
    catalogue = answer([("table_name", "STRING")], [["customer_ltv"]])
    traces = answer([("table_name", "STRING"), ("found", "INTEGER")], [["customer_ltv", "3"]])
    fake_bq.answer("jobs.query", catalogue, traces)
    outcome = complete_erasures(
        ErasureLedger(warehouse, PROJECT),
        [ErasureRequest("r1", USER_ID, AT, None)],
        Marts("execkpi_marts", PROJECT),
        models_built=True,
        at=AT,
    )
    assert outcome.counts() == {"completed": 0, "pending": 1}
    assert dict(outcome.traces) == {"customer_ltv": 3}
    assert len(fake_bq.calls("jobs.query")) == 2  # no update


def test_a_build_that_errored_completes_nothing_and_asks_nothing(fake_bq, warehouse):
    outcome = complete_erasures(
        ErasureLedger(warehouse, PROJECT),
        [ErasureRequest("r1", USER_ID, AT, None)],
        Marts("execkpi_marts", PROJECT),
        models_built=False,
        at=AT,
    )
    assert outcome.counts() == {"completed": 0, "pending": 1}
    assert fake_bq.requests == []
