"""Run every function of ``functions/`` locally, one functions-framework process each, wired
together by an event bus: the local bus (default) or Google's Pub/Sub emulator (``--emulator``).

    python -m scripts.local.stack            # serve until Ctrl-C
    python -m scripts.local.stack --emulator # events through the Pub/Sub emulator

One origin serves them all: the gateway (scripts/local/gateway.py) on --port (8080) routes each
path to its function by path_prefix, the API reference at /docs. The bus (or emulator) listens
on --base-port, functions on the following ports in name order. Each process's output goes to
.local/logs/<name>.log; the console shows one line per request (process, method, path, status,
milliseconds): the gateway's, then the function's.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from common.config import load_config, load_config_or_exit
from common.events.envelope import EVENT_TYPES
from common.openapi.reference import DOCS_PATH
from scripts.deploy.catalog import REPO_ROOT, FunctionSpec, discover
from scripts.local.bus import LocalBus, LocalBusServer
from scripts.local.emulators import PubSubEmulator, stop_process_group, wait_for_port
from scripts.local.landing import LandingWatcher, poster
from scripts.local.serve_function import ACCESS_PREFIX

LOCAL_DIR = REPO_ROOT / ".local"
EMULATOR_PROJECT = "execkpi-local"
GATEWAY = "gateway"


@dataclass
class LocalStack:
    specs: list[FunctionSpec]
    base_port: int = 8090
    env: dict[str, str] = field(default_factory=dict)  # EXECKPI_* settings for every function
    use_emulator: bool = False
    log_dir: Path = LOCAL_DIR / "logs"
    urls: dict[str, str] = field(default_factory=dict)
    bus: LocalBusServer | None = None
    emulator: PubSubEmulator | None = None
    show_requests: bool = False  # echo each function's access lines on the console
    gateway_port: int | None = None  # None: no gateway, each function on its own port only
    gateway_url: str | None = None
    landing: LandingWatcher | None = None  # hands files dropped in the landing folder over
    _processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self) -> LocalStack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            env = {**os.environ, **self._bus_env()}
            for spec in self.specs:
                self._start_function(spec, port_of(spec.name, self.specs, self.base_port), env)
            self._subscribe()
            if self.gateway_port is not None:
                self._start_gateway(env)
            self._watch_landing()
        except BaseException:
            self.stop()
            raise
        return self

    def _bus_env(self) -> dict[str, str]:
        prefix = self.env.get("EXECKPI_TOPIC_PREFIX", "")
        if self.use_emulator:
            self.emulator = PubSubEmulator(self.base_port, self.log_dir)
            self.emulator.start()
            env = {"EXECKPI_EVENTS": "pubsub", "EXECKPI_PUBSUB_PROJECT": EMULATOR_PROJECT}
            return {**self.env, **env, "PUBSUB_EMULATOR_HOST": self.emulator.host}
        bus = LocalBus(topic_prefix=prefix)
        self.bus = LocalBusServer(bus, port=self.base_port).start()
        return {**self.env, "EXECKPI_EVENTS": "local", "EXECKPI_LOCAL_BUS_URL": self.bus.url}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _start_function(self, spec: FunctionSpec, port: int, env: dict[str, str]) -> None:
        command = [
            sys.executable,
            "-m",
            "scripts.local.serve_function",
            "--target",
            spec.entry_point,
        ]
        command += ["--source", str(spec.source), "--signature-type", spec.signature_type]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        self.urls[spec.name] = self._start_process(spec.name, command, port, env)

    def _start_gateway(self, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "scripts.local.gateway", "--port", str(self.gateway_port)]
        for spec in self.specs:
            if spec.path_prefix is not None:
                timeout = str(spec.timeout_seconds)
                command += ["--route", spec.name, spec.path_prefix, self.urls[spec.name], timeout]
        self.gateway_url = self._start_process(GATEWAY, command, self.gateway_port, env)

    def _start_process(self, name: str, command: list[str], port: int, env: dict[str, str]) -> str:
        process = subprocess.Popen(
            command,
            env={**env, "PYTHONUNBUFFERED": "1"},
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._processes[name] = process
        threading.Thread(target=self._copy_output, args=(name, process), daemon=True).start()
        try:
            wait_for_port(port, timeout=60, process=process)
        except RuntimeError as exc:
            raise RuntimeError(f"{name} did not start; see {self.log_path(name)}") from exc
        return f"http://127.0.0.1:{port}"

    def _copy_output(self, name: str, process: subprocess.Popen) -> None:
        """All a process prints goes to its log file; its access lines also to the console
        while ``show_requests`` is set."""
        with self.log_path(name).open("ab") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                text = line.decode(errors="replace")
                if self.show_requests and text.startswith(ACCESS_PREFIX):
                    print(f"  {name:<14} {text.removeprefix(ACCESS_PREFIX).rstrip()}", flush=True)

    def _subscribe(self) -> None:
        prefix = self.env.get("EXECKPI_TOPIC_PREFIX", "")
        subscriptions = [
            (spec, event) for spec in self.specs for event in (*spec.events, *spec.push_events)
        ]
        if self.bus is not None:
            for spec, event in subscriptions:
                url = self.urls[spec.name] + "/"
                concurrent = event in spec.push_events  # an HTTP function: as Pub/Sub pushes
                self.bus.bus.subscribe(
                    prefix + event, url, f"{spec.name}-{event}", concurrent=concurrent
                )
            return
        from google.cloud import pubsub_v1

        os.environ[PubSubEmulator.env_var] = self.emulator.host
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        for event_type in sorted(EVENT_TYPES):
            publisher.create_topic(name=publisher.topic_path(EMULATOR_PROJECT, prefix + event_type))
        for spec, event in subscriptions:
            subscriber.create_subscription(
                name=subscriber.subscription_path(EMULATOR_PROJECT, f"{spec.name}-{event}"),
                topic=publisher.topic_path(EMULATOR_PROJECT, prefix + event),
                push_config={"push_endpoint": self.urls[spec.name] + "/"},
                ack_deadline_seconds=60,
            )

    def _watch_landing(self) -> None:
        """Play the landing bucket's notifications for each storage-triggered function."""
        for spec in self.specs:
            if spec.storage is not None:
                folder = Path(self.env.get("EXECKPI_LANDING_DIR") or load_config().landing_dir)
                self.landing = LandingWatcher(folder, poster(self.urls[spec.name])).start()

    def stop(self) -> None:
        if self.landing is not None:
            self.landing.stop()
        for process in self._processes.values():
            stop_process_group(process)
        self._processes.clear()
        if self.bus is not None:
            self.bus.stop()
        if self.emulator is not None:
            self.emulator.stop()

    def processes(self) -> dict[str, subprocess.Popen]:
        """Each started process (function or gateway) by name, while the stack runs."""
        return dict(self._processes)

    def wait_idle(self, timeout: float = 60) -> bool:
        """True once the local bus has delivered everything (always True on the emulator)."""
        return self.bus.wait_idle(timeout) if self.bus is not None else True

    def banner(self) -> str:
        """The one URL to use: the dashboard, every route of every function, the docs."""
        return f"ExecKPI at {self.gateway_url} - dashboard at /, API reference at {DOCS_PATH}"

    def describe(self) -> str:
        bus = self.bus.url if self.bus else f"Pub/Sub emulator at {self.emulator.host}"
        lines = [f"  {'event bus':<14} {bus}"]
        if self.gateway_url is not None:
            lines.append(self._line(GATEWAY, self.gateway_url, "routes by path prefix"))
        for spec in self.specs:
            lines.append(self._line(spec.name, self.urls[spec.name], _serves(spec)))
        if self.landing is not None:
            lines.append(f"  {'landing':<14} drop files in {_shown(self.landing.folder)}/<table>/")
        return "\n".join(lines)

    def _line(self, name: str, url: str, role: str) -> str:
        return f"  {name:<14} {url:<24} log {_shown(self.log_path(name)):<28} {role}"


