"""Where landed files are read from: the landing bucket in production, a local folder
(EXECKPI_LANDING_DIR, default .local/landing) standing in for it. Both hand out a stream, read
a block at a time, so a file far larger than a request body never sits in memory whole."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from common.config import Config

CHUNK_BYTES = 8 * 1024**2  # a GCS stream's ranged reads


class ObjectGone(Exception):
    """The object (at that generation) no longer exists: retrying cannot bring it back."""


class LandingStore(ABC):
    @abstractmethod
    def open(self, bucket: str, name: str, generation: str | None) -> BinaryIO:
        """The object's bytes as a stream to close after use; ObjectGone if it is not there."""


class LocalLandingStore(LandingStore):
    """The folder is the bucket: every bucket name reads from it (the local stand-in has one).
    Names are checked before they get here (common.ingest.landing.landed_file): no '..'."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def open(self, bucket: str, name: str, generation: str | None) -> BinaryIO:
        try:
            return (self.root / name).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectGone(name) from None


class GcsLandingStore(LandingStore):
    def __init__(self, client=None):
        self._client = client

    def open(self, bucket: str, name: str, generation: str | None) -> BinaryIO:
        # Imported here: the local stand-in never needs the client library.
        from google.api_core import exceptions as google_errors
        from google.cloud import storage
        from google.cloud.storage.retry import DEFAULT_RETRY

        if self._client is None:
            self._client = storage.Client()
        # The generation the event names: a file replaced since is another event's business.
        number = int(generation) if generation else None
        blob = self._client.bucket(bucket).blob(name, generation=number)
        try:
            blob.reload(retry=DEFAULT_RETRY)
        except google_errors.NotFound:
            raise ObjectGone(name) from None
        return blob.open("rb", chunk_size=CHUNK_BYTES, retry=DEFAULT_RETRY)


def open_landing_store(config: Config) -> LandingStore:
    if config.artifacts == "gcs":
        return GcsLandingStore()
    return LocalLandingStore(config.landing_dir)
