"""CUPED: regression adjustment on a pre-period covariate x.

theta is the slope of y on x over both compared arms pooled (one regression, no arm term), as
GrowthBook computes it, so the same adjustment applies to both arms and the difference of the
adjusted means stays unbiased. Each arm's mean becomes ȳ - θ(x̄ - x̄_pooled) and its per-unit
variance Var y + θ² Var x - 2θ Cov(x, y). Relative lifts keep the unadjusted control mean as
their base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.stats.inputs import Moments
from common.stats.summary import Summary, sample_covariance, sample_variance


@dataclass(frozen=True)
class Adjusted:
    theta: np.ndarray | float  # NaN where x has no variance: those rows stay unadjusted
    control: Summary
    treatment: Summary
    variance_reduction: np.ndarray | float  # 1 - Var(adjusted difference) / Var(difference)


def pooled_theta(c: Moments, t: Moments):
    """NaN where the pooled covariate has no variance."""
    n = np.float64(c.n) + t.n
    sum_x, sum_y = c.covariate_sum + t.covariate_sum, c.sum + t.sum
    var_x = sample_variance(n, sum_x, c.covariate_sum_squares + t.covariate_sum_squares)
    cov = sample_covariance(n, sum_x, sum_y, c.cross_product_sum + t.cross_product_sum)
    return np.where(var_x > 0, cov / var_x, np.nan)


def _adjusted_arm(m: Moments, theta, pooled_mean_x) -> tuple[Summary, np.ndarray | float]:
    """The arm's adjusted summary, and the variance of its unadjusted mean."""
    n = np.float64(m.n)
    mean_y, mean_x = m.sum / n, m.covariate_sum / n
    var_y = sample_variance(n, m.sum, m.squares)
    var_x = sample_variance(n, m.covariate_sum, m.covariate_sum_squares)
    cov = sample_covariance(n, m.covariate_sum, m.sum, m.cross_product_sum)
    variance = var_y + theta * theta * var_x - 2 * theta * cov
    adjusted_mean = mean_y - theta * (mean_x - pooled_mean_x)
    return Summary(n, adjusted_mean, variance * (variance > 0), mean_y), var_y / n


def adjust(c: Moments, t: Moments) -> Adjusted:
    theta = pooled_theta(c, t)
    slope = np.where(np.isnan(theta), 0.0, theta)  # θ = 0 is no adjustment
    pooled_mean_x = (c.covariate_sum + t.covariate_sum) / (np.float64(c.n) + t.n)
    control, raw_c = _adjusted_arm(c, slope, pooled_mean_x)
    treatment, raw_t = _adjusted_arm(t, slope, pooled_mean_x)
    reduction = 1 - (control.mean_variance + treatment.mean_variance) / (raw_c + raw_t)
    return Adjusted(theta, control, treatment, reduction)
