"""A self-contained snapshot of the dashboard: one HTML file that opens from ``file://`` with no
network. The built script and style (web/dist, named by Vite's manifest) are inlined, the
script as an inline module (a module script from a file:// URL would be refused as
cross-origin); the answers of every view's default requests, read through the gateway, are
embedded as one JSON element mapping each request's key, as web/src/api.js makes it (a GET's
URL, a POST's method, path and canonical body), to its status and body: the views' first
GETs, then what their answers lead to (each listed experiment's results page with its default
analysis and breakdown, the most important feature's SHAP dependence). api.js answers from
there and refuses anything else, downloads included.

    python -m scripts.local.snapshot --gateway http://127.0.0.1:8080 [--out PATH]
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests

from common.dashboard import BUILD_DIR
from common.http import API_KEY_HEADER
from scripts.deploy.catalog import REPO_ROOT

SNAPSHOT_PATH = REPO_ROOT / ".local" / "snapshot" / "dashboard.html"
DATA_ELEMENT = "execkpi-snapshot"  # web/src/api.js SNAPSHOT_ELEMENT
ICON = "favicon.svg"
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Get:
    """One GET as a view sends it: the parameters in the view's order, as JS spells them."""

    path: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        """The key api.js's apiUrl makes: URLSearchParams encodes as urlencode does."""
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path

    key = url


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the JSON answer, an error's included


def canonical_json(value: Any) -> str:
    """api.js canonicalJson: keys sorted, no spaces (the same text as JSON.stringify writes for
    the strings, booleans and integers of a default body)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Post:
    """One POST of a JSON body, as a view sends it on opening."""

    path: str
    body: dict[str, Any]

    @property
    def key(self) -> str:
        """api.js snapshotPostKey."""
        return f"POST {self.path} {canonical_json(self.body)}"


Request = Get | Post


def path_part(text: str) -> str:
    """encodeURIComponent: what the views put between the slashes of a path."""
    return quote(text, safe="!*'()")


# Every view's first GETs (web/src/views; a parameter left empty is not sent), and the other
# choices of the pickers that need no typing: the grains and the partial months.
REQUESTS = (
    *(Get("/kpi/revenue", (("grain", g),)) for g in ("week", "day", "month")),
    Get("/kpi/funnel"),
    *(Get("/kpi/retention", (("grain", g),)) for g in ("week", "month")),
    *(Get("/kpi/mom_growth", (("include_partial", p),)) for p in ("false", "true")),
    Get("/kpi/customer_ltv"),
    Get("/kpi/rfm_segments"),
    Get("/kpi/channel_performance"),
    Get("/ab/experiments"),
    *(Get("/ab/experiments", (("status", s),)) for s in ("planned", "running", "finished")),
    Get("/pipeline/runs", (("limit", "20"),)),
    Get("/ml/latest"),
    Get("/ml/models", (("limit", "20"),)),
    Get("/ml/shap"),
    Get("/ml/curves"),
    Get("/reports"),
    Get("/kpi"),  # the results pages' currency
)


# The page's languages' locales (web/src/i18n.js LANGUAGES): the analysis is asked in each.
PAGE_LOCALES = ("en-US", "de-DE")


def analysis_body(experiment_id: str, locale: str = "en-US") -> dict[str, Any]:
    """The results page's first POST /ab/analyze (web/src/views/ExperimentResults.jsx,
    DEFAULT_OPTIONS through requestOptions, in the page's locale)."""
    options = {"scale": "relative", "sequential": False, "bayesian": {"model": "gaussian"}}
    return {"experiment_id": experiment_id, "locale": locale, "options": options}


def breakdown_body(experiment_id: str) -> dict[str, Any]:
    """The results page's first POST /ab/breakdown (web/src/views/Breakdown.jsx: the first
    dimension, the page's options without the Bayesian read-out)."""
    options = {"scale": "relative", "sequential": False, "bayesian": False}
    return {"experiment_id": experiment_id, "dimension": "browser", "options": options}


def experiment_requests(experiment_id: str, status: str) -> tuple[Request, ...]:
    """What an experiment's results page asks on opening, GET /kpi apart: a planned one shows
    its definition only."""
    path = f"/ab/experiments/{path_part(experiment_id)}"
    if status == "planned":
        return (Get(path),)
    return (
        Get(path),
        Get(f"{path}/timeline", (("scale", "relative"),)),
        *(Post("/ab/analyze", analysis_body(experiment_id, locale)) for locale in PAGE_LOCALES),
        Post("/ab/breakdown", breakdown_body(experiment_id)),
    )


