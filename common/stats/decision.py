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
significant result never prints as 0 and a p-value never rounds across alpha; its words and
the spelling of its numbers are the requested locale's (``common.stats.wording``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Literal

from common.stats.inputs import Options
from common.stats.results import Comparison, Reason, ShipDecision, Verdict
from common.stats.srm import SrmResult
from common.stats.wording import ENGLISH, Wording

GuardrailVerdict = Literal["harmed", "beyond_margin", "not_noninferior", "held"]
_BLOCKING = {"srm_failed", "guardrail_harmed", "significant_harm"}
_CORRECTION_NAMES = {"bonferroni": "Bonferroni", "holm": "Holm", "bh": "Benjamini-Hochberg"}
_MAX_DECIMALS = 15


def _fixed(x: float, decimals: int, words: Wording, percent: str = "", sign: str = "") -> str:
    """x with at least ``decimals`` decimals and as many more as keep a non-zero x non-zero;
    ``percent``: "%" or nothing."""
    while round(x, decimals) == 0 and x != 0 and decimals < _MAX_DECIMALS:
        decimals += 1
    return words.spell(f"{x:{sign},.{decimals}f}{percent}")


def _value(x: float | None, c: Comparison, words: Wording) -> str:
    if x is None:
        return words.text("not_available")
    if c.kind == "proportion":
        return _fixed(100 * x, 2, words, "%")
    return words.number(x, ",.4g")


def effect_text(x: float | None, c: Comparison, words: Wording = ENGLISH) -> str:
    """A number on the comparison's scale: +x.xx% (lift), +x.xx pp (rates), or metric units."""
    if x is None:
        return words.text("not_available")
    if c.scale == "relative":
        return _fixed(100 * x, 2, words, "%", "+")
    if c.kind == "proportion":
        return _fixed(100 * x, 2, words, sign="+") + words.text("percentage_points")
    return words.number(x, "+,.4g")


def _side(x: float, alpha: float) -> int:
    return (x > alpha) - (x < alpha)


def p_text(p: float, alpha: float, words: Wording = ENGLISH) -> str:
    """p with as many digits as keep it on its side of alpha (0.0499 never prints as 0.050)."""
    if p < 0.001 <= alpha:
        return f"p < {words.spell('0.001')}"
    for digits in range(3, _MAX_DECIMALS):
        text = f"{p:.{digits}f}" if p >= 0.001 else f"{p:.{digits - 1}e}"
        if _side(float(text), alpha) == _side(p, alpha):
            return f"p = {words.spell(text)}"
    return f"p = {words.spell(repr(p))}"


def _level(level: float, words: Wording) -> str:
    text = f"{100 * level:.2f}".rstrip("0").rstrip(".")
    return words.spell(f"{text}%")


def _interval_kind(options: Options) -> str:
    if options.sequential:
        return "always_valid_ci"
    return "repeated_ci" if options.group_sequential else "ci"


def interval_label(c: Comparison, options: Options, words: Wording = ENGLISH) -> str:
    """e.g. "95% CI", "Holm-adjusted 98.33% always-valid CI", "95% repeated CI"."""
    label = words.text(_interval_kind(options), level=_level(c.ci_level, words))
    if c.ci_level != 1 - options.alpha:
        correction = _CORRECTION_NAMES[options.correction]
        label = words.text("adjusted_interval", correction=correction, interval=label)
    return label


def _interval(c: Comparison, options: Options, words: Wording) -> str:
    lower, upper = c.reported.ci
    label = interval_label(c, options, words)
    if lower is None and upper is None:
        return words.text("interval_undefined", label=label)
    if lower is None:
        return words.text("interval_at_most", label=label, upper=effect_text(upper, c, words))
    if upper is None:
        return words.text("interval_at_least", label=label, lower=effect_text(lower, c, words))
    return words.text(
        "interval",
        label=label,
        lower=effect_text(lower, c, words),
        upper=effect_text(upper, c, words),
    )


def _evidence(c: Comparison, options: Options, words: Wording) -> str:
    text = f"{effect_text(c.reported.estimate, c, words)}, {_interval(c, options, words)}"
    text += f", {p_text(c.p_value, options.alpha, words)}"
    if options.correction != "none" and c.p_value_adjusted != c.p_value:
        adjusted = p_text(c.p_value_adjusted, options.alpha, words)
        name = _CORRECTION_NAMES[options.correction]
        text += ", " + words.text("adjusted_p", correction=name, p=adjusted)
    return text


def _change(c: Comparison, options: Options, words: Wording) -> str:
    estimate = c.absolute.estimate or 0.0
    verb = "raised" if estimate > 0 else "lowered" if estimate < 0 else "unmoved"
    return words.text(
        verb,
        variant=c.variant,
        metric=c.metric,
        control=_value(c.control.mean, c, words),
        treatment=_value(c.treatment.mean, c, words),
        evidence=_evidence(c, options, words),
    )


def improves(c: Comparison) -> bool:
    estimate = c.absolute.estimate or 0.0
    return estimate > 0 if c.direction == "increase" else estimate < 0


def srm_reason(srm: SrmResult, words: Wording) -> Reason:
    p, threshold = words.number(srm.p_value, ".2g"), words.number(srm.threshold, "g")
    return Reason("srm_failed", words.reason("srm_failed", p=p, threshold=threshold))


