"""Build dbt's documentation site from the local warehouse and serve it on 127.0.0.1.

    python -m scripts.data.dbt_docs [--port 8081]      # ./dev docs

Works while the local stack serves: ``docs generate`` reads a copy of the DuckDB file.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import suppress

from common.warehouse import WarehouseUnavailable
from scripts.data.dbt_runner import DbtFailed, run_on_copy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8081, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        run_on_copy(["docs", "generate"])
        print(f"\ndbt docs: http://127.0.0.1:{args.port}  (Ctrl-C to stop)", flush=True)
        with suppress(KeyboardInterrupt):
            serve = ["docs", "serve", "--host", "127.0.0.1", "--port", str(args.port)]
            run_on_copy([*serve, "--no-browser"])
    except (DbtFailed, WarehouseUnavailable) as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
