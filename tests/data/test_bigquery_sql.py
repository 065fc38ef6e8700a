"""The same dbt project compiled for BigQuery, offline: every model's SQL parses as BigQuery."""

import re
from pathlib import Path

import pytest
import sqlglot

from scripts.data.dbt_runner import run_dbt


@pytest.fixture(scope="module")
def compiled_models(tmp_path_factory) -> dict[str, str]:
    target = tmp_path_factory.mktemp("dbt-bigquery")
    run_dbt(
        ["compile", "--target-path", str(target)],
        prod_offline=True,
        env={"EXECKPI_TIME_ZONE": "Europe/Berlin"},
    )
    folder = target / "compiled" / "execkpi" / "models"
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
    }
    for name in staging:
        tree = sqlglot.parse_one(compiled_models[name], read="bigquery")
        filters = [
            (table.db, table.name)
            for exists in tree.find_all(sqlglot.exp.Exists)
            if isinstance(exists.parent, sqlglot.exp.Not)
            for table in exists.find_all(sqlglot.exp.Table)
        ]
        assert filters == [(STAGING_SCHEMA, TABLE)], name


def test_cumulative_metrics_run_over_a_date_array_of_local_days(compiled_models):
    sql = compiled_models["ab_metrics_cumulative"]
    assert "unnest(generate_date_array(experiments.start_date, least(" in sql
    assert "date(first_exposure_at, 'Europe/Berlin') as exposure_date" in sql
