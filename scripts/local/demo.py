"""The main job on the embedded default (DuckDB, local artifact folder, local bus):

1. generate thelook data up to the as-of day (reused when the same size, seed and day were
   generated),
2. load it into the DuckDB warehouse's raw schema and empty the local artifact store,
3. start the local stack and play the scheduler's tick of the as-of day: the dbt_build function
   builds the warehouse and publishes dbt-build-completed, validate gates the data and publishes
   data-validated, train retrains, versions and maybe promotes the conversion model,
4. print a summary read through the functions (the run's stages, KPI headline, experiment
   verdicts, the champion's metrics), have the reports function make the weekly and an
   experiment's PDF report in English and German (written to .local/reports/), write the
   dashboard's offline snapshot (.local/snapshot/dashboard.html, scripts/local/snapshot.py),
   then print the URL of the dashboard and the API behind the gateway and keep serving until
   Ctrl-C (``--once`` stops before that, its gateway on a free port).

The same seed and as-of day give the same summary on every run; the timings and the model's
version, which cannot, follow it under their own heading.

    python -m scripts.local.demo [--users 100000] [--seed 42] [--as-of 2026-11-23]
                                 [--once] [--emulator] [--port 8080]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import requests

from common.config import Config, load_config_or_exit
from scripts.data.thelook.dataset import generate
from scripts.data.thelook.experiments import PLANTED_EFFECTS
from scripts.data.thelook.load import load_generated
from scripts.deploy.catalog import REPO_ROOT, discover
from scripts.local.emulators import free_port
from scripts.local.scheduler_tick import describe, follow, tick
from scripts.local.snapshot import write_snapshot
from scripts.local.stack import LocalStack, refuse_port_clash, serve_until_interrupted

RAW_DIR = REPO_ROOT / ".local" / "thelook"
REPORTS_DIR = REPO_ROOT / ".local" / "reports"
REPORTED_EXPERIMENT = "checkout_one_click"  # the experiment with a planted lift
SCHEDULED_HOUR = 5  # the daily build's time (UTC), as Cloud Scheduler runs it
PROGRESS_SECONDS = 15  # how often a long stage says it is still running
NEXT_STAGE = {"build": "validation", "validation": "training"}  # what runs after a stage's record


def step(message: str) -> float:
    print(f"\n▸ {message}", flush=True)
    return time.perf_counter()


def done(started: float, detail: str = "") -> None:
    print(f"  done in {time.perf_counter() - started:.1f} s {detail}".rstrip(), flush=True)


def prepare_data(users: int, seed: int, as_of: date, warehouse: Path) -> None:
    manifest = RAW_DIR / "_manifest.json"
    started = step(f"Generating thelook data: {users:,} users, seed {seed}, up to {as_of}")
    previous = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if (previous.get("users"), previous.get("seed"), previous.get("as_of")) == (
        users,
        seed,
        as_of.isoformat(),
    ):
        done(started, "(reused .local/thelook)")
    else:
        counts = generate(RAW_DIR, users=users, seed=seed, as_of=as_of)
        done(started, f"({sum(counts.values()):,} rows)")

    # Load into a new file and rename it into place: a warehouse file is never half-written.
    loading = warehouse.with_name(warehouse.name + ".loading")
    loading.unlink(missing_ok=True)
    started = step(f"Loading the raw tables into {warehouse}")
    loading.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(loading)) as con:
        load_generated(con, RAW_DIR)
    os.replace(loading, warehouse)
    done(started)


def reset_artifacts(config: Config) -> None:
    """No champion, ledger or claim from an earlier run: each demo run starts from scratch."""
    if config.artifacts == "local":
        step(f"Emptying the artifact store {config.artifact_dir}")
        shutil.rmtree(config.artifact_dir, ignore_errors=True)


def stack_settings(config: Config, as_of: date) -> dict[str, str]:
    """dbt measures freshness against today's clock: a replayed day needs that much leeway."""
    days_behind = (datetime.now(UTC).date() - as_of).days
    if days_behind <= 0:
        return {}
    return {"EXECKPI_FRESHNESS_ERROR_DAYS": str(config.freshness_error_days + days_behind)}


class StageProgress:
    """Prints each stage's outcome as the run records it, and every PROGRESS_SECONDS which stage
    it is waiting for (training takes minutes on a laptop); times count from the tick's end."""

    def __init__(self) -> None:
        self.started = self.printed = time.perf_counter()
        self.state: tuple[str, str] | None = None

    def __call__(self, run: dict) -> None:
        state = (run.get("stage", "build"), run.get("status", "running"))
        now = time.perf_counter()
        if state != self.state:
            print(f"  {state[0]}: {state[1]} (at {now - self.started:.0f} s)", flush=True)
        elif now - self.printed >= PROGRESS_SECONDS:
            waiting = NEXT_STAGE.get(state[0], state[0])
            print(f"  waiting for {waiting} (at {now - self.started:.0f} s)", flush=True)
        else:
            return
        self.state, self.printed = state, now


def run_pipeline(base: str, as_of: date) -> dict:
    """The as-of day's scheduler tick, then the chain on the bus until the run has ended."""
    started = step("Scheduler tick → dbt_build (dbt build + source freshness)")
    scheduled_at = datetime(as_of.year, as_of.month, as_of.day, SCHEDULED_HOUR, tzinfo=UTC)
    built = tick(base, scheduled_at)
    done(started, f"(run {built['run_id']}: {built['status']})")
    started = step("dbt-build-completed → validate → data-validated → train")
    run = follow(base, built["run_id"], on_poll=StageProgress())
    done(started, f"({run['stage']}: {run['status']})")
    return run


