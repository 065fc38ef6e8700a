"""Bayesian read-out against gbstats' golden values, numerical integration and conjugacy."""

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from common.stats.analyze import compare_arms
from common.stats.bayesian import posterior
from common.stats.inputs import BayesianOptions, Moments, Options

FLAT = BayesianOptions()


def rounded(*values):
    return tuple(float(np.round(v, 5)) for v in values)


@pytest.mark.parametrize(
    ("kind", "control", "treatment", "expected"),
    [
        # growthbook/growthbook packages/stats/tests/bayesian/test_tests.py (GaussianEffectABTest
        # version), TestBinom.test_bayesian_binomial_ab_test: expected 0.04082, ci (-0.24779,
        # 0.32943), sd 0.14725, chance_to_win 0.60918, risk (0.0814, 0.04058)
        (
            "proportion",
            Moments(100, 49),
            Moments(100, 51),
            (0.04082, -0.24779, 0.32943, 0.14725, 0.60918, 0.0814, 0.04058),
        ),
        # ... TestNorm.test_bayesian_gaussian_ab_test: 0.05, ci (-0.02, 0.12), sd 0.03572,
        # chance_to_win 0.91923, risk (0.05131, 0.00131)
        (
            "mean",
            Moments(10, 100, 1002.25),
            Moments(10, 105, 1111.5),
            (0.05, -0.02, 0.12, 0.03572, 0.91923, 0.05131, 0.00131),
        ),
    ],
)
def test_gbstats_effect_model_goldens(kind, control, treatment, expected):
    post = compare_arms(kind, control, treatment, Options()).posterior
    # gbstats' risk is [loss of keeping control, loss of shipping the treatment].
    got = (
        post.mean,
        post.lower,
        post.upper,
        post.sd,
        post.chance_to_beat_control,
        post.expected_loss_control,
        post.expected_loss,
    )
    assert rounded(*got) == expected


@pytest.mark.parametrize(("mu", "sd"), [(0.03, 0.02), (-0.01, 0.05), (0.0, 0.1)])
def test_closed_forms_match_numerical_integration(mu, sd):
    post = posterior(mu, sd, prior=FLAT, alpha=0.05, higher_is_better=True)
    density = norm(mu, sd).pdf
    loss_shipping = integrate.quad(lambda x: -x * density(x), -np.inf, 0)[0]
    loss_control = integrate.quad(lambda x: x * density(x), 0, np.inf)[0]
    assert post.chance_to_beat_control == pytest.approx(norm(mu, sd).sf(0), abs=1e-12)
    assert post.expected_loss == pytest.approx(loss_shipping, abs=1e-9)
    assert post.expected_loss_control == pytest.approx(loss_control, abs=1e-9)
    assert (post.lower, post.upper) == pytest.approx(norm(mu, sd).ppf([0.025, 0.975]), abs=1e-12)


def test_lower_is_better_metrics_mirror_chance_and_losses():
    up = posterior(0.02, 0.03, prior=FLAT, alpha=0.05, higher_is_better=True)
    down = posterior(0.02, 0.03, prior=FLAT, alpha=0.05, higher_is_better=False)
    assert down.chance_to_beat_control == pytest.approx(1 - up.chance_to_beat_control)
    assert down.expected_loss == pytest.approx(up.expected_loss_control)


def test_gaussian_prior_gives_the_conjugate_posterior():
    lift, se, m0, s0 = 0.06, 0.04, 0.0, 0.05
    post = posterior(lift, se, prior=BayesianOptions(m0, s0), alpha=0.05, higher_is_better=True)
    precision = 1 / se**2 + 1 / s0**2
    assert post.sd == pytest.approx(precision**-0.5)
    assert post.mean == pytest.approx((lift / se**2 + m0 / s0**2) / precision)
    assert 0 < post.mean < lift  # shrunk towards the prior mean
