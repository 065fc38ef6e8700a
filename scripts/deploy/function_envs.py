"""One virtualenv per function holding only what its ``requirements.txt`` declares.

The dev venv has every back-end installed, so a function that imports something its
requirements.txt forgets still works there and only breaks once deployed. Packaging checks and
cold-start measurements therefore need an environment with nothing else in it: this module makes
one per function with uv under ``.local/envs/<name>`` and reuses it for as long as the
requirements file keeps the same sha256 (recorded in a stamp file written after a successful
install; a changed or half-built environment is recreated).

    python -m scripts.deploy.function_envs [name ...]   # create or refresh, print each interpreter
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from scripts.deploy.catalog import REPO_ROOT, FunctionSpec, discover

DEFAULT_ROOT = REPO_ROOT / ".local" / "envs"
_STAMP = ".requirements.sha256"


def find_uv() -> str | None:
    """uv on PATH, else the one installed next to this interpreter (the dev venv's)."""
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else None


def ensure_function_env(spec: FunctionSpec, root: Path = DEFAULT_ROOT) -> Path:
    """The python interpreter of a virtualenv holding only ``spec``'s requirements."""
    requirements = spec.folder / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    env_dir = root / spec.name
    python = env_dir / "bin" / "python"
    stamp = env_dir / _STAMP
    if python.exists() and stamp.is_file() and stamp.read_text().strip() == digest:
        return python

    uv = find_uv()
    if uv is None:
        raise RuntimeError("uv is not installed: `pip install uv` or use the dev venv's")
    stamp.unlink(missing_ok=True)
    shown = env_dir.relative_to(REPO_ROOT) if env_dir.is_relative_to(REPO_ROOT) else env_dir
    print(f"Building {shown} from {spec.name}/requirements.txt ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _run([uv, "venv", "--quiet", "--no-project", "--clear", "--python", sys.executable, env_dir])
    _run([uv, "pip", "install", "--quiet", "--python", python, "-r", requirements])
    stamp.write_text(digest + "\n")
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return python


def _run(command: list[str | Path]) -> None:
    # VIRTUAL_ENV of the caller (the dev venv) must not steer uv; --python says where to go.
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result = subprocess.run(
        [str(c) for c in command], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stderr}"
        )


def main(argv: list[str] | None = None) -> None:
    names = set(sys.argv[1:] if argv is None else argv)
    for spec in discover():
        if not names or spec.name in names:
            print(f"{spec.name:<14} {ensure_function_env(spec)}")


if __name__ == "__main__":
    main()
