"""The artifact store contract, run against the local folder and against Cloud Storage
(google-cloud-storage talking to a fake-gcs-server emulator on 127.0.0.1)."""

import io
import os
import threading
import uuid

import pytest

from common.artifacts import (
    MUST_NOT_EXIST,
    ArtifactNotFound,
    PreconditionFailed,
    open_artifact_store,
)
from common.artifacts.local import LocalArtifactStore
from common.config import load_config


@pytest.fixture(params=["local", "gcs"])
def store(request, tmp_path, monkeypatch):
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts")
    emulator = request.getfixturevalue("gcs_emulator")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    from google.cloud import storage

    bucket = f"test-{uuid.uuid4().hex[:12]}"
    storage.Client(project="test-project").create_bucket(bucket)
    config = load_config({"EXECKPI_ARTIFACTS": "gcs", "EXECKPI_BUCKET": bucket})
    return open_artifact_store(config)


def test_round_trip_with_versions(store):
    first = store.put("models/conversion/v1/metrics.json", b'{"auc": 0.9}')
    blob = store.get("models/conversion/v1/metrics.json")
    assert blob.data == b'{"auc": 0.9}' and blob.version == first
    second = store.put("models/conversion/v1/metrics.json", b'{"auc": 0.91}')
    assert second != first
    assert store.get("models/conversion/v1/metrics.json").version == second


def test_json_helpers(store):
    store.put_json("runs/r1/report.json", {"ok": True, "n": 3})
    assert store.get_json("runs/r1/report.json") == {"ok": True, "n": 3}
    with pytest.raises(ValueError):
        store.put_json("runs/r1/nan.json", {"x": float("nan")})
    assert not store.exists("runs/r1/nan.json")


def test_missing_objects(store):
    with pytest.raises(ArtifactNotFound):
        store.get("nope/missing.json")
    assert not store.exists("nope/missing.json")
    store.delete("nope/missing.json")  # absent is fine


def test_list_and_delete(store):
    for key in ("runs/a/x.json", "runs/a/y.json", "runs/b/z.json", "models/m/LATEST"):
        store.put(key, b"1")
    assert store.list("runs/a/") == ["runs/a/x.json", "runs/a/y.json"]
    assert store.list() == sorted(
        ["runs/a/x.json", "runs/a/y.json", "runs/b/z.json", "models/m/LATEST"]
    )
    store.delete("runs/a/x.json")
    assert store.list("runs/") == ["runs/a/y.json", "runs/b/z.json"]


def test_create_only_write_happens_once(store):
    store.put("events/train/e1.json", b"first", if_version=MUST_NOT_EXIST)
    with pytest.raises(PreconditionFailed):
        store.put("events/train/e1.json", b"second", if_version=MUST_NOT_EXIST)
    assert store.get("events/train/e1.json").data == b"first"


def test_a_file_is_written_whole_and_create_only_from_a_stream(store, tmp_path):
    # Beyond 8 MB: GCS takes it as a resumable upload, several blocks long.
    content = os.urandom(1024**2) * 9 + b"tail"
    path = tmp_path / "big.parquet"
    path.write_bytes(content)
    with path.open("rb") as source:
        source.seek(100)  # written from the start, wherever the file stands
        version = store.put_file("ingest/raw/x/big.parquet", source, if_version=MUST_NOT_EXIST)
    blob = store.get("ingest/raw/x/big.parquet")
    assert blob.data == content and blob.version == version
    with pytest.raises(PreconditionFailed):
        store.put_file("ingest/raw/x/big.parquet", io.BytesIO(b"other"), if_version=MUST_NOT_EXIST)
    assert store.get("ingest/raw/x/big.parquet").data == content


def test_gcs_takes_the_same_bytes_again_as_a_create_only_retry_that_landed(store):
    """A create-only upload whose answer was lost is retried by the client and fails its
    precondition; an object holding the same bytes (the same MD5) counts as written."""
    if isinstance(store, LocalArtifactStore):
        pytest.skip("a local write cannot land unseen")
    version = store.put("ingest/raw/x/a.csv", b"id\n1\n", if_version=MUST_NOT_EXIST)
    again = io.BytesIO(b"id\n1\n")
    assert store.put_file("ingest/raw/x/a.csv", again, if_version=MUST_NOT_EXIST) == version
    with pytest.raises(PreconditionFailed):
        store.put_file("ingest/raw/x/a.csv", io.BytesIO(b"id\n2\n"), if_version=MUST_NOT_EXIST)


def test_compare_and_swap_pointer(store):
    version = store.put("models/conversion/LATEST", b"v1")
    stale = version
    version = store.put("models/conversion/LATEST", b"v2", if_version=version)
    with pytest.raises(PreconditionFailed):
        store.put("models/conversion/LATEST", b"v3", if_version=stale)
    assert store.get("models/conversion/LATEST").data == b"v2"
    with pytest.raises(PreconditionFailed):
        store.put("models/other/LATEST", b"v1", if_version=version)  # absent is not that version


def test_racing_create_only_writers_have_one_winner(store):
    results: list[str] = []
    barrier = threading.Barrier(6)

    def write(n: int) -> None:
        barrier.wait()
        try:
            store.put("runs/race/claim", str(n).encode(), if_version=MUST_NOT_EXIST)
            results.append("won")
        except PreconditionFailed:
            results.append("lost")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["lost"] * 5 + ["won"]


def test_readers_never_see_a_partial_write(store):
    small, large = b"a" * 1000, b"b" * 2_000_000
    store.put("models/m/model.json", small)
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            data = store.get("models/m/model.json").data
            seen.add(data[:1] + str(len(data)).encode())

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(10):
        store.put("models/m/model.json", large if i % 2 == 0 else small)
    stop.set()
    reader.join()
    assert seen <= {b"a1000", b"b2000000"}


@pytest.mark.parametrize(
    "key", ["../escape", "/absolute", "a//b", "a/../b", "", "a/", "spaces in/key", "a\\b"]
)
def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(ValueError, match="invalid artifact key"):
        store.put(key, b"x")


def test_local_store_leaves_no_temp_files(tmp_path):
    store = LocalArtifactStore(tmp_path)
    store.put("a/b.json", b"1")
    store.put("a/b.json", b"2", if_version=store.get("a/b.json").version)
    with pytest.raises(PreconditionFailed):
        store.put("a/b.json", b"3", if_version=MUST_NOT_EXIST)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["b.json"]
