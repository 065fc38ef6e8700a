"""The two-proportion score test and the intervals that invert it, elementwise.

The score statistic for a hypothesised difference δ (or ratio R) of a treatment rate p1 = x1/n1
and a control rate p0 = x0/n0 divides the distance from the hypothesis by the standard error
computed at the rates that maximise the likelihood *under that hypothesis* (p̃1, p̃0):

    difference  (p1 - p0 - δ) / √(p̃1(1 - p̃1)/n1 + p̃0(1 - p̃0)/n0)        p̃1 = p̃0 + δ
    ratio       (p1 - R·p0)  / √(p̃1(1 - p̃1)/n1 + R²·p̃0(1 - p̃0)/n0)      p̃1 = R·p̃0

At δ = 0 (R = 1) both reduce to the pooled two-proportion z-test, so the score interval
excludes no-change exactly when that test rejects: the interval and the p-value are one
estimator. Miettinen & Nurminen (1985) without their n/(n - 1) correction: the difference is
Farrington & Manning's interval, the ratio Koopman's (statsmodels'
``confint_proportions_2indep(method="score", correction=False)``).

Each bound is a root of (distance)² - critical²·(variance), found by false position (Illinois)
on numpy arrays, so thousands of experiments are solved in one call. The ratio is searched as
θ = R/(1 + R) ∈ [0, 1] so that R = ∞ (a control without successes) is a finite end.
"""

from __future__ import annotations

import numpy as np

from common.stats.inputs import Sided

_TOLERANCE = 1e-13  # on δ ∈ [-1, 1] and θ ∈ [0, 1]
_MAX_STEPS = 200


def pooled_z(x1, n1, x0, n0):
    """The pooled two-proportion z statistic of p1 - p0 (NaN without variation)."""
    rate = (x1 + x0) / (n1 + n0)
    return (x1 / n1 - x0 / n0) / np.sqrt(rate * (1 - rate) * (1 / n1 + 1 / n0))


def _constrained_difference(delta, x1, n1, x0, n0):
    """(p̃1, p̃0): the rates of largest likelihood with p̃1 - p̃0 = δ (a cubic's root, M&N eq. 27)."""
    n, x = n1 + n0, x1 + x0
    c3 = n
    c2 = (n1 + 2 * n0) * delta - n - x
    c1 = (n0 * delta - n - 2 * x0) * delta + x
    c0 = x0 * delta * (1 - delta)
    shift = c2 / (3 * c3)
    q = shift**3 - c1 * c2 / (6 * c3 * c3) + c0 / (2 * c3)
    p = np.sign(q) * np.sqrt(np.maximum(shift * shift - c1 / (3 * c3), 0.0))
    # p = 0 only where the cubic has a triple root (cosine is then irrelevant: 0·cos = 0).
    cosine = np.minimum(np.maximum(q / np.where(p == 0, 1.0, p**3), -1.0), 1.0)
    p0 = np.minimum(np.maximum(2 * p * np.cos((np.pi + np.arccos(cosine)) / 3) - shift, 0.0), 1.0)
    return np.minimum(np.maximum(p0 + delta, 0.0), 1.0), p0


def _difference_gap(delta, x1, n1, x0, n0, critical):
    p1, p0 = _constrained_difference(delta, x1, n1, x0, n0)
    variance = p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0
    return (x1 / n1 - x0 / n0 - delta) ** 2 - critical * critical * variance


def _constrained_share(theta, x1, n1, x0, n0):
    """(p̃1, p̃0) with p̃1/p̃0 = θ/(1 - θ): the quadratic's stable root, finite at θ = 0 and 1."""
    x = x1 + x0
    b = theta * (n1 + x0) + (1 - theta) * (n0 + x1)
    s = b + np.sqrt(np.maximum(b * b - 4 * (n1 + n0) * x * theta * (1 - theta), 0.0))
    return 2 * x * theta / s, 2 * x * (1 - theta) / s


def _ratio_gap(theta, x1, n1, x0, n0, critical):
    """The ratio's gap times (1 - θ)² = 1/(1 + R)², which keeps it finite at R = ∞."""
    p1, p0 = _constrained_share(theta, x1, n1, x0, n0)
    variance = (1 - theta) ** 2 * p1 * (1 - p1) / n1 + theta**2 * p0 * (1 - p0) / n0
    distance = (1 - theta) * x1 / n1 - theta * x0 / n0
    return distance * distance - critical * critical * variance


def _between(x, a, b):
    return (x - a) * (x - b) < 0


