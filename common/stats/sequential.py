"""Always-valid inference (a mixture SPRT), as in GrowthBook's sequential testing.

Intervals and p-values hold at every look, so results may be watched daily without inflating
false positives. For an estimate with standard error se after N units (both arms), with a
tuning parameter τ (the N at which the interval is tightest):

    r2         = (-2 ln alpha + ln(-2 ln alpha + 1)) / τ          (r2: the mixing variance)
    half width = se·√N · √(2(N·r2 + 1) · ln(√(N·r2 + 1) / alpha) / (N²·r2))
    p-value    = min(1, √(N·r2 + 1) · exp(-r2·N·z² / (2(N·r2 + 1))))     with z = estimate / se

(Waudby-Smith et al., arXiv 2103.06476v7, eqs. 9, 155, 161; gbstats' SequentialTwoSidedTTest.)
Two-sided only. p < alpha exactly when the interval excludes 0, and that holds at any level a
with r2 kept at alpha's: the interval at the corrected level alpha·p/p_adj excludes 0 exactly
when the adjusted p-value is below alpha.

On the chosen scale: the estimate and SE of that scale; on the absolute scale the lift gets
Fieller's interval with critical value half width / SE, which inverts the same test.
"""

from __future__ import annotations

import math

import numpy as np

from common.stats import frequentist
from common.stats.frequentist import Effect, Estimate
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
    effect: Effect, c: Summary, t: Summary, *, alpha: float, level: float, tuning: float
) -> Effect:
    """The fixed-horizon effect made always-valid on its own scale."""
    n_total = c.n + t.n
    reported = effect.reported
    half = half_width(reported.se, n_total, alpha=alpha, tuning=tuning, level=level)
    widened = Estimate(reported.value, reported.se, reported.value - half, reported.value + half)
    if effect.scale == "relative":
        absolute, relative = effect.absolute, widened
    else:
        bounds = frequentist.fieller_interval(c, t, half / reported.se)
        absolute, relative = widened, Estimate(effect.relative.value, effect.relative.se, *bounds)
    statistic = reported.value / reported.se
    p = p_value(reported.value, reported.se, n_total, alpha=alpha, tuning=tuning)
    return Effect(effect.scale, absolute, relative, statistic, effect.df, p, half / reported.se)
