"""Fixed-horizon tests against statsmodels/scipy and against gbstats' and Spotify's own tests.

statsmodels and Spotify test the absolute difference (scale="absolute"); gbstats' relative
goldens are the default scale's."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu
from scipy.stats import t as student_t
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import ttest_ind

from common.stats.analyze import analyze
from common.stats.inputs import Experiment, Metric, Moments, Options, Variant

SIDES = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


def compare(kind, control, treatment, **options):
    experiment = Experiment(
        (Variant("control", {"m": control}), Variant("treatment", {"m": treatment})),
        (Metric("m", kind, "primary"),),
        Options(**{"cuped": False, "bayesian": None, **options}),
    )
    return analyze(experiment).comparisons[0]


def moments(values):
    values = np.asarray(values, dtype=float)
    return Moments(float(values.size), float(values.sum()), float((values**2).sum()))


@pytest.mark.parametrize("sided", SIDES)
@pytest.mark.parametrize(
    ("x_c", "n_c", "x_t", "n_t"),
    [(13880, 49962, 13971, 50038), (120, 1000, 151, 1010), (30, 400, 18, 380), (1, 40, 6, 38)],
)
def test_two_proportion_z_matches_statsmodels(x_c, n_c, x_t, n_t, sided):
    c = compare("proportion", Moments(n_c, x_c), Moments(n_t, x_t), sided=sided, scale="absolute")
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c], alternative=SIDES[sided])  # pooled SE
    assert (c.method, c.scale) == ("two_proportion_z", "absolute")
    assert c.statistic == pytest.approx(z, abs=1e-9)
    assert c.p_value == pytest.approx(p, abs=1e-9)
    if sided == "two-sided":  # the lift's interval: the score interval for the ratio (Koopman)
        lower, upper = confint_proportions_2indep(
            x_t, n_t, x_c, n_c, compare="ratio", method="score", correction=False
        )
        assert c.relative.ci == pytest.approx((lower - 1, upper - 1), rel=1e-8)
    # Small expected cells no longer switch to Fisher's exact test: one estimator throughout.


def test_readme_example_of_the_original_execkpi():
    c = compare("proportion", Moments(49962, 13880), Moments(50038, 13971), scale="absolute")
    assert round(c.p_value, 4) == 0.6223


def test_spotify_chi_squared_difference_golden():
    # spotify/confidence tests/frequentist/test_chisquared.py, TestCategorical.test_difference:
    # ('us', 'control') 42/104 vs ('us', 'test') 500/1009, checked with np.allclose there.
    # (Its interval is the Wald interval, which does not invert the test: ours is the score
    # interval, so only the estimate and the p-value are shared.)
    c = compare("proportion", Moments(104, 42), Moments(1009, 500), scale="absolute")
    assert np.allclose(c.absolute.estimate, 0.091694)
    assert np.allclose(c.p_value, 0.074866)
    # ... and ('gb', 'control') 40/100 vs ('gb', 'test') 50/100 in the groupby case.
    c = compare("proportion", Moments(100, 40), Moments(100, 50), scale="absolute")
    assert np.allclose(c.p_value, 0.155218)


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(5)
    return rng.gamma(2.0, 3.0, 800), rng.gamma(2.2, 3.1, 650)


@pytest.mark.parametrize("sided", SIDES)
def test_welch_matches_statsmodels_ttest_ind_unequal(samples, sided):
    control, treatment = samples
    c = compare("mean", moments(control), moments(treatment), sided=sided, scale="absolute")
    t, p, df = ttest_ind(treatment, control, alternative=SIDES[sided], usevar="unequal")
    assert c.method == "welch_t"
    assert (c.statistic, c.p_value, c.df) == pytest.approx((t, p, df), abs=1e-8)
    if sided == "two-sided":
        diff = treatment.mean() - control.mean()
        pooled = np.sqrt(
            (
                (control.size - 1) * control.var(ddof=1)
                + (treatment.size - 1) * treatment.var(ddof=1)
            )
            / (control.size + treatment.size - 2)
        )
        assert c.cohens_d == pytest.approx(diff / pooled, abs=1e-10)


@pytest.mark.parametrize("sided", SIDES)
def test_mann_whitney_from_raw_values_matches_scipy(samples, sided):
    control, treatment = samples
    values = lambda v: Moments(len(v), float(v.sum()), float((v**2).sum()), values=tuple(v))  # noqa: E731
    c = compare("mean", values(control), values(treatment), sided=sided)
    expected = mannwhitneyu(treatment, control, alternative=sided)
    assert (c.mann_whitney.u, c.mann_whitney.p_value) == pytest.approx(
        (expected.statistic, expected.pvalue), abs=1e-12
    )


# gbstats' frequentist goldens: growthbook/growthbook, packages/stats/tests/frequentist/
# test_tests.py.
# Their inputs are sufficient statistics; their relative results use the delta method carrying
# the control's variance and the Welch t quantile (df of the absolute difference), as ours do.
STAT_A_3407 = Moments(3407, 1396.87, 52377.9767)
STAT_A_3000 = Moments(3000, 1396.87, 52377.9767)
STAT_B = Moments(3461, 2422.7, 134698.29)


def rounded(x):
    return np.round(x, 5)


def test_gbstats_two_sided_ttest_goldens():
    c = compare("mean", STAT_A_3407, STAT_B)
    # TestTwoSidedTTest.test_two_sided_ttest (current main): expected 0.70732, ci (-0.03526,
    # 1.44989), sd 0.37879, pValue 0.06191: the relative test's own p-value.
    assert (c.scale, c.method) == ("relative", "relative_welch_t")
    assert rounded(c.relative.estimate) == 0.70732
    assert tuple(rounded(c.relative.ci)) == (-0.03526, 1.44989)
    assert rounded(c.relative.se) == 0.37879
    assert rounded(c.p_value) == 0.06191
    assert c.absolute.ci == (None, None) and rounded(c.absolute.se) == 0.12478
    # TestTwoSidedTTest.test_two_sided_ttest_absolute: 0.29, ci (0.04538, 0.53462), sd 0.12478,
    # p 0.02016.
    c = compare("mean", STAT_A_3407, STAT_B, scale="absolute")
    assert rounded(c.absolute.estimate) == 0.29
    assert tuple(rounded(c.absolute.ci)) == (0.04538, 0.53462)
    assert rounded(c.absolute.se) == 0.12478
    assert rounded(c.p_value) == 0.02016


def test_gbstats_one_sided_greater_goldens_at_full_precision():
    c = compare("mean", STAT_A_3000, STAT_B, sided="greater", scale="absolute")
    # TestOneSidedGreaterTTest.test_one_sided_ttest_absolute
    assert c.absolute.estimate == pytest.approx(0.23437666666666668, abs=1e-12)
    assert c.absolute.ci == pytest.approx((0.020791480063255735, None), abs=1e-9)
    assert c.absolute.se == pytest.approx(0.12983081254184736, abs=1e-12)
    assert c.p_value == pytest.approx(0.03554272489873023, abs=1e-10)
    # TestOneSidedGreaterTTest.test_one_sided_ttest (relative): lower bound, open upper end
    c = compare("mean", STAT_A_3000, STAT_B, sided="greater")
    assert c.relative.estimate == pytest.approx(0.5033610858562358, abs=1e-12)
    assert c.relative.se == pytest.approx(0.3334122146400735, abs=1e-12)
    assert c.relative.ci == pytest.approx((-0.045136675850396046, None), abs=1e-9)


def test_gbstats_binomial_relative_golden():
    # TestTwoSidedTTest.test_two_sided_ttest_binom: 14/28 vs 16/30, ci (-0.47767, 0.61101),
    # sd 0.2717. (gbstats runs a t-test on p(1-p) variances, Welch df ~56; our z-test's critical
    # value differs, so only the delta-method estimate and SE are shared.)
    c = compare("proportion", Moments(28, 14), Moments(30, 16))
    assert rounded(c.relative.estimate) == rounded((16 / 30 - 0.5) / 0.5)
    assert rounded(c.relative.se) == 0.2717


def test_fieller_interval_solves_fiellers_equation(samples):
    control, treatment = samples
    c = compare("mean", moments(control), moments(treatment), scale="absolute")
    mc, mt = control.mean(), treatment.mean()
    vc, vt = control.var(ddof=1) / control.size, treatment.var(ddof=1) / treatment.size
    q = student_t.ppf(0.975, c.df)  # the critical value the comparison's intervals use
    lower, upper = (bound + 1 for bound in c.relative.ci)  # ratios, from lifts
    for r in (lower, upper):  # (t - R c)^2 = q^2 (Var t + R^2 Var c) at both ends
        assert (mt - r * mc) ** 2 == pytest.approx(q * q * (vt + r * r * vc), rel=1e-9)
    assert lower < mt / mc < upper


def test_fieller_is_unbounded_when_the_control_mean_is_not_clearly_nonzero():
    c = compare("mean", Moments(10, 0.5, 40.0), Moments(10, 5.0, 60.0), scale="absolute")
    assert c.relative.ci == (None, None) and None not in c.absolute.ci
    assert any("unbounded" in m for m in c.messages)


def test_ratio_metric_delta_method_matches_a_direct_computation():
    rng = np.random.default_rng(11)
    sessions = [rng.poisson(3, 500) + 1, rng.poisson(3, 520) + 1]
    clicks = [rng.binomial(s, 0.30) for s in (sessions[0],)] + [rng.binomial(sessions[1], 0.33)]

    def arm(y, d):
        return Moments(
            float(y.size), float(y.sum()), float((y * y).sum()),
            denominator_sum=float(d.sum()), denominator_sum_squares=float((d * d).sum()),
            numerator_denominator_sum=float((y * d).sum()),
        )  # fmt: skip

    c = compare("ratio", arm(clicks[0], sessions[0]), arm(clicks[1], sessions[1]))
    variances = []
    for y, d in zip(clicks, sessions, strict=True):
        r = y.sum() / d.sum()
        cov = np.cov(y, d, ddof=1)
        # Var(ȳ/d̄) by the delta method, from the 2x2 sample covariance.
        variances.append(
            (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / d.mean() ** 2 / y.size
        )
    diff = clicks[1].sum() / sessions[1].sum() - clicks[0].sum() / sessions[0].sum()
    assert c.absolute.estimate == pytest.approx(diff, abs=1e-12)
    assert c.absolute.se == pytest.approx(np.sqrt(sum(variances)), rel=1e-10)
