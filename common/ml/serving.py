"""The champion of a serving instance: loaded once, reloaded when LATEST moves.

Every request asks the cache for the champion; at most every ``reload_seconds`` the cache reads
LATEST (a few bytes) and reloads the champion's documents only if its store version changed.
The model itself (and xgboost with it) is loaded on the first prediction, so the read-only
endpoints never pay for xgboost. Threads of one instance share the cache.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from common.artifacts import ArtifactNotFound
from common.errors import NotFound, Unavailable
from common.ml.encoding import Encoder, Frame
from common.ml.explain import per_feature, reasons
from common.ml.features import Feature
from common.ml.models import Model, load_model
from common.ml.registry import CARD, Registry

log = logging.getLogger(__name__)


_NO_CHAMPION = "no model has been promoted yet; POST /ml/train to train one"


class NoChampion(NotFound):
    """No model has been promoted yet, so there is no champion to describe."""

    code = "no_champion"


class NotAvailable(NotFound):
    """The champion's version was trained before a document was stored with every version."""

    code = "not_available"


class PredictionsUnavailable(Unavailable):
    """No model has been promoted yet, so there is nothing to predict with (yet)."""

    code = "no_champion"


class Champion:
    def __init__(self, registry: Registry, pointer: dict[str, Any], store_version: str):
        self.pointer, self.store_version = pointer, store_version
        self.version: str = pointer["version"]
        self.card = registry.read_json(self.version, CARD)
        self.shap_summary = registry.read_json(self.version, "shap_summary.json")
        self.features = tuple(Feature.from_json(f) for f in self.card["features"])
        self.encoder = Encoder.from_json(self.card["encoding"])
        self._registry = registry
        self._model: Model | None = None
        self._documents: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def model(self) -> Model:
        with self._lock:
            if self._model is None:
                spec = self.card["model"]
                data = self._registry.read(self.version, spec["file"])
                self._model = load_model(spec["kind"], data)
            return self._model

    def document(self, name: str, what: str) -> dict[str, Any]:
        """A version file read on first use (not every page wants it) and kept; NotAvailable
        naming ``what`` if this version has none."""
        with self._lock:
            if name not in self._documents:
                try:
                    self._documents[name] = self._registry.read_json(self.version, name)
                except ArtifactNotFound:
                    raise NotAvailable(
                        f"not available for this version ({self.version}): its {what} were "
                        "not yet stored when it was trained; a retrained version has them"
                    ) from None
            return self._documents[name]

    def predict(self, frame: Frame) -> dict[str, Any]:
        """Probabilities and the top SHAP reasons of each row."""
        matrix = self.encoder.transform(frame)
        probabilities = self.model.predict(matrix)
        explanation = per_feature(self.model.contributions(matrix), self.encoder)
        why = reasons(explanation, frame, self.features)
        return self.answer(
            float(explanation.base[0]),
            [
                {"probability": round(float(p), 6), "reasons": r}
                for p, r in zip(probabilities.tolist(), why, strict=True)
            ],
        )

    def answer(self, base_value: float | None, predictions: list[dict[str, Any]]) -> dict[str, Any]:
        """A prediction answer: ``base_value`` is None when no row was scored."""
        return {
            "version": self.version,
            "kind": self.card["model"]["kind"],
            "shap_space": "log-odds",
            "base_value": base_value,
            "predictions": predictions,
        }


class ChampionCache:
    def __init__(
        self,
        registry: Callable[[], Registry],
        reload_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._registry, self.reload_seconds, self._clock = registry, reload_seconds, clock
        self._champion: Champion | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def get(self) -> Champion:
        champion = self._current()
        if champion is None:
            raise NoChampion(_NO_CHAMPION)
        return champion

    def for_prediction(self) -> Champion:
        """The champion to predict with: without one the service is not ready yet (503),
        whereas ``get`` reports a champion to describe that does not exist (404)."""
        champion = self._current()
        if champion is None:
            raise PredictionsUnavailable(_NO_CHAMPION)
        return champion

    def _current(self) -> Champion | None:
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self.reload_seconds:
                self._refresh()
                self._checked_at = now
            return self._champion

    def _refresh(self) -> None:
        registry = self._registry()
        pointer = registry.latest()
        if pointer is None:
            self._champion = None
            return
        if self._champion is not None and self._champion.store_version == pointer.store_version:
            return
        try:
            self._champion = Champion(registry, pointer.body, pointer.store_version)
        except Exception:
            if self._champion is None:
                raise
            # Keep serving the loaded champion; the next check tries again.
            log.exception("could not load champion %s", pointer.version)
            return
        log.info("serving champion %s", self._champion.version)
