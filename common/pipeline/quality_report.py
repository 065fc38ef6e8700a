"""Validate one dbt build: run every gate and assemble ``validation_report.json``.

The build is judged from its ``dbt-build-completed`` summary (dbt's tests, source freshness) and
from the marts themselves (row counts against the previous validated run, feature nulls and
ranges, the label rate, sample ratios of the experiments running on the build's day: the day of
its slot in the reporting time zone, where experiments' dates begin) and the champion's drift on
the latest feature snapshot (``common.ml.drift``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from common.config import Config
from common.marts import SCORED_BY_THE_MODEL, SIZED_BY_EXPERIMENTS
from common.ml.drift.monitor import measure_drift
from common.ml.features import CONVERSION, FeatureSpec
from common.ml.registry import Registry
from common.pipeline import gates, measures
from common.pipeline.gates import Gate
from common.pipeline.ledger import Ledger
from common.reporting_time import local_date
from common.warehouse import Warehouse, WarehouseQueryError

# What a dbt-build-completed payload must carry (common.pipeline.builds.summarize), by type.
_BUILD_FIELDS = {
    "status": str,
    "slot": str,
    "data_version": str,
    "failed_nodes": list,
    "freshness": dict,
}


class InvalidBuildEvent(ValueError):
    """The dbt-build-completed payload lacks what validation needs."""


@dataclass(frozen=True)
class Thresholds:
    max_row_drift: float
    label_rate_min: float
    label_rate_max: float
    srm_p: float
    psi_warn: float
    psi_block: float

    @classmethod
    def from_config(cls, config: Config) -> Thresholds:
        return cls(
            max_row_drift=config.validation_max_row_drift,
            label_rate_min=config.validation_label_rate_min,
            label_rate_max=config.validation_label_rate_max,
            srm_p=config.validation_srm_p,
            psi_warn=config.validation_psi_warn,
            psi_block=config.validation_psi_block,
        )


def validate_build(
    run_id: str,
    build: dict[str, Any],
    warehouse: Warehouse,
    schema: str,
    ledger: Ledger,
    thresholds: Thresholds,
    time_zone: str,
    registry: Registry,
    spec: FeatureSpec = CONVERSION,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    wrong = [name for name, kind in _BUILD_FIELDS.items() if not isinstance(build.get(name), kind)]
    if wrong:
        raise InvalidBuildEvent(f"the build summary lacks or mistypes {', '.join(wrong)}")
    try:
        slot = datetime.fromisoformat(build["slot"])
    except ValueError:
        raise InvalidBuildEvent(f"slot {build['slot']!r} is not an ISO-8601 time") from None
    day = local_date(slot if slot.tzinfo else slot.replace(tzinfo=UTC), time_zone)
    started = now()
    checks = [gates.current_data(build["data_version"], warehouse.data_version())]
    counts: dict[str, int] = {}
    if checks[0].passed:  # otherwise the marts hold another build's data: judge nothing else
        checks += [gates.dbt_tests(build), gates.source_freshness(build)]
        counts, measured = _judge_marts(run_id, day, warehouse, schema, ledger, thresholds, spec)
        checks += measured
        checks.append(_drift(warehouse, schema, registry, thresholds, spec))
    failed = [gate.name for gate in checks if not gate.passed]
    finished = now()
    return {
        "run_id": run_id,
        "status": "rejected" if failed else "validated",
        "failed_gates": failed,
        "gates": [gate.to_json() for gate in checks],
        "row_counts": counts,
        "data_version": build["data_version"],
        "thresholds": asdict(thresholds),
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "seconds": round((finished - started).total_seconds(), 2),
    }


def _judge_marts(
    run_id: str,
    day: date,
    warehouse: Warehouse,
    schema: str,
    ledger: Ledger,
    thresholds: Thresholds,
    spec: FeatureSpec,
) -> tuple[dict[str, int], list[Gate]]:
    """The gates that read the marts, and the row counts the next run will compare with. A
    mart the build left out fails its gates; an unreachable warehouse raises (a retry helps)."""
    checks: list[Gate] = []
    counts: dict[str, int] = {}
    try:
        counts = measures.row_counts(warehouse, schema)
        previous = ledger.previous_validation(run_id)
        checks.append(
            gates.row_counts(
                counts,
                previous,
                thresholds.max_row_drift,
                not_judged=SIZED_BY_EXPERIMENTS | SCORED_BY_THE_MODEL,
                may_be_empty=SCORED_BY_THE_MODEL,
            )
        )
    except WarehouseQueryError as exc:
        checks.append(_unmeasured("row_counts", exc))
    try:
        profile = measures.feature_profile(warehouse, schema, spec)
        checks.append(gates.features(profile, spec))
        low, high = thresholds.label_rate_min, thresholds.label_rate_max
        checks.append(gates.label_rate(profile, low, high, spec.label))
    except WarehouseQueryError as exc:
        checks += [_unmeasured("features", exc), _unmeasured("label_rate", exc)]
    try:
        running = measures.running_experiments(warehouse, schema, day)
        checks.append(gates.sample_ratio(running, thresholds.srm_p))
    except WarehouseQueryError as exc:
        checks.append(_unmeasured("srm", exc))
    return counts, checks


def _drift(
    warehouse: Warehouse, schema: str, registry: Registry, thresholds: Thresholds, spec: FeatureSpec
) -> Gate:
    try:
        measured = measure_drift(warehouse, schema, registry, spec)
    except WarehouseQueryError as exc:
        return _unmeasured("drift", exc)
    return gates.drift(measured, thresholds.psi_warn, thresholds.psi_block)


def _unmeasured(gate: str, exc: WarehouseQueryError) -> Gate:
    return Gate(gate, False, f"could not be measured: {exc.__cause__ or exc}", {})
