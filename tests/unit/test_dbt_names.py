"""dbt cannot import Python: the names it shares with ``common`` are held equal here."""

from pathlib import Path

import pytest
import yaml

from common.kpi.dialect import Dialect
from common.marts import MARTS, SIZED_BY_EXPERIMENTS
from common.ml.features import CONVERSION
from common.traffic_sources import EVENT_TRAFFIC_SOURCES, USER_TRAFFIC_SOURCES

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_dbt_vars_hold_the_traffic_sources():
    variables = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]
    assert tuple(variables["event_traffic_sources"]) == EVENT_TRAFFIC_SOURCES
    assert tuple(variables["user_traffic_sources"]) == USER_TRAFFIC_SOURCES


def test_every_mart_model_is_a_mart_and_back():
    models = {path.stem for path in (DBT_PROJECT / "models" / "marts").rglob("*.sql")}
    assert models == set(MARTS)


def test_the_marts_sized_by_experiments_are_the_experiments_folder():
    """A new definition must not trip the row-count gate: every mart the definitions size is
    reported but not judged."""
    models = {
        path.stem for path in (DBT_PROJECT / "models" / "marts" / "experiments").glob("*.sql")
    }
    assert models == SIZED_BY_EXPERIMENTS


def test_the_model_and_the_kpis_read_marts_only():
    assert CONVERSION.table in MARTS
    assert Dialect("duckdb", "execkpi_marts").table("funnel") == "execkpi_marts.funnel"
    with pytest.raises(ValueError, match="not a mart"):
        Dialect("duckdb", "execkpi_marts").table("stg_thelook__orders")
