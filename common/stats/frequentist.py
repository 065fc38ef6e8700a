"""Fixed-horizon tests of treatment - control: one estimator per comparison, on its scale.

relative (the default, as GrowthBook): the lift (t - c)/c with its delta-method SE; the test is
lift/SE (z for proportions, Welch-Satterthwaite t for means and ratios, the df of the absolute
difference, as gbstats) and the interval lift ± critical·SE. The absolute block then carries its
estimate and SE only: it is not the test.

absolute (as statsmodels and Spotify's confidence): Welch's t-test on t - c with the interval
diff ± critical·SE, and for the lift Fieller's interval with the same critical value and
variances, which inverts the same test. Proportions (without CUPED) use the pooled
two-proportion z-test and the score intervals that invert it (``score_interval``).

Either way the reported interval excludes no change exactly when p < alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.stats import distributions as dist
from common.stats import score_interval
from common.stats.inputs import Scale, Sided
from common.stats.summary import Summary

_UNREPORTED = np.nan  # the bounds of the block that is not the test


@dataclass(frozen=True)
class Estimate:
    value: np.ndarray | float
    se: np.ndarray | float
    lower: np.ndarray | float  # -inf / +inf for the open end of a one-sided interval
    upper: np.ndarray | float  # NaN for both: no interval (the other scale's block, unbounded)


@dataclass(frozen=True)
class Effect:
    scale: Scale  # the block whose interval the test inverts
    absolute: Estimate
    relative: Estimate
    statistic: np.ndarray | float
    df: np.ndarray | float  # inf for a z-test
    p_value: np.ndarray | float
    critical: np.ndarray | float  # the quantile the intervals use

    @property
    def reported(self) -> Estimate:
        return self.relative if self.scale == "relative" else self.absolute


def welch_df(var_mean_c, n_c, var_mean_t, n_t):
    """Satterthwaite's degrees of freedom, from the variances of the two means."""
    total = var_mean_c + var_mean_t
    return total * total / (var_mean_c**2 / (n_c - 1) + var_mean_t**2 / (n_t - 1))


def critical_value(df, alpha: float, sided: Sided):
    return dist.t_ppf(df, 1 - (alpha / 2 if sided == "two-sided" else alpha))


def p_value(statistic, df, sided: Sided):
    if sided == "two-sided":
        return 2 * dist.t_cdf(df, -np.abs(statistic))
    return dist.t_cdf(df, -statistic if sided == "greater" else statistic)


def interval(value, se, critical, sided: Sided) -> Estimate:
    width = critical * se
    lower = -np.inf if sided == "less" else value - width
    upper = np.inf if sided == "greater" else value + width
    return Estimate(value, se, lower, upper)


def relative_se(c: Summary, t: Summary):
    """Delta-method SE of (t - c)/c for independent arms (cov 0), the base being the unadjusted
    control mean (without CUPED: the variance_of_ratios of gbstats)."""
    base = c.unadjusted_mean
    return np.sqrt(t.mean_variance / base**2 + c.mean_variance * t.unadjusted_mean**2 / base**4)


def _unreported(value, se) -> Estimate:
    return Estimate(value, se, _UNREPORTED * value, _UNREPORTED * value)


def _one_sided(lower, upper, sided: Sided):
    """The open end of a one-sided interval as ±inf (NaN, for unbounded, stays NaN)."""
    lower = np.where(np.isnan(lower), lower, -np.inf) if sided == "less" else lower
    upper = np.where(np.isnan(upper), upper, np.inf) if sided == "greater" else upper
    return lower, upper


def compare(
    c: Summary,
    t: Summary,
    *,
    scale: Scale,
    level: float,
    sided: Sided,
    z_test: bool,
    relative_variance=None,
) -> Effect:
    """The test on its scale, with intervals at the level alpha ``level``.

    z_test: proportions without CUPED (normal quantiles; on the absolute scale, the pooled score
    test). relative_variance: the lift's variance when the delta method needs more than the two
    arms' mean variances (CUPED); None for the plain one.
    """
    diff = t.mean - c.mean
    se = np.sqrt(c.mean_variance + t.mean_variance)
    lift = diff / c.unadjusted_mean
    lift_se = relative_se(c, t) if relative_variance is None else np.sqrt(relative_variance)
    df = np.inf if z_test else welch_df(c.mean_variance, c.n, t.mean_variance, t.n)
    critical = critical_value(df, level, sided)
    if scale == "relative":
        statistic = lift / lift_se
        absolute = _unreported(diff, se)
        relative = interval(lift, lift_se, critical, sided)
    elif z_test:
        counts = (t.mean * t.n, t.n, c.mean * c.n, c.n)
        statistic = score_interval.pooled_z(*counts)
        absolute = Estimate(diff, se, *score_interval.difference_interval(*counts, critical, sided))
        lower, upper = score_interval.ratio_interval(*counts, critical, sided)
        relative = Estimate(lift, lift_se, lower - 1, upper - 1)
    else:
        statistic = diff / se
        absolute = interval(diff, se, critical, sided)
        relative = Estimate(lift, lift_se, *_one_sided(*fieller_interval(c, t, critical), sided))
    return Effect(scale, absolute, relative, statistic, df, p_value(statistic, df, sided), critical)


def cohens_d(c: Summary, t: Summary):
    """Mean difference over the pooled standard deviation."""
    pooled = ((c.n - 1) * c.variance + (t.n - 1) * t.variance) / (c.n + t.n - 2)
    return (t.mean - c.mean) / np.sqrt(pooled)


def fieller_interval(c: Summary, t: Summary, critical) -> tuple:
    """Fieller's interval for t/c - 1; NaN where it is unbounded (c not clearly ≠ 0).

    Solves (t - R·c)² = q²(Var t + R² Var c) for the ratio R of independent means: the ratios
    the Welch test with critical value q does not reject, so it excludes R = 1 exactly when
    that test rejects t - c = 0.
    """
    q2 = critical * critical
    var_c, var_t = c.mean_variance, t.mean_variance
    a = c.mean**2 - q2 * var_c
    root = np.sqrt(q2 * (var_t * c.mean**2 + var_c * t.mean**2 - q2 * var_c * var_t))
    bounded = a > 0
    lower = np.where(bounded, (c.mean * t.mean - root) / a - 1, np.nan)
    upper = np.where(bounded, (c.mean * t.mean + root) / a - 1, np.nan)
    return lower, upper


def mann_whitney(control: tuple[float, ...], treatment: tuple[float, ...], sided: Sided):
    """U of the treatment sample and its p-value (scipy's method choice, ties corrected)."""
    result = dist.stats().mannwhitneyu(treatment, control, alternative=sided)
    return float(result.statistic), float(result.pvalue)
