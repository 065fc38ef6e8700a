"""Every worked example of the API description, sent through the gateway, and every answer held
to the schema the description gives for its status (OpenAPI 3.0: nullable, formats, refs).

The examples are the requests the description shows: each path, query and header parameter's
example and each request-body example. Named examples of one name go together: a body example
and the parameter examples of its name make one request, answered with the status of the
response example of that name; a lone example must succeed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import requests
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from common.openapi import description
from scripts.deploy.catalog import discover
from scripts.local.gateway import Route, route_for

DESCRIPTION = description()
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
ROUTED = [s for s in discover() if s.path_prefix is not None]  # the functions behind the gateway
ROUTES = tuple(Route(s.name, s.path_prefix, "", 0) for s in ROUTED)
TIMEOUT = max(s.timeout_seconds for s in ROUTED)  # a build example runs dbt build


def resolve(node: Any) -> Any:
    """``node``, its $ref (a chain of them) followed inside the description."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = DESCRIPTION
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]  # the path's and the operation's, resolved

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations() -> list[Operation]:
    found = []
    for path, item in DESCRIPTION["paths"].items():
        shared = [resolve(p) for p in item.get("parameters", [])]
        for method in METHODS:
            if method in item:
                own = [resolve(p) for p in item[method].get("parameters", [])]
                names = {(p["name"], p["in"]) for p in own}
                merged = [p for p in shared if (p["name"], p["in"]) not in names] + own
                found.append(Operation(method, path, item[method], tuple(merged)))
    return found


def examples_of(node: dict[str, Any]) -> dict[str, Any]:
    """A parameter's or a media type's examples by name ("" for a lone ``example``)."""
    if "example" in node:
        return {"": node["example"]}
    return {name: resolve(ex)["value"] for name, ex in (node.get("examples") or {}).items()}


@dataclass(frozen=True)
class Request:
    operation: Operation
    name: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # None: no body

    @property
    def label(self) -> str:
        return self.operation.label + (f" [{self.name}]" if self.name else "")


def requests_of(operation: Operation) -> list[Request]:
    body = resolve(operation.spec.get("requestBody") or {})
    body_examples = examples_of(body.get("content", {}).get("application/json", {}))
    shown = [(p, examples_of(p)) for p in operation.parameters]
    names = sorted(set(body_examples) or {n for _, ex in shown for n in ex} or {""})
    made = []
    for name in names:
        path, query, headers = operation.path, {}, {}
        for parameter, examples in shown:
            if not examples:
                continue
            value = examples.get(name, next(iter(examples.values())))
            if parameter["in"] == "path":
                path = path.replace("{" + parameter["name"] + "}", quote(str(value), safe=""))
            elif parameter["in"] == "query":
                query[parameter["name"]] = query_value(parameter, value)
            elif parameter["in"] == "header":
                headers[parameter["name"]] = str(value)
        made.append(Request(operation, name, path, query, headers, body_examples.get(name)))
    return made


def query_value(parameter: dict[str, Any], value: Any) -> Any:
    """A query value as OpenAPI serialises it (style form): an array repeats the name unless
    ``explode: false`` joins it with commas; booleans are true and false."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list) and parameter.get("explode", True) is False:
        return ",".join(str(v) for v in value)
    return value


OPERATIONS = operations()
REQUESTS = [request for operation in OPERATIONS for request in requests_of(operation)]


def test_the_description_covers_every_function_behind_the_gateway() -> None:
    """Each function behind the gateway has operations in the description (so this test sends
    more than the portal's own)."""
    reached = {route_for(ROUTES, operation.path).name for operation in OPERATIONS}
    assert reached == {spec.name for spec in ROUTED}


@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.label for o in OPERATIONS])
def test_every_operation_has_a_worked_request(operation: Operation) -> None:
    missing = [
        f"{p['in']} parameter {p['name']}"
        for p in operation.parameters
        if (p["in"] == "path" or p.get("required")) and not examples_of(p)
    ]
    body = resolve(operation.spec.get("requestBody") or {})
    if body.get("required") and not examples_of(body["content"].get("application/json", {})):
        missing.append("request body")
    assert not missing, f"{operation.label} has no example for {', '.join(missing)}"


@pytest.mark.parametrize("request_", REQUESTS, ids=[r.label for r in REQUESTS])
def test_each_example_answers_as_described(gateway: str, request_: Request) -> None:
    response = requests.request(
        request_.operation.method.upper(),
        gateway + request_.path,
        params=request_.query,
        headers=request_.headers,
        json=request_.body,
        timeout=TIMEOUT,
    )
    expected = paired_status(request_)
    if expected is None:  # a lone example shows the route working
        assert response.status_code < 400, (request_.label, response.status_code, response.text)
    else:
        assert response.status_code == expected, (request_.label, response.text[:500])
    check_against_description(request_.operation, response)


def paired_status(request_: Request) -> int | None:
    """The status whose response example bears the request example's name, if one does."""
    if not request_.name:
        return None
    for status, documented in request_.operation.spec["responses"].items():
        for media in (resolve(documented).get("content") or {}).values():
            if request_.name in (media.get("examples") or {}):
                return int(status)
    return None


def check_against_description(operation: Operation, response: requests.Response) -> None:
    responses = operation.spec["responses"]
    status = str(response.status_code)
    key = next((k for k in (status, status[0] + "XX", "default") if k in responses), None)
    assert key is not None, f"{operation.label}: {status} is not documented: {response.text[:300]}"
    documented = resolve(responses[key])
    if not response.content:
        return  # 304, HEAD: nothing to hold to a schema
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    content = documented.get("content") or {}
    assert media_type in content, f"{operation.label} {status}: {media_type} is not documented"
    schema = content[media_type].get("schema")
    if schema is None:
        return
    instance = response.json() if media_type == "application/json" else response.text
    validator = OAS30ReadValidator(
        {**schema, "components": DESCRIPTION["components"]}, format_checker=oas30_format_checker
    )
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}"
        for e in validator.iter_errors(instance)
    ]
    assert not problems, f"{operation.label} {status}:\n" + "\n".join(problems[:20])
