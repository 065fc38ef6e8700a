"""The abtest function's operations without HTTP: JSON-able request in, JSON-able answer out.

An analysis of a stored experiment goes one way: the caller parses the request, reads the
experiment (``warehouse_source.stored_experiment``) and hands both to ``analyze_stored``.
Invalid input raises ``InvalidInput`` (with the field's path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from common.experiments import assign_variant, check_weights, hash_bucket
from common.stats import requests
from common.stats.analyze import analyze
from common.stats.inputs import Experiment
from common.stats.power import solve
from common.validation import InvalidInput, known_fields, name, number

if TYPE_CHECKING:
    from common.stats.warehouse_source import StoredExperiment

# The original README's example: what GET /ab/sample returns, ready to POST to /ab/test.
SAMPLE_TEST_REQUEST = {"a_success": 13880, "a_total": 49962, "b_success": 13971, "b_total": 50038}
Z_95 = 1.959963984540054  # Φ⁻¹(0.975): ci_95 stays a 95% interval whatever alpha is


def two_proportion_test(body: Mapping[str, Any]) -> dict[str, Any]:
    """The original ExecKPI test: its fields first, then the richer analysis."""
    analysis = analyze(requests.legacy_test_request(body))
    c = analysis.comparisons[0]
    rate_a, rate_b = c.control.mean, c.treatment.mean
    lift, se = c.relative.estimate, c.relative.se
    ci_95 = [None, None] if lift is None or se is None else [lift - Z_95 * se, lift + Z_95 * se]
    group = "tie"  # the group with the higher conversion rate
    if rate_a is not None and rate_b is not None and rate_a != rate_b:
        group = "B" if rate_b > rate_a else "A"
    return {
        "group": group,
        "uplift": lift,  # relative: (rate B - rate A) / rate A
        "p_value": c.p_value,
        "ci_95": ci_95,
        "srm_p": analysis.srm.p_value,
        "significant": c.significant,
        "alpha": analysis.options.alpha,
        "method": c.method,
        "rates": {"A": rate_a, "B": rate_b},
        "absolute": asdict(c.absolute),
        "relative": asdict(c.relative),
        "bayesian": asdict(c.bayesian) if c.bayesian else None,
        "srm": asdict(analysis.srm),
        "decision": asdict(analysis.decision),
        "messages": list(c.messages),
    }


def analysis_request(body: Mapping[str, Any]) -> Experiment | requests.ExperimentRef:
    """The statistics given in the request, or the stored experiment it names."""
    return requests.analysis_request(body)


def analyze_experiment(experiment: Experiment) -> dict[str, Any]:
    return asdict(analyze(experiment))


def analyze_stored(ref: requests.ExperimentRef, stored: StoredExperiment) -> dict[str, Any]:
    """Statistics of an experiment stored in the warehouse, read by the caller."""
    result = analyze(stored.engine_input(ref.options))
    return {"experiment_id": ref.experiment_id, **asdict(result)}


def power(body: Mapping[str, Any]) -> dict[str, Any]:
    return asdict(solve(requests.power_request(body)))


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
