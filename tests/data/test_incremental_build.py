"""Incremental builds, day after day, end with the warehouse a full build of the final data
gives, row for row, in every mart and every incremental model.

One generated data set is replayed: the raw tables cut at the first day get a full build, then
each next day's cut an incremental one (new rows, older orders shipping, arriving, coming back:
scripts/data/thelook/cutoff.py). On the second day a shop also sends an old order again as
returned, through the ingest function's curated Parquet, far beyond the lookback of the data's
clock, and a user with a signup 45 days earlier (another week's and month's cohort). A second
warehouse gets one full build of the final data and the same batches. The data tests of a
daily build check the rows that changed, and still catch faults in them."""

from __future__ import annotations

import json
import math
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from common.marts import MARTS, SCORED_BY_THE_MODEL
from scripts.data.dbt_runner import DbtFailed, run_dbt
from scripts.data.thelook.cutoff import cut_at
from scripts.data.thelook.dataset import DEFAULT_AS_OF
from scripts.data.thelook.load import load_generated
from tests.support.reporting_time import REPORTING_ZONE

INCREMENTAL_MODELS = {
    "execkpi_staging": (
        "int_orders",
        "int_sessions",
        "int_user_activity_days",
        "int_experiment_exposures",
        "int_experiment_user_values",
    ),
    "execkpi_marts": (
        "revenue_daily",
        "funnel",
        "features_conversion",
        "ab_assignments",
        "ab_metrics",
        "ab_metrics_by_dimension",
        "ab_metrics_cumulative",
        "customer_ltv",
        "customer_revenue_daily",
        "retention_weekly",
        "retention_monthly",
    ),
}
# Builds see the data cut at these days (00:00 UTC); the last holds everything generated.
CUT_DAYS = [DEFAULT_AS_OF - timedelta(days=2), DEFAULT_AS_OF - timedelta(days=1), DEFAULT_AS_OF]
# Models and seeds only: the data tests run in the other tests on the same data.
BUILD = ["build", "--resource-type", "model", "--resource-type", "seed", "--quiet"]


def load_cut(path: Path, raw: Path, day: date) -> None:
    with duckdb.connect(str(path)) as con:
        load_generated(con, raw)
        cut_at(con, day)


def send_old_order_as_returned(path: Path, artifacts: Path) -> tuple[int, date]:
    """Write an ingested batch that returns a Complete order placed 60+ days before the newest
    one (its order and items); the order's id and UTC day."""
    curated = artifacts / "ingest" / "curated"
    with duckdb.connect(str(path), read_only=True) as con:
        order_id, day = con.execute(
            "select order_id, cast(created_at as date) from raw.orders where status = 'Complete'"
            " and created_at < (select max(created_at) - interval 60 day from raw.orders)"
            " order by order_id limit 1"
        ).fetchone()
        for table, key in (("orders", "order_id"), ("order_items", "order_id")):
            folder = curated / table / "ingested_on=2026-10-31"
            folder.mkdir(parents=True)
            con.execute(
                f"copy (select * replace ('Returned' as status,"
                " delivered_at + interval 1 day as returned_at),"
                " 'batch-1' as _batch_id, timestamp '2026-10-31 09:00:00' as _ingested_at"
                f" from raw.{table} where {key} = {order_id})"
                f" to '{folder / 'batch-1.parquet'}' (format parquet)"
            )
    return order_id, day


def send_customer_signed_up_earlier(path: Path, artifacts: Path) -> int:
    """Write an ingested batch that moves the first customer's signup 45 days back: their
    cohorts change, the old ones (with rows from long before the lookback) shrink. The
    customer's id."""
    folder = artifacts / "ingest" / "curated" / "users" / "ingested_on=2026-10-31"
    folder.mkdir(parents=True)
    with duckdb.connect(str(path), read_only=True) as con:
        (user_id,) = con.execute(
            "select id from raw.users where id in (select user_id from raw.orders)"
            " order by created_at, id limit 1"
        ).fetchone()
        con.execute(
            "copy (select * replace (created_at - interval 45 day as created_at),"
            " 'batch-1' as _batch_id, timestamp '2026-10-31 09:00:00' as _ingested_at"
            f" from raw.users where id = {user_id})"
            f" to '{folder / 'batch-1.parquet'}' (format parquet)"
        )
    return user_id


