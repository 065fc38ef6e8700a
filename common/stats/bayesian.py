"""Bayesian read-out on the relative lift, in closed form.

The lift's likelihood is Gaussian (its delta-method estimate and SE); with a Gaussian prior (or
a flat one) the posterior N(μ, s²) is Gaussian too, and everything below is a normal integral:

    chance to beat control  P(lift is better than 0)
    expected loss           E[max(-lift, 0)] = sφ(μ/s) - μΦ(-μ/s): what shipping gives up
                            if the treatment is in fact worse (the control's loss mirrors it)
    credible interval       μ ± Φ⁻¹(1 - alpha/2)·s

This is GrowthBook's effect model (EffectBayesianABTest); "better" follows the metric's
direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.stats import distributions as dist
from common.stats.inputs import BayesianOptions

_SQRT_2PI = np.sqrt(2 * np.pi)


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray | float
    sd: np.ndarray | float
    chance_to_beat_control: np.ndarray | float
    expected_loss: np.ndarray | float  # of shipping the treatment
    expected_loss_control: np.ndarray | float  # of keeping the control
    lower: np.ndarray | float
    upper: np.ndarray | float


def _positive_part_mean(mu, sigma):
    """E[max(X, 0)] for X ~ N(mu, sigma²)."""
    z = mu / sigma
    return sigma * np.exp(-0.5 * z * z) / _SQRT_2PI + mu * dist.norm_cdf(z)


def posterior(
    lift, se, *, prior: BayesianOptions, alpha: float, higher_is_better: bool
) -> Posterior:
    if prior.prior_sd is None:
        mean, sd = lift, se
    else:
        precision = 1 / se**2 + 1 / prior.prior_sd**2
        mean = (lift / se**2 + prior.prior_mean / prior.prior_sd**2) / precision
        sd = 1 / np.sqrt(precision)
    # Orient so that "gain" > 0 is an improvement whatever the metric's direction.
    gain = mean if higher_is_better else -mean
    half = dist.norm_ppf(1 - alpha / 2) * sd
    return Posterior(
        mean=mean,
        sd=sd,
        chance_to_beat_control=dist.norm_cdf(gain / sd),
        expected_loss=_positive_part_mean(-gain, sd),
        expected_loss_control=_positive_part_mean(gain, sd),
        lower=mean - half,
        upper=mean + half,
    )
