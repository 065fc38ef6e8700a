"""ingest through functions-framework: thelook's real exports go in as CSV, JSON and Parquet and
come out as curated Parquet equal to what scripts/data/thelook/load.py makes of them (the
reference: the loader the warehouse already trusts); the same batch twice changes nothing; bad
rows are kept aside, bad files refused with a 4xx and nothing written."""

import gzip
import io
import json

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from common.artifacts.local import LocalArtifactStore
from scripts.data.thelook.load import RAW_TABLES, SHARED_FILES, load_shared
from tests.support.cloud_events import published
from tests.support.datasets import SHARED_DATASETS

TABLES = ("events", "orders", "order_items", "users", "products")
CSV, PARQUET = "text/csv", "application/vnd.apache.parquet"
BIG = str(32 * 1024**2)


def shared_file(table):
    path = SHARED_DATASETS / "thelook_ecommerce" / SHARED_FILES[table]
    if not path.is_file():
        pytest.skip(f"the shared thelook exports are not at {SHARED_DATASETS}")
    return path


@pytest.fixture(scope="module")
def reference():
    """raw.<table> as the warehouse loads the shared exports (deduplicated on the key)."""
    shared_file("orders")
    con = duckdb.connect()
    load_shared(con, SHARED_DATASETS)
    # raw.<table>'s naive times are UTC: compared with the curated instants on UTC.
    con.execute("set TimeZone = 'UTC'")
    return con


@pytest.fixture
def artifacts(tmp_path):
    return tmp_path / "artifacts"


@pytest.fixture
def client(function_client, artifacts, bus):
    return function_client(
        "ingest",
        EXECKPI_ARTIFACT_DIR=str(artifacts),
        EXECKPI_LOCAL_BUS_URL=bus.url,
        EXECKPI_MAX_REQUEST_BYTES=BIG,
    )


def keys(artifacts, prefix="ingest/"):
    return LocalArtifactStore(artifacts).list(prefix)


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


def curated_equals_raw(reference, artifacts, table, objects):
    """The curated rows are raw.<table>'s rows, column for column and type for type, its naive
    UTC times as UTC instants."""
    files = [str(artifacts / key) for key in objects]
    scan = f"read_parquet({files}, hive_partitioning = false)"
    rel = f"(select * exclude (_batch_id, _ingested_at) from {scan})"
    types = reference.execute(f"describe {rel}").fetchall()
    instant = {"timestamp": "timestamp with time zone"}
    assert [(name, kind.lower()) for name, kind, *_ in types] == [
        (name, instant.get(kind, kind)) for name, kind in RAW_TABLES[table].items()
    ]
    for a, b in ((rel, f"raw.{table}"), (f"raw.{table}", rel)):
        assert reference.execute(
            f"select count(*) from (from {a} except all from {b})"
        ).fetchall() == [(0,)]


@pytest.mark.parametrize("table", TABLES)
def test_the_real_exports_go_in_as_csv_and_come_out_as_the_raw_table(
    client, reference, artifacts, bus, table
):
    body = shared_file(table).read_bytes()
    response = client.post(f"/ingest/{table}", data=body, content_type=CSV)
    answer = response.get_json()
    assert response.status_code == 200, answer
    (expected,) = reference.execute(f"select count(*) from raw.{table}").fetchall()[0]
    lines = len(
        pacsv.read_csv(
            io.BytesIO(body),
            convert_options=pacsv.ConvertOptions(
                column_types={k: pa.string() for k in RAW_TABLES[table]}
            ),
        )
    )
    assert (answer["accepted"], answer["rejected"], answer["errors"]) == (expected, 0, [])
    assert answer["duplicates"] == lines - expected  # the exports repeat rows
    curated_equals_raw(reference, artifacts, table, [answer["object"]])
    (event,) = published(bus)
    assert (event.event_type, event.payload) == (
        "data-ingested",
        {
            "batch_id": answer["batch_id"],
            "table": table,
            "rows": expected,
            "object": answer["object"],
        },
    )
    assert answer["object"] == (
        f"ingest/curated/{table}/ingested_on={answer['raw'].split('/')[3]}/{answer['batch_id']}.parquet"
    )


