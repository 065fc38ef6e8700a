"""abtest through functions-framework's own app: real requests, real responses."""

import json
import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import beta, chisquare, mannwhitneyu, norm
from scipy.stats import fisher_exact as scipy_fisher_exact
from scipy.stats.contingency import odds_ratio
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    power_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import ttest_ind

from common.experiments import assign_variant
from tests.support.ratio_metrics import GBSTATS_RATIO_CONTROL, GBSTATS_RATIO_TREATMENT
from tests.support.score_reference import assert_score_interval

README_EXAMPLE = {"a_success": 13880, "a_total": 49962, "b_success": 13971, "b_total": 50038}

# A warehouse holding just the tables abtest reads, with recs_carousel's broken split at
# the size the generator documents for 100k users (8,603 vs 7,838 exposed).
EXPERIMENTS = [
    ("ab_even", "2026-09-01", "2026-09-28", "conversion"),
    ("broken_split", "2026-10-01", "2026-10-28", "revenue_per_user"),
    ("three_arms", "2026-10-01", None, "conversion"),
    ("future_launch", "2026-11-01", "2026-11-28", "conversion"),
]
KNOWN = ["ab_even", "broken_split", "future_launch", "three_arms"]
BUILT_ON = "2026-10-15"  # ab_even has ended, broken_split and three_arms run, future_launch waits
EXPERIMENT_VARIANTS = [
    ("ab_even", 1, "control", 0.5),
    ("ab_even", 2, "treatment", 0.5),
    ("broken_split", 1, "control", 0.5),
    ("broken_split", 2, "treatment", 0.5),
    ("three_arms", 3, "c", 0.25),  # stored out of order: variant_index orders the arms
    ("three_arms", 1, "control", 0.5),
    ("three_arms", 2, "b", 0.25),
    ("future_launch", 1, "control", 0.5),
    ("future_launch", 2, "treatment", 0.5),
]
AB_METRICS = [
    ("ab_even", "control", "conversion", 5000, 500, 500, 300, 300, 120),
    ("ab_even", "treatment", "conversion", 5000, 600, 600, 310, 310, 130),
    ("broken_split", "control", "revenue_per_user", 8603, 180000, 2.1e7, 90000, 1.2e7, 4e6),
    ("broken_split", "treatment", "revenue_per_user", 7838, 190000, 2.3e7, 82000, 1.1e7, 4.2e6),
    ("broken_split", "control", "conversion", 8603, 2400, 2400, 1300, 1300, 500),
    ("broken_split", "treatment", "conversion", 7838, 2500, 2500, 1200, 1200, 520),
    ("three_arms", "control", "conversion", 4000, 400, 400, None, None, None),
    ("three_arms", "b", "conversion", 2000, 200, 200, None, None, None),
]  # three_arms has no row for c: nobody reached it
# ab_even's conversion by country, summing to its ab_metrics rows; the US and JP splits are
# broken in opposite directions (and so cancel out overall).
BY_COUNTRY = {  # value: ((control n, successes), (treatment n, successes))
    "US": ((2000, 200), (2400, 300)),
    "DE": ((1500, 150), (1500, 160)),
    "JP": ((1000, 100), (600, 40)),
    "other": ((500, 50), (500, 100)),
}


@pytest.fixture
def warehouse(execkpi_env):
    with duckdb.connect(execkpi_env["EXECKPI_DUCKDB_PATH"]) as con:
        con.execute("create schema execkpi_marts")
        con.execute(
            "create table execkpi_marts.experiments (experiment_id varchar, start_date date, "
            "end_date date, primary_metric varchar)"
        )
        con.executemany("insert into execkpi_marts.experiments values (?, ?, ?, ?)", EXPERIMENTS)
        con.execute(
            "create table execkpi_marts.experiment_variants (experiment_id varchar, "
            "variant_index integer, variant varchar, weight double)"
        )
        con.executemany(
            "insert into execkpi_marts.experiment_variants values (?, ?, ?, ?)",
            EXPERIMENT_VARIANTS,
        )
        con.execute(
            "create table execkpi_marts.ab_metrics (experiment_id varchar, variant varchar, "
            "metric varchar, n bigint, sum double, sum_squares double, covariate_sum double, "
            "covariate_sum_squares double, cross_product_sum double)"
        )
        con.executemany(
            "insert into execkpi_marts.ab_metrics values (?, ?, ?, ?, ?, ?, ?, ?, ?)", AB_METRICS
        )
        con.execute(
            "create table execkpi_marts.ab_experiments as select experiment_id, start_date, "
            "end_date, primary_metric, cast(? as date) as built_on "
            "from execkpi_marts.experiments",
            [BUILT_ON],
        )
        con.execute(
            "create table execkpi_marts.ab_metrics_by_dimension as select * exclude (n, sum), "
            "'country' as dimension, '' as dimension_value, n, sum "
            "from execkpi_marts.ab_metrics limit 0"
        )
        con.executemany(
            "insert into execkpi_marts.ab_metrics_by_dimension by name select 'ab_even' as "
            "experiment_id, ? as variant, 'conversion' as metric, 'country' as dimension, "
            "? as dimension_value, ? as n, ? as sum, ? as sum_squares",
            [
                (variant, value, n, successes, successes)
                for value, arms in BY_COUNTRY.items()
                for variant, (n, successes) in zip(("control", "treatment"), arms, strict=True)
            ],
        )
    return execkpi_env["EXECKPI_DUCKDB_PATH"]


@pytest.fixture
def client(function_client):
    return function_client("abtest")


