"""Benchmark the thelook generator: rows, seconds, rows/s and peak memory per size.

    python -m scripts.benchmarks.generator               # 10k users, 100k users, >= 1M order items
    python -m scripts.benchmarks.generator --ten-million # also >= 10M order items (goal: <= 4 GiB)

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
from pathlib import Path

from scripts.benchmarks.timing import stopwatch

REPO = Path(__file__).resolve().parents[2]


def child(users: int, out: Path) -> None:
    with stopwatch() as startup:
        import pandas  # noqa: F401  (pyarrow imports it lazily: count it as startup)

        from scripts.data.thelook.dataset import generate
    with stopwatch() as took:
        counts = generate(out, users=users, progress=False)
    print(json.dumps({"counts": counts, "startup": startup.seconds, "seconds": took.seconds}))


def measure(users: int, out: Path) -> dict:
    command = [
        sys.executable,
        "-m",
        "scripts.benchmarks.generator",
        "--child",
        str(users),
        str(out),
    ]
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

    from scripts.data.thelook.dataset import users_for_items

    sizes = [("smoke", 10_000), ("demo", 100_000), (">= 1M order items", users_for_items(10**6))]
    if args.ten_million:
        sizes.append((">= 10M order items", users_for_items(10**7)))
    for label, users in sizes:
        with tempfile.TemporaryDirectory(prefix="thelook-bench-") as out:
            report(label, users, measure(users, Path(out)))


if __name__ == "__main__":
    main()