def _serves(spec: FunctionSpec) -> str:
    if spec.events:
        return "on " + ", ".join(spec.events)
    if spec.storage is not None:
        return f"on files in the {spec.storage} bucket (scripts/local/landing.py)"
    if spec.path_prefix is None:
        return "HTTP, not behind the gateway"
    return f"HTTP {spec.path_prefix or '/ (the rest)'}"


def _shown(path: Path) -> str:
    """A path relative to the repository when it lies inside it."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def port_of(name: str, specs: list[FunctionSpec], base_port: int) -> int:
    """Functions listen on the ports after the bus's, in name order."""
    return base_port + 1 + [spec.name for spec in specs].index(name)


def function_url(name: str, base_port: int = 8090) -> str:
    """Where the local stack serves ``name`` (started with every function of ``functions/``)."""
    return f"http://127.0.0.1:{port_of(name, discover(), base_port)}"


def serve_until_interrupted(stack: LocalStack) -> None:
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stack.show_requests = True
    print("Serving, one line per request (function, method, path, status, ms).", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    with suppress(KeyboardInterrupt):
        stopped.wait()


def refuse_port_clash(parser: argparse.ArgumentParser, port: int, base_port: int) -> None:
    """The gateway's port may not be one the bus (or emulator) and the functions take from
    ``base_port`` on: the first to bind would answer in the other's place."""
    last = base_port + len(discover())
    if base_port <= port <= last:
        parser.error(
            f"--port {port} is one of the local bus's and functions' ports ({base_port}-{last}):"
            " choose another, or move those with --base-port"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="the gateway's: the one URL")
    parser.add_argument("--base-port", type=int, default=8090)
    parser.add_argument("--emulator", action="store_true", help="use the Pub/Sub emulator")
    args = parser.parse_args(argv)
    refuse_port_clash(parser, args.port, args.base_port)
    load_config_or_exit()  # the functions would each fail on it; say why once, here
    stack = LocalStack(
        discover(), args.base_port, use_emulator=args.emulator, gateway_port=args.port
    ).start()
    try:
        print(stack.banner(), flush=True)
        print("\nProcesses of the local stack:\n" + stack.describe(), flush=True)
        serve_until_interrupted(stack)
    finally:
        stack.stop()
        print("stopped.")


if __name__ == "__main__":
    main()
