import json
import logging

from common.logs import (
    CloudLoggingFormatter,
    parse_trace_header,
    reset_trace,
    set_trace,
)


def record(message="hello %s", args=("world",), level=logging.WARNING, **extra):
    rec = logging.LogRecord("execkpi.test", level, __file__, 12, message, args, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_entries_are_cloud_logging_json():
    formatter = CloudLoggingFormatter("kpi", project="shop-prod-1")
    token = set_trace("abc123", "span9")
    try:
        line = formatter.format(record(fields={"rows": 3}, labels={"kpi": "revenue"}))
    finally:
        reset_trace(token)
    entry = json.loads(line)
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "hello world"
    assert entry["logging.googleapis.com/trace"] == "projects/shop-prod-1/traces/abc123"
    assert entry["logging.googleapis.com/spanId"] == "span9"
    assert entry["logging.googleapis.com/labels"] == {"component": "kpi", "kpi": "revenue"}
    assert entry["rows"] == 3
    assert entry["logging.googleapis.com/sourceLocation"]["line"] == 12


def test_exceptions_carry_their_stack_trace_in_the_message():
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        import sys

        rec = record("failed", (), logging.ERROR)
        rec.exc_info = sys.exc_info()
    entry = json.loads(CloudLoggingFormatter("kpi").format(rec))
    assert entry["severity"] == "ERROR"
    assert "ZeroDivisionError" in entry["message"] and "Traceback" in entry["message"]
    assert "logging.googleapis.com/trace" not in entry


def test_trace_headers():
    assert parse_trace_header("105445aa7843bc8bf206b12000100000/1;o=1", None) == (
        "105445aa7843bc8bf206b12000100000",
        "1",
    )
    assert parse_trace_header(None, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    assert parse_trace_header("<script>/x", "garbage") == ("", None)
