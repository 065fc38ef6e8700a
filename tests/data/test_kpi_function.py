"""The kpi function's contract: catalogue, formats, caching, hostile input, both engines."""

from __future__ import annotations

import hashlib
import itertools

import duckdb
import pytest
import sqlglot
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from common.kpi.catalogue import CATALOGUE
from common.kpi.dialect import Dialect
from common.kpi.params import parse_params
from common.kpi.service import KpiService, QueryTooExpensive
from common.money import currency_of
from common.warehouse.bigquery_engine import BigQueryWarehouse
from common.warehouse.duckdb_engine import DuckDBWarehouse
from tests.support.bigquery_fake import dry_run_job, running_fake_bigquery
from tests.support.scores import KPIS_OF_SCORES


@pytest.fixture
def client(function_client, generated_warehouse):
    return function_client("kpi", EXECKPI_DUCKDB_PATH=str(generated_warehouse))


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_catalogue_describes_every_kpi(client):
    body = client.get("/kpi").get_json()
    names = [k["name"] for k in body["kpis"]]
    assert names == list(CATALOGUE)
    assert {
        "revenue",
        "funnel",
        "retention",
        "customer_ltv",
        "rfm_segments",
        "channel_performance",
        "mom_growth",
        "experiment_metrics",
        "new_vs_returning",
        "refund_rate",
        "gross_margin",
    } <= set(names)
    revenue = body["kpis"][0]
    assert {p["name"] for p in revenue["parameters"]} == {"start", "end", "grain"}
    assert revenue["grains"] == ["day", "week", "month"]
    assert revenue["columns"][0] == {"name": "period", "type": "date", "unit": "date"}
    assert revenue["columns"][3] == {"name": "revenue", "type": "money", "unit": "USD"}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_kpi_answers_with_its_declared_columns(client, name):
    params = {"experiment_id": "checkout_one_click"} if name == "experiment_metrics" else {}
    body = client.get(f"/kpi/{name}", query_string=params).get_json()
    assert [c["name"] for c in body["columns"]] == [c.name for c in CATALOGUE[name].output_columns]
    assert body["meta"]["engine"] == "duckdb" and body["meta"]["rows"] == len(body["rows"])
    assert body["rows"] or name in KPIS_OF_SCORES
    assert all(len(row) == len(body["columns"]) for row in body["rows"])


def test_post_body_and_query_string_agree(client):
    by_get = client.get("/kpi/revenue", query_string={"grain": "month"}).get_json()
    by_post = client.post("/kpi/revenue", json={"grain": "month"}).get_json()
    assert by_get["rows"] == by_post["rows"] and by_get["params"] == by_post["params"]


def test_csv_by_parameter_and_by_accept_header(client):
    as_json = client.get("/kpi/channel_performance").get_json()
    for response in (
        client.get("/kpi/channel_performance?format=csv"),
        client.get("/kpi/channel_performance", headers={"Accept": "text/csv"}),
    ):
        assert response.mimetype == "text/csv"
        lines = response.get_data(as_text=True).splitlines()
        assert lines[0].split(",") == [c["name"] for c in as_json["columns"]]
        assert len(lines) == len(as_json["rows"]) + 1


def test_results_are_cached_and_etagged(client):
    first = client.get("/kpi/revenue")
    second = client.get("/kpi/revenue")
    assert first.get_json()["meta"]["cached"] is False
    assert second.get_json()["meta"]["cached"] is True
    assert first.get_json()["rows"] == second.get_json()["rows"]
    etag = first.headers["ETag"]
    assert client.get("/kpi/revenue", headers={"If-None-Match": etag}).status_code == 304
    fresh = client.get("/kpi/revenue", headers={"Cache-Control": "no-cache"})
    assert fresh.get_json()["meta"]["cached"] is False
    other = client.get("/kpi/revenue", query_string={"grain": "week"})
    assert other.headers["ETag"] != etag


@pytest.fixture
def engine_queries(monkeypatch) -> list[str]:
    """Every statement the DuckDB engine runs from now on, recorded at the engine's edge."""
    queries: list[str] = []
    query = DuckDBWarehouse.query

    def recorded(self, sql, params=None, **options):
        queries.append(sql)
        return query(self, sql, params, **options)

    monkeypatch.setattr(DuckDBWarehouse, "query", recorded)
    return queries


