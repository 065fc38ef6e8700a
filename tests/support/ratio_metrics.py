"""Ratio-metric arms for tests: from per-unit arrays, and gbstats' published golden case.

A ratio metric Σy/Σd with the pre-period ratio Σx/Σe as its CUPED covariate.
"""

import numpy as np

from common.stats.inputs import Moments, RatioCovariate

# growthbook/growthbook packages/stats/tests/frequentist/test_tests.py,
# TestTwoSidedTTest.test_two_sided_ttest_test_runs_ratio_ra: gbstats' fields per arm are n, then
# (sum, sum of squares) of y, d, x, e, then the sums of products yx, de, xe, yd, ye, xd.
GBSTATS_RATIO_CONTROL = (
    100,
    (485.112236689623, 2715.484666118136),
    (679.9093275844917, 4939.424001640236),
    (192.59138069991536, 460.076026390857),
    (290.1398399750233, 920.9461385038898),
    1113.6215759318352,
    2130.9404074446747,
    634.239482353647,
    3602.146836776702,
    1559.2878434944676,
    1460.3181079276983,
)
GBSTATS_RATIO_TREATMENT = (
    100,
    (514.7757826608777, 2994.897482705013),
    (705.4090874383759, 5291.36604146392),
    (206.94157227402536, 514.2903702246757),
    (302.54389139107326, 994.4506208125663),
    1237.0953021125997,
    2292.081739775257,
    698.4173425817908,
    3918.1561431600717,
    1701.0287270040265,
    1604.0759503266522,
)


def gbstats_moments(n, y, d, x, e, yx, de, xe, yd, ye, xd) -> Moments:
    """One arm of the gbstats golden case as the engine's input."""
    pre = RatioCovariate(e[0], e[1], xe, ye, de, xd)
    return Moments(n, y[0], y[1], x[0], x[1], yx, d[0], d[1], yd, ratio_covariate=pre)


def ratio_moments(y: np.ndarray, d: np.ndarray, x: np.ndarray, e: np.ndarray) -> Moments:
    """The sums of per-unit post-period y, d and pre-period x, e."""
    return Moments(
        n=float(y.size),
        sum=float(y.sum()),
        sum_squares=float(y @ y),
        covariate_sum=float(x.sum()),
        covariate_sum_squares=float(x @ x),
        cross_product_sum=float(x @ y),
        denominator_sum=float(d.sum()),
        denominator_sum_squares=float(d @ d),
        numerator_denominator_sum=float(y @ d),
        ratio_covariate=RatioCovariate(
            e_sum=float(e.sum()),
            e_squares=float(e @ e),
            xe_sum=float(x @ e),
            ye_sum=float(y @ e),
            de_sum=float(d @ e),
            dx_sum=float(d @ x),
        ),
    )
