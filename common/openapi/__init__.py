"""ExecKPI's one API description (OpenAPI 3.0), kept as YAML beside this module.

``root.yaml`` holds what every route shares (the error shape and the error responses); each
function family adds a fragment with its ``paths`` and ``components``. ``description()`` merges
them into one document on first use, so no function pays for it at import.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FRAGMENTS = ("portal", "kpi", "ab", "ml", "pipeline", "reports", "ingest")


def _load(name: str) -> dict[str, Any]:
    import yaml  # only the portal and the tools read the description

    return yaml.safe_load((HERE / f"{name}.yaml").read_text(encoding="utf-8")) or {}


@functools.cache
def _merged() -> dict[str, Any]:
    document = _load("root")
    for name in FRAGMENTS:
        if not (HERE / f"{name}.yaml").is_file():
            continue
        fragment = _load(name)
        _merge_into(document["paths"], fragment.get("paths") or {}, f"{name}: paths")
        for section, entries in (fragment.get("components") or {}).items():
            target = document["components"].setdefault(section, {})
            _merge_into(target, entries, f"{name}: components.{section}")
    return document


def _merge_into(target: dict[str, Any], entries: dict[str, Any], where: str) -> None:
    clash = sorted(set(target) & set(entries))
    if clash:
        raise ValueError(f"{where} redefines {clash}")
    target.update(entries)


def description() -> dict[str, Any]:
    """The whole description; a copy, so a caller may change it freely."""
    return copy.deepcopy(_merged())
