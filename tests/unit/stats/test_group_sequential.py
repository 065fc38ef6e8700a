"""Group-sequential boundaries against rpact's published values, scipy and Monte Carlo."""

import time

import numpy as np
import pytest
from scipy import stats

from common.stats import group_sequential as gs
from common.validation import InvalidInput

# rpact-com/rpact tests/testthat/test-f_design_group_sequential.R at b101e4b (2024-10-16),
# getDesignGroupSequential(...)$criticalValues, printed to 8 significant digits. Futility bounds
# there are non-binding, so the efficacy bounds are those of alpha spending alone. rpact's asOF,
# asP and asKD (gammaA) are the O'Brien-Fleming, Pocock and power spendings here.
RPACT = [
    # x7e: kMax 3, alpha 0.09, sided 2, asOF, informationRates (0.4, 0.65, 1)
    (
        gs.Design((0.4, 0.65, 1), 0.09, "two-sided", "obrien_fleming"),
        (2.9623919, 2.2442359, 1.7391729),
    ),
    # x7a: kMax 3 and 4, alpha 0.13, sided 1, asOF
    (
        gs.Design((0.4, 0.75, 1), 0.13, "greater", "obrien_fleming"),
        (2.1280732, 1.4368565, 1.2468994),
    ),
    (
        gs.Design((0.4, 0.75, 0.85, 1), 0.13, "greater", "obrien_fleming"),
        (2.1280732, 1.4368565, 1.422873, 1.2970881),
    ),
    # x6a: kMax 3, alpha 0.13, sided 1, asP, informationRates (0.35, 0.7, 1)
    (gs.Design((0.35, 0.7, 1), 0.13, "greater", "pocock"), (1.5446617, 1.4828682, 1.4620058)),
    # x6b: alpha 0.025, asP, informationRates (0.4, 0.7): the looks so far of a longer design
    (gs.Design((0.4, 0.7), 0.025, "greater", "pocock"), (2.223875, 2.3050796)),
    # x3 (getDesignInverseNormal, same bounds): alpha 0.03, sided 1, asKD gammaA 2.2
    (gs.Design((0.3, 0.7, 1), 0.03, "greater", "power", 2.2), (2.8594012, 2.2435708, 1.9735737)),
]


@pytest.mark.parametrize(("design", "expected"), RPACT)
def test_boundaries_match_rpact(design, expected):
    # 8 significant digits printed; rpact integrates to about 1e-7 itself.
    assert gs.boundaries(design).z == pytest.approx(expected, abs=1e-6)


def test_five_equally_spaced_looks_two_sided_alpha_005():
    # The textbook Lan-DeMets values (gsDesign test.type = 2, ldbounds, rpact sided = 2); checked
    # here against rpact's spending (the first bound is closed form: alpha_1 = 4·Φ(-z_(1-a/4)/√t)).
    looks = (0.2, 0.4, 0.6, 0.8, 1.0)
    obf = gs.boundaries(gs.Design(looks, 0.05, "two-sided", "obrien_fleming"))
    assert obf.z == pytest.approx((4.877, 3.357, 2.680, 2.290, 2.031), abs=6e-4)
    pocock = gs.boundaries(gs.Design(looks, 0.05, "two-sided", "pocock"))
    assert pocock.z == pytest.approx((2.438, 2.427, 2.410, 2.397, 2.386), abs=6e-4)
    assert obf.alpha_spent[-1] == pytest.approx(0.05, abs=1e-15)


def test_crossing_probabilities_equal_the_spent_alpha_by_scipy_multivariate_normal():
    # Independent of the recursion: the joint normal with corr √(t_i/t_j) (Genz's algorithm in
    # scipy at 1e-8 requested accuracy; they agree to ~1e-7), unequal looks and a 0.01 step.
    looks = (0.15, 0.16, 0.5, 0.8, 1.0)
    t = np.array(looks)
    corr = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    for sided in ("two-sided", "greater"):
        b = gs.boundaries(gs.Design(looks, 0.05, sided, "pocock"))
        c = np.array(b.z)
        lower = -c if sided == "two-sided" else np.full(len(c), -np.inf)
        for k in range(1, len(c) + 1):
            still_in = stats.multivariate_normal(
                cov=corr[:k, :k], abseps=1e-8, releps=1e-8, maxpts=200_000 * k, seed=1
            ).cdf(c[:k], lower_limit=lower[:k])
            assert 1 - still_in == pytest.approx(b.alpha_spent[k - 1], abs=1e-6)


