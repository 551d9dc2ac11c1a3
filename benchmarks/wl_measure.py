"""Timing for the workloads (benchmarks/workloads.py).

* :func:`calibrate` and :func:`time_run`: one thread doing ``run(n)``, n found
  as Go's testing.B does (grow n until a run lasts the bench time);
* :func:`run_threads`: threads doing an operation over and over for a warm-up
  and then a measured window, each operation timed end to end (and its wait for
  a connection, when the operation reports it).
"""

from __future__ import annotations

import gc
import math
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ThreadRun", "calibrate", "grow", "percentile", "run_threads", "spread", "time_run"]

# An operation run by a thread: returns the seconds it waited for a connection,
# or a negative number when that wait cannot be told apart from the rest.
Op = Callable[[], float]
# Called once in each thread before the start: its operation and what to do
# when the thread is done (give back a dedicated connection...).
OpFactory = Callable[[], tuple[Op, Callable[[], None]]]


def grow(run: Callable[[int], object], target: float, max_n: int) -> tuple[int, float]:
    """Run run(n) with n growing as Go's testing.B does (predictN: aiming 20% past
    the target, at most 100x and at least one more per step) until one run lasts
    at least target seconds or n reaches max_n; return that n and the seconds
    per operation of its run."""
    n = 1
    while True:
        gc.collect()
        start = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - start
        if elapsed >= target or n >= max_n:
            return n, elapsed / n
        per_op = max(elapsed / n, 1e-9)
        n = max(min(int(target / per_op * 1.2), 100 * n), n + 1)


def calibrate(run: Callable[[int], None], target: float) -> int:
    """The n for which run(n) lasts at least target seconds (see grow). The runs
    double as the warm-up."""
    return grow(run, target, 100_000_000)[0]


def time_run(run: Callable[[int], None], n: int) -> float:
    """Seconds per operation of run(n)."""
    gc.collect()
    start = time.perf_counter()
    run(n)
    return (time.perf_counter() - start) / n


@dataclass
class ThreadRun:
    ops: int  # operations that ended inside the measured window
    window: float  # seconds
    latencies: list[float]  # seconds, of each operation that overlapped the window
    waits: list[float]  # seconds waited for a connection, where the operation told

    @property
    def per_op(self) -> float:
        return self.window / self.ops if self.ops else float("inf")


def run_threads(threads: int, factory: OpFactory, warmup: float, duration: float) -> ThreadRun:
    """Run threads threads, each calling factory() once and then its operation
    until the end of the window [start + warmup, start + warmup + duration);
    count the operations that end in the window and time all that overlap it."""
    window = [0.0, 0.0]

    def open_window() -> None:  # run by one thread once all have arrived
        t = time.perf_counter()
        window[0], window[1] = t + warmup, t + warmup + duration

    barrier = threading.Barrier(threads, action=open_window)
    results: list[tuple[int, list[float], list[float]]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            op, done = factory()
        except BaseException as e:
            with lock:
                errors.append(e)
            barrier.abort()
            return
        lat: list[float] = []
        waits: list[float] = []
        ops = 0
        try:
            barrier.wait()
            start, stop = window
            perf_counter = time.perf_counter
            while True:
                t0 = perf_counter()
                if t0 >= stop:
                    break
                w = op()
                t1 = perf_counter()
                if t1 >= start:
                    # Every operation that overlaps the window is timed, the last
                    # one of each thread too (it ends after the window closes), so
                    # that an operation starved through the whole window counts;
                    # the throughput counts those that end inside the window.
                    lat.append(t1 - t0)
                    if w >= 0:
                        waits.append(w)
                    if t1 < stop:
                        ops += 1
        except threading.BrokenBarrierError:
            pass
        except BaseException as e:
            with lock:
                errors.append(e)
            barrier.abort()
        finally:
            done()
        with lock:
            results.append((ops, lat, waits))

    gc.collect()
    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    ops = sum(n for n, _, _ in results)
    latencies = [x for _, lat, _ in results for x in lat]
    waits = [x for _, _, w in results for x in w]
    return ThreadRun(ops, duration, latencies, waits)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of values, nearest rank."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)
