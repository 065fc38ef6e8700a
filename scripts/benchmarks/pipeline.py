"""Benchmark: the daily pipeline on the local stack, stage by stage, against bare dbt.

    python -m scripts.benchmarks.pipeline                  # 100k users (the demo's size)
    python -m scripts.benchmarks.pipeline --users 650000   # ~1M order items

For each size: generate and load thelook data (with a built warehouse, so the tick rebuilds it
as on any later day), time a bare ``dbt build`` CLI run on a copy, then start every function
and play the scheduler's tick. Prints the build (and how much of it is dbt's own work), the
validation and the training as the run ledger recorded them, the tick-to-decision wall time,
what at-least-once delivery costs: a repeated tick of the same slot and a duplicate
dbt-build-completed delivered to validate (median of ``--repeats``), and the peak memory (RSS)
of the dbt CLI and of each function (dbt_build's includes the pipeline's dbt build, which runs
in its process). ``DBT_DUCKDB_MEMORY_LIMIT`` bounds DuckDB's share (dbt_project/profiles.yml).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import requests
from cloudevents.conversion import to_binary

from common.events.envelope import Event
from scripts.benchmarks.dbt_build import build_warehouse
from scripts.benchmarks.memory import finished_children_peak_mib, peak_memory_mib
from scripts.benchmarks.timing import median_ms, stopwatch
from scripts.data.dbt_runner import run_dbt
from scripts.deploy.catalog import discover
from scripts.local.bus import LocalBus, new_message
from scripts.local.emulators import free_ports_for_stack
from scripts.local.scheduler_tick import follow, tick
from scripts.local.stack import LocalStack


def duplicate_delivery(validate_url: str, run: dict) -> None:
    """dbt-build-completed for ``run`` again, as Pub/Sub would redeliver it."""
    build = run["stages"]["build"]
    event = Event.for_run("dbt-build-completed", "dbt_build", run["run_id"], build["summary"])
    bus = LocalBus()
    message = new_message("dbt-build-completed", event.to_bytes(), event.attributes())
    cloud_event = bus.cloud_event(bus.subscribe("dbt-build-completed", validate_url), message)
    headers, body = to_binary(cloud_event)
    requests.post(validate_url, data=body, headers=headers, timeout=60).raise_for_status()


def bench(users: int, workdir: Path, repeats: int) -> None:
    warehouse, _ = build_warehouse(users, workdir)
    bare = workdir / "bare.duckdb"
    shutil.copyfile(warehouse, bare)
    with stopwatch("bare dbt build") as bare_build:
        run_dbt(["build", "--quiet"], duckdb_path=bare)
    bare.unlink()
    dbt_peak = finished_children_peak_mib()  # the dbt CLI processes, the largest of the two

    env = {
        "EXECKPI_DUCKDB_PATH": str(warehouse),
        "EXECKPI_ARTIFACT_DIR": str(workdir / "art"),
        # bench_dbt generates data up to a fixed day: keep source freshness out of the way.
        "EXECKPI_FRESHNESS_ERROR_DAYS": "3650",
    }
    specs = discover()
    base_port, _ = free_ports_for_stack(len(specs))
    stack = LocalStack(specs, base_port, env, log_dir=workdir / "logs").start()
    try:
        dbt_build = stack.urls["dbt_build"]
        with stopwatch("tick → training decision") as end_to_end:
            built = tick(dbt_build)
            run = follow(dbt_build, built["run_id"], timeout=3600)
        # The ledger records the decision before the train function scores the users: wait for
        # its delivery to end, or stopping the stack would cut the scoring short.
        with stopwatch("training decision → every delivery done") as scoring:
            idle = stack.wait_idle(timeout=3600)
        if not idle:
            raise SystemExit("the local bus still had deliveries running after an hour")
        slot = datetime.fromisoformat(run["stages"]["build"]["slot"])
        repeated_tick = median_ms(lambda: tick(dbt_build, slot), repeats)
        validate = stack.urls["validate"] + "/"
        duplicate = median_ms(lambda: duplicate_delivery(validate, run), repeats)
        peaks = {name: peak_memory_mib(process) for name, process in stack.processes().items()}
    finally:
        stack.stop()

    stages = run["stages"]
    build = stages["build"]
    print(f"\nusers {users:,} ({run['run_id']}: {run['stage']} {run['status']})")
    print(f"  bare `dbt build` CLI           {bare_build.seconds:7.1f} s")
    print(
        f"  build stage                    {build['seconds']:7.1f} s "
        f"(dbt's own elapsed {build['summary']['dbt_seconds']:.1f} s; the rest: file copy, "
        "dbt start-up and parse, source freshness, records)"
    )
    for stage in ("validation", "training"):
        if stage in stages:
            print(f"  {stage + ' stage':<30} {stages[stage]['seconds']:7.1f} s")
    if stages.get("training", {}).get("version"):
        version = stages["training"]["version"]
        (card_file,) = (workdir / "art").rglob(f"{version}/model_card.json")
        card = json.loads(card_file.read_text())
        steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in card["timings"].items())
        print(f"  training steps (s)             {steps}")
        print(
            f"  winner's holdout ROC-AUC       {card['metrics']['roc_auc']:.4f} "
            f"({card['model']['kind']}, {card['data']['holdout_rows']:,} held-out rows)"
        )
    for scores in sorted((workdir / "art").rglob("ml/scores/*/*/*.parquet")):
        scored = pq.ParquetFile(scores).metadata.num_rows
        print(f"  batch scores                   {scored:,} users, {scores.stat().st_size:,} bytes")
    print(f"  decision → deliveries done     {scoring.seconds:7.1f} s (the batch scoring)")
    if run["status"] == "rejected":
        print(f"  rejected by: {', '.join(stages['validation']['failed_gates'])}")
    print(
        f"  tick → training decision       {end_to_end.seconds:7.1f} s "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    print(f"  repeated tick (same slot)      {repeated_tick:7.1f} ms median")
    print(f"  duplicate event to validate    {duplicate:7.1f} ms median")
    print(f"  peak RSS: bare `dbt build` CLI {dbt_peak:7.0f} MiB")
    # dbt_build runs the pipeline's dbt build in its own process: its peak is that build's.
    for name, peak in sorted(peaks.items(), key=lambda item: -item[1]):
        print(f"  peak RSS: {name:<20} {peak:7.0f} MiB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores")
    for users in args.users:
        with tempfile.TemporaryDirectory(prefix="execkpi-bench-") as tmp:
            bench(users, Path(tmp), args.repeats)


if __name__ == "__main__":
    main()
