"""An experiment file's rows reduced, in DuckDB, to each arm's sufficient statistics, under the
data-quality rules; pandas never sees the rows (``load`` puts them in DuckDB).

The rules, in this order (each count is reported in ``DataQuality``):

1. rows without a user id or a variant are left out (``rows_without_user_or_variant``);
2. with ``exposure_column``, a row whose value there is not the one its variant expects (a
   control user shown the new page, in the Udacity test) is left out (``exposure_mismatches``);
3. a user's several rows in one variant count once (``duplicate_rows`` is the rows dropped): the
   earliest by ``first_by`` is kept, and, without it or on a tie, the first in the file;
4. a user left with rows in two or more variants is left out entirely
   (``users_in_several_variants``): which arm's outcome they show is unknowable.

An empty metric cell leaves that user out of that metric only (``missing_values``).
DuckDB is imported on first use: the other routes of the function never pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from common.experiment_files.load import load_rows, metric_kind
from common.experiment_files.mapping import FileMapping
from common.experiment_files.upload import UploadedFile
from common.stats.inputs import MAX_ARMS
from common.validation import InvalidInput

if TYPE_CHECKING:
    import duckdb

MAX_DIMENSION_VALUES = 20  # as the ab_metrics_by_dimension mart: the rest are summed as 'other'
OTHER, MISSING = "other", "(missing)"
# Of the function's 512 MiB: DuckDB's memory, and its spill files (Cloud Run's /tmp is memory
# too), beside the upload itself (at most 64 MiB of CSV). A Parquet file compresses far better
# than gzip: past these, it is refused (400) rather than the instance running out of memory.
MEMORY_LIMIT = "256MB"
SPILL_LIMIT = "64MB"


@dataclass(frozen=True)
class MetricColumn:
    column: str
    kind: Literal["proportion", "mean"]  # 0/1 or true/false only: a proportion
    covariate: str | None


@dataclass(frozen=True)
class Arm:
    variant: str
    users: int
    # per metric column: POST /ab/analyze's statistics (n, sum, sum_squares, covariate_sum, ...)
    statistics: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class DimensionStatistics:
    dimension: str
    values: tuple[tuple[str, tuple[Arm, ...]], ...]  # most users first, 'other' last


@dataclass(frozen=True)
class DataQuality:
    rows: int
    rows_without_user_or_variant: int
    exposure_mismatches: int
    duplicate_rows: int
    users_in_several_variants: int
    users: int
    missing_values: Mapping[str, int]  # per metric column


@dataclass(frozen=True)
class FileStatistics:
    metrics: tuple[MetricColumn, ...]  # the primary first
    arms: tuple[Arm, ...]  # the control first
    breakdowns: tuple[DimensionStatistics, ...]
    quality: DataQuality


def file_statistics(upload: UploadedFile, mapping: FileMapping) -> FileStatistics:
    import duckdb  # lazily: the other routes never pay for importing it

    # Spilled pages go beside the upload, into the folder removed with it.
    config = {
        "memory_limit": MEMORY_LIMIT,
        "temp_directory": str(upload.path.parent),
        "max_temp_directory_size": SPILL_LIMIT,
    }
    with duckdb.connect(":memory:", config=config) as con:
        try:
            return _statistics_of(con, upload, mapping)
        except duckdb.OutOfMemoryException:
            raise InvalidInput(
                "body",
                f"needs more than the {MEMORY_LIMIT} of memory (and {SPILL_LIMIT} of spill) "
                "an analysis may use: send fewer rows or columns",
            ) from None


def _statistics_of(
    con: duckdb.DuckDBPyConnection, upload: UploadedFile, mapping: FileMapping
) -> FileStatistics:
    rows = load_rows(con, upload, mapping)
    metrics = tuple(
        MetricColumn(m, metric_kind(con, i, m, mapping), mapping.covariates.get(m))
        for i, m in enumerate(mapping.metrics)
    )
    quality = _apply_rules(con, mapping, rows)
    variants = _variants(con, mapping)
    arms = _arms(metrics, variants, _grouped(con, metrics, "''", {}), "")  # one key
    breakdowns = tuple(
        _breakdown(con, metrics, variants, i, d) for i, d in enumerate(mapping.dimensions)
    )
    return FileStatistics(metrics, arms, breakdowns, quality)


def _apply_rules(con: duckdb.DuckDBPyConnection, mapping: FileMapping, rows: int) -> DataQuality:
    """Table ``kept`` (the rows analysed) from ``rows`` by the module's rules, and their
    counts; ``rows``: the file's."""
    valid = con.execute("select count(*) from rows").fetchone()[0]
    if mapping.exposure_column is not None:
        con.execute("create temp table expected (variant varchar, exposure varchar)")
        con.executemany("insert into expected values (?, ?)", list(mapping.exposure.items()))
        unmapped = con.execute(
            "select min(v) from rows where v not in (select variant from expected)"
        ).fetchone()[0]
        if unmapped is not None:
            raise InvalidInput("exposure", f"names no expected value for variant {unmapped!r}")
        con.execute(
            "delete from rows using expected "
            "where rows.v = expected.variant and rows.e is distinct from expected.exposure"
        )
    matched = con.execute("select count(*) from rows").fetchone()[0]
    order = "o nulls last, row_no" if mapping.first_by is not None else "row_no"
    con.execute(
        "create temp table kept as select * from rows "  # noqa: S608 - order: ours
        f"qualify row_number() over (partition by u, v order by {order}) = 1"
    )
    con.execute("drop table rows")
    distinct = con.execute("select count(*) from kept").fetchone()[0]
    con.execute("create temp table several as select u from kept group by u having count(*) > 1")
    con.execute("delete from kept where u in (select u from several)")
    missing = {
        metric: con.execute(f"select count(*) - count(m{i}) from kept").fetchone()[0]  # noqa: S608
        for i, metric in enumerate(mapping.metrics)
    }
    return DataQuality(
        rows=rows,
        rows_without_user_or_variant=rows - valid,
        exposure_mismatches=valid - matched,
        duplicate_rows=matched - distinct,
        users_in_several_variants=con.execute("select count(*) from several").fetchone()[0],
        users=con.execute("select count(*) from kept").fetchone()[0],
        missing_values=missing,
    )


