"""What every HTTP function shares: routing, JSON in and out, one error shape, request-size
limit, CORS allow-list and an optional API key.

A function builds a ``Router``, registers handlers on it and hands each request to
``router.dispatch``. Handlers receive the Flask request plus the path's variables and return a
JSON-able value (or a ``(body, status)`` pair, or a ready ``flask.Response``). They never
speak HTTP errors: bad input raises ``common.validation.InvalidInput`` and other outcomes a
client must hear about raise a kind from ``common.errors``; ``DOMAIN_ERRORS`` turns each into

    {"error": {"code": "invalid_argument", "message": "...", "field": "name"}}

with the kind's status (400 for bad input, 404, 409, 422, 503, 502). An error that names the
valid choices adds them as ``"known": [...]`` (a 404 for an unknown experiment lists the known
ones); no other key is ever added. Errors of the request itself (path, method, Host, size, a
chunked body with broken framing, unknown query parameters) get the same shape, here for what
the Router sees and in ``common.edge`` for what Flask answers before or after it.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import flask
from werkzeug.exceptions import BadHost, HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import Map, Rule

from common import audit, errors
from common.config import Config
from common.logs import parse_trace_header, reset_trace, set_trace
from common.validation import InvalidInput, known_fields

log = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
_BODY_LIMIT_KEY = "execkpi.max_request_bytes"
_CORS_HEADERS = "Content-Type, Authorization, " + API_KEY_HEADER
_SLASHES = re.compile("/{2,}")
# The real server (gunicorn) decodes a chunked body while the application reads it, and raises
# its parser's errors then. Matched by module: importing gunicorn would cost every cold start.
_SERVER_BODY_ERRORS = "gunicorn.http.errors"
BROKEN_FRAMING = "its chunked transfer encoding is malformed or cut short"

# Each kind of domain error, its status and its code unless the error names its own; the first
# row the error is an instance of wins (a warehouse that is down is Unavailable and an
# UpstreamError: 503, since trying again may work).
DOMAIN_ERRORS: tuple[tuple[type[errors.DomainError], int, str], ...] = (
    (InvalidInput, 400, "invalid_argument"),
    (errors.NotFound, 404, "not_found"),
    (errors.Conflict, 409, "conflict"),
    (errors.Unprocessable, 422, "unprocessable"),
    (errors.Unavailable, 503, "unavailable"),
    (errors.UpstreamError, 502, "upstream_error"),
)


class HttpError(Exception):
    """An error of the request itself (key, origin, path, method, size) that the Router answers
    before any handler runs; handlers and ``common`` raise ``common.errors`` kinds instead."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        known: tuple[str, ...] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers or {}
        self.known = known


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> flask.Response:
    # allow_nan=False: a NaN or infinity reaching a response is a bug, never valid JSON.
    text = json.dumps(body, default=_to_json, allow_nan=False, separators=(",", ":"))
    return flask.Response(text, status, headers, mimetype="application/json")


def error_response(error: HttpError) -> flask.Response:
    shown: dict[str, Any] = {"code": error.code, "message": error.message, "field": error.field}
    if error.known is not None:
        shown["known"] = list(error.known)
    return json_response({"error": shown}, error.status, error.headers)


def domain_error_response(error: errors.DomainError) -> flask.Response:
    status, code = next((s, c) for kind, s, c in DOMAIN_ERRORS if isinstance(error, kind))
    code = error.code or code
    if status >= 500:  # the client gets the safe message; the log gets what went wrong
        level = logging.WARNING if status == 503 else logging.ERROR  # 503: may pass by itself
        log.log(level, "%s: %s", code, error.__cause__ or error)
    return error_response(HttpError(status, code, error.message, error.field, known=error.known))


def http_error(exc: HTTPException, body_limit: int | None = None) -> HttpError:
    """What werkzeug raises about a request (no route, wrong method, bad Host, size), as an
    error in the one shape; ``body_limit`` names the limit a 413 is about, when known."""
    if isinstance(exc, BadHost):
        return HttpError(400, "invalid_argument", "is not a valid host name", "Host")
    if isinstance(exc, MethodNotAllowed):
        allowed = ", ".join(sorted(exc.valid_methods or []))
        return HttpError(405, "method_not_allowed", f"use {allowed}", "method", {"Allow": allowed})
    if isinstance(exc, RequestEntityTooLarge):
        limit = f"{body_limit} bytes" if body_limit is not None else "the limit"
        return HttpError(413, "payload_too_large", f"the body exceeds {limit}", "body")
    status = exc.code or 500
    if status == 404:
        return HttpError(404, "not_found", "no such resource", "path")
    if status == 400:  # werkzeug's other 400s are about the body (a CloudEvent, a form)
        return HttpError(400, "invalid_argument", "the body is malformed", "body")
    if status >= 500:  # a 5xx names no internals
        return HttpError(status, "internal", "internal error")
    return HttpError(status, re.sub(r"\W+", "_", exc.name.lower()), exc.name.lower())


