"""Benchmark of the kpi function on DuckDB (not a test).

Per size: build a warehouse (generate → load → dbt build), serve the function with
functions-framework on 127.0.0.1, and for every KPI time uncached requests (Cache-Control:
no-cache) end to end over one kept-alive connection, next to the same SQL run straight on
DuckDB; then the function process's peak memory. Overhead = function p50 / raw DuckDB p50 - 1
(goal ≤ 10%).

    python -m scripts.benchmarks.kpi_queries [--users 650000 6430000] [--requests 30]

Cold import (goal ≤ 1.5x functions_framework): python -m scripts.benchmarks.cold_import kpi
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import requests

from common.kpi.catalogue import CATALOGUE
from common.kpi.dialect import Dialect, Query
from common.kpi.params import parse_params
from scripts.benchmarks.dbt_build import warehouses_by_size
from scripts.benchmarks.memory import peak_memory_mib
from scripts.benchmarks.timing import median_ms, percentile, samples_ms
from scripts.deploy.catalog import REPO_ROOT
from scripts.local.emulators import free_port, stop_process_group, wait_for_port

PARAMS = {"experiment_metrics": {"experiment_id": "checkout_one_click"}}
UNCACHED = {"Cache-Control": "no-cache"}
# One connection kept open (keep-alive), as a dashboard's browser keeps it: a request then
# times the function, not a new TCP connection and a new client session each.
CALLER = requests.Session()


def kpi_values(name: str, params: dict) -> dict:
    """The parsed values of the parameters a KPI answer reports (``params`` in a response)."""
    kpi = CATALOGUE[name]
    values = parse_params(kpi.params, {k: v for k, v in params.items() if v is not None})
    return values | {k: date.fromisoformat(v) for k, v in params.items() if k in ("start", "end")}


def kpi_query(name: str, params: dict) -> Query:
    """The KPI's own SQL for those parameters, on the DuckDB marts."""
    return CATALOGUE[name].build(Dialect("duckdb", "execkpi_marts"), kpi_values(name, params))


def raw_duckdb_ms(path: Path, name: str, params: dict, runs: int) -> float:
    """Median ms of the KPI's own SQL on an open read-only connection (the floor)."""
    query = kpi_query(name, params)
    with duckdb.connect(str(path), read_only=True) as con:
        return median_ms(lambda: con.execute(query.sql, dict(query.params)).fetchall(), runs)


@contextmanager
def serving_kpi(path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The kpi function on ``path`` under functions-framework on 127.0.0.1: its base URL and
    process, stopped on exit."""
    port = free_port()
    env = {**os.environ, "EXECKPI_DUCKDB_PATH": str(path), "EXECKPI_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "functions_framework", "--target", "kpi", "--source"]
    command += [
        str(REPO_ROOT / "functions/kpi/main.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 60, process)
        yield f"http://127.0.0.1:{port}/kpi", process
    finally:
        stop_process_group(process)


def uncached_get(url: str, params: dict) -> dict:
    """One answer computed afresh (Cache-Control: no-cache), as JSON."""
    response = CALLER.get(url, params=params, headers=UNCACHED, timeout=120)
    response.raise_for_status()
    return response.json()


def bench_size(path: Path, runs: int) -> None:
    with serving_kpi(path) as (base, process):
        # The catalogue runs no query: HTTP + framework cost alone.
        floor = median_ms(lambda: CALLER.get(base, timeout=60).raise_for_status(), runs)
        print(f"  HTTP floor (GET /kpi, no query): p50 {floor:.1f} ms")
        print(f"  {'kpi':<20} {'p50 ms':>8} {'p95 ms':>8} {'duckdb ms':>10} {'overhead':>9}")
        for name in CATALOGUE:
            url, params = f"{base}/{name}", PARAMS.get(name, {})
            first = CALLER.get(url, params=params, timeout=120).json()
            timings = samples_ms(lambda url=url, params=params: uncached_get(url, params), runs)
            raw = raw_duckdb_ms(path, name, first["params"], runs)
            p50 = statistics.median(timings)
            print(
                f"  {name:<20} {p50:8.1f} {percentile(timings, 95):8.1f} {raw:10.1f} "
                f"{p50 / raw - 1:9.0%}",
                flush=True,
            )
        print(f"  function process peak memory: {peak_memory_mib(process):.0f} MiB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[650_000])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; uncached requests through functions-framework")
    for users, path, sizes in warehouses_by_size(args.users):
        print(f"users {users:,}: order_items {sizes['order_items']:,}, events {sizes['events']:,}")
        bench_size(path, args.requests)


if __name__ == "__main__":
    main()
