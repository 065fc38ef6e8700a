"""JSON requests to engine inputs, refusing anything invalid with the offending field's path.

Each value follows its rule in ``common.validation``; here the values must also be consistent:
successes within their totals, sums of squares that leave a non-negative variance, weights
summing to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.stats.group_sequential import Design, check
from common.stats.inputs import (
    BAYESIAN_MODELS,
    CORRECTIONS,
    DIRECTIONS,
    MAX_ARMS,
    METRIC_KINDS,
    ROLES,
    SCALES,
    SIDES,
    SPENDINGS,
    BayesianOptions,
    Cap,
    Experiment,
    GroupSequentialOptions,
    Metric,
    Moments,
    Options,
    RatioCovariate,
    SequentialOptions,
    Variant,
)
from common.stats.quantiles import QuantileArm, arm_from_values, check_arm
from common.validation import (
    InvalidInput,
    boolean,
    choice,
    count,
    join,
    known_fields,
    name,
    number,
    positive,
    probability,
    whole_number,
)

MAX_METRICS = 50
MAX_EXACT_COMPARISONS = 8  # with Fisher's or the Beta-binomial read-out: up to ~80 ms each
# n·|Σ of squares or products| at most this: every variance, covariance and two-arm pooled sum
# the engine derives from it then stays far below float64's 1.8e308 (and (Σv)² ≤ n·Σv²).
MAX_SECOND_MOMENT = 1e300
_SECOND_MOMENTS = (
    "sum_squares",
    "covariate_sum_squares",
    "cross_product_sum",
    "denominator_sum_squares",
    "numerator_denominator_sum",
)
_SECOND_MOMENT_RULE = (
    "n times its sum of squares or products must be at most 1e300 (or variances overflow)"
)
# The prior's precision 1/sd² must be a positive finite float64.
PRIOR_SD_RANGE = (1e-150, 1e150)
_PRIOR_SD_RULE = "must be from 1e-150 to 1e150 (its square must be a positive float64)"
_MOMENT_FIELDS = tuple(Moments.__dataclass_fields__)  # the statistics, then raw "values"
_NUMBERS = tuple(key for key in _MOMENT_FIELDS if key not in ("ratio_covariate", "values"))
# The pre-period ratio Σx/Σe of a ratio metric Σy/Σd: JSON name -> RatioCovariate field. Its
# numerator x is the arm's covariate; "metric_<a>_<b>" is a product of the metric's a and its b.
_RATIO_COVARIATE_FIELDS = {
    "denominator_sum": "e_sum",  # Σe
    "denominator_sum_squares": "e_squares",  # Σe²
    "numerator_denominator_sum": "xe_sum",  # Σxe
    "metric_numerator_denominator_sum": "ye_sum",  # Σye
    "metric_denominator_denominator_sum": "de_sum",  # Σde
    "metric_denominator_numerator_sum": "dx_sum",  # Σdx
}
_OPTION_FIELDS = tuple(Options.__dataclass_fields__)
_QUANTILE_FIELDS = ("n", "quantile", "lower", "upper", "n_star")
_WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ExperimentRef:
    """An analysis of an experiment stored in the warehouse."""

    experiment_id: str
    options: Options


# --- moments ----------------------------------------------------------------------------------


def _spread_ok(n: float, total: float, squares: float) -> bool:
    """Σv² ≥ (Σv)²/n, up to rounding: otherwise the variance would be negative."""
    return n == 0 or squares >= total * total / n * (1 - 1e-9) - 1e-9


def _check_spread(n: float, total: float, squares: float, field: str) -> None:
    if squares < 0 or not _spread_ok(n, total, squares):
        raise InvalidInput(field, "is inconsistent with n and the sum (negative variance)")


def _check_second_moments(n: float, values: Mapping[str, float], f: dict) -> None:
    for key in _SECOND_MOMENTS:
        if key in values and max(n, 1) * abs(values[key]) > MAX_SECOND_MOMENT:
            raise InvalidInput(f[key], _SECOND_MOMENT_RULE)


def _moments(raw: Any, field: str, kind: str | None) -> tuple[Moments, str]:
    """One arm's statistics for one metric, and the metric's kind (inferred when None)."""
    data = known_fields(raw, field, _MOMENT_FIELDS)
    f = {key: join(field, key) for key in _MOMENT_FIELDS}
    if "values" in data:
        return _from_values(data, f, kind), "mean"
    for required in ("n", "sum"):
        if required not in data:
            raise InvalidInput(f[required], "is required")
    values = {key: number(data[key], f[key]) for key in _NUMBERS if key in data}
    n = count(data["n"], f["n"])
    _check_second_moments(n, values, f)
    kind = kind or _inferred_kind(values)
    if kind == "proportion":
        count(data["sum"], f["sum"])
        if values["sum"] > n:
            raise InvalidInput(f["sum"], "successes must not exceed n")
        if values.get("sum_squares", values["sum"]) != values["sum"]:
            raise InvalidInput(f["sum_squares"], "a proportion's sum_squares equals its sum")
    else:
        _require_pair(values, f, "sum_squares", "sum")
        _check_spread(n, values["sum"], values["sum_squares"], f["sum_squares"])
    if kind == "ratio":
        _require_pair(values, f, "denominator_sum", "a ratio metric")
        _require_pair(values, f, "denominator_sum_squares", "denominator_sum")
        _require_pair(values, f, "numerator_denominator_sum", "denominator_sum")
        _check_spread(
            n,
            values["denominator_sum"],
            values["denominator_sum_squares"],
            f["denominator_sum_squares"],
        )
    covariate = ("covariate_sum", "covariate_sum_squares", "cross_product_sum")
    if any(key in values for key in covariate):
        for key in covariate:
            _require_pair(values, f, key, "covariate statistics")
        _check_spread(
            n, values["covariate_sum"], values["covariate_sum_squares"], f["covariate_sum_squares"]
        )
    if "ratio_covariate" in data:
        if kind != "ratio" or "covariate_sum" not in values:
            raise InvalidInput(f["ratio_covariate"], "needs a ratio metric's covariate statistics")
        values["ratio_covariate"] = _ratio_covariate(
            data["ratio_covariate"], f["ratio_covariate"], n
        )
    values["n"] = n
    return Moments(**values), kind


def _ratio_covariate(raw: Any, field: str, n: float) -> RatioCovariate:
    data = known_fields(raw, field, _RATIO_COVARIATE_FIELDS)
    sums = {}
    for key, attribute in _RATIO_COVARIATE_FIELDS.items():
        if key not in data:
            raise InvalidInput(join(field, key), "is required")
        sums[attribute] = number(data[key], join(field, key))
    _check_spread(n, sums["e_sum"], sums["e_squares"], join(field, "denominator_sum_squares"))
    return RatioCovariate(**sums)


def _require_pair(values: dict, f: dict, key: str, companion: str) -> None:
    if key not in values:
        raise InvalidInput(f[key], f"is required with {companion}")


def _inferred_kind(values: Mapping[str, float]) -> str:
    if "denominator_sum" in values:
        return "ratio"
    return "mean" if "sum_squares" in values else "proportion"


def _from_values(data: Mapping[str, Any], f: dict, kind: str | None) -> Moments:
    if kind not in (None, "mean"):
        raise InvalidInput(f["values"], "raw values are accepted for mean metrics only")
    extra = next((key for key in data if key != "values"), None)
    if extra is not None:
        raise InvalidInput(f[extra], "give either values or sufficient statistics, not both")
    raw = data["values"]
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(f["values"], "must be a non-empty list of numbers")
    values = tuple(number(v, f"{f['values']}[{i}]") for i, v in enumerate(raw))
    n = float(len(values))
    try:
        squares = math.fsum(v * v for v in values)  # inf once some |v| > 1.3e154
    except OverflowError:  # finite squares whose sum overflows
        squares = math.inf
    if n * squares > MAX_SECOND_MOMENT:
        raise InvalidInput(f["values"], _SECOND_MOMENT_RULE)
    return Moments(n=n, sum=math.fsum(values), sum_squares=squares, values=values)


# --- the analysis request ---------------------------------------------------------------------


def _metric_defs(raw: Any) -> dict[str, dict]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_METRICS:
        raise InvalidInput("metrics", f"must be a list of 1 to {MAX_METRICS} metric definitions")
    defs: dict[str, dict] = {}
    for i, item in enumerate(raw):
        field = f"metrics[{i}]"
        fields = ("name", "type", "role", "direction", "margin", "cap", "level")
        data = known_fields(item, field, fields)
        metric_name = name(data.get("name"), f"{field}.name")
        if metric_name in defs:
            raise InvalidInput(f"{field}.name", "metric names must be unique")
        kind = choice(data["type"], f"{field}.type", METRIC_KINDS) if "type" in data else None
        defs[metric_name] = {
            "kind": kind,
            "role": choice(data.get("role", "secondary"), f"{field}.role", ROLES),
            "direction": choice(
                data.get("direction", "increase"), f"{field}.direction", DIRECTIONS
            ),
            "margin": positive(data["margin"], f"{field}.margin") if "margin" in data else None,
            "cap": _cap(data["cap"], f"{field}.cap", kind) if "cap" in data else None,
        }
        if defs[metric_name]["margin"] is not None and defs[metric_name]["role"] != "guardrail":
            raise InvalidInput(f"{field}.margin", "applies to guardrail metrics only")
        defs[metric_name]["level"] = _quantile_level(data, field, kind)
    if sum(d["role"] == "primary" for d in defs.values()) > 1:
        raise InvalidInput("metrics", "at most one metric may have the role primary")
    return defs


def _cap(raw: Any, field: str, kind: str | None) -> Cap:
    """{"value": v} or {"quantile": q, "ignore_zeros"?: bool}, for a mean metric."""
    if kind not in (None, "mean"):
        raise InvalidInput(field, "applies to mean metrics only")
    data = known_fields(raw, field, ("value", "quantile", "ignore_zeros"))
    if ("value" in data) == ("quantile" in data):
        raise InvalidInput(field, "give either value or quantile")
    if "value" in data:
        if "ignore_zeros" in data:
            raise InvalidInput(join(field, "ignore_zeros"), "applies to a quantile cap only")
        return Cap(value=number(data["value"], join(field, "value")))
    return Cap(
        quantile=probability(data["quantile"], join(field, "quantile")),
        ignore_zeros=boolean(data.get("ignore_zeros", False), join(field, "ignore_zeros")),
    )


def _check_caps(defs: dict[str, dict], variants: tuple[Variant, ...]) -> None:
    """A cap needs every arm's raw values: the quantile pools them, each arm's values are capped."""
    for i, (metric_name, d) in enumerate(defs.items()):
        if d["cap"] is not None and any(v.metrics[metric_name].values is None for v in variants):
            raise InvalidInput(f"metrics[{i}].cap", "cap needs raw values in every arm")


def _quantile_level(data: Mapping[str, Any], field: str, kind: str | None) -> float | None:
    """The q of a quantile metric (0.5: the median); no other kind takes one."""
    if kind != "quantile":
        if "level" in data:
            raise InvalidInput(f"{field}.level", "applies to quantile metrics only")
        return None
    if "level" not in data:
        raise InvalidInput(f"{field}.level", "is required for a quantile metric")
    return probability(data["level"], f"{field}.level")


def _quantile_arm(raw: Any, field: str, level: float) -> QuantileArm:
    """Raw per-unit values, or the statistics {n, quantile, lower, upper, n_star?} a query gives
    (lower and upper at ``quantiles.bound_levels(level, n_star or n)``)."""
    data = known_fields(raw, field, ("values", *_QUANTILE_FIELDS))
    f = {key: join(field, key) for key in ("values", *_QUANTILE_FIELDS)}
    if "values" in data:
        return arm_from_values(_from_values(data, f, "mean").values, level)
    for required in _QUANTILE_FIELDS[:-1]:
        if required not in data:
            raise InvalidInput(f[required], "is required (or give values)")
    stats = {key: number(data[key], f[key]) for key in _QUANTILE_FIELDS[1:-1]}
    n_star = positive(data["n_star"], f["n_star"]) if "n_star" in data else None
    return check_arm(QuantileArm(level, count(data["n"], f["n"]), **stats, n_star=n_star), field)


def _variants(raw: Any, defs: dict[str, dict] | None) -> tuple[tuple[Variant, ...], dict]:
    """The arms and each metric's kind (declared, or inferred from the control's statistics)."""
    if not isinstance(raw, list) or len(raw) < 2:
        raise InvalidInput("variants", "need at least 2 arms (the first is the control)")
    if len(raw) > MAX_ARMS:
        raise InvalidInput("variants", f"at most {MAX_ARMS} arms")
    variants: list[Variant] = []
    kinds = {key: d["kind"] for key, d in (defs or {}).items()}
    for i, item in enumerate(raw):
        field = f"variants[{i}]"
        data = known_fields(item, field, ("name", "units", "metrics"))
        variant_name = name(data.get("name"), f"{field}.name")
        if any(v.name == variant_name for v in variants):
            raise InvalidInput(f"{field}.name", "variant names must be unique")
        stats = data.get("metrics")
        if not isinstance(stats, dict) or not 1 <= len(stats) <= MAX_METRICS:
            raise InvalidInput(
                f"{field}.metrics", f"must map 1 to {MAX_METRICS} metric names to statistics"
            )
        expected = list(defs or (variants[0].metrics if variants else stats))
        for metric_name in stats:
            name(metric_name, f"{field}.metrics")
            if metric_name not in expected:
                raise InvalidInput(f"{field}.metrics.{metric_name}", "is not a declared metric")
        missing = next((key for key in expected if key not in stats), None)
        if missing is not None:
            raise InvalidInput(
                f"{field}.metrics.{missing}", "missing: every arm needs every metric"
            )
        parsed = {}
        for key in expected:
            where = f"{field}.metrics.{key}"
            if kinds.get(key) == "quantile":
                parsed[key] = _quantile_arm(stats[key], where, defs[key]["level"])
                continue
            parsed[key], kinds[key] = _moments(stats[key], where, kinds.get(key))
        units = count(data["units"], f"{field}.units") if "units" in data else None
        variants.append(Variant(variant_name, parsed, units))
    return tuple(variants), kinds


def _options(raw: Any, n_variants: int | None) -> Options:
    """n_variants None: the weights come from the experiment's definition instead."""
    data = known_fields(raw if raw is not None else {}, "options", _OPTION_FIELDS)
    o: dict[str, Any] = {}
    for key in ("alpha", "srm_threshold", "power"):
        if key in data:
            o[key] = probability(data[key], f"options.{key}")
    if "sided" in data:
        o["sided"] = choice(data["sided"], "options.sided", SIDES)
    if "correction" in data:
        o["correction"] = choice(data["correction"], "options.correction", CORRECTIONS)
    if "scale" in data:
        o["scale"] = choice(data["scale"], "options.scale", SCALES)
    if "cuped" in data:
        o["cuped"] = boolean(data["cuped"], "options.cuped")
    if "fisher" in data:
        o["fisher"] = boolean(data["fisher"], "options.fisher")
    if "mde" in data:
        o["mde"] = positive(data["mde"], "options.mde")
    if "sequential" in data:
        o["sequential"] = _sequential(data["sequential"])
    if "group_sequential" in data:
        o["group_sequential"] = _group_sequential(data["group_sequential"], o)
    if "bayesian" in data:
        o["bayesian"] = _bayesian(data["bayesian"])
    if "weights" in data:
        if n_variants is None:
            raise InvalidInput("options.weights", "the experiment's definition sets its weights")
        o["weights"] = _weights(data["weights"], n_variants)
    return Options(**o)


