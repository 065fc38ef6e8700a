"""First paint of the dashboard's KPI view in chromium, and the size of what it downloads.

Loads ``/`` (the KPI view) ``--runs`` times, each in a fresh browser context (an empty cache:
a first visit), after one untimed load that warms the server, and reports the median and p90 of

    first-contentful-paint   the browser's own paint timing entry
    first KPI row            when the first row of the KPI table entered the page (a
                             MutationObserver installed before the page's script runs)

both from the start of the navigation, then each built asset (web/dist, as named by the build's
manifest) raw and gzip-compressed (level 9, as a server would send it).

Without ``--gateway`` the HTTP functions and the gateway are started on the configured
warehouse (``./dev demo`` builds one) and stopped at the end. Needs Debian's chromium and
Playwright (the test group: ``./dev run python -m scripts.benchmarks.first_paint``).

    python -m scripts.benchmarks.first_paint [--runs 10] [--gateway http://127.0.0.1:8080]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from common.dashboard import BUILD_DIR
from scripts.benchmarks.timing import percentile
from scripts.deploy.catalog import discover
from scripts.local.chromium import CHROMIUM, FLAGS
from scripts.local.emulators import free_ports_for_stack
from scripts.local.stack import LocalStack

FIRST_ROW = "table.rows tbody tr"
# Records when the first KPI row appears: installed before any of the page's scripts run.
WATCH_FIRST_ROW = f"""
new MutationObserver((changes, observer) => {{
  if (document.querySelector({json.dumps(FIRST_ROW)})) {{
    window.__firstRow = performance.now();
    observer.disconnect();
  }}
}}).observe(document, {{ childList: true, subtree: true }});
"""
FIRST_PAINT = "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"


@dataclass(frozen=True)
class Load:
    first_paint_ms: float
    first_row_ms: float


@dataclass(frozen=True)
class AssetSize:
    name: str
    raw: int
    gzip: int


def load_kpi_view(browser, gateway: str) -> Load:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(WATCH_FIRST_ROW)
        page.goto(gateway + "/")
        page.wait_for_selector(FIRST_ROW, timeout=60_000)
        page.wait_for_function("window.__firstRow !== undefined")
        return Load(page.evaluate(FIRST_PAINT), page.evaluate("window.__firstRow"))
    finally:
        context.close()


def measure(gateway: str, runs: int) -> list[Load]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(FLAGS)
        )
        try:
            load_kpi_view(browser, gateway)  # warms the functions' caches and connections
            return [load_kpi_view(browser, gateway) for _ in range(runs)]
        finally:
            browser.close()


def asset_sizes(dist: Path = BUILD_DIR) -> list[AssetSize]:
    """The page and every file the build's manifest names, as served."""
    manifest = json.loads((dist / ".vite" / "manifest.json").read_text())
    names = ["index.html"]
    for chunk in manifest.values():
        names += [chunk["file"], *chunk.get("css", ())]
    sizes = []
    for name in dict.fromkeys(names):
        body = (dist / name).read_bytes()
        sizes.append(AssetSize(name, len(body), len(gzip.compress(body, compresslevel=9))))
    return sizes


def summary(name: str, samples: list[float]) -> str:
    median, p90 = statistics.median(samples), percentile(samples, 90)
    return f"  {name:<24} median {median:6.0f} ms   p90 {p90:6.0f} ms"


def report(gateway: str, loads: list[Load], sizes: list[AssetSize]) -> str:
    lines = [
        f"KPI view at {gateway}/: {len(loads)} loads, each in a fresh context (empty cache)",
        summary("first-contentful-paint", [load.first_paint_ms for load in loads]),
        summary("first KPI row", [load.first_row_ms for load in loads]),
        "Built assets (web/dist):",
        *(f"  {s.name:<24} {s.raw / 1000:7.1f} kB raw {s.gzip / 1000:7.1f} kB gzip" for s in sizes),
        f"  {'total':<24} {sum(s.raw for s in sizes) / 1000:7.1f} kB raw "
        f"{sum(s.gzip for s in sizes) / 1000:7.1f} kB gzip",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--gateway", default=None, help="a running gateway (default: start one)")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs: at least 2 (a p90 needs more than one load)")
    stack = None
    gateway = args.gateway.rstrip("/") if args.gateway else None
    if gateway is None:
        specs = [spec for spec in discover() if spec.is_http]
        base_port, gateway_port = free_ports_for_stack(len(specs))
        stack = LocalStack(specs, base_port, gateway_port=gateway_port).start()
        gateway = stack.gateway_url
    try:
        print(report(gateway, measure(gateway, args.runs), asset_sizes()), flush=True)
    finally:
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    main()
