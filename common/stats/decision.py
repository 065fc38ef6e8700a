"""SHIP / DO NOT SHIP / INCONCLUSIVE, with the reasons and a plain-language paragraph.

Per treatment, in order of precedence:
- DO NOT SHIP when the split fails SRM (nothing can be trusted), a guardrail metric got
  significantly worse, or the primary metric did;
- SHIP when the primary metric improved significantly (in its direction);
- INCONCLUSIVE otherwise: the interval includes no change (flagged underpowered when the
  detectable lift exceeds the one aimed for).
The experiment ships the winning treatment with the largest primary lift, if any.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.stats.inputs import Options
from common.stats.results import Comparison, Reason, ShipDecision, Verdict
from common.stats.srm import SrmResult

_BLOCKING = {"srm_failed", "guardrail_harmed", "significant_harm"}
_CORRECTION_NAMES = {"bonferroni": "Bonferroni", "holm": "Holm", "bh": "Benjamini-Hochberg"}


def _value(x: float | None, c: Comparison) -> str:
    if x is None:
        return "n/a"
    return f"{x:.2%}" if c.kind == "proportion" else f"{x:,.4g}"


def _lift(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.2%}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _interval(c: Comparison, options: Options) -> str:
    lower, upper = c.relative.ci
    label = "always-valid CI" if options.sequential else "CI"
    if lower is None and upper is None:
        return f"{label} undefined"
    if lower is None:
        return f"{1 - options.alpha:.0%} {label} at most {_lift(upper)}"
    if upper is None:
        return f"{1 - options.alpha:.0%} {label} at least {_lift(lower)}"
    return f"{1 - options.alpha:.0%} {label} {_lift(lower)} to {_lift(upper)}"


def _evidence(c: Comparison, options: Options) -> str:
    text = f"{_lift(c.relative.estimate)}, {_interval(c, options)}, {_p(c.p_value)}"
    if options.correction != "none" and c.p_value_adjusted != c.p_value:
        name = _CORRECTION_NAMES[options.correction]
        text += f", {name}-adjusted {_p(c.p_value_adjusted)}"
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
    # No statistic means no test was possible, except under Fisher's exact test (none to give).
    tested = primary.statistic is not None or primary.method == "fisher_exact"
    if primary.absolute.estimate is None or not tested:
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
    return "SHIP" if "significant_win" in codes else "INCONCLUSIVE"


def _summary(
    verdict: Verdict, variant: str | None, reasons: Sequence[Reason], srm: SrmResult
) -> str:
    lead = {
        "SHIP": f"Ship {variant}.",
        "DO NOT SHIP": f"Do not ship {variant or 'any treatment'}.",
        "INCONCLUSIVE": "Inconclusive: no treatment has shown a significant effect yet.",
    }[verdict]
    sentences = [lead, *(r.message for r in reasons)]
    if srm.passed and srm.message is None:
        sentences.append(f"The traffic split matches the plan (SRM p = {srm.p_value:.3f}).")
    return " ".join(sentences)


def decide_variant(
    variant: str, comparisons: Sequence[Comparison], srm: SrmResult, options: Options
) -> ShipDecision:
    """The decision for one treatment, from its comparisons (one per metric)."""
    reasons = [] if srm.passed else [srm_reason(srm)]
    for c in comparisons:
        if c.role == "guardrail" and c.significant and not improves(c):
            message = f"The guardrail {c.metric} got significantly worse: {_change(c, options)}."
            reasons.append(Reason("guardrail_harmed", message, variant, c.metric))
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
