"""Benchmark the thelook generator: rows, seconds, rows/s and peak memory per size.

    python -m scripts.bench_generator                 # 10k users, 100k users, >= 1M order items
    python -m scripts.bench_generator --ten-million   # also >= 10M order items (goal: <= 4 GiB)

Each size runs in its own child process, so its peak RSS (``ru_maxrss`` from ``wait4``) is its
own. "startup" is the child's imports (pyarrow pulls in pandas); "generate" times the
``generate()`` call alone, and rows/s is over that.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(users: int, out: Path) -> None:
    started = time.perf_counter()
    import pandas  # noqa: F401  (pyarrow imports it lazily: count it as startup, not generation)

    from scripts.thelook.generator import generate

    imported = time.perf_counter()
    counts = generate(out, users=users, progress=False)
    done = time.perf_counter()
    print(json.dumps({"counts": counts, "startup": imported - started, "seconds": done - imported}))


def measure(users: int, out: Path) -> dict:
    command = [sys.executable, "-m", "scripts.bench_generator", "--child", str(users), str(out)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"generating {users:,} users failed ({process.returncode})")
    result = json.loads(output)
    result["peak_rss_gib"] = usage.ru_maxrss * 1024 / 2**30  # Linux reports KiB
    return result


def report(label: str, users: int, result: dict) -> None:
    counts, seconds = result["counts"], result["seconds"]
    total = sum(counts.values())
    print(f"\n== {label}: {users:,} users")
    for table, rows in counts.items():
        print(f"  {table:<22} {rows:>13,}")
    print(f"  {'total rows':<22} {total:>13,}")
    print(
        f"  generate {seconds:.1f} s, {total / seconds:,.0f} rows/s; "
        f"startup {result['startup']:.1f} s; peak RSS {result['peak_rss_gib']:.2f} GiB; "
        f"{counts['order_items'] / users:.3f} order items per user"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ten-million", action="store_true", help="add >= 10M order items")
    parser.add_argument("--child", nargs=2, metavar=("USERS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), Path(args.child[1]))
        return

    from scripts.thelook.generator import users_for_items

    sizes = [("smoke", 10_000), ("demo", 100_000), (">= 1M order items", users_for_items(10**6))]
    if args.ten_million:
        sizes.append((">= 10M order items", users_for_items(10**7)))
    for label, users in sizes:
        with tempfile.TemporaryDirectory(prefix="thelook-bench-") as out:
            report(label, users, measure(users, Path(out)))


if __name__ == "__main__":
    main()
