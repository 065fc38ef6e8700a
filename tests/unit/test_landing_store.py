"""Reading landed files: the local folder and Cloud Storage (google-cloud-storage talking to a
fake-gcs-server emulator) give the same bytes, a block at a time, and ObjectGone for an object
that is not there, or no longer at the generation the event named."""

import os
import uuid

import pytest

from common.ingest.landing_store import GcsLandingStore, LocalLandingStore, ObjectGone

DATA = os.urandom(3 * 1024**2 + 17)


def gcs_landed(emulator, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    from google.cloud import storage

    client = storage.Client(project="test-project")
    bucket = client.create_bucket(f"landing-{uuid.uuid4().hex[:12]}")
    blob = bucket.blob("orders/a.csv")
    blob.upload_from_string(DATA)
    return GcsLandingStore(client), bucket.name, str(blob.generation)


@pytest.fixture(params=["local", "gcs"])
def landed(request, tmp_path, monkeypatch):
    """(store, bucket, generation of orders/a.csv holding DATA)."""
    if request.param == "gcs":
        return gcs_landed(request.getfixturevalue("gcs_emulator"), monkeypatch)
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "a.csv").write_bytes(DATA)
    return LocalLandingStore(tmp_path), "local-landing", None


def test_the_bytes_as_landed(landed):
    store, bucket, generation = landed
    with store.open(bucket, "orders/a.csv", generation) as source:
        blocks = iter(lambda: source.read(1024**2), b"")
        assert b"".join(blocks) == DATA


def test_an_object_that_is_not_there(landed):
    store, bucket, _ = landed
    with pytest.raises(ObjectGone):
        store.open(bucket, "orders/b.csv", None)


def test_a_replaced_generation_is_gone(gcs_emulator, monkeypatch):
    store, bucket, generation = gcs_landed(gcs_emulator, monkeypatch)
    with pytest.raises(ObjectGone):
        store.open(bucket, "orders/a.csv", str(int(generation) + 1))
