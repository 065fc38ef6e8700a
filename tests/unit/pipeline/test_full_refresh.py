"""When a build is a full refresh: on a copy of the real dbt project, with the artifact store the
function uses. Real builds check the summary's field (tests/functions/test_erasure.py,
tests/integration/test_pipeline.py)."""

import shutil

import pytest

from common.config import load_config
from common.pipeline import full_refresh
from common.pipeline.dbt import project_vars
from scripts.deploy.catalog import REPO_ROOT


@pytest.fixture
def project(tmp_path):
    copy = tmp_path / "dbt_project"
    for part in full_refresh.PROJECT_PARTS:
        source = REPO_ROOT / "dbt_project" / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        else:
            copy.mkdir(exist_ok=True)
            shutil.copyfile(source, copy / part)
    return copy


def vars_for(tmp_path, **settings):
    return project_vars(load_config({"EXECKPI_ARTIFACT_DIR": str(tmp_path), **settings}))


def test_a_warehouse_without_a_recorded_complete_build_is_rebuilt_in_full(store, project, tmp_path):
    current = full_refresh.basis(project, vars_for(tmp_path), "run-1")
    assert full_refresh.reason(store, current, 0) == (
        "no complete build is recorded for this warehouse"
    )


def test_an_unchanged_project_and_settings_build_incrementally(store, project, tmp_path):
    full_refresh.record(store, full_refresh.basis(project, vars_for(tmp_path), "run-1"))
    # The ingest folder is where dbt reads files from, not what it computes.
    elsewhere = vars_for(tmp_path / "elsewhere")
    assert full_refresh.reason(store, full_refresh.basis(project, elsewhere, "run-2"), 0) is None


def test_a_build_after_one_that_stopped_with_a_model_in_error_rebuilds_everything(
    store, project, tmp_path
):
    current = full_refresh.basis(project, vars_for(tmp_path), "run-1")
    full_refresh.record(store, current)
    full_refresh.record_failure(store, "run-2")
    after = full_refresh.basis(project, vars_for(tmp_path), "run-3")
    assert full_refresh.reason(store, after, 0) == "the build run-2 stopped with a model in error"
    full_refresh.record(store, after)  # the full refresh completed
    assert full_refresh.reason(store, after, 0) is None


def test_pending_erasures_rebuild_everything_even_when_nothing_changed(store, project, tmp_path):
    current = full_refresh.basis(project, vars_for(tmp_path), "run-1")
    full_refresh.record(store, current)
    assert full_refresh.reason(store, current, 2) == "2 erasure request(s) pending"


@pytest.mark.parametrize(
    "changed",
    ["models/marts/core/revenue_daily.sql", "macros/incremental.sql", "dbt_project.yml"],
)
def test_a_changed_model_macro_or_project_file_rebuilds_everything(
    store, project, tmp_path, changed
):
    full_refresh.record(store, full_refresh.basis(project, vars_for(tmp_path), "run-1"))
    with (project / changed).open("a") as file:
        file.write("\n")
    current = full_refresh.basis(project, vars_for(tmp_path), "run-2")
    assert full_refresh.reason(store, current, 0) == (
        "since the complete build run-1: the dbt project changed"
    )


def test_a_renamed_model_rebuilds_everything(store, project, tmp_path):
    full_refresh.record(store, full_refresh.basis(project, vars_for(tmp_path), "run-1"))
    core = project / "models/marts/core"
    (core / "revenue_daily.sql").rename(core / "revenue_by_day.sql")
    current = full_refresh.basis(project, vars_for(tmp_path), "run-2")
    assert full_refresh.reason(store, current, 0) is not None


def test_another_time_zone_or_currency_rebuilds_everything_and_says_which(store, project, tmp_path):
    full_refresh.record(store, full_refresh.basis(project, vars_for(tmp_path), "run-1"))
    new_york_yen = vars_for(tmp_path, EXECKPI_TIME_ZONE="America/New_York", EXECKPI_CURRENCY="JPY")
    current = full_refresh.basis(project, new_york_yen, "run-2")
    assert full_refresh.reason(store, current, 0) == (
        "since the complete build run-1: reporting_time_zone changed from 'Europe/Berlin' to "
        "'America/New_York'; currency_minor_unit changed from 2 to 0"
    )


def test_the_data_tests_of_the_project_do_not_count(store, project, tmp_path):
    """Singular data tests check rows; they do not write any."""
    full_refresh.record(store, full_refresh.basis(project, vars_for(tmp_path), "run-1"))
    (project / "tests").mkdir()
    (project / "tests" / "assert_something.sql").write_text("select 1 where false\n")
    current = full_refresh.basis(project, vars_for(tmp_path), "run-2")
    assert full_refresh.reason(store, current, 0) is None
