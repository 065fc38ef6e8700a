"""Generate a seeded thelook eCommerce dataset as Parquet.

    python -m scripts.data.thelook --users 100000 --seed 42 --out .local/thelook
    python -m scripts.data.thelook --order-items 10000000 --out .local/thelook-10m

Scale is the number of users: 10k is a smoke test, 100k the demo default; each user brings
about ``ITEMS_PER_USER`` order items, and ``--order-items`` picks the users for you.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from scripts.data.thelook.dataset import DEFAULT_AS_OF, ITEMS_PER_USER, generate, users_for_items


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--users", type=int, default=100_000, help="default: %(default)s")
    scale.add_argument(
        "--order-items",
        type=int,
        help=f"target order items; users = items / {ITEMS_PER_USER} (items per user)",
    )
    parser.add_argument("--seed", type=int, default=42, help="default: %(default)s")
    parser.add_argument("--out", type=Path, default=Path(".local/thelook"))
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=DEFAULT_AS_OF,
        help="nothing happens on or after this date (default: %(default)s)",
    )
    parser.add_argument("--years", type=int, default=3, help="default: %(default)s")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    users = users_for_items(args.order_items) if args.order_items else args.users
    started = time.perf_counter()
    counts = generate(
        args.out,
        users=users,
        seed=args.seed,
        as_of=args.as_of,
        years=args.years,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    seconds = time.perf_counter() - started
    if not args.quiet:
        for table, rows in counts.items():
            print(f"{table:<22} {rows:>13,} rows")
        total = sum(counts.values())
        print(f"{'total':<22} {total:>13,} rows in {seconds:.1f} s ({total / seconds:,.0f} rows/s)")
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
