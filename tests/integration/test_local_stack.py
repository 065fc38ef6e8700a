"""The whole local stack: every function in its own functions-framework process, events
delivered as CloudEvents over HTTP by the local bus, or by Google's Pub/Sub emulator through
push subscriptions."""

import time

import duckdb
import pytest
import requests

from scripts.deploy.catalog import EXAMPLES_DIR, discover
from scripts.local.demo import main as demo_main
from scripts.local.emulators import PubSubEmulator, free_ports_for_stack
from scripts.local.stack import LocalStack
from scripts.local.stack import main as stack_main


def wait_for(url: str, timeout: float = 30) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(url, timeout=5)
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@pytest.fixture(params=["local-bus", "pubsub-emulator"])
def stack(request, tmp_path):
    use_emulator = request.param == "pubsub-emulator"
    if use_emulator and (reason := PubSubEmulator.unavailable_reason()):
        pytest.skip(reason)
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    specs = discover(EXAMPLES_DIR)  # the samples: one HTTP function publishing, one consuming
    # The bus/emulator takes base_port, functions the next ports: find a free run of them.
    base_port, _ = free_ports_for_stack(len(specs))
    env = {"EXECKPI_DUCKDB_PATH": str(warehouse), "EXECKPI_ARTIFACT_DIR": str(tmp_path / "art")}
    running = LocalStack(
        specs, base_port, env, use_emulator=use_emulator, log_dir=tmp_path / "logs"
    ).start()
    yield running
    running.stop()


def test_http_function_publishes_and_event_function_records(stack):
    hello = stack.urls["hello_http"]
    assert (
        requests.get(f"{hello}/hello", params={"name": "Ada"}, timeout=10).json()["greeting"]
        == "Hello, Ada!"
    )

    accepted = requests.post(f"{hello}/hello", json={"name": "Grace"}, timeout=10)
    assert accepted.status_code == 202
    run_id = accepted.json()["run_id"]
    greeting = wait_for(f"{hello}/hello/greetings/{run_id}")
    assert greeting.status_code == 200, greeting.text
    assert greeting.json()["greeting"] == "Hello, Grace!"
    assert stack.wait_idle(10)


def test_each_request_is_one_access_line_in_the_log_and_on_the_console(stack, capsys):
    log = stack.log_path("hello_http")
    assert str(log) in stack.describe()
    stack.show_requests = True
    requests.get(f"{stack.urls['hello_http']}/hello", params={"name": "Ada"}, timeout=10)
    # The stack writes the line to the log first, then echoes it: wait for both.
    deadline = time.monotonic() + 10
    shown = []
    while not shown and time.monotonic() < deadline:
        shown += [line.split() for line in capsys.readouterr().out.splitlines()]
        time.sleep(0.1)
    assert "access GET /hello 200 " in log.read_text()
    assert [words[:4] for words in shown] == [["hello_http", "GET", "/hello", "200"]]
    assert shown[0][5] == "ms" and shown[0][4].isdigit()


def test_stack_stops_cleanly(stack):
    urls = list(stack.urls.values())
    stack.stop()
    for url in urls:
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)


@pytest.mark.parametrize("command", [stack_main, demo_main])
def test_a_gateway_port_among_the_functions_ports_is_refused_before_anything_starts(
    command, capsys
):
    last = 8090 + len(discover())
    with pytest.raises(SystemExit) as refused:
        command(["--port", str(last), "--base-port", "8090"])
    assert refused.value.code == 2
    assert f"--port {last} is one of the local bus's and functions' ports (8090-{last})" in (
        capsys.readouterr().err
    )
