"""A throwaway PostgreSQL 15 server from Debian's package: initdb into a temporary folder,
started on 127.0.0.1 on a free port, stopped and deleted on exit. The benchmarks' baseline.

``missing_reason()`` says why no server can be started here (no package), or None.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from scripts.local.emulators import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
# initdb and postgres refuse to run as root: as root, they run as the package's own user.
SERVER_USER = "postgres"


def missing_reason() -> str | None:
    if not (BIN / "initdb").is_file():
        return f"PostgreSQL 15 is not installed ({BIN}/initdb is absent; Debian: postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL as"
    return None


def _run(*command: str) -> None:
    """Run a server program (as the server user under root); its own error if it fails."""
    program = Path(command[0]).name
    if os.geteuid() == 0:
        command = ("runuser", "-u", SERVER_USER, "--", *command)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}")


@contextmanager
def running_postgres(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """A started server with ``settings`` added to postgresql.conf; yields its conninfo
    (database postgres, user postgres, trust authentication on 127.0.0.1 only)."""
    if reason := missing_reason():
        raise RuntimeError(reason)
    folder = Path(tempfile.mkdtemp(prefix="execkpi-postgres-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_USER)
    try:
        initdb = (str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
        _run(*initdb, "--no-sync", "--no-locale", "--encoding=UTF8")
        port = free_port()
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{folder}'",
            **(settings or {}),
        }
        with (data / "postgresql.conf").open("a") as file:
            file.writelines(f"{name} = {value}\n" for name, value in conf.items())
        ctl = (str(BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w")
        _run(*ctl, "start")
        try:
            yield f"host=127.0.0.1 port={port} dbname=postgres user=postgres"
        finally:
            _run(*ctl, "-m", "immediate", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
