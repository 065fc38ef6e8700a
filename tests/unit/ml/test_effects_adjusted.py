"""The adjusted average effect against statsmodels, and the unadjusted one against a plain
two-sample computation."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from common.ml.effects.adjusted import conversion_effect, revenue_effect
from common.ml.effects.design import design
from common.ml.effects.unadjusted import unadjusted_effect
from scripts.data.experiment_users import simulate_users

FEATURES = ["country", "browser"]


@pytest.fixture(scope="module")
def users():
    return simulate_users(20_000, seed=3, lift_by_country={"China": 0.06})


def test_conversion_matches_statsmodels_logit_average_marginal_effect(users):
    d = design(users, FEATURES)
    ours = conversion_effect(d, users.converted, 0.05)
    fit = sm.Logit(users.converted, d.matrix).fit(disp=0, cov_type="HC0")
    margeff = fit.get_margeff(at="overall", dummy=True)  # column 0 of it is the arm
    effect = ours["absolute"]
    assert effect["estimate"] == pytest.approx(margeff.margeff[0], rel=1e-8)
    assert effect["se"] == pytest.approx(margeff.margeff_se[0], rel=1e-6)
    low, high = margeff.conf_int(0.05)[0]
    assert effect["ci"] == pytest.approx([low, high], rel=1e-6)
    assert effect["p_value"] == pytest.approx(margeff.pvalues[0], rel=1e-5)
    odds = ours["odds_ratio"]
    assert odds["estimate"] == pytest.approx(np.exp(fit.params[1]), rel=1e-8)
    assert odds["ci"] == pytest.approx(np.exp(fit.conf_int(0.05)[1]), rel=1e-6)


def test_revenue_matches_statsmodels_ols_with_hc1(users):
    d = design(users, FEATURES)
    ours = revenue_effect(d, users.revenue, 0.05)["absolute"]
    fit = sm.OLS(users.revenue, d.matrix).fit(cov_type="HC1")
    assert ours["estimate"] == pytest.approx(fit.params[1], rel=1e-8)
    assert ours["se"] == pytest.approx(fit.bse[1], rel=1e-8)
    assert ours["ci"] == pytest.approx(fit.conf_int(0.05)[1], rel=1e-8)
    assert ours["p_value"] == pytest.approx(fit.pvalues[1], rel=1e-6)


def test_adjusting_for_the_pre_period_narrows_the_interval(users):
    d = design(users, [])
    adjusted = revenue_effect(d, users.revenue, 0.05)["absolute"]
    plain = unadjusted_effect("revenue_per_user", users.treated, users.revenue, 0.05)["absolute"]
    assert adjusted["se"] < plain["se"]


def test_unadjusted_is_the_difference_in_means_with_welch(users):
    y, t = users.revenue, users.treated
    ours = unadjusted_effect("revenue_per_user", t, y, 0.05)
    welch = stats.ttest_ind(y[t], y[~t], equal_var=False)
    assert ours["absolute"]["estimate"] == pytest.approx(y[t].mean() - y[~t].mean(), rel=1e-12)
    assert ours["absolute"]["p_value"] == pytest.approx(welch.pvalue, rel=1e-6)
    assert ours["control_mean"] == pytest.approx(y[~t].mean())
