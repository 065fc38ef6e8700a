"""hello_http: the foundation's sample HTTP function.

GET  /hello?name=Ada            greets through a warehouse query with a bound parameter
POST /hello {"name": "Ada"}     publishes greeting-requested; 202 with the run id
GET  /hello/greetings/<run_id>  the greeting hello_event recorded for that run (404 until then)
"""

import uuid

import flask
import functions_framework

from common import validation
from common.artifacts import ArtifactNotFound
from common.backends import start_function
from common.errors import NotFound
from common.events.envelope import Event
from common.http import Router, json_body

CONFIG, BACKENDS = start_function("hello_http")
router = Router(CONFIG, prefix="/hello")


@router.route("/", methods=("GET",), query=("name",))
def greet(request: flask.Request) -> dict:
    name = validation.name(request.args.get("name", "world"), "name")
    warehouse = BACKENDS.warehouse
    sql = f"select 'Hello, ' || {warehouse.placeholder('name')} || '!' as greeting"
    result = warehouse.query(sql, {"name": name}, labels={"function": "hello_http"})
    return {
        "greeting": result.table.column("greeting")[0].as_py(),
        "meta": {"engine": warehouse.engine, "elapsed_ms": round(result.elapsed_ms, 2)},
    }


@router.route("/", methods=("POST",))
def request_greeting(request: flask.Request) -> tuple[dict, int]:
    body = validation.known_fields(json_body(request), "", ("name",))
    name = validation.name(body.get("name"), "name")
    run_id = uuid.uuid4().hex
    event = Event("greeting-requested", "hello_http", run_id, {"name": name})
    BACKENDS.publisher.publish(event)
    return {"run_id": run_id, "event_id": event.event_id}, 202


@router.route("/greetings/<run_id>")
def get_greeting(request: flask.Request, run_id: str) -> dict:
    key = f"greetings/{validation.run_id(run_id)}.json"
    try:
        return BACKENDS.artifacts.get_json(key)
    except ArtifactNotFound:
        raise NotFound("no greeting recorded for this run yet", field="run_id") from None


@functions_framework.http
def hello_http(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
