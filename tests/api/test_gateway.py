"""The local gateway (scripts/local/gateway.py): one port in front of every HTTP function,
routing by path_prefix, passing requests and answers through unchanged, and answering what it
cannot pass in the one JSON error shape - a function that is down, a malformed request."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import EnvironBuilder, run_wsgi_app

from scripts.deploy.catalog import REPO_ROOT, discover
from scripts.local.emulators import (
    free_port,
    free_ports_for_stack,
    stop_process_group,
    wait_for_port,
)
from scripts.local.gateway import Gateway, Route, route_for
from tests.support.api import clean_env, error_of, raw_exchange, served_by

ROUTES = tuple(
    Route(spec.name, spec.path_prefix, f"http://127.0.0.1:{9000 + i}", spec.timeout_seconds)
    for i, spec in enumerate(discover())
    if spec.path_prefix is not None
)


@pytest.mark.parametrize(
    ("path", "function"),
    [
        ("/kpi", "kpi"),
        ("/kpi/", "kpi"),
        ("/kpi/revenue", "kpi"),
        ("//kpi//revenue", "kpi"),  # functions merge slashes; so does the choice of function
        ("/kpix", "portal"),
        ("/kpi-x/revenue", "portal"),
        ("/ab/test", "abtest"),
        ("/abc", "portal"),
        ("/ml", "model"),
        ("/pipeline/runs/x", "dbt_build"),
        ("/pipelines", "portal"),
        ("/", "portal"),
        ("/docs/swagger-ui.css", "portal"),
        ("/healthz", "portal"),
    ],
)
def test_route_is_the_longest_prefix_on_a_segment_boundary(path: str, function: str) -> None:
    assert route_for(ROUTES, path).name == function


def test_a_longer_prefix_wins_and_without_a_catch_all_nothing_matches() -> None:
    outer, inner = Route("outer", "/x", "http://a", 1), Route("inner", "/x/y", "http://b", 1)
    assert route_for((outer, inner), "/x/y/z") == inner
    assert route_for((inner, outer), "/x/yz") == outer
    assert route_for((outer, inner), "/z") is None


def test_every_prefix_reaches_its_function(api_stack, gateway) -> None:
    for spec in (s for s in api_stack.specs if s.path_prefix is not None):
        path = f"{spec.path_prefix}/probe-{uuid.uuid4().hex}"
        response = requests.get(gateway + path, timeout=30)
        assert response.status_code == 404, (spec.name, response.text)
        error_of(response)
        assert served_by(api_stack, "GET", path) == {"gateway", spec.name}


def test_query_headers_and_answer_headers_pass_through(gateway) -> None:
    trace = uuid.uuid4().hex
    first = requests.get(
        f"{gateway}/kpi/revenue",
        params={"grain": "week"},
        headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"},
        timeout=60,
    )
    assert first.status_code == 200, first.text
    assert first.json()["params"]["grain"] == "week"
    assert first.headers["X-Request-Id"] == trace  # the function read the request's header
    etag = first.headers["ETag"]

    again = requests.get(
        f"{gateway}/kpi/revenue?grain=week", headers={"If-None-Match": etag}, timeout=60
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag


def test_methods_and_bodies_pass_through_declared_or_chunked(gateway) -> None:
    sample = requests.get(f"{gateway}/ab/sample", timeout=30)
    head = requests.head(f"{gateway}/ab/sample", timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(sample.content))

    counts = {k: sample.json()[k] for k in ("a_success", "a_total", "b_success", "b_total")}
    declared = requests.post(f"{gateway}/ab/test", json=counts, timeout=30)
    body = json.dumps(counts).encode()
    chunked = requests.post(
        f"{gateway}/ab/test",
        data=iter([body[:10], body[10:]]),  # a generator: requests sends it chunked
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert declared.status_code == chunked.status_code == 200, (declared.text, chunked.text)
    assert declared.json() == chunked.json()

    refused = requests.put(f"{gateway}/ab/sample", timeout=30)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"
    assert error_of(refused)["field"] == "method"


def test_a_body_over_a_functions_limit_is_refused_by_it_even_chunked(gateway) -> None:
    too_big = b'{"a": "' + b"x" * (2 * 1024**2) + b'"}'  # abtest takes 1 MiB
    blocks = (too_big[i : i + 65536] for i in range(0, len(too_big), 65536))
    response = requests.post(f"{gateway}/ab/test", data=blocks, timeout=60)
    assert response.status_code == 413
    assert error_of(response)["field"] == "body"


def test_a_body_over_the_gateways_own_limit_is_refused(api_stack, gateway) -> None:
    port = urlsplit(gateway).port
    declared = b"POST /ab/test HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
    answer = raw_exchange(port, declared % (64 * 1024**2))
    assert answer.status == 413 and json.loads(answer.body)["error"]["field"] == "body"

    # Chunked, the body has no declared length: the gateway counts while it streams.
    small = Gateway(routes_of(api_stack), max_body_bytes=1000)
    environ = EnvironBuilder(
        path="/ab/test",
        method="POST",
        input_stream=io.BytesIO(b"{" + b" " * 5000 + b"}"),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
    ).get_environ()
    del environ["CONTENT_LENGTH"]  # as gunicorn leaves it for a chunked body
    chunks, status, _ = run_wsgi_app(small, environ)
    assert status.startswith("413")
    assert json.loads(b"".join(chunks))["error"]["field"] == "body"


def routes_of(stack) -> tuple[Route, ...]:
    return tuple(
        Route(s.name, s.path_prefix, stack.urls[s.name], s.timeout_seconds)
        for s in stack.specs
        if s.path_prefix is not None
    )


CHUNKED = b"POST /ab/test HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
MALFORMED = {
    "Host with a space": b"GET /kpi HTTP/1.1\r\nHost: exa mple.com\r\n\r\n",
    "Host with a slash": b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
    "Host not ASCII": b"GET / HTTP/1.1\r\nHost: \xe9x.com\r\n\r\n",
    "%0A in the path": b"GET /kpi%0A HTTP/1.1\r\nHost: x\r\n\r\n",
    "%00 in the path": b"GET /ab/sample%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "raw UTF-8 in the path": b"GET /kpi/\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
    "path not starting with /": b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    "chunk size not hex": CHUNKED + b"ZZ\r\nabc\r\n0\r\n\r\n",
    "chunk without its CRLF": CHUNKED + b"3\r\nabcXX0\r\n\r\n",
    "chunked body cut short": CHUNKED + b"10\r\nabc",
    "chunked and a length": b"POST /ab/test HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 5\r\n\r\n0\r\n\r\n",
    "gzip transfer coding": b"POST /ab/test HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, "
    b"chunked\r\n\r\n0\r\n\r\n",
    "identity transfer coding": b"POST /ab/test HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
    b"identity\r\n\r\n",
    "chunked not last": b"POST /ab/test HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
    b"gzip\r\n\r\n0\r\n\r\n",
    "body shorter than its length": b"POST /ab/test HTTP/1.1\r\nHost: x\r\nContent-Length: 50"
    b'\r\n\r\n{"a":',
    "length not a number": b"POST /ab/test HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n{}",
    "header name with a space": b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    "method with a bracket": b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    "request line too long": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_is_a_4xx_in_the_json_error_shape(gateway, request_bytes) -> None:
    answer = raw_exchange(urlsplit(gateway).port, request_bytes)
    assert 400 <= answer.status < 500, answer
    assert answer.headers["content-type"].startswith("application/json"), answer
    error = json.loads(answer.body)["error"]
    assert error["code"] and error["message"] and error["field"], error


def test_an_absolute_uri_is_served_as_its_path(gateway) -> None:
    request = b"GET http://elsewhere.example/ab/sample HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = raw_exchange(urlsplit(gateway).port, request)
    assert answer.status == 200 and set(json.loads(answer.body)) >= {"a_total", "b_total"}


@pytest.fixture(scope="module")
def lone_gateway():
    """A gateway whose functions are not there: one port refuses connections, the other
    accepts them and never answers."""
    down = free_port()  # nothing listens there
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never accepts: no answer
    port = free_port()
    command = [sys.executable, "-m", "scripts.local.gateway", "--port", str(port)]
    command += ["--route", "kpi", "/kpi", f"http://127.0.0.1:{down}", "60"]
    command += ["--route", "model", "/ml", f"http://127.0.0.1:{silent.getsockname()[1]}", "1"]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=60, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process_group(process)
        silent.close()


def test_a_function_that_is_down_is_a_502_in_json(lone_gateway) -> None:
    response = requests.get(f"{lone_gateway}/kpi/revenue", timeout=30)
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "upstream_error" and "kpi" in error["message"]


def test_a_function_that_does_not_answer_is_a_504_in_json(lone_gateway) -> None:
    response = requests.get(f"{lone_gateway}/ml/latest", timeout=30)
    assert response.status_code == 504
    assert error_of(response)["code"] == "upstream_timeout"


def test_a_path_no_function_serves_is_a_404_in_json(lone_gateway) -> None:
    response = requests.get(f"{lone_gateway}/elsewhere", timeout=30)
    assert response.status_code == 404 and error_of(response)["field"] == "path"


def test_the_stack_prints_one_url_first_and_it_serves_everything(api_settings) -> None:
    base_port, port = free_ports_for_stack(len(discover()))
    command = [sys.executable, "-m", "scripts.local.stack", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--base-port", str(base_port)],
        cwd=REPO_ROOT,
        env=clean_env(**api_settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=180, process=process)  # the gateway starts last
        first = process.stdout.readline().rstrip("\n")
        assert first == (
            f"ExecKPI at http://127.0.0.1:{port} - dashboard at /, API reference at /docs"
        )
        root = requests.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert root.status_code == 200 and root.json()["docs"] == "/docs"
        ledger = requests.get(f"http://127.0.0.1:{port}/pipeline/runs", timeout=30)
        assert ledger.status_code == 200 and "runs" in ledger.json()
    finally:
        process.send_signal(signal.SIGTERM)  # the stack stops its processes on SIGTERM
        try:
            process.wait(timeout=60)
        finally:
            stop_process_group(process)
