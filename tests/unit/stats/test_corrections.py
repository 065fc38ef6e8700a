"""Multiple-comparison corrections against statsmodels and Spotify's golden values."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from common.stats.corrections import adjust

METHODS = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(5))
def test_matches_statsmodels_multipletests_in_input_order(method, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, 12) ** 2
    p[3] = p[7]  # ties
    expected = multipletests(p, method=METHODS[method])[1]
    assert adjust(list(p), method) == pytest.approx(list(expected), abs=1e-15)


def test_none_and_single_p_values_are_unchanged():
    assert adjust([0.01, 0.2], "none") == (0.01, 0.2)
    assert adjust([0.03], "holm") == (0.03,)


def test_spotify_bonferroni_golden():
    # spotify/confidence tests/frequentist/test_chisquared.py,
    # TestCategorical.test_multiple_difference: 5 comparisons, Bonferroni.
    p = [9.553332e-01, 1.67668440e-01, 3.34742700e-05, 7.48661891e-02, 3.97715314e-08]
    expected = [1.00000000e00, 8.38342202e-01, 1.67371350e-04, 3.74330946e-01, 1.98857657e-07]
    assert np.allclose(adjust(p, "bonferroni"), expected)
