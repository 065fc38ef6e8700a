"""Interface, result type, errors and parameter rules shared by the warehouse engines."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from common.errors import Unavailable, UpstreamError

if TYPE_CHECKING:
    import pyarrow as pa

Scalar = bool | int | float | str | date | datetime | Decimal
ParamValue = Scalar | Sequence[Scalar] | None
Params = Mapping[str, ParamValue]

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_SCALAR_TYPES = (bool, int, float, str, date, datetime, Decimal)


class WarehouseError(UpstreamError):
    """A query could not be answered. The message is safe to show to a client."""

    code = "warehouse_error"


class WarehouseUnavailable(WarehouseError, Unavailable):
    """The engine could not be reached or is busy; trying again later may work."""

    code = "warehouse_unavailable"


class WarehouseQueryError(WarehouseError):
    """The engine rejected the query; trying again will not help."""


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    elapsed_ms: float
    bytes_processed: int | None = None  # what BigQuery billed for; None on DuckDB


class Warehouse(Protocol):
    engine: str

    def placeholder(self, name: str) -> str: ...

    def query(
        self, sql: str, params: Params | None = None, *, labels: Mapping[str, str] | None = None
    ) -> QueryResult: ...

    def estimate_bytes(self, sql: str, params: Params | None = None) -> int | None:
        """Bytes the query would bill, or None where nothing is billed."""

    def data_version(self) -> str:
        """Changes whenever the warehouse's tables may have changed (cache keys use it)."""

    def close(self) -> None: ...


def check_params(params: Params | None) -> dict[str, ParamValue]:
    """Reject parameter names or values that no engine can bind safely."""
    checked: dict[str, ParamValue] = {}
    for name, value in (params or {}).items():
        check_param_name(name)
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if item is not None and not isinstance(item, _SCALAR_TYPES):
                raise TypeError(f"query parameter {name!r}: {type(item).__name__} is not bindable")
        checked[name] = list(value) if isinstance(value, tuple) else value
    return checked


def check_param_name(name: str) -> str:
    if not _PARAM_NAME.fullmatch(name):
        raise ValueError(f"query parameter name {name!r} is not an identifier")
    return name
