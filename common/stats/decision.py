"""SHIP / DO NOT SHIP / INCONCLUSIVE, with the reasons and a plain-language paragraph.

Per treatment, in order of precedence:
- DO NOT SHIP when the split fails SRM (nothing can be trusted), a guardrail metric is harmed,
  or the primary metric got significantly worse;
- SHIP when the primary metric improved significantly (in its direction) and every guardrail
  with a margin is shown non-inferior;
- INCONCLUSIVE otherwise: the primary's interval includes no change (flagged underpowered when
  the detectable lift exceeds the one aimed for), or a guardrail's interval still reaches past
  its margin.
A guardrail is harmed when it got significantly worse (in its direction) or, when it has a
non-inferiority margin m (relative to the control mean), when its whole interval lies beyond -m
on the bad side; it is non-inferior when its whole interval stays on the good side of -m. The
interval is the comparison's own (its scale, its level), so a reason never contradicts the
numbers it quotes. The experiment ships the winning treatment with the largest primary lift.

The summary quotes each comparison's interval as reported, with enough digits that a bound of a
significant result never prints as 0 and a p-value never rounds across alpha.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from common.stats.inputs import Options
from common.stats.results import Comparison, Reason, ShipDecision, Verdict
from common.stats.srm import SrmResult

_BLOCKING = {"srm_failed", "guardrail_harmed", "significant_harm"}
_CORRECTION_NAMES = {"bonferroni": "Bonferroni", "holm": "Holm", "bh": "Benjamini-Hochberg"}
_MAX_DECIMALS = 15


def _fixed(x: float, decimals: int, unit: str = "", sign: str = "") -> str:
    """x with at least ``decimals`` decimals and as many more as keep a non-zero x non-zero."""
    while round(x, decimals) == 0 and x != 0 and decimals < _MAX_DECIMALS:
        decimals += 1
    return f"{x:{sign},.{decimals}f}{unit}"


def _value(x: float | None, c: Comparison) -> str:
    if x is None:
        return "n/a"
    return _fixed(100 * x, 2, "%") if c.kind == "proportion" else f"{x:,.4g}"


def effect_text(x: float | None, c: Comparison) -> str:
    """A number on the comparison's scale: +x.xx% (lift), +x.xx pp (rates), or metric units."""
    if x is None:
        return "n/a"
    if c.scale == "relative":
        return _fixed(100 * x, 2, "%", "+")
    if c.kind == "proportion":
        return _fixed(100 * x, 2, " pp", "+")
    return f"{x:+,.4g}"


def p_text(p: float, alpha: float) -> str:
    """p with as many digits as keep it on its side of alpha."""
    if p < 0.001 <= alpha:
        return "p < 0.001"
    for digits in range(3, _MAX_DECIMALS):
        text = f"{p:.{digits}f}" if p >= 0.001 else f"{p:.{digits - 1}e}"
        if (float(text) <= alpha) == (p <= alpha):
            return f"p = {text}"
    return f"p = {p!r}"


def _level(level: float) -> str:
    text = f"{100 * level:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def interval_label(c: Comparison, options: Options) -> str:
    """e.g. "95% CI", "Holm-adjusted 98.33% always-valid CI"."""
    label = f"{_level(c.ci_level)} {'always-valid CI' if options.sequential else 'CI'}"
    if c.ci_level != 1 - options.alpha:
        label = f"{_CORRECTION_NAMES[options.correction]}-adjusted {label}"
    return label


def _interval(c: Comparison, options: Options) -> str:
    lower, upper = c.reported.ci
    label = interval_label(c, options)
    if lower is None and upper is None:
        return f"{label} undefined"
    if lower is None:
        return f"{label} at most {effect_text(upper, c)}"
    if upper is None:
        return f"{label} at least {effect_text(lower, c)}"
    return f"{label} {effect_text(lower, c)} to {effect_text(upper, c)}"


def _evidence(c: Comparison, options: Options) -> str:
    text = f"{effect_text(c.reported.estimate, c)}, {_interval(c, options)}"
    text += f", {p_text(c.p_value, options.alpha)}"
    if options.correction != "none" and c.p_value_adjusted != c.p_value:
        name = _CORRECTION_NAMES[options.correction]
        text += f", {name}-adjusted {p_text(c.p_value_adjusted, options.alpha)}"
    return text


def _change(c: Comparison, options: Options) -> str:
    estimate = c.absolute.estimate or 0.0
    verb = "raised" if estimate > 0 else "lowered" if estimate < 0 else "did not move"
    return (
        f"{c.variant} {verb} {c.metric} from {_value(c.control.mean, c)} to "
        f"{_value(c.treatment.mean, c)} ({_evidence(c, options)})"
    )


def improves(c: Comparison) -> bool:
    estimate = c.absolute.estimate or 0.0
    return estimate > 0 if c.direction == "increase" else estimate < 0


def srm_reason(srm: SrmResult) -> Reason:
    return Reason(
        "srm_failed",
        f"The traffic split does not match the planned weights (SRM p = {srm.p_value:.2g}, "
        f"below {srm.threshold:g}): assignment or logging is broken, so no metric can be "
        "trusted until it is fixed.",
    )


