"""An experiment's analysis as the table a person reads in a spreadsheet: per metric, the
control's row then each treatment's, with the unit of its values, the lifts, their intervals,
the p-values, the chance to beat the control and the ship verdict for that treatment; each
row ends with the experiment's dates and the day its data is of, so that a row read alone (a
filtered sheet) still says what it covers.

Every value is the analysis' own (the JSON answer's), never recomputed: the file and the JSON
of the same analysis agree cell for cell."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from common.downloads import Table
from common.experiments import ExperimentDefinition
from common.stats.results import Analysis, ArmValue, Comparison, ShipDecision

# (name, type) of each column; the unit column names that of n's metric values (mean,
# absolute lift and its bounds); relative lifts and their bounds are ratios (0.05 = +5 %).
COLUMNS = (
    ("metric", "string"),
    ("role", "string"),
    ("unit", "string"),
    ("variant", "string"),
    ("control", "boolean"),
    ("n", "number"),
    ("mean", "number"),
    ("absolute_lift", "number"),
    ("absolute_ci_lower", "number"),
    ("absolute_ci_upper", "number"),
    ("relative_lift", "number"),
    ("relative_ci_lower", "number"),
    ("relative_ci_upper", "number"),
    ("ci_level", "number"),
    ("p_value", "number"),
    ("p_value_adjusted", "number"),
    ("significant", "boolean"),
    ("chance_to_beat_control", "number"),
    ("verdict", "string"),
    ("decision", "string"),
    ("start_date", "date"),
    ("end_date", "date"),  # empty while the experiment runs
    ("as_of", "date"),
)
# File and sheet names: what Content-Disposition needs no escaping for and Excel accepts.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def results_table(
    definition: ExperimentDefinition, as_of: date, analysis: Analysis, units: Mapping[str, str]
) -> Table:
    """``units``: each metric's unit (ratio, currency, ...); ``as_of``: the day the data is
    of, which names the file with the experiment (``checkout_2026-10-15.csv``)."""
    dates = {
        "start_date": _iso(definition.start_date),
        "end_date": _iso(definition.end_date),
        "as_of": _iso(as_of),
    }
    decisions = {d.variant: d for d in analysis.decisions}
    records: list[dict[str, Any]] = []
    for metric in dict.fromkeys(c.metric for c in analysis.comparisons):
        compared = [c for c in analysis.comparisons if c.metric == metric]
        about = {"metric": metric, "role": compared[0].role, "unit": units.get(metric)}
        control = {"variant": analysis.control, "control": True, **_arm(compared[0].control)}
        records.append({**about, **control, **dates})
        for c in compared:
            treatment = {"variant": c.variant, "control": False, **_arm(c.treatment)}
            records.append({**about, **treatment, **_test(c, decisions.get(c.variant)), **dates})
    safe_id = _UNSAFE.sub("_", definition.experiment_id)
    return Table(
        name=safe_id,
        columns=[{"name": n, "type": t} for n, t in COLUMNS],
        rows=[[record.get(n) for n, _ in COLUMNS] for record in records],  # absent: empty
        file_stem=f"{safe_id}_{as_of.isoformat()}",
    )


def _arm(arm: ArmValue) -> dict[str, Any]:
    return {"n": arm.n, "mean": arm.mean}


def _test(c: Comparison, decision: ShipDecision | None) -> dict[str, Any]:
    """A treatment's lifts, test and verdict. The scale the test does not invert has no
    interval (None), as in the JSON answer."""
    return {
        "absolute_lift": c.absolute.estimate,
        "absolute_ci_lower": c.absolute.ci[0],
        "absolute_ci_upper": c.absolute.ci[1],
        "relative_lift": c.relative.estimate,
        "relative_ci_lower": c.relative.ci[0],
        "relative_ci_upper": c.relative.ci[1],
        "ci_level": c.ci_level,
        "p_value": c.p_value,
        "p_value_adjusted": c.p_value_adjusted,
        "significant": c.significant,
        "chance_to_beat_control": c.bayesian.chance_to_beat_control if c.bayesian else None,
        "verdict": decision.verdict if decision else None,
        "decision": decision.summary if decision else None,
    }


def _iso(day: date | None) -> str | None:
    """As the JSON answer and a KPI's date cells carry dates."""
    return day.isoformat() if day else None
