"""One training run, end to end and safe to trigger unattended and more than once:
data → ``fitting.fit_and_evaluate`` → explanation → version files → promotion → records.

- the run's claim on ``runs/<run_id>/training.json`` (``common.runs``) makes a run id train
  once: a repeat returns the recorded outcome; a claim within ``RUN_LEASE`` is a run in progress
  (``InProgress``, transient: the event is redelivered later); one past it is a run that died,
  and one whose attempt raised is interrupted: the next delivery takes either over;
- the new version's files are all written before LATEST may move, so a crash at any point
  leaves the champion as it was and loadable;
- every attempt ends with the version's history record: promoted, rejected (and why) or failed;
  a finished run's record in ``runs/`` and its version's history record are the same document.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from common import runs
from common.artifacts import ArtifactNotFound
from common.ml.data import Dataset, TrainingDataError
from common.ml.documents import version_files
from common.ml.encoding import Encoder
from common.ml.features import FeatureSpec
from common.ml.fitting import Settings, Stopwatch, explain, fit_and_evaluate
from common.ml.metrics import roc_auc
from common.ml.models import load_model
from common.ml.promotion import IncomparableChampion, PromotionDecision, promote
from common.ml.registry import CARD, Registry
from common.ml.split import Split
from common.validation import RUN_ID_RULE, is_run_id

log = logging.getLogger(__name__)

RUN_LEASE = timedelta(minutes=30)  # well beyond the train function's 9-minute timeout


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
    """Train, record and maybe promote; the run's record, which its version's history repeats.

    Raises TrainingDataError for data that cannot train (recorded as the run's outcome, so a
    repeat returns the same failure) and lets other errors propagate after marking the attempt
    interrupted, so that a retry trains again.
    """
    if not is_run_id(run_id):
        raise TrainingDataError(f"run id {run_id!r} {RUN_ID_RULE}")
    started = now()
    version = new_version(started)
    base = {"model": spec.model, "run_id": run_id, "version": version, "trigger": trigger}
    claim = runs.claim(registry.store, run_id, runs.TRAINING, base, RUN_LEASE, started)
    if not isinstance(claim, runs.Claim):
        return {**claim, "repeated": True}
    if claim.record["attempt"] > 1:
        log.warning("run %s: took over from %s", run_id, claim.record["previous_attempt"])

    clock = Stopwatch()
    try:
        with clock("load"):
            dataset = load()
        training = fit_and_evaluate(dataset, spec, settings, clock=clock)
        with clock("explain"):
            explained = explain(training, dataset, spec.features, settings.shap_rows)
        winner = training.winner
        with clock("artifacts"):
            files = version_files(
                base, spec, dataset, training, explained, dict(clock.seconds), started
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
        _finish(registry, claim, _failure(exc), now())
        raise
    except Exception as exc:
        interrupted = runs.interrupt(registry.store, claim, _error(exc), now())
        registry.record(version, {**interrupted, **_failure(exc)})
        raise
    record = _finish(
        registry,
        claim,
        {
            **_decision_fields(decision),
            "winner": winner.name,
            "holdout_roc_auc": winner.metrics["roc_auc"],
            "candidates": {r.name: round(r.metrics["roc_auc"], 4) for r in training.results},
        },
        now(),
    )
    log.info("run %s: version %s %s", run_id, version, record["decision"])
    return record


def skip_run(
    registry: Registry, run_id: str, trigger: dict[str, Any], reason: str, now: datetime
) -> dict[str, Any]:
    """Record that the run trains nothing, and why; a run that already finished (trained or
    skipped) keeps its record, which is returned instead."""
    details = {"model": registry.model, "trigger": trigger}
    claim = runs.claim(registry.store, run_id, runs.TRAINING, details, RUN_LEASE, now)
    if not isinstance(claim, runs.Claim):
        return {**claim, "repeated": True}
    outcome = {"status": "skipped", "decision": "skipped", "reasons": [reason]}
    return runs.finish(registry.store, claim, outcome, now)


def _finish(
    registry: Registry, claim: runs.Claim, outcome: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """The run's record, finished with ``outcome``, and the version's history record."""
    record = runs.finish(registry.store, claim, {**outcome, "status": outcome["decision"]}, at)
    registry.record(record["version"], record)
    return record


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


def _decision_fields(decision: PromotionDecision) -> dict[str, Any]:
    return {"decision": "promoted" if decision.promoted else "rejected", **decision.to_json()}


def _failure(exc: Exception) -> dict[str, Any]:
    return {"decision": "failed", "promoted": False, "reasons": [_error(exc)]}


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"
