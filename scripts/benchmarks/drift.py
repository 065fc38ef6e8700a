"""Benchmark: what the validation's drift gate costs and measures at a shop's size.

    python -m scripts.benchmarks.drift                  # 650k users (~5M feature rows)
    python -m scripts.benchmarks.drift --users 100000

The features mart of ``--users`` generated users (``model_training.prepare``, kept in
``--work`` and reused) gets a champion trained as the train function trains it (the
configured caps), in a scratch artifact folder. Then ``measure_drift`` runs as validate runs
it, and the script prints the seconds of each step (xgboost's import in a fresh process, the
latest snapshot's date, the histogram query, the scored sample with its calibration), the
rows compared, and every PSI: on unchanged generated data, how far a later snapshot moves
from the training rows with no drift put in.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.benchmarks.model_training import prepare
from scripts.benchmarks.timing import stopwatch
from scripts.deploy.catalog import REPO_ROOT


def train_champion(database: Path, artifacts: Path) -> float:
    from common.artifacts.local import LocalArtifactStore
    from common.config import load_config
    from common.ml.data import load_features
    from common.ml.features import CONVERSION
    from common.ml.fitting import Settings
    from common.ml.registry import Registry
    from common.ml.sampling import Caps
    from common.ml.training_run import train_run
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    config = load_config({})
    warehouse = DuckDBWarehouse(database)
    with stopwatch("train a champion") as took:
        train_run(
            Registry(LocalArtifactStore(artifacts), CONVERSION.model),
            lambda: load_features(warehouse, CONVERSION, "execkpi_marts", Caps.from_config(config)),
            CONVERSION,
            Settings.from_config(config),
            "bench-drift",
            {},
        )
    return took.seconds


def xgboost_import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import xgboost; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def measure(database: Path, artifacts: Path) -> None:
    import xgboost  # noqa: F401  (its import is timed apart, in a fresh process)

    from common.artifacts.local import LocalArtifactStore
    from common.ml.drift.histograms import latest_snapshot, snapshot_counts
    from common.ml.drift.monitor import measure_drift
    from common.ml.drift.scoring import scored_sample
    from common.ml.encoding import Encoder
    from common.ml.features import CONVERSION
    from common.ml.models import load_model
    from common.ml.registry import CARD, DRIFT_REFERENCE, Registry
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    warehouse = DuckDBWarehouse(database)
    registry = Registry(LocalArtifactStore(artifacts), CONVERSION.model)
    version = registry.latest().version
    reference = registry.read_json(version, DRIFT_REFERENCE)
    card = registry.read_json(version, CARD)
    model = load_model(card["model"]["kind"], registry.read(version, card["model"]["file"]))
    table = f"execkpi_marts.{CONVERSION.table}"
    rows = warehouse.query(f"select count(*) as n from {table}").table.to_pylist()[0]["n"]  # noqa: S608
    # Each step alone first, then the whole measurement as validate runs it.
    with stopwatch() as latest:
        snapshot = latest_snapshot(warehouse, table, CONVERSION)
    with stopwatch() as counted:
        snapshot_counts(warehouse, table, CONVERSION, reference, snapshot)
    with stopwatch() as scored:
        scored_sample(
            warehouse, table, CONVERSION, snapshot, model, Encoder.from_json(card["encoding"])
        )
    with stopwatch() as total:
        measured = measure_drift(warehouse, "execkpi_marts", registry, CONVERSION)
    print(f"machine: nproc={len(os.sched_getaffinity(0))}  load {os.getloadavg()[0]:.1f}")
    print(f"features_conversion rows: {rows:,}; champion {card['model']['kind']}")
    print(f"xgboost import (fresh process): {xgboost_import_seconds():.2f} s")
    print(f"latest snapshot date: {latest.seconds:.2f} s")
    print(f"histogram query: {counted.seconds:.2f} s")
    print(f"scored sample (read and predict): {scored.seconds:.2f} s")
    print(f"measure_drift, all of it: {total.seconds:.2f} s")
    print(
        f"snapshot {measured['snapshot']}: {measured['rows']:,} rows against "
        f"{measured['reference']['rows']:,} training rows "
        f"({measured['reference']['snapshot_dates'][0]} .. "
        f"{measured['reference']['snapshot_dates'][1]}); score sample "
        f"{measured['score']['rows']:,} rows"
    )
    psi = {**measured["psi"], "score": measured["score"]["psi"]}
    for name in sorted(psi, key=lambda n: -psi[n]):
        print(f"  PSI {name:<24} {psi[name]:.4f}")
    print("calibration by decile (mean score / observed rate):")
    for decile in measured["calibration"]["deciles"]:
        print(
            f"  {decile['decile']:>2}: {decile['mean_score']:.4f} / "
            f"{decile['observed_rate']:.4f}  ({decile['rows']:,} rows)"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=650_000)
    parser.add_argument("--work", type=Path, default=REPO_ROOT / ".local" / "bench-model")
    args = parser.parse_args(argv)
    database = prepare(args.users, args.work)
    with tempfile.TemporaryDirectory(prefix="execkpi-drift-") as scratch:
        trained = train_champion(database, Path(scratch))
        print(f"champion trained in {trained:.1f} s (not part of the gate)")
        measure(database, Path(scratch))


if __name__ == "__main__":
    main()
