"""BigQuery, the production warehouse (google-cloud-bigquery)."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from google.api_core import exceptions as google_errors
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY

from common.warehouse.base import (
    Params,
    ParamValue,
    QueryResult,
    WarehouseQueryError,
    WarehouseUnavailable,
    check_param_name,
    check_params,
)

# Order matters: bool is an int and datetime is a date.
_BQ_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "BOOL"),
    (int, "INT64"),
    (float, "FLOAT64"),
    (Decimal, "NUMERIC"),
    (str, "STRING"),
    (datetime, "TIMESTAMP"),
    (date, "DATE"),
)
_TRANSIENT = (
    google_errors.TooManyRequests,
    google_errors.ServiceUnavailable,
    google_errors.InternalServerError,
    google_errors.GatewayTimeout,
    google_errors.RetryError,
)


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Google API errors as warehouse errors whose messages are safe to show a client."""
    try:
        yield
    except _TRANSIENT as exc:
        raise WarehouseUnavailable("BigQuery is unavailable; try again later") from exc
    except concurrent.futures.TimeoutError as exc:  # the library cancels the job first
        raise WarehouseUnavailable("the query did not finish in time") from exc
    except google_errors.GoogleAPICallError as exc:
        raise WarehouseQueryError("BigQuery rejected the query") from exc


def _bq_type(name: str, value: Any) -> str:
    for python_type, bq_type in _BQ_TYPES:
        if isinstance(value, python_type):
            if bq_type == "TIMESTAMP" and value.tzinfo is None:
                return "DATETIME"
            return bq_type
    raise TypeError(f"query parameter {name!r} has no BigQuery type")


def query_parameter(name: str, value: ParamValue) -> bigquery.ScalarQueryParameter:
    """A named BigQuery parameter whose type follows the Python value."""
    if isinstance(value, list):
        element = next((v for v in value if v is not None), "")
        return bigquery.ArrayQueryParameter(name, _bq_type(name, element), value)
    if value is None:
        return bigquery.ScalarQueryParameter(name, "STRING", None)
    return bigquery.ScalarQueryParameter(name, _bq_type(name, value), value)


class BigQueryWarehouse:
    """Runs parameterised queries with a byte cap, a location, labels and a default dataset."""

    engine = "bigquery"

    def __init__(
        self,
        *,
        project: str,
        dataset: str,
        location: str,
        max_bytes_billed: int,
        client: bigquery.Client | None = None,
        timeout_seconds: float = 120.0,
    ):
        self.project, self.dataset, self.location = project, dataset, location
        self.max_bytes_billed = max_bytes_billed
        self._client = client
        # One budget for waiting on the job and for retrying transient API errors.
        self.timeout_seconds = timeout_seconds
        self._retry = DEFAULT_RETRY.with_timeout(timeout_seconds)
        self._job_retry = DEFAULT_JOB_RETRY.with_timeout(timeout_seconds)

    @property
    def client(self) -> bigquery.Client:
        if self._client is None:
            self._client = bigquery.Client(project=self.project, location=self.location)
        return self._client

    def placeholder(self, name: str) -> str:
        return "@" + check_param_name(name)

    def _job_config(
        self, params: Params | None, labels: Mapping[str, str] | None, *, dry_run: bool = False
    ) -> bigquery.QueryJobConfig:
        return bigquery.QueryJobConfig(
            query_parameters=[query_parameter(n, v) for n, v in check_params(params).items()],
            maximum_bytes_billed=self.max_bytes_billed,
            default_dataset=f"{self.project}.{self.dataset}",
            labels={"app": "execkpi", **(labels or {})},
            use_legacy_sql=False,
            dry_run=dry_run,
            use_query_cache=not dry_run,
        )

    def query(
        self, sql: str, params: Params | None = None, *, labels: Mapping[str, str] | None = None
    ) -> QueryResult:
        started = time.perf_counter()
        with _translated_errors():
            rows = self.client.query_and_wait(
                sql,
                job_config=self._job_config(params, labels),
                location=self.location,
                wait_timeout=self.timeout_seconds,
                retry=self._retry,
                job_retry=self._job_retry,
            )
            table = rows.to_arrow(create_bqstorage_client=False)
        return QueryResult(
            table=table,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            bytes_processed=rows.total_bytes_processed,
        )

    def data_version(self) -> str:
        """The newest modification time among the marts dataset's tables (free metadata)."""
        # Project and dataset are identifiers validated by the configuration.
        tables = f"`{self.project}.{self.dataset}.__TABLES__`"
        sql = f"select cast(max(last_modified_time) as string) as version from {tables}"  # noqa: S608
        result = self.query(sql, labels={"purpose": "data_version"})
        return f"bigquery:{result.table.column('version')[0].as_py()}"

    def estimate_bytes(
        self, sql: str, params: Params | None = None, *, labels: Mapping[str, str] | None = None
    ) -> int:
        """Bytes the query would process, from a free dry run."""
        job_config = self._job_config(params, labels, dry_run=True)
        with _translated_errors():
            # job_retry=None: a dry run creates no job, and with a job_retry the library wraps
            # the insert in its own 10-minute retry that ignores our timeout.
            job = self.client.query(
                sql,
                job_config=job_config,
                location=self.location,
                retry=self._retry,
                job_retry=None,
            )
        return int(job.total_bytes_processed or 0)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
