"""Benchmark ingestion: rows/s and peak memory for JSON batches over HTTP and for large Parquet
files, each measured in its own child process (its peak RSS from ``ru_maxrss`` is its own).

    python -m scripts.benchmarks.ingest   # 50 JSON batches of 1,000; 250k and 1M-row Parquet
    python -m scripts.benchmarks.ingest --batches 200 --parquet-rows 1000000

JSON: the ingest function served by functions-framework on a local port, a local bus taking the
events, batches of 1,000 events posted one after another. Parquet: an events file the parent
generates, then ingested by a child through the same code (common.ingest.batches), without
HTTP's 32 MiB limit, read from the file as a landing bucket's object would be. Peak memory is the
child's RSS (its RSS once imports are done shown apart) and Arrow's own pool peak; 250k and 1M
rows show it bounded by the chunk, not the file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scripts.benchmarks.timing import stopwatch

REPO = Path(__file__).resolve().parents[2]
BATCH_ROWS = 1000


def events(first_id: int, rows: int, seed: int) -> pa.Table:
    """Valid thelook events: sequential ids, sessions of 5 events, times in 2025."""
    rng = np.random.default_rng(seed)
    ids = np.arange(first_id, first_id + rows, dtype=np.int64)
    start = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
    seconds = rng.integers(0, 300 * 86400, rows) * 1_000_000
    choose = lambda values: pa.array(np.array(values)[rng.integers(0, len(values), rows)])  # noqa: E731
    return pa.table(
        {
            "id": ids,
            "user_id": pa.array(rng.integers(1, 100_000, rows)),
            "sequence_number": pa.array(ids % 5 + 1),
            "session_id": pa.array([f"s-{i // 5}" for i in ids.tolist()]),
            "created_at": pa.array(start + seconds, pa.timestamp("us", tz="UTC")),
            "ip_address": choose(["66.102.116.56", "217.254.220.236"]),
            "city": choose(["São Paulo", "Berlin", "Chicago"]),
            "state": choose(["São Paulo", "Berlin", "Illinois"]),
            "postal_code": choose(["02220-000", "10115", "60601"]),
            "browser": choose(["Chrome", "Firefox", "Safari", "IE", "Other"]),
            "traffic_source": choose(["Email", "Adwords", "Organic", "YouTube", "Facebook"]),
            "uri": choose(["/home", "/department/men", "/cart"]),
            "event_type": choose(["home", "department", "product", "cart", "purchase"]),
        }
    )


def peak() -> dict:
    return {
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "arrow_pool_peak_mib": pa.default_memory_pool().max_memory() / 1024**2,
    }


def json_child(batches: int, folder: Path) -> dict:
    from functions_framework import create_app
    from werkzeug.serving import make_server

    from scripts.local.bus import LocalBus, LocalBusServer

    bus = LocalBusServer(LocalBus()).start()
    os.environ.update(
        EXECKPI_ARTIFACT_DIR=str(folder / "artifacts"),
        EXECKPI_LOCAL_BUS_URL=bus.url,
        EXECKPI_MAX_REQUEST_BYTES=str(32 * 1024**2),
    )
    app = create_app("ingest", str(REPO / "functions/ingest/main.py"), "http")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/ingest/events"
    bodies = []
    for n in range(batches):
        rows = events(n * BATCH_ROWS + 1, BATCH_ROWS, n).to_pylist()
        for row in rows:
            row["created_at"] = row["created_at"].isoformat()
        bodies.append(json.dumps({"rows": rows}).encode())
    accepted = 0
    before = peak()["peak_rss_mib"]
    with stopwatch() as took:
        for body in bodies:
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=120) as response:
                accepted += json.loads(response.read())["accepted"]
    server.shutdown()
    bus.stop()
    rows = batches * BATCH_ROWS
    return {
        "rows": rows,
        "accepted": accepted,
        "seconds": took.seconds,
        "rss_before_mib": before,
        **peak(),
    }


def events_file(rows: int, folder: Path) -> Path:
    """Written in pieces of 100,000 rows (a row group each): the file, not the generator, is big."""
    path = folder / "events.parquet"
    with pq.ParquetWriter(path, events(1, 1, 0).schema) as writer:
        for start in range(0, rows, 100_000):
            writer.write_table(events(start + 1, min(100_000, rows - start), start))
    return path


def parquet_child(rows: int, folder: Path) -> dict:
    from common.artifacts.local import LocalArtifactStore
    from common.ingest.batches import Ingestor, Upload

    class NoBus:
        def publish(self, event: object) -> str:
            return "0"

    path = folder / "events.parquet"
    before = peak()["peak_rss_mib"]
    ingestor = Ingestor(LocalArtifactStore(folder / "artifacts"), NoBus())
    with stopwatch() as took, path.open("rb") as source:
        answer = ingestor.ingest(Upload("events", "parquet", source))
    return {
        "rows": rows,
        "accepted": answer["accepted"],
        "file_mib": path.stat().st_size / 1024**2,
        "seconds": took.seconds,
        "rss_before_mib": before,
        **peak(),
    }


def run_child(kind: str, size: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        if kind == "parquet":
            events_file(size, Path(folder))
        command = [sys.executable, "-m", "scripts.benchmarks.ingest", "--child", kind, str(size)]
        command.append(folder)
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--parquet-rows", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, size, folder = args.child[0], int(args.child[1]), Path(args.child[2])
        child = json_child if kind == "json" else parquet_child
        print(json.dumps(child(size, folder)))
        return
    results = [("json", run_child("json", args.batches))]
    results += [("parquet", run_child("parquet", rows)) for rows in args.parquet_rows]
    header = f"{'input':<24} {'rows':>10} {'seconds':>8} {'rows/s':>10}"
    print(f"{header} {'RSS at start MiB':>17} {'peak RSS MiB':>13} {'Arrow peak MiB':>15}")
    for kind, r in results:
        name = (
            f"JSON {BATCH_ROWS:,}-row batches"
            if kind == "json"
            else f"Parquet ({r['file_mib']:.0f} MiB)"
        )
        print(
            f"{name:<24} {r['rows']:>10,} {r['seconds']:>8.2f} {r['rows'] / r['seconds']:>10,.0f}"
            f" {r['rss_before_mib']:>17.0f} {r['peak_rss_mib']:>13.0f}"
            f" {r['arrow_pool_peak_mib']:>15.0f}"
        )


if __name__ == "__main__":
    main()