def error_of(response, status=400):
    """The error; only a 404 for an unknown experiment adds "known" to the shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) - {"known"} == {"code", "message", "field"}
    assert "known" not in body["error"] or (status, body["error"]["field"]) == (
        404,
        "experiment_id",
    )
    return body["error"]


def unknown_experiment(response):
    """A 404 that lists the known experiments, in its message and in "known"."""
    error = error_of(response, 404)
    assert (error["field"], error["known"]) == ("experiment_id", KNOWN)
    assert all(experiment_id in error["message"] for experiment_id in KNOWN)
    return error


def two_arm_body(control=None, treatment=None, **extra):
    control = control or {"n": 1000, "sum": 100}
    treatment = treatment or {"n": 1000, "sum": 120}
    return {
        "variants": [
            {"name": "control", "metrics": {"conversion": control}},
            {"name": "treatment", "metrics": {"conversion": treatment}},
        ],
        **extra,
    }


# --- POST /ab/test: the original payload --------------------------------------------------------


ORIGINAL_FIELDS = {"group", "uplift", "ci_95", "p_value", "srm_p", "significant"}
RICHER_FIELDS = {"alpha", "ci", "ci_level", "comparison", "srm", "decision", "messages"}


def references(a_success, a_total, b_success, b_total):
    """statsmodels' pooled two-sided z-test and scipy's chi-square of the totals against 50/50:
    what /ab/test must answer."""
    _, p = proportions_ztest([b_success, a_success], [b_total, a_total])
    return {
        "uplift": b_success / b_total - a_success / a_total,
        "p_value": p,
        "srm_p": chisquare([a_total, b_total]).pvalue,
    }


@pytest.mark.parametrize("path", ["/ab/test", "/test"])
def test_original_readme_example_field_for_field(client, path):
    response = client.post(path, json=README_EXAMPLE)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == ORIGINAL_FIELDS | RICHER_FIELDS
    assert body["group"] == {
        "A": {"success": 13880, "total": 49962, "rate": pytest.approx(13880 / 49962, rel=1e-15)},
        "B": {"success": 13971, "total": 50038, "rate": pytest.approx(13971 / 50038, rel=1e-15)},
    }
    # The original README's numbers, rounded as it printed them.
    assert round(body["uplift"], 7) == 0.0013967
    assert round(body["p_value"], 4) == 0.6223
    assert [round(x, 4) for x in body["ci_95"]] == [-0.0042, 0.0070]
    assert round(body["srm_p"], 4) == 0.8101
    assert body["significant"] is False
    # And to full precision, against statsmodels and scipy.
    expected = references(**README_EXAMPLE)
    assert body["uplift"] == pytest.approx(expected["uplift"], rel=1e-12)
    assert body["p_value"] == pytest.approx(expected["p_value"], rel=1e-9)
    assert_score_interval(body["ci_95"], README_EXAMPLE, 0.05)
    # statsmodels' score interval, off by about 1e-7 here (see score_statistic)
    statsmodels_ci = confint_proportions_2indep(
        13971, 50038, 13880, 49962, method="score", correction=False
    )
    assert body["ci_95"] == pytest.approx(list(statsmodels_ci), abs=1e-6)
    assert body["srm_p"] == pytest.approx(expected["srm_p"], rel=1e-9)
    # The richer read-out comes from the same test.
    assert (body["alpha"], body["ci_level"]) == (0.05, 0.95)
    assert body["ci"] == pytest.approx(body["ci_95"], rel=1e-12)
    assert body["comparison"]["p_value"] == body["p_value"]
    assert body["comparison"]["absolute"]["estimate"] == body["uplift"]
    assert body["srm"]["p_value"] == body["srm_p"]
    assert body["decision"]["verdict"] == "INCONCLUSIVE"


# Pairs around p = 0.05 where the unpooled Wald interval and the pooled z-test disagree, plus
# unequal and small arms: the score interval excludes 0 exactly when p < alpha.
NEAR_THE_EDGE = [
    (11, 200, 21, 800),  # p 0.039, Wald's 95% interval includes 0
    (36, 200, 101, 800),  # p 0.048, likewise
    (51, 200, 261, 800),  # p 0.052, Wald's 95% interval excludes 0
    (1, 1000, 1, 100),  # p 0.044, one success each
    (100, 1000, 130, 1000),
    (30, 30, 24, 30),  # a_success == a_total
    (400, 5000, 470, 5200),
]


@pytest.mark.parametrize("counts", NEAR_THE_EDGE)
@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.001])
def test_intervals_agree_with_significance_and_the_score_test(client, counts, alpha):
    body = dict(zip(["a_success", "a_total", "b_success", "b_total"], counts, strict=True))
    result = client.post("/ab/test", json={**body, "alpha": alpha}).get_json()
    expected = references(**body)
    assert result["p_value"] == pytest.approx(expected["p_value"], rel=1e-9)
    assert result["uplift"] == pytest.approx(expected["uplift"], rel=1e-12)
    assert_score_interval(result["ci_95"], body, 0.05)
    assert_score_interval(result["ci"], body, alpha)
    assert result["ci_level"] == pytest.approx(1 - alpha)
    excludes_zero = not result["ci"][0] <= 0 <= result["ci"][1]
    assert excludes_zero == result["significant"] == (expected["p_value"] < alpha)
    excludes_zero_95 = not result["ci_95"][0] <= 0 <= result["ci_95"][1]
    assert excludes_zero_95 == (expected["p_value"] < 0.05)
    assert not (result["significant"] and not excludes_zero_95)  # alpha ≤ 0.05: never both


@pytest.mark.parametrize("alpha", [0.0500001, 0.1, 0.7])
def test_original_alpha_is_at_most_0_05(client, alpha):
    error = error_of(client.post("/ab/test", json={**README_EXAMPLE, "alpha": alpha}))
    assert error["field"] == "alpha" and "0.05" in error["message"]
    assert "/ab/analyze" in error["message"]


def test_original_payload_with_no_visitors_is_defined(client):
    body = {"a_success": 0, "a_total": 0, "b_success": 0, "b_total": 0}
    result = client.post("/ab/test", json=body).get_json()
    assert result["group"] == {
        "A": {"success": 0, "total": 0, "rate": None},
        "B": {"success": 0, "total": 0, "rate": None},
    }
    assert (result["p_value"], result["significant"], result["srm_p"]) == (1.0, False, 1.0)
    assert result["uplift"] is None and result["ci_95"] == [None, None]
    assert result["messages"] and result["decision"]["verdict"] == "INCONCLUSIVE"


@pytest.mark.parametrize(
    "counts",
    [
        (0, 0, 5, 10),  # one arm without visitors
        (100, 100, 100, 100),  # every visitor converts: no variation
        (0, 100, 0, 100),  # nobody converts
        (1, 1, 0, 1),
    ],
)
def test_original_degenerate_payloads_are_defined(client, counts):
    body = dict(zip(["a_success", "a_total", "b_success", "b_total"], counts, strict=True))
    response = client.post("/ab/test", json=body)
    assert response.status_code == 200
    result = response.get_json()
    assert result["significant"] is False and result["p_value"] <= 1
    low, high = result["ci_95"]
    assert (low is None) == (high is None)
    if low is not None:
        assert low <= result["uplift"] <= high


def test_one_visitor_each_matches_the_z_test(client):
    body = {"a_success": 1, "a_total": 1, "b_success": 0, "b_total": 1}
    result = client.post("/ab/test", json=body).get_json()
    assert result["uplift"] == -1.0
    assert result["p_value"] == pytest.approx(proportions_ztest([0, 1], [1, 1])[1], rel=1e-9)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"a_success": 50000}, "a_success"),  # successes > totals
        ({"b_total": -5}, "b_total"),  # negative
        ({"a_total": "49962"}, "a_total"),  # not a number
        ({"b_success": None}, "b_success"),
        ({"a_success": True}, "a_success"),  # a boolean is not a number
        ({"a_success": 1.5}, "a_success"),  # not a count
        ({"a_total": 10**400}, "a_total"),  # a JSON integer beyond any float
        ({"alpha": 0}, "alpha"),
        ({"alpha": 1}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": 0.06}, "alpha"),
        ({"alpha": -0.05}, "alpha"),
        ({"beta": 0.2}, "beta"),  # unknown field
    ],
)
def test_original_payload_invalid_inputs_name_the_field(client, change, field):
    assert error_of(client.post("/ab/test", json={**README_EXAMPLE, **change}))["field"] == field


def test_missing_field(client):
    body = {k: v for k, v in README_EXAMPLE.items() if k != "b_total"}
    assert error_of(client.post("/ab/test", json=body))["field"] == "b_total"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"a_success": NaN, "a_total": 10, "b_success": 1, "b_total": 10}', "a_success"),
        ('{"a_success": 1, "a_total": Infinity, "b_success": 1, "b_total": 10}', "a_total"),
        ('{"a_success": 1, "a_total": 10, "b_success": 1, "b_total": 1e999}', "b_total"),
        ('{"a_success": 1, "a_total": 10, "b_success": -Infinity, "b_total": 10}', "b_success"),
        ("{not json", "body"),
        ("[1, 2]", "body"),
        ("", "body"),
    ],
)
def test_nan_infinity_and_malformed_bodies(client, raw, field):
    response = client.post("/ab/test", data=raw, content_type="application/json")
    assert error_of(response)["field"] == field


# --- GET /ab/sample ----------------------------------------------------------------------------


def test_sample_is_the_original_and_posts_back_as_curl_sends_it(client):
    sample = client.get("/ab/sample")
    counts = {"a_success": 120, "a_total": 1000, "b_success": 150, "b_total": 980}
    original = {"A": {"success": 120, "total": 1000}, "B": {"success": 150, "total": 980}}
    assert sample.status_code == 200 and sample.get_json() == {"sample": original, **counts}
    # curl /ab/sample | jq 'del(.sample)' | curl -d @- /ab/test: curl -d says form-urlencoded,
    # the body is the JSON
    form = "application/x-www-form-urlencoded"
    body = json.dumps({k: v for k, v in sample.get_json().items() if k != "sample"})
    response = client.post("/ab/test", data=body, content_type=form)
    _, p_value = proportions_ztest([150, 120], [980, 1000])  # statsmodels' pooled z-test
    assert response.status_code == 200
    assert response.get_json()["p_value"] == pytest.approx(p_value, rel=1e-9)
    assert error_of(client.post("/ab/test", json=sample.get_json()))["field"] == "sample"
    assert error_of(client.get("/ab/sample", query_string={"n": "5"}))["field"] == "n"
    assert error_of(client.post("/ab/sample"), 405)["field"] == "method"


# --- POST /ab/analyze with statistics -----------------------------------------------------------


def test_analyze_abn_with_every_option(client):
    values = {"control": [3.0, 5.5, 2.0, 8.0, 1.0], "b": [4.0, 6.5, 3.0, 9.5, 2.5, 7.0]}
    values["c"] = [2.0, 5.0, 1.5, 7.5, 1.0]
    body = {
        "variants": [
            {"name": name, "metrics": {"conversion": {"n": n, "sum": s}, "spend": {"values": v}}}
            for (name, v), (n, s) in zip(
                values.items(), [(2000, 200), (1000, 130), (1000, 95)], strict=True
            )
        ],
        "metrics": [
            {"name": "conversion", "type": "proportion", "role": "primary"},
            {"name": "spend", "type": "mean", "role": "guardrail", "margin": 0.05},
        ],
        "options": {
            "alpha": 0.1,
            "correction": "bh",
            "bayesian": {"prior_mean": 0, "prior_sd": 0.5},
            "weights": [0.5, 0.25, 0.25],
            "scale": "absolute",
            "mde": 0.1,
            "power": 0.9,
        },
    }
    response = client.post("/ab/analyze", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["srm"]["passed"] and result["srm"]["expected"] == [2000.0, 1000.0, 1000.0]
    assert [(c["variant"], c["metric"]) for c in result["comparisons"]] == [
        ("b", "conversion"),
        ("b", "spend"),
        ("c", "conversion"),
        ("c", "spend"),
    ]
    spend = result["comparisons"][1]
    assert spend["mann_whitney"]["p_value"] > 0 and spend["cohens_d"] is not None
    assert (spend["scale"], spend["margin"]) == ("absolute", 0.05)
    assert "fieller_ci" not in spend
    assert result["decision"]["verdict"] in {"SHIP", "DO NOT SHIP", "INCONCLUSIVE"}
    assert len(result["decisions"]) == 2 and result["decision"]["summary"]
    assert result["options"]["weights"] == [0.5, 0.25, 0.25]


@pytest.mark.parametrize(
    ("control", "treatment"), [((1000, 120), (1000, 150)), ((20, 5), (21, 12))]
)
@pytest.mark.parametrize("scale", ["relative", "absolute"])
def test_significance_and_the_quoted_interval_agree(client, control, treatment, scale):
    # The examples: "significant" with a relative CI from -2.93% to +52.93%, SHIP with
    # -64% to +322%. Now the flag, the interval and the sentence come from one estimator.
    body = two_arm_body(
        {"n": control[0], "sum": control[1]},
        {"n": treatment[0], "sum": treatment[1]},
        options={"scale": scale},
    )
    result = client.post("/ab/analyze", json=body).get_json()
    (c,) = result["comparisons"]
    lower, upper = c[scale]["ci"]
    assert c["significant"] == (lower > 0 or upper < 0) == (c["p_value_adjusted"] <= 0.05)
    summary = result["decision"]["summary"]
    assert ("a significant improvement" in summary) == c["significant"]
    assert result["decision"]["verdict"] == ("SHIP" if c["significant"] else "INCONCLUSIVE")


def test_degenerate_statistics_answer_200_with_messages(client):
    body = two_arm_body({"n": 0, "sum": 0}, {"n": 0, "sum": 0})
    response = client.post("/ab/analyze", json=body)
    assert response.status_code == 200
    comparison = response.get_json()["comparisons"][0]
    assert comparison["relative"]["estimate"] is None and comparison["messages"]


def arms(count):
    return [{"name": f"v{i}", "metrics": {"m": {"n": 100, "sum": 10}}} for i in range(count)]


CONTROL = "variants[0].metrics.conversion."
TWIN = {"name": "v0", "metrics": {"m": {"n": 5, "sum": 1}}}
STRANGER = {"name": "x", "metrics": {"other": {"n": 5, "sum": 1}}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (two_arm_body(treatment={"n": 100, "sum": 120}), "variants[1].metrics.conversion.sum"),
        (two_arm_body(control={"n": -1, "sum": 0}), CONTROL + "n"),
        (two_arm_body(control={"n": "100", "sum": 1}), CONTROL + "n"),
        (two_arm_body(control={"n": 100, "sum": False}), CONTROL + "sum"),
        (two_arm_body(control={"n": 10, "sum": 30, "sum_squares": 50}), CONTROL + "sum_squares"),
        (two_arm_body(control={"n": 10, "sum": 1, "bogus": 1}), CONTROL + "bogus"),
        (two_arm_body(options={"alpha": 1.0}), "options.alpha"),
        (two_arm_body(options={"alpha": True}), "options.alpha"),
        (two_arm_body(options={"colour": "red"}), "options.colour"),
        (two_arm_body(options={"weights": [0.6, 0.5]}), "options.weights"),
        (two_arm_body(options={"weights": [0.5, 0.3, 0.2]}), "options.weights"),
        (two_arm_body(options={"weights": [1.5, -0.5]}), "options.weights[1]"),
        (two_arm_body(options={"sided": "left"}), "options.sided"),
        (two_arm_body(options={"correction": "sidak"}), "options.correction"),
        (two_arm_body(options={"scale": "log"}), "options.scale"),
        (two_arm_body(options={"fieller": True}), "options.fieller"),  # removed: see scale
        (
            {"variants": arms(2), "metrics": [{"name": "m", "role": "guardrail", "margin": 0}]},
            "metrics[0].margin",
        ),
        ({"variants": arms(2), "metrics": [{"name": "m", "margin": 0.02}]}, "metrics[0].margin"),
        (two_arm_body(options={"sequential": {"tuning": 0}}), "options.sequential.tuning"),
        (two_arm_body(extra_field=1), "extra_field"),
        ({"variants": arms(1)}, "variants"),
        ({"variants": arms(21)}, "variants"),
        ({"variants": [*arms(1), TWIN]}, "variants[1].name"),
        ({"variants": [*arms(1), STRANGER]}, "variants[1].metrics.other"),
        ({"variants": arms(2), "metrics": [{"name": "m", "type": "median"}]}, "metrics[0].type"),
        ({"variants": arms(2), "experiment_id": "ab_even"}, "variants"),
        ({}, "variants"),
        (two_arm_body(locale="fr-FR"), "locale"),
        (two_arm_body(locale=["de-DE"]), "locale"),
        ({"experiment_id": "ab_even", "locale": "de"}, "locale"),  # before the warehouse
    ],
)
def test_analyze_invalid_inputs_name_the_field(client, body, field):
    assert error_of(client.post("/ab/analyze", json=body))["field"] == field


# growthbook/growthbook packages/stats/tests/bayesian/test_tests.py (8f1db44): P90 statistics
# of TestEffectBayesianABTest and its absolute and relative intervals (flat prior = frequentist).
GB_P90 = [
    {"n": 11054, "quantile": 7.157987489967789, "lower": 7.098780136176828,
     "upper": 7.217194843758751},
    {"n": 10861, "quantile": 7.694499927525767, "lower": 7.64180598628119,
     "upper": 7.747193868770344},
]  # fmt: skip
P90 = [{"name": "p90", "type": "quantile", "level": 0.9, "role": "primary"}]


def quantile_body(arms, metrics=P90, **options):
    return {
        "variants": [
            {"name": name, "metrics": {"p90": arm}}
            for name, arm in zip(("control", "treatment"), arms, strict=True)
        ],
        "metrics": metrics,
        "options": options,
    }


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ("absolute", (0.4572559589115422, 0.6157689162044128)),
        ("relative", (0.06341005842481906, 0.08649588602990732)),
    ],
)
def test_quantile_metric_matches_growthbook(client, scale, expected):
    response = client.post("/ab/analyze", json=quantile_body(GB_P90, scale=scale))
    assert response.status_code == 200, response.get_data(as_text=True)
    (c,) = response.get_json()["comparisons"]
    assert c["kind"] == "quantile" and c["method"] == ("z" if scale == "absolute" else "relative_z")
    assert c[scale]["ci"] == pytest.approx(expected, abs=1e-10)
    assert c["control"]["mean"] == GB_P90[0]["quantile"] and c["significant"]
    assert c["bayesian"] is not None and c["cuped"] is None


def test_quantile_metric_from_raw_values_sequential_and_corrected(client):
    # The median of raw values is numpy's; two metrics make a Holm family.
    rng = np.random.default_rng(8)
    control, treatment = rng.exponential(1.0, 400), rng.exponential(1.3, 400)
    metrics = [{"name": "p50", "type": "quantile", "level": 0.5, "role": "primary"},
               {"name": "conversion", "type": "proportion"}]  # fmt: skip
    body = {
        "variants": [
            {"name": name, "metrics": {"p50": {"values": v.tolist()}, "conversion": conv}}
            for name, v, conv in (
                ("control", control, {"n": 400, "sum": 40}),
                ("treatment", treatment, {"n": 400, "sum": 41}),
            )
        ],
        "metrics": metrics,
        "options": {"sequential": True, "sided": "greater"},
    }
    result = client.post("/ab/analyze", json=body).get_json()
    c = result["comparisons"][0]
    assert c["control"]["mean"] == pytest.approx(float(np.median(control)))
    assert c["method"] == "relative_z_sequential" and c["relative"]["ci"][1] is None
    lower = c["relative"]["ci"][0]
    assert c["significant"] == (lower > 0) == (c["p_value_adjusted"] <= 0.05)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (quantile_body(GB_P90, [{"name": "p90", "type": "quantile"}]), "metrics[0].level"),
        (quantile_body(GB_P90, [{"name": "p90", "type": "quantile", "level": 1}]),
         "metrics[0].level"),
        (quantile_body(GB_P90, [{"name": "p90", "type": "mean", "level": 0.5}]),
         "metrics[0].level"),
        (quantile_body([GB_P90[0], {**GB_P90[1], "lower": 8.0}]), "variants[1].metrics.p90"),
        (quantile_body([GB_P90[0], {**GB_P90[1], "n_star": 20000}]),
         "variants[1].metrics.p90.n_star"),
        (quantile_body([GB_P90[0], {"n": 10, "quantile": 1.0, "lower": 0.5}]),
         "variants[1].metrics.p90.upper"),
        (quantile_body([GB_P90[0], {**GB_P90[1], "sum": 3}]), "variants[1].metrics.p90.sum"),
        (quantile_body([GB_P90[0], {"values": [1.0, "2"]}]), "variants[1].metrics.p90.values[1]"),
        (quantile_body([GB_P90[0], {"values": [1.0], "n": 1}]), "variants[1].metrics.p90.n"),
    ],
)  # fmt: skip
def test_quantile_invalid_inputs_name_the_field(client, body, field):
    assert error_of(client.post("/ab/analyze", json=body))["field"] == field


def test_group_sequential_look_against_rpact(client):
    # rpact getDesignGroupSequential(kMax 3, alpha 0.09, sided 2, typeOfDesign "asOF",
    # informationRates c(0.4, 0.65, 1))$criticalValues: 2.9623919, 2.2442359, 1.7391729 (rpact's
    # tests, x7e). At look 2, z = 2.25 crosses 2.2442 and 2.24 does not.
    design = {"information_fractions": [0.4, 0.65, 1.0], "look": 2}
    options = {"alpha": 0.09, "scale": "absolute", "group_sequential": design, "bayesian": False}
    se = math.sqrt(2 * 0.25 / 10000)  # two arms at 50%, 10000 each: unpooled = pooled SE
    for z, crossed in ((2.25, True), (2.24, False)):
        treatment = round(10000 * (0.5 + z * se))
        arms = ({"n": 10000, "sum": 5000}, {"n": 10000, "sum": treatment})
        body = two_arm_body(*arms, options=options)
        result = client.post("/ab/analyze", json=body).get_json()
        (c,) = result["comparisons"]
        look = c["group_sequential"]
        assert look["boundary"] == pytest.approx(2.2442359, abs=1e-6)
        assert result["group_sequential"]["boundaries"] == pytest.approx(
            [2.9623919, 2.2442359, 1.7391729], abs=1e-6
        )
        assert look["nominal_alpha"] == pytest.approx(2 * norm.sf(2.2442359), rel=1e-5)
        assert look["crossed"] == c["significant"] == crossed == (c["absolute"]["ci"][0] > 0)
        assert c["method"] == "two_proportion_z_group_sequential"
        assert "repeated CI" in result["decision"]["summary"]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"group_sequential": {"information_fractions": [0.5, 1]}, "sequential": True},
         "options.group_sequential"),
        ({"group_sequential": {}}, "options.group_sequential.information_fractions"),
        ({"group_sequential": {"information_fractions": [0.6, 0.5]}},
         "options.group_sequential.information_fractions"),
        ({"group_sequential": {"information_fractions": [0.5, True]}},
         "options.group_sequential.information_fractions[1]"),
        ({"group_sequential": {"information_fractions": [0.5, 1], "look": 3}},
         "options.group_sequential.look"),
        ({"group_sequential": {"information_fractions": [0.5, 1], "spending": "haybittle"}},
         "options.group_sequential.spending"),
        ({"group_sequential": {"information_fractions": [0.5, 1], "rho": 2}},
         "options.group_sequential.rho"),
        ({"group_sequential": {"information_fractions": [1], "spending": "power", "rho": 50}},
         "options.group_sequential.rho"),
        ({"group_sequential": {"information_fractions": [1], "step": 1}},
         "options.group_sequential.step"),
        ({"alpha": 0.6, "group_sequential": {"information_fractions": [1]}}, "options.alpha"),
    ],
)  # fmt: skip
def test_group_sequential_invalid_options_name_the_field(client, options, field):
    assert error_of(client.post("/ab/analyze", json=two_arm_body(options=options)))["field"] == (
        field
    )


def test_analyze_nan_literal_names_the_field(client):
    raw = json.dumps(two_arm_body()).replace('"sum": 120', '"sum": NaN')
    response = client.post("/ab/analyze", data=raw, content_type="application/json")
    assert error_of(response)["field"] == "variants[1].metrics.conversion.sum"


# --- POST /ab/analyze: Fisher, Beta-binomial, capping, CUPED of ratio metrics ---------------------


@pytest.mark.parametrize("sided", ["two-sided", "greater", "less"])
def test_fisher_read_out_matches_scipy_and_changes_nothing_else(client, sided):
    control, treatment = {"n": 40, "sum": 3}, {"n": 45, "sum": 11}
    spend = {"n": 40, "sum": 80, "sum_squares": 400}
    body = two_arm_body(control, treatment, options={"fisher": True, "sided": sided})
    for arm, n in zip(body["variants"], (40, 45), strict=True):
        arm["metrics"]["spend"] = {**spend, "n": n}
    result = client.post("/ab/analyze", json=body).get_json()
    conversion, spend_comparison = result["comparisons"]
    table = [[11, 34], [3, 37]]  # rows treatment, control; columns successes, failures
    reference = scipy_fisher_exact(table, alternative=sided)
    assert conversion["fisher"]["p_value"] == pytest.approx(reference.pvalue, rel=1e-9)
    assert conversion["fisher"]["odds_ratio"] == pytest.approx(reference.statistic, rel=1e-12)
    conditional = odds_ratio(table, kind="conditional").statistic
    assert conversion["fisher"]["conditional_odds_ratio"] == pytest.approx(conditional, rel=1e-8)
    assert conversion["fisher"]["skipped"] is None
    assert spend_comparison["fisher"] is None
    assert any("Fisher" in m for m in spend_comparison["messages"])
    # A separate read-out: the test, the flag and the decision are those without it.
    body["options"]["fisher"] = False
    plain = client.post("/ab/analyze", json=body).get_json()
    assert plain["comparisons"][0]["fisher"] is None
    for key in ("p_value", "p_value_adjusted", "significant", "relative", "method"):
        assert conversion[key] == plain["comparisons"][0][key]
    assert result["decision"] == plain["decision"]


def beta_posteriors(x_c, n_c, x_t, n_t):
    """Jeffreys' prior Beta(1/2, 1/2) updated by each arm's conversions."""
    return beta(x_c + 0.5, n_c - x_c + 0.5), beta(x_t + 0.5, n_t - x_t + 0.5)


@pytest.mark.parametrize("scale", ["relative", "absolute"])
def test_beta_binomial_model_matches_the_integrals_of_its_posteriors(client, scale):
    body = two_arm_body(
        {"n": 1000, "sum": 100},
        {"n": 1000, "sum": 128},
        options={"bayesian": {"model": "beta_binomial"}, "scale": scale},
    )
    result = client.post("/ab/analyze", json=body).get_json()
    (c,) = result["comparisons"]
    control, treatment = beta_posteriors(100, 1000, 128, 1000)
    chance = quad(lambda p: control.pdf(p) * treatment.sf(p), 0, 1, limit=400)[0]
    assert c["bayesian"]["model"] == "beta_binomial"
    # Four Monte Carlo standard errors of 100,000 draws.
    assert c["bayesian"]["chance_to_beat_control"] == pytest.approx(chance, abs=0.0012)

    def share_below(lift):  # P(lift <= L) = ∫ f_c(p) F_t(p + L) dp, or F_t(p (1 + L))
        shift = (lambda p: p + lift) if scale == "absolute" else (lambda p: p * (1 + lift))
        return quad(lambda p: control.pdf(p) * treatment.cdf(shift(p)), 0, 1, limit=400)[0]

    lower, upper = c["bayesian"]["credible_interval"]
    assert share_below(lower) == pytest.approx(0.025, abs=0.002)
    assert share_below(upper) == pytest.approx(0.975, abs=0.002)


def test_beta_binomial_falls_back_to_gaussian_for_means_and_ignores_cuped(client):
    cuped = {"covariate_sum": 50, "covariate_sum_squares": 50, "cross_product_sum": 30}
    body = two_arm_body(
        {"n": 1000, "sum": 100, **cuped},
        {"n": 1000, "sum": 120, **cuped},
        options={"bayesian": {"model": "beta_binomial"}},
    )
    for arm, total in zip(body["variants"], (500, 560), strict=True):
        arm["metrics"]["spend"] = {"n": 1000, "sum": total, "sum_squares": 3000}
    conversion, spend = client.post("/ab/analyze", json=body).get_json()["comparisons"]
    assert conversion["bayesian"]["model"] == "beta_binomial"
    assert conversion["method"].endswith("_cuped")
    assert any("ignores CUPED" in m for m in conversion["messages"])
    assert spend["bayesian"]["model"] == "gaussian"
    assert any("Gaussian" in m for m in spend["messages"])


CAPPED = {
    "control": [0.0, 3.0, 5.5, 0.0, 2.0, 8.0, 1.0, 250.0, 4.0, 0.0, 6.0, 2.5],
    "treatment": [4.0, 0.0, 6.5, 3.0, 9.5, 2.5, 7.0, 0.0, 480.0, 5.0, 3.5, 6.0, 1.0],
}


def capped_body(cap, control=None):
    control = control or {"values": CAPPED["control"]}
    return {
        "variants": [
            {"name": "control", "metrics": {"spend": control}},
            {"name": "treatment", "metrics": {"spend": {"values": CAPPED["treatment"]}}},
        ],
        "metrics": [{"name": "spend", "type": "mean", "role": "primary", "cap": cap}],
        "options": {"scale": "absolute"},
    }


@pytest.mark.parametrize(
    ("cap", "threshold"),
    [
        ({"value": 20}, 20.0),
        ({"quantile": 0.9}, np.quantile(CAPPED["control"] + CAPPED["treatment"], 0.9)),
        (
            {"quantile": 0.9, "ignore_zeros": True},
            np.quantile([v for v in CAPPED["control"] + CAPPED["treatment"] if v], 0.9),
        ),
    ],
)
def test_capped_mean_is_welch_on_the_capped_values(client, cap, threshold):
    response = client.post("/ab/analyze", json=capped_body(cap))
    assert response.status_code == 200, response.get_data(as_text=True)
    (c,) = response.get_json()["comparisons"]
    control, treatment = (np.minimum(CAPPED[arm], threshold) for arm in ("control", "treatment"))
    _, p, _ = ttest_ind(treatment, control, usevar="unequal")  # statsmodels
    assert c["p_value"] == pytest.approx(p, rel=1e-9)
    assert c["control"]["mean"] == pytest.approx(control.mean(), rel=1e-12)
    above = [int(np.sum(np.asarray(CAPPED[arm]) > threshold)) for arm in CAPPED]
    assert c["capping"] == {
        "threshold": pytest.approx(threshold, rel=1e-12),
        "capped_control": above[0],
        "capped_treatment": above[1],
    }
    assert any("count as" in m for m in c["messages"])
    # Mann-Whitney keeps ranking the raw values (scipy).
    raw = mannwhitneyu(CAPPED["treatment"], CAPPED["control"])
    assert c["mann_whitney"]["p_value"] == pytest.approx(raw.pvalue, rel=1e-12)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (capped_body({"value": 20}, {"n": 12, "sum": 30, "sum_squares": 900}), "metrics[0].cap"),
        (capped_body({"value": 20, "quantile": 0.9}), "metrics[0].cap"),
        (capped_body({}), "metrics[0].cap"),
        (capped_body({"quantile": 1.5}), "metrics[0].cap.quantile"),
        (capped_body({"value": "20"}), "metrics[0].cap.value"),
        (capped_body({"value": 20, "ignore_zeros": True}), "metrics[0].cap.ignore_zeros"),
        (capped_body({"quantile": 0.9, "ignore_zeros": 1}), "metrics[0].cap.ignore_zeros"),
        (capped_body({"percentile": 99}), "metrics[0].cap.percentile"),
        (
            {"variants": arms(2), "metrics": [{"name": "m", "type": "proportion", "cap": {}}]},
            "metrics[0].cap",
        ),
        (two_arm_body(options={"fisher": "yes"}), "options.fisher"),
        (two_arm_body(options={"bayesian": {"model": "poisson"}}), "options.bayesian.model"),
        (
            two_arm_body(options={"bayesian": {"model": "beta_binomial", "prior_sd": 0.1}}),
            "options.bayesian.prior_sd",
        ),
        (
            two_arm_body(options={"bayesian": {"model": "beta_binomial", "prior_mean": 0}}),
            "options.bayesian.prior_mean",
        ),
    ],
)
def test_read_out_and_capping_invalid_inputs_name_the_field(client, body, field):
    assert error_of(client.post("/ab/analyze", json=body))["field"] == field


def gbstats_ratio_arm(n, m, d, m_pre, d_pre, mm, dd, mp_dp, m_d, m_dp, mp_d):
    """gbstats' RegressionAdjustedRatioStatistic fields as an arm of the request."""
    return {
        "n": n,
        "sum": m[0],
        "sum_squares": m[1],
        "denominator_sum": d[0],
        "denominator_sum_squares": d[1],
        "numerator_denominator_sum": m_d,
        "covariate_sum": m_pre[0],
        "covariate_sum_squares": m_pre[1],
        "cross_product_sum": mm,
        "ratio_covariate": {
            "denominator_sum": d_pre[0],
            "denominator_sum_squares": d_pre[1],
            "numerator_denominator_sum": mp_dp,
            "metric_numerator_denominator_sum": m_dp,
            "metric_denominator_denominator_sum": dd,
            "metric_denominator_numerator_sum": mp_d,
        },
    }


