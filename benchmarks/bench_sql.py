"""The benchmarks of Go's sql_test.go (Go 1.19): BenchmarkConcurrentDBExec through
BenchmarkManyConcurrentQueries.

Each ``benchmark_<name>(n)`` runs the loop body of Go's ``Benchmark<Name>`` n
times. The Concurrent* ones are, as in Go, n runs of doConcurrentTest (a fresh
"people" DB and 500 requests served by two worker threads, Go's GOMAXPROCS(1)
times 2); ManyConcurrentQueries is Go's b.RunParallel: 16 threads per CPU
(Go's SetParallelism(16) times GOMAXPROCS) sharing the n iterations.
Go's b.ReportAllocs has no Python twin.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from tests.sqltest import close_db, new_test_db
from tests.test_sql_pool import (
    ConcurrentDBExecTest,
    ConcurrentRandomTest,
    ConcurrentStmtExecTest,
    ConcurrentStmtQueryTest,
    ConcurrentTest,
    ConcurrentTxExecTest,
    ConcurrentTxQueryTest,
    ConcurrentTxStmtExecTest,
    ConcurrentTxStmtQueryTest,
    _Goroutines,
    do_concurrent_test,
)


def _gomaxprocs() -> int:
    """runtime.GOMAXPROCS(0): Go's default is the number of CPUs the process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _concurrent(n: int, ct: ConcurrentTest) -> None:
    for _ in range(n):
        t = _Goroutines()
        do_concurrent_test(t, ct)
        t.check()  # b.Error from the workers fails the benchmark


def benchmark_concurrent_db_exec(n: int) -> None:
    _concurrent(n, ConcurrentDBExecTest())


def benchmark_concurrent_stmt_query(n: int) -> None:
    _concurrent(n, ConcurrentStmtQueryTest())


def benchmark_concurrent_stmt_exec(n: int) -> None:
    _concurrent(n, ConcurrentStmtExecTest())


def benchmark_concurrent_tx_query(n: int) -> None:
    _concurrent(n, ConcurrentTxQueryTest())


def benchmark_concurrent_tx_exec(n: int) -> None:
    _concurrent(n, ConcurrentTxExecTest())


def benchmark_concurrent_tx_stmt_query(n: int) -> None:
    _concurrent(n, ConcurrentTxStmtQueryTest())


def benchmark_concurrent_tx_stmt_exec(n: int) -> None:
    _concurrent(n, ConcurrentTxStmtExecTest())


def benchmark_concurrent_random(n: int) -> None:
    _concurrent(n, ConcurrentRandomTest())


def _run_parallel(n: int, threads: int, body: Callable[[], None]) -> None:
    """Go's b.RunParallel: threads workers take the n iterations between them
    (pb.Next); an exception in a worker (b.Error) fails the benchmark."""
    left = n
    mu = threading.Lock()

    def next_iteration() -> bool:
        nonlocal left
        with mu:
            if left <= 0:
                return False
            left -= 1
            return True

    def worker() -> None:
        while next_iteration():
            body()

    g = _Goroutines()
    for _ in range(threads):
        g.go(worker)
    g.wait()
    g.check()


def benchmark_many_concurrent_queries(n: int) -> None:
    # To see lock contention in Go 1.4, 16~ cores and 128~ goroutines are required.
    parallelism = 16

    db = new_test_db("magicquery")
    try:
        db.set_max_idle_conns(_gomaxprocs() * parallelism)

        stmt = db.prepare("SELECT|magicquery|op|op=?,millis=?")
        try:

            def query() -> None:
                rows = stmt.query("sleep", 1)
                rows.close()

            # b.SetParallelism(parallelism); b.RunParallel(...)
            _run_parallel(n, _gomaxprocs() * parallelism, query)
        finally:
            stmt.close()
    finally:
        close_db(db)
