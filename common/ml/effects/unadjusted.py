"""The A/B engine's unadjusted result from the same users: treatment - control on the absolute
scale without CUPED (the pooled two-proportion z-test with its score interval for conversion,
Welch's t-test for revenue per user), the comparison the adjusted effect stands next to."""

from __future__ import annotations

import numpy as np

from common.stats.analyze import compare_arms
from common.stats.inputs import Moments, Options

_OPTIONS = dict(scale="absolute", cuped=False, bayesian=None, correction="none")


def arm_moments(y: np.ndarray) -> Moments:
    return Moments(float(y.size), float(y.sum()), float(np.square(y).sum()))


def unadjusted_effect(target: str, treated: np.ndarray, y: np.ndarray, alpha: float) -> dict:
    kind = "proportion" if target == "conversion" else "mean"
    control, treatment = arm_moments(y[~treated]), arm_moments(y[treated])
    effect = compare_arms(kind, control, treatment, Options(alpha=alpha, **_OPTIONS)).effect
    absolute = effect.absolute
    return {
        "method": "two_proportion_z" if kind == "proportion" else "welch_t",
        "control_mean": control.sum / control.n,
        "treatment_mean": treatment.sum / treatment.n,
        "absolute": {
            "estimate": float(absolute.value),
            "se": float(absolute.se),
            "ci": [float(absolute.lower), float(absolute.upper)],
            "p_value": float(effect.p_value),
        },
    }
