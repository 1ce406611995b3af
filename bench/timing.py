"""Timing shared by the benchmarks (not a benchmark itself: `make bench` runs only bench_*.py)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(call: Callable[[int], object], calls: int, warmup: int = 10) -> float:
    """Median wall time of one ``call(i)``, in ms, after ``warmup`` untimed calls."""
    for index in range(warmup):
        call(index)
    samples = []
    for index in range(calls):
        started = time.perf_counter()
        call(index)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
