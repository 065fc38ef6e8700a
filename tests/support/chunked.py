"""A chunked request body as the real server hands it to a function, for Flask test clients.

gunicorn decodes ``Transfer-Encoding: chunked`` itself and gives the application a stream with
no Content-Length, flagged ``wsgi.input_terminated``; the test client sends exactly that with
these arguments.
"""

from __future__ import annotations

import io
from typing import Any


def chunked(body: bytes) -> dict[str, Any]:
    """Test-client keyword arguments posting ``body`` as a chunked JSON body."""
    return {
        "input_stream": io.BytesIO(body),
        "content_type": "application/json",
        "headers": {"Transfer-Encoding": "chunked"},
        "environ_overrides": {"wsgi.input_terminated": True},
    }
