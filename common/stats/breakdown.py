"""An experiment analysed separately within each value of one user dimension (browser, traffic
source, country): exploratory, never a decision.

Each value gets the engine's full analysis (its SRM check against the planned weights
included) and, next to every p-value, the p-value adjusted across the values: one family per
(treatment, metric), because looking at K segments gives K chances of a false alarm. A
comparison counts as significant across the values when that adjusted p-value is at most
alpha (statsmodels' ``multipletests`` rule). The mart caps the values per dimension (dbt var
experiment_breakdown_max_values, 20: the rest are summed as 'other'), so the number of
analyses stays bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.stats import corrections
from common.stats.analyze import analyze
from common.stats.inputs import Correction, Experiment, Options
from common.stats.requests import check_cost
from common.stats.results import Analysis

if TYPE_CHECKING:
    from common.stats.warehouse_source import StoredBreakdown

DIMENSIONS = ("browser", "traffic_source", "country")  # those of ab_metrics_by_dimension
WARNING = (
    "Breakdowns are exploratory: with many segments some differ by chance, and a segment "
    "picked after looking is a hypothesis to test in a new experiment, not a result to ship. "
    "Decide on the whole experiment; use p_value_across_values, adjusted across the segments."
)


@dataclass(frozen=True)
class ValueAnalysis:
    value: str
    analysis: Analysis
    # one per comparison of the analysis, in its order: adjusted across the dimension's values
    p_values_across_values: tuple[float, ...]


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    correction: Correction  # across the values
    alpha: float
    values: tuple[ValueAnalysis, ...]


def analyze_breakdown(
    stored: StoredBreakdown, options: Options, correction: Correction
) -> Breakdown:
    inputs = [(value, s.engine_input(options)) for value, s in stored.values]
    return analyze_values(stored.dimension, inputs, options.alpha, correction)


def analyze_values(
    dimension: str,
    inputs: Sequence[tuple[str, Experiment]],
    alpha: float,
    correction: Correction,
) -> Breakdown:
    """Each dimension value's experiment analysed, its p-values adjusted across the values."""
    check_cost([experiment for _, experiment in inputs])
    analyses = [(value, analyze(experiment)) for value, experiment in inputs]
    families: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, (_, analysis) in enumerate(analyses):
        for j, c in enumerate(analysis.comparisons):
            families.setdefault((c.variant, c.metric), []).append((i, j))
    adjusted: dict[tuple[int, int], float] = {}
    for members in families.values():
        raw = [analyses[i][1].comparisons[j].p_value for i, j in members]
        adjusted.update(zip(members, corrections.adjust(raw, correction), strict=True))
    return Breakdown(
        dimension=dimension,
        correction=correction,
        alpha=alpha,
        values=tuple(
            ValueAnalysis(
                value,
                analysis,
                tuple(adjusted[i, j] for j in range(len(analysis.comparisons))),
            )
            for i, (value, analysis) in enumerate(analyses)
        ),
    )
