"""Artifact store in a Cloud Storage bucket (google-cloud-storage).

Object uploads are atomic on GCS; conditional writes map to generation preconditions. The client
honours STORAGE_EMULATOR_HOST, which is how the tests run this code against a local emulator.
"""

from __future__ import annotations

import base64
import hashlib
import os
from contextlib import suppress
from typing import BinaryIO

from google.api_core import exceptions as google_errors
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from common.artifacts.base import (
    BLOCK_BYTES,
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

    def _write(self, key: str, source: BinaryIO, content_type: str, if_version: str | None) -> str:
        # Up to 8 MB goes in one request; beyond, a resumable upload sends BLOCK_BYTES at a time.
        blob = self._bucket.blob(check_key(key), chunk_size=BLOCK_BYTES)
        size = source.seek(0, os.SEEK_END)
        try:
            # Retrying is safe: an unconditional write of the same bytes is idempotent; a
            # conditional one whose first attempt landed unseen fails its precondition on the
            # retry, which the except clause below recognises by content (its MD5).
            blob.upload_from_file(
                source,
                rewind=True,
                size=size,
                content_type=content_type,
                if_generation_match=None if if_version is None else int(if_version),
                retry=DEFAULT_RETRY,
            )
        except google_errors.PreconditionFailed:
            current = self._bucket.get_blob(key, retry=DEFAULT_RETRY)
            if current is not None and current.md5_hash == _md5(source):
                return str(current.generation)
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


def _md5(source: BinaryIO) -> str:
    """The file's MD5 as GCS reports an object's (base64), read a block at a time."""
    digest = hashlib.md5(usedforsecurity=False)
    source.seek(0)
    while block := source.read(BLOCK_BYTES):
        digest.update(block)
    return base64.b64encode(digest.digest()).decode()
