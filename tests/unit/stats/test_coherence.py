"""Every read-out agrees with itself: significant <=> the reported interval excludes 0 <=>
adjusted p <= alpha; the summary quotes that interval and says "significant" exactly then; the
verdict follows. A grid over kinds, sizes, rates near 0 and 1, unequal arms, alpha, sides,
sequential (one- and two-sided), group-sequential looks, CUPED (of means and of ratios), Bayesian
(Gaussian and Beta-binomial), Fisher's read-out, capped means, corrections over 3 arms and both
scales, for proportions, means, ratios and quantiles; the p-values are checked against
statsmodels where it has the same test."""

import itertools
import math
import re
import zlib
from dataclasses import replace

import numpy as np
import pytest
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import ttest_ind

from common.stats import quantiles
from common.stats.analyze import analyze
from common.stats.decision import effect_text, improves, p_text
from common.stats.inputs import (
    BayesianOptions,
    Cap,
    Experiment,
    GroupSequentialOptions,
    Metric,
    Moments,
    Options,
    SequentialOptions,
    Variant,
)
from tests.support.ratio_metrics import ratio_moments

SIDES = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}
NUMBER = r"([+-]?[\d,]*\.?\d+(?:e[+-]?\d+)?)(%| pp)?"
CI = re.compile(rf"CI {NUMBER} to {NUMBER}|CI at least {NUMBER}|CI at most {NUMBER}")


def raw(rng, kind, n, level, lift):
    """Per-unit values of one arm (y, covariate x, denominator d); a quantile's level is q."""
    if kind == "proportion":
        return rng.binomial(1, min(level * (1 + lift), 1.0), n).astype(float), None, None
    level = 1.0 if kind == "quantile" else level
    x = rng.gamma(2.0, 5.0, n)
    y = level * (1 + lift) * (0.5 * x + rng.gamma(1.5, 4.0, n))
    d = rng.poisson(3, n) + 1.0 if kind == "ratio" else None
    return (np.floor(y * d / 10) if kind == "ratio" else y), x, d


def moments(kind, y, x, d, cuped, level):
    if kind == "quantile":
        return quantiles.arm_from_values(y, level)
    if kind == "proportion":
        return Moments(float(y.size), float(y.sum()))
    covariate = {}
    if cuped:
        covariate = dict(
            covariate_sum=float(x.sum()),
            covariate_sum_squares=float((x * x).sum()),
            cross_product_sum=float((x * y).sum()),
        )
    ratio = {}
    if d is not None:
        ratio = dict(
            denominator_sum=float(d.sum()),
            denominator_sum_squares=float((d * d).sum()),
            numerator_denominator_sum=float((y * d).sum()),
        )
    return Moments(float(y.size), float(y.sum()), float((y * y).sum()), **covariate, **ratio)


def bounds(interval):
    lower, upper = interval.ci
    return (-math.inf if lower is None else lower), (math.inf if upper is None else upper)


