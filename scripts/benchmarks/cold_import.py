"""Cold-start import cost of each function, measured in its own isolated environment.

For each function: build its package, take the virtualenv holding only its requirements
(``scripts.deploy.function_envs``), and time fresh processes of that interpreter run with the
package folder as working directory and the default local settings pointing at a temporary folder:

    baseline             python -c pass
    functions_framework  python -c "import functions_framework"
    main                 python -I -c "import sys; sys.path.insert(0, '.'); import main"

Each command runs once untimed (bytecode compilation, page cache), then ``--runs`` times with the
three interleaved so drift on the machine hits them alike; the median wall time is reported.

    python -m scripts.benchmarks.cold_import [--runs 7] [name ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import tempfile
from pathlib import Path

from scripts.benchmarks.timing import stopwatch
from scripts.deploy.catalog import FunctionSpec, discover
from scripts.deploy.function_envs import ensure_function_env
from scripts.deploy.package import build_package

HEAVY = ("pandas", "scipy", "sklearn", "xgboost", "shap", "statsmodels", "dbt")
HEAVY_SUBMODULES = ("google.cloud.bigquery",)
_IMPORT_MAIN = "import sys; sys.path.insert(0, '.'); import main"
COMMANDS = {
    "baseline": ["-c", "pass"],
    "functions_framework": ["-c", "import functions_framework"],
    "main": ["-I", "-c", _IMPORT_MAIN],
}


def _env(local: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(local)),
        "NO_GCE_CHECK": "true",
        "EXECKPI_DUCKDB_PATH": str(local / "warehouse.duckdb"),
        "EXECKPI_ARTIFACT_DIR": str(local / "artifacts"),
    }


def _time_once(python: Path, args: list[str], cwd: Path, env: dict[str, str]) -> float:
    with stopwatch() as took:
        result = subprocess.run(
            [str(python), *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    if result.returncode != 0:
        raise RuntimeError(f"{python} {' '.join(args)} failed in {cwd}:\n{result.stderr.decode()}")
    return took.ms


def _heavy_modules(python: Path, cwd: Path, env: dict[str, str]) -> list[str]:
    code = _IMPORT_MAIN + "; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [str(python), "-I", "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = {m.split(".")[0] for m in out if m.split(".")[0] in HEAVY}
    found |= {h for h in HEAVY_SUBMODULES for m in out if m == h or m.startswith(h + ".")}
    return sorted(found)


def measure(spec: FunctionSpec, runs: int, work: Path) -> dict[str, object]:
    package = build_package(spec, work / "build")
    python = ensure_function_env(spec)
    env = _env(work / "local" / spec.name)
    for args in COMMANDS.values():  # warm-up: compile bytecode, fill the page cache
        _time_once(python, args, package, env)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    order = list(COMMANDS)
    for i in range(runs):
        for name in order[i % len(order) :] + order[: i % len(order)]:  # rotate who goes first
            samples[name].append(_time_once(python, COMMANDS[name], package, env))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {**medians, "heavy": _heavy_modules(python, package, env), "python": python}


def _python_version(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7)")
    parser.add_argument("names", nargs="*", help="functions to measure (default: all)")
    args = parser.parse_args(argv)
    specs = [s for s in discover() if not args.names or s.name in args.names]
    if not specs:
        parser.error("no function matches")

    with tempfile.TemporaryDirectory(prefix="bench-cold-import-") as tmp:
        results = {spec.name: measure(spec, args.runs, Path(tmp)) for spec in specs}

    first = next(iter(results.values()))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"machine: nproc={cpus}  python={_python_version(first['python'])}  "
        f"{platform.system()} {platform.machine()}  loadavg={os.getloadavg()[0]:.2f}"
    )
    print(f"median of {args.runs} fresh processes each, interleaved; times in ms\n")
    header = ("function", "python -c pass", "import functions_framework", "import main", "main/ff")
    widths = [max(len(h), 14) for h in header]
    rows = [
        [
            name,
            f"{r['baseline']:.1f}",
            f"{r['functions_framework']:.1f}",
            f"{r['main']:.1f}",
            f"{r['main'] / r['functions_framework']:.2f}",
        ]
        for name, r in results.items()
    ]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join(["-" * (widths[0] + 2)] + ["-" * (w + 1) + ":" for w in widths[1:]]) + "|")
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("| " + " | ".join(cells) + " |")
    print()
    for name, r in results.items():
        heavy = ", ".join(r["heavy"]) or "none"
        print(f"heavy modules loaded by `import main` in {name}: {heavy}")


if __name__ == "__main__":
    main()
