"""Sample-ratio mismatch against scipy's chisquare and the original ExecKPI example."""

import pytest
from scipy.stats import chisquare

from common.stats.srm import srm_test


@pytest.mark.parametrize(
    ("observed", "weights"),
    [
        ([49962, 50038], [0.5, 0.5]),
        ([8603, 7838], [0.5, 0.5]),
        ([1000, 2100, 2900], [0.2, 0.3, 0.5]),
        ([310, 290, 305, 330], [0.25, 0.25, 0.25, 0.25]),
    ],
)
def test_chi_square_matches_scipy(observed, weights):
    result = srm_test(observed, weights)
    total = sum(observed)
    expected = chisquare(observed, [w * total for w in weights])
    assert result.chi_square == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.df == len(observed) - 1


def test_original_readme_example_and_threshold():
    assert round(srm_test([49962, 50038], [0.5, 0.5]).p_value, 4) == 0.8101
    broken = srm_test([8603, 7838], [0.5, 0.5])  # the generator's recs_carousel at 100k users
    assert broken.p_value < 1e-6 and not broken.passed
    assert srm_test([505, 495], [0.5, 0.5], threshold=0.001).passed


def test_arms_planned_at_weight_zero_are_left_out():
    result = srm_test([500, 40, 520], [0.5, 0.0, 0.5])
    assert result.df == 1 and result.expected[1] == 0.0
    assert result.p_value == pytest.approx(chisquare([500, 520]).pvalue, rel=1e-9)


def test_no_units_is_defined_with_a_message():
    result = srm_test([0, 0], [0.5, 0.5])
    assert (result.p_value, result.passed) == (1.0, True)
    assert "cannot be checked" in result.message


def test_counts_at_the_input_limit_do_not_overflow():
    observed = [2**53] * 19 + [2**53 - 10**9]  # 20 arms, the largest counts a request may give
    result = srm_test(observed, [0.05] * 20)
    expected = chisquare(observed)
    assert result.chi_square == pytest.approx(expected.statistic, rel=1e-6)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-6)
