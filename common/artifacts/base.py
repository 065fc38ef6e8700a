"""Interface and rules shared by the artifact stores."""

from __future__ import annotations

import io
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, BinaryIO

from common.validation import KEY_SEGMENT

# Pass as ``if_version`` to write only when the object does not exist yet (GCS generation 0).
MUST_NOT_EXIST = "0"
# How much of a streamed object is read (and, on GCS, sent) at a time.
BLOCK_BYTES = 8 * 1024**2

_KEY = re.compile(rf"{KEY_SEGMENT}(/{KEY_SEGMENT})*")


class ArtifactNotFound(KeyError):
    """No object under that key."""


class PreconditionFailed(Exception):
    """The object's version was not the one the write was conditional on."""


@dataclass(frozen=True)
class Blob:
    data: bytes
    version: str  # opaque; pass back as ``if_version`` for a compare-and-swap


def check_key(key: str) -> str:
    """Keys are relative slash-separated paths of safe characters: no '..', no leading '/'."""
    if not _KEY.fullmatch(key) or ".." in key or len(key) > 1024:
        raise ValueError(f"invalid artifact key {key!r}")
    return key


class ArtifactStore(ABC):
    """Objects addressed by key; every write is atomic."""

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_version: str | None = None,
    ) -> str:
        """Write ``data`` and return the new version. With ``if_version``, write only if the
        object is at that version (``MUST_NOT_EXIST``: absent), else raise PreconditionFailed."""
        return self._write(key, io.BytesIO(data), content_type, if_version)

    def put_file(
        self,
        key: str,
        source: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        if_version: str | None = None,
    ) -> str:
        """``put`` of a seekable file's whole content, streamed a block at a time: a large
        object never sits in memory."""
        return self._write(key, source, content_type, if_version)

    @abstractmethod
    def _write(self, key: str, source: BinaryIO, content_type: str, if_version: str | None) -> str:
        """``put`` as the store does it: ``source`` is written from its start."""

    @abstractmethod
    def get(self, key: str) -> Blob:
        """The object and its version, or ArtifactNotFound."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``, sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; absent objects are ignored."""

    def put_json(self, key: str, value: Any, *, if_version: str | None = None) -> str:
        data = json.dumps(value, indent=2, sort_keys=True, allow_nan=False).encode()
        return self.put(key, data, content_type="application/json", if_version=if_version)

    def get_json(self, key: str) -> Any:
        return json.loads(self.get(key).data)
