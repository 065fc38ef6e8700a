"""The covariate-adjusted average effect of the treatment, on the difference scale.

Conversion: a logistic regression of converted on the arm and the covariates. Its coefficient
is a conditional log odds ratio, which is not comparable with the A/B engine's difference in
rates, so the reported effect is the average predicted difference (everyone treated minus
everyone in control, averaged over the users; statsmodels' ``get_margeff(dummy=True)``), with
a delta-method standard error from the robust (HC0 sandwich) covariance; the odds ratio comes
alongside. Revenue per user: ordinary least squares with HC1 robust standard errors (revenue is
heavy-tailed and its variance differs by arm). Intervals are normal (z) ones, as statsmodels'
with a robust covariance.

Randomisation makes both unbiased for the same average effect as the unadjusted difference;
the covariates only remove noise, so the adjusted interval should be the narrower one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import Unprocessable
from common.ml.effects.design import Design
from common.stats import distributions as dist

MAX_ITERATIONS = 50
TOLERANCE = 1e-10


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float
    lower: float
    upper: float
    p_value: float

    @classmethod
    def normal(cls, value: float, se: float, alpha: float) -> Estimate:
        z = float(dist.norm_ppf(1 - alpha / 2))
        p = float(2 * dist.norm_cdf(-abs(value / se))) if se > 0 else 1.0
        return cls(float(value), float(se), float(value - z * se), float(value + z * se), p)

    def as_dict(self) -> dict[str, float]:
        return {
            "estimate": self.value,
            "se": self.se,
            "ci": [self.lower, self.upper],
            "p_value": self.p_value,
        }


@dataclass(frozen=True)
class Logistic:
    coefficients: np.ndarray
    covariance: np.ndarray  # HC0 sandwich


def fit_logistic(x: np.ndarray, y: np.ndarray) -> Logistic:
    """Maximum likelihood by Newton-Raphson (IRLS), with the robust covariance."""
    beta = np.zeros(x.shape[1])
    for _ in range(MAX_ITERATIONS):
        p = _sigmoid(x @ beta)
        hessian = (x * (p * (1 - p))[:, None]).T @ x
        step = _solve(hessian, x.T @ (y - p))
        beta += step
        if np.max(np.abs(step)) < TOLERANCE * (1 + np.max(np.abs(beta))):
            break
    else:
        raise Unprocessable(
            "the logistic regression did not converge (a segment without conversions?)",
            field="features",
        )
    p = _sigmoid(x @ beta)
    bread = np.linalg.inv((x * (p * (1 - p))[:, None]).T @ x)
    meat = (x * ((y - p) ** 2)[:, None]).T @ x
    return Logistic(beta, bread @ meat @ bread)


def conversion_effect(d: Design, y: np.ndarray, alpha: float) -> dict:
    model = fit_logistic(d.matrix, y)
    treated, control = d.with_arm(1.0), d.with_arm(0.0)
    p1, p0 = _sigmoid(treated @ model.coefficients), _sigmoid(control @ model.coefficients)
    # d/d beta of mean(p1 - p0): the delta method's gradient
    gradient = ((p1 * (1 - p1))[:, None] * treated - (p0 * (1 - p0))[:, None] * control).mean(0)
    se = float(np.sqrt(gradient @ model.covariance @ gradient))
    log_odds = Estimate.normal(
        model.coefficients[d.TREATED], np.sqrt(model.covariance[d.TREATED, d.TREATED]), alpha
    )
    return {
        "method": "logistic_regression_average_difference_hc0",
        "absolute": Estimate.normal(float(np.mean(p1 - p0)), se, alpha).as_dict(),
        "odds_ratio": {
            "estimate": float(np.exp(log_odds.value)),
            "ci": [float(np.exp(log_odds.lower)), float(np.exp(log_odds.upper))],
            "p_value": log_odds.p_value,
        },
    }


def revenue_effect(d: Design, y: np.ndarray, alpha: float) -> dict:
    x = d.matrix
    n, k = x.shape
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ (x.T @ y)
    residuals = y - x @ beta
    meat = (x * (residuals**2)[:, None]).T @ x
    covariance = bread @ meat @ bread * (n / (n - k))  # HC1
    se = float(np.sqrt(covariance[d.TREATED, d.TREATED]))
    return {
        "method": "linear_regression_hc1",
        "absolute": Estimate.normal(float(beta[d.TREATED]), se, alpha).as_dict(),
    }


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))  # no overflow warnings for large |z|


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError as error:
        raise Unprocessable(
            "the regressors are collinear; choose fewer features", field="features"
        ) from error
