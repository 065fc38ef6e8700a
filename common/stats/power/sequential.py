"""Power under always-valid inference, as GrowthBook's power calculator computes it.

The always-valid interval (common.stats.sequential) is wider than the fixed-horizon one; GrowthBook
widens the standard error by the ratio of the two half-widths and runs the fixed-horizon power
with it. N is both arms of a comparison, as in GrowthBook's calculator and in /ab/analyze.
"""

from __future__ import annotations

from common.stats import distributions as dist
from common.stats import sequential


def widening(n_total: float, alpha: float, tuning: float) -> float:
    """The always-valid half-width over the fixed-horizon one (two-sided, level alpha)."""
    fixed = -float(dist.norm_ppf(alpha / 2))
    return float(sequential.half_width(1.0, n_total, alpha=alpha, tuning=tuning)) / fixed
