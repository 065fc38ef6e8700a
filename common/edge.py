"""What every function's Flask app answers outside its Router: ``GET /healthz``, and the one
JSON error shape (``common.http``) for what Flask and functions-framework answer themselves.

functions-framework runs a function's module inside its Flask app's context; ``start_function``
calls ``install_edge`` then, once per app:

- Flask's own errors become JSON errors: the HTML 404 of functions-framework's /favicon.ico and
  /robots.txt rules, paths no rule matches (a line feed in the path), a Host header that is no
  host name, a 405 for a GET on an event function;
- a 500 caused by a chunked body with broken framing, which functions-framework meets when it
  drains the body after the response (or an event function when it reads the CloudEvent),
  becomes the client's 400; any other 500 keeps functions-framework's crash marker.

``/healthz`` answers without an API key, for the gateway and the smoke test.
"""

from __future__ import annotations

import logging
from types import TracebackType

import flask
from werkzeug.exceptions import HTTPException, InternalServerError

from common.http import (
    BROKEN_FRAMING,
    HttpError,
    domain_error_response,
    error_response,
    http_error,
    is_broken_framing,
    json_response,
)
from common.validation import InvalidInput

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
# The same answer on a path Cloud Run leaves alone: it reserves some paths ending in "z", so the
# production gateway asks the portal for this one (x-execkpi-backend-path in portal.yaml).
CLOUD_RUN_HEALTH_PATH = "/health"
# functions-framework marks a crashed request with this header for its logs.
_CRASHED = {"X-Google-Status": "crash"}
_INSTALLED = "execkpi.edge"


def install_edge(name: str) -> None:
    """Install the health route and the JSON error handlers on the app importing ``name``;
    nothing outside functions-framework (a script or test importing the module)."""
    if not flask.has_app_context():
        return
    app = flask.current_app._get_current_object()
    if _INSTALLED in app.extensions:
        return
    app.extensions[_INSTALLED] = name
    app.register_error_handler(HTTPException, _client_error)
    app.register_error_handler(InternalServerError, _server_error)  # replaces the HTML one
    log_crash = app.log_exception

    def log_exception(exc_info: tuple[type, BaseException, TracebackType | None]) -> None:
        # A client's broken framing is no crash: a warning, not an error with a stack trace.
        if is_broken_framing(exc_info[1]):
            log.warning(
                "the body of %s %s: %s", flask.request.method, flask.request.path, BROKEN_FRAMING
            )
        else:
            log_crash(exc_info)

    app.log_exception = log_exception

    def healthz() -> flask.Response:
        return json_response({"status": "ok", "ok": True, "function": name})

    app.add_url_rule(HEALTH_PATH, "execkpi_healthz", healthz, methods=["GET"])
    app.add_url_rule(CLOUD_RUN_HEALTH_PATH, "execkpi_health", healthz, methods=["GET"])


def _client_error(exc: HTTPException) -> flask.Response:
    return error_response(http_error(exc))


def _server_error(exc: InternalServerError) -> flask.Response:
    cause = exc.original_exception
    if cause is not None and is_broken_framing(cause):
        return domain_error_response(InvalidInput("body", BROKEN_FRAMING))
    return error_response(HttpError(500, "internal", "internal error", headers=_CRASHED))
