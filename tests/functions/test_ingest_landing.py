"""ingest_landing through functions-framework: storage CloudEvents (Eventarc's
storage.object.v1.finalized shape, and a GCS notification pushed through Pub/Sub) name files in
a local folder standing in for the landing bucket. A good file becomes the same batch as
POST /ingest would make of it; the same file twice changes nothing; a bad file leaves a
rejected-file record naming the problem and is acknowledged; a failing bus makes the delivery
fail so that it comes again."""

import base64
import gzip
import hashlib
import io
import json
import socket

import pyarrow.parquet as pq
import pytest
from cloudevents.http import CloudEvent

from common.artifacts.local import LocalArtifactStore
from common.events.publishers import LocalBusPublisher
from common.ingest.batches import Ingestor, checksum
from common.ingest.landing import LandedObject, LandingIntake
from common.ingest.landing_store import LocalLandingStore
from common.ingest.readers import Limits
from scripts.data.thelook.load import RAW_TABLES
from scripts.local.landing import Seen, finalized_event
from tests.support.cloud_events import post_cloud_event, published

ORDER_LINES = [
    b"900001,7,Complete,F,2025-01-02 03:04:05 UTC,,,,2",
    b"900002,8,Processing,M,2025-01-03 10:00:00 UTC,,,,1",
]
LATIN_1 = "900003,9,Complete,Ä,2025-01-02 03:04:05 UTC,,,,2".encode("latin-1")


def orders_csv(lines):
    return b"\n".join([",".join(RAW_TABLES["orders"]).encode(), *lines]) + b"\n"


@pytest.fixture
def landing(tmp_path):
    return tmp_path / "landing"


@pytest.fixture
def artifacts(tmp_path):
    return tmp_path / "artifacts"


@pytest.fixture
def client(function_client, landing, artifacts, bus):
    return function_client(
        "ingest_landing",
        EXECKPI_ARTIFACT_DIR=str(artifacts),
        EXECKPI_LANDING_DIR=str(landing),
        EXECKPI_LOCAL_BUS_URL=bus.url,
    )


def land(landing, name, data):
    path = landing / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def finalized(name, generation=1):
    """What Eventarc delivers when an object is finalized in the bucket."""
    return finalized_event(name, Seen(1, generation), bucket="shop-landing")


def notification(name, event_type="OBJECT_FINALIZE"):
    """A GCS Pub/Sub notification (JSON_API_V1) as a push subscription delivers it."""
    attributes = {
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/p/topics/landing-object-finalized",
        "id": "42",
    }
    message = {
        "data": base64.b64encode(json.dumps({"name": name}).encode()).decode(),
        "attributes": {
            "eventType": event_type,
            "bucketId": "shop-landing",
            "objectId": name,
            "objectGeneration": "1",
            "payloadFormat": "JSON_API_V1",
        },
        "messageId": "42",
    }
    return CloudEvent(attributes, {"message": message, "subscription": "projects/p/x"})


def keys(artifacts, prefix="ingest/"):
    return LocalArtifactStore(artifacts).list(prefix)


def curated_rows(artifacts):
    return sum(pq.read_metadata(artifacts / k).num_rows for k in keys(artifacts, "ingest/curated/"))


def test_a_landed_file_is_ingested_once(client, landing, artifacts, bus):
    data = orders_csv(ORDER_LINES)
    land(landing, "orders/2025-01/day-1.csv", data)
    assert post_cloud_event(client, finalized("orders/2025-01/day-1.csv")) == 200
    batch_id = checksum(io.BytesIO(data))
    [curated] = keys(artifacts, "ingest/curated/")
    assert curated.startswith("ingest/curated/orders/ingested_on=")
    assert curated.endswith(f"/{batch_id}.parquet")
    table = pq.read_table(artifacts / curated)
    assert table.column("order_id").to_pylist() == [900001, 900002]
    assert table.column("_batch_id").to_pylist() == [batch_id] * 2
    [event] = published(bus)
    assert (event.event_type, event.payload) == (
        "data-ingested",
        {"batch_id": batch_id, "table": "orders", "rows": 2, "object": curated},
    )
    before = keys(artifacts)
    # The event again, and the same file landed under another name: nothing changes.
    land(landing, "orders/copy.csv", data)
    assert post_cloud_event(client, finalized("orders/2025-01/day-1.csv")) == 200
    assert post_cloud_event(client, finalized("orders/copy.csv", generation=7)) == 200
    assert keys(artifacts) == before
    assert len(published(bus)) == 1


def test_a_gzipped_csv_through_a_pubsub_notification(client, landing, artifacts):
    land(landing, "orders/batch.csv.gz", gzip.compress(orders_csv(ORDER_LINES)))
    assert (
        post_cloud_event(client, notification("orders/batch.csv.gz", event_type="OBJECT_DELETE"))
        == 200
    )
    assert keys(artifacts) == []  # only finalisations are ingested
    assert post_cloud_event(client, notification("orders/batch.csv.gz")) == 200
    assert curated_rows(artifacts) == 2
    [raw] = keys(artifacts, "ingest/raw/")
    assert raw.endswith(".csv")  # kept as received: the gzip bytes
    assert (artifacts / raw).read_bytes()[:2] == b"\x1f\x8b"


