"""A/B/n analysis end to end: Spotify's multi-arm golden values, and the vectorised kernel
agreeing with one-at-a-time analyses."""

import numpy as np
import pytest

from common.stats.analyze import analyze, compare_arms
from common.stats.inputs import (
    BayesianOptions,
    Experiment,
    Metric,
    Moments,
    Options,
    SequentialOptions,
    Variant,
)


def test_spotify_multiple_difference_golden():
    # spotify/confidence tests/frequentist/test_chisquared.py,
    # TestCategorical.test_multiple_difference: every group against ('us', 'control') 42/104,
    # Bonferroni over the 5 comparisons (np.allclose there).
    arms = {"us control": (104, 42), "gb control": (100, 40), "gb test": (100, 50)}
    arms |= {"gb test2": (150, 100), "us test": (1009, 500), "us test2": (1502, 1005)}
    variants = tuple(Variant(k, {"conversion": Moments(*v)}) for k, v in arms.items())
    weights = tuple(n / sum(n for n, _ in arms.values()) for n, _ in arms.values())
    experiment = Experiment(
        variants,
        (Metric("conversion", "proportion"),),
        Options(correction="bonferroni", weights=weights, scale="absolute"),
    )
    analysis = analyze(experiment)
    p = [c.p_value for c in analysis.comparisons]
    adjusted = [c.p_value_adjusted for c in analysis.comparisons]
    assert np.allclose(
        p, [9.553332e-01, 1.67668440e-01, 3.34742700e-05, 7.48661891e-02, 3.97715314e-08]
    )
    assert np.allclose(
        adjusted, [1.0, 8.38342202e-01, 1.67371350e-04, 3.74330946e-01, 1.98857657e-07]
    )
    assert analysis.srm.passed and analysis.srm.df == 5


def row(m: Moments, i: int) -> Moments:
    return Moments(*(None if v is None else float(v[i]) for v in m.__dict__.values()))


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_vectorised_kernel_equals_one_at_a_time_analysis(kind):
    rng = np.random.default_rng(17)
    size = 200
    n_c, n_t = (
        rng.integers(200, 5000, size).astype(float),
        rng.integers(200, 5000, size).astype(float),
    )
    if kind == "proportion":
        s_c, s_t = rng.binomial(n_c.astype(int), 0.1), rng.binomial(n_t.astype(int), 0.11)
        control, treatment = Moments(n_c, s_c.astype(float)), Moments(n_t, s_t.astype(float))
    else:
        s_c, s_t = n_c * rng.normal(10, 1, size), n_t * rng.normal(10.3, 1, size)
        control = Moments(n_c, s_c, s_c**2 / n_c + 30 * (n_c - 1))
        treatment = Moments(n_t, s_t, s_t**2 / n_t + 35 * (n_t - 1))
    options = Options(sequential=SequentialOptions(2000), bayesian=BayesianOptions(0, 0.2))
    vector = compare_arms(kind, control, treatment, options)
    for i in range(0, size, 37):
        experiment = Experiment(
            (Variant("c", {"m": row(control, i)}), Variant("t", {"m": row(treatment, i)})),
            (Metric("m", kind, "primary"),),
            options,
        )
        one = analyze(experiment).comparisons[0]
        assert one.p_value == pytest.approx(vector.effect.p_value[i], rel=1e-12)
        assert one.relative.ci == pytest.approx(
            (vector.effect.relative.lower[i], vector.effect.relative.upper[i]), rel=1e-12
        )
        assert one.bayesian.chance_to_beat_control == pytest.approx(
            vector.posterior.chance_to_beat_control[i], rel=1e-12
        )
