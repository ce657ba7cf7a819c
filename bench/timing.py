"""Timing shared by the benchmarks: the median of repeated calls after a warm-up."""

import statistics
import time


def timed(fn, repeats):
    """Returns (median seconds of ``repeats`` calls, seconds the first call took beyond it, its result)."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return median, max(first - median, 0.0), result
