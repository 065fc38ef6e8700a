"""Artifact store in a Cloud Storage bucket (google-cloud-storage).

Object uploads are atomic on GCS; conditional writes map to generation preconditions. The client
honours STORAGE_EMULATOR_HOST, which is how the tests run this code against a local emulator.
"""

from __future__ import annotations

from contextlib import suppress

from google.api_core import exceptions as google_errors
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from common.artifacts.base import (
    ArtifactNotFound,
    ArtifactStore,
    Blob,
    PreconditionFailed,
    check_key,
)


class GcsArtifactStore(ArtifactStore):
    def __init__(self, bucket: str, client: storage.Client | None = None):
        self.bucket_name = bucket
        self._client = client

    @property
    def _bucket(self) -> storage.Bucket:
        if self._client is None:
            self._client = storage.Client()
        return self._client.bucket(self.bucket_name)

    def _write(self, key: str, data: bytes, content_type: str, if_version: str | None) -> str:
        blob = self._bucket.blob(check_key(key))
        try:
            # Retrying is safe: an unconditional write of the same bytes is idempotent; a
            # conditional one whose first attempt landed unseen fails its precondition on the
            # retry, which the except clause below recognises by content.
            blob.upload_from_string(
                data,
                content_type=content_type,
                if_generation_match=None if if_version is None else int(if_version),
                retry=DEFAULT_RETRY,
            )
        except google_errors.PreconditionFailed:
            current = self.get(key) if self.exists(key) else None
            if current is not None and current.data == data:
                return current.version
            raise PreconditionFailed(f"{key} is not at version {if_version}") from None
        return str(blob.generation)

    def get(self, key: str) -> Blob:
        blob = self._bucket.blob(check_key(key))
        try:
            data = blob.download_as_bytes(retry=DEFAULT_RETRY)
        except google_errors.NotFound:
            raise ArtifactNotFound(key) from None
        return Blob(data, str(blob.generation))

    def exists(self, key: str) -> bool:
        return self._bucket.blob(check_key(key)).exists(retry=DEFAULT_RETRY)

    def list(self, prefix: str = "") -> list[str]:
        blobs = self._bucket.list_blobs(prefix=prefix or None, retry=DEFAULT_RETRY)
        return sorted(blob.name for blob in blobs)

    def delete(self, key: str) -> None:
        with suppress(google_errors.NotFound):
            self._bucket.blob(check_key(key)).delete(retry=DEFAULT_RETRY)
