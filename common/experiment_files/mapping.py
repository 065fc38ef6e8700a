"""Which columns of an uploaded experiment file mean what, from the query string.

Lists are comma-separated (column names holding a comma cannot be mapped); pairs are
``a:b``. The analysis options are the JSON object POST /ab/analyze takes under ``options``,
checked later by the same parser. Whether the columns exist is the file's business
(``aggregate``), checked against its schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.stats.requests import MAX_METRICS
from common.validation import InvalidInput, choice, name

QUERY_PARAMETERS = (
    "user_column",
    "variant_column",
    "control",
    "metrics",
    "covariates",
    "dimensions",
    "first_by",
    "exposure_column",
    "exposure",
    "delimiter",
    "options",
)
DELIMITERS = (",", ";", "\t", "|")
MAX_DIMENSIONS = 5  # each dimension value is a full analysis: bounded work per request


@dataclass(frozen=True)
class FileMapping:
    user_column: str
    variant_column: str
    control: str
    metrics: tuple[str, ...]  # the first is the primary metric
    covariates: Mapping[str, str]  # metric column -> its pre-period covariate column (CUPED)
    dimensions: tuple[str, ...]
    first_by: str | None  # of a user's duplicate rows in one arm, the earliest by it is kept
    exposure_column: str | None
    exposure: Mapping[str, str]  # variant -> the exposure_column value its rows must have
    delimiter: str
    options: Mapping[str, Any]  # POST /ab/analyze's options, unparsed

    @property
    def columns(self) -> dict[str, str]:
        """Every mapped column and the query parameter that names it (the first that does)."""
        named: dict[str, str] = {}
        for parameter, column in (
            ("user_column", self.user_column),
            ("variant_column", self.variant_column),
            *(("metrics", m) for m in self.metrics),
            *(("covariates", c) for c in self.covariates.values()),
            *(("dimensions", d) for d in self.dimensions),
            ("first_by", self.first_by),
            ("exposure_column", self.exposure_column),
        ):
            if column is not None:
                named.setdefault(column, parameter)
        return named


def file_mapping(args: Mapping[str, str]) -> FileMapping:
    for required in ("user_column", "variant_column", "control", "metrics"):
        if required not in args:
            raise InvalidInput(required, "is required")
    metrics = _names(args["metrics"], "metrics")
    if len(metrics) > MAX_METRICS:
        raise InvalidInput("metrics", f"at most {MAX_METRICS} metric columns")
    covariates = _pairs(args.get("covariates", ""), "covariates")
    unknown = next((m for m in covariates if m not in metrics), None)
    if unknown is not None:
        raise InvalidInput("covariates", f"{unknown!r} is not one of the metrics")
    dimensions = _names(args.get("dimensions", ""), "dimensions")
    if len(dimensions) > MAX_DIMENSIONS:
        raise InvalidInput("dimensions", f"at most {MAX_DIMENSIONS} dimension columns")
    exposure_column = _optional(args, "exposure_column")
    exposure = _pairs(args.get("exposure", ""), "exposure")
    if (exposure_column is None) != (not exposure):
        raise InvalidInput("exposure", "exposure_column and exposure go together")
    return FileMapping(
        user_column=name(args["user_column"], "user_column"),
        variant_column=name(args["variant_column"], "variant_column"),
        control=name(args["control"], "control"),
        metrics=metrics,
        covariates=covariates,
        dimensions=dimensions,
        first_by=_optional(args, "first_by"),
        exposure_column=exposure_column,
        exposure=exposure,
        delimiter=choice(args.get("delimiter", ","), "delimiter", DELIMITERS),
        options=_options(args.get("options")),
    )


def _optional(args: Mapping[str, str], field: str) -> str | None:
    return name(args[field], field) if field in args else None


def _names(raw: str, field: str) -> tuple[str, ...]:
    """Distinct names, comma-separated; "" is none."""
    names = tuple(name(part, field) for part in raw.split(",")) if raw else ()
    if len(set(names)) != len(names):
        raise InvalidInput(field, "names a column twice")
    return names


def _pairs(raw: str, field: str) -> dict[str, str]:
    """``key:value`` pairs, comma-separated, each key once."""
    pairs: dict[str, str] = {}
    for part in _names(raw, field):
        key, colon, value = part.partition(":")
        if not colon:
            raise InvalidInput(field, f"{part!r} is not a pair key:value")
        key = name(key, field)
        if key in pairs:
            raise InvalidInput(field, f"{key!r} is given twice")
        pairs[key] = name(value, field)
    return pairs


def _options(raw: str | None) -> Mapping[str, Any]:
    if raw is None:
        return {}
    try:
        options = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        options = None
    if not isinstance(options, dict):
        raise InvalidInput("options", "must be a JSON object: the options of POST /ab/analyze")
    return options


def _reject_constant(constant: str) -> float:
    raise ValueError(f"{constant} is not allowed in JSON")
