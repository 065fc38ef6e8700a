"""Benchmark the conversion model: full retrain next to a bare XGBoost fit, peak memory, cold
imports of the model and train functions.

    python -m scripts.benchmarks.model_training                          # 100k and 1M users
    python -m scripts.benchmarks.model_training --users 100000           # one size
    python -m scripts.benchmarks.model_training --work .local/bench-model --runs 5

Per size, thelook data is generated (``scripts.data.thelook.dataset.generate``, seed 11), loaded
into DuckDB and ``dbt run --select +features_conversion`` builds the mart; all of it is kept in
``--work`` and reused when present. Then, each in its own child process so that its peak RSS
(``ru_maxrss`` from ``wait4``) is its own:

- **retrain**: ``train_run`` as the train function runs it: read the mart (sampled down to
  ``EXECKPI_MODEL_TRAIN_ROWS`` training and ``EXECKPI_MODEL_HOLDOUT_ROWS`` holdout rows),
  encode, leakage guard, the three candidates and their cross-validation, SHAP of the winner
  (XGBoost's exact ``pred_contribs``) on a seeded uniform sample of ``EXECKPI_MODEL_SHAP_ROWS``
  (default 2,000) holdout rows, artifacts, promotion. "imports" (xgboost + scikit-learn, which
  a cold instance pays once) is timed apart.
- **bare fit**: the XGBoost candidate's parameters and the number of rounds the retrain's
  XGBoost ended with, fitted on the same (sampled) training matrix (QuantileDMatrix +
  ``xgb.train``).

Cold imports: median wall time of fresh processes in each function's own environment
(``scripts.deploy.function_envs``), next to ``import xgboost`` and ``import functions_framework``.
Goals (issue 6): retrain ≤ 30 s at 100k users on 2 cores; ≤ 3 times the bare fit at 1M users;
peak ≤ 4 GiB at 1M users; ``import main`` of model ≤ xgboost + functions_framework.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.benchmarks.timing import median_ms, stopwatch
from scripts.deploy.catalog import REPO_ROOT, discover

SEED = 11
DEFAULT_SIZES = (100_000, 1_000_000)


# --- children ------------------------------------------------------------------------------


def child_retrain(database: Path, artifacts: Path) -> dict:
    with stopwatch() as imports:
        import sklearn.linear_model  # noqa: F401
        import xgboost  # noqa: F401
    from common.artifacts.local import LocalArtifactStore
    from common.config import load_config
    from common.ml.data import load_features
    from common.ml.features import CONVERSION
    from common.ml.fitting import Settings
    from common.ml.registry import Registry
    from common.ml.sampling import Caps
    from common.ml.training_run import train_run
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    registry = Registry(LocalArtifactStore(artifacts), CONVERSION.model)
    config = load_config({})
    warehouse = DuckDBWarehouse(database)
    with stopwatch("retrain") as retrain:
        outcome = train_run(
            registry,
            lambda: load_features(warehouse, CONVERSION, "execkpi_marts", Caps.from_config(config)),
            CONVERSION,
            Settings.from_config(config),
            f"bench-{time.time_ns()}",
            {"source": "scripts.benchmarks.model_training"},
        )
    card = registry.read_json(outcome["version"], "model_card.json")
    metrics = registry.read_json(outcome["version"], "metrics.json")
    return {
        "imports": imports.seconds,
        "retrain": retrain.seconds,
        "version": outcome["version"],
        "winner": outcome["winner"],
        "candidates": outcome["candidates"],
        "rows": card["data"]["rows"],
        "train_rows": card["data"]["train_rows"],
        "sample": card["data"].get("sample"),
        "xgboost_rounds": metrics["candidates"]["xgboost"]["params"]["rounds"],
        "timings": card["timings"],
    }


def child_bare_fit(database: Path, rounds: int) -> dict:
    from common.config import load_config
    from common.ml.candidates import SEED as MODEL_SEED
    from common.ml.candidates import XGBOOST
    from common.ml.data import load_features
    from common.ml.encoding import Encoder
    from common.ml.features import CONVERSION
    from common.ml.sampling import Caps
    from common.ml.split import time_split
    from common.warehouse.duckdb_engine import DuckDBWarehouse

    caps = Caps.from_config(load_config({}))
    dataset = load_features(DuckDBWarehouse(database), CONVERSION, "execkpi_marts", caps)
    split = time_split(dataset.time, dataset.label, caps.holdout_snapshots, MODEL_SEED)
    encoder = Encoder.fit(CONVERSION, dataset.frame, split.train)
    x, y = encoder.transform(dataset.frame, split.train), dataset.label[split.train]
    bare = XGBOOST.with_params({**XGBOOST.params, "rounds": rounds})
    import xgboost  # noqa: F401  (imported before the clock starts)

    with stopwatch(f"xgboost fit, {rounds} rounds") as took:
        bare.fit(x, y)  # no validation: QuantileDMatrix + xgb.train for exactly ``rounds``
    return {"seconds": took.seconds, "rows": len(y), "columns": x.shape[1]}


def _run_child(*args: str) -> dict:
    """Run this module as a child; its JSON answer plus its peak RSS in GiB."""
    command = [sys.executable, "-m", "scripts.benchmarks.model_training", "--child", *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, env=env, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"child {' '.join(args)} failed")
    return {**json.loads(output.strip().splitlines()[-1]), "peak_gib": usage.ru_maxrss / 2**20}


# --- data ----------------------------------------------------------------------------------


def prepare(users: int, work: Path) -> Path:
    """A DuckDB file with the features mart for ``users`` generated users (cached in work)."""
    import duckdb

    from scripts.data.dbt_runner import run_dbt
    from scripts.data.thelook.dataset import generate
    from scripts.data.thelook.load import load_generated

    folder = work / f"users-{users}-seed-{SEED}"
    database = folder / "warehouse.duckdb"
    if (folder / "ready").exists():
        return database
    with stopwatch(f"prepare the data for {users:,} users"):
        generate(folder / "raw", users=users, seed=SEED, progress=False)
        with duckdb.connect(str(database)) as con:
            load_generated(con, folder / "raw")
        run_dbt(["run", "--select", "+features_conversion"], duckdb_path=database)
    (folder / "ready").touch()
    return database


# --- cold imports --------------------------------------------------------------------------


def _median_ms(python: Path, code: str, cwd: Path, env: dict[str, str], runs: int) -> float:
    def once() -> None:
        subprocess.run([str(python), "-I", "-c", code], cwd=cwd, env=env, check=True)

    return median_ms(once, runs, warmup=1)  # the warm-up fills bytecode and page caches


def cold_imports(runs: int, artifacts: Path | None) -> dict[str, dict[str, float]]:
    from scripts.deploy.function_envs import ensure_function_env
    from scripts.deploy.package import build_package

    main = "import sys; sys.path.insert(0, '.'); import main"
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp:
        for spec in (s for s in discover() if s.name in ("model", "train")):
            package = build_package(spec, Path(tmp) / "build")
            python = ensure_function_env(spec)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": os.environ.get("HOME", tmp),
                "NO_GCE_CHECK": "true",
                "EXECKPI_ARTIFACT_DIR": str(artifacts or Path(tmp) / "artifacts"),
                "EXECKPI_DUCKDB_PATH": str(Path(tmp) / "warehouse.duckdb"),
            }
            timings = {
                label: _median_ms(python, code, package, env, runs)
                for label, code in (
                    ("xgboost", "import xgboost"),
                    ("functions_framework", "import functions_framework"),
                    ("main", main),
                )
            }
            if spec.name == "model" and artifacts is not None:
                timings["first_prediction"] = _median_ms(
                    python, main + "; " + _FIRST_PREDICTION, package, env, runs
                )
            results[spec.name] = timings
    return results


# A fresh instance answering its first POST /ml/predict (one row of plausible values).
_FIRST_PREDICTION = (
    "from functions_framework import create_app; "
    "c = main.CHAMPIONS.get(); "
    "cats = {l.feature: l.levels[0] for l in c.encoder.categorical}; "
    "row = {f.name: cats.get(f.name, 1) for f in c.features}; "
    "r = create_app('model', 'main.py').test_client().post('/ml/predict', json={'rows': [row]}); "
    "assert r.status_code == 200, r.get_data()"
)


# --- report --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, database, extra = argv[1], Path(argv[2]), argv[3]
        result = (
            child_retrain(database, Path(extra))
            if kind == "retrain"
            else child_bare_fit(database, int(extra))
        )
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="*", default=list(DEFAULT_SIZES))
    parser.add_argument("--work", type=Path, default=REPO_ROOT / ".local" / "bench-model")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per cold import")
    args = parser.parse_args(argv)

    cpus = len(os.sched_getaffinity(0))
    print(f"machine: nproc={cpus}  loadavg={os.getloadavg()[0]:.2f}")
    last_artifacts = None
    for users in args.users:
        print(f"\n== {users:,} users")
        database = prepare(users, args.work)
        artifacts = args.work / f"artifacts-{users}"
        retrain = _run_child("retrain", str(database), str(artifacts))
        bare = _run_child("bare", str(database), str(retrain["xgboost_rounds"]))
        last_artifacts = artifacts
        ratio = retrain["retrain"] / bare["seconds"]
        print(
            f"  features: {retrain['rows']:,} rows read ({retrain['train_rows']:,} training rows)"
        )
        if retrain["sample"]:
            train = retrain["sample"]["train"]
            kept, rows, rate = train["kept"], train["rows"], train["rate"]
            print(f"  training rows sampled: {kept:,} of {rows:,} ({rate:.1%})")
        print(f"  candidates' holdout ROC-AUC: {retrain['candidates']}; winner {retrain['winner']}")
        print(
            f"  full retrain: {retrain['retrain']:.1f} s (+ {retrain['imports']:.1f} s importing "
            f"xgboost and scikit-learn in a cold process); peak RSS {retrain['peak_gib']:.2f} GiB"
        )
        print(
            f"  bare XGBoost fit, same matrix ({bare['rows']:,} x {bare['columns']}), "
            f"{retrain['xgboost_rounds']} rounds: {bare['seconds']:.1f} s  "
            f"(retrain / bare = {ratio:.2f}x)"
        )
        steps = ", ".join(f"{k} {v:.1f}" for k, v in retrain["timings"].items())
        print(f"  retrain steps (s): {steps}")
        print(f"  loadavg now: {os.getloadavg()[0]:.2f}")

    print(f"\n== cold imports (median of {args.runs} fresh processes, own environment), ms")
    for name, t in cold_imports(args.runs, last_artifacts).items():
        budget = t["xgboost"] + t["functions_framework"]
        line = (
            f"  {name:<6} import main {t['main']:7.0f}   import xgboost {t['xgboost']:7.0f}   "
            f"import functions_framework {t['functions_framework']:6.0f}   "
            f"(main / (xgboost + ff) = {t['main'] / budget:.2f})"
        )
        if "first_prediction" in t:
            line += f"\n         cold process to first /ml/predict: {t['first_prediction']:.0f}"
        print(line)


if __name__ == "__main__":
    main()
