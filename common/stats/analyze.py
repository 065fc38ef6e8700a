"""An A/B/n experiment end to end: SRM, every treatment x metric against the control,
multiple-comparison correction, and the decision.

``compare_arms`` is the numeric core and takes numpy arrays as readily as floats (the benchmark
runs 10k experiments through it in one call); ``analyze`` runs it per comparison with floats and
turns undefined values into None plus a message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from common.stats import (
    bayesian,
    capping,
    corrections,
    cuped,
    fisher,
    frequentist,
    planned_looks,
    quantiles,
    sequential,
)
from common.stats import distributions as dist
from common.stats.beta_binomial import beta_binomial
from common.stats.decision import decide, decide_variant
from common.stats.frequentist import Effect, Estimate, TestFamily
from common.stats.inputs import (
    BayesianOptions,
    Experiment,
    Metric,
    MetricKind,
    Moments,
    Options,
    Variant,
)
from common.stats.quantiles import QuantileArm
from common.stats.results import (
    Analysis,
    ArmValue,
    BayesianResult,
    CappingResult,
    Comparison,
    CupedResult,
    FisherResult,
    Interval,
    MannWhitneyResult,
    VariantInfo,
)
from common.stats.srm import srm_test
from common.stats.summary import Summary, summarize
from common.stats.wording import ENGLISH, Wording


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
    control: Moments | QuantileArm,
    treatment: Moments | QuantileArm,
    options: Options,
    *,
    cuped_adjust: bool = False,
    higher_is_better: bool = True,
    level: float | None = None,
) -> ArmComparison:
    """Treatment vs control on one metric: fixed-horizon or always-valid, optionally CUPED.

    level: the intervals' alpha when a multiple-comparison correction moved it (default
    options.alpha, which also tunes the always-valid mixture). With cuped_adjust, rows whose
    covariate has no variance (theta NaN) stay unadjusted. At a group-sequential look the test
    runs at the look's nominal level (``planned_looks``).
    """
    level = options.alpha if level is None else level
    with np.errstate(all="ignore"):
        raw_c, raw_t = _summary(kind, control), _summary(kind, treatment)
        c, t, theta, reduction, lift_variance = raw_c, raw_t, None, None, None
        if cuped_adjust:
            adjusted = _cuped_adjustment(kind, control, treatment)
            c, t = adjusted.control, adjusted.treatment
            theta, reduction = adjusted.theta, adjusted.variance_reduction
            lift_variance = adjusted.relative_variance
        effect = frequentist.compare(
            c,
            t,
            scale=options.scale,
            level=planned_looks.level(options, level) if options.group_sequential else level,
            sided=options.sided,
            test=_test_family(kind, cuped_adjust),
            relative_variance=lift_variance,
        )
        if options.group_sequential:
            effect = planned_looks.p_value_at_look(effect, options)
        if options.sequential:
            effect = sequential.always_valid(
                effect,
                c,
                t,
                alpha=options.alpha,
                level=level,
                tuning=options.sequential.tuning,
                sided=options.sided,
            )
        posterior = None
        if options.bayesian:
            posterior = _posterior(effect, raw_c, options, higher_is_better)
    return ArmComparison(effect, raw_c, raw_t, theta, reduction, posterior)


def _cuped_adjustment(kind: MetricKind, c: Moments, t: Moments) -> cuped.Adjusted:
    if kind == "ratio":  # the covariate is the pre-period ratio
        return cuped.adjust_ratio(c, t, c.ratio_covariate, t.ratio_covariate)
    return cuped.adjust(c, t)


def _summary(kind: MetricKind, m: Moments | QuantileArm) -> Summary:
    return quantiles.summarize(m) if kind == "quantile" else summarize(kind, m)


def _test_family(kind: MetricKind, cuped_adjusted: bool) -> TestFamily:
    if kind == "quantile":
        return "z"
    return "two_proportion_z" if kind == "proportion" and not cuped_adjusted else "welch_t"


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
    if kind == "quantile":
        return [reason] if (reason := quantiles.undefined_reason(c, t)) else []
    messages = []
    if kind != "proportion" and min(c.n, t.n) < 2:
        messages.append("each arm needs at least 2 units to estimate a variance")
    elif kind == "ratio" and 0 in (c.denominator_sum, t.denominator_sum):
        messages.append("a ratio's denominator sums to 0 in an arm")
    elif _num(arms.effect.statistic) is None:
        messages.append("the standard error is 0 (an arm without variation): the test is undefined")
    if arms.raw_control.unadjusted_mean == 0:
        messages.append("the control mean is 0: the relative lift is undefined")
    return messages


def _cuped_note(metric: Metric, c: Moments, t: Moments, options: Options) -> str | None:
    """None when CUPED applies; else why not (empty when it was not asked for)."""
    if not (options.cuped and c.has_covariate and t.has_covariate):
        return ""
    if metric.kind == "ratio" and None in (c.ratio_covariate, t.ratio_covariate):
        return "CUPED of a ratio metric needs the pre-period ratio's sums (ratio_covariate)"
    return None


def _method(kind: MetricKind, adjusted: bool, options: Options) -> str:
    test = _test_family(kind, adjusted)
    if options.scale == "relative":
        method = "relative_welch_t" if test == "welch_t" else "relative_z"
    else:
        method = test
    method += "_cuped" if adjusted else ""
    method += "_group_sequential" if options.group_sequential else ""
    return method + ("_sequential" if options.sequential else "")


def _comparison(
    metric: Metric,
    role: str,
    control: Variant,
    treatment: Variant,
    o: Options,
    level: float,
    read_outs: dict | None = None,
) -> dict:
    """One comparison's fields at the interval level ``level``, all but the correction's.

    read_outs: the level-free read-outs of an earlier pass (see ``_read_outs``), so that a
    correction's second pass does not pay again for exact tests and Monte Carlo draws.
    """
    raw = control.metrics[metric.name], treatment.metrics[metric.name]
    capped = capping.cap_arms(metric.cap, raw[0].values, raw[1].values) if metric.cap else None
    c, t = raw if capped is None else (capped[0].moments, capped[1].moments)
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
    effect = _without_test(effect) if _num(effect.statistic) is None else effect
    messages = [note] if note else []  # None and "" mean nothing to say
    messages += _degenerate(metric.kind, c, t, result)
    messages += _read_out_notes(metric, o, adjusted, capped)
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
        cuped=_cuped_result(result),
        **(read_outs or _read_outs(metric, raw, c, t, o, result.posterior)),
        capping=None
        if capped is None
        else CappingResult(capped[0].threshold, capped[0].capped, capped[1].capped),
        mde_relative=mde,
        underpowered=None if o.mde is None or mde is None else mde > o.mde,
        messages=tuple(messages),
    )


def _without_test(effect: Effect) -> Effect:
    """No p-value and no interval where the statistic is undefined: a zero SE (e.g. a treatment
    rate of 0 on the relative scale) would otherwise give p = 0 and a zero-width interval."""
    return replace(
        effect,
        p_value=math.nan,
        absolute=replace(effect.absolute, lower=math.nan, upper=math.nan),
        relative=replace(effect.relative, lower=math.nan, upper=math.nan),
    )


_LEVEL_FREE = ("mann_whitney", "bayesian", "fisher")  # the keys of _read_outs


def _read_outs(
    metric: Metric,
    raw: tuple[Moments, Moments],
    c: Moments,
    t: Moments,
    o: Options,
    posterior: bayesian.Posterior | None,
) -> dict:
    """The read-outs that do not depend on the interval level: the costly ones."""
    return dict(
        mann_whitney=_mann_whitney(metric.kind, *raw, o),
        bayesian=_bayesian_read_out(metric, c, t, o, posterior),
        fisher=_fisher_result(metric.kind, c, t, o),
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


def _bayesian_read_out(
    metric: Metric, c: Moments, t: Moments, o: Options, posterior: bayesian.Posterior | None
) -> BayesianResult | None:
    """The Gaussian model's result, or the Beta-binomial one on the raw conversion counts."""
    counted = metric.kind == "proportion" and c.n > 0 and t.n > 0
    if not (o.bayesian and o.bayesian.model == "beta_binomial" and counted):
        return _bayesian_result(posterior)
    b = beta_binomial(
        c.sum,
        c.n,
        t.sum,
        t.n,
        alpha=o.alpha,
        higher_is_better=metric.direction == "increase",
        scale=o.scale,
    )
    return BayesianResult(
        chance_to_beat_control=_num(b.chance_to_beat_control),
        expected_loss=_num(b.expected_loss),
        expected_loss_control=_num(b.expected_loss_control),
        credible_interval=(_num(b.lower), _num(b.upper)),
        model="beta_binomial",
    )