def _primary_reasons(primary: Comparison, options: Options, words: Wording) -> list[Reason]:
    where = {"variant": primary.variant, "metric": primary.metric}
    if primary.absolute.estimate is None or primary.statistic is None:
        why = "; ".join(primary.messages) or words.text("undefined_test")
        message = words.reason("untestable", metric=primary.metric, why=why)
        return [Reason("untestable", message, **where)]
    change = _change(primary, options, words)
    if primary.significant:
        code = "significant_win" if improves(primary) else "significant_harm"
        return [Reason(code, words.reason(code, change=change), **where)]
    reasons = [Reason("ci_crosses_zero", words.reason("ci_crosses_zero", change=change), **where)]
    if primary.underpowered:
        message = words.reason(
            "underpowered",
            detectable=words.number(primary.mde_relative, ".2%"),
            power=words.number(options.power, ".0%"),
            mde=words.number(options.mde, ".2%"),
        )
        reasons.append(Reason("underpowered", message, **where))
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


def guardrail_verdict(c: Comparison) -> GuardrailVerdict | None:
    """How a guardrail comparison stands by the rules above: harmed (significantly worse),
    beyond_margin (its whole interval past the margin), not_noninferior (its interval still
    reaches past the margin, or is undefined), else held; None for a metric of another role."""
    if c.role != "guardrail":
        return None
    if c.margin is None:
        return "harmed" if c.significant and not improves(c) else "held"
    margin, lower, upper = _margin_bounds(c)
    if upper < -margin:
        return "beyond_margin"
    if not lower >= -margin:  # also when the interval or the margin is undefined
        return "not_noninferior"
    return "held"


def _guardrail_reason(c: Comparison, options: Options, words: Wording) -> Reason | None:
    verdict = guardrail_verdict(c)
    if verdict in (None, "held"):
        return None
    where = {"variant": c.variant, "metric": c.metric}
    change = _change(c, options, words)
    if verdict == "harmed":
        message = words.reason("guardrail_harmed", metric=c.metric, change=change)
        return Reason("guardrail_harmed", message, **where)
    allowed = {"metric": c.metric, "margin": words.number(c.margin, ".2%"), "change": change}
    if verdict == "beyond_margin":
        message = words.text("guardrail_beyond_margin", **allowed)
        return Reason("guardrail_harmed", message, **where)
    message = words.reason("guardrail_not_noninferior", **allowed)
    return Reason("guardrail_not_noninferior", message, **where)


def headline(verdict: Verdict, variant: str | None, codes: Collection[str], words: Wording) -> str:
    """The summary's first sentence, from the decision and its reasons' codes."""
    if verdict == "DO NOT SHIP" and variant is None:
        return words.text("no_treatment")
    if verdict == "INCONCLUSIVE" and "guardrail_not_noninferior" in codes:
        return words.text("inconclusive_guardrail")
    return words.lead(verdict, variant=variant)


def _summary(
    verdict: Verdict,
    variant: str | None,
    reasons: Sequence[Reason],
    srm: SrmResult,
    words: Wording,
) -> str:
    lead = headline(verdict, variant, {r.code for r in reasons}, words)
    sentences = [lead, *(r.message for r in reasons)]
    if srm.passed and srm.message is None:
        sentences.append(words.text("srm_passed", p=words.number(srm.p_value, ".3f")))
    return " ".join(sentences)


def decide_variant(
    variant: str,
    comparisons: Sequence[Comparison],
    srm: SrmResult,
    options: Options,
    words: Wording = ENGLISH,
) -> ShipDecision:
    """The decision for one treatment, from its comparisons (one per metric)."""
    reasons = [] if srm.passed else [srm_reason(srm, words)]
    guardrails = (
        _guardrail_reason(c, options, words) for c in comparisons if c.role == "guardrail"
    )
    reasons += [r for r in guardrails if r is not None]
    primary = next(c for c in comparisons if c.role == "primary")
    reasons += _primary_reasons(primary, options, words)
    verdict = _verdict(reasons)
    summary = _summary(verdict, variant, reasons, srm, words)
    return ShipDecision(verdict, variant, tuple(reasons), summary)


def decide(
    decisions: Sequence[ShipDecision],
    primaries: Sequence[Comparison],
    srm: SrmResult,
    words: Wording = ENGLISH,
) -> ShipDecision:
    """The experiment's decision from its treatments' (primaries: their primary comparisons)."""
    if len(decisions) == 1:
        return decisions[0]
    if not srm.passed:
        reasons = (srm_reason(srm, words),)
        summary = _summary("DO NOT SHIP", None, reasons, srm, words)
        return ShipDecision("DO NOT SHIP", None, reasons, summary)
    winners = [(d, c) for d, c in zip(decisions, primaries, strict=True) if d.verdict == "SHIP"]
    if winners:
        best, _ = max(winners, key=lambda w: abs(w[1].relative.estimate or 0.0))
        verdict, variant, reasons = "SHIP", best.variant, best.reasons
        if len(winners) > 1:
            others = ", ".join(d.variant for d, _ in winners if d is not best)
            note = words.text("also_won", others=others, best=best.variant)
            reasons = (*reasons, Reason("significant_win", note))
    else:
        every = all(d.verdict == "DO NOT SHIP" for d in decisions)
        verdict = "DO NOT SHIP" if every else "INCONCLUSIVE"
        variant = None
        reasons = tuple(r for d in decisions for r in d.reasons)
    return ShipDecision(verdict, variant, reasons, _summary(verdict, variant, reasons, srm, words))
