"""A fake BigQuery REST API on 127.0.0.1 for tests: the edge where google-cloud-bigquery's own
request layer meets Google. It records every request and answers each REST method (jobs.query,
jobs.insert, jobs.get, jobs.getQueryResults, jobs.cancel) with canned JSON in the real API's
shape; nothing of ours or of the client library is mocked."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_ROUTES = [  # (HTTP method, path under /bigquery/v2, REST method name)
    ("POST", r"/projects/[^/]+/queries", "jobs.query"),
    ("GET", r"/projects/[^/]+/queries/[^/]+", "jobs.getQueryResults"),
    ("POST", r"/projects/[^/]+/jobs", "jobs.insert"),
    ("GET", r"/projects/[^/]+/jobs/[^/]+", "jobs.get"),
    ("POST", r"/projects/[^/]+/jobs/[^/]+/cancel", "jobs.cancel"),
]

Answer = tuple[int, dict[str, Any]]


def api_error(code: int, reason: str, message: str) -> Answer:
    """An error body in the shape Google's JSON APIs use."""
    status = {400: "INVALID_ARGUMENT", 503: "UNAVAILABLE"}.get(code, "UNKNOWN")
    error = {"domain": "global", "reason": reason, "message": message}
    return code, {"error": {"code": code, "message": message, "errors": [error], "status": status}}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    route: str


class FakeBigQuery:
    """Records requests and answers each REST method from a queue of canned answers.

    The last answer queued for a method is repeated; unknown routes get a 404.
    """

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Request] = []
        self._answers: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()

    def answer(self, route: str, *answers: Answer) -> None:
        with self._lock:
            self._answers[route] = list(answers)

    def calls(self, route: str) -> list[Request]:
        return [r for r in self.requests if r.route == route]

    def handle(self, method: str, target: str, raw_body: bytes) -> Answer:
        url = urlsplit(target)
        path = url.path.removeprefix("/bigquery/v2")
        route = next(
            (
                name
                for verb, pattern, name in _ROUTES
                if verb == method and re.fullmatch(pattern, path)
            ),
            "unknown",
        )
        body = json.loads(raw_body) if raw_body else None
        with self._lock:
            self.requests.append(Request(method, url.path, parse_qs(url.query), body, route))
            queue = self._answers.get(route)
            if not queue:
                return api_error(404, "notFound", f"Not found: {method} {url.path}")
            status, answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if parse_qs(url.query).get("maxResults") == ["0"]:  # BigQuery then sends no rows
            answer = {key: value for key, value in answer.items() if key != "rows"}
        return status, answer


class _Handler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        fake: FakeBigQuery = self.server.fake  # type: ignore[attr-defined]
        status, body = fake.handle(self.command, self.path, self.rfile.read(length))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass


@contextmanager
def running_fake_bigquery() -> Iterator[FakeBigQuery]:
    fake = FakeBigQuery()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def dry_run_job(project: str, location: str, sql: str, total_bytes: str) -> dict[str, Any]:
    """The job resource jobs.insert returns for a dry run (which gets no job id)."""
    return {
        "kind": "bigquery#job",
        "jobReference": {"projectId": project, "location": location},
        "configuration": {"query": {"query": sql, "useLegacySql": False}, "dryRun": True},
        "status": {"state": "DONE"},
        "statistics": {
            "creationTime": "1709296200000",
            "totalBytesProcessed": total_bytes,
            "query": {"totalBytesProcessed": total_bytes, "statementType": "SELECT"},
        },
    }
