"""The abtest function's operations without HTTP: JSON-able request in, JSON-able answer out.

An analysis of a stored experiment goes one way: the caller parses the request, reads the
experiment (``warehouse_source.stored_experiment``) and hands both to ``analyze_stored``; a
breakdown likewise (``breakdown_request``, ``stored_breakdown``, ``breakdown``), and the
cumulative effect over time (``timeline_request``, ``stored_timeline``, ``timeline``); the
experiment list reads a ``warehouse_source.Catalog``. Invalid input raises ``InvalidInput``
(with the field's path).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from common.experiments import (
    STATUSES,
    ExperimentDefinition,
    Status,
    assign_variant,
    check_weights,
    hash_bucket,
    mart_metric_units,
)
from common.locales import choose_locale
from common.stats import requests, score_interval
from common.stats import timeline as cumulative
from common.stats.analyze import analyze
from common.stats.breakdown import DIMENSIONS, WARNING, Breakdown, analyze_breakdown
from common.stats.decision import guardrail_verdict
from common.stats.inputs import CORRECTIONS, Correction, Experiment, Options
from common.stats.power import solve
from common.stats.power.request import power_request
from common.stats.result_table import results_table
from common.stats.results import Analysis
from common.stats.wording import ENGLISH, Wording, wording
from common.validation import InvalidInput, choice, known_fields, name, number

if TYPE_CHECKING:
    from werkzeug.datastructures import LanguageAccept

    from common.downloads import Table
    from common.stats.warehouse_source import (
        Catalog,
        StoredBreakdown,
        StoredExperiment,
        StoredTimeline,
    )

# The original backend's GET /ab/sample, whose UI read sample.A.success and so on.
SAMPLE = {"A": {"success": 120, "total": 1000}, "B": {"success": 150, "total": 980}}
Z_95 = 1.959963984540054  # Φ⁻¹(0.975): ci_95 stays a 95% interval whatever alpha is


def sample() -> dict[str, Any]:
    """The original ``{"sample": {"A": {success, total}, "B": ...}}`` and the same counts as the
    fields of a POST /ab/test body (``a_success``, ``a_total``, ``b_success``, ``b_total``)."""
    return {
        "sample": {arm: dict(counts) for arm, counts in SAMPLE.items()},
        **{
            f"{arm.lower()}_{key}": value
            for arm, counts in SAMPLE.items()
            for key, value in counts.items()
        },
    }


def two_proportion_test(body: Mapping[str, Any]) -> dict[str, Any]:
    """The original ExecKPI test, field for field, then the richer read-out of the same test.

    The engine runs once on the absolute scale: the pooled two-proportion z-test and the score
    intervals that invert it, so ``ci`` (at 1 - alpha) excludes 0 exactly when ``significant``;
    ``ci_95`` is the same interval at 95% (alpha ≤ 0.05 here, so never significant with a
    ci_95 through 0).
    """
    experiment = requests.legacy_test_request(body)
    analysis = analyze(experiment)
    c = analysis.comparisons[0]
    a, b = (v.metrics["conversion"] for v in experiment.variants)
    ci_95 = score_interval.difference_interval(b.sum, b.n, a.sum, a.n, Z_95)
    return {
        "group": {
            "A": {"success": int(a.sum), "total": int(a.n), "rate": c.control.mean},
            "B": {"success": int(b.sum), "total": int(b.n), "rate": c.treatment.mean},
        },
        "uplift": c.absolute.estimate,  # rate B - rate A
        "ci_95": [float(x) if math.isfinite(x) else None for x in ci_95],
        "p_value": c.p_value,
        "srm_p": analysis.srm.p_value,  # a_total vs b_total against 50/50
        "significant": c.significant,
        "alpha": experiment.options.alpha,
        "ci": list(c.absolute.ci),
        "ci_level": c.ci_level,
        "comparison": asdict(c),
        "srm": asdict(analysis.srm),
        "decision": asdict(analysis.decision),
        "messages": list(c.messages),
    }


def analysis_request(body: Mapping[str, Any]) -> Experiment | requests.ExperimentRef:
    """The statistics given in the request, or the stored experiment it names; its ``locale``
    is the answer's language (``answer_wording``), not part of the analysis."""
    return requests.analysis_request({k: v for k, v in body.items() if k != "locale"})