def get_kpi(base: str, name: str, **params: str) -> tuple[list[dict], dict[str, str]]:
    """The KPI's rows as dicts, and each column's unit."""
    response = requests.get(f"{base}/kpi/{name}", params=params, timeout=60)
    response.raise_for_status()
    body = response.json()
    names = [column["name"] for column in body["columns"]]
    units = {column["name"]: column["unit"] for column in body["columns"]}
    return [dict(zip(names, row, strict=True)) for row in body["rows"]], units


def kpi_summary(base: str) -> list[str]:
    """Headline numbers, read through the kpi function like any client would."""
    days, units = get_kpi(base, "revenue", grain="day")
    days = days[-30:]
    span = f"{days[0]['period']} to {days[-1]['period']}"
    currency = units["revenue"]
    revenue, orders = sum(d["revenue"] for d in days), sum(d["orders"] for d in days)
    funnel, _ = get_kpi(base, "funnel", start=days[0]["period"], end=days[-1]["period"])
    sessions = sum(f["sessions"] for f in funnel)
    purchases = sum(f["purchase_sessions"] for f in funnel)
    return [
        f"last 30 days ({span}): revenue {currency} {revenue:,.2f}, orders {orders:,}, "
        f"AOV {currency} {revenue / orders:,.2f}",
        f"sessions converting to a purchase ({span}): {purchases / sessions:.2%}",
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


def model_summary(base: str) -> list[str]:
    """The champion as the model function serves it, and what it looks at."""
    latest = requests.get(f"{base}/ml/latest", timeout=30)
    if latest.status_code == 404:
        return ["model: no champion yet (no run has promoted one)"]
    latest.raise_for_status()
    champion = latest.json()
    metrics = champion["metrics"]
    lines = [
        f"model: champion {champion['pointer']['kind']}, holdout ROC-AUC {metrics['roc_auc']:.3f}, "
        f"PR-AUC {metrics['pr_auc']:.3f}, top-decile lift {metrics['top_decile_lift']:.1f}"
    ]
    shap = requests.get(f"{base}/ml/shap", timeout=30)
    shap.raise_for_status()
    top = ", ".join(f["feature"] for f in shap.json()["features"][:3])
    lines.append(f"model: strongest features (mean |SHAP|): {top}")
    return lines


def write_reports(base: str, folder: Path) -> list[Path]:
    """The weekly executive report and the planted-lift experiment's report, in English and
    German, made and stored by the reports function, then downloaded into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in ("/reports/weekly", f"/reports/experiments/{REPORTED_EXPERIMENT}"):
        for locale in ("en-US", "de-DE"):
            made = requests.post(f"{base}{path}", json={"locale": locale}, timeout=300)
            made.raise_for_status()
            stored = made.json()
            document = requests.get(f"{base}{stored['url']}", timeout=60)
            document.raise_for_status()
            target = folder / stored["name"]
            target.write_bytes(document.content)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=datetime.now(UTC).date(),
        help="the day the data runs up to and the pipeline runs (default: today, UTC)",
    )
    parser.add_argument("--once", action="store_true", help="stop after the summary")
    parser.add_argument("--emulator", action="store_true", help="use the Pub/Sub emulator")
    parser.add_argument("--base-port", type=int, default=8090)
    parser.add_argument("--port", type=int, default=8080, help="the gateway's: the dashboard")
    args = parser.parse_args(argv)
    if not args.once:  # --once takes a free port for its gateway
        refuse_port_clash(parser, args.port, args.base_port)

    config = load_config_or_exit()
    prepare_data(args.users, args.seed, args.as_of, config.duckdb_path)
    reset_artifacts(config)
    started = step("Starting the local stack")
    settings = stack_settings(config, args.as_of)
    stack = LocalStack(
        discover(),
        args.base_port,
        settings,
        use_emulator=args.emulator,
        # The dashboard's port while serving; --once only reads through it for the snapshot.
        gateway_port=free_port() if args.once else args.port,
    ).start()
    done(started)
    try:
        print("\nExecKPI local stack:\n" + stack.describe(), flush=True)
        run = run_pipeline(stack.urls["dbt_build"], args.as_of)
        summary = [
            f"pipeline run {run['run_id']}:",
            *("  " + line for line in describe(run, timings=False)),
            *kpi_summary(stack.urls["kpi"]),
            *experiment_summary(stack.urls["abtest"]),
            *model_summary(stack.urls["model"]),
        ]
        print("\nSummary:", *("  " + line for line in summary), sep="\n", flush=True)
        print("\nTimings (these differ from run to run):", flush=True)
        print(*("  " + line for line in describe(run)), sep="\n", flush=True)
        reports = write_reports(stack.urls["reports"], REPORTS_DIR)
        print("\nReports (PDF):", *(f"  {path}" for path in reports), sep="\n", flush=True)
        snapshot = write_snapshot(stack.gateway_url, api_key=min(config.api_keys, default=None))
        print(f"\nDashboard snapshot (opens offline):\n  {snapshot}", flush=True)
        if not args.once:
            print(f"\n{stack.banner()}", flush=True)
            serve_until_interrupted(stack)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