GB_RATIO_CONTROL = gbstats_ratio_arm(*GBSTATS_RATIO_CONTROL)
GB_RATIO_TREATMENT = gbstats_ratio_arm(*GBSTATS_RATIO_TREATMENT)


def test_ratio_cuped_matches_the_gbstats_golden_values(client):
    # growthbook/growthbook packages/stats/tests/frequentist/test_tests.py,
    # test_two_sided_ttest_test_runs_ratio_ra (relative): expected -0.0007, sd 0.00391,
    # pValue 0.85771 (on n_a + n_b - 2 df; this engine's Welch df moves it by < 1e-4).
    body = two_arm_body(GB_RATIO_CONTROL, GB_RATIO_TREATMENT)
    (c,) = client.post("/ab/analyze", json=body).get_json()["comparisons"]
    assert (c["kind"], c["method"]) == ("ratio", "relative_welch_t_cuped")
    assert round(c["relative"]["estimate"], 4) == -0.0007
    assert round(c["relative"]["se"], 5) == 0.00391
    assert c["p_value"] == pytest.approx(0.85771, abs=1e-4)
    assert c["cuped"]["theta"] is not None and c["cuped"]["variance_reduction"] > 0
    assert not any("CUPED" in m for m in c["messages"])
    # Without the pre-period ratio's sums the metric stays unadjusted and says why.
    bare = {k: v for k, v in GB_RATIO_CONTROL.items() if k != "ratio_covariate"}
    body = two_arm_body(bare, GB_RATIO_TREATMENT)
    (c,) = client.post("/ab/analyze", json=body).get_json()["comparisons"]
    assert c["method"] == "relative_welch_t" and c["cuped"] is None
    assert any("ratio_covariate" in m for m in c["messages"])


