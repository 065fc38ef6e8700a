"""The benchmarks' one way to read peak memory: of a running process with its workers (from
/proc), and of the finished child processes of this one (from getrusage)."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path


def _peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))


def peak_memory_mib(process: subprocess.Popen) -> float:
    """The largest peak RSS of a running server and its workers: under gunicorn the requests
    run in a forked worker, not in the process started."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return max(_peak_kib(pid) for pid in (process.pid, *map(int, children))) / 1024


def finished_children_peak_mib() -> float:
    """The largest peak RSS of any child process this one has waited for (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
