"""The validation gates: each one passing and failing, with its numbers and its sentence."""

from dataclasses import replace

import pytest
from scipy.stats import chisquare

from common.ml.features import Feature, FeatureSpec
from common.pipeline import gates
from common.pipeline.measures import ExperimentSplit, FeatureProfile

SPEC = FeatureSpec(
    model="m",
    table="features_t",
    features=(
        Feature("age", "numeric", "age in years", minimum=0, maximum=120),
        Feature("recency_days", "numeric", "days since the last order", nullable=True, minimum=0),
        Feature("country", "categorical", "users.country"),
    ),
    label="label_purchased",
    label_definition="1 if the user ordered within 14 days",
    time_column=None,
)
PROFILE = FeatureProfile(
    rows=1000,
    label_rate=0.05,
    label_nulls=0,
    nulls={"age": 0, "recency_days": 310, "country": 0},
    minimum={"age": 18.0, "recency_days": 0.0},  # numeric features only
    maximum={"age": 90.0, "recency_days": 400.0},
)
PREVIOUS = {
    "run_id": "20261122T050000Z-build",
    "row_counts": {"funnel": 1000, "revenue_daily": 365},
}


@pytest.mark.parametrize(
    ("warehouse", "passed", "words"),
    [("v7", True, "holds this build's data"), ("v8", False, "a newer build has replaced")],
)
def test_current_data(warehouse, passed, words):
    gate = gates.current_data("v7", warehouse)
    assert (gate.name, gate.passed) == ("current_data", passed)
    assert words in gate.message
    assert gate.numbers == {"build": "v7", "warehouse": warehouse}


def test_dbt_tests_pass():
    summary = {
        "status": "success",
        "models": {"passed": 11},
        "tests": {"passed": 40, "warn": 1},
        "failed_nodes": [],
    }
    gate = gates.dbt_tests(summary)
    assert gate.passed and gate.message == "dbt build succeeded: 11 models, 40 tests"
    assert gate.numbers == {
        "models": {"passed": 11},
        "tests": {"passed": 40, "warn": 1},
        "failed_nodes": [],
    }


@pytest.mark.parametrize("status", ["fail", "error"])
def test_dbt_tests_fail_lists_failed_nodes(status):
    failed = ["test.execkpi.unique_users_id", "model.execkpi.funnel"]
    summary = {"status": status, "models": {"passed": 10, "failed": 1}, "failed_nodes": failed}
    gate = gates.dbt_tests(summary)
    assert not gate.passed and gate.message == f"dbt build {status}: 2 failed nodes"
    assert gate.numbers["failed_nodes"] == failed and gate.numbers["tests"] == {}


@pytest.mark.parametrize(
    ("statuses", "passed", "message"),
    [
        ({"thelook.orders": "pass", "thelook.events": "warn"}, True, "2 sources fresh"),
        (
            {"thelook.orders": "pass", "thelook.users": "error"},
            False,
            "stale sources: thelook.users",
        ),
        (
            {"thelook.users": "runtime error", "thelook.events": "error", "thelook.orders": "pass"},
            False,
            "stale sources: thelook.events, thelook.users",
        ),
    ],
)
def test_source_freshness(statuses, passed, message):
    freshness = {name: {"status": s, "age_hours": 1.5} for name, s in statuses.items()}
    gate = gates.source_freshness({"freshness": freshness})
    assert (gate.name, gate.passed, gate.message) == ("source_freshness", passed, message)
    assert gate.numbers == {"sources": freshness}


@pytest.mark.parametrize("summary", [{"freshness": {}}, {}])
def test_source_freshness_without_results_fails(summary):
    gate = gates.source_freshness(summary)
    assert not gate.passed and gate.message == "no source freshness results"


def test_row_counts_without_a_previous_run():
    gate = gates.row_counts({"funnel": 1000, "revenue_daily": 365}, None, 0.25)
    assert gate.passed
    assert gate.message == "2 marts within ±25% of no earlier validated run"
    assert gate.numbers == {
        "previous_run": None,
        "max_drift": 0.25,
        "not_judged": [],
        "may_be_empty": [],
        "tables": {
            "funnel": {"rows": 1000, "previous": None, "change": None},
            "revenue_daily": {"rows": 365, "previous": None, "change": None},
        },
    }


def test_row_counts_jump_fails_naming_the_mart():
    gate = gates.row_counts({"funnel": 1300, "revenue_daily": 365}, PREVIOUS, 0.25)
    assert not gate.passed
    assert gate.message == "funnel 1,000 → 1,300 rows (+30.0%)"
    assert gate.numbers["previous_run"] == "20261122T050000Z-build"
    assert gate.numbers["tables"] == {
        "funnel": {"rows": 1300, "previous": 1000, "change": pytest.approx(300 / 1000)},
        "revenue_daily": {"rows": 365, "previous": 365, "change": 0.0},
    }


