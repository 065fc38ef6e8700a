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

from common.backends import start_function
from common.http import Router, json_body, json_response
from common.kpi import original_queries
from common.kpi.catalogue import CATALOGUE
from common.kpi.downloads import CSV, XLSX, as_csv, as_xlsx
from common.kpi.locales import DownloadLocale, choose_locale
from common.kpi.service import KpiResult, KpiService
from common.validation import choice, known_fields

CONFIG, BACKENDS = start_function("kpi")
router = Router(CONFIG, prefix="/kpi")

RESPONSE_OPTIONS = ("format", "locale")  # query parameters of the answer, not of the KPI
FORMATS = {"json": "application/json", "csv": CSV, "xlsx": XLSX}  # the first is the default
DOWNLOADS = {"csv": as_csv, "xlsx": as_xlsx}


@functools.cache
def service() -> KpiService:
    return KpiService(
        BACKENDS.warehouse,
        CONFIG.marts_schema,
        max_bytes_billed=CONFIG.bq_max_bytes_billed,
        time_zone=CONFIG.time_zone,
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
    # A bad format or locale is refused before the warehouse is asked.
    answer_format = _format(request)
    locale = choose_locale(request.args.get("locale"), request.accept_languages)
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
        "Vary": "Accept, Accept-Language",  # both choose the representation
    }
    if request.if_none_match.contains(prepared.etag):
        return flask.Response(status=304, headers=headers)
    result = service().run(prepared, use_cache=use_cache)
    return _respond(result, answer_format, locale, headers)


def _format(request: flask.Request) -> str:
    requested = request.args.get("format")
    if requested is not None:
        return choice(requested, "format", tuple(FORMATS))
    media = request.accept_mimetypes.best_match(list(FORMATS.values()))
    return next((name for name, m in FORMATS.items() if m == media), "json")


def _respond(
    result: KpiResult, answer_format: str, locale: DownloadLocale, headers: dict[str, str]
) -> flask.Response:
    if answer_format in DOWNLOADS:
        download = DOWNLOADS[answer_format](result, locale)
        headers = {**headers, "Content-Disposition": download.disposition}
        return flask.Response(download.body, 200, headers, mimetype=download.mimetype)
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
