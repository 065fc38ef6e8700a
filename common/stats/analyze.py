"""An A/B/n experiment end to end: SRM, every treatment x metric against the control,
multiple-comparison correction, and the decision.

``compare_arms`` is the numeric core and takes numpy arrays as readily as floats (the benchmark
runs 10k experiments through it in one call); ``analyze`` runs it per comparison with floats and
turns undefined values into None plus a message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np

from common.stats import bayesian, corrections, cuped, frequentist, sequential
from common.stats import distributions as dist
from common.stats.decision import decide, decide_variant
from common.stats.frequentist import Effect, Estimate
from common.stats.inputs import (
    BayesianOptions,
    Experiment,
    Metric,
    MetricKind,
    Moments,
    Options,
    Variant,
)
from common.stats.results import (
    Analysis,
    ArmValue,
    BayesianResult,
    Comparison,
    CupedResult,
    Interval,
    MannWhitneyResult,
    VariantInfo,
)
from common.stats.srm import srm_test
from common.stats.summary import Summary, summarize


@dataclass(frozen=True)
class ArmComparison:
    effect: Effect
    raw_control: Summary  # before CUPED
    raw_treatment: Summary
    theta: np.ndarray | float | None  # None without CUPED
    variance_reduction: np.ndarray | float | None
    posterior: bayesian.Posterior | None


def compare_arms(
    kind: MetricKind,
    control: Moments,
    treatment: Moments,
    options: Options,
    *,
    cuped_adjust: bool = False,
    higher_is_better: bool = True,
    level: float | None = None,
) -> ArmComparison:
    """Treatment vs control on one metric: fixed-horizon or always-valid, optionally CUPED.

    level: the intervals' alpha when a multiple-comparison correction moved it (default
    options.alpha, which also tunes the always-valid mixture). With cuped_adjust, rows whose
    covariate has no variance (theta NaN) stay unadjusted.
    """
    level = options.alpha if level is None else level
    with np.errstate(all="ignore"):
        raw_c, raw_t = summarize(kind, control), summarize(kind, treatment)
        c, t, theta, reduction, lift_variance = raw_c, raw_t, None, None, None
        if cuped_adjust:
            adjusted = cuped.adjust(control, treatment)
            c, t = adjusted.control, adjusted.treatment
            theta, reduction = adjusted.theta, adjusted.variance_reduction
            lift_variance = adjusted.relative_variance
        effect = frequentist.compare(
            c,
            t,
            scale=options.scale,
            level=level,
            sided=options.sided,
            z_test=kind == "proportion" and not cuped_adjust,
            relative_variance=lift_variance,
        )
        if options.sequential:
            effect = sequential.always_valid(
                effect, c, t, alpha=options.alpha, level=level, tuning=options.sequential.tuning
            )
        posterior = None
        if options.bayesian:
            posterior = _posterior(effect, raw_c, options, higher_is_better)
    return ArmComparison(effect, raw_c, raw_t, theta, reduction, posterior)


def _posterior(effect: Effect, raw_c: Summary, o: Options, higher_is_better: bool):
    """On the comparison's scale; the prior is on the lift, so on the absolute scale it is scaled
    by the control mean (as gbstats does for a relative prior on an absolute effect)."""
    prior = o.bayesian
    if o.scale == "absolute":
        base = np.abs(raw_c.unadjusted_mean)
        sd = None if prior.prior_sd is None else prior.prior_sd * base
        prior = BayesianOptions(prior.prior_mean * base, sd)
    estimate = effect.relative if o.scale == "relative" else effect.absolute
    return bayesian.posterior(
        estimate.value,
        estimate.se,
        prior=prior,
        alpha=o.alpha,
        higher_is_better=higher_is_better,
    )


def _num(x) -> float | None:
    value = float(x)
    return value if math.isfinite(value) else None


def _interval(e: Estimate) -> Interval:
    return Interval(_num(e.value), _num(e.se), (_num(e.lower), _num(e.upper)))


def _degenerate(kind: MetricKind, c: Moments, t: Moments, arms: ArmComparison) -> list[str]:
    """Why the numbers that came out undefined are undefined."""
    if c.n == 0 or t.n == 0:
        return ["an arm has no units: there is nothing to compare"]
    messages = []
    if kind != "proportion" and min(c.n, t.n) < 2:
        messages.append("each arm needs at least 2 units to estimate a variance")
    elif kind == "ratio" and 0 in (c.denominator_sum, t.denominator_sum):
        messages.append("a ratio's denominator sums to 0 in an arm")
    elif _num(arms.effect.statistic) is None:
        messages.append("no variation within either arm: the test is undefined")
    if arms.raw_control.unadjusted_mean == 0:
        messages.append("the control mean is 0: the relative lift is undefined")
    return messages


def _cuped_note(metric: Metric, c: Moments, t: Moments, options: Options) -> str | None:
    """None when CUPED applies; else why not (empty when it was not asked for)."""
    if not (options.cuped and c.has_covariate and t.has_covariate):
        return ""
    return "CUPED is not applied to ratio metrics" if metric.kind == "ratio" else None


def _method(kind: MetricKind, adjusted: bool, options: Options) -> str:
    z = kind == "proportion" and not adjusted
    if options.scale == "relative":
        method = "relative_z" if z else "relative_welch_t"
    else:
        method = "two_proportion_z" if z else "welch_t"
    return method + ("_cuped" if adjusted else "") + ("_sequential" if options.sequential else "")


def _comparison(
    metric: Metric, role: str, control: Variant, treatment: Variant, o: Options, level: float
) -> dict:
    """One comparison's fields at the interval level ``level``, all but the correction's."""
    c, t = control.metrics[metric.name], treatment.metrics[metric.name]
    note = _cuped_note(metric, c, t, o)
    adjusted = note is None
    arms = partial(
        compare_arms, metric.kind, c, t, o, higher_is_better=metric.direction == "increase"
    )
    result = arms(cuped_adjust=adjusted, level=level)
    if adjusted and math.isnan(result.theta):  # rare: redo it the unadjusted way
        adjusted, note = False, "the covariate has no variance: CUPED skipped"
        result = arms(level=level)
    effect, raw_c, raw_t = result.effect, result.raw_control, result.raw_treatment
    messages = [note] if note else []  # None and "" mean nothing to say
    messages += _degenerate(metric.kind, c, t, result)
    absolute, relative = _interval(effect.absolute), _interval(effect.relative)
    if o.scale == "absolute" and relative.ci == (None, None) and absolute.ci != (None, None):
        messages.append(
            "the lift's interval (Fieller's) is unbounded: the control mean is not clearly ≠ 0"
        )
    p = _num(effect.p_value)
    mde = _mde(effect, raw_c, o)
    return dict(
        variant=treatment.name,
        metric=metric.name,
        kind=metric.kind,
        role=role,
        direction=metric.direction,
        margin=metric.margin,
        method=_method(metric.kind, adjusted, o),
        scale=o.scale,
        ci_level=1 - level,
        control=ArmValue(float(c.n), _num(raw_c.mean)),
        treatment=ArmValue(float(t.n), _num(raw_t.mean)),
        absolute=absolute,
        relative=relative,
        statistic=_num(effect.statistic),
        df=_num(effect.df),
        p_value=1.0 if p is None else p,
        cohens_d=_num(frequentist.cohens_d(raw_c, raw_t)) if metric.kind == "mean" else None,
        mann_whitney=_mann_whitney(metric.kind, c, t, o),
        cuped=_cuped_result(result),
        bayesian=_bayesian_result(result.posterior),
        mde_relative=mde,
        underpowered=None if o.mde is None or mde is None else mde > o.mde,
        messages=tuple(messages),
    )


def _mann_whitney(kind: MetricKind, c: Moments, t: Moments, o: Options):
    if kind != "mean" or not c.values or not t.values:
        return None
    u, p = frequentist.mann_whitney(c.values, t.values, o.sided)
    return MannWhitneyResult(u, 1.0 if not math.isfinite(p) else p)


def _cuped_result(arms: ArmComparison) -> CupedResult | None:
    if arms.theta is None:
        return None
    return CupedResult(float(arms.theta), _num(arms.variance_reduction))


def _bayesian_result(posterior: bayesian.Posterior | None) -> BayesianResult | None:
    if posterior is None:
        return None
    return BayesianResult(
        chance_to_beat_control=_num(posterior.chance_to_beat_control),
        expected_loss=_num(posterior.expected_loss),
        expected_loss_control=_num(posterior.expected_loss_control),
        credible_interval=(_num(posterior.lower), _num(posterior.upper)),
    )


def _mde(effect: Effect, raw_c: Summary, o: Options) -> float | None:
    """The relative lift this comparison detects with power o.power (normal approximation, at
    the fixed-horizon critical value of the nominal alpha)."""
    critical = frequentist.critical_value(effect.df, o.alpha, o.sided)
    shift = (critical + dist.norm_ppf(o.power)) * effect.absolute.se
    return _num(shift / abs(raw_c.unadjusted_mean))


def analyze(experiment: Experiment) -> Analysis:
    o = experiment.options
    control, treatments = experiment.variants[0], experiment.variants[1:]
    weights = experiment.weights
    units = [float(v.assigned) for v in experiment.variants]
    srm = srm_test(units, weights, o.srm_threshold)
    primary = experiment.primary
    family = [
        (m, "primary" if m is primary else m.role, t)
        for t in treatments
        for m in experiment.metrics
    ]
    with np.errstate(all="ignore"):  # undefined values become None with a message
        drafts = [_comparison(m, role, control, t, o, o.alpha) for m, role, t in family]
        adjusted = corrections.adjust([d["p_value"] for d in drafts], o.correction)
        for i, (draft, p_adjusted) in enumerate(zip(drafts, adjusted, strict=True)):
            level = corrections.interval_level(o.alpha, draft["p_value"], p_adjusted)
            if level != o.alpha:  # the interval that agrees with the adjusted p-value
                m, role, t = family[i]
                drafts[i] = _comparison(m, role, control, t, o, level)
    comparisons = tuple(
        Comparison(**d, p_value_adjusted=p, significant=p <= o.alpha)
        for d, p in zip(drafts, adjusted, strict=True)
    )
    decisions = tuple(
        decide_variant(t.name, [c for c in comparisons if c.variant == t.name], srm, o)
        for t in treatments
    )
    primaries = [c for c in comparisons if c.role == "primary"]
    return Analysis(
        control=control.name,
        variants=tuple(
            VariantInfo(v.name, u, w)
            for v, u, w in zip(experiment.variants, units, weights, strict=True)
        ),
        options=o,
        srm=srm,
        comparisons=comparisons,
        decisions=decisions,
        decision=decide(decisions, primaries, srm),
    )