@pytest.mark.parametrize(("funnel", "change"), [(900, -100 / 1000), (1250, 250 / 1000)])
def test_row_counts_within_the_drift_pass(funnel, change):
    """-10% and exactly +25% (the bound itself) pass."""
    gate = gates.row_counts({"funnel": funnel, "revenue_daily": 365}, PREVIOUS, 0.25)
    assert gate.passed
    assert gate.message == "2 marts within ±25% of run 20261122T050000Z-build"
    assert gate.numbers["tables"]["funnel"]["change"] == pytest.approx(change)


def test_row_counts_drop_fails():
    gate = gates.row_counts({"funnel": 600, "revenue_daily": 365}, PREVIOUS, 0.25)
    assert not gate.passed and gate.message == "funnel 1,000 → 600 rows (-40.0%)"


def test_row_counts_reports_but_does_not_judge_marts_sized_by_experiments():
    """A running experiment's cumulative mart doubles from its first day to its second."""
    previous = {**PREVIOUS, "row_counts": {**PREVIOUS["row_counts"], "ab_metrics_cumulative": 4}}
    current = {"funnel": 1000, "revenue_daily": 365, "ab_metrics_cumulative": 8}
    gate = gates.row_counts(current, previous, 0.25, frozenset({"ab_metrics_cumulative", "x"}))
    assert gate.passed
    assert gate.numbers["not_judged"] == ["ab_metrics_cumulative"]
    assert gate.numbers["tables"]["ab_metrics_cumulative"] == {
        "rows": 8,
        "previous": 4,
        "change": 1.0,
    }
    judged = gates.row_counts(current, previous, 0.25)
    assert not judged.passed and judged.message == "ab_metrics_cumulative 4 → 8 rows (+100.0%)"


@pytest.mark.parametrize("previous", [None, PREVIOUS])
def test_empty_mart_fails(previous):
    gate = gates.row_counts({"funnel": 1000, "revenue_daily": 0}, previous, 0.25)
    assert not gate.passed and gate.message == "revenue_daily is empty"


def test_row_counts_reports_every_problem():
    gate = gates.row_counts({"funnel": 2000, "revenue_daily": 0}, PREVIOUS, 0.25)
    assert gate.message == "funnel 1,000 → 2,000 rows (+100.0%); revenue_daily is empty"


def test_row_counts_after_an_empty_previous_mart_has_no_change():
    previous = {"run_id": "r0", "row_counts": {"funnel": 0}}
    gate = gates.row_counts({"funnel": 500}, previous, 0.25)
    assert gate.passed and gate.numbers["tables"]["funnel"]["change"] is None


def test_features_within_their_definitions():
    """Nulls in a nullable feature pass; a categorical feature is only checked for nulls."""
    gate = gates.features(PROFILE, SPEC)
    assert (gate.name, gate.passed) == ("features", True)
    assert gate.message == "3 features within their definitions"
    assert gate.numbers == {
        "rows": 1000,
        "features": {
            "age": {"nulls": 0, "min": 18.0, "max": 90.0, "allowed": [0, 120]},
            "recency_days": {"nulls": 310, "min": 0.0, "max": 400.0, "allowed": [0, None]},
            "country": {"nulls": 0},
        },
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nulls": {**PROFILE.nulls, "age": 5}}, "age has 5 nulls"),
        ({"nulls": {**PROFILE.nulls, "country": 1234}}, "country has 1,234 nulls"),
        ({"minimum": {**PROFILE.minimum, "age": -1.0}}, "age min -1 < 0"),
        ({"maximum": {**PROFILE.maximum, "age": 130.5}}, "age max 130.5 > 120"),
        ({"minimum": {**PROFILE.minimum, "recency_days": -3.0}}, "recency_days min -3 < 0"),
        (
            {"nulls": {**PROFILE.nulls, "age": 2}, "maximum": {**PROFILE.maximum, "age": 150.0}},
            "age has 2 nulls; age max 150 > 120",
        ),
    ],
)
def test_features_fail(changes, message):
    gate = gates.features(replace(PROFILE, **changes), SPEC)
    assert not gate.passed and gate.message == message


def test_features_of_an_empty_table_fail():
    empty = FeatureProfile(
        rows=0,
        label_rate=None,
        label_nulls=0,
        nulls={"age": 0, "recency_days": 0, "country": 0},
        minimum={"age": None, "recency_days": None},
        maximum={"age": None, "recency_days": None},
    )
    gate = gates.features(empty, SPEC)
    assert not gate.passed and gate.message == "features_t has no rows"
    assert gate.numbers["rows"] == 0
    assert gate.numbers["features"]["age"] == {
        "nulls": 0,
        "min": None,
        "max": None,
        "allowed": [0, 120],
    }


