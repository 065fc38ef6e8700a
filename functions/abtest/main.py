"""abtest: A/B-test statistics (common/stats), power and assignment.

POST /ab/test      {a_success, a_total, b_success, b_total, alpha?}: the original two-proportion
                   test (group, uplift, p_value, ci_95, srm_p, significant) plus the full read-out
POST /ab/analyze   {variants, metrics?, options?} or {experiment_id, options?} (from ab_metrics),
                   and locale? (else Accept-Language): the decision's summary and reasons in
                   en-US (default) or de-DE
POST /ab/breakdown {experiment_id, dimension, options?, correction_across_values?}: exploratory
                   analysis per browser, traffic_source or country (ab_metrics_by_dimension)
POST /ab/power     {baseline, mde?, n_per_arm?, ...}: sample size, detectable effect or power
GET  /ab/assign    ?experiment_id=&user_id=[&variants=a,b&weights=0.5,0.5]
GET  /ab/sample    the original sample {"sample": {"A": {success, total}, "B": ...}}, with the
                   same counts as /ab/test fields
GET  /ab/experiments[?status=planned|running|finished][&format=csv|xlsx&locale=en-US|de-DE]:
                   the list, or with a format the list as a file (a row per variant)
GET  /ab/experiments/<experiment_id>[?format=csv|xlsx&locale=en-US|de-DE]: with a format, the
                   file of the experiment's results (the analysis POST /ab/analyze answers)
GET  /ab/experiments/<experiment_id>/timeline[?metric=&scale=&cuped=]: the cumulative effect
                   over time, the analysis after each day (ab_metrics_cumulative)
POST /ab/experiments  a new experiment definition (common/definitions): 201 with version 1
PATCH /ab/experiments/<experiment_id>  change what may still change: the next version, or 409
GET  /ab/experiments/<experiment_id>/versions: every version, newest first, who/when/what
                   Definitions live in the artifact store; the next build copies them into the
                   warehouse, where the list and the analyses read them.

POST /ab/analyze/file   the body a per-user experiment file (CSV, gzip CSV or Parquet), its
                   columns named in the query string: the analysis and its data quality

An unknown experiment_id answers 404 with the known ids in the error's "known".
"""

import json
from datetime import UTC, datetime

import flask
import functions_framework

from common import audit
from common.backends import start_function
from common.definitions.spec import Guardrail, parse_definition
from common.definitions.store import DefinitionStore
from common.experiment_files.aggregate import file_statistics
from common.experiment_files.analysis import file_analysis
from common.experiment_files.mapping import QUERY_PARAMETERS, file_mapping
from common.experiment_files.upload import MAX_UPLOAD_BYTES, received
from common.http import Router, json_body, json_response
from common.negotiation import RESPONSE_OPTIONS, VARY, download_response, requested
from common.reporting_time import today
from common.stats import api
from common.stats.experiment_list_table import experiment_list_table
from common.stats.requests import ExperimentRef
from common.stats.warehouse_source import (
    catalog,
    experiment_definition,
    stored_breakdown,
    stored_experiment,
    stored_timeline,
)
from common.stats.wording import wording
from common.validation import InvalidInput, identifier

CONFIG, BACKENDS = start_function("abtest")
# DuckDB names the marts schema after dbt's target schema; BigQuery uses the configured dataset.
MARTS = CONFIG.marts_schema
router = Router(CONFIG, prefix="/ab", audit_as="abtest")


def _body(request: flask.Request) -> dict:
    """The JSON object; NaN and Infinity get through so that validation names their field."""
    try:
        return json_body(request)
    except InvalidInput as strict:
        if request.content_length is None:  # a streamed body is gone once read
            raise
        try:  # lenient parsing differs from strict only in accepting NaN and Infinity
            body = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            raise strict from None
        if not isinstance(body, dict):
            raise strict from None
        return body


@router.route("/test", methods=("POST",))
def two_proportion_test(request: flask.Request) -> dict:
    return api.two_proportion_test(_body(request))


@router.route("/sample", methods=("GET",))
def sample(request: flask.Request) -> dict:
    return api.sample()


@router.route("/analyze", methods=("POST",))
def analyze(request: flask.Request) -> flask.Response:
    body = _body(request)
    words = api.answer_wording(body, request.accept_languages)  # 400 before any analysis
    wanted = api.analysis_request(body)
    headers = {"Vary": "Accept-Language"}  # it may choose the summary's language
    if not isinstance(wanted, ExperimentRef):
        return json_response(api.analyze_experiment(wanted, words), 200, headers)
    stored = stored_experiment(BACKENDS.warehouse, MARTS, wanted.experiment_id)
    stored = stored.guarded(_guardrails(wanted.experiment_id))
    return json_response(api.analyze_stored(wanted, stored, words), 200, headers)