def test_monte_carlo_type_one_error_equals_spent_alpha():
    # Brownian motion under H0 (seeded): the share of paths crossing by each look equals the
    # cumulative spent alpha, within 4 Monte Carlo SEs.
    rng = np.random.default_rng(7)
    paths = 200_000
    for design in (
        gs.Design((0.2, 0.4, 0.6, 0.8, 1.0), 0.05, "two-sided", "obrien_fleming"),
        gs.Design((0.1, 0.3, 0.45, 1.0), 0.05, "greater", "power", 3.0),
        gs.Design((0.25, 0.5, 0.75, 1.0), 0.05, "less", "pocock"),
    ):
        b = gs.boundaries(design)
        t = np.array(b.information_fractions)
        increments = rng.normal(size=(paths, len(t))) * np.sqrt(np.diff(t, prepend=0))
        z = np.cumsum(increments, axis=1) / np.sqrt(t)
        c = np.array(b.z)
        if design.sided == "two-sided":
            crossing = np.abs(z) >= c
        elif design.sided == "greater":
            crossing = z >= c
        else:
            crossing = z <= -c
        crossed_by = np.logical_or.accumulate(crossing, axis=1).mean(axis=0)
        se = np.sqrt(0.05 * 0.95 / paths)
        assert crossed_by == pytest.approx(b.alpha_spent, abs=4 * se)


def test_spending_functions_match_their_formulas_from_scipy():
    z = stats.norm.ppf(1 - 0.025 / 2)
    assert gs.spent("obrien_fleming", 0.025, 0.3) == pytest.approx(
        2 * stats.norm.sf(z / np.sqrt(0.3))
    )
    assert gs.spent("pocock", 0.05, 0.5) == pytest.approx(0.05 * np.log(1 + (np.e - 1) * 0.5))
    assert gs.spent("power", 0.05, 0.5, 2.0) == pytest.approx(0.0125)
    for spending in gs.SPENDINGS:
        assert gs.spent(spending, 0.05, 1.0) == pytest.approx(0.05)


def test_analysis_at_a_look_reports_boundary_crossing_and_repeated_interval():
    design = gs.Design((0.2, 0.4, 0.6), 0.05, "two-sided", "obrien_fleming")
    c = gs.boundaries(design).z[-1]  # 2.680, the third of the five-look design
    result = gs.analyze_look(design, estimate=0.27, se=0.1)
    assert (result.look, result.boundary, result.z) == (3, c, pytest.approx(2.7))
    assert result.crossed
    assert result.ci == pytest.approx((0.27 - c * 0.1, 0.27 + c * 0.1))
    assert result.nominal_alpha == pytest.approx(2 * stats.norm.sf(c))
    assert result.alpha_spent == pytest.approx(
        4 * stats.norm.sf(stats.norm.ppf(1 - 0.0125) / np.sqrt(0.6))
    )
    assert not gs.analyze_look(design, estimate=0.26, se=0.1).crossed
    # One-sided: the open end is infinite, and only the tested direction crosses.
    greater = gs.Design((0.5, 1.0), 0.025, "greater", "pocock")
    up = gs.analyze_look(greater, estimate=3.0, se=1.0)
    assert up.crossed and up.ci[1] == np.inf
    assert not gs.analyze_look(greater, estimate=-3.0, se=1.0).crossed
    less = gs.Design((0.5, 1.0), 0.025, "less", "pocock")
    down = gs.analyze_look(less, estimate=-3.0, se=1.0)
    assert down.crossed and down.ci[0] == -np.inf and down.ci[1] == pytest.approx(-3 + up.boundary)


@pytest.mark.parametrize(
    ("design", "field"),
    [
        (gs.Design(()), "information_fractions"),
        (gs.Design(tuple((i + 1) / 21 for i in range(21))), "information_fractions"),
        (gs.Design((0.5, 0.4, 1.0)), "information_fractions"),
        (gs.Design((0.5, 0.505, 1.0)), "information_fractions"),
        (gs.Design((0.5, 1.2)), "information_fractions"),
        (gs.Design((0.0, 1.0)), "information_fractions"),
        (gs.Design((1.0,), alpha=0.5), "alpha"),
        (gs.Design((1.0,), spending="power", rho=0.0), "rho"),
    ],
)
def test_invalid_designs_name_the_field(design, field):
    with pytest.raises(InvalidInput) as error:
        gs.boundaries(design)
    assert error.value.field == field


def test_analysis_needs_a_positive_se():
    with pytest.raises(InvalidInput) as error:
        gs.analyze_look(gs.Design((1.0,)), estimate=1.0, se=0.0)
    assert error.value.field == "se"


def test_twenty_looks_take_well_under_a_second():
    gs.boundaries(gs.Design((0.5, 1.0)))  # loads scipy.special: a one-off cost of the process
    for looks in (
        tuple((i + 1) / 20 for i in range(20)),
        tuple(round(0.01 * (i + 1), 2) for i in range(20)),  # the narrowest steps allowed
        (0.01, *(round(0.81 + 0.01 * i, 2) for i in range(19))),
    ):
        for sided in ("two-sided", "greater"):
            for spending in gs.SPENDINGS:
                start = time.perf_counter()
                gs.analyze_look(gs.Design(looks, 0.05, sided, spending), 1.0, 1.0)
                assert time.perf_counter() - start < 0.5
