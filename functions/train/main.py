"""train: trains, explains, versions and maybe promotes the conversion model, once per run id.

Triggered by data-validated (the daily pipeline) and model-retrain-requested (POST /ml/train);
publishes model-trained with the outcome: promoted or not, and why, and records it in the run
ledger (runs/<run_id>/training.json). A data-validated event about data that a newer build has
replaced since (events arrive out of order) trains nothing: the data it vouched for is gone.
"""

from contextlib import suppress
from datetime import UTC, datetime, timedelta

import functions_framework
from cloudevents.http import CloudEvent

from common.artifacts import MUST_NOT_EXIST, PreconditionFailed
from common.backends import Backends
from common.config import load_config
from common.events.consumer import PermanentError, consume
from common.events.envelope import Event
from common.logs import setup_logging
from common.ml.data import TrainingDataError, load_features
from common.ml.features import CONVERSION
from common.ml.registry import Registry
from common.ml.trainer import train_run
from common.ml.training import Settings
from common.pipeline.ledger import TRAINING, run_key
from common.warehouse import WarehouseQueryError

CONFIG = load_config()
setup_logging("train", CONFIG.log_level, CONFIG.gcp_project)
BACKENDS = Backends(CONFIG)
TRIGGERS = frozenset({"data-validated", "model-retrain-requested"})


def train_model(event: Event) -> dict:
    if event.event_type not in TRIGGERS:
        raise PermanentError(f"train does not handle {event.event_type}")
    registry = Registry(BACKENDS.artifacts, CONVERSION.model)
    trigger = {"event_type": event.event_type, "event_id": event.event_id}
    started = datetime.now(UTC)
    if event.event_type == "data-validated" and _superseded(event):
        outcome = {
            "model": CONVERSION.model,
            "run_id": event.run_id,
            "decision": "skipped",
            "reasons": ["a newer build has replaced the validated data since"],
        }
        _record(event.run_id, outcome, started)
        _publish(event.run_id, outcome)
        return {"decision": "skipped"}
    try:
        outcome = train_run(
            registry,
            lambda: load_features(BACKENDS.warehouse, CONVERSION, CONFIG.marts_schema),
            CONVERSION,
            Settings.from_config(CONFIG),
            event.run_id,
            trigger,
        )
    except (TrainingDataError, WarehouseQueryError) as exc:
        failure = {"model": CONVERSION.model, "decision": "failed", "error": str(exc)}
        _record(event.run_id, failure, started)
        _publish(event.run_id, failure)
        raise PermanentError(str(exc)) from exc
    _record(event.run_id, outcome, started)
    _publish(event.run_id, outcome)
    return {key: outcome.get(key) for key in ("version", "decision", "winner", "repeated")}


def _superseded(event: Event) -> bool:
    validated = event.payload.get("data_version")
    if not isinstance(validated, str):
        raise PermanentError("data-validated carries no data_version")
    return validated != BACKENDS.warehouse.data_version()


def _record(run_id: str, outcome: dict, started: datetime) -> None:
    """The run ledger's training stage, written once: the first delivery to get here wins (a
    repeat of a run whose record a crash prevented writes it now)."""
    finished = datetime.now(UTC)
    record = {
        **{k: v for k, v in outcome.items() if k != "repeated"},
        "status": outcome["decision"],
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "seconds": round((finished - started).total_seconds(), 2),
    }
    with suppress(PreconditionFailed):
        BACKENDS.artifacts.put_json(run_key(run_id, TRAINING), record, if_version=MUST_NOT_EXIST)


def _publish(run_id: str, payload: dict) -> None:
    BACKENDS.publisher.publish(Event("model-trained", "train", run_id, payload))


@functions_framework.cloud_event
def train(cloud_event: CloudEvent) -> None:
    consume(
        cloud_event,
        consumer="train",
        handler=train_model,
        store=BACKENDS.artifacts,
        max_age=timedelta(seconds=CONFIG.event_max_age_seconds),
    )
