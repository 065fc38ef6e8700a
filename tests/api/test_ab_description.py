"""The /ab part of the API description (common/openapi/ab.yaml) against the abtest function: the
description validates, it lists exactly the function's routes, every worked example is a real
answer, and requests generated from its request schemas get documented, schema-valid answers."""

from __future__ import annotations

import ast
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from schemathesis.generation.modes import GenerationMode

from common.openapi import description
from tests.support.definitions import seed_definition_example

DESCRIPTION = description()
AB_PATHS = {path: item for path, item in DESCRIPTION["paths"].items() if path.startswith("/ab/")}
ROOT = Path(__file__).parents[2]
ABTEST_SOURCE = ROOT / "functions" / "abtest" / "main.py"
AB_FRAGMENT = ROOT / "common" / "openapi" / "ab.yaml"
# The worked examples whose answer depends on the warehouse's data: theirs come from the demo's
# data and the test's warehouse is smaller, so only their schema is checked.
READS_THE_WAREHOUSE = {
    ("abAnalyze", "stored"),
    ("abBreakdown", "browser"),
    ("abListExperiments", "finished"),
    ("abGetExperiment", "checkout"),
    ("abExperimentTimeline", "checkout"),
}
GENERATED_REQUESTS = 200
# The definition examples' answers carry the time of the write, which the test cannot repeat:
# those are compared without it (the schema still checks its format).
WRITTEN_NOW = {"abCreateExperiment", "abChangeExperiment", "abExperimentVersions"}


# --- OpenAPI 3.0 schemas as JSON Schema ----------------------------------------------------------


def resolved(node: dict[str, Any]) -> dict[str, Any]:
    """The object a local $ref points at (or the node itself)."""
    while "$ref" in node:
        target: Any = DESCRIPTION
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        node = target
    return node


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema 2020-12: ``nullable`` becomes a union with null,
    boolean exclusiveMinimum/exclusiveMaximum become numeric bounds."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {}
    for key, value in node.items():
        if key in ("properties", "schemas"):  # maps of names to schemas
            schema[key] = {name: json_schema(s) for name, s in value.items()}
        elif key not in ("nullable", "enum", "default", "example"):
            schema[key] = json_schema(value)
        elif key != "nullable":
            schema[key] = value
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if schema.get(exclusive) is True:
            schema[exclusive] = schema.pop(bound)
        elif schema.get(exclusive) is False:
            del schema[exclusive]
    if node.get("nullable") is True:
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
        else:
            schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


COMPONENTS = json_schema({"schemas": DESCRIPTION["components"]["schemas"]})


def assert_matches(instance: Any, schema: dict[str, Any]) -> None:
    root = {**json_schema(schema), "components": COMPONENTS}
    validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def success(operation: dict[str, Any]) -> str:
    """The operation's one 2xx status: 200, or 201 for a creation."""
    (status,) = (s for s in operation["responses"] if s.startswith("2"))
    return status


