"""The abtest function's operations without HTTP: JSON-able request in, JSON-able answer out.

An analysis of a stored experiment goes one way: the caller parses the request, reads the
experiment (``warehouse_source.stored_experiment``) and hands both to ``analyze_stored``.
Invalid input raises ``InvalidInput`` (with the field's path).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from common.experiments import assign_variant, check_weights, hash_bucket
from common.stats import requests, score_interval
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
