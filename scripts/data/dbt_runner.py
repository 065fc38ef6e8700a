"""Run dbt on this repository's project, on DuckDB (target ``local``) or BigQuery (``prod``).

    python -m scripts.data.dbt_runner build            # dbt build --target local
    python -m scripts.data.dbt_runner compile --prod-offline

``--prod-offline`` compiles for BigQuery without credentials or network (oauth-secrets with a
dummy token, no cache population), which is how CI checks the BigQuery SQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.deploy.catalog import REPO_ROOT

DBT_PROJECT = REPO_ROOT / "dbt_project"
OFFLINE_BIGQUERY_ENV = {
    "DBT_BIGQUERY_METHOD": "oauth-secrets",
    "DBT_BIGQUERY_TOKEN": "offline-compilation",
    "EXECKPI_BQ_PROJECT": "execkpi-offline",
    "NO_GCE_CHECK": "true",
}


class DbtFailed(RuntimeError):
    pass


def dbt_command(args: Sequence[str]) -> list[str]:
    executable = Path(sys.executable).with_name("dbt")
    project = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    return [str(executable), *args, *project]


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
    command = list(args)
    if prod_offline:
        run_env.update(OFFLINE_BIGQUERY_ENV)
        command += ["--target", "prod", "--no-populate-cache"]
    result = subprocess.run(
        dbt_command(command), cwd=REPO_ROOT, env=run_env, capture_output=capture, text=True
    )
    if result.returncode != 0:
        output = (result.stdout or "")[-6000:] if capture else ""
        raise DbtFailed(f"dbt {' '.join(args)} failed ({result.returncode}):\n{output}")
    return result


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    prod_offline = "--prod-offline" in args
    args = [a for a in args if a != "--prod-offline"]
    try:
        run_dbt(args, prod_offline=prod_offline, capture=False)
    except DbtFailed as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