def _primary_reasons(primary: Comparison, options: Options) -> list[Reason]:
    where = {"variant": primary.variant, "metric": primary.metric}
    if primary.absolute.estimate is None or primary.statistic is None:
        why = "; ".join(primary.messages) or "the test is undefined for these numbers"
        return [Reason("untestable", f"{primary.metric} could not be tested: {why}.", **where)]
    change = _change(primary, options)
    if primary.significant:
        if improves(primary):
            return [Reason("significant_win", f"{change}: a significant improvement.", **where)]
        return [Reason("significant_harm", f"{change}: a significant harm.", **where)]
    reasons = [
        Reason(
            "ci_crosses_zero",
            f"{change}; the interval includes no change, so this is not significant.",
            **where,
        )
    ]
    if primary.underpowered:
        reasons.append(
            Reason(
                "underpowered",
                f"At this size the test detects lifts of about ±{primary.mde_relative:.2%} "
                f"with {options.power:.0%} power, more than the {options.mde:.2%} aimed for: "
                "it is underpowered.",
                **where,
            )
        )
    return reasons


def _verdict(reasons: Sequence[Reason]) -> Verdict:
    codes = {r.code for r in reasons}
    if codes & _BLOCKING:
        return "DO NOT SHIP"
    if "significant_win" in codes and "guardrail_not_noninferior" not in codes:
        return "SHIP"
    return "INCONCLUSIVE"


def _margin_bounds(c: Comparison) -> tuple[float, float, float]:
    """The guardrail's margin and interval on its scale, oriented so that worse is negative."""
    margin = c.margin
    if c.scale == "absolute":
        margin *= abs(c.control.mean) if c.control.mean is not None else math.nan
    lower, upper = c.reported.ci
    lower = -math.inf if lower is None else lower
    upper = math.inf if upper is None else upper
    if c.direction == "decrease":
        lower, upper = -upper, -lower
    return margin, lower, upper


def _guardrail_reason(c: Comparison, options: Options) -> Reason | None:
    where = {"variant": c.variant, "metric": c.metric}
    if c.margin is None:
        if c.significant and not improves(c):
            message = f"The guardrail {c.metric} got significantly worse: {_change(c, options)}."
            return Reason("guardrail_harmed", message, **where)
        return None
    margin, lower, upper = _margin_bounds(c)
    allowed = f"the {c.margin:.2%} non-inferiority margin"
    if upper < -margin:
        message = f"The guardrail {c.metric} is worse than {allowed}: {_change(c, options)}."
        return Reason("guardrail_harmed", message, **where)
    if not lower >= -margin:  # also when the interval or the margin is undefined
        message = (
            f"The guardrail {c.metric} is not shown within {allowed}; its interval still "
            f"reaches past it: {_change(c, options)}."
        )
        return Reason("guardrail_not_noninferior", message, **where)
    return None


def _summary(
    verdict: Verdict, variant: str | None, reasons: Sequence[Reason], srm: SrmResult
) -> str:
    lead = {
        "SHIP": f"Ship {variant}.",
        "DO NOT SHIP": f"Do not ship {variant or 'any treatment'}.",
        "INCONCLUSIVE": "Inconclusive: no treatment has shown a significant effect yet.",
    }[verdict]
    if verdict == "INCONCLUSIVE" and any(r.code == "guardrail_not_noninferior" for r in reasons):
        lead = "Inconclusive: a guardrail is not yet shown to stay within its margin."
    sentences = [lead, *(r.message for r in reasons)]
    if srm.passed and srm.message is None:
        sentences.append(f"The traffic split matches the plan (SRM p = {srm.p_value:.3f}).")
    return " ".join(sentences)


def decide_variant(
    variant: str, comparisons: Sequence[Comparison], srm: SrmResult, options: Options
) -> ShipDecision:
    """The decision for one treatment, from its comparisons (one per metric)."""
    reasons = [] if srm.passed else [srm_reason(srm)]
    guardrails = (_guardrail_reason(c, options) for c in comparisons if c.role == "guardrail")
    reasons += [r for r in guardrails if r is not None]
    reasons += _primary_reasons(next(c for c in comparisons if c.role == "primary"), options)
    verdict = _verdict(reasons)
    return ShipDecision(verdict, variant, tuple(reasons), _summary(verdict, variant, reasons, srm))


def decide(
    decisions: Sequence[ShipDecision], primaries: Sequence[Comparison], srm: SrmResult
) -> ShipDecision:
    """The experiment's decision from its treatments' (primaries: their primary comparisons)."""
    if len(decisions) == 1:
        return decisions[0]
    if not srm.passed:
        reasons = (srm_reason(srm),)
        return ShipDecision(
            "DO NOT SHIP", None, reasons, _summary("DO NOT SHIP", None, reasons, srm)
        )
    winners = [(d, c) for d, c in zip(decisions, primaries, strict=True) if d.verdict == "SHIP"]
    if winners:
        best, _ = max(winners, key=lambda w: abs(w[1].relative.estimate or 0.0))
        verdict, variant, reasons = "SHIP", best.variant, best.reasons
        if len(winners) > 1:
            others = ", ".join(d.variant for d, _ in winners if d is not best)
            note = f"{others} also won; {best.variant} has the largest lift."
            reasons = (*reasons, Reason("significant_win", note))
    else:
        every = all(d.verdict == "DO NOT SHIP" for d in decisions)
        verdict = "DO NOT SHIP" if every else "INCONCLUSIVE"
        variant = None
        reasons = tuple(r for d in decisions for r in d.reasons)
    return ShipDecision(verdict, variant, reasons, _summary(verdict, variant, reasons, srm))
