"""The API description (common/openapi) against the code it describes.

- the merged description is a valid OpenAPI 3.0 document;
- each HTTP function's routes (its Router) and the description's operations are the same set,
  both ways;
- every operation is complete (operationId, tag, summary, error responses, a worked example),
  and its examples validate against its own schemas;
- the rules the description states are the ones the code applies (KPI parameters, prediction
  features, the run-id pattern);
- each worked example of the kpi, ml, pipeline, portal and reports families, sent to its
  function's test client on the generated data and a trained champion, is answered with the
  documented status and a body valid against the documented schema.
"""

from __future__ import annotations

import random
import re
import shutil
import sys

import flask
import numpy as np
import pytest
import yaml
from openapi_spec_validator import validate

from common.artifacts.local import LocalArtifactStore
from common.config import load_config
from common.http import Router
from common.kpi.catalogue import CATALOGUE
from common.ml.features import CONVERSION
from common.openapi import FRAGMENTS, HERE, description
from common.pipeline.ledger import STAGES
from common.runs import run_key
from common.validation import InvalidInput, is_run_id
from scripts.deploy.catalog import discover
from tests.support.erasures import seed_erasure_example
from tests.support.openapi import (
    JSON,
    Operation,
    media_example,
    operations,
    resolve,
    response_schema,
    validator,
    worked_example,
)
from tests.support.reports import seed_report_example

DOCUMENT = description()
OPERATIONS = operations(DOCUMENT)
# Which function serves each fragment's paths (the gateway routes by the same prefixes).
FUNCTION_OF = {
    "portal": "portal",
    "kpi": "kpi",
    "ab": "abtest",
    "ml": "model",
    "pipeline": "dbt_build",
    "reports": "reports",
    "ingest": "ingest",
}
COMPONENT_PREFIX = {
    "portal": "Portal",
    "kpi": "Kpi",
    "ab": "Ab",
    "ml": "Ml",
    "pipeline": "Pipeline",
    "reports": "Reports",
    "ingest": "Ingest",
}
# The families whose worked examples this module sends (ab's are tested with ab.yaml).
EXAMPLE_FAMILIES = ("portal", "kpi", "ml", "pipeline", "reports")
HEALTH = "/healthz"  # every function answers it; the description lists it once, as the portal's
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # werkzeug's <converter:name>
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the largest feature value a prediction takes


def fragment(name: str) -> dict:
    path = HERE / f"{name}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


FAMILY_OF_PATH = {path: name for name in FRAGMENTS for path in fragment(name).get("paths", {})}


def operation(method: str, path: str) -> Operation:
    (found,) = [op for op in OPERATIONS if (op.method, op.path) == (method, path)]
    return found


def by_id(op: Operation) -> str:
    return op.id


def problems(schema: dict, instance) -> list[str]:
    """What is wrong with ``instance`` under ``schema`` (a schema of the description)."""
    errors = validator(DOCUMENT, schema).iter_errors(instance)
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)


# --- the document -----------------------------------------------------------------------------


def test_the_description_is_a_valid_openapi_3_0_document():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.0.")


@pytest.mark.parametrize("name", FRAGMENTS)
def test_each_fragment_names_its_components_after_its_family(name):
    components = fragment(name).get("components", {})
    foreign = [
        f"{section}.{key}"
        for section, entries in components.items()
        for key in entries
        if not key.startswith(COMPONENT_PREFIX[name])
    ]
    assert not foreign, f"{name}.yaml: components must start with {COMPONENT_PREFIX[name]}"


def test_nullable_stands_beside_a_type():
    """OpenAPI 3.0.3 ignores ``nullable`` without ``type``: a null would then be invalid."""

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node:
                yield where
            for key, value in node.items():
                if key not in ("example", "examples"):
                    yield from walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, f"{where}/{i}")

    assert list(walk(DOCUMENT, "#")) == []


# --- code and description list the same routes ------------------------------------------------


def gateway_path(route: str, prefix: str) -> str:
    """A Router's route as the description spells it: ``{name}`` for ``<name>``, and a
    function's own health route as the one documented ``/healthz``."""
    path = _VARIABLE.sub(r"{\1}", route)
    return HEALTH if path == prefix + HEALTH else path


