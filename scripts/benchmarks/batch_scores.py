"""Benchmark the batch scores written after a promotion: every user of the latest feature
snapshot scored by the champion (``common.ml.batch_scores``), time and peak memory per chunk size.

    python -m scripts.benchmarks.batch_scores --users 1000000
    python -m scripts.benchmarks.batch_scores --users 100000 --chunks 25000 100000

The data and the champion are model_training's (``scripts.benchmarks.model_training``): the
features mart for ``--users`` generated users is built in ``--work`` (or reused), and a champion
is trained there once. Each chunk size then scores in a fresh process, whose peak RSS
(``ru_maxrss``) is its own; the object is written to a throw-away store. A chunk is a query
(keyset on user_id): small chunks rescan the snapshot more often.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from scripts.benchmarks.model_training import child_retrain, prepare
from scripts.benchmarks.timing import stopwatch
from scripts.deploy.catalog import REPO_ROOT


def child_score(database: Path, artifacts: Path, chunk_rows: int) -> dict:
    from common.artifacts.local import LocalArtifactStore
    from common.ml.batch_scores import score_snapshot
    from common.ml.features import CONVERSION
    from common.ml.registry import Registry
    from common.ml.serving import Champion
    from common.ml.snapshot import Snapshot
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    registry = Registry(LocalArtifactStore(artifacts), CONVERSION.model)
    pointer = registry.latest()
    champion = Champion(registry, pointer.body, pointer.store_version)
    champion.model  # noqa: B018  (loaded, and xgboost imported, before the clock starts)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    with tempfile.TemporaryDirectory(prefix="bench-scores-") as folder:
        store = LocalArtifactStore(folder)
        with stopwatch() as took:
            snapshot = Snapshot(
                DuckDBWarehouse(database), CONVERSION, "execkpi_marts", champion.features
            )
            run = score_snapshot(
                store, CONVERSION.model, champion, snapshot, datetime.now(UTC), chunk_rows
            )
        size = os.path.getsize(Path(folder) / run.key)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {
        "seconds": took.seconds,
        "users": run.users,
        "bytes": size,
        "peak_gib": peak,
        "loaded_gib": loaded,
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(child_score(Path(argv[1]), Path(argv[2]), int(argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--chunks", type=int, nargs="*", default=[25_000, 100_000, 400_000])
    parser.add_argument("--work", type=Path, default=REPO_ROOT / ".local" / "bench-model")
    args = parser.parse_args(argv)

    print(f"machine: nproc={len(os.sched_getaffinity(0))}  loadavg={os.getloadavg()[0]:.2f}")
    database = prepare(args.users, args.work)
    artifacts = args.work / f"artifacts-{args.users}"
    if not (artifacts / "models").exists():
        with stopwatch(f"train a champion on {args.users:,} users"):
            child_retrain(database, artifacts)
    for chunk_rows in args.chunks:
        command = [sys.executable, "-m", "scripts.benchmarks.batch_scores", "--child"]
        command += [str(database), str(artifacts), str(chunk_rows)]
        output = subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True, text=True)
        result = json.loads(output.stdout.strip().splitlines()[-1])
        print(
            f"  chunks of {chunk_rows:>7,}: {result['users']:,} users scored in "
            f"{result['seconds']:.1f} s ({result['users'] / result['seconds']:,.0f} users/s), "
            f"{result['bytes'] / 2**20:.1f} MiB of Parquet, peak RSS {result['peak_gib']:.2f} GiB "
            f"({result['loaded_gib']:.2f} GiB before scoring, the champion loaded)"
        )
    print(f"  loadavg now: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
