"""Fixed-horizon tests of treatment - control, absolute and relative.

- Proportions: two-proportion z-test. The test's SE pools both arms (the null says they share
  one rate); the CI's SE does not (statsmodels' ``proportions_ztest`` and ``confint_proportions_
  2indep(method="wald")``). Fisher's exact test replaces the z-test when an expected cell < 5.
- Means and ratios: Welch's t-test with Satterthwaite's degrees of freedom.
- Relative lift (t - c) / c: delta-method SE that carries the control's variance too; the
  interval uses the test's critical value (as GrowthBook does). Fieller's interval on request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.stats import distributions as dist
from common.stats.inputs import Sided
from common.stats.summary import Summary


@dataclass(frozen=True)
class Estimate:
    value: np.ndarray | float
    se: np.ndarray | float
    lower: np.ndarray | float  # -inf / +inf for the open end of a one-sided interval
    upper: np.ndarray | float


@dataclass(frozen=True)
class Effect:
    absolute: Estimate
    relative: Estimate
    statistic: np.ndarray | float
    df: np.ndarray | float  # inf for a z-test
    p_value: np.ndarray | float
    critical: np.ndarray | float  # the quantile the intervals use


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
    """Delta-method SE of (t - c)/c for independent arms, on the unadjusted means."""
    base = c.unadjusted_mean
    return np.sqrt(t.mean_variance / base**2 + c.mean_variance * t.unadjusted_mean**2 / base**4)


def compare(c: Summary, t: Summary, *, alpha: float, sided: Sided, pooled: bool) -> Effect:
    """pooled=True: the two-proportion z-test; False: Welch's t-test."""
    diff = t.mean - c.mean
    se = np.sqrt(c.mean_variance + t.mean_variance)
    if pooled:
        rate = (c.mean * c.n + t.mean * t.n) / (c.n + t.n)
        test_se = np.sqrt(rate * (1 - rate) * (1 / c.n + 1 / t.n))
        df = np.inf
    else:
        test_se = se
        df = welch_df(c.mean_variance, c.n, t.mean_variance, t.n)
    statistic = diff / test_se
    critical = critical_value(df, alpha, sided)
    lift = diff / c.unadjusted_mean
    return Effect(
        absolute=interval(diff, se, critical, sided),
        relative=interval(lift, relative_se(c, t), critical, sided),
        statistic=statistic,
        df=df,
        p_value=p_value(statistic, df, sided),
        critical=critical,
    )


def min_expected_cell(c: Summary, t: Summary):
    """The smallest expected count of the 2x2 table under independence."""
    successes = c.mean * c.n + t.mean * t.n
    total = c.n + t.n
    failures = total - successes
    return np.minimum(c.n, t.n) * np.minimum(successes, failures) / total


def fisher_exact_p(c: Summary, t: Summary, sided: Sided) -> float:
    # Sided names are scipy's alternatives; "greater": the treatment's odds are higher.
    x_c, x_t = round(float(c.mean * c.n)), round(float(t.mean * t.n))
    table = [[x_t, int(t.n) - x_t], [x_c, int(c.n) - x_c]]
    return float(dist.stats().fisher_exact(table, alternative=sided).pvalue)


def cohens_d(c: Summary, t: Summary):
    """Mean difference over the pooled standard deviation."""
    pooled = ((c.n - 1) * c.variance + (t.n - 1) * t.variance) / (c.n + t.n - 2)
    return (t.mean - c.mean) / np.sqrt(pooled)


def fieller_interval(c: Summary, t: Summary, critical) -> tuple:
    """Fieller's interval for t/c - 1; NaN where it is unbounded (c not clearly ≠ 0).

    Solves (t - R·c)² = q²(Var t + R² Var c) for the ratio R of independent means.
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