def _fisher_result(kind: MetricKind, c: Moments, t: Moments, o: Options) -> FisherResult | None:
    if not o.fisher or kind != "proportion":
        return None
    r = fisher.fisher_exact(c.sum, c.n, t.sum, t.n)
    return FisherResult(
        p_value=r.p(o.sided),
        odds_ratio=_num(r.odds_ratio),
        conditional_odds_ratio=None if r.skipped else _num(r.conditional_odds_ratio),
        skipped=r.skipped,
    )


def _read_out_notes(
    metric: Metric,
    o: Options,
    cuped_adjusted: bool,
    capped: tuple[capping.Capped, capping.Capped] | None,
) -> list[str]:
    """What the extra read-outs asked for do with this metric, when it is not the obvious."""
    notes = []
    if o.fisher and metric.kind != "proportion":
        notes.append("Fisher's exact test applies to proportion metrics only")
    if o.bayesian and o.bayesian.model == "beta_binomial":
        if metric.kind != "proportion":
            notes.append(
                "the Beta-binomial model applies to proportions: "
                "this metric's Bayesian read-out is the Gaussian one"
            )
        elif cuped_adjusted:
            notes.append("the Beta-binomial read-out counts raw conversions: it ignores CUPED")
    if capped is not None:
        control, treatment = capped
        notes.append(
            f"values above {control.threshold:.6g} count as {control.threshold:.6g} "
            f"({control.capped} in the control, {treatment.capped} in the treatment); "
            "Mann-Whitney ranks the raw values"
        )
    return notes


def _mde(effect: Effect, raw_c: Summary, o: Options) -> float | None:
    """The relative lift this comparison detects with power o.power (normal approximation, at
    the fixed-horizon critical value of the nominal alpha)."""
    critical = frequentist.critical_value(effect.df, o.alpha, o.sided)
    shift = (critical + dist.norm_ppf(o.power)) * effect.absolute.se
    return _num(shift / abs(raw_c.unadjusted_mean))


def analyze(experiment: Experiment, words: Wording = ENGLISH) -> Analysis:
    """``words``: the locale the decision's summary and reasons are written in."""
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
                read_outs = {key: draft[key] for key in _LEVEL_FREE}
                drafts[i] = _comparison(m, role, control, t, o, level, read_outs)
    comparisons = tuple(
        Comparison(
            **d,
            p_value_adjusted=p,
            significant=p <= o.alpha,
            group_sequential=planned_looks.look_result(o, crossed=p <= o.alpha),
        )
        for d, p in zip(drafts, adjusted, strict=True)
    )
    decisions = tuple(
        decide_variant(t.name, [c for c in comparisons if c.variant == t.name], srm, o, words)
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
        decision=decide(decisions, primaries, srm, words),
        group_sequential=planned_looks.design_result(o),
    )