def test_rows_that_break_the_contract_are_kept_aside(client, landing, artifacts):
    lines = [*ORDER_LINES, b"900003,9,Lost,F,2025-01-02 03:04:05 UTC,,,,1"]
    land(landing, "orders/mixed.csv", orders_csv(lines))
    assert post_cloud_event(client, finalized("orders/mixed.csv")) == 200
    assert curated_rows(artifacts) == 2
    [dead] = keys(artifacts, "ingest/rejected/")
    [row] = [json.loads(line) for line in (artifacts / dead).read_text().splitlines()]
    assert (row["row"], row["field"], row["value"]) == (3, "status", "Lost")


@pytest.mark.parametrize(
    ("name", "data", "folder", "field", "words"),
    [
        ("shipments/a.csv", b"id\n1\n", "_unknown", "table", "must be one of"),
        ("orders.csv", orders_csv(ORDER_LINES), "_unknown", "object", "<table>/<file>"),
        ("orders/a.xlsx", b"PK\x03\x04", "orders", "object", "must end in one of"),
        ("orders/header.csv", orders_csv([]), "orders", "body", "holds no rows"),
        ("orders/latin1.csv", orders_csv([LATIN_1]), "orders", "body", "not UTF-8"),
        ("orders/cols.csv", b"order_id,colour\n1,red\n", "orders", "columns", "missing"),
        ("orders/semi.csv", orders_csv(ORDER_LINES).replace(b",", b";"), "orders", "body", "';'"),
        ("orders/x.parquet", b"PAR1 not really", "orders", "body", "not a Parquet file"),
    ],
)
def test_a_bad_file_leaves_a_record_naming_the_problem(
    function_client, tmp_path, bus, capsys, name, data, folder, field, words
):
    landing, artifacts = tmp_path / "landing", tmp_path / "artifacts"
    client = function_client(
        "ingest_landing",
        EXECKPI_ARTIFACT_DIR=str(artifacts),
        EXECKPI_LANDING_DIR=str(landing),
        EXECKPI_LOCAL_BUS_URL=bus.url,
    )
    land(landing, name, data)
    assert post_cloud_event(client, finalized(name)) == 200  # acknowledged: retrying cannot help
    [key] = keys(artifacts)
    assert key.startswith(f"ingest/rejected_files/{folder}/")
    record = json.loads((artifacts / key).read_text())
    assert (record["object"], record["field"]) == (name, field)
    assert words in record["rule"], record
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [warning] = [e for e in logged if e["severity"] == "WARNING"]  # for log-based alerts
    assert warning["message"] == f"rejected {name}: {field} {record['rule']}"
    assert warning["record"] == key
    assert post_cloud_event(client, finalized(name)) == 200
    assert keys(artifacts) == [key]
    assert published(bus) == []


def intake(landing, artifacts, bus, **limits):
    """The function's intake with small caps, so a bomb and an oversized file stay small."""
    store = LocalArtifactStore(artifacts)
    ingestor = Ingestor(store, LocalBusPublisher(bus.url), Limits(**limits))
    return LandingIntake(LocalLandingStore(landing), store, ingestor, max_file_bytes=4096)


@pytest.mark.parametrize(
    ("name", "data", "rule"),
    [
        # 1 MiB of line breaks inflates past the 64 KiB cap: the gzip bomb stops there.
        ("orders/bomb.csv.gz", gzip.compress(b"\n" * 1024**2), "inflates to more than 65536 bytes"),
        ("orders/big.csv", orders_csv(ORDER_LINES * 100), "is larger than 4096 bytes"),
        ("orders/gone.csv", None, "no longer exists"),
    ],
)
def test_a_bomb_an_oversized_file_and_a_vanished_one(tmp_path, bus, name, data, rule):
    landing, artifacts = tmp_path / "landing", tmp_path / "artifacts"
    if data is not None:
        land(landing, name, data)
    record = intake(landing, artifacts, bus, max_inflated_bytes=64 * 1024).take(
        LandedObject("shop-landing", name, "1")
    )
    assert record["rule"] == rule
    assert keys(artifacts) == [record["record"]]
    if data is not None:  # named by the whole file's checksum, even past the size cap
        assert record["checksum"] == hashlib.sha256(data).hexdigest()


def test_a_failing_bus_fails_the_delivery_and_the_retry_publishes_once(
    function_client, landing, artifacts, bus
):
    land(landing, "orders/day.csv", orders_csv(ORDER_LINES))
    settings = {"EXECKPI_ARTIFACT_DIR": str(artifacts), "EXECKPI_LANDING_DIR": str(landing)}
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        dead_bus = f"http://127.0.0.1:{closed.getsockname()[1]}"
    down = function_client("ingest_landing", EXECKPI_LOCAL_BUS_URL=dead_bus, **settings)
    assert post_cloud_event(down, finalized("orders/day.csv")) == 500  # Pub/Sub delivers it again
    curated = keys(artifacts, "ingest/curated/")
    assert len(curated) == 1  # committed before the event: the retry only announces it
    up = function_client("ingest_landing", EXECKPI_LOCAL_BUS_URL=bus.url, **settings)
    assert post_cloud_event(up, finalized("orders/day.csv")) == 200
    assert keys(artifacts, "ingest/curated/") == curated
    assert [e.payload["object"] for e in published(bus)] == curated
