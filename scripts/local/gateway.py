"""The local front door: one port that hands each request to the function serving its path, as
Google's API Gateway does in production.

    python -m scripts.local.gateway --port 8080 \\
        --route kpi /kpi http://127.0.0.1:8093 60 --route portal "" http://127.0.0.1:8095 30

A request goes to the function whose ``path_prefix`` (function.yaml) is the longest that matches
on a segment boundary: ``/kpi`` takes ``/kpi`` and ``/kpi/revenue``, never ``/kpix``; the
portal's ``""`` takes the rest. Method, path and query string (byte for byte), headers (less the
hop-by-hop ones) and the body pass through, the body streamed; the answer comes back the same
way. What the gateway answers itself is JSON in the functions' error shape: a function that is
down (502) or too slow (504), and a malformed request (4xx), whether this module finds it or
gunicorn does while parsing. Served by gunicorn's threaded worker, as the functions are.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import gunicorn.app.base
from gunicorn import util
from gunicorn.http import errors as parse_errors
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.sansio.utils import host_is_trusted

from common.http import HttpError, error_response
from scripts.local.serve_function import ACCESS_FORMAT

log = logging.getLogger("gateway")

# The largest body a function may be configured to take (EXECKPI_MAX_REQUEST_BYTES is at most
# 32 MiB, also Cloud Run's request limit); each function then applies its own, smaller limit.
MAX_BODY_BYTES = 32 * 1024**2
BLOCK = 64 * 1024
THREADS = 8  # a build or a training request may hold one for minutes
# RFC 9110 7.6.1, plus what gunicorn or http.client decide for each hop (Host, Expect, Date,
# Server are per connection: the gateway and the function each set their own).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
PER_CONNECTION = frozenset({"host", "expect", "date", "server"})
# Set by the gateway, from what it saw (a client's X-Forwarded-For is kept and extended).
FORWARDING = frozenset({"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})
_SLASHES = re.compile("/{2,}")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Route:
    name: str
    prefix: str  # "" matches every path
    url: str  # http://host:port of the function
    timeout_seconds: float

    def matches(self, path: str) -> bool:
        return not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")


def route_for(routes: Iterable[Route], path: str) -> Route | None:
    """The route with the longest prefix matching ``path`` (slashes merged, as functions do)."""
    path = _SLASHES.sub("/", path)
    return max((r for r in routes if r.matches(path)), key=lambda r: len(r.prefix), default=None)


class BodyError(Exception):
    """The request body could not be read whole: too large, cut short or badly framed."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.error = HttpError(status, code, message, "body")


@dataclass(frozen=True)
class Gateway:
    """The WSGI application: forwards each request, or answers it in the JSON error shape."""

    routes: tuple[Route, ...]
    max_body_bytes: int = MAX_BODY_BYTES

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        try:
            status, headers, body = self._forward(environ)
        except HttpError as exc:
            return error_response(exc)(environ, start_response)
        except Exception:  # a bug of the gateway, not the client's mistake: log it in full
            log.exception("gateway error on %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"])
            return error_response(HttpError(500, "internal", "internal error"))(
                environ, start_response
            )
        start_response(status, headers)
        return body

    def _forward(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], Iterator]:
        host = environ.get("HTTP_HOST")
        if host and not host_is_trusted(host):
            raise HttpError(400, "invalid_argument", "must be a host or address[:port]", "Host")
        target = _request_target(environ)
        route = route_for(self.routes, environ["PATH_INFO"])
        if route is None:
            raise HttpError(404, "not_found", "no function serves this path", "path")
        body, chunked = self._body(environ)
        upstream = urlsplit(route.url)
        connection = http.client.HTTPConnection(
            upstream.hostname, upstream.port, timeout=route.timeout_seconds
        )
        try:
            response = _exchange(connection, environ, target, body, chunked, route)
        except BaseException:
            connection.close()
            raise
        status = f"{response.status} {response.reason}"
        return status, _response_headers(response.getheaders()), _relay(connection, response)

    def _body(self, environ: dict[str, Any]) -> tuple[Iterator[bytes] | None, bool]:
        """The body as a stream of blocks, and whether it arrived chunked (no declared length)."""
        stream = environ["wsgi.input"]
        declared = environ.get("CONTENT_LENGTH")
        if declared:  # gunicorn has checked it is a number
            length = int(declared)
            if length > self.max_body_bytes:
                raise HttpError(413, "payload_too_large", self._too_large, "body")
            return (_declared_body(stream, length) if length else None), False
        coding = environ.get("HTTP_TRANSFER_ENCODING")
        if coding is None:
            return None, False
        if coding.strip().lower() != "chunked":  # gunicorn passes "gzip, chunked" on, undecoded
            raise HttpError(400, "invalid_argument", "must be chunked", "Transfer-Encoding")
        return _chunked_body(stream, self.max_body_bytes, self._too_large), True

    @property
    def _too_large(self) -> str:
        return f"the body exceeds {self.max_body_bytes} bytes"


