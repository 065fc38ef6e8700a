"""The experiment tables of a built warehouse as Python reads them: the seeds give back the
definitions of the seed files, and ab_metrics names its statistics after ``Moments``."""

from dataclasses import fields
from pathlib import Path

import pytest

from common.experiments import MART_METRICS, seed_definitions, stored_definitions
from common.stats.inputs import Moments
from common.stats.warehouse_source import ExperimentNotFound, stored_experiment
from common.warehouse.duckdb_engine import DuckDBWarehouse

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
MARTS = "execkpi_marts"


@pytest.fixture
def warehouse(generated_warehouse):
    warehouse = DuckDBWarehouse(str(generated_warehouse))
    yield warehouse
    warehouse.close()


def test_the_warehouse_holds_the_seed_files_definitions(warehouse):
    stored = stored_definitions(warehouse, MARTS, {})
    by_id = sorted(seed_definitions(SEEDS), key=lambda d: d.experiment_id)
    assert stored == tuple(by_id)


def test_ab_metrics_names_its_statistics_after_moments(warehouse):
    columns = warehouse.query(f"select * from {MARTS}.ab_metrics limit 0").table.column_names
    keys = {"experiment_id", "variant", "metric"}
    assert keys <= set(columns)
    assert set(columns) - keys <= {field.name for field in fields(Moments)}

    stored = stored_experiment(warehouse, MARTS, "checkout_one_click")
    assert set(stored.moments) == {
        (variant, metric)
        for variant in ("control", "treatment")
        for metric in ("conversion", "revenue_per_user")
    }
    for moments in stored.moments.values():  # every column arrives: CUPED has its covariate
        assert moments.n > 0 and moments.has_covariate
    with pytest.raises(ExperimentNotFound):
        stored_experiment(warehouse, MARTS, "nope")


def test_ab_metrics_computes_the_metrics_every_experiment_lists(warehouse):
    sql = f"select distinct metric from {MARTS}.ab_metrics"
    metrics = warehouse.query(sql).table.column("metric").to_pylist()
    assert sorted(metrics) == sorted(MART_METRICS)
