"""Property-based requests drawn from the description by Schemathesis, sent to the local gateway:
no answer may be a 5xx, and every answer must have a documented status, a documented media type
and a body its schema accepts. The description is the code's (common.openapi, which the portal
serves unchanged: test_portal.py), so the operations are known when pytest collects.

Bounded and reproducible: a fixed number of generated cases per operation, derandomized (the
same requests on every run, in CI too) and no example database. The number of requests sent
and the time taken are reported at the end of the module.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from common.openapi import description

MAX_EXAMPLES = 10  # per operation: the whole run stays within about two minutes on 2 cores
SEED = 14
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def sent(request) -> list[int]:
    """Every status received; reported with the time taken when the module ends."""
    statuses: list[int] = []
    started = time.monotonic()
    yield statuses
    seconds = time.monotonic() - started
    server_errors = sum(status >= 500 for status in statuses)
    line = (
        f"schemathesis: {len(statuses)} requests through the gateway in {seconds:.0f} s, "
        f"{server_errors} answered 5xx"
    )
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # past the capture, as capsys.disabled()
            reporter.write_line(line)


CONFIG = SchemathesisConfig.from_dict({"seed": SEED})  # the coverage phase's cases, fixed too
# POST /pipeline and /pipeline/build run dbt build for each new slot (half a minute or more
# each); test_examples.py sends their worked examples.
schema = schemathesis.openapi.from_dict(description(), config=CONFIG).exclude(
    method="POST", path_regex=r"^/pipeline(/build)?$"
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_every_answer_as_described(case, gateway: str, sent: list[int]) -> None:
    response = case.call(base_url=gateway, timeout=60)
    sent.append(response.status_code)
    case.validate_response(response, checks=CHECKS)
