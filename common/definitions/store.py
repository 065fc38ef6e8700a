"""Experiment definitions in the artifact store: every change an immutable version.

    experiments/definitions/<experiment_id>/versions/<n>-<token>.json   one version, create-only
    experiments/definitions/<experiment_id>/CURRENT                     {"version", "key"}
    experiments/definitions/INITIAL_IMPORTED                            the seed files were read

A writer first writes its version under a key nobody else uses, then moves CURRENT to it by
compare-and-swap against the CURRENT it read (MUST_NOT_EXIST for a new experiment): of two
concurrent writers exactly one succeeds, the other hears 409 and nothing it wrote is visible (a
version no CURRENT reaches is never read). A crash between the two writes leaves the same
harmless orphan. Each version names the one before it, so the history is the chain from CURRENT.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from common.artifacts import MUST_NOT_EXIST, ArtifactNotFound, ArtifactStore, PreconditionFailed
from common.definitions.changes import changed
from common.definitions.spec import FIELDS, DefinitionSpec, parse_definition
from common.errors import Conflict, NotFound

PREFIX = "experiments/definitions/"
_CURRENT = "CURRENT"
_IMPORTED = PREFIX + "INITIAL_IMPORTED"
INITIAL_AUTHOR = "initial-content"


class DefinitionNotFound(NotFound):
    field = "experiment_id"


class DefinitionConflict(Conflict):
    """Another writer got there first: re-read the definition and decide again."""

    code = "definition_conflict"
    field = "experiment_id"


@dataclass(frozen=True)
class Version:
    version: int  # 1 for the creation, +1 per change
    definition: DefinitionSpec
    changed_by: str  # the caller's subject (common.audit.principal)
    changed_at: datetime
    changes: tuple[str, ...]  # the fields this version changed; every field for the creation
    previous: str | None  # the key of the version before, None for the creation

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "definition": self.definition.as_json(),
            "changed_by": self.changed_by,
            "changed_at": self.changed_at.isoformat(),
            "changes": list(self.changes),
            "previous": self.previous,
        }

    def answer(self) -> dict[str, Any]:
        """As the API shows it: the definition with its version's who, when and what."""
        shown = self.as_json()
        del shown["previous"]  # a store key, not the client's business
        return {"experiment_id": self.definition.experiment_id, **shown}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Version:
        return cls(
            data["version"],
            parse_definition(data["definition"]),
            data["changed_by"],
            datetime.fromisoformat(data["changed_at"]),
            tuple(data["changes"]),
            data["previous"],
        )


@dataclass(frozen=True)
class _Pointer:
    key: str  # the current version's
    store_version: str  # what a compare-and-swap must match


class DefinitionStore:
    def __init__(self, artifacts: ArtifactStore):
        self.artifacts = artifacts

    # --- reading ------------------------------------------------------------------------------

    def current(self, experiment_id: str) -> Version | None:
        pointer = self._pointer(experiment_id)
        return None if pointer is None else self._version(pointer.key)

    def all(self) -> tuple[Version, ...]:
        """The current version of every experiment, by experiment id."""
        keys = self.artifacts.list(PREFIX)
        pointers = sorted(k for k in keys if k.endswith("/" + _CURRENT))
        return tuple(self._version(self.artifacts.get_json(k)["key"]) for k in pointers)

    def versions(self, experiment_id: str) -> tuple[Version, ...]:
        """Every version, the newest first; DefinitionNotFound for an unknown experiment."""
        found = self.current(experiment_id)
        if found is None:
            raise DefinitionNotFound(f"no experiment definition {experiment_id!r}")
        chain = [found]
        while chain[-1].previous is not None:
            chain.append(self._version(chain[-1].previous))
        return tuple(chain)

    # --- writing ------------------------------------------------------------------------------

    def create(self, spec: DefinitionSpec, by: str, at: datetime) -> Version:
        """Version 1; DefinitionConflict when the experiment exists (or is being created)."""
        version = Version(1, spec, by, at, FIELDS, None)
        if self._pointer(spec.experiment_id) is not None:
            raise DefinitionConflict(f"experiment {spec.experiment_id!r} is already defined")
        self._commit(version, None)
        return version

    def change(
        self, experiment_id: str, body: Mapping[str, Any], by: str, at: datetime, today: date
    ) -> Version:
        """The next version after the PATCH ``body`` (common.definitions.changes); the current
        one when nothing changes."""
        pointer = self._pointer(experiment_id)
        if pointer is None:
            raise DefinitionNotFound(f"no experiment definition {experiment_id!r}")
        current = self._version(pointer.key)
        new, fields = changed(current.definition, body, today)
        if not fields:
            return current
        version = Version(current.version + 1, new, by, at, fields, pointer.key)
        self._commit(version, pointer)
        return version

    def import_initial(self, specs: Iterable[DefinitionSpec], at: datetime) -> int:
        """The initial content, once per store: each definition not defined yet becomes its
        version 1. Returns how many were imported (0 once imported)."""
        if self.artifacts.exists(_IMPORTED):
            return 0
        imported = 0
        for spec in specs:
            try:
                self.create(spec, INITIAL_AUTHOR, at)
                imported += 1
            except DefinitionConflict:  # a person defined it first
                continue
        # A concurrent build imported too: create-only kept one version 1 each.
        with suppress(PreconditionFailed):
            self.artifacts.put_json(_IMPORTED, {"at": at.isoformat()}, if_version=MUST_NOT_EXIST)
        return imported

    # --- the store ----------------------------------------------------------------------------

    def _pointer(self, experiment_id: str) -> _Pointer | None:
        try:
            blob = self.artifacts.get(_key(experiment_id, _CURRENT))
        except ArtifactNotFound:
            return None
        return _Pointer(json.loads(blob.data)["key"], blob.version)

    def _version(self, key: str) -> Version:
        return Version.from_json(self.artifacts.get_json(key))

    def _commit(self, version: Version, expected: _Pointer | None) -> None:
        experiment_id = version.definition.experiment_id
        key = _key(experiment_id, "versions", f"{version.version}-{uuid.uuid4().hex}.json")
        self.artifacts.put_json(key, version.as_json(), if_version=MUST_NOT_EXIST)
        body = {"version": version.version, "key": key}
        if_version = MUST_NOT_EXIST if expected is None else expected.store_version
        try:
            self.artifacts.put_json(_key(experiment_id, _CURRENT), body, if_version=if_version)
        except PreconditionFailed:
            raise DefinitionConflict(
                f"experiment {experiment_id!r} was changed at the same time; read it and retry"
            ) from None


def _key(experiment_id: str, *parts: str) -> str:
    return PREFIX + "/".join((experiment_id, *parts))
