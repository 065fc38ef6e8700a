"""Ingesting batches exactly once (common.ingest): contracts as the raw schema has them, the
decompression cap, chunked reading, crashes injected between the steps, concurrent batches and
the key index's compaction."""

import gzip
import io
import json
import threading
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from common.artifacts.local import LocalArtifactStore
from common.events.publishers import PublishError
from common.ingest.batches import Ingestor, Upload
from common.ingest.contracts import CONTRACTS, TABLES
from common.ingest.keys import KeyIndex
from common.ingest.readers import Limits
from common.ingest.staging import ROW
from common.traffic_sources import EVENT_TRAFFIC_SOURCES, USER_TRAFFIC_SOURCES
from common.validation import InvalidInput
from scripts.data.thelook import schema
from scripts.data.thelook.load import KEYS, RAW_TABLES
from scripts.deploy.catalog import REPO_ROOT

HEADER = "order_id,user_id,status,gender,created_at,returned_at,shipped_at,delivered_at,num_of_item"


class Bus:
    """The Pub/Sub edge: records events, and refuses the first ``failures`` of them."""

    def __init__(self, failures=0):
        self.events, self.failures = [], failures

    def publish(self, event):
        if self.failures:
            self.failures -= 1
            raise PublishError("the bus is down")
        self.events.append(event)
        return str(len(self.events))


class CrashingStore(LocalArtifactStore):
    """Dies once, on the first write of a key holding ``part``, as a process killed there would."""

    def __init__(self, root, part):
        super().__init__(root)
        self.part = part

    def _write(self, key, data, content_type, if_version):
        if self.part and self.part in key:
            self.part = None
            raise SystemExit("killed")
        return super()._write(key, data, content_type, if_version)


def orders_csv(first_id, count, status="Complete"):
    lines = [
        f"{i},7,{status},F,2025-01-02 03:04:05 UTC,,,,1" for i in range(first_id, first_id + count)
    ]
    return "\n".join([HEADER, *lines]).encode() + b"\n"


def upload(body, fmt="csv", table="orders"):
    return Upload(table, fmt, io.BytesIO(body))


def curated_ids(root):
    files = sorted(str(p) for p in root.glob("ingest/curated/orders/*/*.parquet"))
    if not files:
        return []
    sql = f"select order_id from read_parquet({files}, hive_partitioning = false) order by 1"
    return [row[0] for row in duckdb.connect().sql(sql).fetchall()]


def test_contracts_are_the_raw_schema_and_the_generators_vocabularies():
    assert set(TABLES) <= set(RAW_TABLES)
    for name, contract in CONTRACTS.items():
        assert [(c.name, c.kind) for c in contract.columns] == list(RAW_TABLES[name].items())
        assert contract.key == KEYS[name]
    vocabulary = {(t, c.name): c.vocabulary for t, k in CONTRACTS.items() for c in k.columns}
    assert vocabulary["orders", "status"] == schema.ORDER_STATUSES
    assert vocabulary["order_items", "status"] == schema.ORDER_STATUSES
    assert vocabulary["events", "event_type"] == schema.EVENT_TYPES
    assert vocabulary["events", "browser"] == schema.BROWSERS
    assert vocabulary["events", "traffic_source"] == EVENT_TRAFFIC_SOURCES
    assert vocabulary["users", "traffic_source"] == USER_TRAFFIC_SOURCES
    assert vocabulary["users", "gender"] == vocabulary["orders", "gender"] == schema.GENDERS


# The name each table's key (always required) has in its staging model.
STAGING_KEYS = {
    "events": "event_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "products": "product_id",
    "users": "user_id",
}


