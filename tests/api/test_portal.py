"""The portal through the gateway: the front page, the description and the API reference, served
from the installed Swagger UI (never a CDN); and its cold start, which loads neither yaml nor
the bundle before a request needs them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
import requests

from common import openapi
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
    ["/docs/index.html", "/docs/swagger-ui.js.map", "/docs/..%2Fmain.py", "/docs/a/b", "/nope"],
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
