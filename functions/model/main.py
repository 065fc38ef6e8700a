"""model: the conversion model's champion, its explanations and history, predictions, retraining.

GET  /ml/latest    the champion: pointer, holdout metrics, model card and drift (PSI of each
                   feature and of the score on the latest snapshot, calibration by decile) as
                   the newest validation measured it
GET  /ml/shap      the champion's global SHAP summary with per-feature chart data, and the
                   original feature_names and importances [{feature, mean_abs_shap}]
GET  /ml/models    every training run, newest first: metrics, promotion decision and reasons
GET  /ml/curves    the champion's holdout ROC curve (≤ 200 exact points) and gains by decile
GET  /ml/shap/dependence/<feature>
                   the champion's SHAP values against that feature's values, sampled rows
POST /ml/predict   {"rows": [{feature: value}]} (≤ 10,000) → probability + top 3 SHAP reasons;
                   or {"user_ids": [id]} (≤ 10,000): the same for those users' rows of the
                   latest feature snapshot, with its date and the ids it does not hold
POST /ml/effects   {"experiment_id", "target"?, "features"?} → an experiment's unadjusted and
                   covariate-adjusted average effect, and effects by segment (common/ml/effects)
POST /ml/train     {"reason"?} (the body is optional): publishes model-retrain-requested; 202 with
                   the run id

With ?format=csv|xlsx (&locale=en-US|de-DE), /ml/latest answers its calibration table, /ml/shap
its importance table and /ml/models its history table as a file to download. Versions trained
before the curves and dependence samples were stored answer 404 ``not_available`` for them.

xgboost is imported on the first prediction (or segment search) only; the read endpoints serve
JSON documents.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime

import flask
import functions_framework

from common import audit, validation
from common.backends import start_function
from common.downloads import Table
from common.errors import NotFound
from common.events.envelope import Event
from common.http import Router, json_body, json_response, optional_json_body
from common.ml.drift.latest import champion_drift
from common.ml.explain import with_importances
from common.ml.features import CONVERSION
from common.ml.prediction_request import parse_rows
from common.ml.registry import CURVES, HISTORY_LIMIT, SHAP_DEPENDENCE, Registry
from common.ml.serving import Champion, ChampionCache
from common.ml.snapshot import Snapshot
from common.ml.tables import calibration_table, history_table, importance_table
from common.ml.user_predictions import USER_IDS, parse_user_ids, predict_users
from common.negotiation import (
    RESPONSE_OPTIONS,
    VARY,
    Representation,
    download_response,
    requested,
)
from common.pipeline.ledger import Ledger
from common.runs import new_run_id

CONFIG, BACKENDS = start_function("model")
router = Router(CONFIG, prefix="/ml", audit_as="model")


@functools.cache
def registry() -> Registry:
    return Registry(BACKENDS.artifacts, CONVERSION.model)


CHAMPIONS = ChampionCache(registry, CONFIG.model_reload_seconds)


def _answer(
    request: flask.Request, wanted: Representation, body: dict, table: Callable[[], Table]
) -> flask.Response:
    """The JSON answer, or its table as a file when the request asks for one."""
    headers = {"Vary": VARY}
    if not wanted.is_download:
        audit.count_answer(request, body)
        return json_response(body, 200, headers)
    download = table()
    audit.answered(request, len(download.rows))  # a download hides them from the Router
    return download_response(download, wanted, headers)


@router.route("/latest", query=RESPONSE_OPTIONS)
def latest(request: flask.Request) -> flask.Response:
    wanted = requested(request)  # a bad format or locale: 400 before the store is read
    champion = CHAMPIONS.get()
    metrics = champion.card["metrics"]
    body = {
        "version": champion.version,
        "pointer": champion.pointer,
        "metrics": metrics,
        "model_card": champion.card,
        "drift": champion_drift(Ledger(BACKENDS.artifacts), champion.version),
    }
    table = functools.partial(calibration_table, CONVERSION.model, champion.version, metrics)
    return _answer(request, wanted, body, table)


@router.route("/shap", query=RESPONSE_OPTIONS)
def shap(request: flask.Request) -> flask.Response:
    wanted = requested(request)
    champion = CHAMPIONS.get()
    body = with_importances(champion.shap_summary, champion.features)
    return _answer(request, wanted, body, lambda: importance_table(body))


@router.route("/shap/dependence/<feature>")
def shap_dependence(request: flask.Request, feature: str) -> dict:
    champion = CHAMPIONS.get()
    names = tuple(f.name for f in champion.features)
    if feature not in names:
        raise NotFound(
            f"no feature {feature!r} in the champion; see known", field="feature", known=names
        )
    document = champion.document(SHAP_DEPENDENCE, "SHAP dependence samples")
    sample = document["features"][feature]
    return {
        "version": champion.version,
        "kind": document["kind"],
        "space": document["space"],
        "feature": feature,
        "feature_kind": sample["kind"],
        "sample": {"rows": document["rows"], "seed": document["seed"], "from": document["from"]},
        "points": [
            {"value": v, "shap": s} for v, s in zip(sample["values"], sample["shap"], strict=True)
        ],
    }


@router.route("/curves")
def curves(request: flask.Request) -> dict:
    champion = CHAMPIONS.get()
    document = champion.document(CURVES, "ROC and gains curves")
    return {
        "version": champion.version,
        **{k: document[k] for k in ("kind", "rows", "roc", "gains")},
    }


@router.route("/models", query=("limit", *RESPONSE_OPTIONS))
def models(request: flask.Request) -> flask.Response:
    wanted = requested(request)
    limit = validation.whole_number(request.args.get("limit", "50"), "limit", 1, HISTORY_LIMIT)
    pointer = registry().latest()
    records = registry().history(limit)
    body = {"champion": pointer.version if pointer else None, "models": records}
    return _answer(request, wanted, body, lambda: history_table(CONVERSION.model, records))


@router.route("/predict", methods=("POST",))
def predict(request: flask.Request) -> dict:
    body = json_body(request)
    champion = CHAMPIONS.for_prediction()
    if USER_IDS in body:
        return _predict_users(champion, parse_user_ids(body))
    return champion.predict(parse_rows(body, champion.features, champion.encoder))


def _predict_users(champion: Champion, user_ids: list[int]) -> dict:
    snapshot = Snapshot(BACKENDS.warehouse, CONVERSION, CONFIG.marts_schema, champion.features)
    return predict_users(champion, snapshot, user_ids)


@router.route("/effects", methods=("POST",))
def effects(request: flask.Request) -> dict:
    # lazily: the A/B engine's modules, and scipy and xgboost after them, serve this route only
    from common.ml.effects.answer import effects_request, experiment_effects

    wanted = effects_request(json_body(request))
    return experiment_effects(BACKENDS.warehouse, CONFIG.marts_schema, wanted)


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