def test_a_matching_etag_is_answered_without_running_the_kpi(
    function_client, generated_warehouse, engine_queries
):
    first = function_client("kpi", EXECKPI_DUCKDB_PATH=str(generated_warehouse))
    etag = first.get("/kpi/mom_growth").headers["ETag"]  # default dates: newest month looked up
    engine_queries.clear()
    revalidate = {"If-None-Match": etag, "Cache-Control": "no-cache"}  # no cached result helps
    assert first.get("/kpi/mom_growth", headers=revalidate).status_code == 304
    assert engine_queries == []
    # A new instance starts with empty caches; with explicit dates it needs no query at all.
    span = {"start": "2026-01-01", "end": "2026-03-31", "grain": "week"}
    etag = first.get("/kpi/revenue", query_string=span).headers["ETag"]
    second = function_client("kpi", EXECKPI_DUCKDB_PATH=str(generated_warehouse))
    engine_queries.clear()
    response = second.get("/kpi/revenue", query_string=span, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.headers["ETag"] == etag
    assert engine_queries == []
    response = second.get("/kpi/revenue", query_string=span, headers={"If-None-Match": '"x"'})
    assert response.status_code == 200 and response.headers["ETag"] == etag
    # The KPI, then the newest day of data that says which of its periods are complete.
    assert len(engine_queries) == 2 and engine_queries[1].startswith("select max(order_date)")


def test_a_bad_format_is_refused_before_the_warehouse_is_asked(
    function_client, generated_warehouse, engine_queries, tmp_path
):
    client = function_client("kpi", EXECKPI_DUCKDB_PATH=str(generated_warehouse))
    etag = client.get("/kpi/rfm_segments").headers["ETag"]
    engine_queries.clear()
    response = client.get("/kpi/rfm_segments?format=xml", headers={"If-None-Match": etag})
    assert response.status_code == 400 and error_of(response)["field"] == "format"
    assert engine_queries == []
    # Not even the data version is read: without a database the answer is still 400, not 503.
    missing = function_client("kpi", EXECKPI_DUCKDB_PATH=str(tmp_path / "none.duckdb"))
    assert error_of(missing.post("/kpi/revenue?format=xml", json={}))["field"] == "format"
    assert missing.get("/kpi/revenue?format=csv").status_code == 503


HOSTILE = [
    "'; drop table execkpi_marts.revenue_daily; --",
    "1 or 1=1",
    "2024-01-01' union select * from raw.users --",
    "$start",
    "@end",
    "../../etc/passwd",
    "\x00",
    "9" * 40,
    "-1",
    "²",
    "٣",  # an Arabic-Indic 3: int() reads it, the rules take ASCII digits only
    "2024-02-30",
    "0001-01-01",
    "",
    "null",
    "true",
]


def warehouse_digest(path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables order by 1, 2"
        ).fetchall()
        digest = hashlib.sha256()
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            digest.update(f"{schema}.{table}:{count}".encode())
    return digest.hexdigest()


def test_hostile_values_in_every_parameter_are_4xx_and_change_nothing(client, generated_warehouse):
    before = warehouse_digest(generated_warehouse)
    for name, kpi in CATALOGUE.items():
        for param, value in itertools.product(kpi.params, HOSTILE):
            if param.type == "bool" and value == "true":
                continue  # the one hostile text that is a boolean's query-string value
            params = {"experiment_id": "checkout_one_click"} if name == "experiment_metrics" else {}
            params[param.name] = value
            for response in (
                client.get(f"/kpi/{name}", query_string=params),
                client.post(f"/kpi/{name}", json=params),
            ):
                # A well-formed id that names nothing is a 404 (see the test below).
                allowed = (400, 404) if param.type == "id" else (400,)
                assert response.status_code in allowed, (name, param.name, value)
                assert error_of(response)["field"] == param.name
    assert warehouse_digest(generated_warehouse) == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-01", "end": "2026-01-01"}, "start"),
        ({"start": "1990-01-01", "end": "2026-01-01"}, "start"),
        ({"start": "0001-01-01"}, "start"),
        ({"grain": "year"}, "grain"),
        ({"grain": ["day"]}, "grain"),
        ({"start": 20260101}, "start"),
        ({"colour": "red"}, "colour"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": 1.5}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": 10**400}, "limit"),
    ],
)
def test_bad_parameters_name_the_field(client, params, field):
    name = "customer_ltv" if "limit" in params else "revenue"
    response = client.post(f"/kpi/{name}", json=params)
    assert response.status_code == 400 and error_of(response)["field"] == field