def test_what_staging_tests_as_not_null_the_contract_requires():
    """A row the contract accepts must not fail the build's dbt tests: every column a staging
    model of an ingested table tests as not_null is required."""
    models = REPO_ROOT / "dbt_project" / "models" / "staging" / "thelook"
    assert set(STAGING_KEYS) == set(CONTRACTS)
    for name, contract in CONTRACTS.items():
        [model] = yaml.safe_load((models / f"stg_thelook__{name}.yml").read_text())["models"]
        not_null = {
            column["name"]
            for column in model["columns"]
            if "not_null" in (column.get("data_tests") or [])
        }
        required = {c.name for c in contract.columns if c.required} | {STAGING_KEYS[name]}
        assert not_null <= required, (name, not_null - required)


def test_a_gzip_bomb_stops_at_the_cap_and_nothing_is_written(tmp_path):
    store = LocalArtifactStore(tmp_path)
    ingestor = Ingestor(store, Bus(), Limits(max_inflated_bytes=1024**2))
    bomb = gzip.compress(
        orders_csv(1, 1) + b"1,7,Complete,F,2025-01-02 03:04:05 UTC,,,,1\n" * 100_000
    )
    assert len(bomb) < 100_000
    with pytest.raises(InvalidInput, match="inflates to more than 1048576 bytes"):
        ingestor.ingest(upload(bomb))
    assert store.list() == []
    answer = ingestor.ingest(
        Upload("orders", "csv", io.BytesIO(gzip.compress(orders_csv(1, 5))), True)
    )
    assert answer["accepted"] == 5


def test_small_chunks_give_the_same_answer_with_the_same_row_numbers(tmp_path):
    body = (
        orders_csv(1, 50)
        + orders_csv(1, 3).split(b"\n", 1)[1]
        + b"51,7,Lost,F,2025-01-02 03:04:05 UTC,,,,1\n"
    )
    small = Limits(chunk_rows=7, csv_block_bytes=256)
    answers = [
        Ingestor(LocalArtifactStore(tmp_path / name), Bus(), limits).ingest(upload(body))
        for name, limits in (("default", Limits()), ("small", small))
    ]
    for answer in answers:
        answer.pop("raw"), answer.pop("object"), answer.pop("rejected_rows")
    assert answers[0] == answers[1]
    assert (answers[0]["accepted"], answers[0]["duplicates"], answers[0]["rejected"]) == (50, 3, 1)
    assert answers[0]["errors"][0]["row"] == 54


def test_a_crash_between_curated_write_and_publish_publishes_once_on_retry(tmp_path):
    store, bus = LocalArtifactStore(tmp_path), Bus(failures=1)
    ingestor = Ingestor(store, bus)
    with pytest.raises(PublishError):
        ingestor.ingest(upload(orders_csv(1, 10)))
    assert curated_ids(tmp_path) == list(range(1, 11)) and bus.events == []
    first = ingestor.ingest(upload(orders_csv(1, 10)))
    again = Ingestor(store, bus).ingest(upload(orders_csv(1, 10)))
    assert first == again and first["accepted"] == 10
    assert curated_ids(tmp_path) == list(range(1, 11))
    (event,) = bus.events
    assert event.payload == {
        "batch_id": first["batch_id"],
        "table": "orders",
        "rows": 10,
        "object": first["object"],
    }


@pytest.mark.parametrize("crash_at", ["ingest/rejected/", "ingest/curated/", "/receipt.json"])
def test_a_crash_after_the_claim_writes_the_claimed_rows_on_retry(tmp_path, crash_at):
    store, bus = CrashingStore(tmp_path, crash_at), Bus()
    batch = orders_csv(1, 10) + b"11,7,Lost,F,2025-01-02 03:04:05 UTC,,,,1\n"
    with pytest.raises(SystemExit):
        Ingestor(store, bus).ingest(upload(batch))
    # Meanwhile another batch holds some of the same keys: they stay the crashed batch's.
    other = Ingestor(store, bus).ingest(upload(orders_csv(5, 10)))
    assert (other["accepted"], other["duplicates"]) == (4, 6)
    retried = Ingestor(store, bus).ingest(upload(batch))
    assert (retried["accepted"], retried["duplicates"], retried["rejected"]) == (10, 0, 1)
    assert curated_ids(tmp_path) == list(range(1, 15))
    assert sorted(e.payload["rows"] for e in bus.events) == [4, 10]


