"""Running a KPI in two steps. ``prepare`` parses its parameters, fills default dates from the
data and derives the ETag from (kpi, parameters, data version), all without running the KPI's
query, so a caller can answer a matching If-None-Match first. ``run`` then builds the SQL for
the warehouse's engine, refuses what BigQuery would bill past the cap, binds the values the
builder names, and caches the result under the same key as the ETag."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from common.config import Config
from common.errors import NotFound, Unprocessable
from common.kpi.cache import TtlCache
from common.kpi.catalogue import CATALOGUE, Kpi
from common.kpi.columns import Column
from common.kpi.dialect import Dialect
from common.kpi.params import check_range, parse_params
from common.kpi.periods import Coverage
from common.money import Currency
from common.reporting_time import today
from common.warehouse import Warehouse

DATA_VERSION_SECONDS = 30.0  # how long a data version is trusted before asking again


class UnknownKpi(NotFound):
    field = "kpi"

    def __init__(self, name: str):
        super().__init__(f"no KPI named {name!r}; see GET /kpi")


class QueryTooExpensive(Unprocessable):
    code = "query_too_expensive"
    field = "end"  # a shorter date range scans less

    def __init__(self, estimate: int, limit: int):
        super().__init__(f"the query would process {estimate:,} bytes; the limit is {limit:,}")
        self.estimate, self.limit = estimate, limit


@dataclass(frozen=True)
class PreparedKpi:
    kpi: Kpi
    values: dict[str, Any]  # parsed, default dates filled in
    params: dict[str, Any]  # the same values as JSON, echoed in the response
    etag: str  # of (kpi, params, data version); also the result cache's key
    version: str  # of the data the answer is drawn from


@dataclass(frozen=True)
class KpiResult:
    kpi: str
    params: dict[str, Any]
    columns: list[dict[str, Any]]  # name, type, unit
    rows: list[list[Any]]
    meta: dict[str, Any]
    currency: Currency  # of the money columns


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _iso_dates(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _plain_column(values: list[Any], column: Column, currency: Currency) -> list[Any]:
    """JSON/CSV-ready values of a declared column; money rounded to the minor unit. One
    conversion chosen per column, not per value: a KPI answer can hold thousands."""
    if column.type == "integer":
        convert: Callable[[Any], Any] = int
    elif column.type == "money":
        convert = currency.round
    elif column.type == "number":
        convert = _finite
    else:
        convert = _iso_dates
    return [None if value is None else convert(value) for value in values]


def _normalised(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in sorted(values.items())}


class KpiService:
    def __init__(
        self,
        warehouse: Warehouse,
        marts: str,
        *,
        currency: Currency,
        max_bytes_billed: int,
        time_zone: str,
        cache_seconds: float = 300.0,
    ):
        self.warehouse = warehouse
        self.time_zone = time_zone  # where "today" is, for a default range over no data
        self.dialect = Dialect(warehouse.engine, marts)
        self.currency = currency
        self.max_bytes_billed = max_bytes_billed
        self.cache = TtlCache(cache_seconds)
        self._version: tuple[float, str] | None = None
        self._version_lock = threading.Lock()

    @classmethod
    def configured(cls, config: Config, warehouse: Warehouse, currency: Currency) -> KpiService:
        """The service as a function's configuration sets it up (``currency`` resolved from
        it at the function's start, so a bad code stops the function before it answers)."""
        return cls(
            warehouse,
            config.marts_schema,
            currency=currency,
            max_bytes_billed=config.bq_max_bytes_billed,
            time_zone=config.time_zone,
        )

    def prepare(self, name: str, raw: Mapping[str, Any]) -> PreparedKpi:
        """The request for a catalogue KPI checked and keyed (see ``prepare_kpi``)."""
        kpi = CATALOGUE.get(name)
        if kpi is None:
            raise UnknownKpi(name)
        return self.prepare_kpi(kpi, raw)

    def prepare_kpi(self, kpi: Kpi, raw: Mapping[str, Any]) -> PreparedKpi:
        """The request checked and keyed; may read the newest date (cached per data version)
        to fill a default range, never the KPI itself. Any ``Kpi`` runs here, also one that
        is not in the catalogue (the original API's queries), so its name must be unique."""
        values = parse_params(kpi.params, raw)
        version = self.data_version()
        values = self._with_default_dates(kpi, values, version)
        self._check_known_ids(kpi, values, version)
        params = _normalised(values)
        key = json.dumps([kpi.name, params, version])
        etag = hashlib.sha256(key.encode()).hexdigest()[:32]
        return PreparedKpi(kpi, values, params, etag, version)

    def run(self, prepared: PreparedKpi, *, use_cache: bool = True) -> KpiResult:
        if use_cache and (cached := self.cache.get(prepared.etag)) is not None:
            return replace(cached, meta={**cached.meta, "cached": True, "elapsed_ms": 0.0})
        result = self._execute(prepared)
        self.cache.put(prepared.etag, result)
        return result

    def data_version(self) -> str:
        with self._version_lock:
            now = time.monotonic()
            if self._version is None or now - self._version[0] > DATA_VERSION_SECONDS:
                self._version = (now, self.warehouse.data_version())
            return self._version[1]

    def _with_default_dates(self, kpi: Kpi, values: dict[str, Any], version: str) -> dict[str, Any]:
        if kpi.date_source is None:
            return values
        end = values["end"] or self._latest_date(*kpi.date_source(values), version)
        start = values["start"] or min(end - timedelta(days=kpi.default_days - 1), end)
        check_range(start, end)
        return {**values, "start": start, "end": end}

    def _latest_date(self, table: str, column: str, version: str) -> date:
        key = ("latest", table, column, version)
        if (cached := self.cache.get(key)) is not None:
            return cached
        # Table and column come from the catalogue, never from a request.
        sql = f"select max({column}) as latest from {self.dialect.table(table)}"  # noqa: S608
        latest = self.warehouse.query(sql).table.column("latest")[0].as_py()
        latest = latest or today(self.time_zone)  # an empty mart: the range ends today
        self.cache.put(key, latest)
        return latest

    def _check_known_ids(self, kpi: Kpi, values: Mapping[str, Any], version: str) -> None:
        """An id that names nothing is a 404 listing the ids that exist, not 200 with no rows."""
        for param in kpi.params:
            value = values[param.name]
            if param.known_in is None or value is None:
                continue
            known = self._known_values(*param.known_in, version)
            if value not in known:
                raise NotFound(
                    f"no {param.name} {value!r}; see known",
                    field=param.name,
                    known=known,
                )

    def _known_values(self, table: str, column: str, version: str) -> tuple[str, ...]:
        key = ("known", table, column, version)
        if (cached := self.cache.get(key)) is not None:
            return cached
        # Table and column come from the catalogue; the client's value is compared in Python.
        sql = f"select distinct {column} as value from {self.dialect.table(table)} order by 1"  # noqa: S608
        column_values = self.warehouse.query(sql).table.column("value").to_pylist()
        known = tuple(str(v) for v in column_values if v is not None)
        self.cache.put(key, known)
        return known

    def _execute(self, prepared: PreparedKpi) -> KpiResult:
        kpi = prepared.kpi
        query = kpi.build(self.dialect, prepared.values)
        estimate = self.warehouse.estimate_bytes(query.sql, query.params)
        if estimate is not None and estimate > self.max_bytes_billed:
            raise QueryTooExpensive(estimate, self.max_bytes_billed)
        started = time.perf_counter()
        result = self.warehouse.query(query.sql, query.params, labels={"kpi": kpi.name})
        table = result.table
        if table.column_names != [column.name for column in kpi.columns]:
            raise RuntimeError(f"{kpi.name}: columns {table.column_names} differ from catalogue")
        values = [
            _plain_column(values.to_pylist(), column, self.currency)
            for values, column in zip(table.columns, kpi.columns, strict=True)
        ]
        rows = [list(row) for row in zip(*values, strict=True)]
        newest = None
        if kpi.date_source is not None:
            # The newest day is the cached lookup that fills default dates.
            newest = self._latest_date(*kpi.date_source(prepared.values), prepared.version)
            if kpi.period is not None:
                # Flagged here, not in SQL: one calendar rule for both engines and every KPI.
                first_days = table.column(kpi.period).to_pylist()
                rows = _marked_complete(prepared, newest, first_days, rows)
        meta = {
            "engine": self.warehouse.engine,
            "rows": len(rows),
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
            "cached": False,
        }
        if newest is not None:
            meta["date_range"] = _covered(prepared.values, newest)
        if result.bytes_processed is not None:
            meta["bytes_processed"] = result.bytes_processed
        return KpiResult(
            kpi=kpi.name,
            params=prepared.params,
            columns=[column.describe(self.currency) for column in kpi.output_columns],
            rows=rows,
            meta=meta,
            currency=self.currency,
        )


def _covered(values: Mapping[str, Any], newest: date) -> dict[str, str] | None:
    """The first and last day the answer covers: the range answered, ending on the newest day
    with data when it reaches past it (days not loaded yet are not covered; days before the
    first order are, with nothing in them); None when no day of the range has data yet."""
    end = min(values["end"], newest)
    if end < values["start"]:
        return None
    return {"start": values["start"].isoformat(), "end": end.isoformat()}


def _marked_complete(
    prepared: PreparedKpi, newest: date, first_days: list[date], rows: list[list[Any]]
) -> list[list[Any]]:
    """Each row with its period's ``complete`` flag; a growth KPI keeps only complete periods
    unless include_partial is set, so a running month is never compared with a whole one."""
    kpi, values = prepared.kpi, prepared.values
    coverage = Coverage(values["start"], values["end"], newest)
    grain = kpi.period_grain(values)
    marked = [
        [*row, coverage.complete(first, grain)] for first, row in zip(first_days, rows, strict=True)
    ]
    if kpi.growth and not values["include_partial"]:
        return [row for row in marked if row[-1]]
    return marked
