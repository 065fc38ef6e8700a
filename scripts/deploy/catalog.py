"""The functions of this repository, discovered from ``functions/<name>/function.yaml``.

Adding a folder with a ``main.py``, a ``requirements.txt`` and a ``function.yaml`` is all it takes
for the local stack, the packager, the tests and Terraform to pick a function up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from common.events.envelope import EVENT_TYPES

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
# Samples with the same layout; nothing deploys or packages them.
EXAMPLES_DIR = REPO_ROOT / "examples"
# "" (every path no other prefix claims) or whole path segments such as /kpi or /ml.
_PATH_PREFIX = re.compile(r"(/[a-z0-9_-]+)*")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    folder: Path
    entry_point: str
    events: tuple[str, ...]  # the event types it subscribes to; empty for an HTTP function
    memory: str
    timeout_seconds: int
    max_instances: int
    description: str
    package_include: tuple[str, ...] = ()  # repository folders the deployed package also needs
    # The gateway paths this function serves (the front door routes by the longest match);
    # None: not behind the front door (event functions, HTTP functions without the key).
    path_prefix: str | None = None
    # False: IAM is its only gate (no API key), so the public API Gateway, an invoker of what it
    # routes to, leaves it out; the local gateway still routes to it.
    public_gateway: bool = True
    # The bucket whose object-finalized events it takes (trigger: {storage: landing}).
    storage: str | None = None
    # Events an HTTP function takes as Pub/Sub pushes on POST / (dbt_build: data-ingested).
    push_events: tuple[str, ...] = ()

    @property
    def is_http(self) -> bool:
        return not self.events and self.storage is None

    @property
    def signature_type(self) -> str:
        return "http" if self.is_http else "cloudevent"

    @property
    def source(self) -> Path:
        return self.folder / "main.py"


def _load(folder: Path) -> FunctionSpec:
    manifest = yaml.safe_load((folder / "function.yaml").read_text())
    trigger = manifest["trigger"]
    # trigger: http | {event: <type>} | {events: [<type>, ...]} | {storage: <bucket>}
    storage = None if trigger == "http" else trigger.get("storage")
    if trigger == "http" or storage is not None:
        events: tuple[str, ...] = ()
    else:
        events = tuple(trigger.get("events") or [trigger["event"]])
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"{folder.name}: trigger events {unknown} are not in EVENT_TYPES")
    pushed = bool(events) or storage is not None
    push_events = tuple(manifest.get("push_events", ()))
    if (pushed and push_events) or not set(push_events) <= EVENT_TYPES:
        raise ValueError(f"{folder.name}: push_events must be event types, on an HTTP function")
    path_prefix = manifest.get("path_prefix")
    if path_prefix is not None and (pushed or not _PATH_PREFIX.fullmatch(str(path_prefix))):
        raise ValueError(
            f'{folder.name}: path_prefix must be "" or whole path segments such as /kpi,'
            " on an HTTP function"
        )
    for required in ("main.py", "requirements.txt"):
        if not (folder / required).is_file():
            raise ValueError(f"{folder.name}: {required} is missing")
    return FunctionSpec(
        name=folder.name,
        folder=folder,
        entry_point=manifest["entry_point"],
        events=events,
        memory=manifest["memory"],
        timeout_seconds=int(manifest["timeout_seconds"]),
        max_instances=int(manifest["max_instances"]),
        description=manifest["description"],
        package_include=tuple(manifest.get("package_include", ())),
        path_prefix=path_prefix,
        public_gateway=bool(manifest.get("public_gateway", True)),
        storage=storage,
        push_events=push_events,
    )


def discover(functions_dir: Path = FUNCTIONS_DIR) -> list[FunctionSpec]:
    specs = [_load(f) for f in sorted(functions_dir.iterdir()) if (f / "function.yaml").is_file()]
    entry_points = [s.entry_point for s in specs]
    duplicates = {e for e in entry_points if entry_points.count(e) > 1}
    if duplicates:
        # functions-framework keys its registry by entry-point name.
        raise ValueError(f"entry points must be unique; repeated: {sorted(duplicates)}")
    prefixes = [s.path_prefix for s in specs if s.path_prefix is not None]
    shared = {p for p in prefixes if prefixes.count(p) > 1}
    if shared:
        # One function per prefix, or the front door could not choose.
        raise ValueError(f"path prefixes must be unique; repeated: {sorted(shared)}")
    return specs