RATIO_COVARIATE = "variants[0].metrics.conversion.ratio_covariate"


@pytest.mark.parametrize(
    ("control", "field"),
    [
        (
            {**GB_RATIO_CONTROL, "ratio_covariate": {"denominator_sum": 1.0}},
            RATIO_COVARIATE + ".denominator_sum_squares",
        ),
        (
            {
                **GB_RATIO_CONTROL,
                "ratio_covariate": {**GB_RATIO_CONTROL["ratio_covariate"], "e_sum": 1},
            },
            RATIO_COVARIATE + ".e_sum",
        ),
        (
            {
                **GB_RATIO_CONTROL,
                "ratio_covariate": {
                    **GB_RATIO_CONTROL["ratio_covariate"],
                    "denominator_sum_squares": 1.0,  # below (Σe)²/n: a negative variance
                },
            },
            RATIO_COVARIATE + ".denominator_sum_squares",
        ),
        (
            {k: v for k, v in GB_RATIO_CONTROL.items() if not k.startswith(("cov", "cross"))},
            RATIO_COVARIATE,
        ),
        (
            {"n": 100, "sum": 10, "ratio_covariate": GB_RATIO_CONTROL["ratio_covariate"]},
            RATIO_COVARIATE,
        ),
        ({**GB_RATIO_CONTROL, "ratio_covariate": [1, 2]}, RATIO_COVARIATE),
    ],
)
def test_ratio_covariate_invalid_inputs_name_the_field(client, control, field):
    body = two_arm_body(control, GB_RATIO_TREATMENT)
    assert error_of(client.post("/ab/analyze", json=body))["field"] == field