def quoted(message):
    """The (lower, upper) bounds as printed, with the decimals each was printed with."""
    match = CI.search(message)
    groups = match.groups()
    parsed = []
    for text, unit in zip(groups[::2], groups[1::2], strict=True):
        if text is None:
            parsed.append(None)
            continue
        mantissa = text.split("e")[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        scale = 100 if unit else 1
        parsed.append((float(text.replace(",", "")) / scale, decimals, scale, text))
    two, at_least, at_most = parsed[:2], parsed[2], parsed[3]
    if at_least:
        return at_least, None
    if at_most:
        return None, at_most
    return tuple(two)


def check_quote(printed, value, c):
    if value is None or math.isinf(value):
        assert printed is None
        return
    number, decimals, scale, text = printed
    assert text == effect_text(value, c).removesuffix("%").removesuffix(" pp")
    if "e" in text or (c.scale == "absolute" and c.kind != "proportion"):  # 4 significant digits
        assert number == pytest.approx(value, rel=1e-3, abs=1e-300)
    else:
        assert abs(number - value) <= 0.51 * 10**-decimals / scale
    if value != 0:
        assert number != 0 and math.copysign(1, number) == math.copysign(1, value)


def check(analysis, alpha):
    o = analysis.options
    for c in analysis.comparisons:
        lower, upper = bounds(c.reported)
        excludes = lower > 0 or upper < 0
        if abs(c.p_value_adjusted - alpha) > 1e-9 * alpha:  # away from the exact boundary
            assert c.significant == excludes == (c.p_value_adjusted <= alpha), c
        # The other scale's block carries no interval of its own on the relative scale.
        if c.scale == "relative":
            assert c.absolute.ci == (None, None)
        if c.p_value_adjusted > c.p_value > 0:
            assert c.ci_level == pytest.approx(1 - alpha * c.p_value / c.p_value_adjusted)
        else:
            assert c.ci_level == pytest.approx(1 - alpha)
        if o.group_sequential:
            look = c.group_sequential
            assert look.crossed == c.significant
            assert look.boundary == analysis.group_sequential.boundaries[look.look - 1]
            assert look.look == o.group_sequential.look
        else:
            assert c.group_sequential is None and analysis.group_sequential is None
        if c.bayesian and c.bayesian.chance_to_beat_control is not None:
            chance = c.bayesian.chance_to_beat_control
            low, high = c.bayesian.credible_interval
            better = low > 0 if c.direction == "increase" else high < 0
            if abs(chance - (1 - alpha / 2)) > 1e-9:
                assert (chance > 1 - alpha / 2) == better
    for decision in analysis.decisions:
        primary = next(
            c for c in analysis.comparisons if c.variant == decision.variant and c.role == "primary"
        )
        reason = next(r for r in decision.reasons if r.metric == primary.metric)
        if reason.code != "untestable":
            printed = quoted(reason.message)
            for value, text in zip(primary.reported.ci, printed, strict=True):
                check_quote(text, value, primary)
        said = "a significant improvement" in reason.message or "a significant harm" in (
            reason.message
        )
        assert said == primary.significant
        wins = primary.significant and improves(primary)
        if decision.verdict == "SHIP":
            assert wins and analysis.srm.passed
        if not analysis.srm.passed or (primary.significant and not improves(primary)):
            assert decision.verdict == "DO NOT SHIP"
        elif not primary.significant and len(analysis.comparisons) == len(analysis.decisions):
            assert decision.verdict == "INCONCLUSIVE"
        elif wins and all(c.role != "guardrail" for c in analysis.comparisons):
            assert decision.verdict == "SHIP"
    assert o.alpha == alpha


def experiment(seed, kind, sizes, level, lifts, options, cuped=False, direction="increase"):
    rng = np.random.default_rng(seed)
    arms = [raw(rng, kind, n, level, lift) for n, lift in zip(sizes, lifts, strict=True)]
    variants = tuple(
        Variant(name, {"m": moments(kind, *arm, cuped, level)}, units=float(arm[0].size))
        for name, arm in zip(("control", "b", "c"), arms, strict=False)
    )
    weights = tuple(n / sum(sizes) for n in sizes)
    metric = Metric("m", kind, "primary", direction)
    return Experiment(variants, (metric,), Options(**options, weights=weights)), arms


SIZES = {"small": (40, 55), "large": (20000, 26000)}
LEVELS = {"proportion": (0.03, 0.5, 0.97), "mean": (1.0,), "ratio": (1.0,), "quantile": (0.5, 0.9)}
KINDS = tuple(LEVELS)
LEVEL = {"proportion": 0.2, "mean": 1.0, "ratio": 1.0, "quantile": 0.9}  # one per kind
LIFTS = (0.0, 0.05, -0.15)
GRID = [
    (kind, size, level, lift, alpha, sided, scale)
    for kind in LEVELS
    for size, level, lift, alpha, sided, scale in itertools.product(
        SIZES, LEVELS[kind], LIFTS, (0.01, 0.05, 0.1), SIDES, ("relative", "absolute")
    )
]


@pytest.mark.parametrize(("kind", "size", "level", "lift", "alpha", "sided", "scale"), GRID)
def test_fixed_horizon_read_outs_agree(kind, size, level, lift, alpha, sided, scale):
    options = dict(alpha=alpha, sided=sided, scale=scale, bayesian=BayesianOptions())
    seed = zlib.crc32(repr((kind, size, level, lift)).encode())
    exp, arms = experiment(seed, kind, SIZES[size], level, (0.0, lift), options)
    analysis = analyze(exp)
    check(analysis, alpha)
    c = analysis.comparisons[0]
    (y_c, *_), (y_t, *_) = arms
    if (
        scale == "absolute"
        and kind == "proportion"
        and 0 < y_c.sum() + y_t.sum() < y_c.size + y_t.size
    ):
        _, p = proportions_ztest(
            [y_t.sum(), y_c.sum()], [y_t.size, y_c.size], alternative=SIDES[sided]
        )
        assert c.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)
    if scale == "absolute" and kind == "mean":
        _, p, _ = ttest_ind(y_t, y_c, alternative=SIDES[sided], usevar="unequal")
        assert c.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("sided", SIDES)
