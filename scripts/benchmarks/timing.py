"""The benchmarks' one way to time things: a stopwatch, repeated samples and their summaries."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Elapsed:
    seconds: float = 0.0

    @property
    def ms(self) -> float:
        return self.seconds * 1000


@contextmanager
def stopwatch(step: str | None = None) -> Iterator[Elapsed]:
    """``with stopwatch() as took: ...``, then ``took.seconds`` or ``took.ms``. A ``step`` name
    also reports the step's start and duration on stderr: progress, apart from the figures."""
    if step:
        print(f"  {step} ...", file=sys.stderr, flush=True)
    elapsed = Elapsed()
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.seconds = time.perf_counter() - started
        if step:
            print(f"  {step}: {elapsed.seconds:.1f} s", file=sys.stderr, flush=True)


def samples_ms(action: Callable[[], object], runs: int, warmup: int = 0) -> list[float]:
    """Wall time of ``runs`` calls, in ms, after ``warmup`` untimed ones (caches, bytecode)."""
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(runs):
        with stopwatch() as took:
            action()
        timings.append(took.ms)
    return timings


def median_ms(action: Callable[[], object], runs: int, warmup: int = 0) -> float:
    return statistics.median(samples_ms(action, runs, warmup))


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def best_seconds(action: Callable[[], T], runs: int) -> tuple[float, T]:
    """The fastest of ``runs`` calls (the least disturbed by the machine), and the last result."""
    best = float("inf")
    for _ in range(runs):
        with stopwatch() as took:
            result = action()
        best = min(best, took.seconds)
    return best, result
