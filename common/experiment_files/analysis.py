"""An experiment file's statistics analysed exactly as POST /ab/analyze analyses a client's:
they become its request body, checked by its parser, so the options and every rule are the
same; with dimension columns, each value is analysed as POST /ab/breakdown does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from common.experiment_files.aggregate import Arm, FileStatistics, MetricColumn
from common.experiment_files.upload import UploadedFile
from common.stats import api, requests
from common.stats.breakdown import analyze_values
from common.stats.inputs import Experiment

CORRECTION_ACROSS_VALUES = "holm"  # POST /ab/breakdown's default


def file_analysis(
    upload: UploadedFile, statistics: FileStatistics, options: Mapping[str, Any]
) -> dict[str, Any]:
    """``{file, data_quality, analysis, breakdowns}``: breakdowns only with dimensions."""
    experiment = _experiment(statistics.metrics, statistics.arms, options)
    answer: dict[str, Any] = {
        "file": {
            "format": upload.format,
            "compressed": upload.compressed,
            "bytes": upload.bytes_received,
        },
        "data_quality": asdict(statistics.quality),
        "analysis": api.analyze_experiment(experiment),
    }
    if statistics.breakdowns:
        answer["breakdowns"] = [
            api.breakdown_answer(
                analyze_values(
                    dimension.dimension,
                    [
                        (value, _experiment(statistics.metrics, arms, options))
                        for value, arms in dimension.values
                    ],
                    experiment.options.alpha,
                    CORRECTION_ACROSS_VALUES,
                ),
                experiment.options,
            )
            for dimension in statistics.breakdowns
        ]
    return answer


def _experiment(
    metrics: tuple[MetricColumn, ...], arms: tuple[Arm, ...], options: Mapping[str, Any]
) -> Experiment:
    """The arms as a POST /ab/analyze body, parsed by its parser: the first metric primary."""
    body = {
        "variants": [
            {"name": arm.variant, "units": arm.users, "metrics": dict(arm.statistics)}
            for arm in arms
        ],
        "metrics": [
            {"name": m.column, "type": m.kind, "role": "primary" if i == 0 else "secondary"}
            for i, m in enumerate(metrics)
        ],
        "options": dict(options),
    }
    experiment = requests.analysis_request(body)
    assert isinstance(experiment, Experiment)  # a body with variants is never a stored ref
    return experiment