def test_concurrent_batches_with_shared_keys_keep_each_key_once(tmp_path):
    store, bus = LocalArtifactStore(tmp_path), Bus()
    answers = []

    def send(first_id):
        answers.append(Ingestor(store, bus).ingest(upload(orders_csv(first_id, 40))))

    threads = [threading.Thread(target=send, args=(first,)) for first in range(1, 121, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert curated_ids(tmp_path) == list(range(1, 151))
    assert sum(a["accepted"] for a in answers) == 150
    assert sum(a["duplicates"] for a in answers) == 12 * 40 - 150


def test_compaction_keeps_every_key_and_pending_claims(tmp_path):
    store = LocalArtifactStore(tmp_path)
    committed = {"a", "b"}
    index = KeyIndex(store, "orders", committed.__contains__, compact_at=2)

    def claim(batch, ids):
        keys = pa.table(
            {
                "order_id": pa.array(ids, pa.int64()),
                ROW: pa.array(range(1, len(ids) + 1), pa.int64()),
            }
        )
        claimed = index.claim(batch, keys)
        return claimed.rows.to_pylist(), claimed.duplicates

    assert claim("a", [1, 2]) == ([1, 2], 0)
    assert claim("b", [2, 3]) == ([2], 1)
    assert claim("c", [3, 4, 4]) == ([2], 2)  # uncommitted: stays in "recent"
    assert claim("d", [1, 4, 5]) == ([3], 2)  # merges a and b
    head = json.loads((tmp_path / "ingest/keys/orders/HEAD").read_text())
    assert list(head["recent"]) == ["c", "d"] and head["compacted"]
    assert claim("c", [3, 4, 4]) == ([2], 2)  # the crashed batch's claim survived compaction
    fresh = KeyIndex(store, "orders", committed.__contains__, compact_at=2)
    assert fresh.claim(
        "e",
        pa.table(
            {
                "order_id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
                ROW: pa.array(range(1, 7), pa.int64()),
            }
        ),
    ).rows.to_pylist() == [6]


def test_no_time_in_the_future_counts_from_the_clock(tmp_path):
    body = orders_csv(1, 1).replace(b"2025-01-02", b"2030-01-02")
    late = Ingestor(LocalArtifactStore(tmp_path / "now"), Bus()).ingest(upload(body))
    later = Ingestor(
        LocalArtifactStore(tmp_path / "later"),
        Bus(),
        clock=lambda: datetime(2031, 1, 1, tzinfo=UTC),
    ).ingest(upload(body))
    assert (late["rejected"], later["accepted"]) == (1, 1)


def test_quoted_commas_quotes_and_line_breaks_survive_small_blocks(tmp_path):
    header = ",".join(RAW_TABLES["products"])
    line = '{},2.5,Swim,"Gottex, ""Andromeda""\nOne Piece",Gottex,5,Women,ABC,1'
    body = "\n".join([header, *(line.format(i) for i in range(1, 2001))]).encode()
    small = Limits(chunk_rows=300, csv_block_bytes=1000)
    answer = Ingestor(LocalArtifactStore(tmp_path), Bus(), small).ingest(
        upload(body, table="products")
    )
    assert (answer["accepted"], answer["rejected"]) == (2000, 0)
    files = [str(p) for p in tmp_path.glob("ingest/curated/products/*/*.parquet")]
    names = duckdb.connect().sql(
        f"select distinct name from read_parquet({files}, hive_partitioning = false)"
    )
    assert names.fetchall() == [('Gottex, "Andromeda"\nOne Piece',)]


def test_curated_times_are_utc_instants_whatever_zone_they_were_sent_in(tmp_path):
    sent = {"order_id": 1, "user_id": 7, "status": "Shipped", "num_of_item": 1}
    rows = [
        {**sent, "created_at": "2026-11-23T05:00:00+01:00", "shipped_at": "2026-11-23 05:30:00"},
    ]
    at = datetime(2026, 12, 1, 9, 15, tzinfo=UTC)
    answer = Ingestor(LocalArtifactStore(tmp_path), Bus(), clock=lambda: at).ingest(
        upload(json.dumps({"rows": rows}).encode(), fmt="json")
    )
    path = tmp_path / answer["object"]
    schema = pq.read_schema(path)
    times = [f for f in schema if pa.types.is_timestamp(f.type)]
    assert [f.name for f in times] == [*contract_times("orders"), "_ingested_at"]
    assert {(f.type.unit, f.type.tz) for f in times} == {("us", "UTC")}
    # Parquet's own annotation, which BigQuery reads as TIMESTAMP rather than DATETIME.
    column = pq.ParquetFile(path).schema.column(schema.get_field_index("created_at"))
    logical = json.loads(column.logical_type.to_json())
    assert (logical["Type"], logical["isAdjustedToUTC"]) == ("Timestamp", True)
    (row,) = pq.read_table(path).to_pylist()
    assert row["created_at"] == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 05:00+01:00
    assert row["shipped_at"] == datetime(2026, 11, 23, 5, 30, tzinfo=UTC)  # no zone: UTC
    assert row["_ingested_at"] == at
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'America/New_York'")  # an instant whatever the zone
        kind, epoch = con.execute(
            "select typeof(created_at), epoch(created_at) from read_parquet(?)", [str(path)]
        ).fetchone()
    assert (kind, epoch) == ("TIMESTAMP WITH TIME ZONE", 1795406400.0)  # 2026-11-23T04:00Z


def contract_times(table):
    return [c.name for c in CONTRACTS[table].columns if c.kind == "timestamp"]


class ReadSizes(io.BytesIO):
    """A batch that remembers the largest read asked of it (a read of the rest: its size)."""

    largest = 0

    def read(self, size=-1):
        whole = size is None or size < 0
        self.largest = max(self.largest, len(self.getbuffer()) if whole else size)
        return super().read(size)

    def readinto(self, buffer):
        self.largest = max(self.largest, len(buffer))
        return super().readinto(buffer)


def orders_table(count):
    return pa.table(
        {
            "order_id": range(1, count + 1),
            "user_id": [7] * count,
            "status": ["Complete"] * count,
            "gender": ["F"] * count,
            "created_at": [datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)] * count,
            "returned_at": [None] * count,
            "shipped_at": [None] * count,
            "delivered_at": [None] * count,
            "num_of_item": [1] * count,
        },
        schema=CONTRACTS["orders"].schema,
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_batch_is_read_and_kept_a_block_at_a_time(tmp_path, monkeypatch, fmt):
    block = 64 * 1024
    monkeypatch.setattr("common.artifacts.local.BLOCK_BYTES", block)
    monkeypatch.setattr("common.ingest.batches._HASH_BLOCK", block)
    if fmt == "csv":
        body = orders_csv(1, 60_000)
    else:  # row groups of 2,000 rows, each read on its own
        sink = io.BytesIO()
        pq.write_table(orders_table(60_000), sink, row_group_size=2000)
        body = sink.getvalue()
    assert len(body) > 4 * block
    source = ReadSizes(body)
    limits = Limits(chunk_rows=2000, csv_block_bytes=block)
    answer = Ingestor(LocalArtifactStore(tmp_path), Bus(), limits).ingest(
        Upload("orders", fmt, source)
    )
    assert answer["accepted"] == 60_000
    assert source.largest <= block  # the checksum, the reader and the raw copy alike
    assert (tmp_path / answer["raw"]).read_bytes() == body
    assert curated_ids(tmp_path) == list(range(1, 60_001))
