"""Sufficient statistics reduced to what every test uses: n, the mean and the per-unit variance.

Undefined quantities (0/0, a variance from one unit) come out as NaN, never as an exception:
every division has a numpy n (``np.float64(m.n)``) below it, so Python floats never divide by
zero. The analysis layer turns NaN into null plus a message; callers run under
``np.errstate(all="ignore")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.stats.inputs import MetricKind, Moments


@dataclass(frozen=True)
class Summary:
    n: np.ndarray | float
    mean: np.ndarray | float
    variance: np.ndarray | float  # per unit: the variance of the mean is variance / n
    unadjusted_mean: np.ndarray | float  # the mean before CUPED: the base of relative lifts

    @property
    def mean_variance(self):
        return self.variance / self.n


def sample_variance(n, total, squares):
    """Unbiased variance from n, Σv and Σv²; clipped at 0 against rounding in Σv² - (Σv)²/n."""
    variance = (squares - total * total / n) / (n - 1)
    return variance * (variance > 0)  # keeps NaN, unlike max(); np.maximum is slow on scalars


def sample_covariance(n, total_a, total_b, products):
    return (products - total_a * total_b / n) / (n - 1)


def proportion(m: Moments) -> Summary:
    n = np.float64(m.n)
    p = m.sum / n
    # p(1 - p): the binomial variance, as the Wald interval and the unpooled SE use it.
    return Summary(n, p, p * (1 - p), p)


def sample_mean(m: Moments) -> Summary:
    n = np.float64(m.n)
    mean = m.sum / n
    return Summary(n, mean, sample_variance(n, m.sum, m.squares), mean)


def ratio(m: Moments) -> Summary:
    """Σy/Σd with the delta-method variance, carrying the numerator-denominator covariance."""
    n = np.float64(m.n)
    mean_y, mean_d = m.sum / n, m.denominator_sum / n
    var_y = sample_variance(n, m.sum, m.squares)
    var_d = sample_variance(n, m.denominator_sum, m.denominator_sum_squares)
    cov = sample_covariance(n, m.sum, m.denominator_sum, m.numerator_denominator_sum)
    value = mean_y / mean_d
    variance = (var_y - 2 * value * cov + value * value * var_d) / (mean_d * mean_d)
    return Summary(n, value, variance * (variance > 0), value)


SUMMARIES = {"proportion": proportion, "mean": sample_mean, "ratio": ratio}


def summarize(kind: MetricKind, m: Moments) -> Summary:
    return SUMMARIES[kind](m)
