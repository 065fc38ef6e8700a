"""Debian's chromium as the browser tests and the first-paint benchmark run it: headless, with
the flags ../shared/design/STACK.md gives, and nothing reaching out."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)