def _variants(con: duckdb.DuckDBPyConnection, mapping: FileMapping) -> tuple[str, ...]:
    """The variants of the rows kept, the control first, the others by name."""
    found = [v for (v,) in con.execute("select distinct v from kept order by v").fetchall()]
    if not found:
        raise InvalidInput("body", "no user is left once the data-quality rules apply")
    if mapping.control not in found:
        raise InvalidInput(
            "control",
            f"no variant {mapping.control!r} in the file; "
            f"its variants: {', '.join(found[:MAX_ARMS])}",
        )
    if len(found) < 2:
        raise InvalidInput(
            "variant_column",
            f"the file has only the variant {found[0]!r}: "
            "an experiment needs a control and a treatment",
        )
    if len(found) > MAX_ARMS:
        raise InvalidInput("variant_column", f"has {len(found)} variants; at most {MAX_ARMS}")
    return (mapping.control, *(v for v in found if v != mapping.control))


def _sums(metrics: tuple[MetricColumn, ...]) -> list[str]:
    """Each metric's statistics as SQL aggregates over ``kept``, in ``_statistics``' order."""
    sums = []
    for i, metric in enumerate(metrics):
        sums += [f"count(m{i})", f"coalesce(sum(m{i}), 0)", f"coalesce(sum(m{i} * m{i}), 0)"]
        if metric.covariate is not None:
            sums += [
                f"coalesce(sum(c{i}) filter (m{i} is not null), 0)",
                f"coalesce(sum(c{i} * c{i}) filter (m{i} is not null), 0)",
                f"coalesce(sum(m{i} * c{i}), 0)",
            ]
    return sums


def _statistics(metrics: tuple[MetricColumn, ...], values: list) -> dict[str, dict[str, float]]:
    """POST /ab/analyze's statistics of each metric, from one row of ``_sums``."""
    found, at = {}, iter(values)
    for metric in metrics:
        n, total, squares = (float(next(at)) for _ in range(3))
        stats = {"n": n, "sum": total}
        if metric.kind == "mean":
            stats["sum_squares"] = squares
        if metric.covariate is not None:
            stats["covariate_sum"] = float(next(at))
            stats["covariate_sum_squares"] = float(next(at))
            stats["cross_product_sum"] = float(next(at))
        found[metric.column] = stats
    return found


def _grouped(
    con: duckdb.DuckDBPyConnection,
    metrics: tuple[MetricColumn, ...],
    key: str,
    params: Mapping[str, Any],
) -> list[tuple]:
    """(key, variant, users, statistics...) of ``kept`` grouped by ``key`` (our SQL; its
    values bound in ``params``) and variant."""
    sums = ", ".join(_sums(metrics))
    sql = f"select {key} as key, v, count(*), {sums} from kept group by all"  # noqa: S608
    return con.execute(sql, dict(params)).fetchall()


def _arms(
    metrics: tuple[MetricColumn, ...], variants: tuple[str, ...], grouped: list[tuple], key: str
) -> tuple[Arm, ...]:
    """The arms of one key of ``_grouped``; a variant without rows there counts 0."""
    found = {row[1]: row[2:] for row in grouped if row[0] == key}
    empty = (0,) * (1 + len(_sums(metrics)))
    return tuple(
        Arm(v, int(found.get(v, empty)[0]), _statistics(metrics, list(found.get(v, empty)[1:])))
        for v in variants
    )


def _breakdown(
    con: duckdb.DuckDBPyConnection,
    metrics: tuple[MetricColumn, ...],
    variants: tuple[str, ...],
    j: int,
    dimension: str,
) -> DimensionStatistics:
    """The arms within each value of dimension ``d<j>``, an empty cell as '(missing)': the
    ``MAX_DIMENSION_VALUES`` values with most users (ties by name), the rest as 'other'."""
    label = f"coalesce(d{j}, $missing)"
    ranked = con.execute(
        f"select {label} as label from kept group by label "  # noqa: S608 - d<j>: ours
        "order by count(*) desc, label limit $top",
        {"missing": MISSING, "top": MAX_DIMENSION_VALUES + 1},
    ).fetchall()
    named = [value for (value,) in ranked][:MAX_DIMENSION_VALUES]
    value = f"case when list_contains($named, {label}) then {label} else $other end"
    params = {"missing": MISSING, "named": named, "other": OTHER}
    grouped = _grouped(con, metrics, value, params)
    shown = named + ([OTHER] if len(ranked) > MAX_DIMENSION_VALUES else [])
    return DimensionStatistics(
        dimension, tuple((v, _arms(metrics, variants, grouped, v)) for v in shown)
    )
