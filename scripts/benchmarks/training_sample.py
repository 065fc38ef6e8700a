"""Benchmark: holdout AUC and training time against the training sample's cap, which chooses
the default of ``EXECKPI_MODEL_TRAIN_ROWS``.

    python -m scripts.benchmarks.training_sample                            # 650k users
    python -m scripts.benchmarks.training_sample --users 100000 --caps 50000 100000

The features mart of ``--users`` generated users (``model_training.prepare``: seed 11, kept in
``--work`` and reused) is read once with every training row, then once per cap, through
``load_features`` with ``Caps(cap, EXECKPI_MODEL_HOLDOUT_ROWS, ...)`` as the train function
reads it: the training rows sampled in DuckDB, the holdout as configured (the same rows in
every run). Each is fitted as the train function fits (``fit_and_evaluate``: the three
candidates with their cross-validation) and its winner explained. Per cap it prints the rows
kept, the seconds of reading, fitting and explaining, each candidate's holdout ROC-AUC and the
winner's difference from the fit on every training row: the goal is a difference within 0.005.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from scripts.benchmarks.model_training import prepare
from scripts.benchmarks.timing import stopwatch
from scripts.deploy.catalog import REPO_ROOT

DEFAULT_CAPS = (50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000)
TOLERANCE = 0.005


def measure(database: Path, train_rows: int | None) -> dict:
    """One read, fit and explanation with ``train_rows`` as the cap (None: every training row)."""
    from common.config import load_config
    from common.ml.data import load_features
    from common.ml.features import CONVERSION
    from common.ml.fitting import Settings, Stopwatch, explain, fit_and_evaluate
    from common.ml.sampling import Caps
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    config = load_config({})
    # Every run judges on the same holdout rows, as configured; only the training rows differ.
    caps = Caps(
        train_rows or sys.maxsize, config.model_holdout_rows, config.model_holdout_snapshots
    )
    settings = Settings.from_config(config)
    with stopwatch() as read:
        dataset = load_features(DuckDBWarehouse(database), CONVERSION, "execkpi_marts", caps)
    steps = Stopwatch()
    with stopwatch() as fit:
        training = fit_and_evaluate(dataset, CONVERSION, settings, clock=steps)
    with stopwatch() as explained:
        explain(training, dataset, CONVERSION.features, settings.shap_rows)
    return {
        "train_rows": len(training.split.train),
        "holdout_rows": len(training.split.holdout),
        "read": read.seconds,
        "fit": fit.seconds,
        "explain": explained.seconds,
        "aucs": {r.name: r.metrics["roc_auc"] for r in training.results},
        "winner": training.winner.name,
        "steps": steps.seconds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=650_000)
    parser.add_argument("--caps", type=int, nargs="+", default=list(DEFAULT_CAPS))
    parser.add_argument("--work", type=Path, default=REPO_ROOT / ".local" / "bench-model")
    args = parser.parse_args(argv)
    database = prepare(args.users, args.work)
    import sklearn.linear_model  # noqa: F401  (imported before any clock starts)
    import xgboost  # noqa: F401

    print(f"machine: nproc={len(os.sched_getaffinity(0))}  users {args.users:,}")
    header = (
        f"{'cap':>9} {'train rows':>10} {'holdout':>9} {'read s':>7} {'fit s':>7} "
        f"{'SHAP s':>7} {'total s':>7}  {'LR':>6} {'RF':>6} {'XGB':>6}  {'winner':>6} {'Δ full':>7}"
    )
    print(header)
    full = None
    for cap in [None, *sorted(args.caps)]:
        with stopwatch(f"cap {cap or 'none'}"):
            result = measure(database, cap)
        best = result["aucs"][result["winner"]]
        full = best if full is None else full
        aucs = result["aucs"]
        total = result["read"] + result["fit"] + result["explain"]
        print(
            f"{cap or 'whole':>9} {result['train_rows']:>10,} {result['holdout_rows']:>9,} "
            f"{result['read']:>7.1f} {result['fit']:>7.1f} {result['explain']:>7.1f} "
            f"{total:>7.1f}  {aucs['logistic_regression']:.4f} {aucs['random_forest']:.4f} "
            f"{aucs['xgboost']:.4f}  {best:.4f} {best - full:>+7.4f}"
            f"{'' if abs(best - full) <= TOLERANCE else '  (beyond 0.005)'}",
            flush=True,
        )
        steps = ", ".join(f"{k} {v:.1f}" for k, v in result["steps"].items())
        print(f"  fit steps (s): {steps}; loadavg {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