def build(path: Path, artifacts: Path, target: Path, *full_refresh: str) -> dict:
    """Build, in one target folder throughout so that dbt parses the project once."""
    env = {"EXECKPI_TIME_ZONE": REPORTING_ZONE, "EXECKPI_ARTIFACT_DIR": str(artifacts)}
    args = [*BUILD, *full_refresh, "--target-path", str(target)]
    run_dbt(args, duckdb_path=path, env=env)
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r for r in results}


@pytest.fixture(scope="module")
def warehouses(generated_raw, tmp_path_factory) -> tuple[Path, Path, dict]:
    """The warehouse built day by day, the one built in full, and the last incremental
    build's results per node."""
    root = tmp_path_factory.mktemp("incremental")
    artifacts, daily, full = root / "artifacts", root / "daily.duckdb", root / "full.duckdb"
    artifacts.mkdir()
    for index, day in enumerate(CUT_DAYS):
        load_cut(daily, generated_raw, day)
        if index == 1:
            send_old_order_as_returned(daily, artifacts)
            send_customer_signed_up_earlier(daily, artifacts)
        results = build(daily, artifacts, root / "target")
    load_cut(full, generated_raw, CUT_DAYS[-1])
    build(full, artifacts, root / "target", "--full-refresh")
    return daily, full, results


def _identical(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Exactly the same rows, as many times each, in ``table`` and full_build's ``table``."""
    (count,) = con.execute(f"select count(*) from {table}").fetchone()
    (common,) = con.execute(
        f"select count(*) from (select * from {table} intersect all"
        f" select * from full_build.{table})"
    ).fetchone()
    (theirs,) = con.execute(f"select count(*) from full_build.{table}").fetchone()
    return count > 0 and count == common == theirs


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """Every row, sorted with the floating-point columns last: their sums may differ in the
    last bits between two builds of the same data (the order DuckDB adds them in)."""
    described = con.execute(f"describe {table}").fetchall()
    floats = [i for i, row in enumerate(described) if row[1] in ("DOUBLE", "FLOAT")]
    order = [i for i in range(len(described)) if i not in floats] + floats
    rows = con.execute(f"select * from {table}").fetchall()
    key = [tuple(row[i] for i in order) for row in rows]
    return sorted(key, key=lambda row: tuple((v is None, v) for v in row))


def _same(left: tuple, right: tuple) -> bool:
    return all(
        math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9) if isinstance(a, float) else a == b
        for a, b in zip(left, right, strict=True)
    )