def _request_target(environ: dict[str, Any]) -> str:
    """The path and query string exactly as the client sent them (gunicorn's RAW_URI, which
    gunicorn has checked is printable ASCII), in origin form even after an absolute URI."""
    if _CONTROL.search(environ["PATH_INFO"]):
        # No route has one, and a function's framework would answer with an HTML page.
        raise HttpError(400, "invalid_argument", "must not encode control characters", "path")
    raw = environ["RAW_URI"]
    if not raw.startswith("/"):
        parts = urlsplit(raw)
        raw = parts.path + (f"?{parts.query}" if parts.query else "")
        if not raw.startswith("/"):
            raise HttpError(400, "invalid_argument", "must be a path starting with /", "path")
    return raw


def _passes(name: str, connection: str) -> bool:
    """Whether a header goes on to the next hop: not hop-by-hop, nor named by Connection."""
    lowered = name.lower()
    named = {token.strip().lower() for token in connection.split(",")}
    return lowered not in HOP_BY_HOP and lowered not in PER_CONNECTION and lowered not in named


def _request_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    connection = environ.get("HTTP_CONNECTION", "")
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").title()
        else:
            continue
        if _passes(name, connection) and name.lower() not in FORWARDING:
            headers.append((name, value))
    client = environ.get("REMOTE_ADDR", "")
    forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
    headers.append(("X-Forwarded-For", f"{forwarded_for}, {client}" if forwarded_for else client))
    headers.append(("X-Forwarded-Proto", environ.get("wsgi.url_scheme", "http")))
    if environ.get("HTTP_HOST"):
        headers.append(("X-Forwarded-Host", environ["HTTP_HOST"]))
    return headers


def _response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    connection = ",".join(v for n, v in headers if n.lower() == "connection")
    return [(n, v) for n, v in headers if _passes(n, connection)]


def _declared_body(stream, length: int) -> Iterator[bytes]:
    remaining = length
    while remaining:
        block = _read(stream, min(BLOCK, remaining))
        if not block:
            raise BodyError(400, "invalid_argument", f"ended before its {length} bytes")
        remaining -= len(block)
        yield block


def _chunked_body(stream, limit: int, too_large: str) -> Iterator[bytes]:
    total = 0
    while block := _read(stream, BLOCK):
        total += len(block)
        if total > limit:
            raise BodyError(413, "payload_too_large", too_large)
        yield block


def _read(stream, size: int) -> bytes:
    """One block of the body; gunicorn decodes the chunked framing as it goes and raises where
    the client broke it."""
    try:
        return stream.read(size)
    except (parse_errors.ParseException, parse_errors.NoMoreData) as exc:
        detail = str(exc) or type(exc).__name__
        raise BodyError(400, "invalid_argument", f"malformed chunked body: {detail}") from exc


def _exchange(
    connection: http.client.HTTPConnection,
    environ: dict[str, Any],
    target: str,
    body: Iterator[bytes] | None,
    chunked: bool,
    route: Route,
) -> http.client.HTTPResponse:
    """Send the request to the function and read the head of its answer."""
    try:
        connection.putrequest(environ["REQUEST_METHOD"], target, skip_accept_encoding=True)
        for name, value in _request_headers(environ):
            connection.putheader(name, value)
        if chunked:  # putrequest leaves framing headers to the caller
            connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders(body, encode_chunked=chunked)
    except BodyError as exc:
        raise exc.error from exc
    except ConnectionRefusedError as exc:
        raise _unavailable(route) from exc
    except TimeoutError as exc:
        raise _too_slow(route) from exc
    except OSError:
        # The function may have answered before reading the whole body (a 413, say) and closed:
        # its answer, if it came, is what the client should see.
        pass
    try:
        return connection.getresponse()
    except TimeoutError as exc:
        raise _too_slow(route) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _unavailable(route) from exc