def test_unknown_kpi_missing_required_and_bad_format(client):
    assert error_of(client.get("/kpi/drop_table"))["field"] == "kpi"
    assert client.get("/kpi/drop_table").status_code == 404
    assert error_of(client.get("/kpi/experiment_metrics"))["field"] == "experiment_id"
    assert error_of(client.get("/kpi/revenue?format=xml"))["field"] == "format"
    assert client.delete("/kpi/revenue").status_code == 405


def test_every_id_parameter_names_where_its_ids_are_listed():
    ids = [p for kpi in CATALOGUE.values() for p in kpi.params if p.type == "id"]
    assert ids and all(p.known_in is not None for p in ids)


def test_an_unknown_experiment_id_is_a_404_listing_the_known_ones(client, generated_warehouse):
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        known = [
            row[0]
            for row in con.execute(  # the seed defining the experiments
                "select distinct experiment_id from execkpi_marts.experiments order by 1"
            ).fetchall()
        ]
    assert known
    for response in (
        client.get("/kpi/experiment_metrics", query_string={"experiment_id": "nope"}),
        client.post("/kpi/experiment_metrics", json={"experiment_id": "nope", "metric": None}),
    ):
        assert response.status_code == 404
        error = error_of(response)
        assert error["field"] == "experiment_id" and error["known"] == known
    found = client.get("/kpi/experiment_metrics", query_string={"experiment_id": known[0]})
    assert found.status_code == 200 and found.get_json()["rows"]


def test_engine_failures_are_safe_5xx(function_client, tmp_path):
    missing = function_client("kpi", EXECKPI_DUCKDB_PATH=str(tmp_path / "none.duckdb"))
    assert missing.get("/kpi/rfm_segments").status_code == 503
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    empty = function_client("kpi", EXECKPI_DUCKDB_PATH=str(tmp_path / "empty.duckdb"))
    response = empty.get("/kpi/rfm_segments")
    assert response.status_code == 502
    assert "select" not in response.get_data(as_text=True).lower()


def _sample_values(kpi) -> list[dict]:
    """Default parameters plus every grain and every filter value, parsed."""
    base = {"experiment_id": "checkout_one_click"} if kpi.name == "experiment_metrics" else {}
    variants = [dict(base)]
    for param in kpi.params:
        variants += [{**base, param.name: value} for value in param.allowed]
    parsed = []
    for raw in variants:
        values = parse_params(kpi.params, raw)
        if "start" in values:
            values |= parse_params(kpi.params, {**raw, "start": "2026-01-01", "end": "2026-03-31"})
        parsed.append(values)
    return parsed


def _placeholders(sql: str, dialect: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read=dialect)
    nodes = [*tree.find_all(sqlglot.exp.Parameter), *tree.find_all(sqlglot.exp.Placeholder)]
    return {node.name for node in nodes if node.name}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_each_engine_binds_exactly_the_placeholders_its_sql_names(name):
    kpi = CATALOGUE[name]
    for values in _sample_values(kpi):
        duck = kpi.build(Dialect("duckdb", "execkpi_marts"), values)
        big = kpi.build(Dialect("bigquery", "execkpi_marts"), values)
        named = _placeholders(big.sql, "bigquery")
        assert named == _placeholders(duck.sql, "duckdb") == set(big.params) == set(duck.params)
        assert dict(big.params) == dict(duck.params)
        # Request values are bound as given; a KPI may bind values it derives (revenue: the
        # whole periods and the cut ones of its range), never a request value changed.
        assert {n: v for n, v in big.params.items() if n in values} == {
            n: values[n] for n in named if n in values
        }
        assert "$" not in big.sql


def test_bigquery_dry_run_over_the_cap_is_refused_before_running():
    with running_fake_bigquery() as fake:
        fake.answer("jobs.insert", (200, dry_run_job("p", "EU", "select", str(50 * 10**9))))
        client = bigquery.Client(
            project="shop-prod-1",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": fake.url},
        )
        warehouse = BigQueryWarehouse(
            project="shop-prod-1",
            dataset="execkpi_marts",
            location="EU",
            max_bytes_billed=10 * 10**9,
            client=client,
            timeout_seconds=2,
        )
        service = KpiService(
            warehouse,
            "execkpi_marts",
            currency=currency_of("USD"),
            max_bytes_billed=10 * 10**9,
            time_zone="UTC",
        )
        service._version = (float("inf"), "pinned")  # skip the metadata query: not under test
        with pytest.raises(QueryTooExpensive) as refused:
            service.run(service.prepare("rfm_segments", {}))
        assert refused.value.estimate == 50 * 10**9
        assert [r.route for r in fake.requests] == ["jobs.insert"]  # dry run only
        assert fake.requests[0].body["configuration"]["dryRun"] is True
