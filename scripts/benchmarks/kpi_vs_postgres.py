"""Benchmark: four everyday questions answered by the kpi function, by raw DuckDB and by
PostgreSQL 15 (tuned, indexed; plain tables and orders partitioned by month), on the same
generated data (not a test).

Per size: build a warehouse (generate → load → dbt build); ask the kpi function over HTTP
(functions-framework on 127.0.0.1, uncached requests over one kept-alive connection), run the
KPI's own SQL straight on the DuckDB file, and run each question's PostgreSQL query over the
raw tables in both layouts (a server from Debian's package, started and removed here; skipped
with the reason when absent).
Every engine's answer must agree with the function's (numbers to the cent, same rows, same
order), or the run stops. Then one table: p50 per question and engine, the best PostgreSQL
layout's p50 over the function's, and what each engine cost to load and build.

    python -m scripts.benchmarks.kpi_vs_postgres [--users 650000 6500000] [--requests 30]

Goal: every question under 20 ms p50 end to end, and at least 10x faster than PostgreSQL.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from common.config import load_config
from common.kpi.catalogue import CATALOGUE
from common.reporting_time import local_date
from scripts.benchmarks import postgres_thelook
from scripts.benchmarks.dbt_build import warehouses_by_size
from scripts.benchmarks.kpi_queries import (
    kpi_query,
    kpi_values,
    serving_kpi,
    uncached_get,
)
from scripts.benchmarks.memory import peak_memory_mib
from scripts.benchmarks.postgres_server import missing_reason, running_postgres
from scripts.benchmarks.timing import samples_ms

GOAL_MS, GOAL_RATIO = 20.0, 10.0
# Money in the function's answers is rounded to the cent; the engines' sums are exact.
CENT = 0.0051


@dataclass(frozen=True)
class Question:
    label: str
    kpi: str
    params: Callable[[date], dict[str, str]]  # from the newest day with an order


def _year_before(end: date, **more: str) -> dict[str, str]:
    return {"start": str(end - timedelta(days=364)), "end": str(end), **more}


QUESTIONS = (
    Question("monthly revenue", "revenue", lambda end: _year_before(end, grain="month")),
    Question(
        "last 30 days",
        "revenue",
        lambda end: {"start": str(end - timedelta(days=29)), "end": str(end), "grain": "day"},
    ),
    Question("LTV top 100", "customer_ltv", lambda end: {"limit": "100"}),
    Question(
        "monthly cohort retention",
        "retention",
        lambda end: _year_before(end, grain="month", max_periods="12"),
    ),
)


def newest_order_day(warehouse: Path, zone: str) -> date:
    """The reporting day of the newest raw order (the day the KPIs' default ranges end on)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        newest = con.execute("select max(created_at) from raw.orders").fetchone()[0]
    return local_date(newest.replace(tzinfo=UTC), zone)


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, date):  # and datetime: as the function's JSON writes them
        return value.isoformat()
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=CENT)
    return a == b


def disagreements(kpi: str, expected: Sequence[Sequence], actual: Sequence[Sequence]) -> list[str]:
    """How ``actual`` rows differ from ``expected`` ones, column by column of the KPI's query
    (a trailing ``complete`` the function adds is ignored); empty when they agree."""
    names = [column.name for column in CATALOGUE[kpi].columns]
    if len(expected) != len(actual):
        return [f"{len(actual)} rows instead of {len(expected)}"]
    problems = []
    for number, (want, got) in enumerate(zip(expected, actual, strict=True)):
        want, got = [_plain(v) for v in want[: len(names)]], [_plain(v) for v in got[: len(names)]]
        wrong = [
            f"{name} {g!r} instead of {w!r}"
            for name, w, g in zip(names, want, got, strict=True)
            if not _same(w, g)
        ]
        if wrong:
            problems.append(f"row {number}: " + ", ".join(wrong))
    return problems


def _require_agreement(question: Question, engine: str, expected: list, actual: list) -> None:
    if problems := disagreements(question.kpi, expected, actual):
        listed = "\n    ".join(problems[:10])
        raise SystemExit(
            f"{engine} disagrees with the kpi function on {question.label}:\n    {listed}"
        )