def response_schema(operation: dict[str, Any], status: int) -> dict[str, Any]:
    response = resolved(operation["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


# --- the description itself ----------------------------------------------------------------------


def test_the_merged_description_is_valid_openapi():
    validate(DESCRIPTION)


def routes_in_code() -> set[tuple[str, str]]:
    """(path, method) of every @router.route in functions/abtest/main.py, as gateway paths."""
    routes = set()
    for node in ast.walk(ast.parse(ABTEST_SOURCE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "router.route":
            path = "/ab" + node.args[0].value.replace("<", "{").replace(">", "}")
            (methods,) = (k.value for k in node.keywords if k.arg == "methods")
            routes |= {(path, method.lower()) for method in ast.literal_eval(methods)}
    return routes


def test_the_description_lists_exactly_the_routes_of_abtest():
    described = {(path, method) for path, item in AB_PATHS.items() for method in item}
    assert described == routes_in_code()


@pytest.mark.parametrize(("path", "method"), sorted(routes_in_code()))
def test_every_operation_is_described_with_its_examples_and_errors(path, method):
    operation = AB_PATHS[path][method]
    assert operation["operationId"].startswith("ab")
    original = path in ("/ab/test", "/ab/sample")
    assert operation["tags"] == (["ab", "original"] if original else ["ab"])
    assert operation["summary"] and operation["description"]
    answer = operation["responses"][success(operation)]["content"]["application/json"]
    names = set(answer["examples"])
    if "requestBody" in operation:
        assert set(request_examples(operation)) == names
    else:
        assert len(names) == 1  # the answer to the parameters' examples
    assert all("example" in p for p in operation.get("parameters", ()))
    errors = {s: r for s, r in operation["responses"].items() if s != success(operation)}
    assert {"400", "401"} <= set(errors)
    assert all(r["$ref"].startswith("#/components/responses/") for r in errors.values())


def test_the_fragment_names_its_components_ab():
    fragment = yaml.safe_load(AB_FRAGMENT.read_text(encoding="utf-8"))
    names = [name for section in fragment["components"].values() for name in section]
    assert names and all(name.startswith("Ab") for name in names)


# --- worked examples -----------------------------------------------------------------------------


@pytest.fixture
def client(function_client, generated_warehouse, execkpi_env):
    seed_definition_example(DESCRIPTION, execkpi_env["EXECKPI_ARTIFACT_DIR"])  # PATCH's
    return function_client("abtest", EXECKPI_DUCKDB_PATH=str(generated_warehouse))


def worked_examples() -> list:
    return [
        pytest.param(path, method, name, id=f"{operation['operationId']}-{name}")
        for path, item in AB_PATHS.items()
        for method, operation in item.items()
        for name in operation["responses"][success(operation)]["content"]["application/json"][
            "examples"
        ]
    ]


def worked_request(path: str, method: str, operation: dict[str, Any], name: str) -> dict[str, Any]:
    """The Flask test client's arguments for the example ``name``: the parameters' examples
    (arrays comma-separated, as style form without explode says; headers as headers) and the
    body example."""
    query, headers = {}, {}
    for parameter in operation.get("parameters", ()):
        value = parameter["example"]
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", text)
        elif parameter["in"] == "header":
            headers[parameter["name"]] = text
        else:
            query[parameter["name"]] = text
    request = {"path": path, "method": "GET", "query_string": query, "headers": headers}
    if "requestBody" in operation:
        media, value = request_examples(operation)[name]
        if media == "application/json":
            request.update(method=method.upper(), json=value)
        else:  # a file upload's text, sent as it is
            request.update(method=method.upper(), data=value.encode(), content_type=media)
    return request


def request_examples(operation: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """The request body's examples by name, each with its media type: JSON's, or those of a
    file upload's one media type with examples (CSV)."""
    return {
        name: (media, resolved(example)["value"])
        for media, content in operation["requestBody"]["content"].items()
        for name, example in content.get("examples", {}).items()
    }


def assert_same(actual: Any, expected: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 relative (the last bits may differ across numpy and scipy builds)."""
    if isinstance(expected, float) and isinstance(actual, float):
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-15), where
    elif isinstance(expected, dict) and isinstance(actual, dict):
        assert actual.keys() == expected.keys(), where
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list) and isinstance(actual, list):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, where


@pytest.mark.parametrize(("path", "method", "name"), worked_examples())
def test_worked_example_is_a_real_answer(client, path, method, name):
    operation = AB_PATHS[path][method]
    response = client.open(**worked_request(path, method, operation, name))
    status = success(operation)
    assert str(response.status_code) == status, response.get_data(as_text=True)
    schema = response_schema(operation, int(status))
    examples = operation["responses"][status]["content"]["application/json"]["examples"]
    documented = resolved(examples[name])["value"]
    assert_matches(documented, schema)
    assert_matches(response.get_json(), schema)
    if operation["operationId"] in WRITTEN_NOW:
        assert_same(without_times(response.get_json()), without_times(documented))
    elif (operation["operationId"], name) not in READS_THE_WAREHOUSE:
        assert_same(response.get_json(), documented)


def without_times(answer: Any) -> Any:
    """The answer without ``changed_at``, at any depth."""
    if isinstance(answer, dict):
        return {k: without_times(v) for k, v in answer.items() if k != "changed_at"}
    if isinstance(answer, list):
        return [without_times(v) for v in answer]
    return answer


def test_request_examples_match_their_schemas():
    for item in AB_PATHS.values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                assert_matches(parameter["example"], parameter["schema"])
            if "requestBody" in operation:
                for content in operation["requestBody"]["content"].values():
                    for example in content.get("examples", {}).values():
                        assert_matches(resolved(example)["value"], content["schema"])


# --- generated requests --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ab/analyze", "/ab/power"])
def test_generated_requests_get_documented_schema_valid_answers(client, path):
    """Requests Schemathesis generates from the request schema (positive data only) are answered
    200 or with a documented error, each body valid against its status's schema."""
    operation = AB_PATHS[path]["post"]
    strategy = schemathesis.openapi.from_dict(DESCRIPTION)[path]["POST"].as_strategy(
        GenerationMode.POSITIVE
    )
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=GENERATED_REQUESTS,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def answered_as_documented(case):
        response = client.post(path, json=case.body)
        assert str(response.status_code) in operation["responses"], response.get_data(as_text=True)
        assert_matches(response.get_json(), response_schema(operation, response.status_code))
        statuses[response.status_code] += 1

    answered_as_documented()
    assert statuses[200] > 0, statuses  # some reached the analysis and checked its schema
