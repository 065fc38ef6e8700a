from pathlib import Path

import pytest

from common.config import SETTINGS, ConfigError, load_config, load_config_or_exit


def test_defaults_are_the_embedded_local_stack():
    config = load_config({})
    assert (config.warehouse, config.artifacts, config.events) == ("duckdb", "local", "local")
    assert config.duckdb_path == Path(".local/warehouse.duckdb")
    assert config.bq_location == "EU"
    assert config.bq_max_bytes_billed == 10 * 1024**3
    assert config.api_keys == frozenset()
    assert config.cors_origins == ()


def test_production_settings_are_parsed():
    config = load_config(
        {
            "EXECKPI_WAREHOUSE": "BigQuery",
            "EXECKPI_BQ_PROJECT": "shop-analytics-prod",
            "EXECKPI_BQ_LOCATION": "europe-west3",
            "EXECKPI_BQ_MAX_BYTES_BILLED": "5_000_000_000",
            "EXECKPI_ARTIFACTS": "gcs",
            "EXECKPI_BUCKET": "shop-execkpi-artifacts",
            "EXECKPI_EVENTS": "pubsub",
            "EXECKPI_PUBSUB_PROJECT": "shop-analytics-prod",
            "EXECKPI_CORS_ORIGINS": "https://bi.example.com, http://localhost:5173",
            "EXECKPI_API_KEYS": "0123456789abcdef,fedcba9876543210",
        }
    )
    assert config.warehouse == "bigquery"
    assert config.bq_max_bytes_billed == 5_000_000_000
    assert config.cors_origins == ("https://bi.example.com", "http://localhost:5173")
    assert len(config.api_keys) == 2
    assert config.gcp_project == "shop-analytics-prod"


def test_every_bad_variable_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        load_config(
            {
                "EXECKPI_WAREHOUSE": "snowflake",
                "EXECKPI_BQ_MAX_BYTES_BILLED": "lots",
                "EXECKPI_CORS_ORIGINS": "bi.example.com",
                "EXECKPI_API_KEYS": "short",
                "EXECKPI_LOG_LEVEL": "loud",
                "EXECKPI_WAREHOSE": "duckdb",
            }
        )
    problems = error.value.problems
    assert len(problems) == 6
    text = str(error.value)
    assert "short" not in text  # a secret's value is never shown
    for expected in (
        "EXECKPI_WAREHOUSE='snowflake': must be one of duckdb, bigquery",
        "EXECKPI_BQ_MAX_BYTES_BILLED='lots': must be a whole number",
        "EXECKPI_CORS_ORIGINS='bi.example.com'",
        "EXECKPI_API_KEYS: every key must be at least 16 characters long",
        "EXECKPI_LOG_LEVEL='loud'",
        "EXECKPI_WAREHOSE: unknown setting",
    ):
        assert expected in text


def test_secrets_are_not_echoed_in_errors_or_repr():
    config = load_config({"EXECKPI_API_KEYS": "a-very-secret-key-123"})
    assert "a-very-secret-key-123" not in repr(config)


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({"EXECKPI_WAREHOUSE": "bigquery"}, "EXECKPI_BQ_PROJECT: required"),
        ({"EXECKPI_ARTIFACTS": "gcs"}, "EXECKPI_BUCKET: required"),
        ({"EXECKPI_EVENTS": "pubsub"}, "EXECKPI_PUBSUB_PROJECT: required"),
    ],
)
def test_production_back_ends_need_their_project_or_bucket(settings, missing):
    with pytest.raises(ConfigError, match=missing):
        load_config(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EXECKPI_BQ_PROJECT", "Bad_Project"),
        ("EXECKPI_BQ_DATASET", "marts; drop"),
        ("EXECKPI_BUCKET", "UPPER"),
        ("EXECKPI_BQ_MAX_BYTES_BILLED", "0"),
        ("EXECKPI_MAX_REQUEST_BYTES", "-1"),
        ("EXECKPI_LOCAL_BUS_URL", "ftp://bus"),
        ("EXECKPI_TOPIC_PREFIX", "1bad"),
        ("EXECKPI_EVENT_MAX_AGE_SECONDS", "10"),
        ("EXECKPI_RETRAIN_MIN_INTERVAL_HOURS", "-1"),
        ("EXECKPI_RETRAIN_MIN_INTERVAL_HOURS", "nan"),
        ("EXECKPI_RETRAIN_MIN_INTERVAL_HOURS", "a day"),
    ],
)
def test_out_of_range_values_name_the_variable(name, value):
    with pytest.raises(ConfigError) as error:
        load_config({name: value})
    assert error.value.problems[0].startswith(f"{name}=")


def test_empty_value_means_default():
    assert load_config({"EXECKPI_WAREHOUSE": ""}).warehouse == "duckdb"


def test_every_setting_default_is_valid():
    config = load_config({})
    assert {s.name for s in SETTINGS} == set(config.__dataclass_fields__)


def test_config_is_immutable():
    config = load_config({})
    with pytest.raises(AttributeError):
        config.warehouse = "bigquery"


def test_a_secret_value_never_appears_in_an_error():
    with pytest.raises(ConfigError) as error:
        load_config({"EXECKPI_API_KEYS": "short-secret", "EXECKPI_LOG_LEVEL": "loud"})
    assert "short-secret" not in str(error.value)
    assert error.value.problems == [
        "EXECKPI_API_KEYS: every key must be at least 16 characters long",
        "EXECKPI_LOG_LEVEL='loud': must be one of debug, info, warning, error",
    ]


def test_entry_points_print_one_line_per_bad_variable_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        load_config_or_exit({"EXECKPI_API_KEYS": "short-secret", "EXECKPI_WAREHOSE": "duckdb"})
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "invalid configuration:",
        "  - EXECKPI_API_KEYS: every key must be at least 16 characters long",
        "  - EXECKPI_WAREHOSE: unknown setting (known: see common/config.py SETTINGS)",
    ]
    assert load_config_or_exit({}) == load_config({})


def test_the_reporting_time_zone_is_berlin_unless_set_to_another_iana_zone():
    assert load_config({}).time_zone == "Europe/Berlin"
    assert load_config({"EXECKPI_TIME_ZONE": " America/New_York "}).time_zone == "America/New_York"
    for bad in ("CEST", "Europe/Atlantis", "../Europe/Berlin", "Europe/Berlin'; drop"):
        with pytest.raises(ConfigError) as error:
            load_config({"EXECKPI_TIME_ZONE": bad})
        assert error.value.problems == [
            f"EXECKPI_TIME_ZONE={bad!r}: must be an IANA time zone name such as "
            "Europe/Berlin or UTC"
        ]


def test_ingest_builds_retrain_a_model_older_than_a_day_unless_set():
    assert load_config({}).retrain_min_interval_hours == 24
    assert (
        load_config({"EXECKPI_RETRAIN_MIN_INTERVAL_HOURS": "0.5"}).retrain_min_interval_hours == 0.5
    )
