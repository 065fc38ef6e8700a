"""Where a model's artifacts live in the artifact store, and the rules for writing them.

    models/<model>/<version>/model.ubj | model.json   the model (XGBoost UBJSON | JSON document)
    models/<model>/<version>/metrics.json             every candidate's holdout metrics
    models/<model>/<version>/curves.json              the winner's holdout ROC curve and gains
    models/<model>/<version>/shap_summary.json        the winner's global explanation
    models/<model>/<version>/shap_dependence.json     its SHAP against feature values, sampled
    models/<model>/<version>/drift_reference.json     its training rows' feature and score bins
    models/<model>/<version>/model_card.json          written last: the version is complete
    models/<model>/LATEST                             {"version": ...}: the champion
    models/<model>/history/<version>.json             each run's outcome and reasons

Version files are create-only, so a published version never changes (versions trained before
curves.json, shap_dependence.json and drift_reference.json existed simply lack them). LATEST is
replaced only by compare-and-swap against the version of it that the promotion decision was
based on.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from common.artifacts import MUST_NOT_EXIST, ArtifactNotFound, ArtifactStore, PreconditionFailed

CARD = "model_card.json"
CURVES = "curves.json"
SHAP_DEPENDENCE = "shap_dependence.json"
DRIFT_REFERENCE = "drift_reference.json"
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class Pointer:
    """LATEST as read: its content and the store version a compare-and-swap must match."""

    body: dict[str, Any]
    store_version: str

    @property
    def version(self) -> str:
        return self.body["version"]


class Registry:
    def __init__(self, store: ArtifactStore, model: str):
        self.store, self.model = store, model

    def _key(self, *parts: str) -> str:
        return "/".join(("models", self.model, *parts))

    @property
    def latest_key(self) -> str:
        return self._key("LATEST")

    # --- versions -------------------------------------------------------------------------

    def write_version(self, version: str, files: dict[str, bytes]) -> None:
        """Write every file create-only, the model card last."""
        for name in sorted(files, key=lambda n: n == CARD):
            content_type = "application/json" if name.endswith(".json") else "application/ubjson"
            self.store.put(
                self._key(version, name),
                files[name],
                content_type=content_type,
                if_version=MUST_NOT_EXIST,
            )

    def read(self, version: str, name: str) -> bytes:
        return self.store.get(self._key(version, name)).data

    def read_json(self, version: str, name: str) -> dict[str, Any]:
        return json.loads(self.read(version, name))

    # --- LATEST ---------------------------------------------------------------------------

    def latest(self) -> Pointer | None:
        try:
            blob = self.store.get(self.latest_key)
        except ArtifactNotFound:
            return None
        return Pointer(json.loads(blob.data), blob.version)

    def swap_latest(self, body: dict[str, Any], expected: Pointer | None) -> str:
        """Point LATEST at ``body['version']`` if LATEST is still ``expected``; raise
        PreconditionFailed if another writer moved it since."""
        if_version = MUST_NOT_EXIST if expected is None else expected.store_version
        return self.store.put_json(self.latest_key, body, if_version=if_version)

    # --- history --------------------------------------------------------------------------

    def record(self, version: str, record: dict[str, Any]) -> None:
        # Already there: an earlier attempt of the same run recorded it; records never change.
        with suppress(PreconditionFailed):
            key = self._key("history", f"{version}.json")
            self.store.put_json(key, record, if_version=MUST_NOT_EXIST)

    def history_record(self, version: str) -> dict[str, Any] | None:
        try:
            return self.store.get_json(self._key("history", f"{version}.json"))
        except ArtifactNotFound:
            return None

    def newest_record(self, decisions: frozenset[str]) -> dict[str, Any] | None:
        """The history record of the newest version whose decision is one of ``decisions``,
        reading records newest first only until one matches."""
        for key in sorted(self.store.list(self._key("history") + "/"), reverse=True):
            record = self.store.get_json(key)
            if record.get("decision") in decisions:
                return record
        return None

    def history(self, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
        """Newest first (versions start with their UTC creation time)."""
        keys = self.store.list(self._key("history") + "/")
        return [self.store.get_json(key) for key in sorted(keys, reverse=True)[:limit]]
