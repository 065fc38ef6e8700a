"""The quality gates between a dbt build and retraining: pure judgements on measured numbers.

Each gate returns whether the data passes, one sentence saying why, and the numbers behind it,
so a rejection can be read (and alerted on) without rerunning anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from common.ml.features import FeatureSpec
from common.pipeline.measures import ExperimentSplit, FeatureProfile
from common.stats.srm import srm_test


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    message: str
    numbers: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def current_data(build_version: str, warehouse_version: str) -> Gate:
    """The warehouse still holds what this build produced (a newer build replaces it, and an
    out-of-order event about an older build must not validate the newer data)."""
    passed = build_version == warehouse_version
    message = (
        "the warehouse holds this build's data"
        if passed
        else "a newer build has replaced this build's data since; nothing to validate"
    )
    numbers = {"build": build_version, "warehouse": warehouse_version}
    return Gate("current_data", passed, message, numbers)


def dbt_tests(summary: dict[str, Any]) -> Gate:
    tests, models = summary.get("tests", {}), summary.get("models", {})
    passed = summary["status"] == "success"
    message = (
        f"dbt build succeeded: {models.get('passed', 0)} models, {tests.get('passed', 0)} tests"
        if passed
        else f"dbt build {summary['status']}: {len(summary['failed_nodes'])} failed nodes"
    )
    numbers = {"models": models, "tests": tests, "failed_nodes": summary["failed_nodes"]}
    return Gate("dbt_tests", passed, message, numbers)


def source_freshness(summary: dict[str, Any]) -> Gate:
    """dbt source freshness' verdict: an ``error`` source (older than its error_after) fails."""
    sources = summary.get("freshness", {})
    stale = sorted(name for name, s in sources.items() if s["status"] in ("error", "runtime error"))
    if not sources:
        return Gate("source_freshness", False, "no source freshness results", {})
    message = f"stale sources: {', '.join(stale)}" if stale else f"{len(sources)} sources fresh"
    return Gate("source_freshness", not stale, message, {"sources": sources})


def row_counts(
    current: dict[str, int],
    previous: dict[str, Any] | None,
    max_drift: float,
    not_judged: frozenset[str] = frozenset(),
    may_be_empty: frozenset[str] = frozenset(),
) -> Gate:
    """Every mart has rows, and none changed by more than ``max_drift`` (relative) since the
    previous validated run; a change of one in ``not_judged`` is reported, not judged, and so is
    an empty one in ``may_be_empty``."""
    before = (previous or {}).get("row_counts", {})
    tables, problems = {}, []
    for mart, rows in current.items():
        prior = before.get(mart)
        change = None if not prior else (rows - prior) / prior
        tables[mart] = {"rows": rows, "previous": prior, "change": _round(change)}
        if rows == 0 and mart not in may_be_empty:
            problems.append(f"{mart} is empty")
        elif change is not None and abs(change) > max_drift and mart not in not_judged:
            problems.append(f"{mart} {prior:,} → {rows:,} rows ({change:+.1%})")
    numbers = {
        "previous_run": (previous or {}).get("run_id"),
        "max_drift": max_drift,
        "not_judged": sorted(not_judged & current.keys()),
        "may_be_empty": sorted(may_be_empty & current.keys()),
        "tables": tables,
    }
    if problems:
        return Gate("row_counts", False, "; ".join(problems), numbers)
    against = f"run {numbers['previous_run']}" if previous else "no earlier validated run"
    return Gate(
        "row_counts", True, f"{len(current)} marts within ±{max_drift:.0%} of {against}", numbers
    )


