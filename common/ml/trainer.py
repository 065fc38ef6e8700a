"""One training run, end to end and safe to trigger unattended and more than once:
data → ``training.fit_and_evaluate`` → explanation → version files → promotion → history.

- a create-only claim ``runs/<run_id>.json`` makes a run id train once: a repeat returns the
  recorded outcome; a claim younger than ``RUN_LEASE`` without an outcome is a run in progress
  (``RunInProgress``, transient: the event is redelivered later); an older one is a run that
  died, which the next delivery takes over;
- the new version's files are all written before LATEST may move, so a crash at any point
  leaves the champion as it was and loadable;
- every run ends with a history record: promoted, rejected (and why) or failed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from common.artifacts import ArtifactNotFound
from common.ml.data import Dataset, TrainingDataError
from common.ml.documents import version_files
from common.ml.encoding import Encoder
from common.ml.features import FeatureSpec
from common.ml.metrics import roc_auc
from common.ml.models import load_model
from common.ml.promotion import Decision, IncomparableChampion, promote
from common.ml.registry import CARD, Registry
from common.ml.split import Split
from common.ml.training import Settings, Stopwatch, explain, fit_and_evaluate
from common.validation import RUN_ID_RULE, is_run_id

log = logging.getLogger(__name__)

RUN_LEASE = timedelta(minutes=30)  # well beyond the train function's 9-minute timeout


class RunInProgress(Exception):
    """Another delivery of this run id is training right now; try again later."""


def new_version(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def train_run(
    registry: Registry,
    load: Callable[[], Dataset],
    spec: FeatureSpec,
    settings: Settings,
    run_id: str,
    trigger: dict[str, Any],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Train, record and maybe promote; the outcome as recorded in history.

    Raises TrainingDataError for data that cannot train (recorded; the claim is kept so a
    repeat returns the same failure) and lets other errors propagate after recording them and
    releasing the claim, so that a retry trains again.
    """
    if not is_run_id(run_id):
        raise TrainingDataError(f"run id {run_id!r} {RUN_ID_RULE}")
    started = now()
    version = new_version(started)
    previous = _claim(registry, run_id, version, started)
    if previous is not None:
        return {**previous, "repeated": True}

    base = {"model": spec.model, "run_id": run_id, "version": version, "trigger": trigger}
    clock = Stopwatch()
    try:
        with clock("load"):
            dataset = load()
        training = fit_and_evaluate(dataset, spec, settings, clock=clock)
        with clock("explain"):
            shap_summary = explain(training, dataset, spec.features, settings.shap_rows)
        winner = training.winner
        with clock("artifacts"):
            files = version_files(
                base, spec, dataset, training, shap_summary, dict(clock.seconds), started
            )
            registry.write_version(version, files)
        pointer = {
            "version": version,
            "run_id": run_id,
            "kind": winner.name,
            "holdout_roc_auc": winner.metrics["roc_auc"],
            "promoted_at": now().isoformat(),
        }
        with clock("promotion"):
            decision = promote(
                registry,
                pointer,
                winner.metrics["roc_auc"],
                lambda champion: _rescore(registry, champion, dataset, training.split),
                settings.gates,
            )
    except TrainingDataError as exc:
        registry.record(version, _failure(base, exc, now()))
        raise
    except Exception as exc:
        registry.record(version, _failure(base, exc, now()))
        registry.release_claim(run_id)
        raise
    outcome = {
        **base,
        **_decision_fields(decision),
        "winner": winner.name,
        "holdout_roc_auc": winner.metrics["roc_auc"],
        "candidates": {r.name: round(r.metrics["roc_auc"], 4) for r in training.results},
        "seconds": round(sum(clock.seconds.values()), 2),
        "finished_at": now().isoformat(),
    }
    registry.record(version, outcome)
    log.info("run %s: version %s %s", run_id, version, outcome["decision"])
    return outcome


def _claim(registry: Registry, run_id: str, version: str, now: datetime) -> dict[str, Any] | None:
    """Claim the run id; the recorded outcome if it already ran (None: go ahead and train)."""
    body = {"run_id": run_id, "version": version, "claimed_at": now.isoformat()}
    if registry.claim(run_id, body):
        return None
    claim = registry.read_claim(run_id)
    if claim is None:  # released by a failed attempt in between: try once more
        if registry.claim(run_id, body):
            return None
        raise RunInProgress(f"run {run_id} was claimed concurrently")
    recorded = registry.history_record(claim.body["version"])
    if recorded is not None:
        return recorded
    if now - datetime.fromisoformat(claim.body["claimed_at"]) < RUN_LEASE:
        raise RunInProgress(f"run {run_id} is in progress as version {claim.body['version']}")
    if not registry.claim(run_id, body, expected=claim):  # the earlier attempt died
        raise RunInProgress(f"run {run_id} was taken over concurrently")
    log.warning("run %s: took over from version %s", run_id, claim.body["version"])
    return None


def _rescore(registry: Registry, champion: str, dataset: Dataset, split: Split) -> float:
    """The champion's ROC-AUC on this run's holdout, with its own encoding."""
    try:
        card = registry.read_json(champion, CARD)
        encoder = Encoder.from_json(card["encoding"])
        missing = sorted(set(encoder.features) - set(dataset.frame))
        if missing:
            raise IncomparableChampion(f"it reads features no longer loaded: {missing}")
        model = load_model(card["model"]["kind"], registry.read(champion, card["model"]["file"]))
    except (ArtifactNotFound, KeyError, ValueError) as exc:
        raise IncomparableChampion(f"its artifacts cannot be read: {exc!r}") from exc
    x = encoder.transform(dataset.frame, split.holdout)
    return roc_auc(dataset.label[split.holdout], model.predict(x))


def _decision_fields(decision: Decision) -> dict[str, Any]:
    return {"decision": "promoted" if decision.promoted else "rejected", **decision.to_json()}


def _failure(base: dict[str, Any], exc: Exception, at: datetime) -> dict[str, Any]:
    return {
        **base,
        "decision": "failed",
        "promoted": False,
        "reasons": [f"{type(exc).__name__}: {exc}"],
        "finished_at": at.isoformat(),
    }