@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lift", LIFTS)
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_sequential_read_outs_agree(sided, scale, kind, lift, alpha):
    options = dict(alpha=alpha, sided=sided, scale=scale, sequential=SequentialOptions(8000))
    exp, _ = experiment(7, kind, (3000, 3500), LEVEL[kind], (0.0, lift), options)
    check(analyze(exp), alpha)


DESIGNS = [
    GroupSequentialOptions((0.3, 0.6, 1.0), 2),
    GroupSequentialOptions((0.25, 0.5, 0.75, 1.0), 4, "pocock"),
    GroupSequentialOptions((0.1, 0.45), 1, "power", 2.0),
    GroupSequentialOptions((1.0,), 1),
]


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("sided", SIDES)
@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lift", LIFTS)
def test_group_sequential_read_outs_agree(design, sided, scale, kind, lift):
    options = dict(alpha=0.05, sided=sided, scale=scale, group_sequential=design)
    exp, arms = experiment(5, kind, (3000, 3500), LEVEL[kind], (0.0, lift), options)
    analysis = analyze(exp)
    check(analysis, 0.05)
    if design.information_fractions == (1.0,) and scale == "absolute" and kind == "mean":
        # One look at the end spends all of alpha: the fixed-horizon Welch test (statsmodels).
        (y_c, *_), (y_t, *_) = arms
        _, p, _ = ttest_ind(y_t, y_c, alternative=SIDES[sided], usevar="unequal")
        assert analysis.comparisons[0].p_value == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lift", LIFTS)
@pytest.mark.parametrize("sequential", [None, SequentialOptions()])
def test_cuped_read_outs_agree(scale, size, lift, sequential):
    options = dict(scale=scale, sequential=sequential, bayesian=BayesianOptions(0.0, 0.1))
    exp, _ = experiment(11, "mean", SIZES[size], 1.0, (0.0, lift), options, cuped=True)
    analysis = analyze(exp)
    assert analysis.comparisons[0].cuped is not None
    check(analysis, 0.05)


MONITORING = {
    "fixed": {},
    "sequential": {"sequential": SequentialOptions()},
    "group_sequential": {"group_sequential": DESIGNS[0]},
}


@pytest.mark.parametrize("correction", ["bonferroni", "holm", "bh"])
@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("monitoring", MONITORING)
@pytest.mark.parametrize("sided", SIDES)
@pytest.mark.parametrize("seed", range(4))
def test_corrected_three_arm_read_outs_agree(correction, scale, kind, monitoring, sided, seed):
    options = dict(correction=correction, scale=scale, sided=sided, **MONITORING[monitoring])
    level = {"proportion": 0.1, "quantile": 0.5}.get(kind, 1.0)
    sizes = (4000, 3000, 5000) if seed % 2 else (300, 250, 400)
    exp, _ = experiment(seed, kind, sizes, level, (0.0, 0.06, -0.04), options)
    analysis = analyze(exp)
    check(analysis, 0.05)
    if correction == "bonferroni":
        for c in analysis.comparisons:
            if c.p_value_adjusted < 1:
                assert c.ci_level == pytest.approx(1 - 0.05 / 2)


def test_printed_numbers_never_cross_alpha_or_lose_a_sign():
    assert p_text(0.0499, 0.05) == "p = 0.0499"
    assert p_text(0.0501, 0.05) == "p = 0.0501"
    assert p_text(0.05, 0.05) == "p = 0.050"
    assert p_text(0.0004, 0.05) == "p < 0.001"
    assert p_text(0.0004, 0.0001) == "p = 4.00e-04"
    exp, _ = experiment(3, "proportion", (1000, 1000), 0.12, (0.0, 0.25), {})
    c = analyze(exp).comparisons[0]
    assert effect_text(4.7e-5, c) == "+0.005%"
    assert effect_text(-4.7e-7, c) == "-0.00005%"