# --- POST /ab/analyze from the warehouse --------------------------------------------------------


def test_analyze_experiment_from_the_warehouse(client, warehouse):
    result = client.post("/ab/analyze", json={"experiment_id": "ab_even"}).get_json()
    assert result["experiment_id"] == "ab_even"
    (conversion,) = result["comparisons"]
    assert conversion["method"] == "relative_welch_t_cuped" and conversion["cuped"]["theta"]
    assert conversion["scale"] == "relative" and conversion["absolute"]["ci"] == [None, None]
    assert conversion["control"] == {"n": 5000.0, "mean": 0.1}


def test_broken_split_in_the_warehouse_is_do_not_ship(client, warehouse):
    result = client.post("/ab/analyze", json={"experiment_id": "broken_split"}).get_json()
    assert result["srm"]["p_value"] < 1e-6
    assert result["decision"]["verdict"] == "DO NOT SHIP"
    assert result["decision"]["reasons"][0]["code"] == "srm_failed"
    assert [c["metric"] for c in result["comparisons"]] == ["revenue_per_user", "conversion"]
    assert result["comparisons"][0]["role"] == "primary"


def test_the_decision_is_worded_in_the_locale_asked_for(client, warehouse):
    """The body's locale, else Accept-Language (as a download of GET /ab/experiments/<id>
    chooses), else en-US; only the decision's words change (tests/unit/stats/test_wording.py
    checks them and their numbers)."""
    stored = {"experiment_id": "broken_split"}
    english = client.post("/ab/analyze", json=stored)
    german = client.post("/ab/analyze", json={**stored, "locale": "de-DE"})
    asked = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    by_header = client.post("/ab/analyze", json=stored, headers=asked)
    assert (english.get_json()["locale"], german.get_json()["locale"]) == ("en-US", "de-DE")
    assert by_header.get_json() == german.get_json()
    assert "Accept-Language" in german.headers["Vary"]
    body_first = client.post("/ab/analyze", json={**stored, "locale": "en-US"}, headers=asked)
    assert body_first.get_json() == english.get_json()
    unknown_language = client.post("/ab/analyze", json=stored, headers={"Accept-Language": "fr"})
    assert unknown_language.get_json() == english.get_json()  # a header is a preference
    en, de = english.get_json(), german.get_json()
    worded = ("locale", "decision", "decisions")
    assert {k: v for k, v in en.items() if k not in worded} == {
        k: v for k, v in de.items() if k not in worded
    }
    assert de["decision"]["verdict"] == en["decision"]["verdict"] == "DO NOT SHIP"
    assert de["decision"]["summary"].startswith(
        "treatment nicht ausrollen. Die Aufteilung des Traffics entspricht nicht den geplanten "
        "Gewichten (SRM p = "
    )
    assert en["decision"]["summary"].startswith("Do not ship treatment. The traffic split")
    given = client.post("/ab/analyze", json=two_arm_body(locale="de-DE")).get_json()
    assert given["locale"] == "de-DE"
    assert given["decision"]["summary"].startswith("Nicht eindeutig: ")  # 10% vs 12%, n = 1000