def follow_ups(answers: dict[str, Answer]) -> tuple[Request, ...]:
    """The requests the first answers lead to: each listed experiment's results page, and the
    Model view's dependence plot of its default feature (the first of GET /ml/shap)."""
    listed = answers["/ab/experiments"]
    experiments = listed.body["experiments"] if listed.status == 200 else []
    shap = answers["/ml/shap"]
    importances = shap.body["importances"] if shap.status == 200 else []
    dependence = importances[:1]  # other features say "not in this snapshot"
    return (
        *(r for e in experiments for r in experiment_requests(e["experiment_id"], e["status"])),
        *(Get(f"/ml/shap/dependence/{path_part(i['feature'])}") for i in dependence),
    )


@dataclass(frozen=True)
class Build:
    script: str
    styles: tuple[str, ...]
    icon: bytes | None


class SnapshotError(RuntimeError):
    pass


def read_build(dist: Path = BUILD_DIR) -> Build:
    """The entry's script and style. One script only: a chunk it imported would be another
    file, which a page opened from file:// may not load."""
    manifest = dist / ".vite" / "manifest.json"
    if not manifest.is_file():
        raise SnapshotError(f"the dashboard is not built ({manifest} missing): run ./dev")
    entries = [c for c in json.loads(manifest.read_text()).values() if c.get("isEntry")]
    if len(entries) != 1 or entries[0].get("imports") or entries[0].get("dynamicImports"):
        raise SnapshotError("the snapshot inlines one script; the build made several chunks")
    entry = entries[0]
    icon = dist / ICON
    return Build(
        script=(dist / entry["file"]).read_text(encoding="utf-8"),
        styles=tuple((dist / css).read_text(encoding="utf-8") for css in entry.get("css", ())),
        icon=icon.read_bytes() if icon.is_file() else None,
    )


def fetch_answers(gateway: str, api_key: str | None = None) -> dict[str, Answer]:
    """Each request's answer, the first ones' and their follow-ups'; an error answer (a 404
    before any champion) is kept as the page would have shown it, a non-JSON one stops the
    snapshot."""
    headers = {"Accept": "application/json", **({API_KEY_HEADER: api_key} if api_key else {})}
    answers: dict[str, Answer] = {}
    with requests.Session() as session:

        def ask(request: Request) -> None:
            if isinstance(request, Post):
                response = session.post(
                    gateway + request.path,
                    json=request.body,
                    headers=headers,
                    timeout=TIMEOUT_SECONDS,
                )
            else:
                response = session.get(
                    gateway + request.url, headers=headers, timeout=TIMEOUT_SECONDS
                )
            if "json" not in response.headers.get("Content-Type", ""):
                raise SnapshotError(f"{request.key}: {response.status_code}, not JSON")
            answers[request.key] = Answer(response.status_code, response.json())

        for request in REQUESTS:
            ask(request)
        for request in follow_ups(answers):
            ask(request)
    return answers


def _inline_script(code: str) -> str:
    """Code safe inside <script>: no end tag the HTML parser would see (``<\\/`` means the same
    in JS strings, templates and regular expressions). A comment opener could make the parser
    skip the closing tag, and has no equally safe spelling: refused, not rewritten."""
    if "<!--" in code:
        raise SnapshotError("the script contains <!-- and cannot be inlined safely")
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


def _inline_json(value: Any) -> str:
    # \u003c: no "<" at all, so nothing in the data can end or confuse the element.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def render(build: Build, answers: dict[str, Answer], taken: datetime) -> str:
    for css in build.styles:
        if re.search(r"</style", css, flags=re.IGNORECASE):
            raise SnapshotError("the style sheet contains </style and cannot be inlined")
    data = {
        "taken": taken.isoformat(),
        "answers": {key: {"status": a.status, "body": a.body} for key, a in answers.items()},
    }
    icon = ""
    if build.icon is not None:
        encoded = base64.b64encode(build.icon).decode()
        icon = f'<link rel="icon" type="image/svg+xml" href="data:image/svg+xml;base64,{encoded}">'
    styles = "".join(f"<style>{css}</style>" for css in build.styles)
    title = html.escape(f"ExecKPI snapshot, {taken:%Y-%m-%d %H:%M} UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n{icon}\n{styles}\n"
        f'<script type="application/json" id="{DATA_ELEMENT}">{_inline_json(data)}</script>\n'
        '</head>\n<body>\n<div id="app"></div>\n'
        f'<script type="module">{_inline_script(build.script)}</script>\n</body>\n</html>\n'
    )


def write_snapshot(
    gateway: str,
    target: Path = SNAPSHOT_PATH,
    api_key: str | None = None,
    dist: Path = BUILD_DIR,
) -> Path:
    build = read_build(dist)
    page = render(build, fetch_answers(gateway, api_key), datetime.now(UTC))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--out", type=Path, default=SNAPSHOT_PATH)
    parser.add_argument("--api-key", default=None, help="sent as X-API-Key when given")
    args = parser.parse_args(argv)
    print(write_snapshot(args.gateway.rstrip("/"), args.out, args.api_key))


if __name__ == "__main__":
    main()
