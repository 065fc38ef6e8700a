"""The artifact store: a local folder by default, a Cloud Storage bucket in production.

Writes are atomic (a reader sees the old object or the new one, never half of one) and may be
conditional on the object's current version, which makes "create once" markers and
compare-and-swap pointers (``models/<name>/LATEST``) safe under concurrent writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.artifacts.base import (
    MUST_NOT_EXIST,
    ArtifactNotFound,
    ArtifactStore,
    Blob,
    PreconditionFailed,
)

if TYPE_CHECKING:
    from common.config import Config

__all__ = [
    "MUST_NOT_EXIST",
    "ArtifactNotFound",
    "ArtifactStore",
    "Blob",
    "PreconditionFailed",
    "open_artifact_store",
]


def open_artifact_store(config: Config) -> ArtifactStore:
    if config.artifacts == "gcs":
        from common.artifacts.gcs import GcsArtifactStore

        return GcsArtifactStore(config.bucket or "")
    from common.artifacts.local import LocalArtifactStore

    return LocalArtifactStore(config.artifact_dir)