def test_the_same_batch_twice_changes_nothing(client, artifacts, bus):
    body = shared_file("orders").read_bytes()
    first = client.post("/ingest/orders", data=body, content_type=CSV).get_json()
    written = {key: (artifacts / key).stat().st_mtime_ns for key in keys(artifacts)}
    again = client.post("/ingest/orders", data=body, content_type=CSV).get_json()
    assert again == first
    assert {key: (artifacts / key).stat().st_mtime_ns for key in keys(artifacts)} == written
    assert len(published(bus)) == 1


def test_the_same_rows_in_another_format_are_duplicates(client, reference, artifacts, bus):
    table = reference.sql("select * from raw.orders order by order_id").to_arrow_table()
    first = client.post("/ingest/orders", data=parquet_bytes(table), content_type=PARQUET)
    assert first.get_json()["accepted"] == len(table)
    rows = [json_row(row) for row in table.to_pylist()]
    second = client.post("/ingest/orders", json={"rows": rows[:400]}).get_json()
    assert (second["accepted"], second["duplicates"], second["object"]) == (0, 400, None)
    assert len(keys(artifacts, "ingest/curated/")) == 1 and len(published(bus)) == 1
    curated_equals_raw(reference, artifacts, "orders", keys(artifacts, "ingest/curated/"))


def test_json_rows_are_checked_and_bad_ones_kept_aside(client, artifacts):
    good = {
        "order_id": 1,
        "user_id": 7,
        "status": "Complete",
        "gender": "F",
        "created_at": "2025-01-02T03:04:05Z",
        "shipped_at": "2025-01-03 00:00:00 UTC",
        "delivered_at": "2025-01-04T02:00:00+02:00",
        "num_of_item": 2,
    }
    rows = [
        good,
        {**good, "order_id": 2, "status": "Lost"},
        {**good, "order_id": 3, "user_id": "7"},
        {
            **good,
            "order_id": 4,
            "created_at": "2999-01-01T00:00:00Z",
            "shipped_at": None,
            "delivered_at": None,
        },
        {**good, "order_id": 5, "delivered_at": "2025-01-02T00:00:00Z"},
        {**good, "order_id": 6, "num_of_item": None},
        {**good, "order_id": 1},  # a key the batch holds already
    ]
    answer = client.post("/ingest/orders", json={"rows": rows}).get_json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (1, 1, 5)
    assert answer["error_count"] == 5
    assert answer["errors"] == [
        {
            "row": 2,
            "field": "status",
            "rule": "must be one of Processing, Shipped, Complete, Cancelled, Returned",
        },
        {"row": 3, "field": "user_id", "rule": "must be a JSON integer"},
        {"row": 4, "field": "created_at", "rule": "must not be in the future"},
        {"row": 5, "field": "delivered_at", "rule": "must not be before shipped_at"},
        {"row": 6, "field": "num_of_item", "rule": "is required"},
    ]
    dead = (artifacts / answer["rejected_rows"]).read_text().splitlines()
    assert [json.loads(line)["value"] for line in dead] == [
        "Lost",
        '"7"',
        "2999-01-01 00:00:00.000000Z",
        "2025-01-02 00:00:00.000000Z",
        None,
    ]
    (curated,) = pq.read_table(artifacts / answer["object"]).to_pylist()
    assert curated["delivered_at"].isoformat() == "2025-01-04T00:00:00+00:00"  # +02:00, in UTC
    assert curated["_batch_id"] == answer["batch_id"]


def parquet_bytes(table):
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def json_row(row):
    return {k: v.isoformat() + "Z" if hasattr(v, "isoformat") else v for k, v in row.items()}


