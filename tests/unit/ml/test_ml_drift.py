"""The population stability index and its bins, checked against numbers worked out by hand and
against the shares a normal distribution puts in each decile (stdlib NormalDist), never against
the code itself; and the drift gate's levels at its thresholds."""

from __future__ import annotations

import math
from itertools import pairwise
from statistics import NormalDist

import numpy as np
import pytest

from common.ml.drift.psi import decile_edges, numeric_counts, population_stability
from common.ml.drift.reference import reference_document
from common.ml.drift.scoring import calibration_by_decile
from common.ml.encoding import Categorical
from common.ml.features import Feature
from common.pipeline.gates import drift


def test_two_bins_worked_by_hand():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 (ln 2 + ln 1.5)
    #   = 0.25 * (0.693147 + 0.405465) = 0.274653
    assert population_stability([50, 50], [25, 75]) == pytest.approx(0.274653, abs=1e-6)
    assert population_stability([0.5, 0.5], [0.5, 0.5]) == 0.0


def test_an_empty_bin_counts_as_one_in_ten_thousand():
    # reference (0.5, 0.5, 0) against (0.5, 0.4, 0.1): 0 + (-0.1) ln 0.8 + (0.1 - 0.0001) ln 1000
    #   = 0.0223144 + 0.0999 * 6.9077553 = 0.0223144 + 0.6900848 = 0.7123992
    assert population_stability([5, 5, 0], [5, 4, 1]) == pytest.approx(0.7123992, abs=1e-6)
    assert population_stability([5, 5, 0], [5, 5, 0]) == 0.0  # empty on both sides: nothing


@pytest.mark.parametrize("shift", [0.0, 0.25, 0.5, 1.0])
def test_a_shifted_normal_against_its_decile_shares(shift):
    rng = np.random.default_rng(3)
    reference = rng.standard_normal(400_000)
    current = rng.standard_normal(400_000) + shift
    edges = decile_edges(reference)
    computed = population_stability(
        numeric_counts(reference, edges), numeric_counts(current, edges)
    )
    # The same index from the distributions themselves: each decile holds 0.1 of N(0, 1) and
    # Phi(z_k - shift) - Phi(z_(k-1) - shift) of N(shift, 1).
    z = [-math.inf, *(NormalDist().inv_cdf(k / 10) for k in range(1, 10)), math.inf]
    moved = [NormalDist(shift).cdf(b) - NormalDist(shift).cdf(a) for a, b in pairwise(z)]
    expected = sum((c - 0.1) * math.log(c / 0.1) for c in moved)
    assert computed == pytest.approx(expected, abs=0.002 + 0.03 * expected)
    # Binning loses information: never above the continuous index, shift^2 for unit normals.
    assert computed <= shift**2 + 0.002


def test_a_value_on_an_edge_falls_in_the_lower_bin_and_nulls_come_last():
    values = np.array([0, 1, 1, 2, 3, np.nan], dtype=np.float32)
    assert numeric_counts(values, [1.0, 2.0]) == [3, 1, 1, 1]


def test_equal_deciles_merge_into_one_edge():
    mostly_zero = np.array([0.0] * 80 + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 2 + [np.nan] * 5)
    edges = decile_edges(mostly_zero)
    # 100 values, sorted: 80 zeros, then 1, 1, 2, 2, ..., 10, 10. The k-th decile is the
    # (10k)-th value: eight deciles are 0, the ninth is the 90th value, 5.
    assert edges == [0.0, 5.0]
    assert numeric_counts(mostly_zero, edges) == [80, 10, 10, 5]


def test_the_reference_keeps_categories_an_unseen_bin_and_nulls():
    color = Categorical(np.array([0, 0, 1, -1, 2, 0], dtype=np.int32), ("blue", "green", "red"))
    size = np.array([1, 2, 3, 4, 5, 6], dtype=np.float32)
    features = (Feature("color", "categorical", "c"), Feature("size", "numeric", "s"))
    rows = np.array([0, 1, 3, 4])  # green (code 1) is not among the training rows
    document = reference_document(
        features, {"color": color, "size": size}, rows, np.array([0.1, 0.2, 0.3, 0.4])
    )
    assert document["rows"] == 4
    assert document["features"]["color"] == {
        "kind": "categorical",
        "categories": ["blue", "red"],
        "counts": [2, 1, 0, 1],  # blue, red, unseen, null
    }
    assert document["features"]["size"]["counts"][-1] == 0
    assert sum(document["score"]["counts"]) == 4


def test_calibration_by_decile_is_the_mean_of_each_tenth():
    rng = np.random.default_rng(5)
    scores = rng.random(1003)
    labels = (rng.random(1003) < scores).astype(np.int8)
    deciles = calibration_by_decile(scores, labels)
    ranked = sorted(zip(scores.tolist(), labels.tolist(), strict=True))
    sizes = [101, 101, 101, 100, 100, 100, 100, 100, 100, 100]  # 1003 rows: 3 of 101, 7 of 100
    start = 0
    for decile, size in zip(deciles, sizes, strict=True):
        group = ranked[start : start + size]
        start += size
        assert decile["rows"] == size
        assert decile["mean_score"] == pytest.approx(sum(s for s, _ in group) / size, abs=1e-6)
        assert decile["observed_rate"] == pytest.approx(sum(y for _, y in group) / size, abs=1e-6)


def measured(**psi: float) -> dict:
    return {
        "measured": True,
        "model_version": "v1",
        "snapshot": "2026-10-12",
        "psi": {"age": 0.01, **{k: v for k, v in psi.items() if k != "score"}},
        "score": {"psi": psi.get("score", 0.0), "rows": 100},
    }


@pytest.mark.parametrize(
    ("psi", "level", "passed"),
    [
        ({}, "ok", True),
        ({"monetary": 0.0999}, "ok", True),
        ({"monetary": 0.1}, "warn", True),
        ({"score": 0.2499}, "warn", True),
        ({"score": 0.25}, "block", False),
        ({"monetary": 0.3, "country": 0.12}, "block", False),
    ],
)
def test_the_gate_warns_at_its_warning_level_and_fails_at_its_blocking_level(psi, level, passed):
    judged = drift(measured(**psi), 0.1, 0.25)
    assert judged.numbers["level"] == level and judged.passed is passed
    if level == "block":
        worst = max(psi, key=psi.get)
        assert judged.message.startswith(f"{worst} PSI {psi[worst]:.3f} at or above the blocking")


def test_the_gate_passes_what_it_could_not_measure_and_says_why():
    judged = drift({"measured": False, "reason": "no champion yet"}, 0.1, 0.25)
    assert judged.passed and judged.message == "not measured: no champion yet"
