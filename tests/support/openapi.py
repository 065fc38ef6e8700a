"""The API description as the tests read it: its operations, each operation's worked example
as a request to send, and validators for its schemas.

A worked example is written in the description itself: every parameter the example sends has
an ``example``, so does the request body's media type when the example sends a body, and so
does the success response (the operation's one 2xx). OpenAPI 3.0 schemas are not quite JSON
Schema (``nullable``, boolean ``exclusiveMinimum``, ``$ref`` into ``components``), so
``validator`` converts them first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON = "application/json"
# OpenAPI-only keywords of a Schema Object; the rest is JSON Schema.
_OPENAPI_ONLY = frozenset({"nullable", "example", "discriminator", "xml", "externalDocs"})
_SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class Operation:
    method: str  # upper case, as HTTP spells it
    path: str  # the path template, e.g. /kpi/{name}
    spec: dict[str, Any] = field(repr=False)  # the Operation Object
    parameters: tuple[dict[str, Any], ...] = field(repr=False)  # path-level and own, resolved

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def success_status(self) -> int:
        """The one 2xx status the worked example answers with."""
        statuses = [int(s) for s in self.spec["responses"] if s.isdigit() and s.startswith("2")]
        if len(statuses) != 1:
            raise ValueError(f"{self.id}: expected one 2xx response, found {sorted(statuses)}")
        return statuses[0]


@dataclass(frozen=True)
class WorkedExample:
    """The request an operation's examples spell out, and the answer they promise."""

    method: str
    path: str  # the template filled in, without the query
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # JSON, or text in another media type; None: no body
    status: int
    response: Any  # the success response's JSON example; None where it has no JSON body
    media_type: str = JSON  # the body's


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or what its local ``$ref`` (``#/components/...``) points at."""
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref}")
        node = document
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in document["paths"].items():
        shared = [resolve(document, p) for p in item.get("parameters", [])]
        for method in METHODS:
            if method in item:
                spec = item[method]
                own = [resolve(document, p) for p in spec.get("parameters", [])]
                # An operation's parameter overrides the path's of the same name and place.
                keys = {(p["name"], p["in"]) for p in own}
                merged = [p for p in shared if (p["name"], p["in"]) not in keys] + own
                found.append(Operation(method.upper(), path, spec, tuple(merged)))
    return found


def worked_example(document: dict[str, Any], operation: Operation) -> WorkedExample:
    values = {"path": {}, "query": {}, "header": {}}
    for parameter in operation.parameters:
        if "example" in parameter:
            values[parameter["in"]][parameter["name"]] = _text(parameter["example"])
    path = operation.path
    for name, value in values["path"].items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    body, media_type = None, JSON
    if "requestBody" in operation.spec:
        content = resolve(document, operation.spec["requestBody"])["content"]
        # JSON's example, else the first media type's that has one (a file upload's CSV)
        media_type = next(
            (
                m
                for m in (JSON, *content)
                if m in content and media_example(document, content[m]) is not None
            ),
            JSON,
        )
        body = media_example(document, content.get(media_type, {}))
    status = operation.success_status
    answer = resolve(document, operation.spec["responses"][str(status)])
    response = media_example(document, answer.get("content", {}).get(JSON, {}))
    return WorkedExample(
        operation.method,
        path,
        values["query"],
        values["header"],
        body,
        status,
        response,
        media_type,
    )


def media_example(document: dict[str, Any], media: dict[str, Any]) -> Any:
    """A media type's ``example``, or else the first of its named ``examples``; None if neither."""
    if "example" in media:
        return media["example"]
    named = list(media.get("examples", {}).values())
    return resolve(document, named[0]).get("value") if named else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # style form, explode false: one comma-separated value
        return ",".join(_text(item) for item in value)
    return str(value)


def response_schema(
    document: dict[str, Any], operation: Operation, status: int, media: str = JSON
) -> dict[str, Any] | None:
    """The schema of that response's body; None for a response documented without one.
    Raises KeyError for a status or media type the operation does not document."""
    responses = operation.spec["responses"]
    documented = responses.get(str(status)) or responses[f"{str(status)[0]}XX"]
    content = resolve(document, documented).get("content")
    if content is None:
        return None
    return content[media]["schema"]


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator (formats checked) for an OpenAPI 3.0 schema of ``document``."""
    definitions = {
        name: json_schema(s) for name, s in document["components"].get("schemas", {}).items()
    }
    converted = {**json_schema(schema), "$defs": definitions}
    return Draft202012Validator(converted, format_checker=Draft202012Validator.FORMAT_CHECKER)


def json_schema(schema: Any) -> Any:
    """An OpenAPI 3.0 Schema Object as JSON Schema 2020-12 (references to components become
    references to ``$defs``). ``nullable`` applies only beside a ``type``, as OpenAPI 3.0.3
    says."""
    if not isinstance(schema, dict):
        return schema  # additionalProperties: true / false
    if "$ref" in schema:
        return {"$ref": schema["$ref"].replace(_SCHEMAS, "#/$defs/")}
    out = {key: value for key, value in schema.items() if key not in _OPENAPI_ONLY}
    for key in ("items", "not", "additionalProperties"):
        if key in out:
            out[key] = json_schema(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in out:
            out[key] = [json_schema(s) for s in out[key]]
    if "properties" in out:
        out["properties"] = {name: json_schema(s) for name, s in out["properties"].items()}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(exclusive) is True:
            out[exclusive] = out.pop(bound)
        elif out.get(exclusive) is False:
            del out[exclusive]
    if schema.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out
