"""What the API tests through the gateway share: a clean environment and free ports for a stack,
which process served a request, the one error shape every error answer has, and a raw exchange
for requests no HTTP client would send."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

import requests

from scripts.local.stack import GATEWAY, LocalStack

ERROR_FIELDS = {"code", "message", "field", "known"}


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without its EXECKPI_* settings, plus ``settings``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("EXECKPI_")}
    return {**kept, "NO_GCE_CHECK": "true", **settings}


def served_by(stack: LocalStack, method: str, path: str, timeout: float = 10) -> set[str]:
    """The processes, the gateway included, whose access log shows ``method path`` (the stack
    copies each process's output to its log as it comes, so wait for the lines)."""
    line = f"access {method} {path} "
    names = [GATEWAY, *(spec.name for spec in stack.specs)]
    deadline = time.monotonic() + timeout

    def found() -> set[str]:
        return {n for n in names if line in stack.log_path(n).read_text(errors="replace")}

    while GATEWAY not in found() and time.monotonic() < deadline:
        time.sleep(0.1)
    # The gateway logs after the function answered, but each process's output reaches its log
    # through its own copying thread: give the function's line a moment to land too.
    time.sleep(0.5)
    return found()


def error_of(response: requests.Response) -> dict:
    """The error of a JSON error answer, checked for the one error shape."""
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    body = response.json()
    assert set(body) == {"error"}, body
    assert (
        {"code", "message", "field"} <= set(body["error"]) <= {"code", "message", "field", "known"}
    )
    return body["error"]


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # names and values in lower case
    body: bytes


def raw_exchange(port: int, request: bytes, timeout: float = 30) -> RawResponse:
    """Send bytes no HTTP client would send (broken framing, a malformed Host) and read the one
    answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while block := sock.recv(65536):
            received += block
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return RawResponse(
        int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body
    )