@router.route("/breakdown", methods=("POST",))
def breakdown(request: flask.Request) -> dict:
    wanted = api.breakdown_request(_body(request))
    stored = stored_breakdown(BACKENDS.warehouse, MARTS, wanted.experiment_id, wanted.dimension)
    return api.breakdown(wanted, stored.guarded(_guardrails(wanted.experiment_id)))


@router.route("/experiments", methods=("GET",), query=None)  # experiments_request checks them
def experiments(request: flask.Request) -> flask.Response:
    wanted = requested(request)  # a bad format or locale: 400 before the warehouse is read
    status = api.experiments_request(
        {k: v for k, v in request.args.items() if k not in RESPONSE_OPTIONS}
    )
    listing = api.experiment_list(catalog(BACKENDS.warehouse, MARTS, CONFIG.time_zone), status)
    audit.answered(request, len(listing["experiments"]))  # as a download hides them too
    headers = {"Vary": VARY}
    if not wanted.is_download:
        return json_response(listing, 200, headers)
    return download_response(experiment_list_table(listing, status), wanted, headers)


@router.route("/experiments/<experiment_id>", methods=("GET",), query=RESPONSE_OPTIONS)
def experiment(request: flask.Request, experiment_id: str) -> flask.Response:
    wanted = requested(request)  # a bad format or locale: 400 before the warehouse is read
    found = catalog(BACKENDS.warehouse, MARTS, CONFIG.time_zone)
    answer = api.experiment(found, experiment_id)  # 404 for an unknown id
    headers = {"Vary": VARY}
    if not wanted.is_download:
        return json_response(answer, 200, headers)
    stored = stored_experiment(BACKENDS.warehouse, MARTS, answer["experiment_id"])
    stored = stored.guarded(_guardrails(answer["experiment_id"]))
    words = wording(wanted.locale.tag)  # the decision column in the file's language
    results = api.experiment_results(stored, found.as_of, CONFIG.currency, words)
    audit.answered(request, len(results.rows))  # a download hides them from the Router
    return download_response(results, wanted, headers)


# timeline_request checks the query: a bad parameter answers 400 before the warehouse is read
@router.route("/experiments/<experiment_id>/timeline", methods=("GET",), query=None)
def timeline(request: flask.Request, experiment_id: str) -> dict:
    wanted = api.timeline_request(experiment_id, request.args)
    stored = stored_timeline(BACKENDS.warehouse, MARTS, experiment_id)
    return api.timeline(wanted, stored.guarded(_guardrails(experiment_id)), CONFIG.currency)


@router.route("/power", methods=("POST",))
def power(request: flask.Request) -> dict:
    return api.power(_body(request))


@router.route("/assign", methods=("GET",), query=None)  # assignment_request checks them
def assign(request: flask.Request) -> dict:
    experiment_id, user_id, variants, weights = api.assignment_request(request.args)
    if variants is None:
        definition = experiment_definition(BACKENDS.warehouse, MARTS, experiment_id)
        variants, weights = definition.variants, definition.weights
    return api.assignment(experiment_id, user_id, variants, weights)


@router.route(
    "/analyze/file", methods=("POST",), query=QUERY_PARAMETERS, max_body_bytes=MAX_UPLOAD_BYTES
)
def analyze_file(request: flask.Request) -> dict:
    mapping = file_mapping(request.args)  # a bad mapping: 400 before the body is read
    with received(request.stream) as upload:
        statistics = file_statistics(upload, mapping)
    return file_analysis(upload, statistics, mapping.options)


# --- experiment definitions (the artifact store; never the warehouse, which has one writer) ---


def _now() -> datetime:
    return datetime.now(UTC)


def _guardrails(experiment_id: str) -> tuple[Guardrail, ...]:
    """Those of its stored definition (the marts hold no guardrails); read after the warehouse,
    which answers 404 for an unknown id."""
    defined = DefinitionStore(BACKENDS.artifacts).current(experiment_id)
    return () if defined is None else defined.definition.guardrails


@router.route("/experiments", methods=("POST",))
def create_experiment(request: flask.Request) -> tuple[dict, int]:
    spec = parse_definition(_body(request))
    author = audit.principal(request).subject
    return DefinitionStore(BACKENDS.artifacts).create(spec, author, _now()).answer(), 201


@router.route("/experiments/<experiment_id>", methods=("PATCH",))
def change_experiment(request: flask.Request, experiment_id: str) -> dict:
    experiment_id = identifier(experiment_id, "experiment_id")
    body = _body(request)
    author = audit.principal(request).subject
    store = DefinitionStore(BACKENDS.artifacts)
    changed = store.change(experiment_id, body, author, _now(), today(CONFIG.time_zone))
    return changed.answer()


@router.route("/experiments/<experiment_id>/versions", methods=("GET",))
def experiment_versions(request: flask.Request, experiment_id: str) -> dict:
    found = DefinitionStore(BACKENDS.artifacts).versions(identifier(experiment_id, "experiment_id"))
    return {"experiment_id": experiment_id, "versions": [v.answer() for v in found]}


@functions_framework.http
def abtest(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
