"""The kinds of error a client must hear about, for code below the functions to raise.

Each kind becomes one HTTP status in ``common.http`` (one table), so no function maps errors by
hand. An error carries a ``message`` safe to show the client, the request ``field`` it is about
(or None) and, where a kind's default is too vague, its own ``code``: a subclass sets either as
a class attribute, or a raise passes ``field=``. An error about a name that does not exist may
list the names that do (``known=``), so the client can correct itself without another request.

Bad client input (400) is ``common.validation.InvalidInput``, next to the rules that raise it.
"""

from __future__ import annotations


class DomainError(Exception):
    code: str | None = None  # None: the kind's default code
    field: str | None = None
    known: tuple[str, ...] | None = None  # the valid names, when the error is about a name

    def __init__(
        self, message: str, *, field: str | None = None, known: tuple[str, ...] | None = None
    ):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if known is not None:
            self.known = known


class NotFound(DomainError):
    """What the request names does not exist (404)."""


class Conflict(DomainError):
    """Other work holds what the request needs; it may succeed once that work is done (409)."""


class Unprocessable(DomainError):
    """A well-formed request this service refuses to carry out (422)."""


class Unavailable(DomainError):
    """A dependency is down or busy; the same request may succeed later (503)."""


class UpstreamError(DomainError):
    """A dependency refused the work; the same request will fail again (502)."""
