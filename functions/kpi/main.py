"""kpi: the KPI catalogue and KPI queries over the marts.

GET  /kpi                      the catalogue: every KPI, its parameters, columns and grains
GET  /kpi/<name>?param=value   one KPI (query-string parameters)
POST /kpi/<name>               one KPI (parameters as a JSON object)
POST /kpi/query                the original ExecKPI API: {sql_file, params} → {rows, columns, data}

Add ?format=csv or ?format=xlsx (or send Accept: text/csv or the XLSX media type) for a file
to download; ?locale=de-DE (or Accept-Language: de) formats it the German way. Responses carry
an ETag; a request with If-None-Match gets 304 while the data has not changed, and
Cache-Control: no-cache skips the instance's result cache.
"""

import functools

import flask
import functions_framework
from werkzeug.exceptions import MethodNotAllowed

from common import audit
from common.backends import start_function
from common.downloads import Table
from common.http import Router, json_body, json_response
from common.kpi import original_queries
from common.kpi.catalogue import CATALOGUE
from common.kpi.service import KpiResult, KpiService
from common.money import currency_of
from common.negotiation import RESPONSE_OPTIONS, VARY, Representation, download_response, requested
from common.validation import known_fields

CONFIG, BACKENDS = start_function("kpi")
CURRENCY = currency_of(CONFIG.currency)  # an unknown code stops the function at start
router = Router(CONFIG, prefix="/kpi", audit_as="kpi")


@functools.cache
def service() -> KpiService:
    return KpiService.configured(CONFIG, BACKENDS.warehouse, CURRENCY)


@router.route("/")
def catalogue(request: flask.Request) -> dict:
    return {"kpis": [kpi.describe(CURRENCY) for kpi in CATALOGUE.values()]}


@router.route("/query", methods=("POST",))
def original_query(request: flask.Request) -> dict:
    return original_queries.answer(service(), json_body(request))


@router.route("/<name>", methods=("GET", "POST"), query=None)
def run_kpi(request: flask.Request, name: str) -> flask.Response:
    if name == "query":  # /query takes POST only; werkzeug hands its other methods to this rule
        raise MethodNotAllowed(valid_methods=["POST"])
    # A bad format or locale is refused before the warehouse is asked.
    wanted = requested(request)
    if request.method == "POST":
        known_fields(request.args, "", RESPONSE_OPTIONS)  # the KPI's parameters are in the body
        raw = json_body(request)
    else:
        raw = {k: v for k, v in request.args.items() if k not in RESPONSE_OPTIONS}
    use_cache = "no-cache" not in request.headers.get("Cache-Control", "")
    prepared = service().prepare(name, raw)
    headers = {
        "ETag": f'"{prepared.etag}"',
        "Cache-Control": "private, max-age=60",
        "Vary": VARY,
    }
    if request.if_none_match.contains(prepared.etag):
        return flask.Response(status=304, headers=headers)
    result = service().run(prepared, use_cache=use_cache)
    audit.answered(request, len(result.rows))  # a download hides them from the Router
    return _respond(result, wanted, headers)


def _respond(result: KpiResult, wanted: Representation, headers: dict[str, str]) -> flask.Response:
    if wanted.is_download:
        return download_response(_table(result), wanted, headers)
    body = {
        "kpi": result.kpi,
        "params": result.params,
        "columns": result.columns,
        "rows": result.rows,
        "meta": result.meta,
    }
    return json_response(body, 200, headers)


def _table(result: KpiResult) -> Table:
    """Named after the KPI and, if the answer covers a date range, its first and last day."""
    span = [result.params[key] for key in ("start", "end") if result.params.get(key)]
    stem = "_".join([result.kpi, *span])
    return Table(result.kpi, result.columns, result.rows, stem, result.currency)


@functions_framework.http
def kpi(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