def orders_csv(lines):
    header = ",".join(RAW_TABLES["orders"])
    return "\n".join([header, *lines]).encode() + b"\n"


ORDER_LINE = "1,7,Complete,F,2025-01-02 03:04:05 UTC,,,,2"


@pytest.mark.parametrize(
    ("body", "content_type", "field", "words"),
    [
        (b"", CSV, "body", "is empty"),
        (orders_csv([]), CSV, "body", "holds no rows"),
        (orders_csv([ORDER_LINE]).replace(b",", b";"), CSV, "body", "';'"),
        (
            orders_csv([ORDER_LINE[:-2]]).replace(b",num_of_item", b""),
            CSV,
            "columns",
            "missing: num_of_item",
        ),
        (
            orders_csv([ORDER_LINE]).replace(b"num_of_item", b"items"),
            CSV,
            "columns",
            "missing: num_of_item",
        ),
        (
            orders_csv(
                [ORDER_LINE.replace("F", "\xe9").encode("latin-1").decode("latin-1")]
            ).replace(b"\xc3\xa9", b"\xe9"),
            CSV,
            "body",
            "not UTF-8",
        ),
        (orders_csv([ORDER_LINE + ',"unclosed']), CSV, "body", "comma-separated"),
        (
            parquet_bytes(pa.table({"order_id": [1], "user_id": ["x"]})),
            PARQUET,
            "columns",
            "missing",
        ),
        (b"PAR1 not really", PARQUET, "body", "not a Parquet file"),
        (b'{"rows": []}', "application/json", "rows", "1 to 10000"),
        (
            b'{"rows": [{"order_id": 1, "colour": "red"}]}',
            "application/json",
            "rows[0].colour",
            "unknown column",
        ),
        (b"order_id\n1\n", "text/plain", "Content-Type", "must be one of"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_written(
    function_client, artifacts, bus, body, content_type, field, words
):
    client = function_client(
        "ingest",
        EXECKPI_ARTIFACT_DIR=str(artifacts),
        EXECKPI_LOCAL_BUS_URL=bus.url,
    )
    response = client.post("/ingest/orders", data=body, content_type=content_type)
    error = error_of(response)
    assert response.status_code == 400 and error["field"] == field and words in error["message"], (
        error
    )
    assert keys(artifacts) == []


def test_a_parquet_file_of_another_schema_names_the_column(client, artifacts):
    table = pa.table({name: pa.array([1], pa.int64()) for name in RAW_TABLES["orders"]})
    response = client.post("/ingest/orders", data=parquet_bytes(table), content_type=PARQUET)
    error = error_of(response)
    assert (error["field"], error["message"]) == (
        "status",
        "is int64 in the Parquet file, not varchar",
    )
    assert keys(artifacts) == []


def test_an_oversized_body_and_an_unknown_table(client):
    response = client.post("/ingest/orders", data=b"x" * (int(BIG) + 1), content_type=CSV)
    assert response.status_code == 413
    response = client.post("/ingest/coupons", data=b"x", content_type=CSV)
    assert response.status_code == 404 and error_of(response)["known"] == list(TABLES)


def test_the_contracts_are_listed(client):
    tables = client.get("/ingest").get_json()["tables"]
    assert [t["table"] for t in tables] == list(TABLES)
    for table in tables:
        assert [(c["name"], c["type"]) for c in table["columns"]] == list(
            RAW_TABLES[table["table"]].items()
        )


def test_a_gzipped_csv_is_read_and_kept_as_received(client, reference, artifacts):
    body = gzip.compress(shared_file("users").read_bytes())
    response = client.post(
        "/ingest/users", data=body, content_type=CSV, headers={"Content-Encoding": "gzip"}
    )
    answer = response.get_json()
    assert (
        answer["accepted"] == reference.execute("select count(*) from raw.users").fetchall()[0][0]
    )
    assert (artifacts / answer["raw"]).read_bytes() == body