def answer_wording(body: Mapping[str, Any], accepted: LanguageAccept) -> Wording:
    """The language of the decision's summary and reasons: the body's ``locale`` (400 naming
    it when unknown), else the best ``Accept-Language`` match, else en-US, as a download of
    GET /ab/experiments/<id> chooses its locale."""
    if "locale" in body:
        return wording(body["locale"])
    return wording(choose_locale(None, accepted).tag)


def analyze_experiment(experiment: Experiment, words: Wording = ENGLISH) -> dict[str, Any]:
    return {"locale": words.tag, **asdict(analyze(experiment, words))}


def analyze_stored(
    ref: requests.ExperimentRef, stored: StoredExperiment, words: Wording = ENGLISH
) -> dict[str, Any]:
    """Statistics of an experiment stored in the warehouse, read by the caller."""
    analysis = _stored_analysis(ref, stored, words)
    return {"experiment_id": ref.experiment_id, "locale": words.tag, **asdict(analysis)}


def experiment_results(
    stored: StoredExperiment, as_of: date, currency: str, words: Wording = ENGLISH
) -> Table:
    """The analysis POST /ab/analyze {experiment_id} answers (its default options) as the
    table a person reads, named after the experiment and ``as_of``, the day of its data;
    revenue in ``currency`` (the shop's ISO 4217 code), the decision in ``words``."""
    ref = requests.analysis_request({"experiment_id": stored.definition.experiment_id})
    analysis = _stored_analysis(ref, stored, words)
    return results_table(stored.definition, as_of, analysis, mart_metric_units(currency))


def _stored_analysis(
    ref: requests.ExperimentRef, stored: StoredExperiment, words: Wording
) -> Analysis:
    experiment = stored.engine_input(ref.options)
    requests.check_cost([experiment])
    return analyze(experiment, words)


@dataclass(frozen=True)
class BreakdownRequest:
    experiment_id: str
    dimension: str
    options: Options  # of each value's analysis
    correction: Correction  # across the values


def breakdown_request(body: Mapping[str, Any]) -> BreakdownRequest:
    """{experiment_id, dimension, options?, correction_across_values?}; the options are those
    of /ab/analyze, checked by the same rules."""
    fields = ("experiment_id", "dimension", "options", "correction_across_values")
    data = known_fields(body, "", fields)
    if "experiment_id" not in data:
        raise InvalidInput("experiment_id", "is required")
    ref = requests.analysis_request({k: data[k] for k in ("experiment_id", "options") if k in data})
    dimension = choice(data.get("dimension"), "dimension", DIMENSIONS)
    correction = choice(
        data.get("correction_across_values", "holm"), "correction_across_values", CORRECTIONS
    )
    return BreakdownRequest(ref.experiment_id, dimension, ref.options, correction)


def breakdown(wanted: BreakdownRequest, stored: StoredBreakdown) -> dict[str, Any]:
    """Each dimension value's analysis (its SRM check included), every p-value next to its
    adjustment across the values, every guardrail's verdict within the value; no decision: a
    breakdown is exploratory."""
    result = analyze_breakdown(stored, wanted.options, wanted.correction)
    return {"experiment_id": wanted.experiment_id, **breakdown_answer(result, wanted.options)}


def breakdown_answer(result: Breakdown, options: Options) -> dict[str, Any]:
    """A breakdown as POST /ab/breakdown answers it, but for the experiment_id."""
    values = []
    for value in result.values:
        analysis = value.analysis
        comparisons = [
            {
                **asdict(c),
                "p_value_across_values": p,
                "significant_across_values": p <= result.alpha,
                # the segment's guardrail checked as the read-out checks the whole experiment's
                "guardrail_verdict": guardrail_verdict(c),
            }
            for c, p in zip(analysis.comparisons, value.p_values_across_values, strict=True)
        ]
        values.append(
            {
                "dimension_value": value.value,
                "units": sum(v.units for v in analysis.variants),
                "variants": [asdict(v) for v in analysis.variants],
                "srm": asdict(analysis.srm),
                "comparisons": comparisons,
            }
        )
    return {
        "dimension": result.dimension,
        "correction_across_values": result.correction,
        "options": asdict(options),
        "warning": WARNING,
        "values": values,
    }


