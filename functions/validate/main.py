"""validate: the quality gates between a dbt build and retraining.

On dbt-build-completed: judge the build (dbt tests, source freshness, mart row counts against the
previous validated run, feature nulls and ranges, label rate, sample ratios of running
experiments, the champion's drift on the latest feature snapshot), write
runs/<run_id>/validation_report.json, and publish data-validated or data-rejected with the failed
gates and their numbers. A drift at the blocking PSI rejects the build, so nothing retrains on it.

The report is written once per run; a redelivery publishes the recorded verdict again under the
same event id, which train ignores if it already has it.
"""

import functions_framework
from cloudevents.http import CloudEvent

from common.artifacts import MUST_NOT_EXIST, ArtifactNotFound, PreconditionFailed
from common.backends import start_function
from common.events.consumer import PermanentError
from common.events.envelope import Event
from common.ml.features import CONVERSION
from common.ml.registry import Registry
from common.pipeline.ledger import VALIDATION, Ledger, run_key
from common.pipeline.quality_report import InvalidBuildEvent, Thresholds, validate_build

CONFIG, BACKENDS = start_function("validate")
THRESHOLDS = Thresholds.from_config(CONFIG)


def judge(event: Event) -> dict:
    if event.event_type != "dbt-build-completed":
        raise PermanentError(f"validate does not handle {event.event_type}")
    store, key = BACKENDS.artifacts, run_key(event.run_id, VALIDATION)
    try:
        report = store.get_json(key)
    except ArtifactNotFound:
        report = _validate(event)
        try:
            store.put_json(key, report, if_version=MUST_NOT_EXIST)
        except PreconditionFailed:  # a concurrent delivery got there first: its verdict stands
            report = store.get_json(key)
    verdict = "data-validated" if report["status"] == "validated" else "data-rejected"
    BACKENDS.publisher.publish(Event.for_run(verdict, "validate", event.run_id, _payload(report)))
    return {"status": report["status"], "failed_gates": report["failed_gates"]}


def _validate(event: Event) -> dict:
    try:
        return validate_build(
            event.run_id,
            event.payload,
            BACKENDS.warehouse,
            CONFIG.marts_schema,
            Ledger(BACKENDS.artifacts),
            THRESHOLDS,
            CONFIG.time_zone,
            Registry(BACKENDS.artifacts, CONVERSION.model),
        )
    except InvalidBuildEvent as exc:
        raise PermanentError(str(exc)) from exc


def _payload(report: dict) -> dict:
    """What subscribers need: the verdict, the data it is about, and every failed gate whole."""
    return {
        "status": report["status"],
        "data_version": report["data_version"],
        "failed_gates": [g for g in report["gates"] if not g["passed"]],
        "passed_gates": [g["name"] for g in report["gates"] if g["passed"]],
        "report": run_key(report["run_id"], VALIDATION),
    }


@functions_framework.cloud_event
def validate(cloud_event: CloudEvent) -> None:
    BACKENDS.consume(cloud_event, "validate", judge)
