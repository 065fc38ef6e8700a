"""Benchmark: generate thelook data, load it into a fresh DuckDB file and time ``dbt build``.

    python -m scripts.benchmarks.dbt_build                       # 100k users and ~1M order items
    python -m scripts.benchmarks.dbt_build --users 20000 50000   # other sizes

Prints per size: rows per raw table, generation and load seconds, dbt build seconds (the
target is ≤ 60 s at 1M order items on 2 cores) and what dbt reported.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from scripts.benchmarks.timing import stopwatch
from scripts.data.dbt_runner import run_dbt
from scripts.data.thelook.dataset import generate
from scripts.data.thelook.load import load_generated

# 100k users is the demo size; 650k users make ~1M order items (1.55 items per user).
DEFAULT_SIZES = (100_000, 650_000)


def build_warehouse(users: int, workdir: Path) -> tuple[Path, dict[str, float | int]]:
    """Generate, load and dbt-build a warehouse of ``users`` users; its path and timings."""
    raw = workdir / f"thelook-{users}"
    with stopwatch(f"generate {users:,} users") as generated:
        counts = generate(raw, users=users, seed=42, progress=False)
    path = workdir / f"warehouse-{users}.duckdb"
    with stopwatch("load the raw tables") as loaded, duckdb.connect(str(path)) as con:
        load_generated(con, raw)
    with stopwatch("dbt build") as built:
        run_dbt(["build", "--quiet"], duckdb_path=path)
    timings = {"generate_s": generated.seconds, "load_s": loaded.seconds}
    return path, {**counts, **timings, "dbt_build_s": built.seconds}


def warehouses_by_size(sizes: list[int]) -> Iterator[tuple[int, Path, dict[str, float | int]]]:
    """One built warehouse per size in a temporary folder, each deleted with it."""
    with tempfile.TemporaryDirectory(prefix="execkpi-bench-") as tmp:
        for users in sizes:
            yield users, *build_warehouse(users, Path(tmp))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=list(DEFAULT_SIZES))
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; dbt-duckdb, threads from profiles.yml")
    for users, _, result in warehouses_by_size(args.users):
        print(
            f"users {users:>9,}  order_items {result['order_items']:>11,}  "
            f"events {result['events']:>12,}  generate {result['generate_s']:6.1f} s  "
            f"load {result['load_s']:5.1f} s  dbt build {result['dbt_build_s']:6.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
