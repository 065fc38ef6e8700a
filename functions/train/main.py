"""train: trains, explains, versions and maybe promotes the conversion model, once per run id.

Triggered by data-validated (the daily pipeline) and model-retrain-requested (POST /ml/train);
publishes model-trained with the outcome: promoted or not, and why.
"""

from datetime import timedelta

import functions_framework
from cloudevents.http import CloudEvent

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
    try:
        outcome = train_run(
            registry,
            lambda: load_features(BACKENDS.warehouse, CONVERSION, CONFIG.bq_dataset),
            CONVERSION,
            Settings.from_config(CONFIG),
            event.run_id,
            trigger,
        )
    except (TrainingDataError, WarehouseQueryError) as exc:
        _publish(event.run_id, {"model": CONVERSION.model, "decision": "failed", "error": str(exc)})
        raise PermanentError(str(exc)) from exc
    _publish(event.run_id, outcome)
    return {key: outcome.get(key) for key in ("version", "decision", "winner", "repeated")}


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
