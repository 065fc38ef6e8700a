"""CUPED: regression adjustment on a pre-period covariate x.

theta is the slope of y on x over both compared arms pooled (one regression, no arm term), as
GrowthBook computes it, so the same adjustment applies to both arms and the difference of the
adjusted means stays unbiased. Each arm's mean becomes ȳ - θ(x̄ - x̄_pooled) and its per-unit
variance Var y + θ² Var x - 2θ Cov(x, y). Relative lifts keep the unadjusted control mean as
their base, so the lift (ȳt - θx̄t - ȳc + θx̄c)/ȳc has a control term of its own in the delta
method (gradient (-ȳt/ȳc², θ/ȳc) in (ȳc, x̄c)): gbstats' ``frequentist_variance_relative_cuped``,
in use since gbstats 0.8 (growthbook/growthbook#3610).
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
    relative_variance: np.ndarray | float  # of the lift (adjusted difference / ȳc)


def pooled_theta(c: Moments, t: Moments):
    """NaN where the pooled covariate has no variance."""
    n = np.float64(c.n) + t.n
    sum_x, sum_y = c.covariate_sum + t.covariate_sum, c.sum + t.sum
    var_x = sample_variance(n, sum_x, c.covariate_sum_squares + t.covariate_sum_squares)
    cov = sample_covariance(n, sum_x, sum_y, c.cross_product_sum + t.cross_product_sum)
    return np.where(var_x > 0, cov / var_x, np.nan)


@dataclass(frozen=True)
class _Arm:
    n: np.ndarray | float
    mean_y: np.ndarray | float
    mean_x: np.ndarray | float
    var_y: np.ndarray | float
    var_x: np.ndarray | float
    cov: np.ndarray | float


def _arm(m: Moments) -> _Arm:
    n = np.float64(m.n)
    return _Arm(
        n,
        m.sum / n,
        m.covariate_sum / n,
        sample_variance(n, m.sum, m.squares),
        sample_variance(n, m.covariate_sum, m.covariate_sum_squares),
        sample_covariance(n, m.covariate_sum, m.sum, m.cross_product_sum),
    )


def _adjusted(a: _Arm, theta, pooled_mean_x) -> Summary:
    variance = a.var_y + theta * theta * a.var_x - 2 * theta * a.cov
    adjusted_mean = a.mean_y - theta * (a.mean_x - pooled_mean_x)
    return Summary(a.n, adjusted_mean, variance * (variance > 0), a.mean_y)


def _lift_variance(c: _Arm, treatment: Summary, theta):
    """Var of (treatment - control adjusted means)/ȳc; the treatment's adjusted mean variance
    over ȳc², plus the control's delta-method term."""
    base, ratio = c.mean_y, treatment.unadjusted_mean / c.mean_y
    control = c.var_y * ratio * ratio - 2 * theta * c.cov * ratio + theta * theta * c.var_x
    return (treatment.mean_variance + control / c.n) / (base * base)


def adjust(c: Moments, t: Moments) -> Adjusted:
    theta = pooled_theta(c, t)
    slope = np.where(np.isnan(theta), 0.0, theta)  # θ = 0 is no adjustment
    pooled_mean_x = (c.covariate_sum + t.covariate_sum) / (np.float64(c.n) + t.n)
    arm_c, arm_t = _arm(c), _arm(t)
    control = _adjusted(arm_c, slope, pooled_mean_x)
    treatment = _adjusted(arm_t, slope, pooled_mean_x)
    unadjusted = arm_c.var_y / arm_c.n + arm_t.var_y / arm_t.n
    reduction = 1 - (control.mean_variance + treatment.mean_variance) / unadjusted
    return Adjusted(theta, control, treatment, reduction, _lift_variance(arm_c, treatment, slope))
