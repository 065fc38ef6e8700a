"""The input rules: what each accepts, and that everything else is an InvalidInput naming the
field (never a crash that would become a 500)."""

from datetime import UTC, date, datetime

import pytest

from common import validation
from common.artifacts.base import check_key
from common.pipeline.ledger import BUILD, run_key
from common.validation import InvalidInput

HUGE = 10**400  # a valid JSON integer that no float holds


def refused(rule, *args) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        rule(*args)
    return caught.value


def test_invalid_input_names_field_and_rule():
    error = InvalidInput("options.alpha", "must be strictly between 0 and 1")
    assert (error.field, error.message) == ("options.alpha", "must be strictly between 0 and 1")
    assert str(error) == "options.alpha: must be strictly between 0 and 1"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("value", [0, -3, 2.5, 1e308])
def test_number_accepts_finite_json_numbers(value):
    assert validation.number(value, "x") == float(value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (True, "must be a number"),
        ("3", "must be a number"),
        (None, "must be a number"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (HUGE, "finite"),
        (-HUGE, "finite"),
    ],
)
def test_number_refuses_what_is_not_a_finite_number(value, words):
    error = refused(validation.number, value, "x")
    assert error.field == "x" and words in error.message


def test_is_number_holds_for_finite_numbers_only():
    assert validation.is_number(3) and validation.is_number(-0.5)
    assert not any(map(validation.is_number, [True, "1", None, float("nan"), HUGE]))


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (validation.count, [0, 7, 3.0, 2**53, 2.0**53], [-1, 1.5, True, HUGE, 2**53 + 1, 1e16]),
        (validation.probability, [0.05, 0.999], [0, 1, -0.1, "0.5", HUGE]),
        (validation.positive, [1e-9, 4], [0, -2, None, HUGE]),
    ],
)
def test_number_rules(rule, good, bad):
    for value in good:
        assert rule(value, "f") == value
    for value in bad:
        assert refused(rule, value, "f").field == "f"


def test_boolean_and_choice():
    assert validation.boolean(False, "b") is False
    assert refused(validation.boolean, 0, "b").field == "b"
    assert validation.choice("csv", "format", ("json", "csv")) == "csv"
    error = refused(validation.choice, "xml", "format", ("json", "csv"))
    assert error.message == "must be one of json, csv"
    assert refused(validation.choice, ["csv"], "format", ("json", "csv")).field == "format"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("20", 20), ("1", 1), ("0200", 200), (200, 200), ("-0", 0)],
)
def test_whole_number_from_text_or_json(value, expected):
    assert validation.whole_number(value, "limit", 0, 200) == expected


@pytest.mark.parametrize(
    "value",
    [
        "²",  # str.isdigit() says yes, int() raises
        "①",
        "٣",  # int() would read an Arabic-Indic 3
        "\uff13",  # a fullwidth 3
        " 5",
        "5 ",
        "+5",
        "1e2",
        "5.0",
        "",
        "9" * 40,
        "201",
        "-1",
        201,
        HUGE,
        -HUGE,
        5.0,
        True,
        None,
    ],
)
def test_whole_number_refuses_everything_else(value):
    error = refused(validation.whole_number, value, "limit", 0, 200)
    assert (error.field, error.message) == ("limit", "must be a whole number from 0 to 200")


@pytest.mark.parametrize(
    ("value", "expected"), [("Ada", "Ada"), ("  checkout one click ", "checkout one click")]
)
def test_name_is_stripped(value, expected):
    assert validation.name(value, "name") == expected


@pytest.mark.parametrize("value", ["", "   ", "x" * 101, "tab\there", "nul\x00", 7, None])
def test_name_refuses(value):
    assert refused(validation.name, value, "name").field == "name"


def test_reason_is_short_free_text():
    assert validation.reason("") == ""
    assert validation.reason("x" * 200) == "x" * 200
    assert refused(validation.reason, "x" * 201).field == "reason"
    assert refused(validation.reason, ["why"]).field == "reason"


@pytest.mark.parametrize("value", ["checkout_one_click", "a-b", "A" * 64])
def test_identifier_accepts(value):
    assert validation.identifier(value, "experiment_id") == value


@pytest.mark.parametrize("value", ["", "A" * 65, "a b", "../x", "é", 5])
def test_identifier_refuses(value):
    assert refused(validation.identifier, value, "experiment_id").field == "experiment_id"


def test_known_fields_names_the_first_unknown_field_sorted():
    assert validation.known_fields({"a": 1}, "options", ("a", "b")) == {"a": 1}
    error = refused(validation.known_fields, {"zeta": 1, "alpha": 2}, "options", ("a",))
    assert (error.field, error.message) == ("options.alpha", "unknown field (known: a)")
    assert (
        refused(validation.known_fields, {"x": 1}, "", ()).message == "unknown field (known: none)"
    )
    assert refused(validation.known_fields, [1], "", ("a",)).field == "body"
    assert refused(validation.known_fields, "x", "options", ("a",)).field == "options"


def test_iso_date():
    assert validation.iso_date("2026-01-05", "start") == date(2026, 1, 5)
    assert "calendar date" in refused(validation.iso_date, "2024-02-30", "start").message
    for value in ("\uff12\uff10\uff12\uff16-01-05", "2026-1-5", "20260105", 20260105, None):
        assert refused(validation.iso_date, value, "start").field == "start"


def test_iso_time_needs_a_time_zone_and_returns_utc():
    at = validation.iso_time("2026-11-23T06:00:00+01:00", "at")
    assert at == datetime(2026, 11, 23, 5, tzinfo=UTC) and at.tzinfo is UTC
    for value in ("2026-11-23T05:00:00", "2026-11-23", "soon", "2026-11-23T05:00:00Z" + " " * 50):
        assert refused(validation.iso_time, value, "at").field == "at"


def _store_accepts_as_one_segment(run_id: str) -> bool:
    key = run_key(run_id, BUILD)
    try:
        check_key(key)
    except ValueError:
        return False
    return key.count("/") == 2  # runs/<run_id>/build.json


@pytest.mark.parametrize(
    "value",
    [
        "20261123T050000Z-build",
        "20261123T050000Z-retrain-a1b2c3d4",
        "_x",
        "run=1",
        "v1.2",
        "x" * 128,
        "-1",
        "=x",
        ".hidden",
        "a..b",
        "a/b",
        "bad$id",
        "é",
        "",
    ],
)
def test_a_run_id_is_valid_exactly_when_the_artifact_store_accepts_it(value):
    assert validation.is_run_id(value) == _store_accepts_as_one_segment(value)


def test_run_id_rule():
    assert validation.run_id("20261123T050000Z-build") == "20261123T050000Z-build"
    for value in ("-1", "x" * 129, "a..b", None):
        error = refused(validation.run_id, value)
        assert (error.field, error.message) == ("run_id", validation.RUN_ID_RULE)
