"""Structured logs in Cloud Logging's JSON format.

Cloud Functions (and Cloud Run) turn each JSON line on stdout into a log entry: ``severity``
becomes the entry's severity, ``logging.googleapis.com/trace`` ties it to the request's trace,
``logging.googleapis.com/labels`` become labels and every other key lands in ``jsonPayload``.
Locally the same lines are readable enough and trivially grep-able.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime

_trace: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "execkpi_trace", default=None
)

_SEVERITY = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "INFO": "INFO"}


def set_trace(trace_id: str | None, span_id: str | None = None) -> contextvars.Token:
    """Attach a trace to every log line written in the current request (or event)."""
    return _trace.set((trace_id, span_id) if trace_id else None)


def reset_trace(token: contextvars.Token) -> None:
    _trace.reset(token)


def parse_trace_header(cloud_trace: str | None, traceparent: str | None) -> tuple[str, str | None]:
    """Trace and span ids from ``X-Cloud-Trace-Context`` (``TRACE/SPAN;o=1``) or W3C
    ``traceparent`` (``00-TRACE-SPAN-01``); empty strings when neither is usable."""
    if cloud_trace:
        trace, _, rest = cloud_trace.partition("/")
        span = rest.split(";", 1)[0] or None
        if trace.isalnum():
            return trace, span
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) == 4 and parts[1].isalnum():
            return parts[1], parts[2]
    return "", None


class CloudLoggingFormatter(logging.Formatter):
    """Formats a record as one JSON line that Cloud Logging understands."""

    def __init__(self, component: str, project: str | None = None):
        super().__init__()
        self.component = component
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            # Error Reporting picks a stack trace up from the message text.
            message += "\n" + "".join(traceback.format_exception(*record.exc_info))
        entry: dict[str, object] = {
            "severity": _SEVERITY.get(record.levelname, "DEBUG"),
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            "logging.googleapis.com/labels": {
                "component": self.component,
                **getattr(record, "labels", {}),
            },
            "logging.googleapis.com/sourceLocation": {
                "file": record.pathname,
                "line": record.lineno,
                "function": record.funcName,
            },
        }
        trace = _trace.get()
        if trace:
            trace_id, span_id = trace
            entry["logging.googleapis.com/trace"] = (
                f"projects/{self.project}/traces/{trace_id}" if self.project else trace_id
            )
            if span_id:
                entry["logging.googleapis.com/spanId"] = span_id
        # Anything passed as extra={"fields": {...}} lands in jsonPayload.
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, default=str)


def setup_logging(component: str, level: str = "info", project: str | None = None) -> None:
    """Route the root logger to stdout as Cloud Logging JSON (idempotent)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(component, project))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
