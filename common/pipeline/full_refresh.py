"""When a build rebuilds every incremental model (``dbt build --full-refresh``), and why.

An incremental model keeps the rows it wrote earlier and recomputes only what changed lately.
Rows written by older model code, or under another reporting time zone or currency, would stay
as they were next to new ones computed differently. So a build is a full refresh when:

- erasure requests are pending: an incremental build would keep an erased user's older rows
  and the sums they are part of;
- no complete build is recorded for the warehouse: the first build after an upgrade that made
  models incremental (a new warehouse's first build is a full one anyway);
- the last build stopped with a model in error: some models then hold rows older than their
  lookback reaches, and on BigQuery, which has no transaction around a model's pre-hook and
  insert, a model may have deleted rows it did not write again;
- the dbt project (models, macros, seeds, dbt_project.yml) or a setting that shapes stored rows
  differs from those of the last complete build, as recorded in the artifact store.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from common.artifacts.base import ArtifactNotFound, ArtifactStore

LAST_COMPLETE_BUILD = "pipeline/last_complete_build.json"
# What dbt turns into rows; the project's data tests (tests/) and dbt's own output are not.
PROJECT_PARTS = ("dbt_project.yml", "macros", "models", "seeds")
# dbt vars whose value is written into stored rows (calendar days, amounts).
ROW_SHAPING_VARS = ("reporting_time_zone", "currency_minor_unit")


def basis(project_dir: Path, dbt_vars: dict[str, Any], run_id: str) -> dict[str, Any]:
    """What a complete build's rows were computed from: the project's digest and settings."""
    return {
        "run_id": run_id,
        "project_sha256": _project_digest(project_dir),
        "settings": {name: dbt_vars[name] for name in ROW_SHAPING_VARS},
    }


def reason(store: ArtifactStore, current: dict[str, Any], pending_erasures: int) -> str | None:
    """Why this build must be a full refresh, or None for an incremental build."""
    if pending_erasures:
        return f"{pending_erasures} erasure request(s) pending"
    try:
        last = store.get_json(LAST_COMPLETE_BUILD)
    except ArtifactNotFound:
        return "no complete build is recorded for this warehouse"
    if "failed_run_id" in last:
        return f"the build {last['failed_run_id']} stopped with a model in error"
    changed = [
        f"{name} changed from {last['settings'].get(name)!r} to {value!r}"
        for name, value in current["settings"].items()
        if last["settings"].get(name) != value
    ]
    if last["project_sha256"] != current["project_sha256"]:
        changed.append("the dbt project changed")
    if changed:
        return f"since the complete build {last['run_id']}: " + "; ".join(changed)
    return None


def record(store: ArtifactStore, current: dict[str, Any]) -> None:
    """Remember a build whose every model was rebuilt as the basis of the next ones."""
    store.put_json(LAST_COMPLETE_BUILD, current)


def record_failure(store: ArtifactStore, run_id: str) -> None:
    """Remember that ``run_id`` left some models half-built: the next build rebuilds them all."""
    store.put_json(LAST_COMPLETE_BUILD, {"failed_run_id": run_id})


def _project_digest(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = project_dir / part
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            # The relative path too: a renamed model is a changed project.
            digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