def _p50(runs: int, function: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """The median ms of ``runs`` calls after one that gives the answer (and warms caches)."""
    answer = function(*args)
    return statistics.median(samples_ms(lambda: function(*args), runs)), answer


def duckdb_rows(con: duckdb.DuckDBPyConnection, kpi: str, params: dict) -> list[tuple]:
    """The KPI's own SQL straight on the marts."""
    query = kpi_query(kpi, params)
    return con.execute(query.sql, dict(query.params)).fetchall()


def postgres_rows(con: psycopg.Connection, kpi: str, params: dict, zone: str) -> list[tuple]:
    """The question's PostgreSQL query over the raw tables."""
    sql, values = postgres_thelook.statement(kpi, kpi_values(kpi, params), zone)
    return con.execute(sql, values).fetchall()


def bench_size(path: Path, sizes: dict, requests: int, pg_runs: int) -> None:
    zone = load_config().time_zone
    end = newest_order_day(path, zone)
    asked = [(q, q.params(end)) for q in QUESTIONS]
    p50: dict[str, dict[str, float]] = {q.label: {} for q in QUESTIONS}
    answers: dict[str, list] = {}
    with serving_kpi(path) as (base, process):
        for question, params in asked:
            url = f"{base}/{question.kpi}"
            p50[question.label]["kpi"], answer = _p50(requests, uncached_get, url, params)
            answers[question.label] = answer["rows"]
            params.update(answer["params"])  # as the function resolved them
        kpi_peak = peak_memory_mib(process)
    with duckdb.connect(str(path), read_only=True) as con:
        for question, params in asked:
            ms, rows = _p50(requests, duckdb_rows, con, question.kpi, params)
            _require_agreement(question, "raw DuckDB", answers[question.label], rows)
            p50[question.label]["duckdb"] = ms
    pg_costs = _bench_postgres(path, asked, zone, pg_runs, p50, answers)
    _report(sizes, p50, answers, pg_costs, kpi_peak)


def _bench_postgres(
    path: Path, asked: list, zone: str, runs: int, p50: dict, answers: dict
) -> dict | None:
    if reason := missing_reason():
        print(f"  PostgreSQL skipped: {reason}")
        return None
    with running_postgres(postgres_thelook.TUNED) as conninfo:
        costs = postgres_thelook.load(conninfo, path)
        for layout in postgres_thelook.LAYOUTS:
            with postgres_thelook.connect(conninfo, layout) as con:
                for question, params in asked:
                    ms, rows = _p50(runs, postgres_rows, con, question.kpi, params, zone)
                    engine = f"PostgreSQL ({layout})"
                    _require_agreement(question, engine, answers[question.label], rows)
                    p50[question.label][f"pg {layout}"] = ms
    return costs


def _report(sizes: dict, p50: dict, answers: dict, pg_costs: dict | None, kpi_peak: float) -> None:
    # Others' work on the machine inflates every figure: the load says how much there was.
    print(
        f"  load average over the last 1/5/15 min: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(
        f"  build: generate {sizes['generate_s']:.1f} s, DuckDB load {sizes['load_s']:.1f} s, "
        f"dbt build {sizes['dbt_build_s']:.1f} s; kpi function peak memory {kpi_peak:.0f} MiB"
    )
    if pg_costs:
        for schema in ("shared", *postgres_thelook.LAYOUTS):
            cost = pg_costs[schema]
            total = cost["copy_s"] + cost["index_s"] + cost["analyze_s"]
            print(
                f"  PostgreSQL {schema:<7} COPY streamed from DuckDB {cost['copy_s']:6.1f} s  "
                f"index {cost['index_s']:6.1f} s  vacuum analyze {cost['analyze_s']:5.1f} s  "
                f"total {total:6.1f} s"
            )
        load = sum(sum(cost.values()) for cost in pg_costs.values())
        print(f"  PostgreSQL load time, all schemas: {load:.1f} s")
    engines = ["kpi", "duckdb"] + (["pg plain", "pg monthly"] if pg_costs else [])
    header = "".join(f"{e + ' p50':>15}" for e in engines)
    print(f"  {'question (ms)':<26}{'rows':>6}{header}{'best pg / kpi':>15}  goal")
    for label, times in p50.items():
        cells = f"{len(answers[label]):6}" + "".join(f"{times[e]:15.1f}" for e in engines)
        kpi = times["kpi"]
        if pg_costs:
            ratio = min(times["pg plain"], times["pg monthly"]) / kpi
            met = kpi < GOAL_MS and ratio >= GOAL_RATIO
            verdict = f"{ratio:14.1f}x  {'met' if met else 'MISSED'}"
        else:
            verdict = f"{'-':>15}  {'met' if kpi < GOAL_MS else 'MISSED'} (< {GOAL_MS:.0f} ms)"
        print(f"  {label:<26}{cells}{verdict}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[650_000])
    parser.add_argument("--requests", type=int, default=30, help="timed kpi and DuckDB runs")
    parser.add_argument("--pg-runs", type=int, default=5, help="timed PostgreSQL runs")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; p50 of uncached runs after one warm-up")
    # PostgreSQL reads the generated raw tables alone: so must dbt, without the batches a
    # developer's artifact folder may hold.
    with tempfile.TemporaryDirectory(prefix="execkpi-bench-artifacts-") as artifacts:
        os.environ["EXECKPI_ARTIFACT_DIR"] = artifacts
        for users, path, sizes in warehouses_by_size(args.users):
            rows = f"order_items {sizes['order_items']:,}, events {sizes['events']:,}"
            print(f"users {users:,}: {rows}")
            bench_size(path, sizes, args.requests, args.pg_runs)


if __name__ == "__main__":
    main()
