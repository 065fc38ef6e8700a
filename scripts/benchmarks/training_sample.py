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

    python -m scripts.benchmarks.training_sample --trade-offs   # the other steps' settings

With ``--trade-offs`` it fits once at the configured caps instead and prints, per setting of
the steps around the fit, its seconds and what it changes: the holdout cap (read seconds, each
fitted candidate's AUC on the capped holdout and the XGBoost - random forest gap, the kind of
paired difference the champion gate judges), the leakage guard's rows (its strongest single
column), the cross-validation's rows (mean and spread of the fold AUCs) and the
random forest's row cap (its holdout AUC).
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


def trade_offs(database: Path, holdout_caps: list[int]) -> None:
    """The configured fit once, then each step's alternatives on its data (see the docstring)."""
    from dataclasses import replace

    from common.config import load_config
    from common.ml.candidates import CANDIDATES, RANDOM_FOREST, SEED
    from common.ml.data import load_features
    from common.ml.features import CONVERSION
    from common.ml.fitting import CV_FOLDS, CV_ROWS, Settings, cross_validate, fit_and_evaluate
    from common.ml.leakage import GUARD_ROWS, single_column_auc
    from common.ml.metrics import roc_auc
    from common.ml.sampling import Caps
    from common.ml.split import sample_rows, time_split
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    config = load_config({})
    settings = Settings.from_config(config)
    warehouse = DuckDBWarehouse(database)
    caps = Caps.from_config(config)
    dataset = load_features(warehouse, CONVERSION, "execkpi_marts", caps)
    training = fit_and_evaluate(dataset, CONVERSION, settings)
    encoder, train = training.encoder, training.split.train
    x_train, y_train = encoder.transform(dataset.frame, train), dataset.label[train]
    fitted = {r.name: r.fitted.model for r in training.results}
    print(f"configured: train cap {caps.train_rows:,}, holdout cap {caps.holdout_rows:,}")

    print("holdout cap      rows  read s  predict s  LR AUC  RF AUC  XGB AUC   XGB-RF  load")
    for cap in sorted({*holdout_caps, caps.holdout_rows}, reverse=True):
        with stopwatch() as read:
            data = load_features(
                warehouse, CONVERSION, "execkpi_marts", replace(caps, holdout_rows=cap)
            )
        held = time_split(data.time, data.label, settings.holdout_snapshots, SEED).holdout
        x_held = encoder.transform(data.frame, held)
        with stopwatch() as predicted:
            scores = {name: model.predict(x_held) for name, model in fitted.items()}
        aucs = {name: roc_auc(data.label[held], score) for name, score in scores.items()}
        print(
            f"{cap:>11,} {len(held):>9,} {read.seconds:>7.1f} {predicted.seconds:>10.1f}  "
            f"{aucs['logistic_regression']:.4f}  {aucs['random_forest']:.4f}   "
            f"{aucs['xgboost']:.4f}  {aucs['xgboost'] - aucs['random_forest']:+.4f}  "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )

    print("guard rows  seconds  strongest column AUC  load")
    for rows in sorted({GUARD_ROWS, 200_000, 100_000, 50_000}, reverse=True):
        with stopwatch() as guarded:
            scores = single_column_auc(x_train, y_train, encoder.columns, SEED, rows)
        print(
            f"{rows:>10,} {guarded.seconds:>8.1f}  {max(scores.values()):>20.4f}  "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )

    groups = None if dataset.groups is None else dataset.groups[train]
    print(f"CV rows ({CV_FOLDS} folds)  candidate            seconds  AUC mean  AUC std  load")
    for rows in sorted({CV_ROWS, 30_000, 20_000, 10_000}, reverse=True):
        sample = sample_rows(len(y_train), rows, SEED)
        for result in training.results:
            candidate = next(c for c in CANDIDATES if c.name == result.name)
            with stopwatch() as validated:
                cv = cross_validate(
                    candidate.with_params(result.fitted.params),
                    x_train[sample],
                    y_train[sample],
                    None if groups is None else groups[sample],
                    CONVERSION.group_column,
                )
            print(
                f"{rows:>17,}  {result.name:<20} {validated.seconds:>7.1f}  "
                f"{cv['roc_auc_mean']:.4f}   {cv['roc_auc_std']:.4f}  {os.getloadavg()[0]:.2f}",
                flush=True,
            )

    x_held = encoder.transform(dataset.frame, training.split.holdout)
    y_held = dataset.label[training.split.holdout]
    print("RF rows   fit s  holdout AUC  load")
    for rows in sorted({RANDOM_FOREST.max_rows, 100_000, 50_000, 30_000}, reverse=True):
        with stopwatch() as forest:
            model = replace(RANDOM_FOREST, max_rows=rows).fit(x_train, y_train).model
        auc = roc_auc(y_held, model.predict(x_held))
        print(
            f"{rows:>7,} {forest.seconds:>7.1f}  {auc:>11.4f}  {os.getloadavg()[0]:.2f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=650_000)
    parser.add_argument("--caps", type=int, nargs="+", default=list(DEFAULT_CAPS))
    parser.add_argument("--work", type=Path, default=REPO_ROOT / ".local" / "bench-model")
    parser.add_argument("--trade-offs", action="store_true")
    parser.add_argument(
        "--holdout-caps", type=int, nargs="+", default=[2_000_000, 1_000_000, 500_000]
    )
    args = parser.parse_args(argv)
    database = prepare(args.users, args.work)
    import sklearn.linear_model  # noqa: F401  (imported before any clock starts)
    import xgboost  # noqa: F401

    if args.trade_offs:
        trade_offs(database, args.holdout_caps)
        return

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
