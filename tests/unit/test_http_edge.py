"""The Router at the edge of hostile requests: whatever a client sends (a Host header that is no
host name, unknown query parameters, a chunked body in small pieces or with broken framing), the
answer is a 4xx in the one error shape, never a 500."""

from __future__ import annotations

import io

import flask
import pytest
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize, NoMoreData

from common.config import load_config
from common.http import Router, json_body, optional_json_body

APP = flask.Flask(__name__)
LIMIT = 1024


def router(**env: str) -> Router:
    routes = Router(load_config({"EXECKPI_MAX_REQUEST_BYTES": str(LIMIT), **env}))

    @routes.route("/runs", query=("limit",))
    def runs(request: flask.Request) -> dict:
        return {"limit": request.args.get("limit")}

    @routes.route("/latest")
    def latest(request: flask.Request) -> dict:
        return {"ok": True}

    @routes.route("/kpi/<name>", query=None)
    def kpi(request: flask.Request, name: str) -> dict:
        return {"name": name, "args": dict(request.args)}

    @routes.route("/strict", methods=("POST",))
    def strict(request: flask.Request) -> dict:
        return json_body(request)

    @routes.route("/optional", methods=("POST",))
    def optional(request: flask.Request) -> dict:
        return optional_json_body(request)

    return routes


def answer(path: str, **request: object) -> flask.Response:
    with APP.test_request_context(path, **request):
        return router().dispatch(flask.request)


def error_of(response: flask.Response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


def test_a_host_header_that_is_no_host_name_is_a_400_naming_it():
    # Each label of a host name has at most 63 characters: IDNA refuses this one.
    response = answer("/latest", headers={"Host": "a" * 64})
    assert response.status_code == 400 and error_of(response)["field"] == "Host"


def test_unknown_query_parameters_are_400s_naming_the_first():
    assert answer("/runs?limit=5").get_json() == {"limit": "5"}
    response = answer("/runs?limit=5&order=asc&colour=red")
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "colour" and "known: limit" in error["message"]
    response = answer("/latest?cache=0")  # a route without parameters takes none
    assert response.status_code == 400 and error_of(response)["field"] == "cache"


def test_a_route_that_checks_its_own_parameters_gets_them_all():
    body = answer("/kpi/revenue?grain=week&start=2026-01-01").get_json()
    assert body == {"name": "revenue", "args": {"grain": "week", "start": "2026-01-01"}}


class Trickle(io.RawIOBase):
    """A stream that hands out at most three bytes per read, as a server's chunk decoder may
    (werkzeug's development server returns one chunk per read), then fails as ``failure``
    once the data runs out, if given."""

    def __init__(self, data: bytes, failure: Exception | None = None):
        self.data, self.failure = data, failure

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.data and self.failure is not None:
            raise self.failure
        piece, self.data = self.data[:3], self.data[3:]
        buffer[: len(piece)] = piece
        return len(piece)


def streamed(stream: io.RawIOBase) -> dict:
    """A body without Content-Length, as a server presents a chunked one."""
    return {
        "method": "POST",
        "headers": {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        "environ_overrides": {"wsgi.input": stream, "wsgi.input_terminated": True},
    }


def test_a_chunked_body_arriving_in_small_pieces_is_read_whole():
    body = b'{"scheduled_at": "2026-10-15T05:00:00Z", "reason": "backfill"}'
    for path in ("/strict", "/optional"):
        response = answer(path, **streamed(Trickle(body)))
        assert response.status_code == 200
        assert response.get_json() == {"scheduled_at": "2026-10-15T05:00:00Z", "reason": "backfill"}


@pytest.mark.parametrize("path", ["/strict", "/optional"])
def test_a_chunked_body_over_the_limit_is_a_413(path):
    response = answer(path, **streamed(Trickle(b'{"a": "' + b"x" * LIMIT + b'"}')))
    assert response.status_code == 413 and error_of(response)["field"] == "body"


@pytest.mark.parametrize(
    "failure",
    [InvalidChunkSize(b"zz"), ChunkMissingTerminator(b"XX"), NoMoreData()],
    ids=["chunk-size", "chunk-terminator", "truncated"],
)
@pytest.mark.parametrize("path", ["/strict", "/optional"])
def test_a_body_whose_chunked_framing_breaks_is_a_400(path, failure):
    response = answer(path, **streamed(Trickle(b'{"a":', failure)))
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "body" and "chunked" in error["message"]


def test_an_optional_body_may_be_absent_or_empty_but_not_malformed():
    assert answer("/optional", method="POST").get_json() == {}
    assert answer("/optional", **streamed(Trickle(b""))).get_json() == {}
    assert answer("/optional", method="POST", data=b" \n").get_json() == {}
    assert answer("/optional", method="POST", json={"reason": "x"}).get_json() == {"reason": "x"}
    for raw in (b"not json", b"[1]", b'{"a": NaN}'):
        response = answer("/optional", **streamed(Trickle(raw)))
        assert response.status_code == 400 and error_of(response)["field"] == "body"
    response = answer("/strict", method="POST")  # the strict reader still needs a body
    assert response.status_code == 400 and error_of(response)["field"] == "body"


def test_a_route_with_its_own_body_limit_takes_more_than_the_configured_one_and_no_more():
    routes = router()

    @routes.route("/upload", methods=("POST",), max_body_bytes=4 * LIMIT)
    def upload(request: flask.Request) -> dict:
        return {"size": len(request.get_data())}

    with APP.test_request_context("/upload", method="POST", data=b"x" * (2 * LIMIT)):
        assert routes.dispatch(flask.request).get_json() == {"size": 2 * LIMIT}
    with APP.test_request_context("/upload", method="POST", data=b"x" * (4 * LIMIT + 1)):
        response = routes.dispatch(flask.request)
    assert response.status_code == 413 and str(4 * LIMIT) in error_of(response)["message"]
    with APP.test_request_context("/strict", method="POST", data=b"x" * (LIMIT + 1)):
        response = routes.dispatch(flask.request)  # the other routes keep the configured one
    assert response.status_code == 413 and str(LIMIT) in error_of(response)["message"]
