"""kpi: the KPI catalogue and KPI queries over the marts.

GET  /kpi                      the catalogue: every KPI, its parameters, columns and grains
GET  /kpi/<name>?param=value   one KPI (query-string parameters)
POST /kpi/<name>               one KPI (parameters as a JSON object)
POST /kpi/query                the original ExecKPI API: {sql_file, params} → {rows, columns, data}

Add ?format=csv (or send Accept: text/csv) for CSV. Responses carry an ETag; a request with
If-None-Match gets 304 while the data has not changed, and Cache-Control: no-cache skips the
instance's result cache.
"""

import csv
import functools
import io

import flask
import functions_framework
from werkzeug.exceptions import MethodNotAllowed

from common.backends import start_function
from common.http import Router, json_body, json_response
from common.kpi import original_queries
from common.kpi.catalogue import CATALOGUE
from common.kpi.service import KpiResult, KpiService
from common.validation import InvalidInput, known_fields

CONFIG, BACKENDS = start_function("kpi")
router = Router(CONFIG, prefix="/kpi")


@functools.cache
def service() -> KpiService:
    return KpiService(
        BACKENDS.warehouse, CONFIG.marts_schema, max_bytes_billed=CONFIG.bq_max_bytes_billed
    )


@router.route("/")
def catalogue(request: flask.Request) -> dict:
    return {"kpis": [kpi.describe() for kpi in CATALOGUE.values()]}


@router.route("/query", methods=("POST",))
def original_query(request: flask.Request) -> dict:
    return original_queries.answer(service(), json_body(request))


@router.route("/<name>", methods=("GET", "POST"), query=None)
def run_kpi(request: flask.Request, name: str) -> flask.Response:
    if name == "query":  # /query takes POST only; werkzeug hands its other methods to this rule
        raise MethodNotAllowed(valid_methods=["POST"])
    wants_csv = _wants_csv(request)  # a bad format is refused before the warehouse is asked
    if request.method == "POST":
        known_fields(request.args, "", ("format",))  # the KPI's parameters are in the body
        raw = json_body(request)
    else:
        raw = {key: value for key, value in request.args.items() if key != "format"}
    use_cache = "no-cache" not in request.headers.get("Cache-Control", "")
    prepared = service().prepare(name, raw)
    headers = {"ETag": f'"{prepared.etag}"', "Cache-Control": "private, max-age=60"}
    if request.if_none_match.contains(prepared.etag):
        return flask.Response(status=304, headers=headers)
    result = service().run(prepared, use_cache=use_cache)
    return _respond(result, wants_csv, headers)


def _wants_csv(request: flask.Request) -> bool:
    requested = request.args.get("format")
    if requested not in (None, "json", "csv"):
        raise InvalidInput("format", "must be json or csv")
    return requested == "csv" or (
        requested is None
        and request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
    )


def _respond(result: KpiResult, wants_csv: bool, headers: dict[str, str]) -> flask.Response:
    if wants_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([column["name"] for column in result.columns])
        writer.writerows(result.rows)
        return flask.Response(buffer.getvalue(), 200, headers, mimetype="text/csv")
    body = {
        "kpi": result.kpi,
        "params": result.params,
        "columns": result.columns,
        "rows": result.rows,
        "meta": result.meta,
    }
    return json_response(body, 200, headers)


@functions_framework.http
def kpi(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
