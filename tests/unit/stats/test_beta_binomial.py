"""Beta-binomial read-out against numerical integration of the Beta posteriors (scipy)."""

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import beta

from common.stats.beta_binomial import DRAWS, beta_binomial, summarize_draws, tail_draws

ALPHA = 0.05
CASES = [(100, 1000, 120, 1000), (30, 5000, 22, 4800), (480, 1000, 500, 1000), (0, 800, 3, 800)]


def posteriors(x_c, n_c, x_t, n_t):
    """Jeffreys' prior Beta(1/2, 1/2) updated by each arm's conversions."""
    return beta(x_c + 0.5, n_c - x_c + 0.5), beta(x_t + 0.5, n_t - x_t + 0.5)


def integral(f):
    return integrate.quad(f, 0, 1, limit=400, epsabs=1e-12, epsrel=1e-10)[0]


def mc_tolerance(share):
    """Four Monte Carlo standard errors of a share estimated from DRAWS draws."""
    return 4 * np.sqrt(share * (1 - share) / DRAWS) + 1e-6


@pytest.mark.parametrize("case", CASES)
def test_chance_to_beat_matches_the_integral(case):
    control, treatment = posteriors(*case)
    # P(p_t > p_c) = ∫ f_c(p) (1 - F_t(p)) dp
    exact = integral(lambda p: control.pdf(p) * treatment.sf(p))
    up = beta_binomial(*case, alpha=ALPHA)
    down = beta_binomial(*case, alpha=ALPHA, higher_is_better=False)
    assert up.chance_to_beat_control == pytest.approx(exact, abs=mc_tolerance(exact))
    assert down.chance_to_beat_control == pytest.approx(1 - exact, abs=mc_tolerance(exact))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_interval_ends_have_alpha_over_2_in_each_tail(case, scale):
    control, treatment = posteriors(*case)
    r = beta_binomial(*case, alpha=ALPHA, scale=scale)

    def share_below(lift):  # P(lift <= L) = ∫ f_c(p) F_t(p + L) dp, or F_t(p (1 + L))
        shift = (lambda p: p + lift) if scale == "absolute" else (lambda p: p * (1 + lift))
        return integral(lambda p: control.pdf(p) * treatment.cdf(shift(p)))

    assert share_below(r.lower) == pytest.approx(ALPHA / 2, abs=mc_tolerance(ALPHA / 2))
    assert 1 - share_below(r.upper) == pytest.approx(ALPHA / 2, abs=mc_tolerance(ALPHA / 2))


@pytest.mark.parametrize("case", CASES)
def test_absolute_expected_losses_match_the_integrals(case):
    control, treatment = posteriors(*case)
    a_t, b_t = treatment.args
    mean_t = a_t / (a_t + b_t)
    above = beta(a_t + 1, b_t)  # ∫_0^p q f_t(q) dq = E[p_t] F_{Beta(a+1, b)}(p)
    # E[max(p_c - p_t, 0)] = ∫ f_c(p) (p F_t(p) - E[p_t] F_above(p)) dp
    loss = integral(lambda p: control.pdf(p) * (p * treatment.cdf(p) - mean_t * above.cdf(p)))
    difference = treatment.mean() - control.mean()
    # E[max(-d, 0)] - E[max(d, 0)] = -E[d]
    loss_control = loss + difference
    # Monte Carlo error: the losses' SD is at most the lift's root mean square.
    rms = np.sqrt(control.var() + treatment.var() + difference**2)
    r = beta_binomial(*case, alpha=ALPHA, scale="absolute")
    assert r.expected_loss == pytest.approx(loss, abs=4 * rms / np.sqrt(DRAWS))
    assert r.expected_loss_control == pytest.approx(loss_control, abs=4 * rms / np.sqrt(DRAWS))
    assert r.mean == pytest.approx(difference, abs=4 * rms / np.sqrt(DRAWS))
    swapped = beta_binomial(*case, alpha=ALPHA, scale="absolute", higher_is_better=False)
    assert (swapped.expected_loss, swapped.expected_loss_control) == (
        r.expected_loss_control,
        r.expected_loss,
    )


def test_same_input_same_answer():
    assert beta_binomial(*CASES[0], alpha=ALPHA) == beta_binomial(*CASES[0], alpha=ALPHA)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01, 0.003])
@pytest.mark.parametrize("higher_is_better", [True, False])
def test_chance_and_interval_agree_at_the_boundary(alpha, higher_is_better):
    # Draws built with exactly k and k + 1 on the worse side of 0, k the boundary count.
    k = tail_draws(alpha)
    sign = 1 if higher_is_better else -1
    for worse in (k - 1, k, k + 1, k + 2):
        gain = np.concatenate([-np.arange(1.0, worse + 1), np.arange(1.0, DRAWS - worse + 1)])
        r = summarize_draws(
            sign * gain, scale="absolute", alpha=alpha, higher_is_better=higher_is_better
        )
        reaches = r.chance_to_beat_control >= 1 - alpha / 2
        excludes = r.lower > 0 if higher_is_better else r.upper < 0
        assert reaches == excludes == (worse <= k)


def test_chance_and_interval_agree_on_a_sweep():
    for x_t in range(80, 160, 3):
        for higher_is_better in (True, False):
            r = beta_binomial(100, 1000, x_t, 1000, alpha=ALPHA, higher_is_better=higher_is_better)
            reaches = r.chance_to_beat_control >= 1 - ALPHA / 2
            assert reaches == (r.lower > 0 if higher_is_better else r.upper < 0)
