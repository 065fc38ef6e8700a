"""Fisher's exact test against R's fisher.test outputs, scipy, and exact rational arithmetic."""

import time
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from scipy.stats import fisher_exact as scipy_fisher_exact
from scipy.stats.contingency import odds_ratio

from common.stats.fisher import MAX_SUPPORT, fisher_exact


def test_r_tea_tasting():
    # R's ?fisher.test, TeaTasting = matrix(c(3, 1, 1, 3), 2): alternative = "greater" gives
    # p-value = 0.2429, odds ratio 6.408309; two-sided 0.4857 (34/70). Rows: the two arms.
    r = fisher_exact(control_successes=1, control_n=4, treatment_successes=3, treatment_n=4)
    assert r.p_greater == pytest.approx(17 / 70, rel=1e-12)
    assert round(r.p_greater, 4) == 0.2429
    assert r.p_value == pytest.approx(34 / 70, rel=1e-12)
    assert r.p_less == pytest.approx(69 / 70, rel=1e-12)
    # R solves with uniroot's default tolerance (about 1e-4), so 6.408309 holds to ~5 digits.
    assert r.conditional_odds_ratio == pytest.approx(6.408309, rel=1e-4)
    assert r.odds_ratio == 9.0
    assert r.skipped is None


def test_r_convictions_of_twins():
    # R's ?fisher.test, Convictions = matrix(c(2, 10, 15, 3), 2): dizygotic 2 of 17 convicted,
    # monozygotic 10 of 13; alternative = "less" gives p-value = 0.0004652, odds ratio 0.04693661.
    r = fisher_exact(control_successes=10, control_n=13, treatment_successes=2, treatment_n=17)
    assert round(r.p_less, 7) == 0.0004652
    assert r.p("less") == r.p_less
    assert r.conditional_odds_ratio == pytest.approx(0.04693661, rel=1e-4)


def test_matches_scipy_on_random_small_tables():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n_c, n_t = (int(v) for v in rng.integers(1, 80, 2))
        x_c, x_t = int(rng.integers(0, n_c + 1)), int(rng.integers(0, n_t + 1))
        r = fisher_exact(x_c, n_c, x_t, n_t)
        table = [[x_t, n_t - x_t], [x_c, n_c - x_c]]
        for sided in ("two-sided", "less", "greater"):
            expected = scipy_fisher_exact(table, alternative=sided).pvalue
            assert r.p(sided) == pytest.approx(expected, rel=1e-9, abs=1e-300), (table, sided)
        if 0 < r.conditional_odds_ratio < np.inf:
            expected = odds_ratio(table, kind="conditional").statistic
            assert r.conditional_odds_ratio == pytest.approx(expected, rel=1e-8), table


def test_moderately_large_table_matches_scipy():
    # scipy still answers in milliseconds here: 120/10**6 vs 150/10**6.
    r = fisher_exact(120, 10**6, 150, 10**6)
    table = [[150, 10**6 - 150], [120, 10**6 - 120]]
    assert r.p_value == pytest.approx(scipy_fisher_exact(table).pvalue, rel=1e-9)
    conditional = odds_ratio(table, kind="conditional").statistic
    assert r.conditional_odds_ratio == pytest.approx(conditional, rel=1e-8)


def exact_probabilities(x_c, n_c, x_t, n_t):
    """P(X = k) for the treatment's successes, in rational arithmetic."""
    s, total = x_c + x_t, n_c + n_t
    ks = range(max(0, s - n_c), min(n_t, s) + 1)
    return {k: Fraction(comb(n_t, k) * comb(n_c, s - k), comb(total, s)) for k in ks}


@pytest.mark.parametrize("treatment_n", [10**12, 2**53 + 1])
def test_huge_totals_are_exact_and_fast(treatment_n):
    # scipy takes 15 s for 1/10 vs 1/10**10 and never returns at 2**53 + 1; the support here
    # is {0, 1, 2}, so the cost does not depend on the total.
    start = time.process_time()
    r = fisher_exact(1, 10, 1, treatment_n)
    assert time.process_time() - start < 0.05
    p = exact_probabilities(1, 10, 1, treatment_n)
    less = float(p[0] + p[1])
    assert r.p_less == pytest.approx(less, rel=1e-9)
    assert r.p_greater == pytest.approx(float(p[1] + p[2]), rel=1e-9)
    # P(X = 1) is the smallest term, so only the observed table is as extreme as itself.
    assert r.p_value == pytest.approx(float(p[1]), rel=1e-9)


def test_worst_case_at_the_switch_over_is_bounded():
    # A balanced table whose every margin is MAX_SUPPORT: the largest support computed. 40 ms
    # was measured under load; 1 s leaves room for a slower CI machine, not for a regression
    # to the total-driven cost (seconds).
    half = MAX_SUPPORT // 2
    start = time.process_time()
    r = fisher_exact(half, MAX_SUPPORT, half + 500, MAX_SUPPORT + 600)
    assert time.process_time() - start < 1.0
    assert r.skipped is None and 0 < r.p_value < 1


def test_above_the_switch_over_the_result_says_why():
    n = 4 * MAX_SUPPORT
    r = fisher_exact(n // 2, n, n // 2 + 1000, n)
    assert r.p_value is None and r.p("greater") is None and r.conditional_odds_ratio is None
    assert "normal approximation is reliable" in r.skipped
    assert r.odds_ratio == pytest.approx((n // 2 + 1000) * (n // 2) / ((n // 2 - 1000) * (n // 2)))


def test_an_enormous_total_with_a_tiny_expected_cell_says_the_approximation_is_doubtful():
    r = fisher_exact(2 * 10**5, 10**11, 3, 2 * 10**5)
    assert r.p_value is None and "doubtful" in r.skipped


def test_zero_margin_and_boundary_estimates():
    no_successes = fisher_exact(0, 10, 0, 12)
    assert no_successes.p_value == 1.0 and np.isnan(no_successes.conditional_odds_ratio)
    assert np.isnan(no_successes.odds_ratio)  # 0/0
    # x at the ends of its support: R's estimate is 0 or Inf.
    assert fisher_exact(5, 10, 0, 10).conditional_odds_ratio == 0.0
    assert fisher_exact(5, 10, 10, 10).conditional_odds_ratio == np.inf