def is_broken_framing(exc: BaseException) -> bool:
    """Whether reading the body failed because the client's chunked framing is broken."""
    return type(exc).__module__ == _SERVER_BODY_ERRORS


def json_body(request: flask.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying why it is not one."""
    raw = _read_body(request)
    if not raw.strip():
        raise InvalidInput("body", "a JSON object is required")
    return _json_object(raw)


def optional_json_body(request: flask.Request) -> dict[str, Any]:
    """The request body as a JSON object, ``{}`` when there is none (absent or blank, declared
    or chunked); anything else must be a JSON object as for ``json_body``."""
    raw = _read_body(request)
    return _json_object(raw) if raw.strip() else {}


def body_bytes(request: flask.Request) -> bytes:
    """The request body as sent (a file upload), within the size limit."""
    return _read_body(request)


def _read_body(request: flask.Request) -> bytes:
    limit = request.environ.get(_BODY_LIMIT_KEY)
    try:
        if request.content_length is None and limit is not None:
            raw = _read_undeclared(request.stream, limit)
        else:
            raw = request.get_data(cache=True)  # the router already refused a declared excess
    except Exception as exc:
        if is_broken_framing(exc):
            raise InvalidInput("body", BROKEN_FRAMING) from None
        raise
    audit.keep_body(request, raw)
    return raw


def _read_undeclared(stream: Any, limit: int) -> bytes:
    """A body without a declared length (chunked), read to its end or one byte past the limit.
    A read may return less than asked (a decoder hands out a chunk at a time): read on."""
    raw = bytearray()
    while len(raw) <= limit:
        piece = stream.read(limit + 1 - len(raw))
        if not piece:
            return bytes(raw)
        raw += piece
    raise RequestEntityTooLarge()


def _json_object(raw: bytes) -> dict[str, Any]:
    def reject_constant(name: str) -> float:
        raise ValueError(f"{name} is not allowed in JSON")

    try:
        body = json.loads(raw, parse_constant=reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("body", f"malformed JSON: {exc}") from None
    except RecursionError:  # the decoder recurses once per nesting level
        raise InvalidInput("body", "JSON nested too deeply") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    return body


Handler = Callable[..., Any]


class Router:
    """Maps (path, method) to handlers, with CORS, API keys and size limits applied first.

    Routes answer both at the function's root and under ``prefix``: the cloudfunctions.net URL
    strips the function name from the path while a run.app URL or a local gateway keeps it.
    With ``audit_as`` (the service name), every request but a CORS preflight writes one audit
    log entry (``common.audit``), errors included.
    """

    def __init__(self, config: Config, prefix: str = "", audit_as: str | None = None):
        self.config = config
        self.prefix = prefix.rstrip("/")
        self.audit_as = audit_as
        # Slashes are merged before matching (a base URL ending in "/" gives "//"), not by the
        # map, which would answer with a redirect.
        self._map = Map(strict_slashes=False, merge_slashes=False)
        self._handlers: dict[str, Handler] = {}
        self._queries: dict[str, tuple[str, ...] | None] = {}
        self._body_limits: dict[str, int] = {}
        self._patterns: dict[str, str] = {}
        self._routes: list[tuple[tuple[str, ...], str]] = []

    def route(
        self,
        path: str,
        methods: tuple[str, ...] = ("GET",),
        query: tuple[str, ...] | None = (),
        max_body_bytes: int | None = None,
    ) -> Callable[[Handler], Handler]:
        """``query``: the query parameters the handler reads; any other is refused (400 naming
        it) before the handler runs. None: the handler checks them itself, as when they depend
        on the path (a KPI's parameters). ``max_body_bytes``: this route's body limit instead
        of the configured one (a file upload's), which the handler enforces on an undeclared
        length while it streams the body."""

        def register(handler: Handler) -> Handler:
            endpoint = f"{handler.__name__}:{len(self._handlers)}"
            self._handlers[endpoint] = handler
            self._queries[endpoint] = query
            self._body_limits[endpoint] = max_body_bytes or self.config.max_request_bytes
            self._patterns[endpoint] = (self.prefix + path.rstrip("/")) or "/"
            paths = {path} | ({self.prefix + path.rstrip("/")} if self.prefix else set())
            for p in sorted(paths):
                self._map.add(Rule(p or "/", endpoint=endpoint, methods=list(methods)))
            self._routes.append((methods, self._patterns[endpoint]))
            return handler

        return register

    def routes(self) -> list[tuple[tuple[str, ...], str]]:
        """Each route's methods and its path under the prefix, in werkzeug's syntax
        (``/kpi/<name>``): what the API description must list."""
        return list(self._routes)

    def dispatch(self, request: flask.Request) -> flask.Response:
        trace_id, span_id = parse_trace_header(
            request.headers.get("X-Cloud-Trace-Context"), request.headers.get("traceparent")
        )
        request_id = trace_id or uuid.uuid4().hex
        token = set_trace(request_id, span_id)
        try:
            response = self._dispatch(request)
            if self.audit_as and request.method != "OPTIONS":  # in the trace: joins the request log
                audit.record(self.audit_as, self.prefix, request, response, self.config.api_keys)
        finally:
            reset_trace(token)
        response.headers["X-Request-Id"] = request_id
        self._add_cors_headers(request, response)
        return response

    def _dispatch(self, request: flask.Request) -> flask.Response:
        # Not request.max_content_length: functions-framework drains the body after every
        # request, and that limit would turn the drain into a 500.
        limit = self.config.max_request_bytes
        request.environ[_BODY_LIMIT_KEY] = limit
        try:
            if request.method == "OPTIONS":
                return self._preflight(request)
            self._check_api_key(request)
            adapter = self._map.bind_to_environ(request.environ)
            endpoint, args = adapter.match(_SLASHES.sub("/", request.path))
            limit = request.environ[_BODY_LIMIT_KEY] = self._body_limits[endpoint]
            if (request.content_length or 0) > limit:
                raise RequestEntityTooLarge()
            handler = self._handlers[endpoint]
            audit.reached(request, audit.Route(handler.__name__, self._patterns[endpoint]))
            if (known := self._queries[endpoint]) is not None:
                known_fields(request.args, "", known)
            answer = handler(request, **args)
            audit.count_answer(request, answer)
            return _as_response(answer)
        except HttpError as exc:
            return error_response(exc)
        except errors.DomainError as exc:
            return domain_error_response(exc)
        except HTTPException as exc:
            return error_response(http_error(exc, limit))
        except Exception:
            # A bug, not bad input: log it in full, answer without internals.
            log.exception("unhandled error in %s %s", request.method, request.path)
            return error_response(HttpError(500, "internal", "internal error"))

    def _check_api_key(self, request: flask.Request) -> None:
        if not self.config.api_keys:
            return
        given = request.headers.get(API_KEY_HEADER, "")
        # As bytes: compare_digest refuses non-ASCII str, and a header may hold any Latin-1.
        given_bytes = given.encode()
        if not any(hmac.compare_digest(given_bytes, key.encode()) for key in self.config.api_keys):
            problem = "is missing" if not given else "is not valid"
            raise HttpError(401, "unauthenticated", f"API key {problem}", API_KEY_HEADER)
        audit.key_accepted(request, given)

    def _allowed_origin(self, request: flask.Request) -> str | None:
        origin = request.headers.get("Origin")
        allowed = self.config.cors_origins
        if origin and (origin in allowed or "*" in allowed):
            return origin
        return None

    def _preflight(self, request: flask.Request) -> flask.Response:
        if not self._allowed_origin(request):
            raise HttpError(403, "origin_not_allowed", "origin is not allowed", "Origin")
        response = flask.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "3600"
        return response

    def _add_cors_headers(self, request: flask.Request, response: flask.Response) -> None:
        response.vary.add("Origin")
        origin = self._allowed_origin(request)
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin


def _as_response(result: Any) -> flask.Response:
    if isinstance(result, flask.Response):
        return result
    if isinstance(result, tuple):
        body, status = result
        return json_response(body, status)
    return json_response(result)
