"""Degenerate input gives defined, JSON-safe results with a message: never NaN, inf or raise."""

import json
from dataclasses import asdict

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

EVERYTHING = Options(mde=0.05, bayesian=BayesianOptions(0.0, 0.1))
ABSOLUTE = Options(scale="absolute", mde=0.05, bayesian=BayesianOptions(0.0, 0.1))
SEQUENTIAL = Options(sequential=SequentialOptions(), bayesian=BayesianOptions())
SEQUENTIAL_ABSOLUTE = Options(scale="absolute", sequential=SequentialOptions())

CASES = {
    "0/0 in the control": ("proportion", Moments(0, 0), Moments(100, 10), "no units"),
    "both rates 0%": ("proportion", Moments(500, 0), Moments(500, 0), "control mean is 0"),
    "both rates 100%": ("proportion", Moments(500, 500), Moments(400, 400), "no variation"),
    "control rate 0%": ("proportion", Moments(100, 0), Moments(100, 9), "control mean is 0"),
    "one unit per arm": ("mean", Moments(1, 5.0, 25.0), Moments(1, 7.0, 49.0), "at least 2 units"),
    "zero variance": ("mean", Moments(10, 50.0, 250.0), Moments(12, 72.0, 432.0), "no variation"),
    "zero control mean": ("mean", Moments(10, 0.0, 4.0), Moments(10, 3.0, 9.0), "mean is 0"),
    "empty arms": ("mean", Moments(0, 0.0, 0.0), Moments(0, 0.0, 0.0), "no units"),
    "zero denominators": (
        "ratio",
        Moments(5, 0.0, 0.0, denominator_sum=0.0, denominator_sum_squares=0.0,
                numerator_denominator_sum=0.0),
        Moments(5, 1.0, 1.0, denominator_sum=0.0, denominator_sum_squares=0.0,
                numerator_denominator_sum=0.0),
        "denominator sums to 0",
    ),
    "covariate without variance": (
        "mean",
        Moments(10, 20.0, 50.0, covariate_sum=10.0, covariate_sum_squares=10.0,
                cross_product_sum=20.0),
        Moments(10, 25.0, 70.0, covariate_sum=10.0, covariate_sum_squares=10.0,
                cross_product_sum=25.0),
        "CUPED skipped",
    ),
    "identical raw values": (
        "mean", Moments(3, 3.0, 3.0, values=(1.0, 1.0, 1.0)),
        Moments(2, 2.0, 2.0, values=(1.0, 1.0)), "no variation",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    "options",
    [EVERYTHING, ABSOLUTE, SEQUENTIAL, SEQUENTIAL_ABSOLUTE],
    ids=["fixed", "fixed-absolute", "sequential", "sequential-absolute"],
)
@pytest.mark.parametrize("case", CASES)
def test_degenerate_input_is_defined_and_explained(case, options):
    kind, control, treatment, message = CASES[case]
    experiment = Experiment(
        (Variant("control", {"m": control}), Variant("treatment", {"m": treatment})),
        (Metric("m", kind, "primary"),),
        options,
    )
    with np.errstate(all="raise"):  # nothing may even warn outside the engine's own guard
        analysis = analyze(experiment)
    json.dumps(asdict(analysis), allow_nan=False)  # raises on NaN or infinity
    c = analysis.comparisons[0]
    assert any(message in m for m in c.messages), c.messages
    assert 0.0 <= c.p_value <= 1.0
    if c.statistic is None:  # no test: never significant
        assert (c.p_value, c.significant) == (1.0, False)
    assert analysis.decision.summary


def test_vectorised_kernel_marks_undefined_rows_with_nan_and_keeps_the_rest():
    n = np.array([1000.0, 0.0, 500.0])
    control = Moments(n, np.array([100.0, 0.0, 0.0]))
    treatment = Moments(np.array([1000.0, 10.0, 500.0]), np.array([130.0, 1.0, 0.0]))
    effect = compare_arms("proportion", control, treatment, Options(scale="absolute")).effect
    assert np.isfinite(effect.p_value[0]) and effect.p_value[0] < 0.05
    assert np.isnan(effect.absolute.value[1])  # no units in the control
    assert np.isnan(effect.p_value[2])  # no variation at all
