"""Build the source upload of each function: its main.py and requirements.txt plus copies of
``common`` and of the folders its manifest names in ``package_include``, as a folder and as a
deterministic zip (same sources → same bytes → same hash, so Terraform redeploys a function
exactly when its code changed).

    python -m scripts.deploy.package [--out build/functions] [name ...]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import zipfile
from pathlib import Path

from scripts.deploy.catalog import REPO_ROOT, FunctionSpec, discover

DEFAULT_OUT = REPO_ROOT / "build" / "functions"
_FUNCTION_FILES = ("main.py", "requirements.txt")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# Build output and local state, never sources (dbt's target/ and logs/ included).
_GENERATED = frozenset({"__pycache__", "target", "logs", "dbt_packages", ".user.yml"})


def _ignore(_folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _GENERATED or n.endswith((".pyc", ".pyo"))}


class MissingInclude(RuntimeError):
    """A folder the manifest's package_include names is missing or empty: build output not
    built yet (web/dist), so the package would deploy a function that cannot serve."""


# How to make the folders that are build output, not sources.
_BUILT_BY = {"web/dist": "cd web && npm ci && npm run build (./dev does it too)"}


def build_package(spec: FunctionSpec, out_dir: Path = DEFAULT_OUT, root: Path = REPO_ROOT) -> Path:
    """A fresh folder ``out_dir/<name>`` holding exactly what the function deploys, taken from
    the repository at ``root``."""
    for folder in spec.package_include:
        source = root / folder
        if not source.is_dir() or not any(source.iterdir()):
            how = f": build it with {_BUILT_BY[folder]}" if folder in _BUILT_BY else ""
            raise MissingInclude(f"{spec.name} needs {folder}, which is missing or empty{how}")
    target = out_dir / spec.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in _FUNCTION_FILES:
        shutil.copy2(spec.folder / name, target / name)
    for folder in ("common", *spec.package_include):
        shutil.copytree(root / folder, target / folder, ignore=_ignore)
    return target


def zip_package(folder: Path) -> Path:
    archive = folder.with_suffix(".zip")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), _ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return archive


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("names", nargs="*", help="functions to package (default: all)")
    args = parser.parse_args(argv)
    specs = [s for s in discover() if not args.names or s.name in args.names]
    for spec in specs:
        try:
            archive = zip_package(build_package(spec, args.out))
        except MissingInclude as exc:
            raise SystemExit(f"not packaged: {exc}") from None
        size_kib = archive.stat().st_size / 1024
        print(f"{spec.name:<14} {archive}  {size_kib:.0f} KiB  sha256 {sha256(archive)[:16]}")


if __name__ == "__main__":
    main()
