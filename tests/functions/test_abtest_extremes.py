"""Extreme inputs through every A/B route: a 4xx naming the field or a defined answer, never a
5xx. The sweep is the benchmark's (scripts/benchmarks/ab_extremes.py) at a smaller width."""

import json

import pytest

from common.validation import MAX_COUNT
from scripts.benchmarks.ab_extremes import LEGACY, send, sweep


def _params() -> list:
    return [pytest.param(case, id=case.label) for case in sweep(arms=4, metrics=5)]


@pytest.fixture
def client(function_client):
    return function_client("abtest")


@pytest.mark.parametrize("case", _params())
def test_no_extreme_input_gets_a_5xx(client, case):
    outcome = send(client, case)
    assert outcome.status < 500


def field_of(response):
    assert response.status_code == 400, response.get_data(as_text=True)
    return response.get_json()["error"]["field"]


def two_arms(control, treatment=None, **extra):
    treatment = treatment or {"n": 10, "sum": 5, "sum_squares": 30}
    metrics = [{"m": control}, {"m": treatment}]
    return {"variants": [{"name": f"v{i}", "metrics": m} for i, m in enumerate(metrics)], **extra}


M = "variants[0].metrics.m."
MEAN = {"n": 9, "sum": 1, "sum_squares": 1}
PRIOR_SD = "options.bayesian.prior_sd"  # its square must be a positive float64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (two_arms({"n": MAX_COUNT + 1, "sum": 1}), M + "n"),
        (two_arms({"n": 10, "sum": 1, "sum_squares": 1e300}), M + "sum_squares"),
        (
            two_arms(
                {
                    "n": 10,
                    "sum": 1,
                    "sum_squares": 1,
                    "covariate_sum": 1,
                    "covariate_sum_squares": 1,
                    "cross_product_sum": -1e300,
                }
            ),
            M + "cross_product_sum",
        ),
        (two_arms({"values": [1e308, -1e308]}), M + "values"),
        (two_arms({"values": [1e154, 1e154]}), M + "values"),  # squares finite, their sum not
        (two_arms({"values": [1e149] * 1000}), M + "values"),  # 1000·Σv² = 1e304
        (
            {
                "variants": [
                    {"name": "a", "units": 1e308, "metrics": {"m": {"n": 1, "sum": 1}}},
                    {"name": "b", "metrics": {"m": {"n": 1, "sum": 1}}},
                ]
            },
            "variants[0].units",
        ),
        (two_arms(MEAN, options={"bayesian": {"prior_sd": 1e-308}}), PRIOR_SD),
        (two_arms(MEAN, options={"bayesian": {"prior_sd": 1e200}}), PRIOR_SD),
    ],
)
def test_statistics_beyond_float64_name_the_field(client, body, field):
    assert field_of(client.post("/ab/analyze", json=body)) == field


def test_statistics_at_the_limits_are_analysed(client):
    n = MAX_COUNT
    squares = 1e300 / n  # n·Σv² exactly at the limit
    at_limit = {"n": n, "sum": (squares * n) ** 0.5 / 2, "sum_squares": squares}
    response = client.post("/ab/analyze", json=two_arms(at_limit, at_limit))
    assert response.status_code == 200
    assert response.get_json()["comparisons"][0]["p_value"] == pytest.approx(1.0)
    proportions = two_arms({"n": n, "sum": n // 2}, {"n": n, "sum": n // 2 + 10**8})
    assert client.post("/ab/analyze", json=proportions).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [({"a_total": MAX_COUNT + 1}, "a_total"), ({"b_success": 2.0**60}, "b_success")],
)
def test_original_payload_counts_beyond_2_53(client, change, field):
    assert field_of(client.post("/ab/test", json={**LEGACY, **change})) == field


@pytest.mark.parametrize("path", ["/ab/test", "/ab/analyze", "/ab/power"])
def test_deep_nesting_and_giant_integers_are_malformed_bodies(client, path):
    deep = '{"a":' + "[" * 100_000 + "]" * 100_000 + "}"
    giant = json.dumps(LEGACY).replace("49962", "9" * 5000)  # beyond int's 4300-digit limit
    for raw in (deep, giant):
        response = client.post(path, data=raw, content_type="application/json")
        assert field_of(response) == "body"
