"""Experiment definitions through the abtest function: POST creates, PATCH changes what may
still change, GET .../versions shows every version; a real build then copies the store into
the warehouse, where the list and the analysis read the new definition."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy.stats import chisquare
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from common.reporting_time import today

TODAY = today("Europe/Berlin")  # the configuration's default reporting time zone


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def definition(**changes) -> dict:
    return {
        "experiment_id": "free_shipping_banner",
        "hypothesis": "A free-shipping banner raises conversion",
        "variants": [{"name": "control", "weight": 0.5}, {"name": "banner", "weight": 0.5}],
        "start_date": day(30),
        "end_date": day(57),
        "primary_metric": "conversion",
        **changes,
    }


def bearer(subject: str) -> dict[str, str]:
    """An ID token as Cloud Run hands it on (verified there, only read here)."""
    claims = base64.urlsafe_b64encode(json.dumps({"sub": subject}).encode()).decode()
    return {"Authorization": f"Bearer e30.{claims.rstrip('=')}.sig"}


@pytest.fixture
def client(function_client):
    return function_client("abtest")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_create_change_and_read_every_version(client):
    created = client.post("/ab/experiments", json=definition(), headers=bearer("alice"))
    assert created.status_code == 201, created.get_data(as_text=True)
    first = created.get_json()
    assert first["experiment_id"] == "free_shipping_banner" and first["version"] == 1
    assert first["changed_by"] == "alice"
    assert first["definition"]["secondary_metrics"] == ["revenue_per_user"]
    assert "previous" not in first

    weights = [{"name": "control", "weight": 0.4}, {"name": "banner", "weight": 0.6}]
    changed = client.patch(
        "/ab/experiments/free_shipping_banner", json={"variants": weights}, headers=bearer("bob")
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    second = changed.get_json()
    assert (second["version"], second["changed_by"], second["changes"]) == (2, "bob", ["variants"])
    assert second["definition"]["variants"] == weights

    versions = client.get("/ab/experiments/free_shipping_banner/versions").get_json()
    assert [v["version"] for v in versions["versions"]] == [2, 1]
    assert versions["versions"][1] == first  # the first version, unchanged


def test_an_existing_id_is_409(client):
    assert client.post("/ab/experiments", json=definition()).status_code == 201
    again = client.post("/ab/experiments", json=definition(hypothesis="Another one"))
    assert error_of(again, 409)["field"] == "experiment_id"


@pytest.mark.parametrize(
    ("start", "end", "changes", "field"),
    [
        (
            -10,
            20,
            {"variants": [{"name": "control", "weight": 0.3}, {"name": "b", "weight": 0.7}]},
            "variants",
        ),
        (-10, 20, {"start_date": day(-5)}, "start_date"),
        (-10, 20, {"primary_metric": "revenue_per_user"}, "primary_metric"),
        (-10, 20, {"end_date": day(-1)}, "end_date"),
        (-30, -2, {"end_date": day(10)}, "end_date"),
        (30, 57, {"start_date": day(-1)}, "start_date"),
        (30, 57, {"experiment_id": "renamed"}, "experiment_id"),
    ],
)
def test_refused_changes_are_409_naming_the_rule(client, start, end, changes, field):
    created = client.post(
        "/ab/experiments", json=definition(start_date=day(start), end_date=day(end))
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    refused = error_of(client.patch("/ab/experiments/free_shipping_banner", json=changes), 409)
    assert refused["field"] == field and refused["code"] == "change_refused"
    versions = client.get("/ab/experiments/free_shipping_banner/versions").get_json()["versions"]
    assert len(versions) == 1


def test_a_running_experiment_may_end_today_or_later(client):
    client.post("/ab/experiments", json=definition(start_date=day(-10), end_date=day(20)))
    stopped = client.patch("/ab/experiments/free_shipping_banner", json={"end_date": day(0)})
    assert stopped.status_code == 200 and stopped.get_json()["changes"] == ["end_date"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (definition(experiment_id="x'; drop table experiments; --"), "experiment_id"),
        (definition(hypothesis=None), "hypothesis"),
        (
            definition(variants=[{"name": "control", "weight": 0.5}, {"name": "b", "weight": 0.4}]),
            "variants",
        ),
        (definition(end_date=day(1)), "end_date"),
        (definition(primary_metric="clicks"), "primary_metric"),
        (
            definition(guardrails=[{"metric": "revenue_per_user", "margin": -1}]),
            "guardrails[0].margin",
        ),
        (definition(dimensions=["city"]), "dimensions[0]"),
        ({k: v for k, v in definition().items() if k != "start_date"}, "start_date"),
    ],
)
def test_bad_definitions_are_400_naming_the_field(client, body, field):
    assert error_of(client.post("/ab/experiments", json=body), 400)["field"] == field
    assert client.get("/ab/experiments/free_shipping_banner/versions").status_code == 404


def test_a_nan_weight_is_400_naming_it(client):
    raw = json.dumps(definition()).replace('"weight": 0.5}]', '"weight": NaN}]')
    response = client.post("/ab/experiments", data=raw, content_type="application/json")
    assert error_of(response, 400)["field"] == "variants[1].weight"


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/ab/experiments/nope", 404, "experiment_id"),
        ("/ab/experiments/no%20pe", 400, "experiment_id"),
    ],
)
def test_changing_an_unknown_or_malformed_id(client, path, status, field):
    assert error_of(client.patch(path, json={"hypothesis": "x"}), status)["field"] == field
    assert error_of(client.get(path + "/versions"), status)["field"] == field


# --- end to end: create, build, list, analyze ----------------------------------------------------

NEW = {
    "experiment_id": "homepage_copy",
    "hypothesis": "Shorter homepage copy converts better",
    "variants": [
        {"name": "control", "weight": 0.4},
        {"name": "short", "weight": 0.3},
        {"name": "shortest", "weight": 0.3},
    ],
    "start_date": "2026-10-01",
    "end_date": "2026-10-14",
    "primary_metric": "conversion",
    "guardrails": [{"metric": "revenue_per_user", "direction": "increase", "margin": 0.05}],
}


def test_a_created_definition_is_built_listed_and_analysed(
    function_client, bus, generated_warehouse: Path, tmp_path: Path
):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, warehouse)
    settings = {"EXECKPI_DUCKDB_PATH": str(warehouse)}
    abtest = function_client("abtest", **settings)
    assert abtest.post("/ab/experiments", json=NEW).status_code == 201
    # Before the build the warehouse knows the seed files' experiments only.
    assert abtest.post("/ab/analyze", json={"experiment_id": "homepage_copy"}).status_code == 404

    builder = function_client("dbt_build", EXECKPI_LOCAL_BUS_URL=bus.url, **settings)
    built = builder.post("/pipeline/build", json={"scheduled_at": datetime.now(UTC).isoformat()})
    assert built.status_code == 200, built.get_data(as_text=True)
    assert built.get_json()["build"]["summary"]["status"] == "success", built.get_json()

    listed = {
        e["experiment_id"]: e for e in abtest.get("/ab/experiments").get_json()["experiments"]
    }
    # The seed files were imported into the store on the build: the demo keeps its experiments.
    assert set(listed) == {
        "aa_homepage_hero",
        "checkout_one_click",
        "recs_carousel",
        "delivery_promise",
        "homepage_copy",
    }
    assert listed["homepage_copy"]["variants"] == [
        {"name": "control", "weight": 0.4, "control": True},
        {"name": "short", "weight": 0.3, "control": False},
        {"name": "shortest", "weight": 0.3, "control": False},
    ]
    assert listed["homepage_copy"]["status"] == "finished"
    versions = abtest.get("/ab/experiments/recs_carousel/versions").get_json()["versions"]
    assert [v["changed_by"] for v in versions] == ["initial-content"]

    analysed = abtest.post("/ab/analyze", json={"experiment_id": "homepage_copy"})
    assert analysed.status_code == 200, analysed.get_data(as_text=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exposed = dict(
            con.execute(
                "select variant, count(*) from execkpi_marts.ab_assignments "
                "where experiment_id = 'homepage_copy' group by variant"
            ).fetchall()
        )
        stored = con.execute(
            "select hypothesis, definition_version from execkpi_marts.experiments "
            "where experiment_id = 'homepage_copy'"
        ).fetchone()
    assert stored == (NEW["hypothesis"], 1)
    assert set(exposed) == {"control", "short", "shortest"}
    # The analysis uses the new arms and weights: its units are the exposed users, and its
    # sample-ratio test is scipy's chi-square goodness of fit against 0.4/0.3/0.3.
    observed = [exposed[v] for v in ("control", "short", "shortest")]
    expected = [sum(observed) * w for w in (0.4, 0.3, 0.3)]
    body = analysed.get_json()
    assert [v["units"] for v in body["variants"]] == observed
    assert body["srm"]["p_value"] == pytest.approx(chisquare(observed, expected).pvalue, rel=1e-9)
    assert body["srm"]["passed"]
    # The stored guardrail applies: revenue_per_user is analysed as one, with its margin.
    roles = {c["metric"]: c["role"] for c in body["comparisons"]}
    assert roles == {"conversion": "primary", "revenue_per_user": "guardrail"}


# --- the analysis reads the stored guardrails ----------------------------------------------------

N = 10_000  # users per arm; revenue per user: mean 10 (control) and 8, sd 20


def small_marts(path: str) -> None:
    """The marts abtest reads for one experiment, as a build would leave them."""
    with duckdb.connect(path) as con:
        con.execute("create schema execkpi_marts")
        con.execute(
            "create table execkpi_marts.experiments as select 'free_shipping_banner' as "
            "experiment_id, date '2026-09-01' as start_date, date '2026-09-28' as end_date, "
            "'conversion' as primary_metric"
        )
        con.execute(
            "create table execkpi_marts.ab_experiments as select *, date '2026-10-15' as built_on "
            "from execkpi_marts.experiments"
        )
        con.execute(
            "create table execkpi_marts.experiment_variants as select * from (values "
            "('free_shipping_banner', 1, 'control', 0.5), "
            "('free_shipping_banner', 2, 'banner', 0.5)) as t(experiment_id, variant_index, "
            "variant, weight)"
        )
        con.execute(
            "create table execkpi_marts.ab_metrics as select * from (values "
            f"('control', 'conversion', {N}, 1000.0, 1000.0), "
            f"('banner', 'conversion', {N}, 1200.0, 1200.0), "
            f"('control', 'revenue_per_user', {N}, {N * 10.0}, {N * (400.0 + 100.0)}), "
            f"('banner', 'revenue_per_user', {N}, {N * 8.0}, {N * (400.0 + 64.0)})"
            ") as t(variant, metric, n, sum, sum_squares)"
        )
        con.execute(
            "alter table execkpi_marts.ab_metrics add column experiment_id varchar "
            "default 'free_shipping_banner'"
        )


def test_the_analysis_applies_the_stored_guardrails(function_client, execkpi_env):
    small_marts(execkpi_env["EXECKPI_DUCKDB_PATH"])
    client = function_client("abtest")
    asked = {"experiment_id": "free_shipping_banner"}
    before = client.post("/ab/analyze", json=asked).get_json()
    roles = {c["metric"]: c["role"] for c in before["comparisons"]}
    assert roles == {"conversion": "primary", "revenue_per_user": "secondary"}

    guardrail = {"metric": "revenue_per_user", "direction": "increase", "margin": 0.02}
    body = definition(start_date="2026-09-01", end_date="2026-09-28", guardrails=[guardrail])
    assert client.post("/ab/experiments", json=body).status_code == 201
    after = client.post("/ab/analyze", json=asked).get_json()
    roles = {c["metric"]: c["role"] for c in after["comparisons"]}
    assert roles == {"conversion": "primary", "revenue_per_user": "guardrail"}
    # Revenue per user fell 20%, far beyond the 2% margin: the guardrail blocks the win.
    assert after["decision"]["verdict"] == "DO NOT SHIP"
    assert "guardrail_harmed" in {r["code"] for r in after["decision"]["reasons"]}


# --- the breakdown and the timeline read them too ---------------------------------------------

# Revenue per user by country, per user (gamma: mean 10, sd 2 in the control): the US banner
# earns 20% less, far beyond a 2% margin; DE has too few users to show anything; FR's banner
# earns 1% more with enough users to rule out a 2% loss.
SEGMENTS = {"US": (2000, 0.8), "FR": (3000, 1.01), "DE": (30, 1.0)}  # users per arm, factor
RNG = np.random.default_rng(17)
REVENUE = {
    country: {
        "control": RNG.gamma(25.0, 0.4, n),
        "banner": RNG.gamma(25.0, 0.4 * factor, n),
    }
    for country, (n, factor) in SEGMENTS.items()
}
GUARDRAIL = {"metric": "revenue_per_user", "direction": "increase", "margin": 0.02}
DAYS = ("2026-09-01", "2026-09-02")  # the first half of each country's users, then all


def country_rows(share: float) -> list[tuple]:
    """(variant, metric, country, n, sum, sum_squares) of the first ``share`` of each arm's
    users; conversion: 10% of the control's users, 12% of the banner's."""
    rows = []
    for country, arms in REVENUE.items():
        for variant, values in arms.items():
            kept = values[: round(len(values) * share)]
            converted = float(round(len(kept) * (0.1 if variant == "control" else 0.12)))
            rows += [
                (variant, "conversion", country, len(kept), converted, converted),
                (variant, "revenue_per_user", country, len(kept), kept.sum(), (kept**2).sum()),
            ]
    return rows


def segmented_marts(path: str) -> None:
    """small_marts but by country (ab_metrics_by_dimension), day by day
    (ab_metrics_cumulative) and in all (ab_metrics: the countries summed) from REVENUE."""
    small_marts(path)
    columns = "n bigint, sum double, sum_squares double"
    with duckdb.connect(path) as con:
        con.execute(
            "create table execkpi_marts.by_day (day date, variant varchar, metric varchar, "
            f"dimension_value varchar, {columns})"
        )
        for day, share in zip(DAYS, (0.5, 1.0), strict=True):
            con.executemany(
                "insert into execkpi_marts.by_day values (?, ?, ?, ?, ?, ?, ?)",
                [(day, *row) for row in country_rows(share)],
            )
        con.execute(
            "create table execkpi_marts.ab_metrics_by_dimension as select "
            "'free_shipping_banner' as experiment_id, variant, metric, 'country' as dimension, "
            "dimension_value, n, sum, sum_squares from execkpi_marts.by_day where day = ?",
            [DAYS[1]],
        )
        totals = "sum(n) as n, sum(sum) as sum, sum(sum_squares) as sum_squares"
        con.execute(
            "create table execkpi_marts.ab_metrics_cumulative as select "
            f"'free_shipping_banner' as experiment_id, variant, metric, day, {totals} "
            "from execkpi_marts.by_day group by all"
        )
        con.execute(
            "create or replace table execkpi_marts.ab_metrics as select "
            f"'free_shipping_banner' as experiment_id, variant, metric, {totals} "
            "from execkpi_marts.by_day where day = ? group by all",
            [DAYS[1]],
        )


def welch(treatment: np.ndarray, control: np.ndarray) -> tuple[float, tuple[float, float]]:
    """statsmodels' Welch t-test of treatment - control: its p-value and 95% interval."""
    compared = CompareMeans(DescrStatsW(treatment), DescrStatsW(control))
    _, p, _ = compared.ttest_ind(usevar="unequal")
    return p, compared.tconfint_diff(alpha=0.05, usevar="unequal")


