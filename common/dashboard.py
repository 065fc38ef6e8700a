"""The dashboard at ``/``: the web app that ``./dev`` builds from ``web/`` into ``web/dist``
(Vite; see web/package.json), served by the portal from that folder, which the deployed package
carries too (``package_include`` in functions/portal/function.yaml).

``/`` is the dashboard for a browser and the JSON root for an API client: the page only when
``Accept`` prefers ``text/html`` to ``application/json`` (``*/*`` alone, or no ``Accept``, keeps
the JSON). Its scripts and style are served under ``/app/<name>`` from an allow-list: the files
the build's manifest names, whose names carry a content hash and may be cached for a year, and
the icon (web/public, copied as it is). The page is revalidated on every load, so a new build
is seen at once.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import flask

from common.errors import NotFound, Unavailable
from common.openapi.reference import Document

APP_PATH = "/app"
# The same place in the repository and in the deployed package (common/ sits next to web/).
BUILD_DIR = Path(__file__).resolve().parents[1] / "web" / "dist"
PAGE_CACHE = "no-cache"
HASHED_CACHE = "public, max-age=31536000, immutable"
UNHASHED = ("favicon.svg",)  # web/public: same name in every build
UNHASHED_CACHE = "public, max-age=86400"
# Only this origin: no CDN, no inline script (Chart.js sets inline styles on its canvas).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_JSON = "application/json"
_HTML = "text/html"


def wants_page(request: flask.Request) -> bool:
    """Whether ``Accept`` ranks HTML above JSON (ties, ``*/*`` alone included, go to JSON)."""
    accept = request.accept_mimetypes
    return accept.quality(_HTML) > accept.quality(_JSON)


def _not_built() -> Unavailable:
    return Unavailable(
        "the dashboard is not built: ./dev builds it from web/ (needs Node.js and npm)",
        field="path",
    )


@functools.cache
def hashed_assets() -> frozenset[str]:
    """The files the build's manifest names: the scripts and style, hashed."""
    manifest = BUILD_DIR / ".vite" / "manifest.json"
    if not manifest.is_file():
        raise _not_built()
    names: set[str] = set()
    for chunk in json.loads(manifest.read_text()).values():
        names.update([chunk["file"], *chunk.get("css", ())])
    return frozenset(names)


@functools.cache
def page() -> Document:
    index = BUILD_DIR / "index.html"
    if not index.is_file():
        raise _not_built()
    return Document(index.read_bytes(), "text/html; charset=utf-8")


@dataclass(frozen=True)
class Asset:
    document: Document
    cache_control: str


@functools.cache
def asset(name: str) -> Asset:
    """One built file, read once per instance; a name neither built nor the icon is a 404."""
    if name in UNHASHED:
        cache_control = UNHASHED_CACHE
    elif name in hashed_assets():
        cache_control = HASHED_CACHE
    else:
        raise NotFound(f"no such file of the dashboard: {name}", field="path")
    body = (BUILD_DIR / name).read_bytes()
    return Asset(Document(body, ASSET_TYPES[Path(name).suffix]), cache_control)