@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lift", LIFTS)
@pytest.mark.parametrize("sided", SIDES)
def test_fisher_read_out_changes_no_other_read_out(scale, size, lift, sided):
    options = dict(scale=scale, sided=sided, fisher=True)
    exp, _ = experiment(5, "proportion", SIZES[size], 0.1, (0.0, lift), options)
    with_fisher = analyze(exp)
    check(with_fisher, 0.05)
    without = analyze(replace(exp, options=replace(exp.options, fisher=False)))
    c, plain = with_fisher.comparisons[0], without.comparisons[0]
    assert c.fisher is not None and c.fisher.p_value is not None and plain.fisher is None
    assert replace(c, fisher=None) == plain
    assert with_fisher.decisions == without.decisions


@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("level", LEVELS["proportion"])
@pytest.mark.parametrize("lift", LIFTS)
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_beta_binomial_chance_and_credible_interval_agree(
    scale, size, level, lift, alpha, direction
):
    options = dict(alpha=alpha, scale=scale, bayesian=BayesianOptions(model="beta_binomial"))
    seed = zlib.crc32(repr((size, level, lift)).encode())
    exp, _ = experiment(seed, "proportion", SIZES[size], level, (0.0, lift), options,
                        direction=direction)  # fmt: skip
    analysis = analyze(exp)
    assert analysis.comparisons[0].bayesian.model == "beta_binomial"
    check(analysis, alpha)


def capped_experiment(seed, sizes, lift, cap, options):
    """Revenue-like values (mostly 0, a heavy tail), given raw so that they can be capped."""
    rng = np.random.default_rng(seed)
    arms = [
        rng.lognormal(1 + np.log1p(change), 1.5, n) * (rng.random(n) < 0.4)
        for n, change in zip(sizes, (0.0, lift), strict=True)
    ]
    variants = tuple(
        Variant(name, {"m": Moments(float(y.size), float(y.sum()), float(y @ y), values=tuple(y))})
        for name, y in zip(("control", "b"), arms, strict=True)
    )
    metric = Metric("m", "mean", "primary", cap=cap)
    return Experiment(variants, (metric,), Options(**options)), arms


@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lift", LIFTS)
@pytest.mark.parametrize("sided", SIDES)
@pytest.mark.parametrize(
    "cap", [Cap(value=20.0), Cap(quantile=0.99), Cap(quantile=0.9, ignore_zeros=True)]
)
def test_capped_mean_read_outs_agree(scale, size, lift, sided, cap):
    options = dict(scale=scale, sided=sided, bayesian=BayesianOptions())
    exp, arms = capped_experiment(13, SIZES[size], lift, cap, options)
    analysis = analyze(exp)
    check(analysis, 0.05)
    c = analysis.comparisons[0]
    capped = [np.minimum(y, c.capping.threshold) for y in arms]
    assert c.capping.capped_treatment == np.count_nonzero(arms[1] > c.capping.threshold)
    if scale == "absolute":
        _, p, _ = ttest_ind(capped[1], capped[0], alternative=SIDES[sided], usevar="unequal")
        assert c.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)


def ratio_arm(rng, n, lift):
    """Sessions (post d, pre e) and clicks (post y, pre x) per user, correlated through the user."""
    activity = rng.gamma(2.0, 2.0, n)
    e, d = 1.0 + rng.poisson(activity), 1.0 + rng.poisson(activity)
    propensity = rng.beta(2, 5, n)
    x = rng.binomial(e.astype(int), propensity).astype(float)
    y = rng.binomial(d.astype(int), np.clip(propensity * (1 + lift), 0, 1)).astype(float)
    return ratio_moments(y, d, x, e)


@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lift", LIFTS)
@pytest.mark.parametrize("sequential", [None, SequentialOptions()])
@pytest.mark.parametrize("correction", ["none", "holm"])
def test_cuped_ratio_read_outs_agree(scale, size, lift, sequential, correction):
    rng = np.random.default_rng(zlib.crc32(repr((size, lift)).encode()))
    sizes = SIZES[size] + (SIZES[size][0],)
    variants = tuple(
        Variant(name, {"m": ratio_arm(rng, n, change)})
        for name, n, change in zip(("control", "b", "c"), sizes, (0.0, lift, -lift), strict=True)
    )
    options = Options(scale=scale, sequential=sequential, correction=correction)
    analysis = analyze(Experiment(variants, (Metric("m", "ratio", "primary"),), options))
    check(analysis, 0.05)
    for c in analysis.comparisons:
        assert "_cuped" in c.method and c.cuped is not None
