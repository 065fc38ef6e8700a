"""What each function deploys: its package imports with only its own requirements installed,
its pins agree with uv.lock, its zip is reproducible, and ``common`` stays cheap to import."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

from scripts.data.dbt_runner import OFFLINE_BIGQUERY_ENV
from scripts.deploy.catalog import EXAMPLES_DIR, REPO_ROOT, FunctionSpec, discover
from scripts.deploy.function_envs import ensure_function_env, find_uv
from scripts.deploy.package import MissingInclude, build_package, sha256, zip_package

SPECS = discover()
_by_name = pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])

HEAVY = ("pandas", "scipy", "sklearn", "xgboost", "shap", "statsmodels", "dbt")
BACKENDS = ("duckdb", "google.cloud.bigquery", "google.cloud.storage", "google.cloud.pubsub_v1")
LIGHT_MODULES = (
    "common.config",
    "common.http",
    "common.logs",
    "common.warehouse",
    "common.artifacts",
    "common.events.envelope",
    "common.events.consumer",
    "common.events.publishers",
    "common.backends",
)
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run_python(python: Path | str, code: str, cwd: Path, env: dict[str, str], *flags: str):
    return subprocess.run(
        [str(python), *flags, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def function_python():
    if find_uv() is None:
        pytest.skip("uv is not installed (neither on PATH nor next to sys.executable)")
    return ensure_function_env


@_by_name
def test_package_imports_with_only_its_declared_requirements(
    spec: FunctionSpec, function_python, tmp_path: Path
) -> None:
    python = function_python(spec)
    package = build_package(spec, tmp_path / "build")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "NO_GCE_CHECK": "true",
        "EXECKPI_DUCKDB_PATH": str(tmp_path / "local" / "warehouse.duckdb"),
        "EXECKPI_ARTIFACT_DIR": str(tmp_path / "local" / "artifacts"),
    }
    code = f"""
        import os, sys
        sys.path.insert(0, '.')
        import main
        import common
        here = os.path.realpath('.')
        for module in (main, common):
            where = os.path.realpath(module.__file__)
            assert where.startswith(here + os.sep), f'{{module.__name__}} came from {{where}}'
        entry = getattr(main, {spec.entry_point!r}, None)
        assert callable(entry), f'main.{spec.entry_point} is {{entry!r}}, not a callable'
    """
    result = _run_python(python, code, package, env, "-I")
    assert result.returncode == 0, (
        f"{spec.name}: the package does not import with only its requirements.txt installed "
        f"({python}):\n{result.stderr}"
    )


DBT_FUNCTIONS = [s for s in SPECS if "dbt_project" in s.package_include]


@pytest.mark.parametrize("spec", DBT_FUNCTIONS, ids=[s.name for s in DBT_FUNCTIONS])
def test_packaged_dbt_project_parses_with_only_its_requirements(
    spec: FunctionSpec, function_python, tmp_path: Path
) -> None:
    """The deployed dbt_build carries the project (without local build output) and its own
    requirements run it: dbt-core with both adapters parses it for DuckDB and BigQuery."""
    python = function_python(spec)
    package = build_package(spec, tmp_path / "build")
    assert (package / "dbt_project" / "dbt_project.yml").is_file()
    assert not {"target", "logs"} & {p.name for p in (package / "dbt_project").iterdir()}
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "NO_GCE_CHECK": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "EXECKPI_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        **OFFLINE_BIGQUERY_ENV,
    }
    code = f"""
        from dbt.cli.main import dbtRunner
        for target in ("local", "prod"):
            result = dbtRunner().invoke([
                "parse", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
                "--target", target, "--target-path", {str(tmp_path / "target")!r} + target,
                "--log-path", {str(tmp_path / "logs")!r}, "--no-populate-cache", "--quiet",
            ])
            assert result.success, (target, result.exception)
    """
    result = _run_python(python, code, package, env, "-I")
    assert result.returncode == 0, f"{spec.name}: dbt cannot parse the package:\n{result.stderr}"


@_by_name
def test_requirements_pins_match_uv_lock(spec: FunctionSpec) -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    locked = {_normalise(p["name"]): p.get("version") for p in lock["package"]}
    problems = []
    for line in (spec.folder / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.fullmatch(line.split(";", 1)[0].strip())
        if match is None:
            problems.append(f"{line!r} is not an exact '==' pin")
            continue
        name, version = _normalise(match.group(1)), match.group(3)
        if name not in locked:
            problems.append(f"{name} is not in uv.lock")
        elif locked[name] != version:
            problems.append(f"{name}=={version} but uv.lock has {locked[name]}")
    assert not problems, f"{spec.name}/requirements.txt: " + "; ".join(problems)


@_by_name
def test_zip_is_deterministic(spec: FunctionSpec, tmp_path: Path) -> None:
    first = zip_package(build_package(spec, tmp_path / "a"))
    second_dir = build_package(spec, tmp_path / "b")
    for path in second_dir.rglob("*"):  # file times must not leak into the archive
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = zip_package(second_dir)
    assert sha256(first) == sha256(second)


def test_packages_ship_only_product_code(tmp_path: Path) -> None:
    """No deployable package carries the local bus server, a sample function, or dev code."""
    samples = {spec.name for spec in discover(EXAMPLES_DIR)}
    assert samples, "the samples under examples/ are expected to exist"
    assert not samples & {spec.name for spec in SPECS}
    packaged = subprocess.run(
        [sys.executable, "-m", "scripts.deploy.package", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(p.stem for p in tmp_path.glob("*.zip")) == sorted(s.name for s in SPECS)
    for archive in tmp_path.glob("*.zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                assert name.split("/")[0] not in {"scripts", "tests", "examples"}, name
                if name.endswith(".py"):
                    source = zf.read(name).decode()
                    for marker in ("LocalBusServer", "ThreadingHTTPServer", *samples):
                        assert marker not in source, f"{archive.name}:{name} has {marker}"
    assert packaged.stdout.count("sha256") == len(SPECS)


def test_the_portal_package_serves_the_built_dashboard(tmp_path: Path) -> None:
    """The portal deploys the dashboard's build (web/dist, not its sources) and answers a
    browser's ``/`` with it, from inside the package."""
    (portal,) = [s for s in SPECS if s.name == "portal"]
    package = build_package(portal, tmp_path / "build")
    shipped = {p.relative_to(package).as_posix() for p in (package / "web").rglob("*")}
    assert {"web/dist/index.html", "web/dist/.vite/manifest.json"} <= shipped
    assert not any(p.startswith(("web/src", "web/node_modules")) for p in shipped)
    code = """
        import sys
        sys.path.insert(0, '.')
        from functions_framework import create_app
        client = create_app('portal', 'main.py', 'http').test_client()
        page = client.get('/', headers={'Accept': 'text/html'})
        assert page.status_code == 200 and b'id="app"' in page.data, page.data[:300]
        script = page.data.split(b'src="')[1].split(b'"')[0].decode()
        assert client.get(script).status_code == 200, script
        from pathlib import Path
        from common import dashboard
        assert dashboard.BUILD_DIR.is_relative_to(Path.cwd()), dashboard.BUILD_DIR
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_GCE_CHECK": "true"}
    result = _run_python(sys.executable, code, package, env)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_portal_is_not_packaged_without_the_built_dashboard(tmp_path: Path) -> None:
    """Cloud Build builds web/dist before packaging; should it not, the packager stops rather
    than ship a portal whose / answers 503. Checked on a checkout where web/ is not built."""
    (portal,) = [s for s in SPECS if s.name == "portal"]
    checkout = tmp_path / "checkout"
    (checkout / "web").mkdir(parents=True)
    for state in ("missing", "empty"):
        if state == "empty":
            (checkout / "web" / "dist").mkdir()
        with pytest.raises(MissingInclude, match=r"portal needs web/dist.*npm run build"):
            build_package(portal, tmp_path / "build", root=checkout)
        assert not (tmp_path / "build").exists(), state  # nothing half-built is left


def _fresh_dev_interpreter(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_GCE_CHECK": "true"}
    return _run_python(sys.executable, code, REPO_ROOT, env)


def test_common_imports_without_any_heavy_library() -> None:
    # Make every heavy library unimportable, then import all of common: nothing may need one.
    # (google-cloud-bigquery imports pandas when it is installed, as it is in the dev venv,
    # and treats it as optional; a function's own environment does not have it.)
    code = f"""
        import importlib, pkgutil, sys
        for name in {HEAVY!r}:
            sys.modules[name] = None
        import common
        for info in pkgutil.walk_packages(common.__path__, 'common.'):
            importlib.import_module(info.name)
    """
    result = _fresh_dev_interpreter(code)
    assert result.returncode == 0, f"common needs a heavy library:\n{result.stderr[-2000:]}"


def _module_level_imports(tree: ast.Module) -> list[str]:
    """Names imported when the module is imported: not those inside functions or classes,
    which load lazily on first use (the engine's scipy, for one)."""
    names: list[str] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            pending += list(ast.iter_child_nodes(node))  # if/try blocks run at import time
    return names


def test_common_source_imports_no_heavy_library_at_module_level() -> None:
    # Catches optional imports (try: import pandas) that the test above lets through.
    offenders = [
        f"{path.relative_to(REPO_ROOT)}: {name}"
        for path in (REPO_ROOT / "common").rglob("*.py")
        for name in _module_level_imports(ast.parse(path.read_text()))
        if name.split(".")[0] in HEAVY
    ]
    assert offenders == []


def test_light_common_modules_import_no_backend() -> None:
    code = f"""
        import importlib, sys
        for name in {LIGHT_MODULES!r}:
            importlib.import_module(name)
        loaded = [b for b in {BACKENDS!r} if b in sys.modules]
        print(' '.join(loaded))
    """
    result = _fresh_dev_interpreter(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"back-ends imported eagerly: {result.stdout.strip()}"
