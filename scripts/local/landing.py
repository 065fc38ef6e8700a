"""The local stand-in for the landing bucket's notifications: a poller over the landing folder
(EXECKPI_LANDING_DIR, default .local/landing) that hands every new, complete file under
``<table>/`` to the ingest_landing function as the CloudEvent the bucket would send
(storage.object.v1.finalized), the same code path as in production.

A file is complete once its size and modification time are the same on two scans in a row; a
rewritten file is a new generation and is handed over again (the function's idempotency makes
the same bytes a no-op). What was handed over is remembered in ``<folder>/.handled.json``;
nothing is moved or deleted. Names with a segment starting with "." (editors' and copy tools'
temporary files) are left alone. The local stack (./dev stack, ./dev demo) runs one.

    python -m scripts.local.landing          # watch until Ctrl-C, against the local stack
    python -m scripts.local.landing --once   # hand over what is there now, then stop
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from common.config import load_config_or_exit
from common.ingest.landing import FINALIZED

LOCAL_BUCKET = "local-landing"
STATE_FILE = ".handled.json"


@dataclass(frozen=True)
class Seen:
    size: int
    mtime_ns: int

    @property
    def generation(self) -> str:
        return str(self.mtime_ns)


def finalized_event(name: str, seen: Seen, bucket: str = LOCAL_BUCKET) -> CloudEvent:
    """What Eventarc delivers for an object finalized in ``bucket``."""
    attributes = {
        "type": FINALIZED,
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "subject": f"objects/{name}",
        "id": f"{name}#{seen.generation}",
    }
    data = {"bucket": bucket, "name": name, "generation": seen.generation, "size": str(seen.size)}
    return CloudEvent(attributes, data)


def poster(url: str, timeout: float = 600) -> Callable[[CloudEvent], int]:
    """Deliver a CloudEvent to a function's URL in binary mode; the HTTP status."""

    def deliver(event: CloudEvent) -> int:
        headers, body = to_binary(event)
        return requests.post(url + "/", data=body, headers=headers, timeout=timeout).status_code

    return deliver


class LandingWatcher:
    def __init__(self, folder: Path, deliver: Callable[[CloudEvent], int]):
        self.folder, self.deliver = Path(folder), deliver
        self._previous: dict[str, Seen] = {}
        self._stopped = threading.Event()

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_FILE

    def _handled(self) -> dict[str, Seen]:
        if not self.state_path.is_file():
            return {}
        return {
            name: Seen(**seen) for name, seen in json.loads(self.state_path.read_text()).items()
        }

    def _remember(self, handled: dict[str, Seen]) -> None:
        state = {name: vars(seen) for name, seen in sorted(handled.items())}
        temp = self.state_path.with_suffix(".tmp")
        temp.write_text(json.dumps(state, indent=1))
        temp.replace(self.state_path)  # a crash leaves the old state, never half of one

    def _files(self) -> dict[str, Seen]:
        found = {}
        for path in sorted(self.folder.glob("*/**/*")):
            name = path.relative_to(self.folder).as_posix()
            if path.is_file() and not any(s.startswith(".") for s in name.split("/")):
                stat = path.stat()
                found[name] = Seen(stat.st_size, stat.st_mtime_ns)
        return found

    def scan(self) -> dict[str, int]:
        """Hand over the files complete since the last scan; their names and the statuses the
        function answered. A 5xx is tried again on the next scan, as Pub/Sub would."""
        if not self.folder.is_dir():
            return {}
        files, handled, answered = self._files(), self._handled(), {}
        for name, seen in files.items():
            if handled.get(name) == seen or self._previous.get(name) != seen:
                continue
            answered[name] = status = self.deliver(finalized_event(name, seen))
            if status < 500:
                handled[name] = seen
                self._remember(handled)
        self._previous = files
        return answered

    def once(self, settle_seconds: float = 1.0) -> dict[str, int]:
        """Two scans ``settle_seconds`` apart: what is complete now is handed over."""
        first = self.scan()
        time.sleep(settle_seconds)
        return {**first, **self.scan()}

    def watch(self, interval: float = 2.0) -> None:
        while not self._stopped.wait(interval):
            try:
                for name, status in self.scan().items():
                    print(f"landing: {name} -> ingest_landing {status}", flush=True)
            except (OSError, requests.RequestException) as exc:  # the stack is starting
                print(f"landing: {exc}", flush=True)

    def start(self, interval: float = 2.0) -> LandingWatcher:
        threading.Thread(target=self.watch, args=(interval,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()


def main(argv: list[str] | None = None) -> None:
    from scripts.local.stack import function_url  # the stack runs a watcher: import it late

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="the ingest_landing function's URL")
    parser.add_argument("--once", action="store_true", help="one pass, then stop")
    args = parser.parse_args(argv)
    config = load_config_or_exit()
    watcher = LandingWatcher(config.landing_dir, poster(args.url or function_url("ingest_landing")))
    if args.once:
        for name, status in watcher.once().items():
            print(f"{name}: {status}")
        return
    print(f"Watching {config.landing_dir}/<table>/ (Ctrl-C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        watcher.watch()


if __name__ == "__main__":
    main()
