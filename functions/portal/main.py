"""portal: the front door's own pages, at every path no other function claims.

GET /               to a browser (Accept prefers text/html): the dashboard (common/dashboard.py);
                    to an API client: what this service is, its project, marts dataset and docs
GET /app/<asset>    the dashboard's scripts, style and icon, built by ./dev from web/
GET /openapi.json   the OpenAPI 3.0 description of every route (built on the first request)
GET /docs           the API reference (Swagger UI from the installed swagger-ui-bundle)
GET /docs/<asset>   the reference's scripts, style and icons

Anything else answers the JSON 404 of every function. yaml and the bundle load on first use.
"""

import functools
import json

import flask
import functions_framework

from common import dashboard, openapi
from common.backends import start_function
from common.http import Router, json_response
from common.openapi import reference

CONFIG, BACKENDS = start_function("portal")
router = Router(CONFIG)


@router.route("/")
def root(request: flask.Request) -> flask.Response:
    if dashboard.wants_page(request):
        response = _send(dashboard.page(), dashboard.PAGE_CACHE)
        response.headers["Content-Security-Policy"] = dashboard.CONTENT_SECURITY_POLICY
    else:
        response = json_response(
            {
                "ok": True,
                "service": "exec-kpi-backend",
                "project": CONFIG.gcp_project,
                "dataset": CONFIG.marts_schema,
                "docs": reference.DOCS_PATH,
                "openapi": reference.DESCRIPTION_PATH,
            }
        )
    response.vary.add("Accept")  # one URL, two representations: caches must keep both
    return response


@functools.cache
def description_json() -> str:
    return json.dumps(openapi.description(), separators=(",", ":"))


@router.route(reference.DESCRIPTION_PATH)
def description(request: flask.Request) -> flask.Response:
    return flask.Response(description_json(), mimetype="application/json")


@router.route(reference.DOCS_PATH)
def docs(request: flask.Request) -> flask.Response:
    return _send(reference.page(), "no-cache")


@router.route(reference.DOCS_PATH + "/<asset>")
def docs_asset(request: flask.Request, asset: str) -> flask.Response:
    return _send(reference.asset(asset), "public, max-age=86400")


@router.route(dashboard.APP_PATH + "/<asset>")
def app_asset(request: flask.Request, asset: str) -> flask.Response:
    built = dashboard.asset(asset)
    return _send(built.document, built.cache_control)


def _send(document: reference.Document, cache_control: str) -> flask.Response:
    headers = {"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    return flask.Response(document.body, headers=headers, content_type=document.content_type)


@functions_framework.http
def portal(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
