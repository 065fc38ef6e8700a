"""The right to erasure end to end on DuckDB: a request recorded through dbt_build's HTTP
route, a real build on a copy of the generated warehouse, then no trace of the user in any
marts or staging table, another user's rows untouched, and the request completed. Plus the
route's answers to bad input."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

SCHEMAS = ("execkpi_marts", "execkpi_staging")
# Per-user marts whose rows for one user depend on nothing but that user's own data.
PER_USER_MARTS = (
    "customer_ltv",
    "customer_revenue_daily",
    "features_conversion",
    "ab_assignments",
)


def user_id_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every table and view of marts and staging with a user_id column, but the requests."""
    return con.execute(
        "select table_schema, table_name from information_schema.columns "
        "where column_name = 'user_id' and table_schema in (?, ?) "
        "and table_name <> 'erasure_requests' order by 1, 2",
        SCHEMAS,
    ).fetchall()


def rows_of(con: duckdb.DuckDBPyConnection, user_id: int) -> dict[str, list[tuple]]:
    return {
        name: sorted(
            con.execute(
                f"select * from execkpi_marts.{name} where user_id = ?", [user_id]
            ).fetchall()
        )
        for name in PER_USER_MARTS
    }


@pytest.fixture
def warehouse_copy(generated_warehouse: Path, tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, path)
    return path


def anonymous_events(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(
        "select count(*) from execkpi_staging.stg_thelook__events where user_id is null"
    ).fetchone()[0]


def test_an_erased_user_leaves_no_trace_after_the_next_build(function_client, bus, warehouse_copy):
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        # A customer with orders, model features and an experiment: traces everywhere.
        erased, kept = (
            row[0]
            for row in con.execute(
                "select user_id from execkpi_marts.customer_ltv "
                "where user_id in (select user_id from execkpi_marts.ab_assignments) "
                "and user_id in (select user_id from execkpi_marts.features_conversion) "
                "order by lifetime_revenue desc limit 2"
            ).fetchall()
        )
        before = {user: rows_of(con, user) for user in (erased, kept)}
        erased_revenue = con.execute(
            "select sum(revenue) from execkpi_marts.customer_revenue_daily where user_id = ?",
            [erased],
        ).fetchone()[0]
        total_before = con.execute("select sum(revenue) from execkpi_marts.revenue_daily")
        total_before = total_before.fetchone()[0]
        anonymous_before = anonymous_events(con)
    assert all(before[erased].values()) and all(before[kept].values())
    assert anonymous_before > 0
    client = function_client(
        "dbt_build", EXECKPI_DUCKDB_PATH=str(warehouse_copy), EXECKPI_LOCAL_BUS_URL=bus.url
    )

    accepted = client.post("/pipeline/erasures", json={"user_id": erased})
    unknown = client.post("/pipeline/erasures", json={"user_id": 987654321})
    assert accepted.status_code == unknown.status_code == 202
    request = accepted.get_json()
    assert request["user_id"] == erased and request["status"] == "pending"
    assert request["completed_at"] is None
    # Recorded as asked, whether the user exists or not (the answer reveals neither).
    assert set(unknown.get_json()) == set(request)
    status = client.get(f"/pipeline/erasures/{request['request_id']}").get_json()
    assert status == request

    built = client.post(
        "/pipeline/build", json={"scheduled_at": datetime.now(UTC).isoformat(), "reason": "erase"}
    )
    assert built.status_code == 200, built.get_data(as_text=True)
    summary = built.get_json()["build"]["summary"]
    assert summary["erasures"] == {"completed": 2, "pending": 0}
    assert summary["full_refresh"] == "2 erasure request(s) pending"

    done = client.get(f"/pipeline/erasures/{request['request_id']}").get_json()
    assert done["status"] == "completed"
    assert done["requested_at"] < done["completed_at"] <= datetime.now(UTC).isoformat()
    unknown_done = client.get(f"/pipeline/erasures/{unknown.get_json()['request_id']}")
    assert unknown_done.get_json()["status"] == "completed"
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        tables = user_id_tables(con)
        assert ("execkpi_marts", "features_conversion") in tables
        traces = {
            f"{schema}.{table}": con.execute(
                f'select count(*) from "{schema}"."{table}" where user_id = ?', [erased]
            ).fetchone()[0]
            for schema, table in tables
        }
        assert traces and set(traces.values()) == {0}, traces
        assert rows_of(con, kept) == before[kept]
        # Staging keeps the events of no user: a null id matches no request.
        assert anonymous_events(con) == anonymous_before
        # The aggregates lose the erased user's revenue too.
        total_after = con.execute("select sum(revenue) from execkpi_marts.revenue_daily")
        assert total_after.fetchone()[0] == pytest.approx(total_before - erased_revenue)


@pytest.fixture
def client(function_client, bus):
    """dbt_build with EXECKPI_DUCKDB_PATH at a file that does not exist (execkpi_env)."""
    return function_client("dbt_build", EXECKPI_LOCAL_BUS_URL=bus.url)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "user_id"),
        ({"user_id": None}, "user_id"),
        ({"user_id": -3}, "user_id"),
        ({"user_id": 0}, "user_id"),
        ({"user_id": 2**63}, "user_id"),
        ({"user_id": "42"}, "user_id"),
        ({"user_id": 4.5}, "user_id"),
        ({"user_id": 42.0}, "user_id"),
        ({"user_id": True}, "user_id"),
        ({"user_id": [42]}, "user_id"),
        ({"user_id": 42, "email": "a@example.com"}, "email"),
        ([42], "body"),
    ],
)
def test_bad_requests_are_400s_naming_the_field(client, body, field):
    response = client.post("/pipeline/erasures", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_argument", field)


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/pipeline/erasures", data="user_id=42", content_type="text/plain")
    assert response.status_code == 400 and "error" in response.get_json()


def test_a_malformed_request_id_is_a_400(client):
    response = client.get("/pipeline/erasures/not..an;id")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "request_id"


def test_an_unknown_request_is_a_404(function_client, bus, warehouse_copy):
    client = function_client(
        "dbt_build", EXECKPI_DUCKDB_PATH=str(warehouse_copy), EXECKPI_LOCAL_BUS_URL=bus.url
    )
    response = client.get("/pipeline/erasures/0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "request_id"


def test_a_request_asked_of_a_never_built_warehouse_is_a_404(function_client, bus, tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    client = function_client(
        "dbt_build", EXECKPI_DUCKDB_PATH=str(empty), EXECKPI_LOCAL_BUS_URL=bus.url
    )
    response = client.get("/pipeline/erasures/0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "request_id"


def test_without_a_warehouse_a_request_is_a_503_not_a_500(client):
    response = client.post("/pipeline/erasures", json={"user_id": 42})
    assert response.status_code == 503 and "error" in response.get_json()