def verdict(ci: tuple[float, float], control_mean: float, margin: float) -> str:
    """The documented rule on the absolute scale: beyond the margin when the whole interval
    lies below -margin·control mean, held when it lies above."""
    allowed = -margin * control_mean
    return "beyond_margin" if ci[1] < allowed else "held" if ci[0] >= allowed else "not_noninferior"


def test_the_breakdown_checks_the_stored_guardrails_in_each_value(function_client, execkpi_env):
    segmented_marts(execkpi_env["EXECKPI_DUCKDB_PATH"])
    client = function_client("abtest")
    asked = {
        "experiment_id": "free_shipping_banner",
        "dimension": "country",
        "options": {"scale": "absolute", "correction": "none", "bayesian": False},
    }
    before = client.post("/ab/breakdown", json=asked).get_json()
    revenue = [c for v in before["values"] for c in v["comparisons"] if c["metric"] != "conversion"]
    assert {(c["role"], c["guardrail_verdict"]) for c in revenue} == {("secondary", None)}

    body = definition(start_date="2026-09-01", end_date="2026-09-28", guardrails=[GUARDRAIL])
    assert client.post("/ab/experiments", json=body).status_code == 201
    answer = client.post("/ab/breakdown", json=asked)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    values = {v["dimension_value"]: v for v in answer.get_json()["values"]}
    assert list(values) == ["FR", "US", "DE"]  # the most exposed first
    for country, value in values.items():
        conversion, guarded = value["comparisons"]
        assert (conversion["role"], conversion["guardrail_verdict"]) == ("primary", None)
        assert (guarded["role"], guarded["direction"], guarded["margin"]) == (
            "guardrail",
            "increase",
            0.02,
        )
        arms = REVENUE[country]
        p, ci = welch(arms["banner"], arms["control"])
        assert guarded["method"] == "welch_t"
        assert guarded["p_value"] == pytest.approx(p, rel=1e-9)
        assert guarded["absolute"]["ci"] == pytest.approx(list(ci), rel=1e-9)
        expected = verdict(ci, arms["control"].mean(), GUARDRAIL["margin"])
        assert guarded["guardrail_verdict"] == expected, country
    # Each of the three outcomes occurs, so the rule has something to tell apart.
    assert [values[c]["comparisons"][1]["guardrail_verdict"] for c in ("US", "FR", "DE")] == [
        "beyond_margin",
        "held",
        "not_noninferior",
    ]


