"""hello_http through functions-framework's own app, as Cloud Functions would serve it."""

import duckdb
import pytest

from scripts.local.bus import LocalBus, LocalBusServer

API_KEY = "test-key-0123456789"


@pytest.fixture
def warehouse_file(execkpi_env):
    duckdb.connect(execkpi_env["EXECKPI_DUCKDB_PATH"]).close()


@pytest.fixture
def bus():
    received = []
    server = LocalBusServer(LocalBus(max_attempts=1)).start()
    server.bus.subscribe("greeting-requested", received.append)
    server.received = received
    yield server
    server.stop()


@pytest.fixture
def client(function_client, warehouse_file, bus):
    return function_client("hello_http", EXECKPI_LOCAL_BUS_URL=bus.url)


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


@pytest.mark.parametrize("path", ["/", "/hello", "/hello/"])
def test_greets_through_the_warehouse(client, path):
    response = client.get(path, query_string={"name": "Ada'; drop table x; --"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["greeting"] == "Hello, Ada'; drop table x; --!"
    assert body["meta"]["engine"] == "duckdb"
    assert response.headers["X-Request-Id"]


@pytest.mark.parametrize("name", ["", " ", "x" * 101, "bad\x00name"])
def test_bad_name_is_a_400_naming_the_field(client, name):
    response = client.get("/hello", query_string={"name": name})
    assert response.status_code == 400
    assert error_of(response)["field"] == "name"


def test_post_publishes_an_event_and_answers_202(client, bus):
    response = client.post("/hello", json={"name": "Grace"})
    assert response.status_code == 202
    run_id = response.get_json()["run_id"]
    assert bus.wait_idle(10)
    (cloud_event,) = bus.received
    assert cloud_event.data["message"]["attributes"]["run_id"] == run_id


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        ("{not json", "application/json", "body"),
        ("[1, 2]", "application/json", "body"),
        ('{"name": NaN}', "application/json", "body"),
        ("", "application/json", "body"),
        ('{"name": 5}', "application/json", "name"),
        ("{}", "application/json", "name"),
        ('{"nom": "x"}', "application/json", "nom"),  # an unknown field is named, not ignored
    ],
)
def test_malformed_bodies_are_400s(client, bus, body, content_type, field):
    response = client.post("/hello", data=body, content_type=content_type)
    assert response.status_code == 400
    assert error_of(response)["field"] == field
    assert bus.received == []


def test_oversized_body_is_a_413(function_client, warehouse_file, bus):
    client = function_client(
        "hello_http", EXECKPI_LOCAL_BUS_URL=bus.url, EXECKPI_MAX_REQUEST_BYTES="1024"
    )
    response = client.post("/hello", json={"name": "x" * 2000})
    assert response.status_code == 413
    assert error_of(response)["field"] == "body"


def test_unknown_path_and_method(client):
    assert error_of(client.get("/nope"))["code"] == "not_found"
    response = client.delete("/hello")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert error_of(response)["field"] == "method"


def test_invalid_run_id_and_missing_greeting(client):
    assert error_of(client.get("/hello/greetings/..%2f..%2fetc"))["field"] in ("run_id", "path")
    response = client.get("/hello/greetings/" + "0" * 32)
    assert response.status_code == 404 and error_of(response)["field"] == "run_id"


def test_missing_warehouse_is_a_503(function_client, bus):
    client = function_client("hello_http", EXECKPI_LOCAL_BUS_URL=bus.url)
    response = client.get("/hello")
    assert response.status_code == 503
    assert error_of(response)["code"] == "warehouse_unavailable"


def test_api_key_is_required_when_configured(function_client, warehouse_file, bus):
    client = function_client("hello_http", EXECKPI_LOCAL_BUS_URL=bus.url, EXECKPI_API_KEYS=API_KEY)
    assert error_of(client.get("/hello"))["field"] == "X-API-Key"
    assert client.get("/hello", headers={"X-API-Key": "wrong-key-0123456789"}).status_code == 401
    assert client.get("/hello", headers={"X-API-Key": API_KEY}).status_code == 200


def test_cors_allow_list(function_client, warehouse_file, bus):
    client = function_client(
        "hello_http",
        EXECKPI_LOCAL_BUS_URL=bus.url,
        EXECKPI_CORS_ORIGINS="https://bi.example.com",
        EXECKPI_API_KEYS=API_KEY,
    )
    allowed = {"Origin": "https://bi.example.com", "Access-Control-Request-Method": "POST"}
    preflight = client.options("/hello", headers=allowed)  # no API key needed for a preflight
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://bi.example.com"
    assert "X-API-Key" in preflight.headers["Access-Control-Allow-Headers"]

    denied = client.options("/hello", headers={**allowed, "Origin": "https://evil.example"})
    assert denied.status_code == 403 and error_of(denied)["field"] == "Origin"

    response = client.get(
        "/hello", headers={"Origin": "https://evil.example", "X-API-Key": API_KEY}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]