def _assert_same_rows(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """``table`` holds the rows full_build's holds (floating-point columns up to rounding)."""
    if _identical(con, table):
        return
    left, right = _rows(con, table), _rows(con, f"full_build.{table}")
    assert len(left) == len(right), table
    assert len(right) > 0, table
    different = [pair for pair in zip(left, right, strict=True) if not _same(*pair)]
    assert not different, f"{table}: {different[:3]}"


def test_every_mart_and_incremental_model_equals_the_full_build(warehouses):
    daily, full, _ = warehouses
    # The scores' mart is empty here: nothing promoted a model (the chain test fills it).
    tables = [("execkpi_marts", mart) for mart in MARTS if mart not in SCORED_BY_THE_MODEL]
    tables += [("execkpi_staging", name) for name in INCREMENTAL_MODELS["execkpi_staging"]]
    with duckdb.connect(str(daily), read_only=True) as con:
        con.execute(f"attach '{full}' as full_build (read_only)")
        for schema, name in tables:
            _assert_same_rows(con, f"{schema}.{name}")


# The replayed days end on a Sunday: the feature snapshots (Mondays whose label window has
# passed) stay the same. Analysed as of the next Monday, they move on by a week.
NEXT_MONDAY = DEFAULT_AS_OF + timedelta(days=(7 - DEFAULT_AS_OF.weekday()) % 7 or 7)


def test_a_new_feature_snapshot_equals_the_full_build(warehouses, tmp_path):
    """An incremental build on the day a new snapshot enters features_conversion adds it for
    every user and drops the oldest, as a full build of the same day does."""
    daily, full, _ = warehouses
    # The warehouses' own artifacts: the ingested batches they were built with stay in staging.
    artifacts = daily.parent / "artifacts"
    env = {"EXECKPI_TIME_ZONE": REPORTING_ZONE, "EXECKPI_ARTIFACT_DIR": str(artifacts)}
    monday = ["--vars", json.dumps({"as_of_date": NEXT_MONDAY.isoformat()}), "--quiet"]
    run = ["run", "--select", "features_conversion", "--target-path", str(tmp_path / "target")]
    copies = {}
    for name, source, full_refresh in (("daily", daily, []), ("full", full, ["--full-refresh"])):
        copies[name] = tmp_path / f"{name}.duckdb"
        shutil.copyfile(source, copies[name])
        run_dbt([*run, *full_refresh, *monday], duckdb_path=copies[name], env=env)
    table = "execkpi_marts.features_conversion"
    with duckdb.connect(str(copies["daily"]), read_only=True) as con:
        con.execute(f"attach '{copies['full']}' as full_build (read_only)")
        _assert_same_rows(con, table)
        con.execute(f"attach '{daily}' as before (read_only)")
        (added,) = con.execute(
            f"select count(distinct snapshot_date) from {table} where snapshot_date not in"
            f" (select snapshot_date from before.{table})"
        ).fetchone()
    assert added == 1


def test_the_day_builds_were_incremental(warehouses):
    """The last build took the incremental path (a full rebuild would trivially match)."""
    _, _, results = warehouses
    for names in INCREMENTAL_MODELS.values():
        for name in names:
            assert results[name]["status"] == "success", name
            assert " in (" in results[name]["compiled_code"], name


def test_the_old_order_sent_again_is_returned(warehouses):
    """The correction, far older than the lookback, reached the incremental tables."""
    daily, _, _ = warehouses
    with duckdb.connect(str(daily), read_only=True) as con:
        status, returned = con.execute(
            "select status, returned_value from execkpi_staging.int_orders"
            " where order_id in (select order_id from execkpi_ingest.orders)"
        ).fetchone()
    assert status == "Returned"
    assert returned > 0


# Faults in raw.events: new events (after the newest) that break a test each, and an old event
# of an unknown type, long before the lookback.
FAULTS = {
    "unique_stg_thelook__events_event_id": {"id": "(select min(id) from raw.events)"},
    "not_null_stg_thelook__events_session_id": {"session_id": "null"},
    "relationships_stg_thelook__events_user_id": {"user_id": "999999999"},
}
OLD_FAULT = "accepted_values_stg_thelook__events_event_type"


def _daily_test_failures(path: Path, work: Path) -> dict:
    """stg_thelook__events' data tests as a daily build runs them: the failing rows per test
    (by name, hash left out)."""
    env = {"EXECKPI_TIME_ZONE": REPORTING_ZONE, "EXECKPI_ARTIFACT_DIR": str(work / "artifacts")}
    target = work / "target"
    command = ["test", "--select", "stg_thelook__events", "--target-path", str(target)]
    with pytest.raises(DbtFailed):
        run_dbt(
            [*command, "--vars", '{"test_changed_rows": true}', "--quiet"],
            duckdb_path=path,
            env=env,
        )
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: r["failures"] for r in results}


def _matching(failures: dict, prefix: str) -> int:
    (count,) = [n for name, n in failures.items() if name.startswith(prefix)]
    return count


def test_a_daily_builds_tests_catch_faults_in_the_rows_that_changed(warehouses, tmp_path):
    """A new event whose id an old one holds, without a session, of an unknown user: each
    fails its test. An old event of an unknown type is not tested again."""
    daily, _, _ = warehouses
    faulty = tmp_path / "faulty.duckdb"
    shutil.copyfile(daily, faulty)
    with duckdb.connect(str(faulty)) as con:
        (next_id,) = con.execute("select max(id) + 1 from raw.events").fetchone()
        newest = "(select max(created_at) + interval 1 minute from raw.events)"
        for offset, fault in enumerate(FAULTS.values()):
            values = {"id": str(next_id + offset), "created_at": newest, **fault}
            replaced = ", ".join(f"{value} as {column}" for column, value in values.items())
            con.execute(
                f"insert into raw.events select * replace ({replaced}) from raw.events"
                " where user_id is not null order by id limit 1"
            )
        con.execute(
            f"insert into raw.events select * replace ({next_id + len(FAULTS)} as id,"
            " 'unknown' as event_type) from raw.events order by created_at limit 1"
        )
        # The old event is there, and outside the lookback: it passed when it was built.
        (old_unknown,) = con.execute(
            "select count(*) from execkpi_staging.stg_thelook__events"
            " where event_type = 'unknown' and changed_at < (select max(changed_at)"
            " - interval 3 day from execkpi_staging.stg_thelook__events)"
        ).fetchone()
    assert old_unknown == 1
    failures = _daily_test_failures(faulty, tmp_path)
    for name in FAULTS:
        assert _matching(failures, name) == 1, name
    assert _matching(failures, OLD_FAULT) == 0
    assert sum(failures.values()) == len(FAULTS)
