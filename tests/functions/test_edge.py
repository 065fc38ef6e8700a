"""Every function at the edge, as functions-framework serves it: GET /healthz, the one JSON
error shape for what Flask answers before the Router runs (its own /favicon.ico and /robots.txt
rules, paths no rule matches, a Host header that is no host name, methods an event function does
not take), and unknown query parameters refused. Then the same through the real server
(gunicorn), where a chunked body with broken framing breaks while a handler or
functions-framework reads it, and where a path may start with "//"."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys

import pytest

from scripts.deploy.catalog import REPO_ROOT, discover
from scripts.local.emulators import free_port, stop_process_group, wait_for_port

SPECS = {spec.name: spec for spec in discover()}
HTTP = sorted(name for name, spec in SPECS.items() if spec.signature_type == "http")
EVENTS = sorted(name for name, spec in SPECS.items() if spec.signature_type != "http")
BAD_HOST = "a" * 64  # a label over 63 characters: not a host name IDNA can encode


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and "Location" not in response.headers
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_function_answers_healthz(function_client, name):
    response = function_client(name).get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "ok": True, "function": name}


@pytest.mark.parametrize(
    ("path", "headers", "status", "field"),
    [
        ("/favicon.ico", {}, 404, "path"),  # functions-framework's own HTML 404 rules
        ("/robots.txt", {}, 404, "path"),
        ("/x%0Ay", {}, 404, "path"),  # no rule matches a path holding a line feed
        ("/", {"Host": BAD_HOST}, 400, "Host"),
    ],
)
@pytest.mark.parametrize("name", HTTP)
def test_what_flask_answers_itself_has_the_json_error_shape(
    function_client, name, path, headers, status, field
):
    response = function_client(name).get(path, headers=headers)
    assert error_of(response, status)["field"] == field


@pytest.mark.parametrize("name", EVENTS)
def test_an_event_function_refuses_other_requests_in_the_json_shape(function_client, name):
    client = function_client(name)
    response = client.get("/")
    assert error_of(response, 405)["field"] == "method" and response.headers["Allow"] == "POST"
    response = client.put("/healthz")
    assert error_of(response, 405)["field"] == "method"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    response = client.post("/", data=b"hello", content_type="text/plain")  # not a CloudEvent
    assert 400 <= response.status_code < 500 and error_of(response, response.status_code)
    assert error_of(client.get("/", headers={"Host": BAD_HOST}), 400)["field"] == "Host"


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("kpi", "/kpi?colour=red"),
        ("model", "/ml/latest?colour=red"),
        ("model", "/ml/models?limit=5&colour=red"),
        ("dbt_build", "/pipeline/runs?colour=red"),
        ("dbt_build", "/pipeline/runs/20261015T050000Z-build?colour=red"),
        ("abtest", "/ab/experiments/aa_test?colour=red"),
    ],
)
def test_unknown_query_parameters_are_refused(function_client, name, path):
    assert error_of(function_client(name).get(path), 400)["field"] == "colour"


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("kpi", "/kpi/revenue?colour=red"),
        ("model", "/ml/train?colour=red"),
        ("dbt_build", "/pipeline/build?colour=red"),
        ("abtest", "/ab/power?colour=red"),
    ],
)
def test_unknown_query_parameters_of_a_post_are_refused(function_client, name, path):
    assert error_of(function_client(name).post(path, json={}), 400)["field"] == "colour"


# --- through gunicorn -------------------------------------------------------------------------

BROKEN_FRAMING = {
    "chunk-size": b"zz\r\n{}\r\n0\r\n\r\n",
    "chunk-terminator": b"2\r\n{}XX0\r\n\r\n",
    "truncated-chunk": b"10\r\n{}",
    "no-last-chunk": b"2\r\n{}\r\n",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """model and validate served by functions-framework's gunicorn, as the local stack runs
    them; yields {name: port}."""
    folder = tmp_path_factory.mktemp("served")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EXECKPI_")},
        "EXECKPI_DUCKDB_PATH": str(folder / "warehouse.duckdb"),
        "EXECKPI_ARTIFACT_DIR": str(folder / "artifacts"),
        "EXECKPI_LOCAL_BUS_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens
    }
    processes, ports = [], {}
    try:
        for name in ("model", "validate"):
            spec, port = SPECS[name], free_port()
            command = [sys.executable, "-m", "scripts.local.serve_function"]
            command += ["--target", spec.entry_point, "--source", str(spec.source)]
            command += ["--signature-type", spec.signature_type, "--port", str(port)]
            log = (folder / f"{name}.log").open("w")
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            wait_for_port(port, 60, processes[-1])
            ports[name] = port
        yield ports
    finally:
        for process in processes:
            stop_process_group(process)


def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library would send broken framing), then end the
    request side, so that a truncated body ends where the bytes do."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


def chunked_post(path: str) -> str:
    return f"POST {path} HTTP/1.1\nHost: edge\nContent-Type: application/json\n" + (
        "Transfer-Encoding: chunked\n"
    )


@pytest.mark.parametrize("framing", list(BROKEN_FRAMING))
@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("model", chunked_post("/ml/train")),  # the handler reads the body
        ("model", chunked_post("/ml/predict")),
        ("model", "GET /ml/models HTTP/1.1\nHost: edge\nTransfer-Encoding: chunked\n"),  # drained
        ("validate", chunked_post("/")),  # functions-framework reads the CloudEvent
    ],
    ids=["train", "predict", "drained-after", "event"],
)
def test_broken_chunked_framing_is_a_400_about_the_body(served, name, head, framing):
    status, headers, body = raw_request(served[name], head, BROKEN_FRAMING[framing])
    assert (status, headers["Content-Type"]) == (400, "application/json"), body
    assert b'"field":"body"' in body and b"chunked" in body


def test_a_chunked_body_is_read_by_the_real_server(served):
    status, _, body = raw_request(
        served["model"], chunked_post("/ml/train"), b'd\r\n{"colour": 1}\r\n0\r\n\r\n'
    )
    assert status == 400 and b'"field":"colour"' in body


@pytest.mark.parametrize(
    ("head", "status", "field"),
    [
        ("GET /favicon.ico HTTP/1.1\nHost: edge\n", 404, "path"),
        ("GET /ml/mo%0Adels HTTP/1.1\nHost: edge\n", 404, "path"),
        (f"GET /ml/models HTTP/1.1\nHost: {BAD_HOST}\n", 400, "Host"),
        ("GET //ml/models HTTP/1.1\nHost: edge\n", 200, None),
    ],
)
def test_the_real_server_answers_flask_errors_in_the_json_shape(served, head, status, field):
    got, headers, body = raw_request(served["model"], head)
    assert (got, headers["Content-Type"]) == (status, "application/json"), body
    if field:
        assert f'"field":"{field}"'.encode() in body


def test_the_real_server_serves_healthz(served):
    for name, port in served.items():
        status, _, body = raw_request(port, "GET /healthz HTTP/1.1\nHost: edge\n")
        assert status == 200 and f'"function":"{name}"'.encode() in body