def _sequential(raw: Any) -> SequentialOptions | None:
    if isinstance(raw, bool):
        return SequentialOptions() if raw else None
    data = known_fields(raw, "options.sequential", ("tuning",))
    if "tuning" not in data:
        return SequentialOptions()
    return SequentialOptions(positive(data["tuning"], "options.sequential.tuning"))


def _group_sequential(raw: Any, o: Mapping[str, Any]) -> GroupSequentialOptions | None:
    """{information_fractions, look?, spending?, rho?}; o: the options parsed so far."""
    field = "options.group_sequential"
    if raw is None:
        return None
    if o.get("sequential"):
        raise InvalidInput(field, "give sequential or group_sequential, not both")
    data = known_fields(raw, field, tuple(GroupSequentialOptions.__dataclass_fields__))
    f = {key: join(field, key) for key in GroupSequentialOptions.__dataclass_fields__}
    fractions = data.get("information_fractions")
    if not isinstance(fractions, list):
        raise InvalidInput(f["information_fractions"], "is required: a list of numbers")
    fractions = tuple(
        number(t, f"{f['information_fractions']}[{i}]") for i, t in enumerate(fractions)
    )
    spending = choice(data.get("spending", "obrien_fleming"), f["spending"], SPENDINGS)
    if "rho" in data and spending != "power":
        raise InvalidInput(f["rho"], "applies to the power spending only")
    rho = positive(data["rho"], f["rho"]) if "rho" in data else 3.0
    design = Design(fractions, o.get("alpha", 0.05), o.get("sided", "two-sided"), spending, rho)
    try:
        check(design)
    except InvalidInput as error:  # named after the design's fields
        raise InvalidInput(
            "options.alpha" if error.field == "alpha" else f[error.field], error.message
        ) from None
    look = len(fractions)
    if "look" in data:
        look = whole_number(data["look"], f["look"], 1, len(fractions))
    return GroupSequentialOptions(fractions, look, spending, rho)


