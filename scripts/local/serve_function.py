"""Serve one function as ``python -m functions_framework`` does (the same app, the same gunicorn
server), plus gunicorn's access log on stdout: one line per request that the local stack shows.

    python -m scripts.local.serve_function --target kpi --source functions/kpi/main.py --port 8095
"""

from __future__ import annotations

import argparse

# Access lines start with this, so that the stack can tell them from the function's own logs.
ACCESS_PREFIX = "access "
ACCESS_FORMAT = ACCESS_PREFIX + "%(m)s %(U)s %(s)s %(M)s ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--signature-type", default="http")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from functions_framework import create_app
    from functions_framework._http import create_server  # what its command line runs

    app = create_app(args.target, args.source, args.signature_type)
    server = create_server(app, False, accesslog="-", access_log_format=ACCESS_FORMAT)
    server.run(args.host, args.port)


if __name__ == "__main__":
    main()
