"""The portal through the gateway: the front page (JSON to API clients, the dashboard to
browsers), the description and the API reference, served from the installed Swagger UI and the
dashboard's build (never a CDN); and its cold start, which loads neither yaml nor the bundle
before a request needs them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
import requests

from common import dashboard, openapi
from common.openapi.reference import ASSET_TYPES
from scripts.deploy.catalog import REPO_ROOT
from tests.support.api import clean_env, error_of


def test_front_page_names_the_service_and_where_the_docs_are(gateway) -> None:
    response = requests.get(f"{gateway}/", timeout=30)
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "service": "exec-kpi-backend",
        "project": None,  # no BigQuery project locally
        "dataset": "execkpi_marts",
        "docs": "/docs",
        "openapi": "/openapi.json",
    }


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "application/json, text/html",
        "text/html;q=0.5, application/json",
    ],
)
def test_an_api_client_gets_the_json_root(gateway, accept: str | None) -> None:
    """Without a preference for HTML (no Accept, */*, a tie) the root stays the API's."""
    headers = {"Accept": accept} if accept else {}
    session = requests.Session()
    session.headers.pop("Accept")  # requests would otherwise send */*
    response = session.get(f"{gateway}/", headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["service"] == "exec-kpi-backend"
    assert "Accept" in response.headers["Vary"]


@pytest.fixture(scope="module")
def dashboard_page(gateway) -> requests.Response:
    if not (dashboard.BUILD_DIR / "index.html").is_file():
        pytest.fail(f"the dashboard is not built in {dashboard.BUILD_DIR}: ./dev test builds it")
    return requests.get(f"{gateway}/", headers={"Accept": BROWSER_ACCEPT}, timeout=30)


def test_a_browser_gets_the_dashboard_page_revalidated_on_every_load(dashboard_page) -> None:
    response = dashboard_page
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Accept" in response.headers["Vary"]
    assert '<div id="app">' in response.text


def test_the_dashboard_loads_only_its_own_files_cached_by_their_hash(
    gateway, dashboard_page
) -> None:
    loaded = re.findall(r'(?:src|href)="([^"]+)"', dashboard_page.text)
    assert "://" not in dashboard_page.text  # no absolute URL, so no CDN
    assert {url.rsplit(".", 1)[-1] for url in loaded} == {"js", "css", "svg"}, loaded
    for url in loaded:
        assert url.startswith("/app/"), url
        asset = requests.get(gateway + url, timeout=30)
        assert asset.status_code == 200, url
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
        name = url.removeprefix("/app/")
        kind = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
        assert asset.headers["Content-Type"].startswith(kind[name.rsplit(".", 1)[1]]), url
        if name == "favicon.svg":  # the same name in every build: a day
            assert asset.headers["Cache-Control"] == "public, max-age=86400"
        else:  # a hash in the name (index-<hash>.js): a year, never revalidated
            assert re.fullmatch(r"index-[A-Za-z0-9_-]{8}\.(js|css)", name), name
            assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_openapi_json_is_the_merged_description(gateway) -> None:
    response = requests.get(f"{gateway}/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads(json.dumps(openapi.description()))


def test_docs_page_loads_swagger_ui_from_this_origin_only(gateway) -> None:
    page = requests.get(f"{gateway}/docs", timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded and all(url.startswith("/docs/") for url in loaded), loaded
    assert 'url: "/openapi.json"' in page.text
    assert "://" not in page.text  # no absolute URL, so no CDN
    for url in loaded:
        asset = requests.get(gateway + url, timeout=30)
        assert asset.status_code == 200, url
        assert asset.headers["Content-Type"] == ASSET_TYPES[url.removeprefix("/docs/")]
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
    bundle = requests.get(f"{gateway}/docs/swagger-ui-bundle.js", timeout=30)
    assert b"SwaggerUIBundle" in bundle.content


@pytest.mark.parametrize(
    "path",
    [
        "/docs/index.html",
        "/docs/swagger-ui.js.map",
        "/docs/..%2Fmain.py",
        "/docs/a/b",
        "/nope",
        "/app/index.html",  # the page is /, the folder holds only what the build lists
        "/app/.vite",
        "/app/..%2F..%2Fcommon%2Fdashboard.py",
        "/app/index.js",
    ],
)
def test_anything_else_is_the_json_404(gateway, path: str) -> None:
    response = requests.get(gateway + path, timeout=30)
    assert response.status_code == 404
    assert error_of(response)["field"] == "path"


def test_cold_start_loads_neither_yaml_nor_the_bundle() -> None:
    code = textwrap.dedent(
        """
        import sys
        from functions_framework import create_app
        client = create_app("portal", "functions/portal/main.py", "http").test_client()
        assert client.get("/").status_code == 200
        print(sorted({"yaml", "swagger_ui_bundle"} & set(sys.modules)))
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs/swagger-ui.css").status_code == 200
        print(sorted({"yaml", "swagger_ui_bundle"} & set(sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["[]", "['swagger_ui_bundle', 'yaml']"]
