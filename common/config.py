"""One typed, immutable configuration object built from ``EXECKPI_*`` environment variables.

Every setting is declared once in ``SETTINGS`` (name, default, rule). ``load_config`` checks all
of them and raises one ``ConfigError`` listing every bad variable, so a misconfigured function
fails at start-up with the whole story instead of at its first request.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "EXECKPI_"


class ConfigError(ValueError):
    """Raised with one line per invalid environment variable."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Config:
    warehouse: str
    duckdb_path: Path
    bq_project: str | None
    bq_dataset: str
    bq_location: str
    bq_max_bytes_billed: int
    artifacts: str
    artifact_dir: Path
    bucket: str | None
    events: str
    local_bus_url: str
    pubsub_project: str
    topic_prefix: str
    cors_origins: tuple[str, ...]
    api_keys: frozenset[str] = field(repr=False)
    max_request_bytes: int
    event_max_age_seconds: int
    log_level: str
    currency: str
    model_auc_floor: float
    model_auc_tolerance: float
    model_holdout_snapshots: int
    model_shap_rows: int
    model_train_rows: int
    model_holdout_rows: int
    model_reload_seconds: int
    freshness_error_days: int
    build_lease_seconds: int
    validation_max_row_drift: float
    validation_label_rate_min: float
    validation_label_rate_max: float
    validation_srm_p: float
    validation_psi_warn: float
    validation_psi_block: float
    time_zone: str
    landing_dir: Path
    retrain_min_interval_hours: float

    @property
    def marts_schema(self) -> str:
        """Where the marts live: dbt's schema on DuckDB, the configured dataset on BigQuery."""
        return "execkpi_marts" if self.warehouse == "duckdb" else self.bq_dataset

    @property
    def gcp_project(self) -> str | None:
        """The project that log traces and labels refer to."""
        return self.bq_project or (self.pubsub_project if self.events == "pubsub" else None)


# --- rules: each parses a raw string or raises ValueError with the rule it broke -------------


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _between(convert: Callable[[str], Any], kind: str, low: float, high: float) -> Callable:
    def parse(raw: str) -> Any:
        try:
            value = convert(raw.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"must be {kind}") from None
        if not low <= value <= high:  # also rejects nan
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _int_between(low: int, high: int) -> Callable[[str], int]:
    return _between(int, "a whole number", low, high)


def _float_between(low: float, high: float) -> Callable[[str], float]:
    return _between(float, "a number", low, high)


def _matching(pattern: str, rule: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def parse(raw: str) -> str:
        value = raw.strip()
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    return parse


def _path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("must be a file system path")
    return Path(raw.strip()).expanduser()


def _http_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:8090")
    return raw.strip().rstrip("/")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (
            parts.scheme not in ("http", "https") or not parts.hostname or parts.path
        ):
            raise ValueError(f"{origin!r} is not an origin like https://app.example.com or *")
    return origins


def _time_zone(raw: str) -> str:
    # zoneinfo knows exactly the names dbt and the engines are given (IANA, e.g. Europe/Berlin).
    name = raw.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name such as Europe/Berlin or UTC") from None
    return name


def _api_keys(raw: str) -> frozenset[str]:
    keys = frozenset(k.strip() for k in raw.split(",") if k.strip())
    if any(len(k) < 16 for k in keys):
        raise ValueError("every key must be at least 16 characters long")
    return keys


_PROJECT = _matching(
    r"[a-z][a-z0-9-]{4,28}[a-z0-9]", "must be a Google Cloud project id (6-30 chars, a-z 0-9 -)"
)
_PUBSUB_PROJECT = _matching(
    r"local|[a-z][a-z0-9-]{4,28}[a-z0-9]", "must be a Google Cloud project id or 'local'"
)
_DATASET = _matching(r"[A-Za-z0-9_]{1,1024}", "must be a BigQuery dataset id (letters, digits, _)")
_LOCATION = _matching(r"[A-Za-z]+(-[a-z0-9]+)*", "must be a BigQuery location such as EU or US")
_BUCKET = _matching(
    r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]", "must be a bucket name (3-63 chars, a-z 0-9 . _ -)"
)
_TOPIC_PREFIX = _matching(
    r"([A-Za-z][A-Za-z0-9._~+%-]{0,100})?", "must start with a letter; letters, digits, .-_~+%"
)
_LOG_LEVEL = _choice("debug", "info", "warning", "error")
# The shape only: whether CLDR knows the code (and its minor unit) is asked where money is
# answered (common/money.py), so the other functions' cold starts do not import Babel.
_CURRENCY = _matching(r"[A-Z]{3}", "must be an ISO 4217 code: three capital letters, e.g. EUR")