def _bayesian(raw: Any) -> BayesianOptions | None:
    if isinstance(raw, bool):
        return BayesianOptions() if raw else None
    data = known_fields(raw, "options.bayesian", ("model", "prior_mean", "prior_sd"))
    model = choice(data.get("model", "gaussian"), "options.bayesian.model", BAYESIAN_MODELS)
    if model == "beta_binomial":
        prior = next((key for key in ("prior_mean", "prior_sd") if key in data), None)
        if prior is not None:
            raise InvalidInput(
                f"options.bayesian.{prior}", "the beta_binomial model has Jeffreys' prior only"
            )
        return BayesianOptions(model=model)
    prior_mean = number(data.get("prior_mean", 0.0), "options.bayesian.prior_mean")
    prior_sd = data.get("prior_sd")
    if prior_sd is not None:
        prior_sd = positive(prior_sd, "options.bayesian.prior_sd")
        if not PRIOR_SD_RANGE[0] <= prior_sd <= PRIOR_SD_RANGE[1]:
            raise InvalidInput("options.bayesian.prior_sd", _PRIOR_SD_RULE)
    return BayesianOptions(prior_mean, prior_sd)


def _weights(raw: Any, n_variants: int) -> tuple[float, ...]:
    if not isinstance(raw, list) or len(raw) != n_variants:
        raise InvalidInput("options.weights", f"must be a list of {n_variants} numbers")
    weights = tuple(number(w, f"options.weights[{i}]") for i, w in enumerate(raw))
    for i, w in enumerate(weights):
        if w < 0:
            raise InvalidInput(f"options.weights[{i}]", "must not be negative")
    if abs(math.fsum(weights) - 1) > _WEIGHT_TOLERANCE:
        raise InvalidInput("options.weights", "must sum to 1")
    if sum(w > 0 for w in weights) < 2:
        raise InvalidInput("options.weights", "at least two arms need a positive weight")
    return weights


