"""Play Cloud Scheduler's jobs locally.

The daily tick: POST to the dbt_build function exactly as the ``dbt-build-daily`` job does (same
path, body and X-CloudScheduler-* headers), then follow the run through the ledger until
validation and training have had their say. The weekly reports (``--weekly-reports``): publish
what the ``report-week-en`` and ``report-week-de`` jobs publish to the local stack's event bus
(the local bus, or the Pub/Sub emulator with ``--emulator``), which delivers it to the
weekly_report function; the reports then appear in GET /reports.

    python -m scripts.local.scheduler_tick          # the local stack's dbt_build
    python -m scripts.local.scheduler_tick --url http://127.0.0.1:8092 \
        --scheduled-at 2026-11-23T05:00:00Z
    python -m scripts.local.scheduler_tick --weekly-reports [--emulator]
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import requests

from common.events.envelope import scheduled_message
from common.events.publishers import topic_path
from scripts.local.stack import EMULATOR_PROJECT, function_url

JOB = "projects/local/locations/local/jobs/execkpi-dbt-build-daily"
WEEKLY_REPORT = "weekly-report-requested"
# The weekly report jobs of infra/envs/*.tfvars: job name -> the locale its body names.
WEEKLY_REPORT_JOBS = {"execkpi-report-week-en": "en-US", "execkpi-report-week-de": "de-DE"}
# Where a run stops: the last stage of a run that went all the way, or an earlier verdict.
_FINAL = {
    "training": {"promoted", "rejected", "failed", "skipped"},
    "validation": {"rejected"},
    "build": {"error", "fail"},
}


def tick(url: str, scheduled_at: datetime | None = None, timeout: float = 1800) -> dict:
    """One scheduler attempt; the function answers once dbt has finished."""
    at = (scheduled_at or datetime.now(UTC)).astimezone(UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Google-Cloud-Scheduler",
        "X-CloudScheduler-JobName": JOB,
        "X-CloudScheduler-ScheduleTime": at.isoformat().replace("+00:00", "Z"),
    }
    response = requests.post(url + "/", data="{}", headers=headers, timeout=timeout)
    if not response.ok:
        raise RuntimeError(f"dbt_build answered {response.status_code}: {response.text[:500]}")
    return response.json()


def publish_scheduled(
    bus_url: str, job: str, event_type: str, payload: dict, project: str = "local"
) -> str:
    """Publish what a Cloud Scheduler event job publishes (infra/scheduler.tf) with Pub/Sub's
    REST call, which the local bus and the emulator both take; the message's id."""
    data, attributes = scheduled_message(event_type, job, payload)
    message = {"data": base64.b64encode(data).decode(), "attributes": attributes}
    url = f"{bus_url}/v1/{topic_path(project, event_type)}:publish"
    response = requests.post(url, json={"messages": [message]}, timeout=30)
    if not response.ok:
        raise RuntimeError(f"the bus answered {response.status_code}: {response.text[:500]}")
    return response.json()["messageIds"][0]


def follow(
    url: str, run_id: str, timeout: float = 600, on_poll: Callable[[dict], None] | None = None
) -> dict:
    """The run's ledger entry once it has come to an end (validation rejected it, or training
    decided), polling GET /pipeline/runs/<run_id>; ``on_poll`` sees every answer (progress)."""
    deadline = time.monotonic() + timeout
    while True:
        run = requests.get(f"{url}/pipeline/runs/{run_id}", timeout=30).json()
        if on_poll is not None:
            on_poll(run)
        if run.get("status") in _FINAL.get(run.get("stage"), ()):
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} still at {run.get('stage')} after {timeout:.0f} s")
        time.sleep(0.5)


def describe(run: dict, timings: bool = True) -> list[str]:
    """One line per stage: status, seconds, and what decided it. Without ``timings`` the lines
    leave out what differs between two runs on the same data (seconds, the model's version)."""
    lines = []
    for stage, record in run["stages"].items():
        line = f"{stage:<11} {record['status']:<10}"
        if timings:
            line += f" {record.get('seconds', 0):>6.1f} s"
        if stage == "build":
            summary = record["summary"]
            line += f"  models {summary.get('models', {})}, tests {summary.get('tests', {})}"
            if timings:
                line += f", dbt {summary['dbt_seconds']} s"
        elif stage == "validation":
            failed = [g for g in record["gates"] if not g["passed"]]
            line += "  " + (
                "; ".join(f"{g['name']}: {g['message']}" for g in failed)
                or f"{len(record['gates'])} gates passed"
            )
        elif stage == "training" and record.get("version"):
            version = f"version {record['version']}, " if timings else ""
            line += f"  {version}{'; '.join(record.get('reasons', []))}"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="dbt_build's URL (default: the local stack's)")
    parser.add_argument("--base-port", type=int, default=8090, help="the local stack's")
    parser.add_argument("--scheduled-at", type=datetime.fromisoformat, default=None)
    parser.add_argument(
        "--weekly-reports", action="store_true", help="the Monday report jobs instead"
    )
    parser.add_argument("--emulator", action="store_true", help="the stack runs the emulator")
    args = parser.parse_args(argv)
    if args.weekly_reports:
        bus_url = f"http://127.0.0.1:{args.base_port}"  # the stack's bus or emulator
        project = EMULATOR_PROJECT if args.emulator else "local"
        for job, locale in WEEKLY_REPORT_JOBS.items():
            payload = {"locale": locale}
            message_id = publish_scheduled(bus_url, job, WEEKLY_REPORT, payload, project)
            print(f"{job}: published {WEEKLY_REPORT} {payload} as message {message_id}")
        return
    url = args.url or function_url("dbt_build", args.base_port)
    started = tick(url, args.scheduled_at)
    print(json.dumps({k: started[k] for k in ("run_id", "status", "repeated")}), flush=True)
    print("\n".join(describe(follow(url, started["run_id"]))))


if __name__ == "__main__":
    main()