def features(profile: FeatureProfile, spec: FeatureSpec) -> Gate:
    """No nulls where a feature may not have them, and every value inside its allowed range."""
    problems, checked = [], {}
    for feature in spec.features:
        nulls = profile.nulls[feature.name]
        entry: dict[str, Any] = {"nulls": nulls}
        if nulls and not feature.nullable:
            problems.append(f"{feature.name} has {nulls:,} nulls")
        if feature.kind == "numeric":
            low, high = profile.minimum[feature.name], profile.maximum[feature.name]
            entry.update(min=low, max=high, allowed=[feature.minimum, feature.maximum])
            if feature.minimum is not None and low is not None and low < feature.minimum:
                problems.append(f"{feature.name} min {low:g} < {feature.minimum:g}")
            if feature.maximum is not None and high is not None and high > feature.maximum:
                problems.append(f"{feature.name} max {high:g} > {feature.maximum:g}")
        checked[feature.name] = entry
    if profile.rows == 0:
        problems.insert(0, f"{spec.table} has no rows")
    numbers = {"rows": profile.rows, "features": checked}
    message = "; ".join(problems) or f"{len(checked)} features within their definitions"
    return Gate("features", not problems, message, numbers)


def label_rate(profile: FeatureProfile, low: float, high: float, label: str) -> Gate:
    rate = profile.label_rate
    numbers = {"rate": _round(rate), "min": low, "max": high, "nulls": profile.label_nulls}
    if profile.label_nulls:
        return Gate("label_rate", False, f"{label} has {profile.label_nulls:,} nulls", numbers)
    if rate is None or not low <= rate <= high:
        shown = "undefined (no rows)" if rate is None else f"{rate:.3%}"
        return Gate(
            "label_rate", False, f"{label} rate {shown} outside [{low:.3%}, {high:.3%}]", numbers
        )
    return Gate("label_rate", True, f"{label} rate {rate:.3%} within bounds", numbers)


def sample_ratio(experiments: list[ExperimentSplit], threshold: float) -> Gate:
    """Pearson's chi-square of each running experiment's assignments against its planned split."""
    results, mismatched = {}, []
    for experiment in experiments:
        srm = srm_test(experiment.units, experiment.weights, threshold)
        results[experiment.experiment_id] = {
            "variants": dict(zip(experiment.variants, experiment.units, strict=True)),
            "weights": list(experiment.weights),
            "chi_square": _round(srm.chi_square),
            "p_value": srm.p_value,
        }
        if not srm.passed:
            mismatched.append(f"{experiment.experiment_id} (p {srm.p_value:.2g})")
    numbers = {"threshold": threshold, "experiments": results}
    if mismatched:
        return Gate("srm", False, f"sample ratio mismatch: {', '.join(mismatched)}", numbers)
    message = f"{len(results)} running experiments match their planned split"
    return Gate("srm", True, message if results else "no experiment is running", numbers)


def drift(measured: dict[str, Any], warn: float, block: float) -> Gate:
    """Population stability of the champion's features and score on the latest snapshot.

    A PSI at or above ``warn`` is reported and passes; one at or above ``block`` fails the
    gate, so the build is rejected and nothing retrains on it: a person looks first, and
    ``POST /ml/train`` retrains on purpose if the shift is real (the new champion's
    reference is then the moved data)."""
    numbers = {**measured, "warn": warn, "block": block}
    if not measured["measured"]:
        return Gate("drift", True, f"not measured: {measured['reason']}", numbers)
    psi = {**measured["psi"], "score": measured["score"]["psi"]}
    ranked = sorted(psi, key=lambda name: -psi[name])
    blocking = [name for name in ranked if psi[name] >= block]
    warning = [name for name in ranked if warn <= psi[name] < block]
    numbers["level"] = "block" if blocking else "warn" if warning else "ok"
    numbers["blocking"], numbers["warning"] = blocking, warning
    against = f"snapshot {measured['snapshot']} against champion {measured['model_version']}"
    parts = []
    if blocking:
        shown = ", ".join(f"{name} PSI {psi[name]:.3f}" for name in blocking)
        parts.append(
            f"{shown} at or above the blocking {block:g}: no retraining on this build until a "
            "person reviews it (POST /ml/train retrains on purpose)"
        )
    if warning:
        shown = ", ".join(f"{name} PSI {psi[name]:.3f}" for name in warning)
        parts.append(f"warning: {shown} at or above {warn:g}")
    if not parts:
        parts.append(f"every PSI below {warn:g} (largest: {ranked[0]} {psi[ranked[0]]:.3f})")
    return Gate("drift", not blocking, f"{'; '.join(parts)} ({against})", numbers)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