def _unavailable(route: Route) -> HttpError:
    log.warning("%s is not answering at %s", route.name, route.url)
    message = f"the {route.name} function is not answering; is it running?"
    return HttpError(502, "upstream_error", message, "path")


def _too_slow(route: Route) -> HttpError:
    log.warning("%s did not answer within %s s", route.name, route.timeout_seconds)
    message = f"the {route.name} function did not answer within {route.timeout_seconds:g} s"
    return HttpError(504, "upstream_timeout", message, "path")


def _relay(connection: http.client.HTTPConnection, response: http.client.HTTPResponse):
    try:
        while block := response.read1(BLOCK):
            yield block
    finally:
        connection.close()


# --- gunicorn: what it refuses before the gateway runs, answered as JSON -----------------------

# Each kind of malformed request gunicorn finds while parsing: status, code, the part at fault.
# A response header it refuses is the gateway's fault (500), hence first.
_Kinds = type[Exception] | tuple[type[Exception], ...]
PARSE_ERRORS: tuple[tuple[_Kinds, int, str, str | None], ...] = (
    (
        (parse_errors.InvalidResponseHeader, parse_errors.InvalidResponseHeaderName),
        500,
        "internal",
        None,
    ),
    (parse_errors.LimitRequestLine, 414, "uri_too_long", "path"),
    (parse_errors.LimitRequestHeaders, 431, "headers_too_large", "headers"),
    # RFC 9112 says 501, but an unknown coding is the client's mistake: 4xx, as for "gzip" above.
    (parse_errors.UnsupportedTransferCoding, 400, "invalid_argument", "Transfer-Encoding"),
    (parse_errors.ExpectationFailed, 417, "expectation_failed", "Expect"),
    (
        (
            parse_errors.InvalidChunkSize,
            parse_errors.ChunkMissingTerminator,
            parse_errors.InvalidChunkExtension,
            parse_errors.NoMoreData,
        ),
        400,
        "invalid_argument",
        "body",
    ),
    (parse_errors.InvalidRequestMethod, 400, "invalid_argument", "method"),
    (
        (parse_errors.InvalidRequestLine, parse_errors.InvalidHTTPVersion),
        400,
        "invalid_argument",
        "request line",
    ),
    (parse_errors.ParseException, 400, "invalid_argument", "headers"),
)


def parse_error_response(exc: BaseException) -> bytes:
    """The whole HTTP response for a request gunicorn could not parse (the connection closes)."""
    status, code, field = next(
        ((s, c, f) for kinds, s, c, f in PARSE_ERRORS if isinstance(exc, kinds)),
        (500, "internal", None),
    )
    message = (str(exc) or type(exc).__name__) if status < 500 else "internal error"
    error = {"code": code, "message": message, "field": field}
    body = json.dumps({"error": error}, separators=(",", ":"))
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body.encode())}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body.encode()


class JsonErrorWorker(ThreadWorker):
    """gunicorn's threaded worker, answering what it cannot parse in JSON instead of HTML."""

    def handle_error(self, req, client, addr, exc) -> None:
        response = parse_error_response(exc)
        if response.startswith(b"HTTP/1.1 5"):
            self.log.exception("error handling a request")
        else:
            self.log.warning("refused a malformed request from %s: %s", (addr or ("",))[0], exc)
        with suppress(OSError):
            util.write_nonblock(client, response)


class _Server(gunicorn.app.base.BaseApplication):
    def __init__(self, app: Gateway, host: str, port: int):
        self.app = app
        self.options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "threads": THREADS,
            "worker_class": JsonErrorWorker,
            "accesslog": "-",
            "access_log_format": ACCESS_FORMAT,
            "loglevel": "warning",
            "limit_request_line": 8190,  # gunicorn's largest; longer is a 414
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Gateway:
        return self.app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--route",
        nargs=4,
        action="append",
        default=[],
        metavar=("NAME", "PREFIX", "URL", "TIMEOUT"),
        help='a function: its name, path prefix ("" for the rest), URL and timeout in seconds',
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    routes = tuple(Route(n, p, u, float(t)) for n, p, u, t in args.route)
    _Server(Gateway(routes), args.host, args.port).run()


if __name__ == "__main__":
    main()
