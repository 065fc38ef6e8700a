"""Run dbt on this repository's project, on DuckDB (target ``local``) or BigQuery (``prod``).

    python -m scripts.data.dbt_runner build            # dbt build --target local (./dev dbt build)
    python -m scripts.data.dbt_runner docs generate
    python -m scripts.data.dbt_runner compile --prod-offline

On the command line dbt works on a copy of the DuckDB file, as the pipeline's builds do, so it
runs while the local stack serves (its functions may hold the file open, and DuckDB lets nobody
write a file another process has open). A command that writes (build, run, seed, ...) has its
copy put in place in one rename when it succeeds; the copy of any other is thrown away. Two
writers at once (a build by hand during the pipeline's): the later rename wins.

Every command gets the dbt vars the configuration decides (``EXECKPI_TIME_ZONE`` as
``reporting_time_zone``, ...), as the pipeline's builds do; ``--vars`` on the command line wins.

``--prod-offline`` compiles for BigQuery without credentials or network (oauth-secrets with a
dummy token, no cache population, and incremental models rendered as first builds unless
``--vars '{offline_is_incremental: true}'``), which is how CI checks the BigQuery SQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from common.config import load_config_or_exit
from common.pipeline.dbt import building_copy, project_vars
from common.warehouse import WarehouseUnavailable
from scripts.deploy.catalog import REPO_ROOT

DBT_PROJECT = REPO_ROOT / "dbt_project"
OFFLINE_BIGQUERY_ENV = {
    "DBT_BIGQUERY_METHOD": "oauth-secrets",
    "DBT_BIGQUERY_TOKEN": "offline-compilation",
    "EXECKPI_BQ_PROJECT": "execkpi-offline",
    "NO_GCE_CHECK": "true",
}
# dbt commands that change the warehouse, and those that never open it.
WRITING_COMMANDS = frozenset(
    {"build", "run", "seed", "snapshot", "clone", "retry", "run-operation"}
)
OFFLINE_COMMANDS = frozenset({"parse", "ls", "list", "deps", "clean", "init", "docs serve"})


class DbtFailed(RuntimeError):
    pass


def dbt_command(args: Sequence[str]) -> list[str]:
    executable = Path(sys.executable).with_name("dbt")
    project = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    return [str(executable), *args, *project]


def with_vars(args: Sequence[str], configured: Mapping[str, Any]) -> list[str]:
    """``args`` with one ``--vars``: the configured vars, overridden by any given in ``args``
    (dbt reads --vars as YAML, and takes only the last one given)."""
    given: dict[str, Any] = {}
    rest: list[str] = []
    words = iter(args)
    for word in words:
        if word == "--vars" or word.startswith("--vars="):
            value = next(words, "") if word == "--vars" else word.removeprefix("--vars=")
            given.update(yaml.safe_load(value) or {})
        else:
            rest.append(word)
    return [*rest, "--vars", json.dumps({**configured, **given})]


def run_dbt(
    args: Sequence[str],
    *,
    duckdb_path: Path | None = None,
    prod_offline: bool = False,
    env: dict[str, str] | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess:
    """Run one dbt command; raise DbtFailed with dbt's output when it fails."""
    run_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})}
    if duckdb_path is not None:
        run_env["EXECKPI_DUCKDB_PATH"] = str(duckdb_path)
    if prod_offline:
        run_env.update(OFFLINE_BIGQUERY_ENV)
    configured = project_vars(load_config_or_exit(run_env))
    if prod_offline:  # nothing to ask whether an incremental model's table exists
        configured["offline_is_incremental"] = False
    command = with_vars(args, configured)
    if prod_offline:
        command += ["--target", "prod", "--no-populate-cache"]
    result = subprocess.run(
        dbt_command(command), cwd=REPO_ROOT, env=run_env, capture_output=capture, text=True
    )
    if result.returncode != 0:
        output = (result.stdout or "")[-6000:] if capture else ""
        raise DbtFailed(f"dbt {' '.join(args)} failed ({result.returncode}):\n{output}")
    return result


def command_name(args: Sequence[str]) -> str:
    """``build``, ``docs generate``, ``source freshness``: dbt's (sub)command in ``args``."""
    words = [a for a in args if not a.startswith("-")]
    return " ".join(words[:2]) if words[:1] in (["docs"], ["source"]) else "".join(words[:1])


def run_on_copy(args: Sequence[str]) -> None:
    """Run a dbt command by hand on the local warehouse, on a copy of its DuckDB file."""
    command = command_name(args)
    if command in OFFLINE_COMMANDS:
        run_dbt(args, capture=False)
        return
    database = load_config_or_exit().duckdb_path
    swap_in = command in WRITING_COMMANDS
    with building_copy(database, f"by-hand-{os.getpid()}", swap_in=swap_in) as copy:
        run_dbt(args, duckdb_path=copy, capture=False)
    if swap_in:
        print(f"{database} now holds what dbt {command} built.", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if "--prod-offline" in args:
            run_dbt([a for a in args if a != "--prod-offline"], prod_offline=True, capture=False)
        else:
            run_on_copy(args)
    except (DbtFailed, WarehouseUnavailable) as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
