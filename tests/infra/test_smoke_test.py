"""scripts/deploy/smoke_test.py against a local HTTP server standing in for deployed functions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.deploy import smoke_test
from scripts.deploy.smoke_test import Target

TOKEN = "test-id-token"


class FakeFunctions(BaseHTTPRequestHandler):
    """/ok JSON, /html not JSON, /flaky 503 twice then JSON, /missing 404; 401 without TOKEN."""

    calls: list[tuple[str, dict[str, str]]]
    flaky_left: int

    def do_GET(self) -> None:
        server = self.server
        server.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"error": {"code": "unauthenticated"}})
        path = self.path.split("?")[0]
        if path == "/flaky" and server.flaky_left > 0:
            server.flaky_left -= 1
            return self._send(503, {"error": {"code": "unavailable"}})
        if path in ("/ok", "/flaky", "/"):
            return self._send(200, {"greeting": "Hello, smoke!", "path": self.path})
        if path == "/html":
            return self._send(200, "<html>sign in</html>", "text/html")
        return self._send(404, {"error": {"code": "not_found"}})

    def _send(self, status: int, body: object, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeFunctions)
    httpd.calls, httpd.flaky_left = [], 2
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def base(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def fast(argv: list[str]) -> list[str]:
    return [*argv, "--backoff", "0", "--timeout", "5"]


def test_passes_and_sends_the_identity_token(server, capsys) -> None:
    url = base(server)
    code = smoke_test.main(fast(["--url", f"hello_http={url}/ok?name=smoke", "--token", TOKEN]))
    assert code == 0, capsys.readouterr().out
    path, headers = server.calls[-1]
    assert path == "/ok?name=smoke"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert "1 passed, 0 failed" in capsys.readouterr().out


def test_wrong_token_fails(server, capsys) -> None:
    code = smoke_test.main(fast(["--url", f"kpi={base(server)}/ok", "--token", "nope"]))
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL kpi" in out and "401" in out
    assert len(server.calls) == 1  # 401 is not a deploy settling: no retry


def test_retries_transient_errors_then_passes(server) -> None:
    result = smoke_test.check(Target("f", base(server), "/flaky"), TOKEN, backoff=0)
    assert result.ok and result.attempts == 3


def test_gives_up_after_the_attempts(server) -> None:
    server.flaky_left = 10
    delays: list[float] = []
    target = Target("f", base(server), "/flaky")
    result = smoke_test.check(target, TOKEN, attempts=3, backoff=1.5, sleep=delays.append)
    assert not result.ok and result.status == 503 and result.attempts == 3
    assert delays == [1.5, 3.0]


def test_a_non_json_answer_fails(server) -> None:
    result = smoke_test.check(Target("f", base(server), "/html"), TOKEN, backoff=0)
    assert not result.ok and "not JSON" in result.detail


def test_not_found_fails_without_retry(server) -> None:
    result = smoke_test.check(Target("f", base(server), "/missing"), TOKEN, backoff=0)
    assert not result.ok and result.status == 404 and result.attempts == 1


def test_unreachable_function_fails() -> None:
    target = Target("gone", "http://127.0.0.1:9", "/")  # discard port: nothing listens
    result = smoke_test.check(target, TOKEN, attempts=2, backoff=0, timeout=2)
    assert not result.ok and result.status is None and "no answer" in result.detail


def test_reads_terraform_outputs_and_sends_the_api_key(
    server, tmp_path: Path, monkeypatch, capsys
) -> None:
    outputs = {
        "smoke_targets": {
            "sensitive": False,
            "type": ["map", ["object", {"path": "string", "url": "string"}]],
            "value": {
                "hello_http": {"url": base(server), "path": "/?name=smoke"},
                "kpi": {"url": base(server) + "/", "path": "/ok"},
            },
        },
        "function_urls": {"sensitive": False, "value": {}},
    }
    file = tmp_path / "outputs.json"
    file.write_text(json.dumps(outputs))
    monkeypatch.setenv("SMOKE_API_KEY", " " + "k" * 20 + ",other-key-0123456789")
    code = smoke_test.main(fast(["--terraform-outputs", str(file), "--token", TOKEN]))
    assert code == 0, capsys.readouterr().out
    assert sorted(p for p, _ in server.calls) == ["/?name=smoke", "/ok"]
    assert all(h["x-api-key"] == "k" * 20 for _, h in server.calls)


def test_mints_one_token_per_function_audience(server) -> None:
    audiences: list[str] = []

    def token_for(audience: str) -> str:
        audiences.append(audience)
        return TOKEN

    targets = [Target("a", base(server), "/ok"), Target("b", base(server) + "/", "/")]
    results = smoke_test.run(targets, token=None, token_for=token_for, backoff=0)
    assert all(r.ok for r in results)
    assert audiences == [base(server)]  # same service URL: one token


@pytest.mark.parametrize(
    "outputs",
    [{}, {"smoke_targets": {"value": {}}}, {"smoke_targets": {"value": {"f": {"path": "/"}}}}],
)
def test_outputs_without_targets_are_a_usage_error(outputs, tmp_path: Path, capsys) -> None:
    file = tmp_path / "outputs.json"
    file.write_text(json.dumps(outputs))
    assert smoke_test.main(["--terraform-outputs", str(file), "--token", TOKEN]) == 2
    assert "smoke test:" in capsys.readouterr().err


def test_url_argument_must_name_the_function() -> None:
    with pytest.raises(smoke_test.UsageError):
        smoke_test.target_from_arg("https://example.com/")
    assert smoke_test.target_from_arg("kpi=https://h.example/a?b=1") == Target(
        "kpi", "https://h.example", "/a?b=1"
    )


def test_api_key_from_secret_manager(server, monkeypatch) -> None:
    versions: list[str] = []

    def fake_secret(version: str) -> str:
        versions.append(version)
        return "first-key-0123456789,second-key-0123456789"

    monkeypatch.setattr(smoke_test, "secret_value", fake_secret)
    name = "projects/p/secrets/execkpi-api-keys/versions/latest"
    argv = ["--url", f"kpi={base(server)}/ok", "--token", TOKEN, "--api-key-secret", name]
    assert smoke_test.main(fast(argv)) == 0
    assert versions == [name]
    assert server.calls[-1][1]["x-api-key"] == "first-key-0123456789"


def test_secret_version_name_is_checked(capsys) -> None:
    argv = ["--url", "kpi=https://h.example/", "--token", TOKEN, "--api-key-secret", "nope"]
    assert smoke_test.main(argv) == 2
    assert "versions" in capsys.readouterr().err