def test_an_arm_nobody_reached_counts_zero(client, warehouse):
    result = client.post("/ab/analyze", json={"experiment_id": "three_arms"}).get_json()
    assert [v["units"] for v in result["variants"]] == [4000.0, 2000.0, 0.0]
    assert result["srm"]["passed"] is False  # 2000 planned for c, none seen
    assert result["comparisons"][1]["messages"]


def test_warehouse_options_and_errors(client, warehouse):
    body = {"experiment_id": "ab_even", "options": {"weights": [0.5, 0.5]}}
    assert error_of(client.post("/ab/analyze", json=body))["field"] == "options.weights"
    unknown_experiment(client.post("/ab/analyze", json={"experiment_id": "nope"}))


def test_missing_warehouse_is_503_and_a_broken_one_502(client, execkpi_env):
    error = error_of(client.post("/ab/analyze", json={"experiment_id": "ab_even"}), 503)
    assert error["code"] == "warehouse_unavailable"
    duckdb.connect(execkpi_env["EXECKPI_DUCKDB_PATH"]).close()  # exists, but has no tables
    error = error_of(client.post("/ab/analyze", json={"experiment_id": "ab_even"}), 502)
    assert error["code"] == "warehouse_error" and "select" not in error["message"].lower()


# --- POST /ab/breakdown ---------------------------------------------------------------------


def test_breakdown_by_country_against_statsmodels_and_scipy(client, warehouse):
    body = {"experiment_id": "ab_even", "dimension": "country", "options": {"scale": "absolute"}}
    response = client.post("/ab/breakdown", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert "exploratory" in result["warning"]
    assert result["correction_across_values"] == "holm"
    assert [v["dimension_value"] for v in result["values"]] == ["US", "DE", "JP", "other"]
    # The references: statsmodels' pooled z-test per country (the absolute scale's), Holm across
    # the countries with statsmodels' multipletests, scipy's chi-square against the 50/50 plan.
    raw = [
        proportions_ztest([t_x, c_x], [t_n, c_n])[1]
        for (c_n, c_x), (t_n, t_x) in BY_COUNTRY.values()
    ]
    reject, holm, _, _ = multipletests(raw, alpha=0.05, method="holm")
    for value, p, adjusted, significant in zip(result["values"], raw, holm, reject, strict=True):
        (c_n, _), (t_n, _) = BY_COUNTRY[value["dimension_value"]]
        (conversion,) = value["comparisons"]
        assert conversion["method"] == "two_proportion_z"
        assert conversion["p_value"] == pytest.approx(p, rel=1e-9)
        assert conversion["p_value_across_values"] == pytest.approx(adjusted, rel=1e-9)
        assert conversion["significant_across_values"] == bool(significant)
        assert value["units"] == c_n + t_n
        assert value["srm"]["p_value"] == pytest.approx(chisquare([c_n, t_n]).pvalue, rel=1e-9)
        assert "decision" not in value  # a segment's read-out is no verdict
    assert [v["srm"]["passed"] for v in result["values"]] == [False, True, False, True]
    assert sum(reject) >= 1 and not all(reject)  # the correction has something to decide


def test_breakdown_correction_and_options_apply(client, warehouse):
    body = {
        "experiment_id": "ab_even",
        "dimension": "country",
        "correction_across_values": "bonferroni",
        "options": {"alpha": 0.01},
    }
    result = client.post("/ab/breakdown", json=body).get_json()
    raw = [v["comparisons"][0]["p_value"] for v in result["values"]]
    reject, bonferroni, _, _ = multipletests(raw, alpha=0.01, method="bonferroni")
    adjusted = [v["comparisons"][0]["p_value_across_values"] for v in result["values"]]
    assert adjusted == pytest.approx(list(bonferroni), rel=1e-12)
    assert [v["comparisons"][0]["significant_across_values"] for v in result["values"]] == [
        bool(r) for r in reject
    ]
    assert result["options"]["alpha"] == 0.01


def test_breakdown_of_an_experiment_without_rows_is_empty(client, warehouse):
    body = {"experiment_id": "future_launch", "dimension": "browser"}
    result = client.post("/ab/breakdown", json=body).get_json()
    assert result["values"] == [] and result["warning"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dimension": "country"}, "experiment_id"),
        ({"experiment_id": "ab_even"}, "dimension"),
        ({"experiment_id": "ab_even", "dimension": "device"}, "dimension"),
        ({"experiment_id": 7, "dimension": "country"}, "experiment_id"),
        (
            {"experiment_id": "ab_even", "dimension": "country", "correction_across_values": "x"},
            "correction_across_values",
        ),
        (
            {"experiment_id": "ab_even", "dimension": "country", "options": {"alpha": 2}},
            "options.alpha",
        ),
        (
            {"experiment_id": "ab_even", "dimension": "country", "options": {"weights": [1, 0]}},
            "options.weights",
        ),
        ({"experiment_id": "ab_even", "dimension": "country", "breakdown": 1}, "breakdown"),
    ],
)
def test_breakdown_invalid_inputs_name_the_field(client, warehouse, body, field):
    assert error_of(client.post("/ab/breakdown", json=body))["field"] == field


# --- GET /ab/experiments ------------------------------------------------------------------------


def test_experiments_list_their_definition_and_status_on_the_build_day(client, warehouse):
    response = client.get("/ab/experiments")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["as_of"], body["as_of_source"]) == (BUILT_ON, "marts_built")
    by_id = {e["experiment_id"]: e for e in body["experiments"]}
    assert sorted(by_id) == KNOWN
    assert {k: e["status"] for k, e in by_id.items()} == {
        "ab_even": "finished",
        "broken_split": "running",
        "three_arms": "running",
        "future_launch": "planned",
    }
    three_arms = by_id["three_arms"]
    assert three_arms["variants"] == [
        {"name": "control", "weight": 0.5, "control": True},
        {"name": "b", "weight": 0.25, "control": False},
        {"name": "c", "weight": 0.25, "control": False},
    ]
    assert (three_arms["start_date"], three_arms["end_date"]) == ("2026-10-01", None)
    broken = by_id["broken_split"]
    assert (broken["primary_metric"], broken["other_metrics"]) == (
        "revenue_per_user",
        ["conversion"],
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("planned", ["future_launch"]),
        ("running", ["broken_split", "three_arms"]),
        ("finished", ["ab_even"]),
    ],
)
def test_experiments_filter_by_status(client, warehouse, status, expected):
    body = client.get("/ab/experiments", query_string={"status": status}).get_json()
    assert [e["experiment_id"] for e in body["experiments"]] == expected


