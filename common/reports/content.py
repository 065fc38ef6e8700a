"""What a report says, read through the code paths the API answers from, never recomputed:
an experiment's analysis is POST /ab/analyze {experiment_id}'s answer (``common.stats.api``),
the week's KPIs GET /kpi/revenue?grain=week's rows and GET /kpi/funnel's (``KpiService``),
the model's health GET /ml/latest's champion (the registry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from common.ml.features import CONVERSION
from common.ml.registry import CARD, Registry
from common.stats import api
from common.stats.decision import headline
from common.stats.warehouse_source import catalog, stored_experiment

if TYPE_CHECKING:
    from common.artifacts import ArtifactStore
    from common.kpi.service import KpiService
    from common.stats.wording import Wording
    from common.warehouse import Warehouse


@dataclass(frozen=True)
class ExperimentContent:
    experiment: dict[str, Any]  # GET /ab/experiments/<id>
    analysis: dict[str, Any]  # POST /ab/analyze {experiment_id}


@dataclass(frozen=True)
class WeekKpis:
    start: date  # Monday
    end: date  # Sunday
    revenue: float | None
    orders: int | None
    aov: float | None
    customers: int | None
    conversion: float | None  # purchase sessions / sessions; None without sessions


@dataclass(frozen=True)
class ExperimentVerdict:
    experiment_id: str
    status: str  # planned, running, finished
    verdict: str | None  # None: planned, no data to analyse
    variant: str | None
    headline: str | None  # the decision summary's first sentence, in the report's language


@dataclass(frozen=True)
class ModelHealth:
    version: str
    roc_auc: float | None
    trained_at: str  # ISO instant, UTC


@dataclass(frozen=True)
class WeeklyContent:
    week: WeekKpis | None  # the last complete ISO week; None before one is in the data
    previous: WeekKpis | None
    experiments: tuple[ExperimentVerdict, ...]
    champion: ModelHealth | None


def experiment_content(
    warehouse: Warehouse, marts: str, time_zone: str, experiment_id: str, words: Wording
) -> ExperimentContent:
    """404 (ExperimentNotFound, with the known ids) for an unknown experiment."""
    found = catalog(warehouse, marts, time_zone)
    experiment = api.experiment(found, experiment_id)
    analysis = _analysis(warehouse, marts, experiment["experiment_id"], words)
    return ExperimentContent(experiment, analysis)


def _analysis(
    warehouse: Warehouse, marts: str, experiment_id: str, words: Wording
) -> dict[str, Any]:
    """POST /ab/analyze {experiment_id, locale}: its default options."""
    ref = api.analysis_request({"experiment_id": experiment_id})
    return api.analyze_stored(ref, stored_experiment(warehouse, marts, ref.experiment_id), words)


def weekly_content(
    kpis: KpiService,
    warehouse: Warehouse,
    marts: str,
    time_zone: str,
    artifacts: ArtifactStore,
    words: Wording,
) -> WeeklyContent:
    weeks = _complete_weeks(kpis)
    week, previous = (weeks[-1], weeks[-2] if len(weeks) > 1 else None) if weeks else (None, None)
    found = catalog(warehouse, marts, time_zone)
    verdicts = []
    for definition in found.definitions:
        listed = api.experiment(found, definition.experiment_id)
        verdict = variant = lead = None
        if listed["status"] != "planned":
            decision = _analysis(warehouse, marts, definition.experiment_id, words)["decision"]
            verdict, variant = decision["verdict"], decision["variant"]
            codes = {reason["code"] for reason in decision["reasons"]}
            lead = headline(verdict, variant, codes, words)
        verdicts.append(
            ExperimentVerdict(definition.experiment_id, listed["status"], verdict, variant, lead)
        )
    return WeeklyContent(week, previous, tuple(verdicts), _champion(artifacts))


def _complete_weeks(kpis: KpiService) -> list[WeekKpis]:
    """The complete ISO weeks of GET /kpi/revenue?grain=week's default range, oldest first."""
    result = kpis.run(kpis.prepare("revenue", {"grain": "week"}))
    names = [column["name"] for column in result.columns]
    rows = [dict(zip(names, row, strict=True)) for row in result.rows]
    weeks = []
    for row in [r for r in rows if r["complete"]][-2:]:
        start = date.fromisoformat(row["period"])
        end = start + timedelta(days=6)
        weeks.append(
            WeekKpis(
                start,
                end,
                row["revenue"],
                row["orders"],
                row["aov"],
                row["customers"],
                _conversion(kpis, start, end),
            )
        )
    return weeks


def _conversion(kpis: KpiService, start: date, end: date) -> float | None:
    """The week's session conversion over every traffic source: GET /kpi/funnel's per-source
    counts, added up (rates do not add; their counts do)."""
    result = kpis.run(kpis.prepare("funnel", {"start": start.isoformat(), "end": end.isoformat()}))
    names = [column["name"] for column in result.columns]
    rows = [dict(zip(names, row, strict=True)) for row in result.rows]
    sessions = sum(row["sessions"] or 0 for row in rows)
    purchases = sum(row["purchase_sessions"] or 0 for row in rows)
    return purchases / sessions if sessions else None


def _champion(artifacts: ArtifactStore) -> ModelHealth | None:
    registry = Registry(artifacts, CONVERSION.model)
    pointer = registry.latest()
    if pointer is None:
        return None
    card = registry.read_json(pointer.version, CARD)
    return ModelHealth(pointer.version, card["metrics"].get("roc_auc"), card["created_at"])