def timeline_request(experiment_id: str, args: Mapping[str, str]) -> cumulative.TimelineRequest:
    """The experiment_id of the path, then query parameters metric, scale and cuped."""
    name(experiment_id, "experiment_id")
    return cumulative.timeline_request(args)


def timeline(
    wanted: cumulative.TimelineRequest, stored: StoredTimeline, currency: str
) -> dict[str, Any]:
    """Per metric and treatment, the lift on the analysis' scale with its interval and p-value
    after each day of data (revenue in ``currency``, the shop's ISO 4217 code)."""
    definition = stored.definition
    series = cumulative.cumulative_effect(stored, wanted, mart_metric_units(currency))
    return {
        "experiment_id": definition.experiment_id,
        "start_date": definition.start_date,
        "end_date": definition.end_date,
        "primary_metric": definition.primary_metric,
        "control": definition.variants[0],
        "options": asdict(replace(wanted.options, weights=definition.weights)),  # as analysed
        "days": [day for day, _ in stored.days],
        "series": [asdict(s) for s in series],
    }


def experiments_request(args: Mapping[str, str]) -> Status | None:
    """Query parameter status (planned, running, finished), or None for every experiment."""
    known_fields(args, "", ("status",))
    return choice(args["status"], "status", STATUSES) if "status" in args else None


def experiment_list(catalog: Catalog, status: Status | None) -> dict[str, Any]:
    shown = [_experiment(d, catalog) for d in catalog.definitions]
    return {
        "as_of": catalog.as_of,
        "as_of_source": catalog.as_of_source,
        "experiments": [e for e in shown if status is None or e["status"] == status],
    }


def experiment(catalog: Catalog, experiment_id: str) -> dict[str, Any]:
    found = catalog.definition(name(experiment_id, "experiment_id"))
    return {**_experiment(found, catalog), "as_of_source": catalog.as_of_source}


def _experiment(d: ExperimentDefinition, catalog: Catalog) -> dict[str, Any]:
    """Status is that of the catalog's day: the marts' build day, or today (UTC)."""
    return {
        "experiment_id": d.experiment_id,
        "status": d.status_on(catalog.as_of),
        "as_of": catalog.as_of,
        "start_date": d.start_date,
        "end_date": d.end_date,
        "primary_metric": d.primary_metric,
        "other_metrics": list(d.other_metrics),
        "variants": [
            {"name": v, "weight": w, "control": i == 0}  # in the seeds' variant_index order
            for i, (v, w) in enumerate(zip(d.variants, d.weights, strict=True))
        ],
    }


def power(body: Mapping[str, Any]) -> dict[str, Any]:
    return asdict(solve(power_request(body)))


def assignment(
    experiment_id: str, user_id: str, variants: Sequence[str], weights: Sequence[float]
) -> dict[str, Any]:
    return {
        "experiment_id": experiment_id,
        "user_id": user_id,
        "variant": assign_variant(experiment_id, user_id, variants, weights),
        "bucket": hash_bucket(experiment_id, user_id),
        "variants": list(variants),
        "weights": list(weights),
    }


def assignment_request(args: Mapping[str, str]) -> tuple[str, str, list[str] | None, list | None]:
    """Query parameters experiment_id, user_id and optionally variants/weights (a,b,c)."""
    known_fields(args, "", ("experiment_id", "user_id", "variants", "weights"))
    experiment_id = name(args.get("experiment_id"), "experiment_id")
    user_id = name(args.get("user_id"), "user_id")
    if "variants" not in args:
        if "weights" in args:
            raise InvalidInput("weights", "needs variants")
        return experiment_id, user_id, None, None
    variants = [name(v, "variants") for v in args["variants"].split(",")]
    if len(variants) < 2 or len(set(variants)) != len(variants):
        raise InvalidInput("variants", "need at least two distinct names, comma-separated")
    weights = [1 / len(variants)] * len(variants)
    if "weights" in args:
        weights = [
            _query_number(raw, f"weights[{i}]") for i, raw in enumerate(args["weights"].split(","))
        ]
    try:
        check_weights(variants, weights)
    except ValueError as exc:
        raise InvalidInput("weights", str(exc)) from None
    return experiment_id, user_id, variants, weights


def _query_number(raw: str, field: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(field, "must be a number") from None
    return number(value, field)
