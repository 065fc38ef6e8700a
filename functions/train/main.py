"""train: trains, explains, versions and maybe promotes the conversion model, once per run id.

Triggered by data-validated (the daily pipeline) and model-retrain-requested (POST /ml/train);
after a promotion scores every user of the latest feature snapshot (common.ml.batch_scores);
publishes model-trained with the outcome: promoted or not, and why, as the run's record
(runs/<run_id>/training.json) holds it. A data-validated event about data that a newer build
has replaced since (events arrive out of order) trains nothing: the data it vouched for is gone.
Nor does one about a build started by ingestion while the newest trained model is younger than
EXECKPI_RETRAIN_MIN_INTERVAL_HOURS (common.ml.retrain_policy). A skipped run is recorded as
"skipped" with its reason and announced as such in model-trained.
"""

from datetime import UTC, datetime, timedelta

import functions_framework
from cloudevents.http import CloudEvent

from common.backends import start_function
from common.events.consumer import PermanentError
from common.events.envelope import Event
from common.ml.batch_scores import score_snapshot
from common.ml.data import TrainingDataError, load_features
from common.ml.features import CONVERSION
from common.ml.fitting import Settings
from common.ml.registry import Registry
from common.ml.retrain_policy import started_by_ingestion, too_recent
from common.ml.sampling import Caps
from common.ml.serving import Champion
from common.ml.snapshot import Snapshot
from common.ml.training_run import skip_run, train_run
from common.warehouse import WarehouseQueryError

CONFIG, BACKENDS = start_function("train")
TRIGGERS = frozenset({"data-validated", "model-retrain-requested"})
RETRAIN_INTERVAL = timedelta(hours=CONFIG.retrain_min_interval_hours)


def train_model(event: Event) -> dict:
    if event.event_type not in TRIGGERS:
        raise PermanentError(f"train does not handle {event.event_type}")
    registry = Registry(BACKENDS.artifacts, CONVERSION.model)
    trigger = {"event_type": event.event_type, "event_id": event.event_id}
    reason = _reason_to_skip(event, registry) if event.event_type == "data-validated" else None
    if reason is not None:
        outcome = skip_run(registry, event.run_id, trigger, reason, datetime.now(UTC))
        _publish(event.run_id, outcome)
        return {"decision": outcome["decision"]}
    try:
        outcome = train_run(
            registry,
            _load_features,
            CONVERSION,
            Settings.from_config(CONFIG),
            event.run_id,
            trigger,
        )
    except TrainingDataError as exc:
        _publish(event.run_id, {"model": CONVERSION.model, "decision": "failed", "error": str(exc)})
        raise PermanentError(str(exc)) from exc
    # Before the announcement: a scoring that fails redelivers the event, and the repeated
    # run scores again (an object already written is kept).
    scores = _score_users(registry) if outcome.get("decision") == "promoted" else None
    _publish(event.run_id, outcome)
    result = {key: outcome.get(key) for key in ("version", "decision", "winner", "repeated")}
    return {**result, "scores": scores}


def _score_users(registry: Registry) -> dict | None:
    """Every user of the latest feature snapshot, scored by the champion."""
    pointer = registry.latest()
    if pointer is None:
        return None
    champion = Champion(registry, pointer.body, pointer.store_version)
    snapshot = Snapshot(BACKENDS.warehouse, CONVERSION, CONFIG.marts_schema, champion.features)
    run = score_snapshot(
        BACKENDS.artifacts, CONVERSION.model, champion, snapshot, datetime.now(UTC)
    )
    return run.to_json()


def _load_features():
    """The features mart, sampled down to the configured caps; one that cannot be read is data
    that cannot train."""
    try:
        return load_features(
            BACKENDS.warehouse, CONVERSION, CONFIG.marts_schema, Caps.from_config(CONFIG)
        )
    except WarehouseQueryError as exc:
        raise TrainingDataError(str(exc)) from exc


def _reason_to_skip(event: Event, registry: Registry) -> str | None:
    if _superseded(event):
        return "a newer build has replaced the validated data since"
    if started_by_ingestion(BACKENDS.artifacts, event.run_id):
        return too_recent(registry, RETRAIN_INTERVAL, datetime.now(UTC))
    return None


def _superseded(event: Event) -> bool:
    validated = event.payload.get("data_version")
    if not isinstance(validated, str):
        raise PermanentError("data-validated carries no data_version")
    return validated != BACKENDS.warehouse.data_version()


def _publish(run_id: str, payload: dict) -> None:
    BACKENDS.publisher.publish(Event("model-trained", "train", run_id, payload))


@functions_framework.cloud_event
def train(cloud_event: CloudEvent) -> None:
    BACKENDS.consume(cloud_event, "train", train_model)
