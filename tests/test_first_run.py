"""What a new user meets first: ./dev's usage, entry points refusing a bad setting in one line per
variable, dbt by hand on a copy of the warehouse, and a demo summary that two runs can compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from scripts.data import dbt_runner
from scripts.deploy.catalog import REPO_ROOT
from scripts.local.scheduler_tick import describe


@pytest.mark.parametrize("args", [[], ["help"], ["--help"], ["-h"]])
def test_dev_without_a_command_or_asking_for_help_prints_the_usage(args: list[str]) -> None:
    result = subprocess.run(
        [str(REPO_ROOT / "dev"), *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: ./dev COMMAND")
    assert "demo" in result.stdout and "docs" in result.stdout


def test_dev_with_an_unknown_command_prints_the_usage_on_stderr_and_exits_2() -> None:
    result = subprocess.run(
        [str(REPO_ROOT / "dev"), "deploy"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown command 'deploy'" in result.stderr and "Usage: ./dev" in result.stderr


@pytest.mark.parametrize(
    "module", ["scripts.local.demo", "scripts.local.stack", "scripts.data.dbt_runner"]
)
def test_entry_points_refuse_bad_settings_in_one_line_each(module: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECKPI_")}
    env |= {"EXECKPI_API_KEYS": "too-short-key", "EXECKPI_LOG_LEVEL": "loud"}
    args = ["--once"] if module == "scripts.local.demo" else ["build"] if "dbt" in module else []
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "invalid configuration:",
        "  - EXECKPI_API_KEYS: every key must be at least 16 characters long",
        "  - EXECKPI_LOG_LEVEL='loud': must be one of debug, info, warning, error",
    ]


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table marker as select 'before' as state")
    monkeypatch.setenv("EXECKPI_DUCKDB_PATH", str(path))
    return path


@pytest.fixture
def fake_dbt(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], Path | None]]:
    """Stands in for dbt: records where it ran and, given a database, writes to it."""
    calls: list[tuple[list[str], Path | None]] = []

    def run_dbt(args, *, duckdb_path=None, capture=True, **_):
        calls.append((list(args), duckdb_path))
        if duckdb_path is not None:
            with duckdb.connect(str(duckdb_path)) as con:
                con.execute("update marker set state = 'after'")

    monkeypatch.setattr(dbt_runner, "run_dbt", run_dbt)
    return calls


def _state(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select state from marker").fetchone()[0]


def test_dbt_by_hand_builds_a_copy_and_swaps_it_in_while_the_file_is_open(warehouse, fake_dbt):
    serving = duckdb.connect(str(warehouse), read_only=True)  # as the stack's functions hold it
    try:
        dbt_runner.run_on_copy(["build", "--select", "revenue_daily"])
    finally:
        serving.close()
    (args, ran_on), *_ = fake_dbt
    assert args == ["build", "--select", "revenue_daily"]
    assert ran_on != warehouse and not ran_on.exists()  # the copy went into place
    assert _state(warehouse) == "after"


def test_dbt_commands_that_only_read_leave_the_warehouse_as_it_was(warehouse, fake_dbt):
    dbt_runner.run_on_copy(["docs", "generate"])
    dbt_runner.run_on_copy(["--quiet", "source", "freshness"])
    assert [ran_on is not None for _, ran_on in fake_dbt] == [True, True]
    assert _state(warehouse) == "before"


def test_dbt_commands_that_never_open_the_warehouse_run_without_a_copy(warehouse, fake_dbt):
    dbt_runner.run_on_copy(["docs", "serve", "--port", "8081"])
    dbt_runner.run_on_copy(["parse"])
    assert [ran_on for _, ran_on in fake_dbt] == [None, None]


def test_dbt_gets_the_configured_vars_and_vars_given_by_hand_win() -> None:
    configured = {"reporting_time_zone": "Europe/Berlin", "freshness_error_days": 7}
    args = ["build", "--vars", "{reporting_time_zone: UTC, as_of_date: '2026-01-05'}", "-q"]
    command = dbt_runner.with_vars(args, configured)
    assert command[:-2] == ["build", "-q"] and command[-2] == "--vars"
    assert json.loads(command[-1]) == {
        "reporting_time_zone": "UTC",
        "freshness_error_days": 7,
        "as_of_date": "2026-01-05",
    }
    assert json.loads(dbt_runner.with_vars(["parse"], configured)[-1]) == configured


def test_the_demo_summary_leaves_out_what_differs_between_runs() -> None:
    def run(seconds: float, version: str) -> dict:
        reasons = ["holdout ROC-AUC 0.9000 >= floor 0.7000"]
        return {
            "stages": {
                "build": {
                    "status": "success",
                    "seconds": seconds,
                    "summary": {"models": {"passed": 23}, "dbt_seconds": seconds},
                },
                "training": {
                    "status": "promoted",
                    "seconds": seconds,
                    "version": version,
                    "reasons": reasons,
                },
            }
        }

    first, second = run(104.7, "20261203T001817Z-cb13b8"), run(98.2, "20261203T002911Z-0af1e2")
    assert describe(first, timings=False) == describe(second, timings=False)
    assert describe(first) != describe(second)
    assert "0.9000" in describe(first, timings=False)[1]
