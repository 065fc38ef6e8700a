"""Each operation's worked example (as tests/support/openapi.py reads it from the description),
sent through the gateway: answered with the status it promises, in a documented media type,
with a body valid under the schema the description gives for that status (OpenAPI 3.0:
nullable, formats, references)."""

from __future__ import annotations

import pytest
import requests

from common.openapi import description
from scripts.deploy.catalog import discover
from scripts.local.gateway import Route, route_for
from tests.support.openapi import (
    JSON,
    Operation,
    operations,
    response_schema,
    validator,
    worked_example,
)

DOCUMENT = description()
OPERATIONS = operations(DOCUMENT)
ROUTED = [s for s in discover() if s.path_prefix is not None]  # the functions behind the gateway
ROUTES = tuple(Route(s.name, s.path_prefix, "", 0) for s in ROUTED)
TIMEOUT = max(s.timeout_seconds for s in ROUTED)  # the build's example runs dbt build


def test_the_description_covers_every_function_behind_the_gateway() -> None:
    """So the examples below are more than the portal's own."""
    reached = {route_for(ROUTES, operation.path).name for operation in OPERATIONS}
    assert reached == {spec.name for spec in ROUTED}


@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.id for o in OPERATIONS])
def test_each_worked_example_is_answered_through_the_gateway_as_described(
    gateway: str, operation: Operation
) -> None:
    example = worked_example(DOCUMENT, operation)
    if example.media_type == JSON:
        body = {"json": example.body}
    else:  # a file upload's text, sent as it is
        body = {"data": example.body.encode(), "headers": {"Content-Type": example.media_type}}
    response = requests.request(
        example.method,
        gateway + example.path,
        params=example.query,
        headers={**example.headers, **body.pop("headers", {})},
        timeout=TIMEOUT,
        **body,
    )
    assert response.status_code == example.status, (operation.id, response.text[:500])
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    try:
        schema = response_schema(DOCUMENT, operation, response.status_code, media)
    except KeyError:
        pytest.fail(f"{operation.id}: {response.status_code} {media} is not documented")
    if schema is None:
        assert not response.content, f"{operation.id}: a body where none is documented"
        return
    body = response.json() if media == JSON else response.text
    problems = sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}"
        for e in validator(DOCUMENT, schema).iter_errors(body)
    )
    assert not problems, f"{operation.id}:\n" + "\n".join(problems[:20])
