"""An uploaded experiment file's mapped columns into a DuckDB table, checked against the file's
own schema.

Column names reach SQL only as quoted identifiers, after they are found in that schema; every
value (the file's path, the delimiter) travels as a bound parameter. A metric column holds 0/1
or true/false (a proportion) or any finite numbers (a mean); a covariate must have a value
wherever its metric has one. What DuckDB finds wrong with the file is a 400 naming ``body``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from common.experiment_files.mapping import FileMapping
from common.experiment_files.upload import UploadedFile
from common.validation import InvalidInput

if TYPE_CHECKING:
    import duckdb

# Parquet rows compress to almost nothing (30 million in 5 MB): its row count, which its footer
# holds, is capped so the analysis ends well within the function's 60 s. 64 MiB of CSV holds
# fewer.
MAX_PARQUET_ROWS = 10_000_000
_NUMERIC = re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL\(.*\))")
_CSV = (
    "read_csv($path, header = true, delim = $delimiter, quote = '\"', escape = '\"', "
    "encoding = 'utf-8', sample_size = -1, auto_detect = true)"
)
_PARQUET = "read_parquet($path)"
_SHOWN_COLUMNS = 30


def load_rows(con: duckdb.DuckDBPyConnection, upload: UploadedFile, mapping: FileMapping) -> int:
    """The file's row count; its rows with a user and a variant in table ``rows``."""
    schema = _schema(con, upload, mapping)
    _check_columns(schema, mapping)
    if upload.format == "parquet":
        _check_parquet_rows(con, upload)
    return _load(con, upload, mapping, schema)


def _source(upload: UploadedFile) -> str:
    return _PARQUET if upload.format == "parquet" else _CSV


def _params(upload: UploadedFile, mapping: FileMapping) -> dict[str, str]:
    params = {"path": str(upload.path)}
    if upload.format == "csv":
        params["delimiter"] = mapping.delimiter
    return params


def _read(con: duckdb.DuckDBPyConnection, sql: str, upload: UploadedFile, params: dict) -> Any:
    """Run a statement that reads the file; what DuckDB finds wrong with it is the client's."""
    import duckdb

    try:
        return con.execute(sql, params)
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error as e:  # the statements are fixed and tested: the file is at fault
        first_line = str(e).splitlines()[0].replace(str(upload.path), "the file")
        raise InvalidInput(
            "body", f"cannot be read as {upload.format.upper()}: {first_line}"
        ) from None


def _schema(con: duckdb.DuckDBPyConnection, upload: UploadedFile, mapping: FileMapping) -> dict:
    sql = f"describe select * from {_source(upload)}"  # noqa: S608 - no request text
    rows = _read(con, sql, upload, _params(upload, mapping)).fetchall()
    return {row[0]: row[1] for row in rows}


def _check_columns(schema: Mapping[str, str], mapping: FileMapping) -> None:
    for column, parameter in mapping.columns.items():
        if column not in schema:
            shown = ", ".join(list(schema)[:_SHOWN_COLUMNS])
            hint = ""
            if len(schema) == 1 and any(d in next(iter(schema)) for d in ";\t|,"):
                hint = " (the header reads as one column: give the file's delimiter)"
            raise InvalidInput(
                parameter, f"no column {column!r} in the file; its columns: {shown}{hint}"
            )


def _check_types(schema: Mapping[str, str], mapping: FileMapping) -> None:
    for parameter, columns in (
        ("metrics", mapping.metrics),
        ("covariates", mapping.covariates.values()),
    ):
        for column in columns:
            kind = schema[column]
            if kind != "BOOLEAN" and not _NUMERIC.fullmatch(kind):
                raise InvalidInput(
                    parameter,
                    f"column {column!r} holds {kind} values; a metric or covariate must be "
                    "0/1, true/false or numbers",
                )


def _check_parquet_rows(con: duckdb.DuckDBPyConnection, upload: UploadedFile) -> None:
    sql = "select count(*) from read_parquet($path)"  # from the footer: no row is read
    found = _read(con, sql, upload, {"path": str(upload.path)}).fetchone()[0]
    if found > MAX_PARQUET_ROWS:
        raise InvalidInput("body", f"has {found} rows; at most {MAX_PARQUET_ROWS} in Parquet")


def _quoted(column: str) -> str:
    """A column name found in the file's schema, as an SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def _load(
    con: duckdb.DuckDBPyConnection,
    upload: UploadedFile,
    mapping: FileMapping,
    schema: Mapping[str, str],
) -> int:
    """The file's row count; its rows with a user and a variant into table ``rows``: row_no
    (the file's order), u (user), v (variant as text), o (first_by), e (exposure as text), m<i>
    and c<i> (metric and covariate as DOUBLE), d<j> (dimension as text). Read as they are
    first, cast after: DuckDB would push a cast into the CSV reader, which then refuses "TRUE"
    as a DOUBLE."""
    columns = [(mapping.user_column, "u", None), (mapping.variant_column, "v", "varchar")]
    if mapping.first_by is not None:
        columns.append((mapping.first_by, "o", None))
    if mapping.exposure_column is not None:
        columns.append((mapping.exposure_column, "e", "varchar"))
    for i, metric in enumerate(mapping.metrics):
        columns.append((metric, f"m{i}", "double"))
        if (covariate := mapping.covariates.get(metric)) is not None:
            columns.append((covariate, f"c{i}", "double"))
    columns += [(d, f"d{j}", "varchar") for j, d in enumerate(mapping.dimensions)]
    read = ", ".join(f"{_quoted(column)} as {alias}" for column, alias, _ in columns)
    sql = f"create temp table file_rows as select {read} from {_source(upload)}"  # noqa: S608
    _read(con, sql, upload, _params(upload, mapping))
    rows = con.execute("select count(*) from file_rows").fetchone()[0]
    if rows == 0:
        raise InvalidInput("body", "has no rows (a header alone is no experiment)")
    _check_types(schema, mapping)  # after: a header alone has only text columns
    cast = ", ".join(
        alias if kind is None else f"cast({alias} as {kind}) as {alias}"
        for _, alias, kind in columns
    )
    con.execute(
        f"create temp table rows as select rowid as row_no, {cast} from file_rows "  # noqa: S608
        "where u is not null and v is not null"
    )
    con.execute("drop table file_rows")
    return rows


def metric_kind(con: duckdb.DuckDBPyConnection, i: int, metric: str, mapping: FileMapping) -> str:
    """Metric ``m<i>``'s kind in table ``rows``: proportion when every value is 0 or 1."""
    finite, binary = con.execute(
        f"select coalesce(bool_and(isfinite(m{i})), true), "  # noqa: S608 - m<i>: our alias
        f"coalesce(bool_and(m{i} in (0, 1)), true) from rows"
    ).fetchone()
    if not finite:
        raise InvalidInput("metrics", f"column {metric!r} holds NaN or infinite values")
    covariate = mapping.covariates.get(metric)
    if covariate is not None:
        finite, complete = con.execute(
            f"select coalesce(bool_and(isfinite(c{i})), true), "  # noqa: S608
            f"count(*) filter (m{i} is not null and c{i} is null) = 0 from rows"
        ).fetchone()
        if not finite:
            raise InvalidInput("covariates", f"column {covariate!r} holds NaN or infinite values")
        if not complete:
            raise InvalidInput(
                "covariates", f"column {covariate!r} is empty where {metric!r} has a value"
            )
    return "proportion" if binary else "mean"
