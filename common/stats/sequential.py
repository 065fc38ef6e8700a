"""Always-valid inference (a mixture SPRT), as in GrowthBook's sequential testing.

Intervals and p-values hold at every look, so results may be watched daily without inflating
false positives. For an estimate with standard error se after N units (both arms), with a
tuning parameter τ (the N at which the interval is tightest):

    r2         = (-2 ln alpha + ln(-2 ln alpha + 1)) / τ          (r2: the mixing variance)
    half width = se·√N · √(2(N·r2 + 1) · ln(√(N·r2 + 1) / alpha) / (N²·r2))
    p-value    = min(1, √(N·r2 + 1) · exp(-r2·N·z² / (2(N·r2 + 1))))     with z = estimate / se

(Waudby-Smith et al., arXiv 2103.06476v7, eqs. 9, 155, 161; gbstats' SequentialTwoSidedTTest.)
p < alpha exactly when the interval excludes 0, and that holds at any level a
with r2 kept at alpha's: the interval at the corrected level alpha·p/p_adj excludes 0 exactly
when the adjusted p-value is below alpha.

On the chosen scale: the estimate and SE of that scale; on the absolute scale the lift gets
Fieller's interval with critical value half width / SE, which inverts the same test.

One-sided (eq. 134; gbstats' SequentialOneSidedTreatmentGreaterTTest / ...LesserTTest): r2 is
tuned with 2·alpha, and the interval (estimate - bound, +inf) or (-inf, estimate + bound) has

    bound = se·√N · √(2(N·r2 + 1) · ln(1 + √(N·r2 + 1) / (2·alpha)) / (N²·r2))

Its p-value is the alpha at which the bound reaches 0, r2 staying tuned to the design's alpha
(gbstats bisects for it; it has a closed form):

    p = min(1, √(N·r2 + 1) / (2·(exp(r2·N·z² / (2(N·r2 + 1))) - 1)))   for z in the tested direction

and 1 otherwise: no alpha makes the interval exclude 0 when the estimate points the other way.
So here too the bound at a corrected level a (r2 kept tuned to alpha) excludes 0 exactly when
p < a, and corrections keep their intervals in step with their adjusted p-values.
"""

from __future__ import annotations

import math

import numpy as np

from common.stats import frequentist
from common.stats.frequentist import Effect, Estimate
from common.stats.inputs import Sided
from common.stats.summary import Summary


def rho_squared(alpha: float, tuning: float) -> float:
    log_alpha = -2 * math.log(alpha)
    return (log_alpha + math.log(log_alpha + 1)) / tuning


def half_width(se, n_total, *, alpha: float, tuning: float, level: float | None = None):
    """level: the interval's alpha when a correction moved it (r2 stays at alpha's)."""
    r2 = rho_squared(alpha, tuning)
    spread = n_total * r2 + 1
    log_term = np.log(np.sqrt(spread) / (alpha if level is None else level))
    return se * np.sqrt(n_total * 2 * spread * log_term / (n_total * n_total * r2))


def p_value(estimate, se, n_total, *, alpha: float, tuning: float):
    r2 = rho_squared(alpha, tuning)
    spread = n_total * r2 + 1
    z = estimate / se
    # In logs: the e-value's exp() overflows long before the p-value underflows.
    log_p = 0.5 * np.log(spread) - r2 * n_total * z * z / (2 * spread)
    # Without variation (se = 0) there is no test, not certainty: NaN, like the t-test gives.
    return np.where(se > 0, np.minimum(np.exp(log_p), 1.0), np.nan)


def always_valid(
    effect: Effect,
    c: Summary,
    t: Summary,
    *,
    alpha: float,
    level: float,
    tuning: float,
    sided: Sided = "two-sided",
) -> Effect:
    """The fixed-horizon effect made always-valid on its own scale (one-sided: eq. 134)."""
    n_total = c.n + t.n
    reported = effect.reported
    value, se = reported.value, reported.se
    if sided == "two-sided":
        half = half_width(se, n_total, alpha=alpha, tuning=tuning, level=level)
        p = p_value(value, se, n_total, alpha=alpha, tuning=tuning)
    else:
        half = one_sided_half_width(se, n_total, alpha=alpha, tuning=tuning, level=level)
        p = one_sided_p_value(value, se, n_total, alpha=alpha, tuning=tuning, sided=sided)
    critical = half / se
    widened = frequentist.interval(value, se, critical, sided)
    if effect.scale == "relative":
        absolute, relative = effect.absolute, widened
    else:
        bounds = frequentist.fieller_bounds(c, t, critical, sided)
        absolute, relative = widened, Estimate(effect.relative.value, effect.relative.se, *bounds)
    return Effect(effect.scale, absolute, relative, value / se, effect.df, p, critical)


def one_sided_half_width(se, n_total, *, alpha: float, tuning: float, level: float | None = None):
    """level: the interval's alpha when a correction moved it (r2 stays at alpha's)."""
    r2 = rho_squared(2 * alpha, tuning)
    spread = n_total * r2 + 1
    log_term = np.log(1 + np.sqrt(spread) / (2 * (alpha if level is None else level)))
    return se * np.sqrt(2 * spread * log_term / (n_total * r2))


def one_sided_p_value(estimate, se, n_total, *, alpha: float, tuning: float, sided: Sided):
    """sided: "greater" (H1: effect > 0) or "less"."""
    r2 = rho_squared(2 * alpha, tuning)
    spread = n_total * r2 + 1
    z = np.divide(estimate if sided == "greater" else np.negative(estimate), se)
    exponent = r2 * n_total * z * z / (2 * spread)
    # log(exp(x) - 1) = x + log(1 - exp(-x)): no overflow when the evidence is overwhelming.
    log_p = 0.5 * np.log(spread) - np.log(2) - exponent - np.log(-np.expm1(-exponent))
    p = np.where(z > 0, np.minimum(np.exp(log_p), 1.0), 1.0)
    return np.where(se > 0, p, np.nan)
