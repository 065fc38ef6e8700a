"""The experiment definition the description's examples name (PATCH /ab/experiments/{id} and
its versions), stored as its first version so that the worked examples have it to change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from common.artifacts.local import LocalArtifactStore
from common.definitions.spec import parse_definition
from common.definitions.store import DefinitionStore
from tests.support.openapi import operations, worked_example

VERSIONS = ("GET", "/ab/experiments/{experiment_id}/versions")


def seed_definition_example(document: dict[str, Any], artifact_dir: str) -> None:
    [listing] = [op for op in operations(document) if (op.method, op.path) == VERSIONS]
    [first] = worked_example(document, listing).response["versions"]
    store = DefinitionStore(LocalArtifactStore(artifact_dir))
    changed_at = datetime.fromisoformat(first["changed_at"]).astimezone(UTC)
    store.create(parse_definition(first["definition"]), first["changed_by"], changed_at)