def served_routes(function_client, name: str) -> set[tuple[str, str]]:
    function_client(name)  # functions-framework loads functions/<name>/main.py as module "main"
    routers = [v for v in vars(sys.modules["main"]).values() if isinstance(v, Router)]
    assert len(routers) == 1, f"{name}: expected one Router, found {len(routers)}"
    (router,) = routers
    return {
        (method, gateway_path(route, router.prefix))
        for methods, route in router.routes()
        for method in methods
    }


def test_every_http_function_has_a_fragment():
    http = {spec.name for spec in discover() if spec.is_http}
    assert http <= set(FUNCTION_OF.values()), "describe the new function in common/openapi"


@pytest.mark.parametrize("family", FRAGMENTS)
def test_the_routes_of_a_function_and_its_description_agree(function_client, family):
    name = FUNCTION_OF[family]
    # common/edge.py answers GET /healthz on every function, outside its Router.
    served = served_routes(function_client, name) | {("GET", HEALTH)}
    described = {(op.method, op.path) for op in OPERATIONS}
    owned = {(op.method, op.path) for op in OPERATIONS if FAMILY_OF_PATH[op.path] == family}
    undescribed, unserved = sorted(served - described), sorted(owned - served)
    assert not undescribed and not unserved, (
        f"functions/{name} serves, undescribed: {undescribed}; "
        f"common/openapi/{family}.yaml describes, not served: {unserved}"
    )


def test_routes_are_listed_with_the_prefix_clients_see():
    router = Router(load_config({}), prefix="/kpi")
    router.route("/")(lambda request: {})
    router.route("/<name>", methods=("GET", "POST"))(lambda request, name: {})
    assert router.routes() == [(("GET",), "/kpi"), (("GET", "POST"), "/kpi/<name>")]
    with flask.Flask(__name__).test_request_context("/kpi/revenue", method="POST"):
        assert router.dispatch(flask.request).status_code == 200


