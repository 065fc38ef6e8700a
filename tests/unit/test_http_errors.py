"""The Router answers every kind of domain error through one table: status, code and field."""

import flask
import pytest

from common import errors
from common.config import load_config
from common.events.publishers import PublishError
from common.http import Router
from common.kpi.service import QueryTooExpensive, UnknownKpi
from common.runs import InProgress, LeaseLost
from common.stats.warehouse_source import ExperimentNotFound
from common.validation import InvalidInput
from common.warehouse import WarehouseQueryError, WarehouseUnavailable

APP = flask.Flask(__name__)


def answer(error: Exception) -> tuple[int, dict]:
    router = Router(load_config({}))

    @router.route("/fail")
    def fail(request: flask.Request) -> None:
        raise error

    with APP.test_request_context("/fail"):
        response = router.dispatch(flask.request)
    return response.status_code, response.get_json()["error"]


@pytest.mark.parametrize(
    ("error", "status", "code", "field"),
    [
        (InvalidInput("rows[0].age", "must be a number"), 400, "invalid_argument", "rows[0].age"),
        (errors.NotFound("gone"), 404, "not_found", None),
        (errors.NotFound("gone", field="name"), 404, "not_found", "name"),
        (errors.Conflict("busy"), 409, "conflict", None),
        (errors.Unprocessable("too much"), 422, "unprocessable", None),
        (errors.Unavailable("down"), 503, "unavailable", None),
        (errors.UpstreamError("refused"), 502, "upstream_error", None),
        (UnknownKpi("nope"), 404, "not_found", "kpi"),
        (QueryTooExpensive(10**12, 10**9), 422, "query_too_expensive", "end"),
        (ExperimentNotFound("ab"), 404, "not_found", "experiment_id"),
        (InProgress("building"), 409, "build_in_progress", None),
        (LeaseLost("taken over"), 409, "build_in_progress", None),
        (PublishError("the bus did not accept x"), 503, "bus_unavailable", None),
        (WarehouseUnavailable("busy"), 503, "warehouse_unavailable", None),
        (WarehouseQueryError("rejected"), 502, "warehouse_error", None),
    ],
)
def test_each_kind_of_error_has_its_status_code_and_field(error, status, code, field):
    answered, body = answer(error)
    assert (answered, body["code"], body["field"]) == (status, code, field)
    assert body["message"] == error.message


def test_the_cause_of_a_5xx_is_logged_but_not_answered(caplog):
    try:
        raise ConnectionError("10.0.0.7:8085 refused")
    except ConnectionError as cause:
        error = PublishError("the local bus did not accept x")
        error.__cause__ = cause
    with caplog.at_level("WARNING", logger="common.http"):
        status, body = answer(error)
    assert status == 503 and "10.0.0.7" not in body["message"]
    assert "10.0.0.7:8085 refused" in caplog.text


def test_other_exceptions_stay_internal_errors():
    status, body = answer(KeyError("secret detail"))
    assert (status, body["code"]) == (500, "internal") and "secret" not in body["message"]


def test_only_an_error_about_a_name_lists_the_known_names():
    _, body = answer(ExperimentNotFound("ab", ("aa_test", "checkout")))
    assert body["known"] == ["aa_test", "checkout"] and "aa_test, checkout" in body["message"]
    _, body = answer(errors.NotFound("gone"))
    assert set(body) == {"code", "message", "field"}


def _router(**env) -> Router:
    router = Router(load_config(env), prefix="/kpi")

    @router.route("/revenue")
    def revenue(request: flask.Request) -> dict:
        return {"ok": True}

    return router


@pytest.mark.parametrize(
    ("path", "status"),
    [("/kpi//revenue", 200), ("//kpi/revenue/", 200), ("/kpi///nothing", 404)],
)
def test_double_slashes_are_merged_not_redirected(path, status):
    with APP.test_request_context(path):
        response = _router().dispatch(flask.request)
    assert response.status_code == status and response.is_json


@pytest.mark.parametrize("given", ["schlüssel-0123456789", "\u2603" * 20, ""])
def test_a_wrong_api_key_of_any_characters_is_a_401(given):
    router = _router(EXECKPI_API_KEYS="0123456789abcdef")
    headers = {"X-API-Key": given.encode("utf-8").decode("latin-1")}
    with APP.test_request_context("/kpi/revenue", headers=headers):
        response = router.dispatch(flask.request)
    assert response.status_code == 401 and response.get_json()["error"]["field"] == "X-API-Key"
