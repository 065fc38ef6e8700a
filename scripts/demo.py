"""The main job on the embedded default (DuckDB, local artifact folder, local bus):

1. generate thelook data (reused when the same size and seed were generated before),
2. load it into the DuckDB warehouse and run ``dbt build`` (models and data tests),
3. start the local stack and drive the functions end to end (KPIs, experiment verdicts, a model
   retrain requested over HTTP and trained by the train function from the event bus),
4. print a summary, and keep serving until Ctrl-C (``--once`` stops after the summary).

    python -m scripts.demo [--users 100000] [--seed 42] [--once] [--emulator]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import duckdb
import requests

from common.config import load_config
from scripts.dbt_runner import run_dbt
from scripts.functions_catalog import REPO_ROOT, discover
from scripts.local_stack import LocalStack, serve_until_interrupted
from scripts.thelook.experiments import PLANTED_EFFECTS
from scripts.thelook.generator import generate
from scripts.thelook.load import load_generated

RAW_DIR = REPO_ROOT / ".local" / "thelook"


def step(message: str) -> float:
    print(f"\n▸ {message}", flush=True)
    return time.perf_counter()


def done(started: float, detail: str = "") -> None:
    print(f"  done in {time.perf_counter() - started:.1f} s {detail}".rstrip(), flush=True)


def prepare_data(users: int, seed: int, warehouse: Path) -> None:
    manifest = RAW_DIR / "_manifest.json"
    started = step(f"Generating thelook data: {users:,} users, seed {seed}")
    previous = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if previous.get("users") == users and previous.get("seed") == seed:
        done(started, "(reused .local/thelook)")
    else:
        counts = generate(RAW_DIR, users=users, seed=seed)
        done(started, f"({sum(counts.values()):,} rows)")

    # Build into a new file and rename it into place: running functions keep reading the old
    # one until they see the new file, and nothing ever reads a half-built warehouse.
    building = warehouse.with_name(warehouse.name + ".building")
    building.unlink(missing_ok=True)
    started = step(f"Loading raw tables into {building}")
    building.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(building)) as con:
        load_generated(con, RAW_DIR)
    done(started)

    started = step("dbt build (staging → intermediate → marts, with data and unit tests)")
    run_dbt(["build", "--quiet"], duckdb_path=building)
    os.replace(building, warehouse)
    done(started, f"→ {warehouse}")


def get_kpi(base: str, name: str, **params: str) -> list[dict]:
    response = requests.get(f"{base}/kpi/{name}", params=params, timeout=60)
    response.raise_for_status()
    body = response.json()
    names = [column["name"] for column in body["columns"]]
    return [dict(zip(names, row, strict=True)) for row in body["rows"]]


def kpi_summary(base: str) -> list[str]:
    """Headline numbers, read through the kpi function like any client would."""
    days = get_kpi(base, "revenue", grain="day")[-30:]
    revenue, orders = sum(d["revenue"] for d in days), sum(d["orders"] for d in days)
    funnel = get_kpi(base, "funnel")
    sessions = sum(f["sessions"] for f in funnel)
    purchases = sum(f["purchase_sessions"] for f in funnel)
    return [
        f"last 30 days: revenue {revenue:,.0f}, orders {orders:,}, AOV {revenue / orders:.2f}",
        f"sessions converting to a purchase (last 30 days): {purchases / sessions:.2%}",
    ]


def experiment_summary(base: str) -> list[str]:
    """Each experiment analysed by the abtest function from the warehouse, next to the truth
    the generator planted."""
    lines = ["experiments (abtest verdict from the warehouse; planted truth in brackets):"]
    for experiment_id, effect in PLANTED_EFFECTS.items():
        response = requests.post(
            f"{base}/ab/analyze", json={"experiment_id": experiment_id}, timeout=60
        )
        response.raise_for_status()
        result = response.json()
        primary = result["comparisons"][0]
        low, high = primary["relative"]["ci"]
        lines.append(
            f"  {experiment_id:<20} {result['decision']['verdict']:<13} "
            f"{primary['metric']} {primary['relative']['estimate']:+.1%} "
            f"[{low:+.1%}, {high:+.1%}], p {primary['p_value']:.3g}, "
            f"SRM p {result['srm']['p_value']:.2g}  [{effect.describe()}]"
        )
    return lines


def model_summary(base: str, timeout: float = 300) -> list[str]:
    """Ask the model function for a retrain, let the train function do it over the bus, and
    read back what was decided and what the champion looks at."""
    accepted = requests.post(f"{base}/ml/train", json={"reason": "demo"}, timeout=30)
    accepted.raise_for_status()
    run_id = accepted.json()["run_id"]
    deadline = time.monotonic() + timeout
    while True:
        history = requests.get(f"{base}/ml/models", timeout=30).json()["models"]
        outcome = next((m for m in history if m.get("run_id") == run_id), None)
        if outcome is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"training run {run_id} did not finish within {timeout:.0f} s")
        time.sleep(1)
    lines = [
        f"model: run {run_id[:8]}… {outcome['decision']}: winner {outcome.get('winner')}, "
        f"holdout ROC-AUC {outcome.get('holdout_roc_auc', float('nan')):.3f}, "
        f"candidates {outcome.get('candidates')}, {outcome.get('seconds')} s"
    ]
    shap = requests.get(f"{base}/ml/shap", timeout=30)
    if shap.ok:
        top = ", ".join(f["feature"] for f in shap.json()["features"][:3])
        lines.append(f"model: strongest features (mean |SHAP|): {top}")
    return lines


def drive_hello(base: str) -> list[str]:
    greeting = requests.get(f"{base}/hello", params={"name": "ExecKPI"}, timeout=30)
    greeting.raise_for_status()
    accepted = requests.post(f"{base}/hello", json={"name": "event chain"}, timeout=30)
    accepted.raise_for_status()
    run_id = accepted.json()["run_id"]
    deadline = time.monotonic() + 30
    url = f"{base}/hello/greetings/{run_id}"
    while (recorded := requests.get(url, timeout=30)).status_code == 404:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no greeting recorded for run {run_id} within 30 s")
        time.sleep(0.2)
    recorded.raise_for_status()
    meta = greeting.json()["meta"]
    return [
        f"GET  /hello  -> {greeting.json()['greeting']!r} ({meta['engine']}, "
        f"{meta['elapsed_ms']:.1f} ms)",
        f"POST /hello  -> 202, run {run_id}, greeting-requested published",
        f"hello_event  -> recorded {recorded.json()['greeting']!r} for that run",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--once", action="store_true", help="stop after the summary")
    parser.add_argument("--emulator", action="store_true", help="use the Pub/Sub emulator")
    parser.add_argument("--base-port", type=int, default=8090)
    args = parser.parse_args(argv)

    warehouse = load_config().duckdb_path
    prepare_data(args.users, args.seed, warehouse)
    started = step("Starting the local stack")
    stack = LocalStack(discover(), args.base_port, use_emulator=args.emulator).start()
    done(started)
    try:
        print("\nExecKPI local stack:\n" + stack.describe(), flush=True)
        summary = (
            kpi_summary(stack.urls["kpi"])
            + experiment_summary(stack.urls["abtest"])
            + model_summary(stack.urls["model"])
            + drive_hello(stack.urls["hello_http"])
        )
        print("\nSummary:", *("  " + line for line in summary), sep="\n", flush=True)
        if not args.once:
            serve_until_interrupted(stack)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