def analysis_request(body: Mapping[str, Any]) -> Experiment | ExperimentRef:
    data = known_fields(body, "", ("variants", "metrics", "options", "experiment_id"))
    if "experiment_id" in data:
        extra = next((key for key in ("variants", "metrics") if key in data), None)
        if extra is not None:
            raise InvalidInput(extra, "give experiment_id or variants, not both")
        experiment_id = name(data["experiment_id"], "experiment_id")
        return ExperimentRef(experiment_id, _options(data.get("options"), None))
    if "variants" not in data:
        raise InvalidInput("variants", "is required (or give experiment_id)")
    defs = _metric_defs(data["metrics"]) if "metrics" in data else None
    variants, kinds = _variants(data["variants"], defs)
    if defs:
        _check_caps(defs, variants)
    metrics = tuple(
        Metric(
            metric_name,
            kinds[metric_name],
            (defs or {}).get(metric_name, {}).get("role", "secondary"),
            (defs or {}).get(metric_name, {}).get("direction", "increase"),
            (defs or {}).get(metric_name, {}).get("margin"),
            cap=(defs or {}).get(metric_name, {}).get("cap"),
        )
        for metric_name in variants[0].metrics
    )
    experiment = Experiment(variants, metrics, _options(data.get("options"), len(variants)))
    check_cost([experiment])
    return experiment