@pytest.mark.parametrize("spec", [s for s in discover() if s.is_http], ids=lambda s: s.name)
def test_every_function_answers_health_as_described(function_client, spec):
    response = function_client(spec.name).get(HEALTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    schema = response_schema(DOCUMENT, operation("GET", HEALTH), 200)
    assert problems(schema, response.get_json()) == []
    assert response.get_json()["function"] == spec.name


# --- every operation is complete, and its examples fit its schemas ----------------------------


def test_operation_ids_are_unique():
    ids = [op.spec.get("operationId") for op in OPERATIONS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("op", OPERATIONS, ids=by_id)
def test_every_operation_is_complete(op):
    spec = op.spec
    assert spec.get("operationId") and spec.get("summary"), op.id
    known_tags = {tag["name"] for tag in DOCUMENT["tags"]}
    assert spec.get("tags") and set(spec["tags"]) <= known_tags, op.id
    errors = [s for s in spec["responses"] if s == "default" or s[0] in "45"]
    assert errors, f"{op.id} documents no error response"
    example = worked_example(DOCUMENT, op)
    success = resolve(DOCUMENT, spec["responses"][str(op.success_status)])
    assert "content" not in success or any(
        media_example(DOCUMENT, media) is not None for media in success["content"].values()
    ), f"{op.id}: the success response has no example"
    for parameter in op.parameters:
        if parameter.get("required"):
            assert "example" in parameter, f"{op.id}: required {parameter['name']} lacks an example"
    if "requestBody" in spec and resolve(DOCUMENT, spec["requestBody"]).get("required"):
        assert example.body is not None, f"{op.id}: the required body has no example"


@pytest.mark.parametrize("op", OPERATIONS, ids=by_id)
def test_every_example_is_valid_under_its_schema(op):
    found = []
    for parameter in op.parameters:
        if "example" in parameter:
            where = f"parameter {parameter['name']}"
            found += [f"{where}: {p}" for p in problems(parameter["schema"], parameter["example"])]
    sections = [("request", op.spec.get("requestBody"))]
    sections += [(f"response {status}", r) for status, r in op.spec["responses"].items()]
    for where, section in sections:
        content = resolve(DOCUMENT, section).get("content", {}) if section else {}
        for media, entry in content.items():
            if "example" in entry:
                found += [
                    f"{where} {media}: {p}" for p in problems(entry["schema"], entry["example"])
                ]
    assert found == [], op.id


# --- the rules the description states are the code's ------------------------------------------


def kpi_body_schema() -> dict:
    post = operation("POST", "/kpi/{name}")
    return resolve(DOCUMENT, post.spec["requestBody"])["content"][JSON]["schema"]


def kpi_query_schema(name: str) -> dict:
    (parameter,) = [p for p in operation("GET", "/kpi/{name}").parameters if p["name"] == name]
    return resolve(DOCUMENT, parameter["schema"])


def test_the_kpi_names_and_parameters_are_the_catalogues():
    assert kpi_query_schema("name")["enum"] == list(CATALOGUE)
    declared = {p.name for kpi in CATALOGUE.values() for p in kpi.params}
    query = {p["name"] for p in operation("GET", "/kpi/{name}").parameters if p["in"] == "query"}
    assert query - {"format", "locale"} == declared  # the answer's, not the KPI's
    assert set(resolve(DOCUMENT, kpi_body_schema())["properties"]) == declared
    for kpi in CATALOGUE.values():
        for param in kpi.params:
            documented = kpi_query_schema(param.name)
            if param.type == "enum":
                assert set(param.allowed) <= set(documented["enum"]), (kpi.name, param.name)
            if param.type == "int":
                bounds = (documented["minimum"], documented["maximum"])
                assert bounds == (param.minimum, param.maximum), (kpi.name, param.name)


KPI_SAMPLES = [
    None,
    "",
    "2026-01-01",
    "1900-01-01",
    "2999-12-31",
    "2026-02-30",
    "26-01-01",
    20260101,
    True,
    "day",
    "week",
    "month",
    "year",
    "Email",
    "Search",
    "Display",
    "conversion",
    "checkout_one_click",
    "a" * 64,
    "a" * 65,
    "a b",
    "²",
    "-1",
    "0",
    "12",
    "156",
    "10000",
    0,
    1,
    12,
    156,
    157,
    10_000,
    10_001,
    1.5,
    ["day"],
    {"x": 1},
]


def test_every_value_a_kpi_accepts_is_valid_in_the_description():
    """The other way round does not hold exactly (a date outside 1900-2999, a range longer
    than ten years, or digits out of range are refused by rules the description states in
    words), but nothing the code accepts may be invalid in the description."""
    body = kpi_body_schema()
    accepted, accepted_but_invalid = 0, []
    for kpi in CATALOGUE.values():
        for param in kpi.params:
            for value in KPI_SAMPLES:
                try:
                    param.parse(value)
                except InvalidInput:
                    continue
                accepted += 1
                if problems(body, {param.name: value}):
                    accepted_but_invalid.append((kpi.name, param.name, value))
    assert accepted_but_invalid == [] and accepted > 30


def test_the_prediction_row_is_the_models_features():
    row = resolve(DOCUMENT, DOCUMENT["components"]["schemas"]["MlFeatureRow"])
    assert row["required"] == list(CONVERSION.names) == list(row["properties"])
    assert row["additionalProperties"] is False
    for feature in CONVERSION.features:
        documented = row["properties"][feature.name]
        if feature.kind == "categorical":
            assert documented["type"] == "string", feature.name
            continue
        assert documented["type"] == "number", feature.name
        assert documented.get("nullable", False) == feature.nullable, feature.name
        maximum = FLOAT32_MAX if feature.maximum is None else feature.maximum
        assert (documented["minimum"], documented["maximum"]) == (feature.minimum, maximum)


def test_the_run_id_pattern_is_the_one_the_code_applies():
    schema = DOCUMENT["components"]["schemas"]["PipelineRunId"]
    samples = [
        "20261015T050000Z-build",
        "a",
        "_",
        "a.b",
        "a.",
        "a..b",
        "..",
        ".a",
        "-1",
        "=x",
        "a=b-c_d.e",
        "",
        "a" * 128,
        "a" * 129,
        "é",
        "a/b",
        "a b",
        "../x",
        "a.-b",
        "a._b",
    ]
    generator = random.Random(14)
    samples += [
        "".join(generator.choices("a._=-/é", k=generator.randint(0, 6))) for _ in range(3000)
    ]
    disagree = [s for s in samples if (not problems(schema, s)) != is_run_id(s)]
    assert disagree == []


# --- the worked examples, answered by the functions -------------------------------------------


def seed_ledger(artifact_dir: str) -> None:
    """The run of GET /pipeline/runs/{run_id}'s example, written as its stages write it."""
    run = worked_example(DOCUMENT, operation("GET", "/pipeline/runs/{run_id}")).response
    store = LocalArtifactStore(artifact_dir)
    for stage, record in run["stages"].items():
        store.put_json(run_key(run["run_id"], STAGES[stage]), record)


def client_of(family: str, request: pytest.FixtureRequest, function_client):
    """The family's function on the data its examples name: the generated warehouse, a
    champion trained on it, the ledger of the documented run, a bus to publish to."""
    fixture = request.getfixturevalue
    if family == "kpi":
        return function_client("kpi", EXECKPI_DUCKDB_PATH=str(fixture("generated_warehouse")))
    if family == "ml":
        artifacts = str(fixture("champion_artifacts"))
        return function_client(
            "model",
            EXECKPI_ARTIFACT_DIR=artifacts,
            EXECKPI_LOCAL_BUS_URL=fixture("bus").url,
            EXECKPI_DUCKDB_PATH=str(fixture("generated_warehouse")),  # POST /ml/effects
        )
    if family == "reports":
        artifacts = fixture("tmp_path") / "artifacts"
        shutil.copytree(fixture("champion_artifacts"), artifacts)
        seed_report_example(DOCUMENT, str(artifacts))
        return function_client(
            "reports",
            EXECKPI_DUCKDB_PATH=str(fixture("generated_warehouse")),
            EXECKPI_ARTIFACT_DIR=str(artifacts),
        )
    if family == "pipeline":
        seed_ledger(fixture("execkpi_env")["EXECKPI_ARTIFACT_DIR"])
        seed_erasure_example(DOCUMENT, fixture("execkpi_env")["EXECKPI_DUCKDB_PATH"])
        return function_client("dbt_build", EXECKPI_LOCAL_BUS_URL=fixture("bus").url)
    return function_client("portal")


def send(client, op: Operation):
    example = worked_example(DOCUMENT, op)
    options = {"query_string": example.query, "headers": example.headers}
    if example.body is not None:
        options["json"] = example.body
    return client.open(example.path, method=example.method, **options)


def assert_answered_as_described(op: Operation, response) -> None:
    schema = response_schema(DOCUMENT, op, response.status_code, response.mimetype)
    if schema is None:
        assert not response.get_data(), f"{op.id}: {response.status_code} has no documented body"
        return
    body = response.get_json() if response.mimetype == JSON else response.get_data(as_text=True)
    assert problems(schema, body) == [], op.id


@pytest.mark.parametrize(
    "op", [op for op in OPERATIONS if FAMILY_OF_PATH[op.path] in EXAMPLE_FAMILIES], ids=by_id
)
def test_each_worked_example_is_answered_as_described(op, request, function_client):
    client = client_of(FAMILY_OF_PATH[op.path], request, function_client)
    response = send(client, op)
    assert response.status_code == op.success_status, response.get_data(as_text=True)[:800]
    assert_answered_as_described(op, response)


def test_the_ledger_answers_its_examples_word_for_word(request, function_client):
    client = client_of("pipeline", request, function_client)
    for op in (operation("GET", "/pipeline/runs/{run_id}"), operation("GET", "/pipeline/runs")):
        assert send(client, op).get_json() == worked_example(DOCUMENT, op).response, op.id


def test_a_kpi_answers_csv_and_304_as_described(request, function_client):
    client = client_of("kpi", request, function_client)
    op = operation("GET", "/kpi/{name}")
    example = worked_example(DOCUMENT, op)
    as_csv = client.get(example.path, query_string={**example.query, "format": "csv"})
    assert (as_csv.status_code, as_csv.mimetype) == (200, "text/csv")
    assert_answered_as_described(op, as_csv)
    success = resolve(DOCUMENT, op.spec["responses"]["200"])
    disposition = resolve(DOCUMENT, success["headers"]["Content-Disposition"])["schema"]
    assert problems(disposition, as_csv.headers["Content-Disposition"]) == []
    as_xlsx = client.get(example.path, query_string={**example.query, "format": "xlsx"})
    assert as_xlsx.status_code == 200 and as_xlsx.mimetype in success["content"]
    assert problems(disposition, as_xlsx.headers["Content-Disposition"]) == []
    etag = as_csv.headers["ETag"]
    headers = resolve(DOCUMENT, op.spec["responses"]["304"])["headers"]
    assert problems(resolve(DOCUMENT, headers["ETag"])["schema"], etag) == []
    again = client.get(example.path, query_string=example.query, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert_answered_as_described(op, again)
