"""The main job on the embedded default (DuckDB, local artifact folder, local bus): prepare the
warehouse, start the local stack, drive the functions end to end, print what happened, and keep
serving until Ctrl-C (``--once`` stops right after the summary).

    python -m scripts.demo [--once] [--emulator] [--base-port 8090]
"""

from __future__ import annotations

import argparse
import time

import requests

from common.config import load_config
from common.warehouse.duckdb_engine import DuckDBWarehouse
from scripts.functions_catalog import discover
from scripts.local_stack import LocalStack, serve_until_interrupted


def prepare_warehouse() -> None:
    """Create the DuckDB file (and its raw schema) if this machine has none yet."""
    warehouse = DuckDBWarehouse(load_config().duckdb_path, read_only=False)
    warehouse.query("create schema if not exists raw")
    warehouse.close()


def drive_hello(base: str) -> list[str]:
    greeting = requests.get(f"{base}/hello", params={"name": "ExecKPI"}, timeout=30)
    greeting.raise_for_status()
    accepted = requests.post(f"{base}/hello", json={"name": "event chain"}, timeout=30)
    accepted.raise_for_status()
    run_id = accepted.json()["run_id"]
    deadline = time.monotonic() + 30
    while (
        recorded := requests.get(f"{base}/hello/greetings/{run_id}", timeout=30)
    ).status_code == 404:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no greeting recorded for run {run_id} within 30 s")
        time.sleep(0.2)
    recorded.raise_for_status()
    meta = greeting.json()["meta"]
    return [
        f"GET  /hello       -> {greeting.json()['greeting']!r} ({meta['engine']}, "
        f"{meta['elapsed_ms']:.1f} ms)",
        f"POST /hello       -> 202, run {run_id}, greeting-requested published",
        f"hello_event       -> recorded {recorded.json()['greeting']!r} for that run",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="stop after the summary")
    parser.add_argument("--emulator", action="store_true", help="use the Pub/Sub emulator")
    parser.add_argument("--base-port", type=int, default=8090)
    args = parser.parse_args(argv)

    prepare_warehouse()
    stack = LocalStack(discover(), args.base_port, use_emulator=args.emulator).start()
    try:
        print("ExecKPI local stack:\n" + stack.describe(), flush=True)
        print(
            "\nSummary:", *("  " + line for line in drive_hello(stack.urls["hello_http"])), sep="\n"
        )
        if not args.once:
            serve_until_interrupted(stack)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