@dataclass(frozen=True)
class Setting:
    name: str  # the Config field; the variable is PREFIX + name.upper()
    default: str | None
    parse: Callable[[str], Any]
    help: str
    secret: bool = False  # its value never appears in an error or a log

    def problem(self, raw: str, rule: str) -> str:
        shown = "" if self.secret else f"={raw!r}"
        return f"{self.env_var}{shown}: {rule}"

    @property
    def env_var(self) -> str:
        return PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("warehouse", "duckdb", _choice("duckdb", "bigquery"), "query engine"),
    Setting("duckdb_path", ".local/warehouse.duckdb", _path, "DuckDB database file"),
    Setting("bq_project", None, _PROJECT, "BigQuery project (required for bigquery)"),
    Setting("bq_dataset", "execkpi_marts", _DATASET, "BigQuery dataset holding the marts"),
    Setting("bq_location", "EU", _LOCATION, "BigQuery location of jobs and datasets"),
    Setting(
        "bq_max_bytes_billed",
        str(10 * 1024**3),
        _int_between(10 * 1024**2, 10 * 1024**4),
        "hard cap on bytes one query may bill",
    ),
    Setting("artifacts", "local", _choice("local", "gcs"), "artifact store"),
    Setting("artifact_dir", ".local/artifacts", _path, "folder of the local artifact store"),
    Setting("bucket", None, _BUCKET, "Cloud Storage bucket (required for gcs)"),
    Setting("events", "local", _choice("local", "pubsub"), "event bus"),
    Setting("local_bus_url", "http://127.0.0.1:8090", _http_url, "where the local bus listens"),
    Setting("pubsub_project", "local", _PUBSUB_PROJECT, "project of the Pub/Sub topics"),
    Setting("topic_prefix", "", _TOPIC_PREFIX, "prefix of every topic name"),
    Setting("cors_origins", "", _origins, "comma-separated origins allowed by CORS"),
    Setting(
        "api_keys",
        "",
        _api_keys,
        "comma-separated API keys; empty means none required",
        secret=True,
    ),
    Setting(
        "max_request_bytes", str(1024**2), _int_between(1024, 32 * 1024**2), "request body limit"
    ),
    Setting(
        "event_max_age_seconds",
        str(24 * 3600),
        _int_between(60, 7 * 24 * 3600),
        "older events are dropped",
    ),
    Setting("log_level", "info", _LOG_LEVEL, "minimum log severity"),
    Setting(
        "currency",
        "USD",  # the bundled demo data, thelook, is in US dollars
        _CURRENCY,
        "ISO 4217 code of the shop's money, e.g. EUR for a German shop",
    ),
    Setting(
        "model_auc_floor",
        "0.7",
        _float_between(0.5, 1.0),
        "holdout ROC-AUC a new conversion model needs to be promoted",
    ),
    Setting(
        "model_auc_tolerance",
        "0.01",
        _float_between(0.0, 0.5),
        "how far below the champion's AUC (on the new holdout) a challenger may be",
    ),
    Setting(
        "model_holdout_snapshots",
        "2",
        _int_between(1, 52),
        "latest snapshot dates held out for evaluation and promotion",
    ),
    Setting(
        "model_shap_rows",
        "2000",
        _int_between(100, 100_000),
        "holdout rows the SHAP summary explains",
    ),
    Setting(
        "model_train_rows",
        "200000",
        _int_between(10_000, 100_000_000),
        "training rows at most: more are sampled down to this in the warehouse, stratified by "
        "label (scripts/benchmarks/training_sample.py measures AUC against it)",
    ),
    Setting(
        "model_holdout_rows",
        "500000",
        _int_between(10_000, 100_000_000),
        "holdout rows at most (the gate scores challenger and champion on the same ones; "
        "scripts/benchmarks/training_sample.py --trade-offs measures AUC against it)",
    ),
    Setting(
        "model_reload_seconds",
        "10",
        _int_between(0, 3600),
        "how often serving checks LATEST for a new champion (0: every request)",
    ),
    Setting(
        "freshness_error_days",
        "7",
        _int_between(1, 3650),
        "a source whose newest row is older than this fails dbt source freshness",
    ),
    Setting(
        "build_lease_seconds",
        "2400",
        _int_between(60, 24 * 3600),
        "after this long a dbt build that never finished counts as dead and may be retried "
        "(keep it above the dbt_build function's timeout)",
    ),
    Setting(
        "validation_max_row_drift",
        "0.25",
        _float_between(0.0, 100.0),
        "largest relative change of a mart's row count since the previous validated run",
    ),
    Setting(
        "validation_label_rate_min",
        "0.001",
        _float_between(0.0, 1.0),
        "lowest share of positive labels the training data may have",
    ),
    Setting(
        "validation_label_rate_max",
        "0.5",
        _float_between(0.0, 1.0),
        "highest share of positive labels the training data may have",
    ),
    Setting(
        "validation_srm_p",
        "0.001",
        _float_between(1e-12, 0.5),
        "a running experiment whose sample-ratio-mismatch p-value is below this fails validation",
    ),
    Setting(
        "validation_psi_warn",
        "0.1",
        _float_between(0.0, 10.0),
        "a feature or score of the champion whose PSI on the latest snapshot reaches this is "
        "reported as drifting",
    ),
    Setting(
        "validation_psi_block",
        "0.25",
        _float_between(0.0, 10.0),
        "a feature or score of the champion whose PSI on the latest snapshot reaches this fails "
        "validation: nothing retrains on the build until a person looks",
    ),
    Setting(
        "time_zone",
        "Europe/Berlin",
        _time_zone,
        "IANA time zone in which reporting days, ISO weeks and months begin",
    ),
    Setting(
        "landing_dir",
        ".local/landing",
        _path,
        "folder standing in for the landing bucket locally: <table>/<file> (ingest_landing)",
    ),
    Setting(
        "retrain_min_interval_hours",
        "24",
        _float_between(0.0, 24 * 365),
        "a build started by ingestion retrains only a model older than this (0: always)",
    ),
)

