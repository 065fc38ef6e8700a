"""The rendered API reference at ``/docs``: Swagger UI from the installed ``swagger-ui-bundle``
package (never a CDN), reading the description at ``/openapi.json`` of the same origin.

The page is ours (the bundle's own ``index.html`` points at the petstore); the scripts, style
and icons are the bundle's, served under ``/docs/<name>`` from an allow-list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from common.errors import NotFound

DOCS_PATH = "/docs"
DESCRIPTION_PATH = "/openapi.json"

# What the page loads, and the type each is served as.
ASSET_TYPES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",  # as the description says
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

# validatorUrl null: Swagger UI would otherwise send the description to an online validator.
PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ExecKPI API reference</title>
  <link rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{DOCS_PATH}/swagger-ui-bundle.js" charset="utf-8"></script>
  <script>
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: "{DESCRIPTION_PATH}",
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
      }});
    }};
  </script>
</body>
</html>
"""


@dataclass(frozen=True)
class Document:
    body: bytes
    content_type: str


def page() -> Document:
    return Document(PAGE.encode(), "text/html; charset=utf-8")


@functools.cache
def asset(name: str) -> Document:
    """One file of the bundle, read once per instance; a name off the list is a 404."""
    if name not in ASSET_TYPES:
        raise NotFound(f"no such file of the API reference: {name}", field="path")
    from swagger_ui_bundle import swagger_ui_path  # the portal's first /docs pays for it

    return Document((swagger_ui_path / name).read_bytes(), ASSET_TYPES[name])
