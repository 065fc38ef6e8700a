"""An independent check of score intervals for a difference of two proportions.

statsmodels' own score interval for a difference solves a cubic with a wrong coefficient
(statsmodels issue #10269), so a bound is checked instead to be where the score statistic, its
variance taken at the rates that maximise the likelihood under that difference (found
numerically by scipy), reaches ±critical.
"""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import norm


def score_statistic(a_success, a_total, b_success, b_total, delta):
    """The score statistic of rate B - rate A = delta, its variance at the rates that maximise
    the likelihood under that hypothesis, found numerically (scipy)."""
    x1, n1, x0, n0 = b_success, b_total, a_success, a_total

    def minus_loglik(p0):
        p1 = p0 + delta
        return -(
            x1 * np.log(p1)
            + (n1 - x1) * np.log1p(-p1)
            + x0 * np.log(p0)
            + (n0 - x0) * np.log1p(-p0)
        )

    bounds = (max(0.0, -delta) + 1e-12, min(1.0, 1 - delta) - 1e-12)
    p0 = minimize_scalar(minus_loglik, bounds=bounds, method="bounded", options={"xatol": 1e-14}).x
    p1 = p0 + delta
    return (x1 / n1 - x0 / n0 - delta) / np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)


def assert_score_interval(interval, counts, alpha):
    """Both bounds invert the score test at alpha (a bound at ±1 is the parameter's end)."""
    critical = norm.isf(alpha / 2)
    for bound, sign in zip(interval, (1, -1), strict=True):
        if abs(bound) < 1:
            assert score_statistic(**counts, delta=bound) == pytest.approx(
                sign * critical, abs=1e-6
            )