def test_experiments_without_a_build_day_use_today_in_the_reporting_zone(client, warehouse):
    with duckdb.connect(warehouse) as con:
        con.execute("delete from execkpi_marts.ab_experiments")
    body = client.get("/ab/experiments").get_json()
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the default EXECKPI_TIME_ZONE
    assert (body["as_of"], body["as_of_source"]) == (today.isoformat(), "today")
    statuses = {e["experiment_id"]: e["status"] for e in body["experiments"]}
    if today < date(2026, 11, 1):
        expected = "planned"
    else:
        expected = "running" if today <= date(2026, 11, 28) else "finished"
    assert statuses["future_launch"] == expected


def test_one_experiment_and_an_unknown_one(client, warehouse):
    body = client.get("/ab/experiments/future_launch").get_json()
    assert (body["experiment_id"], body["status"], body["as_of"]) == (
        "future_launch",
        "planned",
        BUILT_ON,
    )
    unknown_experiment(client.get("/ab/experiments/nope"))
    unknown_experiment(
        client.post("/ab/breakdown", json={"experiment_id": "nope", "dimension": "country"})
    )


@pytest.mark.parametrize(
    ("query", "field"), [({"status": "done"}, "status"), ({"state": "running"}, "state")]
)
def test_experiments_invalid_query_names_the_field(client, warehouse, query, field):
    assert error_of(client.get("/ab/experiments", query_string=query))["field"] == field


# --- GET /ab/experiments/<experiment_id>/timeline -------------------------------------------------

# ab_even day by day (ab_metrics_cumulative): on its last day, its ab_metrics rows.
CUMULATIVE = [
    ("ab_even", "control", "conversion", "2026-09-01", 1000, 90, 90, 60, 60, 20),
    ("ab_even", "treatment", "conversion", "2026-09-01", 1000, 120, 120, 62, 62, 25),
    ("ab_even", "control", "conversion", "2026-09-02", 3000, 290, 290, 180, 180, 70),
    ("ab_even", "treatment", "conversion", "2026-09-02", 3000, 350, 350, 190, 190, 80),
    *[(e, v, m, "2026-09-03", *stats) for e, v, m, *stats in AB_METRICS if e == "ab_even"],
]
TIMELINE = "/ab/experiments/ab_even/timeline"


@pytest.fixture
def timeline_warehouse(warehouse):
    with duckdb.connect(warehouse) as con:
        con.execute(
            "create table execkpi_marts.ab_metrics_cumulative as select experiment_id, variant, "
            "metric, cast(null as date) as day, * exclude (experiment_id, variant, metric) "
            "from execkpi_marts.ab_metrics limit 0"
        )
        con.executemany(
            "insert into execkpi_marts.ab_metrics_cumulative values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            CUMULATIVE,
        )
    return warehouse


def test_the_timeline_ends_at_the_analysis_of_the_warehouse(client, timeline_warehouse):
    body = client.get(TIMELINE).get_json()
    assert body["days"] == ["2026-09-01", "2026-09-02", "2026-09-03"]
    assert (body["control"], body["options"]["scale"], body["options"]["cuped"]) == (
        "control",
        "relative",
        True,
    )
    (series,) = body["series"]
    assert (series["metric"], series["variant"], series["scale"], series["unit"]) == (
        "conversion",
        "treatment",
        "relative",
        "ratio",
    )
    points = series["points"]
    assert [(p["day"], p["control_n"], p["treatment_n"]) for p in points] == [
        ("2026-09-01", 1000.0, 1000.0),
        ("2026-09-02", 3000.0, 3000.0),
        ("2026-09-03", 5000.0, 5000.0),
    ]
    (c,) = client.post("/ab/analyze", json={"experiment_id": "ab_even"}).get_json()["comparisons"]
    last = points[-1]
    assert (last["estimate"], [last["ci_lower"], last["ci_upper"]]) == (
        c["relative"]["estimate"],
        c["relative"]["ci"],
    )
    for key in ("p_value", "p_value_adjusted", "significant", "ci_level"):
        assert last[key] == c[key], key
    assert (last["control_mean"], last["treatment_mean"]) == (0.1, 0.12)


def test_a_timeline_day_against_statsmodels(client, timeline_warehouse):
    query = {"scale": "absolute", "cuped": "false"}
    body = client.get(TIMELINE, query_string=query).get_json()
    (series,) = body["series"]
    assert (series["scale"], series["unit"]) == ("absolute", "ratio")
    first = series["points"][0]  # 120 of 1,000 treatment users converted, 90 of 1,000 controls
    assert first["estimate"] == pytest.approx(0.03, rel=1e-12)
    assert first["p_value"] == pytest.approx(
        proportions_ztest([120, 90], [1000, 1000])[1], rel=1e-9
    )
    ci = [first["ci_lower"], first["ci_upper"]]
    # The score interval that inverts the test, checked through scipy: statsmodels' own is off
    # by 1e-4 at this size (statsmodels issue #10269, see tests/support/score_reference.py).
    counts = {"a_success": 90, "a_total": 1000, "b_success": 120, "b_total": 1000}
    assert_score_interval(ci, counts, 0.05)


def test_a_timeline_without_days_and_one_metric_only(client, timeline_warehouse):
    body = client.get("/ab/experiments/future_launch/timeline").get_json()
    assert (body["days"], body["series"]) == ([], [])
    body = client.get(TIMELINE, query_string={"metric": "revenue_per_user"}).get_json()
    assert (len(body["days"]), body["series"]) == (3, [])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"metric": "aov"}, "metric"),
        ({"scale": "log"}, "scale"),
        ({"cuped": "yes"}, "cuped"),
        ({"day": "2026-09-01"}, "day"),
    ],
)
def test_timeline_invalid_query_names_the_field(client, timeline_warehouse, query, field):
    assert error_of(client.get(TIMELINE, query_string=query))["field"] == field


def test_timeline_of_an_unknown_experiment(client, timeline_warehouse):
    unknown_experiment(client.get("/ab/experiments/nope/timeline"))


# --- POST /ab/power -----------------------------------------------------------------------------


def test_power_sample_size_mde_and_power(client):
    # The default method is pooled (it was arcsine): statsmodels' power_proportions_2indep.
    body = client.post("/ab/power", json={"baseline": 0.1, "mde": 0.1}).get_json()
    reached = power_proportions_2indep(0.01, 0.1, body["n_per_arm_exact"], return_results=False)
    assert body["solved_for"] == "n_per_arm" and body["method"] == "pooled"
    assert reached == pytest.approx(0.8, abs=1e-9)
    mde = client.post("/ab/power", json={"baseline": 0.1, "n_per_arm": body["n_per_arm"]})
    assert mde.get_json()["mde_relative"] == pytest.approx(0.1, rel=1e-3)
    power = client.post("/ab/power", json={"baseline": 0.1, "mde": 0.1, "n_per_arm": 20000})
    assert power.get_json()["power"] > 0.8
    mean = {"metric": "mean", "baseline": 50, "sd": 20, "mde": 2, "mde_type": "absolute"}
    assert client.post("/ab/power", json=mean).get_json()["effect_size"] == pytest.approx(0.1)
    arcsine = client.post("/ab/power", json={"baseline": 0.1, "mde": 0.1, "method": "arcsine"})
    expected = NormalIndPower().solve_power(proportion_effectsize(0.11, 0.1), alpha=0.05, power=0.8)
    assert arcsine.get_json()["n_per_arm_exact"] == pytest.approx(expected, rel=1e-6)