def _root(gap, inside, outside, guess):
    """Where gap crosses 0 between inside (gap ≤ 0: the estimate) and outside (an end of the
    parameter space); outside itself where gap ≤ 0 there too (the interval reaches the end).

    guess (the Wald bound) splits the bracket first; then Illinois false position keeps
    gap(out) > 0 ≥ gap(in), bisecting when a step would not land strictly inside (gap(in) = 0
    at an estimate on the edge), until a step moves the bound by less than the tolerance.
    """
    out, in_, c = (a.copy() for a in np.broadcast_arrays(outside, inside, guess))
    f_out, f_in = gap(out), gap(in_)
    reaches_end = f_out <= 0
    open_ = ~reaches_end
    out_moved_last = np.zeros(out.shape, dtype=bool)
    for _ in range(_MAX_STEPS):
        c = np.where(_between(c, in_, out), c, 0.5 * (in_ + out))
        f_c = gap(c)
        now_out = open_ & (f_c > 0)
        now_in = open_ & (f_c <= 0)
        previous = np.where(now_out, out, in_)
        # Illinois: an end kept twice in a row has its value halved, so both ends converge.
        f_out = np.where(now_out, f_c, np.where(now_in & ~out_moved_last, 0.5 * f_out, f_out))
        f_in = np.where(now_in, f_c, np.where(now_out & out_moved_last, 0.5 * f_in, f_in))
        out, in_ = np.where(now_out, c, out), np.where(now_in, c, in_)
        out_moved_last = np.where(open_, now_out, out_moved_last)
        open_ &= (np.abs(c - previous) > _TOLERANCE) & (f_c != 0)
        if not open_.any():
            break
        c = in_ - f_in * (out - in_) / (f_out - f_in)
    return np.where(reaches_end, outside, in_)


def _bounds(gap, estimate, ends, wald, sided: Sided):
    """(lower, upper): both roots in one search (stacked), the open end of a one-sided test ±inf."""
    stack = lambda a, b: np.stack(np.broadcast_arrays(a, b, estimate)[:2])  # noqa: E731
    lower, upper = _root(gap, stack(estimate, estimate), stack(*ends), stack(*wald))
    if sided == "less":
        lower = np.full_like(upper, -np.inf)
    if sided == "greater":
        upper = np.full_like(lower, np.inf)
    return lower, upper


def _defined(x1, n1, x0, n0):
    """The test needs units in both arms and some variation (not all 0s or all 1s)."""
    return (n1 > 0) & (n0 > 0) & (x1 + x0 > 0) & (x1 + x0 < n1 + n0)


def difference_interval(x1, n1, x0, n0, critical, sided: Sided = "two-sided"):
    """Score interval for p1 - p0; ±inf at an open one-sided end, NaN where undefined."""
    with np.errstate(all="ignore"):
        x1, n1, x0, n0 = (np.asarray(v, float) for v in (x1, n1, x0, n0))
        ok = _defined(x1, n1, x0, n0)
        n1, n0 = np.where(ok, n1, 1.0), np.where(ok, n0, 1.0)  # keep undefined rows finite
        estimate = np.where(ok, x1 / n1 - x0 / n0, 0.0)

        def gap(delta):
            return _difference_gap(delta, x1, n1, x0, n0, critical)

        half = critical * np.sqrt(x1 * (n1 - x1) / n1**3 + x0 * (n0 - x0) / n0**3)
        wald = (estimate - half, estimate + half)
        lower, upper = _bounds(gap, estimate, (-1.0, 1.0), wald, sided)
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def ratio_interval(x1, n1, x0, n0, critical, sided: Sided = "two-sided"):
    """Score interval for p1/p0; +inf where the control has no successes, NaN where undefined."""
    with np.errstate(all="ignore"):
        x1, n1, x0, n0 = (np.asarray(v, float) for v in (x1, n1, x0, n0))
        ok = _defined(x1, n1, x0, n0)
        n1, n0 = np.where(ok, n1, 1.0), np.where(ok, n0, 1.0)
        p1, p0 = x1 / n1, x0 / n0
        share = np.where(ok, p1 / (p1 + p0), 0.5)  # θ at the estimate R = p1/p0

        def gap(theta):
            return _ratio_gap(theta, x1, n1, x0, n0, critical)

        # The log-ratio's Wald bounds as θ (NaN without successes in an arm: then bisection).
        spread = np.exp(critical * np.sqrt((1 - p1) / x1 + (1 - p0) / x0))
        wald = (p1 / (p1 + p0 * spread), p1 * spread / (p1 * spread + p0))
        low, high = _bounds(gap, share, (0.0, 1.0), wald, sided)
        # R = θ/(1 - θ): θ = 1 gives R = +inf; an open end (±inf) stays open.
        lower, upper = (np.where(np.isfinite(t), t / (1 - t), t) for t in (low, high))
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)