@pytest.mark.parametrize(
    ("rate", "passed", "message"),
    [
        (0.05, True, "label_purchased rate 5.000% within bounds"),
        (0.01, True, "label_purchased rate 1.000% within bounds"),  # bounds are inclusive
        (0.20, True, "label_purchased rate 20.000% within bounds"),
        (0.005, False, "label_purchased rate 0.500% outside [1.000%, 20.000%]"),
        (0.25, False, "label_purchased rate 25.000% outside [1.000%, 20.000%]"),
        (None, False, "label_purchased rate undefined (no rows) outside [1.000%, 20.000%]"),
    ],
)
def test_label_rate(rate, passed, message):
    gate = gates.label_rate(replace(PROFILE, label_rate=rate), 0.01, 0.20, SPEC.label)
    assert (gate.name, gate.passed, gate.message) == ("label_rate", passed, message)
    assert gate.numbers == {"rate": rate, "min": 0.01, "max": 0.20, "nulls": 0}


def test_label_rate_rounds_the_reported_rate():
    gate = gates.label_rate(replace(PROFILE, label_rate=1 / 30), 0.01, 0.20, SPEC.label)
    assert gate.passed and gate.numbers["rate"] == 0.033333


def test_label_nulls_fail_even_inside_the_bounds():
    gate = gates.label_rate(replace(PROFILE, label_nulls=1234), 0.01, 0.20, SPEC.label)
    assert not gate.passed and gate.message == "label_purchased has 1,234 nulls"
    assert gate.numbers["nulls"] == 1234


def split(experiment_id, units, weights=(0.5, 0.5), variants=("control", "treatment")):
    return ExperimentSplit(experiment_id, variants, weights, units)


def test_sample_ratio_balanced_passes():
    gate = gates.sample_ratio([split("checkout_copy", (5012, 4988))], 0.001)
    assert (gate.name, gate.passed) == ("srm", True)
    assert gate.message == "1 running experiments match their planned split"
    reported = gate.numbers["experiments"]["checkout_copy"]
    expected = chisquare([5012, 4988])
    assert reported["variants"] == {"control": 5012, "treatment": 4988}
    assert reported["weights"] == [0.5, 0.5]
    assert reported["chi_square"] == pytest.approx(expected.statistic, abs=1e-6)
    assert reported["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)


def test_sample_ratio_mismatch_fails_with_scipy_p_value():
    experiments = [split("checkout_copy", (5012, 4988)), split("recs_carousel", (8603, 7838))]
    gate = gates.sample_ratio(experiments, 0.001)
    total = 8603 + 7838
    expected = chisquare([8603, 7838], [total / 2, total / 2])
    reported = gate.numbers["experiments"]["recs_carousel"]
    assert reported["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert reported["chi_square"] == pytest.approx(expected.statistic, abs=1e-6)
    assert not gate.passed
    assert gate.message == f"sample ratio mismatch: recs_carousel (p {expected.pvalue:.2g})"
    assert gate.numbers["threshold"] == 0.001 and set(gate.numbers["experiments"]) == {
        "checkout_copy",
        "recs_carousel",
    }


def test_sample_ratio_without_experiments_passes():
    gate = gates.sample_ratio([], 0.001)
    assert gate.passed and gate.message == "no experiment is running"
    assert gate.numbers == {"threshold": 0.001, "experiments": {}}


def test_sample_ratio_leaves_weight_zero_arms_out():
    """Users in an arm planned at weight 0 do not count against the planned split."""
    variants = ("control", "holdout", "treatment")
    experiment = split("holdout_test", (500, 40, 520), (0.5, 0.0, 0.5), variants)
    gate = gates.sample_ratio([experiment], 0.001)
    reported = gate.numbers["experiments"]["holdout_test"]
    assert gate.passed
    assert reported["variants"] == {"control": 500, "holdout": 40, "treatment": 520}
    assert reported["p_value"] == pytest.approx(chisquare([500, 520]).pvalue, rel=1e-9)


def test_row_counts_accept_an_empty_mart_only_where_emptiness_is_expected():
    """The model's scores are empty until the first promotion; any other empty mart fails."""
    current = {"funnel": 1000, "ml_score_calibration": 0}
    scores = frozenset({"ml_score_calibration"})
    gate = gates.row_counts(current, None, 0.25, not_judged=scores, may_be_empty=scores)
    assert gate.passed and gate.numbers["may_be_empty"] == ["ml_score_calibration"]
    assert gate.numbers["tables"]["ml_score_calibration"]["rows"] == 0
    refused = gates.row_counts({**current, "funnel": 0}, None, 0.25, may_be_empty=scores)
    assert not refused.passed and refused.message == "funnel is empty"
