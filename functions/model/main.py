"""model: the conversion model's champion, its explanations and history, predictions, retraining.

GET  /ml/latest    the champion: pointer, holdout metrics and model card
GET  /ml/shap      the champion's global SHAP summary with per-feature chart data, and the
                   original feature_names and importances [{feature, mean_abs_shap}]
GET  /ml/models    every training run, newest first: metrics, promotion decision and reasons
POST /ml/predict   {"rows": [{feature: value}]} (≤ 10,000) → probability + top 3 SHAP reasons
POST /ml/train     {"reason"?} (the body is optional): publishes model-retrain-requested; 202 with
                   the run id

xgboost is imported on the first prediction only; the read endpoints serve JSON documents.
"""

import functools
from datetime import UTC, datetime

import flask
import functions_framework

from common import validation
from common.backends import start_function
from common.events.envelope import Event
from common.http import Router, json_body, optional_json_body
from common.ml.explain import with_importances
from common.ml.features import CONVERSION
from common.ml.prediction_request import parse_rows
from common.ml.registry import HISTORY_LIMIT, Registry
from common.ml.serving import ChampionCache
from common.runs import new_run_id

CONFIG, BACKENDS = start_function("model")
router = Router(CONFIG, prefix="/ml", audit_as="model")


@functools.cache
def registry() -> Registry:
    return Registry(BACKENDS.artifacts, CONVERSION.model)


CHAMPIONS = ChampionCache(registry, CONFIG.model_reload_seconds)


@router.route("/latest")
def latest(request: flask.Request) -> dict:
    champion = CHAMPIONS.get()
    return {
        "version": champion.version,
        "pointer": champion.pointer,
        "metrics": champion.card["metrics"],
        "model_card": champion.card,
    }


@router.route("/shap")
def shap(request: flask.Request) -> dict:
    champion = CHAMPIONS.get()
    return with_importances(champion.shap_summary, champion.features)


@router.route("/models", query=("limit",))
def models(request: flask.Request) -> dict:
    limit = validation.whole_number(request.args.get("limit", "50"), "limit", 1, HISTORY_LIMIT)
    pointer = registry().latest()
    return {
        "champion": pointer.version if pointer else None,
        "models": registry().history(limit),
    }


@router.route("/predict", methods=("POST",))
def predict(request: flask.Request) -> dict:
    body = json_body(request)
    champion = CHAMPIONS.for_prediction()
    return champion.predict(parse_rows(body, champion.features, champion.encoder))


@router.route("/train", methods=("POST",))
def request_training(request: flask.Request) -> tuple[dict, int]:
    body = validation.known_fields(optional_json_body(request), "", ("reason",))
    why = validation.reason(body.get("reason", ""))
    run_id = new_run_id("retrain", datetime.now(UTC))
    event = Event("model-retrain-requested", "model", run_id, {"reason": why})
    BACKENDS.publisher.publish(event)
    return {"run_id": run_id, "event_id": event.event_id}, 202


@functions_framework.http
def model(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
