"""The scheduled weekly reports through the local stack: what the report-week-* jobs publish
(scripts/local/scheduler_tick.py, the attributes of infra/scheduler.tf) reaches the weekly_report
process as a CloudEvent over HTTP, from the local bus or from the Pub/Sub emulator's push
subscription, and leaves one report per language; the next run in the same week leaves none."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass

import pytest

from common.artifacts.local import LocalArtifactStore
from common.events.consumer import marker_key
from common.reports.store import PREFIX, SCHEDULED
from scripts.deploy.catalog import discover
from scripts.local.emulators import PubSubEmulator, free_ports_for_stack
from scripts.local.scheduler_tick import WEEKLY_REPORT, WEEKLY_REPORT_JOBS, publish_scheduled
from scripts.local.stack import EMULATOR_PROJECT, LocalStack


@pytest.fixture(params=["local-bus", "pubsub-emulator"])
def stack(request, tmp_path, generated_warehouse):
    use_emulator = request.param == "pubsub-emulator"
    if use_emulator and (reason := PubSubEmulator.unavailable_reason()):
        pytest.skip(reason)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(generated_warehouse, warehouse)
    specs = [spec for spec in discover() if spec.name == "weekly_report"]
    env = {
        "EXECKPI_DUCKDB_PATH": str(warehouse),
        "EXECKPI_ARTIFACT_DIR": str(tmp_path / "artifacts"),
        "EXECKPI_TIME_ZONE": "Europe/Berlin",
    }
    base_port, _ = free_ports_for_stack(len(specs))
    running = LocalStack(
        specs, base_port, env, use_emulator=use_emulator, log_dir=tmp_path / "logs"
    ).start()
    yield Scheduled(
        running,
        LocalArtifactStore(tmp_path / "artifacts"),
        EMULATOR_PROJECT if use_emulator else "local",
    )
    running.stop()


@dataclass(frozen=True)
class Scheduled:
    """The running stack, its artifact store, and the project its bus publishes in."""

    stack: LocalStack
    artifacts: LocalArtifactStore
    project: str

    @property
    def bus(self) -> str:
        return f"http://127.0.0.1:{self.stack.base_port}"

    def publish(self, job: str, locale: str) -> str:
        return publish_scheduled(self.bus, job, WEEKLY_REPORT, {"locale": locale}, self.project)


def handled(scheduled: Scheduled, message_id: str, timeout: float = 180) -> dict:
    """What weekly_report recorded for the message, once it has handled it."""
    key, deadline = marker_key("weekly_report", message_id), time.monotonic() + timeout
    while not scheduled.artifacts.exists(key):
        log = scheduled.stack.log_path("weekly_report")
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)
    return scheduled.artifacts.get_json(key)


def test_the_monday_jobs_leave_one_report_per_language(stack):
    published = [stack.publish(job, locale) for job, locale in WEEKLY_REPORT_JOBS.items()]
    for message_id in published:
        assert handled(stack, message_id)["result"]["made"] is True
    reports = [k for k in stack.artifacts.list(PREFIX) if k.count("/") == 1]
    assert sorted(k.rsplit(".", 1)[1] for k in reports) == ["json", "json", "pdf", "pdf"]
    locales = {stack.artifacts.get_json(k)["locale"] for k in reports if k.endswith(".json")}
    assert locales == {"en-US", "de-DE"}
    assert len(stack.artifacts.list(SCHEDULED)) == 2

    again = stack.publish("execkpi-report-week-en", "en-US")  # again this week ("force run")
    assert handled(stack, again)["result"]["made"] is False
    assert len([k for k in stack.artifacts.list(PREFIX) if k.count("/") == 1]) == 4