def check_cost(experiments: Sequence[Experiment]) -> None:
    """Fisher's exact test and the Beta-binomial draws cost up to ~35 ms per comparison, so one
    request may ask for them on a bounded number of proportion comparisons."""
    if not experiments:
        return
    options = experiments[0].options
    costly = [
        field
        for field, asked in (
            ("options.fisher", options.fisher),
            ("options.bayesian.model", options.bayesian and options.bayesian.model != "gaussian"),
        )
        if asked
    ]
    if not costly:
        return
    comparisons = sum(
        (len(e.variants) - 1) * sum(m.kind == "proportion" for m in e.metrics) for e in experiments
    )
    if comparisons > MAX_EXACT_COMPARISONS:
        raise InvalidInput(
            costly[0],
            f"applies to at most {MAX_EXACT_COMPARISONS} proportion comparisons per request; "
            f"this one has {comparisons}: ask for fewer arms or metrics",
        )


# --- the original two-proportion request ------------------------------------------------------

# Its ci_95 is a 95% interval: a larger alpha could call "significant" a difference whose ci_95
# holds 0.
LEGACY_MAX_ALPHA = 0.05
_LEGACY_ALPHA_RULE = (
    "must be above 0 and at most 0.05 here, since ci_95 is a 95% interval "
    "(POST /ab/analyze with options.scale absolute takes any alpha)"
)


def legacy_test_request(body: Mapping[str, Any]) -> Experiment:
    """{a_success, a_total, b_success, b_total, alpha?}: A is the control."""
    data = known_fields(body, "", ("a_success", "a_total", "b_success", "b_total", "alpha"))
    arms = []
    for arm in ("a", "b"):
        for key in (f"{arm}_success", f"{arm}_total"):
            if key not in data:
                raise InvalidInput(key, "is required")
        success = count(data[f"{arm}_success"], f"{arm}_success")
        total = count(data[f"{arm}_total"], f"{arm}_total")
        if success > total:
            raise InvalidInput(f"{arm}_success", f"must not exceed {arm}_total")
        arms.append(Variant(arm.upper(), {"conversion": Moments(total, success)}))
    alpha = probability(data.get("alpha", 0.05), "alpha")
    if alpha > LEGACY_MAX_ALPHA:
        raise InvalidInput("alpha", _LEGACY_ALPHA_RULE)
    # The original contract: the pooled two-proportion z-test on the difference.
    options = Options(alpha=alpha, scale="absolute")
    return Experiment(tuple(arms), (Metric("conversion", "proportion", "primary"),), options)
