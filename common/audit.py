"""One audit log entry per API request: who asked what, with which parameters, and the outcome.

The Router of an audited function (kpi, abtest, model) calls ``record`` once per request it
answers, errors included; health checks and CORS preflights never reach it. The entry is one
Cloud Logging JSON line (``common.logs``) labelled ``log_type=audit``, which the project's log
sink routes to the audit log bucket (infra/logging.tf). Its payload mirrors the fields of
Cloud Audit Logs' ``AuditLog``: ``authenticationInfo``, ``serviceName``, ``methodName``,
``resourceName``, ``request``, ``status`` (a ``google.rpc.Status``: gRPC code and message) and
``numResponseItems``; ``httpRequest`` carries the HTTP status; the entry's time is when.

Data minimisation: the audit log is kept longer than an erased user's rows, so it holds no
personal data and no secret. Parameters whose name says they identify a person or hold a
secret (user_id, email, api_key, token ...) and values that look like an e-mail address, an IP
address or a configured API key are replaced by ``[redacted]``; records (objects inside a
list, such as a prediction's feature rows: age, gender, country of one user) and long lists are
counted, not copied; long strings are cut. No caller IP is logged (Cloud Run's request log has
it, for 30 days). An API key appears as a fingerprint, the first 12 hex digits of its SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import flask

AUDIT_LABELS = {"log_type": "audit"}
REDACTED = "[redacted]"
GATEWAY_USERINFO_HEADER = "X-Apigateway-Api-Userinfo"
_RAW_BODY_KEY = "execkpi.audit.body"
_ROUTE_KEY = "execkpi.audit.route"
_KEY_ID_KEY = "execkpi.audit.api_key_id"
_ITEMS_KEY = "execkpi.audit.items"

# Words of a parameter name that mark its value as personal data or a secret.
_SENSITIVE_WORDS = frozenset(
    {"user", "customer", "email", "mail", "phone", "address", "ip", "name", "birth"}
    | {"password", "secret", "token", "key", "authorization", "credential"}
)
_NAME_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Parameters that are names of things, not of people: kept.
_THING_NAMES = frozenset({"kpi", "metric", "dimension", "experiment", "variant", "model"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_STRING = 200
_MAX_LIST = 20
_MAX_DEPTH = 4
# The collection of an answer whose length counts as the items answered: KPI rows (the original
# API's "data"), predictions, A/B comparisons (variant against control per metric) or breakdown
# values, experiments, models, KPIs. Any other answer (a power, an assignment) is one item.
_COLLECTIONS = (
    "rows",
    "data",
    "predictions",
    "comparisons",
    "values",
    "experiments",
    "models",
    "kpis",
)

# HTTP status -> google.rpc.Code, as Google's APIs map them (google/rpc/code.proto).
_RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 501: 12, 503: 14, 504: 4}
_RPC_OK, _RPC_FAILED_PRECONDITION, _RPC_INTERNAL = 0, 9, 13

log = logging.getLogger("execkpi.audit")
log.setLevel(logging.INFO)  # an audit entry is written whatever EXECKPI_LOG_LEVEL says


@dataclass(frozen=True)
class Principal:
    """Who made a request: ``subject`` always (``anonymous`` when nobody is known)."""

    subject: str
    email: str | None = None

    def authentication_info(self) -> dict[str, str]:
        shown = {"principalSubject": self.subject}
        if self.email:
            shown["principalEmail"] = self.email
        return shown


ANONYMOUS = Principal("anonymous")


@dataclass(frozen=True)
class Route:
    """The handler a request reached: its name and its path pattern (``/kpi/<name>``)."""

    operation: str
    pattern: str


# --- what the Router and handlers note about a request while it runs ------------------------


def keep_body(request: flask.Request, raw: bytes) -> None:
    """The body as the Router read it (a chunked body cannot be read twice)."""
    request.environ[_RAW_BODY_KEY] = raw


def reached(request: flask.Request, route: Route) -> None:
    request.environ[_ROUTE_KEY] = route


def key_accepted(request: flask.Request, key: str) -> None:
    request.environ[_KEY_ID_KEY] = key_fingerprint(key)


def answered(request: flask.Request, items: int) -> None:
    """How many items the answer holds, for answers that are no JSON object (a download)."""
    request.environ[_ITEMS_KEY] = items


def count_answer(request: flask.Request, answer: Any) -> None:
    """Count a handler's JSON answer unless the handler counted it: the length of its
    collection (KPI rows, predictions, experiments, models), else one answer."""
    if _ITEMS_KEY in request.environ or not isinstance(answer, Mapping | tuple):
        return
    body = answer[0] if isinstance(answer, tuple) else answer
    found = (body[k] for k in _COLLECTIONS if isinstance(body.get(k), list | tuple))
    collection = next(found, None)
    answered(request, 1 if collection is None else len(collection))


def key_fingerprint(key: str) -> str:
    return "apikey:" + hashlib.sha256(key.encode()).hexdigest()[:12]


# --- who ------------------------------------------------------------------------------------


def principal(request: flask.Request) -> Principal:
    """The caller, from the most specific proof: the end user's claims API Gateway verified,
    the API key the Router accepted, the ID token Cloud Run verified (IAM invoker; behind the
    gateway it is the gateway's own service account), else anonymous. Nothing here verifies a
    token: only Google's front ends reach the deployed functions (infra/iam.tf)."""
    userinfo = request.headers.get(GATEWAY_USERINFO_HEADER)
    if userinfo and (claims := _json_claims(userinfo)) and (found := _from_claims(claims)):
        return found
    if key_id := request.environ.get(_KEY_ID_KEY):
        return Principal(key_id)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.count(".") == 2:
        claims = _json_claims(token.split(".")[1])
        if claims and (found := _from_claims(claims)):
            return found
    return ANONYMOUS


def _json_claims(segment: str) -> dict[str, Any] | None:
    """Claims from base64url JSON (padding optional), None when it is none."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment.strip() + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def _from_claims(claims: Mapping[str, Any]) -> Principal | None:
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    subject = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    if not (email or subject):
        return None
    return Principal(subject or email, email)


# --- which parameters -----------------------------------------------------------------------


def parameters(request: flask.Request, secrets: Iterable[str]) -> dict[str, Any]:
    """Query and JSON body parameters, minimised (module docstring)."""
    minimise = _Minimiser(tuple(secrets))
    query = {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()}
    shown: dict[str, Any] = {"query": minimise.mapping(query, 0)}
    body = _json_body(request.environ.get(_RAW_BODY_KEY, b""))
    if body is not None:
        shown["body"] = minimise.mapping(body, 0)
    return shown


def _json_body(raw: bytes) -> dict[str, Any] | None:
    try:  # lenient: NaN gets through, as to the abtest function (minimised to a string)
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


@dataclass(frozen=True)
class _Minimiser:
    secrets: tuple[str, ...]

    def mapping(self, values: Mapping[str, Any], depth: int) -> dict[str, Any]:
        return {
            str(k)[:_MAX_STRING]: REDACTED if is_sensitive_name(str(k)) else self.value(v, depth)
            for k, v in values.items()
        }

    def value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)  # Cloud Logging takes JSON, which has no NaN
        if isinstance(value, dict):
            return self.mapping(value, depth + 1) if depth < _MAX_DEPTH else {"keys": len(value)}
        if isinstance(value, list):
            if len(value) > _MAX_LIST or any(isinstance(v, dict | list) for v in value):
                return {"items": len(value)}
            return [self.value(v, depth + 1) for v in value]
        return value

    def string(self, value: str) -> str:
        if looks_personal(value) or any(secret in value for secret in self.secrets):
            return REDACTED
        return value if len(value) <= _MAX_STRING else value[:_MAX_STRING] + "…"


def is_sensitive_name(name: str) -> bool:
    words = {w.lower() for w in _NAME_WORDS.findall(name)}
    return bool(words & _SENSITIVE_WORDS) and not (words & _THING_NAMES)


def looks_personal(value: str) -> bool:
    """An e-mail address or an IP address, alone or inside the string."""
    if _EMAIL.search(value):
        return True
    return any(_is_ip(part) for part in re.split(r"[\s,;/\[\]]+", value) if part)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- the entry ------------------------------------------------------------------------------


def record(
    service: str,
    prefix: str,
    request: flask.Request,
    response: flask.Response,
    secrets: Iterable[str],
) -> None:
    """Write the request's audit entry."""
    route: Route | None = request.environ.get(_ROUTE_KEY)
    status = response.status_code
    path = _resource_path(prefix, request.path)
    entry = {
        "serviceName": service,
        "methodName": f"{service}.{route.operation if route else 'unrouted'}",
        "resourceName": path,
        "authenticationInfo": principal(request).authentication_info(),
        "request": {
            "method": request.method,
            "path": path,
            "route": route.pattern if route else None,
            **parameters(request, secrets),
        },
        "status": {"code": rpc_code(status), "message": _outcome(response)},
        "numResponseItems": request.environ.get(_ITEMS_KEY, 0) if status < 400 else 0,
        "httpRequest": {"requestMethod": request.method, "requestUrl": path, "status": status},
    }
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    message = f"audit {request.method} {path} {status}"
    log.log(level, message, extra={"fields": entry, "labels": AUDIT_LABELS})


def _resource_path(prefix: str, path: str) -> str:
    """The path as the API names it (under the prefix, which a cloudfunctions.net URL strips);
    a segment that looks personal (an e-mail in an unknown KPI's name) is redacted."""
    path = re.sub("/{2,}", "/", path)
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        path = prefix + path.rstrip("/") if path != "/" else prefix
    segments = (REDACTED if looks_personal(s) else s[:_MAX_STRING] for s in path.split("/"))
    return "/".join(segments)


def rpc_code(status: int) -> int:
    if status < 400:
        return _RPC_OK
    return _RPC_CODES.get(status, _RPC_FAILED_PRECONDITION if status < 500 else _RPC_INTERNAL)


def _outcome(response: flask.Response) -> str:
    """``ok``, or the error's code and field from the one error shape (never its message,
    which may quote the input)."""
    if response.status_code < 400:
        return "ok"
    error = (response.get_json(silent=True) or {}).get("error") if response.is_json else None
    if not isinstance(error, dict):
        return str(response.status_code)
    field = f" ({error['field']})" if error.get("field") else ""
    return f"{error.get('code')}{field}"
