"""The same dbt project compiled for BigQuery, offline: every model's SQL parses as BigQuery,
the large models are incremental and partitioned, and the KPIs prune those partitions."""

import json
import re
from datetime import date
from pathlib import Path

import pytest
import sqlglot

from common.kpi.catalogue import CATALOGUE
from common.kpi.dialect import Dialect
from common.kpi.params import parse_params
from scripts.data.dbt_runner import run_dbt

INCREMENTAL = {
    "int_orders": "order_date",
    "int_sessions": "session_date",
    "int_user_activity_days": "activity_date",
    "revenue_daily": "order_date",
    "funnel": "session_date",
    "features_conversion": "snapshot_date",
}
# Incremental by experiment (dbt_project/macros/experiment_scope.sql): not partitioned.
BY_EXPERIMENT = (
    "int_experiment_scope",
    "int_experiment_exposures",
    "ab_assignments",
    "int_experiment_user_values",
    "ab_metrics",
    "ab_metrics_by_dimension",
    "ab_metrics_cumulative",
)


@pytest.fixture(scope="module")
def compiled_target(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("dbt-bigquery")
    run_dbt(
        ["compile", "--target-path", str(target)],
        prod_offline=True,
        env={"EXECKPI_TIME_ZONE": "Europe/Berlin"},
    )
    return target


@pytest.fixture(scope="module")
def incremental_models(tmp_path_factory) -> dict[str, str]:
    """The incremental models' SQL of a build after the first (their incremental branch)."""
    target = tmp_path_factory.mktemp("dbt-bigquery-incremental")
    assume_built = ["--vars", "{offline_is_incremental: true}"]
    run_dbt(
        [
            "compile",
            "--target-path",
            str(target),
            *assume_built,
            "--select",
            *INCREMENTAL,
            *BY_EXPERIMENT,
        ],
        prod_offline=True,
        env={"EXECKPI_TIME_ZONE": "Europe/Berlin"},
    )
    folder = target / "compiled" / "execkpi" / "models"
    wanted = {*INCREMENTAL, *BY_EXPERIMENT}
    return {path.stem: path.read_text() for path in folder.rglob("*.sql") if path.stem in wanted}


@pytest.fixture(scope="module")
def model_configs(compiled_target) -> dict[str, dict]:
    """Each model's config as dbt resolved it for the prod target."""
    nodes = json.loads((compiled_target / "manifest.json").read_text())["nodes"]
    return {n["name"]: n["config"] for n in nodes.values() if n["resource_type"] == "model"}


@pytest.fixture(scope="module")
def compiled_models(compiled_target) -> dict[str, str]:
    folder = compiled_target / "compiled" / "execkpi" / "models"
    # Data tests compile into folders named after their YAML file; models are the rest.
    return {
        path.stem: path.read_text()
        for path in folder.rglob("*.sql")
        if not path.parent.name.endswith(".yml")
    }


def test_every_model_compiles_for_bigquery(compiled_models):
    models = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
    assert set(compiled_models) == {p.stem for p in models.rglob("*.sql")}


def test_compiled_sql_parses_in_the_bigquery_dialect(compiled_models):
    for name, sql in compiled_models.items():
        tree = sqlglot.parse_one(sql, read="bigquery")
        assert tree is not None, name
        # Tables are fully qualified BigQuery identifiers: `project`.`dataset`.`table`.
        for table in tree.find_all(sqlglot.exp.Table):
            if table.name and table.db:
                assert table.catalog, f"{name}: {table.sql('bigquery')} has no project"


def test_sources_point_at_the_public_dataset(compiled_models):
    assert (
        "`bigquery-public-data`.`thelook_ecommerce`.`orders`"
        in compiled_models["stg_thelook__orders"]
    )
    assert "to_hex(sha256(" in compiled_models["ab_assignments"]
    assert "isoweek" in compiled_models["retention_weekly"]


def test_days_weeks_and_months_begin_in_the_reporting_time_zone(compiled_models):
    assert "date(orders.created_at, 'Europe/Berlin') as order_date" in compiled_models["int_orders"]
    assert "date(started_at, 'Europe/Berlin') as session_date" in compiled_models["int_sessions"]
    for name, sql in compiled_models.items():
        # A UTC timestamp cast to a date is a UTC day; and BigQuery's plain WEEK starts on Sunday.
        assert not re.search(r"cast\(\s*[\w.]*_at\s+as\s+date\s*\)", sql, re.I), name
        assert not re.search(r",\s*week\s*\)", sql, re.I), name


def test_every_staging_model_with_users_leaves_erased_users_out(compiled_models):
    """The erasure anti-join reads the table common/privacy/erasures.py writes."""
    from common.privacy.erasures import STAGING_SCHEMA, TABLE

    with_users = [name for name, sql in compiled_models.items() if "user_id" in sql]
    staging = {name for name in with_users if name.startswith("stg_")}
    assert staging == {
        "stg_thelook__users",
        "stg_thelook__orders",
        "stg_thelook__order_items",
        "stg_thelook__events",
        "stg_ml__conversion_scores",
    }
    for name in staging:
        tree = sqlglot.parse_one(compiled_models[name], read="bigquery")
        filters = [
            (table.db, table.name)
            for found in tree.find_all(sqlglot.exp.In)
            if isinstance(found.parent, sqlglot.exp.Not) and found.args.get("query")
            for table in found.find_all(sqlglot.exp.Table)
        ]
        assert filters == [(STAGING_SCHEMA, TABLE)], name


def test_cumulative_metrics_run_over_a_date_array_of_local_days(compiled_models):
    sql = compiled_models["ab_metrics_cumulative"]
    assert "unnest(generate_date_array(experiments.from_day, least(" in sql
    assert "date(first_exposure_at, 'Europe/Berlin') as exposure_date" in sql


def test_the_large_models_are_incremental_merges_partitioned_by_their_date(model_configs):
    for name, day in INCREMENTAL.items():
        config = model_configs[name]
        assert config["materialized"] == "incremental", name
        assert config["incremental_strategy"] == "merge", name
        assert config["unique_key"], name
        assert config["partition_by"]["field"] == day, name
        assert config["partition_by"]["data_type"] == "date", name
        assert config["cluster_by"], name


def _partitions(model_configs) -> dict[str, str]:
    """Every partitioned model and its partition column."""
    return {
        name: config["partition_by"]["field"]
        for name, config in model_configs.items()
        if config.get("partition_by")
    }


def _filtered_columns(select: sqlglot.exp.Select) -> set[str]:
    """Columns that a range or equality condition of the select's WHERE compares."""
    where = select.args.get("where")
    if where is None:
        return set()
    conditions = (sqlglot.exp.Between, sqlglot.exp.GTE, sqlglot.exp.LTE, sqlglot.exp.EQ)
    return {
        column.name
        for condition in where.find_all(*conditions)
        for column in [condition.this]
        if isinstance(column, sqlglot.exp.Column)
    }


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_kpis_filter_partitioned_marts_on_their_partition_column(name, model_configs):
    """BigQuery prunes a partitioned table's partitions only for a filter on the partition
    column itself (query parameters count as constants)."""
    partitions = _partitions(model_configs)
    kpi = CATALOGUE[name]
    raw = {"experiment_id": "checkout_one_click"} if name == "experiment_metrics" else {}
    values = parse_params(kpi.params, raw)
    if "start" in values:
        values |= {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}
    tree = sqlglot.parse_one(
        kpi.build(Dialect("bigquery", "execkpi_marts"), values).sql, "bigquery"
    )
    for table in tree.find_all(sqlglot.exp.Table):
        if table.name in partitions:
            select = table.find_ancestor(sqlglot.exp.Select)
            assert partitions[table.name] in _filtered_columns(select), (name, table.name)


def test_the_kpis_date_ranges_read_partitioned_marts(model_configs):
    """The test above judges something: the marts the KPIs read by date are partitioned."""
    read_by_date = {"revenue_daily", "customer_revenue_daily", "funnel", "revenue_monthly"}
    read_by_date |= {"retention_weekly", "retention_monthly"}
    assert read_by_date <= set(_partitions(model_configs))


def test_incremental_builds_look_back_and_parse_as_bigquery(incremental_models):
    assert set(incremental_models) == {*INCREMENTAL, *BY_EXPERIMENT}
    for name in INCREMENTAL:
        sql = incremental_models[name]
        assert sqlglot.parse_one(sql, read="bigquery") is not None, name
        # the lookback (var incremental_lookback_days) on the data's clock
        assert "timestamp_sub(max(changed_at), interval 3 day)" in sql, name


def test_experiment_models_recompute_the_scope_s_experiments_in_bigquery_sql(incremental_models):
    for name in BY_EXPERIMENT:
        assert sqlglot.parse_one(incremental_models[name], read="bigquery") is not None, name
    # the scope compares with what the previous build left in the marts
    for mart in ("ab_assignments", "ab_metrics", "ab_metrics_cumulative"):
        assert f"`execkpi_marts`.`{mart}`" in incremental_models["int_experiment_scope"], mart
    for name in BY_EXPERIMENT[1:]:
        assert "in (select scope.experiment_id from" in incremental_models[name], name