_KNOWN = {s.env_var for s in SETTINGS}


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.env_var)
        if raw is None or raw == "":
            raw = setting.default
        if raw is None:
            values[setting.name] = None
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            problems.append(setting.problem(raw, str(exc)))

    problems += [
        f"{name}: unknown setting (known: see common/config.py SETTINGS)"
        for name in sorted(env)
        if name.startswith(PREFIX) and name not in _KNOWN
    ]
    if values.get("warehouse") == "bigquery" and not values.get("bq_project"):
        problems.append(f"{PREFIX}BQ_PROJECT: required when {PREFIX}WAREHOUSE=bigquery")
    if values.get("artifacts") == "gcs" and not values.get("bucket"):
        problems.append(f"{PREFIX}BUCKET: required when {PREFIX}ARTIFACTS=gcs")
    if values.get("events") == "pubsub" and values.get("pubsub_project") == "local":
        problems.append(f"{PREFIX}PUBSUB_PROJECT: required when {PREFIX}EVENTS=pubsub")
    low, high = values.get("validation_label_rate_min"), values.get("validation_label_rate_max")
    if low is not None and high is not None and low >= high:
        problems.append(
            f"{PREFIX}VALIDATION_LABEL_RATE_MIN: must be below {PREFIX}VALIDATION_LABEL_RATE_MAX"
        )
    if problems:
        raise ConfigError(problems)
    return Config(**values)


def load_config_or_exit(environ: Mapping[str, str] | None = None) -> Config:
    """For command-line entry points: the configuration, or one line per bad variable on stderr
    (no traceback) and exit status 2."""
    try:
        return load_config(environ)
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None
