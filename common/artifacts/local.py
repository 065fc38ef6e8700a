"""Artifact store in a local folder: the embedded default."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from common.artifacts.base import (
    BLOCK_BYTES,
    MUST_NOT_EXIST,
    ArtifactNotFound,
    ArtifactStore,
    Blob,
    PreconditionFailed,
    check_key,
)

_TEMP_PREFIX = ".tmp-"
_LOCK_FILE = ".lock"


def _version(stat: os.stat_result) -> str:
    # A write renames a fresh file into place, so (inode, mtime) changes on every write.
    return f"{stat.st_ino}.{stat.st_mtime_ns}"


class LocalArtifactStore(ArtifactStore):
    """Writes go to a temporary file in the target folder, are fsynced, then renamed into
    place (or hard-linked, for create-only writes), so readers never see a partial file.
    Conditional writes are serialised by a lock file, which makes them safe across processes."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write(self, key: str, source: BinaryIO, content_type: str, if_version: str | None) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as temp:
                source.seek(0)
                shutil.copyfileobj(source, temp, BLOCK_BYTES)
                temp.flush()
                os.fsync(temp.fileno())
            if if_version is None:
                os.replace(temp_name, path)
            elif if_version == MUST_NOT_EXIST:
                try:
                    os.link(temp_name, path)  # fails atomically if the key exists
                except FileExistsError:
                    raise PreconditionFailed(f"{key} already exists") from None
            else:
                with self._locked():
                    current = _version(path.stat()) if path.exists() else MUST_NOT_EXIST
                    if current != if_version:
                        raise PreconditionFailed(f"{key} is at version {current}")
                    os.replace(temp_name, path)
            _fsync_dir(path.parent)
            return _version(path.stat())
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)

    def get(self, key: str) -> Blob:
        path = self._path(key)
        try:
            with path.open("rb") as file:
                return Blob(file.read(), _version(os.fstat(file.fileno())))
        except (FileNotFoundError, IsADirectoryError):
            raise ArtifactNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        keys = (
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith((_TEMP_PREFIX, _LOCK_FILE))
        )
        return sorted(key for key in keys if key.startswith(prefix))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / _LOCK_FILE).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: the new directory entry must reach the disk too."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
