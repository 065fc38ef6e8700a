"""hello_http: the foundation's sample HTTP function.

GET  /hello?name=Ada            greets through a warehouse query with a bound parameter
POST /hello {"name": "Ada"}     publishes greeting-requested; 202 with the run id
GET  /hello/greetings/<run_id>  the greeting hello_event recorded for that run (404 until then)
"""

import re
import uuid

import flask
import functions_framework

from common.artifacts import ArtifactNotFound
from common.backends import Backends
from common.config import load_config
from common.events.envelope import Event
from common.http import HttpError, Router, invalid, json_body
from common.logs import setup_logging

CONFIG = load_config()
setup_logging("hello_http", CONFIG.log_level, CONFIG.gcp_project)
BACKENDS = Backends(CONFIG)
router = Router(CONFIG, prefix="/hello")

_RUN_ID = re.compile(r"[0-9a-f]{32}")


def _name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
        raise invalid("name", "must be a string of 1 to 100 characters")
    if any(not ch.isprintable() for ch in value):
        raise invalid("name", "must not contain control characters")
    return value.strip()


@router.route("/", methods=("GET",))
def greet(request: flask.Request) -> dict:
    name = _name(request.args.get("name", "world"))
    warehouse = BACKENDS.warehouse
    sql = f"select 'Hello, ' || {warehouse.placeholder('name')} || '!' as greeting"
    result = warehouse.query(sql, {"name": name}, labels={"function": "hello_http"})
    return {
        "greeting": result.table.column("greeting")[0].as_py(),
        "meta": {"engine": warehouse.engine, "elapsed_ms": round(result.elapsed_ms, 2)},
    }


@router.route("/", methods=("POST",))
def request_greeting(request: flask.Request) -> tuple[dict, int]:
    name = _name(json_body(request).get("name"))
    run_id = uuid.uuid4().hex
    event = Event("greeting-requested", "hello_http", run_id, {"name": name})
    BACKENDS.publisher.publish(event)
    return {"run_id": run_id, "event_id": event.event_id}, 202


@router.route("/greetings/<run_id>")
def get_greeting(request: flask.Request, run_id: str) -> dict:
    if not _RUN_ID.fullmatch(run_id):
        raise invalid("run_id", "must be 32 lowercase hex characters")
    try:
        return BACKENDS.artifacts.get_json(f"greetings/{run_id}.json")
    except ArtifactNotFound:
        raise HttpError(
            404, "not_found", "no greeting recorded for this run yet", "run_id"
        ) from None


@functions_framework.http
def hello_http(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
