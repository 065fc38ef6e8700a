"""Always-valid inference (a mixture SPRT), as in GrowthBook's sequential testing.

Intervals and p-values hold at every look, so results may be watched daily without inflating
false positives. For an estimate with standard error se after N units (both arms), with a
tuning parameter τ (the N at which the interval is tightest):

    r2         = (-2 ln alpha + ln(-2 ln alpha + 1)) / τ          (r2: the mixing variance)
    half width = se·√N · √(2(N·r2 + 1) · ln(√(N·r2 + 1) / alpha) / (N²·r2))
    p-value    = min(1, √(N·r2 + 1) · exp(-r2·N·z² / (2(N·r2 + 1))))     with z = estimate / se

(Waudby-Smith et al., arXiv 2103.06476v7, eqs. 9, 155, 161; gbstats' SequentialTwoSidedTTest.)
Two-sided only.
"""

from __future__ import annotations

import math

import numpy as np


def rho_squared(alpha: float, tuning: float) -> float:
    log_alpha = -2 * math.log(alpha)
    return (log_alpha + math.log(log_alpha + 1)) / tuning


def half_width(se, n_total, *, alpha: float, tuning: float):
    r2 = rho_squared(alpha, tuning)
    spread = n_total * r2 + 1
    return se * np.sqrt(
        n_total * 2 * spread * np.log(np.sqrt(spread) / alpha) / (n_total * n_total * r2)
    )


def p_value(estimate, se, n_total, *, alpha: float, tuning: float):
    r2 = rho_squared(alpha, tuning)
    spread = n_total * r2 + 1
    z = estimate / se
    # In logs: the e-value's exp() overflows long before the p-value underflows.
    log_p = 0.5 * np.log(spread) - r2 * n_total * z * z / (2 * spread)
    # Without variation (se = 0) there is no test, not certainty: NaN, like the t-test gives.
    return np.where(se > 0, np.minimum(np.exp(log_p), 1.0), np.nan)
