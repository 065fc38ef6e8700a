"""abtest through functions-framework's own app: real requests, real responses."""

import json

import duckdb
import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import chisquare, norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

from common.experiments import assign_variant

README_EXAMPLE = {"a_success": 13880, "a_total": 49962, "b_success": 13971, "b_total": 50038}

# A warehouse holding just the tables abtest reads, with recs_carousel's broken split at
# the size the generator documents for 100k users (8,603 vs 7,838 exposed).
EXPERIMENTS = [
    ("ab_even", "2026-09-01", "2026-09-28", "conversion"),
    ("broken_split", "2026-10-01", "2026-10-28", "revenue_per_user"),
    ("three_arms", "2026-10-01", None, "conversion"),
]
EXPERIMENT_VARIANTS = [
    ("ab_even", 1, "control", 0.5),
    ("ab_even", 2, "treatment", 0.5),
    ("broken_split", 1, "control", 0.5),
    ("broken_split", 2, "treatment", 0.5),
    ("three_arms", 3, "c", 0.25),  # stored out of order: variant_index orders the arms
    ("three_arms", 1, "control", 0.5),
    ("three_arms", 2, "b", 0.25),
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
    return execkpi_env["EXECKPI_DUCKDB_PATH"]


@pytest.fixture
def client(function_client):
    return function_client("abtest")


def error_of(response, status=400):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


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


def score_statistic(a_success, a_total, b_success, b_total, delta):
    """The score statistic of rate B - rate A = delta, its variance at the rates that maximise
    the likelihood under that hypothesis, found numerically (scipy). statsmodels' own score
    interval for a difference solves a cubic with a wrong coefficient (statsmodels #10269), so
    each bound is checked here to be where this statistic reaches ±critical."""
    x1, n1, x0, n0 = b_success, b_total, a_success, a_total

    def minus_loglik(p0):
        p1 = p0 + delta
        return -(
            x1 * np.log(p1)
            + (n1 - x1) * np.log1p(-p1)
            + x0 * np.log(p0)
            + (n0 - x0) * np.log1p(-p0)
        )

    bounds = (max(0.0, -delta) + 1e-12, min(1.0, 1 - delta) - 1e-12)
    p0 = minimize_scalar(minus_loglik, bounds=bounds, method="bounded", options={"xatol": 1e-14}).x
    p1 = p0 + delta
    return (x1 / n1 - x0 / n0 - delta) / np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)


def assert_score_interval(interval, counts, alpha):
    """Both bounds invert the score test at alpha (a bound at ±1 is the parameter's end)."""
    critical = norm.isf(alpha / 2)
    for bound, sign in zip(interval, (1, -1), strict=True):
        if abs(bound) < 1:
            assert score_statistic(**counts, delta=bound) == pytest.approx(
                sign * critical, abs=1e-6
            )


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


def test_sample_is_the_readme_example_and_posts_back_as_curl_sends_it(client):
    sample = client.get("/ab/sample")
    assert sample.status_code == 200 and sample.get_json() == README_EXAMPLE
    # curl /ab/sample | curl -d @- /ab/test: curl -d says form-urlencoded, the body is the JSON
    form = "application/x-www-form-urlencoded"
    response = client.post("/ab/test", data=sample.get_data(), content_type=form)
    assert response.status_code == 200 and round(response.get_json()["p_value"], 4) == 0.6223
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
        (two_arm_body(options={"sequential": True, "sided": "greater"}), "options.sequential"),
        (two_arm_body(options={"sequential": {"tuning": 0}}), "options.sequential.tuning"),
        (two_arm_body(extra_field=1), "extra_field"),
        ({"variants": arms(1)}, "variants"),
        ({"variants": arms(21)}, "variants"),
        ({"variants": [*arms(1), TWIN]}, "variants[1].name"),
        ({"variants": [*arms(1), STRANGER]}, "variants[1].metrics.other"),
        ({"variants": arms(2), "metrics": [{"name": "m", "type": "median"}]}, "metrics[0].type"),
        ({"variants": arms(2), "experiment_id": "ab_even"}, "variants"),
        ({}, "variants"),
    ],
)
def test_analyze_invalid_inputs_name_the_field(client, body, field):
    assert error_of(client.post("/ab/analyze", json=body))["field"] == field


def test_analyze_nan_literal_names_the_field(client):
    raw = json.dumps(two_arm_body()).replace('"sum": 120', '"sum": NaN')
    response = client.post("/ab/analyze", data=raw, content_type="application/json")
    assert error_of(response)["field"] == "variants[1].metrics.conversion.sum"


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


def test_an_arm_nobody_reached_counts_zero(client, warehouse):
    result = client.post("/ab/analyze", json={"experiment_id": "three_arms"}).get_json()
    assert [v["units"] for v in result["variants"]] == [4000.0, 2000.0, 0.0]
    assert result["srm"]["passed"] is False  # 2000 planned for c, none seen
    assert result["comparisons"][1]["messages"]


def test_warehouse_options_and_errors(client, warehouse):
    body = {"experiment_id": "ab_even", "options": {"weights": [0.5, 0.5]}}
    assert error_of(client.post("/ab/analyze", json=body))["field"] == "options.weights"
    unknown = client.post("/ab/analyze", json={"experiment_id": "nope"})
    assert error_of(unknown, 404)["field"] == "experiment_id"


def test_missing_warehouse_is_503_and_a_broken_one_502(client, execkpi_env):
    error = error_of(client.post("/ab/analyze", json={"experiment_id": "ab_even"}), 503)
    assert error["code"] == "warehouse_unavailable"
    duckdb.connect(execkpi_env["EXECKPI_DUCKDB_PATH"]).close()  # exists, but has no tables
    error = error_of(client.post("/ab/analyze", json={"experiment_id": "ab_even"}), 502)
    assert error["code"] == "warehouse_error" and "select" not in error["message"].lower()


# --- POST /ab/power -----------------------------------------------------------------------------


def test_power_sample_size_mde_and_power(client):
    body = client.post("/ab/power", json={"baseline": 0.1, "mde": 0.1}).get_json()
    expected = NormalIndPower().solve_power(proportion_effectsize(0.11, 0.1), alpha=0.05, power=0.8)
    assert body["solved_for"] == "n_per_arm"
    assert body["n_per_arm_exact"] == pytest.approx(expected, rel=1e-6)
    mde = client.post("/ab/power", json={"baseline": 0.1, "n_per_arm": body["n_per_arm"]})
    assert mde.get_json()["mde_relative"] == pytest.approx(0.1, rel=1e-3)
    power = client.post("/ab/power", json={"baseline": 0.1, "mde": 0.1, "n_per_arm": 20000})
    assert power.get_json()["power"] > 0.8
    mean = {"metric": "mean", "baseline": 50, "sd": 20, "mde": 2, "mde_type": "absolute"}
    assert client.post("/ab/power", json=mean).get_json()["effect_size"] == pytest.approx(0.1)


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
    ],
)
def test_power_invalid_inputs_name_the_field(client, body, field):
    assert error_of(client.post("/ab/power", json=body))["field"] == field


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
    assert error_of(missing, 404)["field"] == "experiment_id"


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
