"""Benchmark: a full ``dbt build``, then the incremental build after one more day of data.

    python -m scripts.benchmarks.incremental_build                  # 650k users, ~1M order items
    python -m scripts.benchmarks.incremental_build --users 6500000  # ~10M order items
    python -m scripts.benchmarks.incremental_build --as-of 2026-11-02  # the extra day a Monday

Per size: generate thelook data up to the as-of day, load it cut at the day before
(scripts/data/thelook/cutoff.py) into a fresh DuckDB file and time ``dbt build`` (a full build:
no table exists yet); then load the whole data (one more day: new rows, older orders shipped,
delivered, returned) and time ``dbt build`` again (incremental). Both are the pipeline's build,
data tests included (the incremental one tests the rows that changed, as the pipeline's daily
build does: dbt_project/macros/tests/changed_rows.sql); dbt's own time for models and for tests
is shown apart. The goal: the incremental build takes less than a quarter of the full one.
After each build, the KPI benchmark's four questions (scripts/benchmarks/kpi_vs_postgres.py)
are timed on the warehouse with the KPIs' own SQL: a daily build appends the rows it recomputes
instead of storing the whole mart in order, and the questions must stay as fast.
The default extra day is a Sunday; on a Monday ``features_conversion`` also adds a snapshot of
every user and drops its oldest one, the dearest daily build of the week.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb

from common.config import load_config
from scripts.benchmarks.kpi_queries import raw_duckdb_ms
from scripts.benchmarks.kpi_vs_postgres import QUESTIONS, newest_order_day
from scripts.benchmarks.timing import stopwatch
from scripts.data.dbt_runner import run_dbt
from scripts.data.thelook.cutoff import cut_at
from scripts.data.thelook.dataset import DEFAULT_AS_OF, generate
from scripts.data.thelook.load import load_generated

DEFAULT_USERS = (650_000,)


SLOWEST = 8  # nodes listed per build
QUESTION_RUNS = 30


def timed_build(
    path: Path, workdir: Path, step: str, *args: str
) -> tuple[float, dict[str, float], list]:
    """``dbt build`` (with ``args``) on ``path``: wall seconds, dbt's seconds per kind of
    node, and the slowest nodes (seconds, name)."""
    target = workdir / "target"
    # An artifact folder of its own: nothing ingested from a developer's .local.
    env = {"EXECKPI_ARTIFACT_DIR": str(workdir / "artifacts")}
    with stopwatch(step) as took:
        run_dbt(
            ["build", "--quiet", "--target-path", str(target), *args], duckdb_path=path, env=env
        )
    results = json.loads((target / "run_results.json").read_text())["results"]
    by_kind: dict[str, float] = {}
    for result in results:
        kind = result["unique_id"].split(".", 1)[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + result["execution_time"]
    slowest = sorted(((r["execution_time"], r["unique_id"]) for r in results), reverse=True)
    return took.seconds, by_kind, slowest[:SLOWEST], question_p50s(path)


def question_p50s(path: Path) -> dict[str, float]:
    """The four questions' p50 ms, straight on the built warehouse."""
    end = newest_order_day(path, load_config().time_zone)
    return {q.label: raw_duckdb_ms(path, q.kpi, q.params(end), QUESTION_RUNS) for q in QUESTIONS}


def measure(users: int, as_of: date, workdir: Path) -> dict[str, object]:
    raw = workdir / "thelook"
    with stopwatch(f"generate {users:,} users up to {as_of:%A %Y-%m-%d}"):
        counts = generate(raw, users=users, seed=42, as_of=as_of, progress=False)
    path = workdir / "warehouse.duckdb"
    with stopwatch("load the data up to the day before"), duckdb.connect(str(path)) as con:
        load_generated(con, raw)
        cut_at(con, as_of - timedelta(days=1))
    full = timed_build(path, workdir, "full dbt build")
    with stopwatch("load one more day"), duckdb.connect(str(path)) as con:
        load_generated(con, raw)
    # As the pipeline's daily build: data tests on the rows that changed.
    changed_rows = ("--vars", '{"test_changed_rows": true}')
    incremental = timed_build(path, workdir, "incremental dbt build", *changed_rows)
    return {"counts": counts, "full": full, "incremental": incremental}


def _lines(
    name: str, seconds: float, kinds: dict[str, float], slowest: list, questions: dict
) -> list[str]:
    split = ", ".join(f"{kind}s {kinds[kind]:.1f} s" for kind in sorted(kinds))
    # unique ids: model.execkpi.<name>, test.execkpi.<name>.<hash>
    nodes = ", ".join(f"{node.split('.')[2]} {took:.1f} s" for took, node in slowest)
    asked = ", ".join(f"{label} {ms:.1f}" for label, ms in questions.items())
    return [
        f"  {name:<12} {seconds:7.1f} s   (dbt's node times summed over threads: {split})",
        f"  {'':<12} slowest: {nodes}",
        f"  {'':<12} then, KPI SQL p50 (ms): {asked}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=list(DEFAULT_USERS))
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=DEFAULT_AS_OF,
        help=f"the extra day, YYYY-MM-DD (default {DEFAULT_AS_OF:%A %Y-%m-%d})",
    )
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; dbt-duckdb, threads from profiles.yml")
    for users in args.users:
        with tempfile.TemporaryDirectory(prefix="execkpi-bench-") as tmp:
            result = measure(users, args.as_of, Path(tmp))
        counts = result["counts"]
        full, incremental = result["full"][0], result["incremental"][0]
        print(
            f"users {users:,}  order_items {counts['order_items']:,}  events {counts['events']:,}"
            f"  extra day {args.as_of:%A %Y-%m-%d}"
        )
        print("\n".join(_lines("full", *result["full"])))
        print("\n".join(_lines("incremental", *result["incremental"])))
        print(f"  incremental / full = {incremental / full:.2f} (goal: < 0.25)", flush=True)


if __name__ == "__main__":
    main()