def test_the_timeline_shows_the_stored_guardrails_as_the_analysis_decides(
    function_client, execkpi_env
):
    segmented_marts(execkpi_env["EXECKPI_DUCKDB_PATH"])
    client = function_client("abtest")
    body = definition(start_date="2026-09-01", end_date="2026-09-28", guardrails=[GUARDRAIL])
    assert client.post("/ab/experiments", json=body).status_code == 201
    timeline = client.get(
        "/ab/experiments/free_shipping_banner/timeline",
        query_string={"metric": "revenue_per_user", "scale": "absolute"},
    ).get_json()
    (series,) = timeline["series"]
    assert (series["role"], series["direction"], series["margin"]) == (
        "guardrail",
        "increase",
        0.02,
    )
    assert [p["day"] for p in series["points"]] == list(DAYS)
    # The last day is the whole experiment: its p-value is statsmodels' Welch test of every
    # user, its verdict the one the analysis' decision gives.
    last = series["points"][-1]
    every = {
        v: np.concatenate([arms[v] for arms in REVENUE.values()]) for v in ("control", "banner")
    }
    p, _ = welch(every["banner"], every["control"])
    assert last["p_value"] == pytest.approx(p, rel=1e-9)
    analysis = client.post(
        "/ab/analyze",
        json={"experiment_id": "free_shipping_banner", "options": {"scale": "absolute"}},
    ).get_json()
    (guarded,) = [c for c in analysis["comparisons"] if c["role"] == "guardrail"]
    assert [last["ci_lower"], last["ci_upper"]] == guarded["absolute"]["ci"]
    assert last["guardrail_verdict"] == "beyond_margin"
    reasons = {(r["code"], r["metric"]) for r in analysis["decision"]["reasons"]}
    assert ("guardrail_harmed", "revenue_per_user") in reasons