def test_power_answer_states_its_assumptions_and_days(client):
    request = {
        "baseline": 0.05, "mde": 0.1, "arms": 3, "ratio": 2, "daily_traffic": 2000,
        "sequential": {"tuning": 10000}, "method": "unpooled",
    }  # fmt: skip
    body = client.post("/ab/power", json=request).get_json()
    assert body["assumptions"] == {
        "method": "unpooled", "alpha": 0.05, "alpha_per_comparison": 0.025, "power": 0.8,
        "sided": "two-sided", "arms": 3, "correction": "bonferroni", "ratio": 2.0,
        "allocation": [0.2, 0.4, 0.4], "sequential_tuning": 10000, "daily_traffic": 2000,
    }  # fmt: skip
    control = body["n_per_arm"]
    assert body["arm_sizes"][0] == control and body["total"] == sum(body["arm_sizes"])
    assert body["days"] == -(-5 * body["n_per_arm_exact"] // 2000)
    assert body["mde_absolute"] == pytest.approx(0.005) and body["mde_relative"] == pytest.approx(
        0.1
    )
    by_days = {"baseline": 0.05, "days": 14, "daily_traffic": 2000, "arms": 3}
    answer = client.post("/ab/power", json=by_days).get_json()
    assert answer["solved_for"] == "mde" and answer["days"] == 14 and answer["total"] >= 28000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"baseline": 1.5, "mde": 0.1}, "baseline"),
        ({"baseline": 0.1}, "mde"),
        ({"baseline": 0.1, "mde": 0}, "mde"),
        ({"baseline": 0.9, "mde": 0.5}, "mde"),
        ({"baseline": 0.1, "mde": 0.1, "power": 0.01}, "power"),
        ({"baseline": 0.1, "mde": 0.1, "n_per_arm": 100, "power": 0.9}, "power"),
        ({"baseline": 0.1, "mde": 0.1, "alpha": 1}, "alpha"),
        ({"metric": "mean", "baseline": 10, "mde": 0.1}, "sd"),
        ({"baseline": 0.1, "mde": 0.1, "tails": 1}, "tails"),
        ({"baseline": 0.1, "mde": 10**400}, "mde"),
        ({"baseline": 0.1, "mde": 0.1, "method": "t"}, "method"),
        ({"metric": "mean", "baseline": 1, "sd": 1, "mde": 1, "method": "pooled"}, "method"),
        ({"baseline": 0.1, "mde": 0.1, "sided": "greater"}, "sided"),
        ({"baseline": 0.1, "mde": 0.1, "arms": 1}, "arms"),
        ({"baseline": 0.1, "mde": 0.1, "arms": 2.5}, "arms"),
        ({"baseline": 0.1, "mde": 0.1, "ratio": 0}, "ratio"),
        ({"baseline": 0.1, "mde": 0.1, "ratio": 1e9}, "ratio"),
        ({"baseline": 0.1, "n_per_arm": 3, "ratio": 0.1}, "ratio"),
        ({"baseline": 0.1, "mde": 0.1, "sequential": True, "sided": "one-sided"}, "sequential"),
        ({"baseline": 0.1, "mde": 0.1, "sequential": {"tuning": 0}}, "sequential.tuning"),
        ({"baseline": 0.1, "mde": 0.1, "sequential": {"rho": 1}}, "sequential.rho"),
        (
            {"metric": "mean", "baseline": 1, "sd": 1, "mde": 1, "sequential": True, "method": "t"},
            "method",
        ),
        ({"baseline": 0.1, "days": 14}, "daily_traffic"),
        ({"baseline": 0.1, "days": 14, "n_per_arm": 100, "daily_traffic": 10}, "days"),
        ({"baseline": 0.1, "days": 1e300, "daily_traffic": 1e15}, "days"),
        ({"baseline": 0.1, "mde": 0.1, "daily_traffic": 1e-300}, "daily_traffic"),
    ],
)
def test_power_invalid_inputs_name_the_field(client, body, field):
    assert error_of(client.post("/ab/power", json=body))["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [  # before: a 500 (division by 0, NaN, overflow) or an absurd size (1e300 units, 0 units)
        ({"baseline": 0.1, "n_per_arm": 1e308}, "n_per_arm"),
        ({"baseline": 5e-324, "mde": 0.5}, "mde"),
        ({"baseline": 1e-300, "mde": 0.1}, "mde"),
        ({"baseline": 1e-300, "mde": 0.1, "method": "delta"}, "baseline"),
        ({"baseline": 0.5, "mde": 1e-17, "mde_type": "absolute"}, "mde"),
        ({"baseline": 0.1, "mde": 0.1, "alpha": 1e-300}, "alpha"),
        ({"baseline": 0.1, "mde": 0.1, "power": 1 - 1e-16}, "power"),
        (
            {"metric": "mean", "baseline": 1, "sd": 1e-300, "mde": 1e300, "mde_type": "absolute"},
            "sd",
        ),
        ({"metric": "mean", "baseline": 1e300, "sd": 1, "mde": 0.1}, "baseline"),
        (
            {"metric": "mean", "baseline": 1e-140, "sd": 1e140, "mde": 0.1, "method": "delta"},
            "baseline",
        ),
    ],
)
def test_power_extreme_inputs_are_refused_by_name(client, body, field):
    assert error_of(client.post("/ab/power", json=body))["field"] == field


@pytest.mark.parametrize(
    "body",
    [
        {"baseline": 1e-12, "n_per_arm": 1e15},
        {"baseline": 1 - 1e-12, "n_per_arm": 2, "power": 0.999999},
        {"baseline": 0.5, "mde": 0.4999999999, "mde_type": "absolute"},
        {"baseline": 0.1, "mde": 0.1, "alpha": 1e-6, "power": 0.999999, "arms": 20},
        {"metric": "mean", "baseline": 5, "sd": 1, "n_per_arm": 2, "alpha": 1e-6, "arms": 20},
        {"metric": "mean", "baseline": 1, "sd": 1e11, "n_per_arm": 1e15, "method": "delta"},
        {"baseline": 0.3, "mde": 0.01, "sequential": {"tuning": 1e15}, "daily_traffic": 1e-3},
        {"baseline": 0.3, "n_per_arm": 2, "ratio": 1000, "alpha": 0.999, "power": 0.9999},
        # before: a 500, the mde relative to a mean this near 0 overflowing to infinity
        {"metric": "mean", "baseline": 6e-308, "sd": 2, "n_per_arm": 2},
        {"metric": "mean", "baseline": -6e-201, "sd": 6.6e149, "n_per_arm": 3e14, "arms": 9},
    ],
)
def test_power_extreme_inputs_get_defined_answers(client, body):
    response = client.post("/ab/power", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert 0 < answer["power"] < 1 and answer["n_per_arm"] >= 2
    assert answer["mde_absolute"] is not None or answer["message"]


# --- GET /ab/assign -----------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["1", "42", "99999", "a-user"])
def test_assignment_agrees_with_the_shared_hash(client, user_id):
    query = {
        "experiment_id": "exp",
        "user_id": user_id,
        "variants": "a,b,c",
        "weights": "0.2,0.3,0.5",
    }
    body = client.get("/ab/assign", query_string=query).get_json()
    assert body["variant"] == assign_variant("exp", user_id, ["a", "b", "c"], [0.2, 0.3, 0.5])


def test_assignment_reads_the_experiment_definition(client, warehouse):
    for user_id in range(20):
        query = {"experiment_id": "three_arms", "user_id": str(user_id)}
        body = client.get("/ab/assign", query_string=query).get_json()
        expected = assign_variant("three_arms", user_id, ["control", "b", "c"], [0.5, 0.25, 0.25])
        assert body["variant"] == expected
    missing = client.get("/ab/assign", query_string={"experiment_id": "nope", "user_id": "1"})
    unknown_experiment(missing)


USER = {"experiment_id": "e", "user_id": "1"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"experiment_id": "e"}, "user_id"),
        ({"user_id": "1"}, "experiment_id"),
        ({**USER, "variants": "a"}, "variants"),
        ({**USER, "variants": "a,b", "weights": "0.7,0.7"}, "weights"),
        ({**USER, "variants": "a,b", "weights": "x,1"}, "weights[0]"),
        ({**USER, "weights": "1"}, "weights"),
        ({**USER, "seed": "3"}, "seed"),
    ],
)
def test_assignment_invalid_inputs_name_the_field(client, query, field):
    assert error_of(client.get("/ab/assign", query_string=query))["field"] == field


# --- routing ------------------------------------------------------------------------------------


def test_unknown_path_and_wrong_method(client):
    assert error_of(client.get("/ab/nope"), 404)["field"] == "path"
    response = client.get("/ab/test")
    assert error_of(response, 405)["field"] == "method"
    assert response.headers["Allow"] == "POST"
    assert client.post("/ab/assign").status_code == 405


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"fisher": True}, "options.fisher"),
        ({"bayesian": {"model": "beta_binomial"}}, "options.bayesian.model"),
    ],
)
def test_costly_read_outs_are_bounded_per_request(client, options, field):
    metrics = {f"m{i}": {"n": 1000, "sum": 100 + i} for i in range(9)}
    body = {
        "variants": [{"name": "control", "metrics": metrics}, {"name": "b", "metrics": metrics}],
        "options": options,
    }
    error = error_of(client.post("/ab/analyze", json=body))
    assert error["field"] == field and "at most 8" in error["message"]
    body["variants"][1]["metrics"] = body["variants"][0]["metrics"] = dict(
        list(metrics.items())[:8]
    )
    assert client.post("/ab/analyze", json=body).status_code == 200
