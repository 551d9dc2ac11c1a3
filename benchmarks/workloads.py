"""Workloads of issue 5: dbsql beside the raw driver and the pools a user would pick.

``python -m benchmarks.workloads [--db sqlite|postgres|all] [-w W1,W2] [--repeats N]
[--quick] [--profile]``; ``python -m benchmarks`` (``make bench``) runs them after
the ported Go benchmarks.

Each workload runs in a process of its own, on SQLite (a file in WAL mode in a
temporary directory) and, when ``DBSQL_TEST_POSTGRES_DSN`` is set, on PostgreSQL.
Its candidates take turns (repeat 1 of every candidate, then repeat 2...), each
repeat on a freshly opened pool that is warmed up first; a repeat of a one-thread
workload lasts about the bench time (n grows as in Go's testing.B), a threaded one
runs for a fixed window after a warm-up. Reported: the median over the repeats and
their min-max, and the ratio to the baseline measured in the same repeat (median
and min-max of those ratios).

Workloads (the baseline first):

W1  point query ``SELECT id, name FROM people WHERE id = ?`` on 1,000 rows, one
    thread. Baseline: the raw driver on one connection with one reused cursor
    (execute + fetchone), the limit. dbsql: ``db.query_row(...).scan(int, str)``.
W2  pool checkout and return, no query. Baseline: the minimal pool's get/put.
W3  contention: 8 and 32 threads share 4 connections, point queries. Throughput
    (ops/s; the ratio is the candidate's throughput over the minimal pool's), the
    p50/p99/max time of an operation end to end (medians over the repeats), and
    the p99 wait for a connection where it can be timed alone (dbsql's
    ``db.conn()``, the peers' checkout). An operation still waiting when the
    window closes is timed when it ends, so a max (or p99 wait) near the whole
    run (warm-up + window, 0.4 s) means a thread starved all along.
W4  a transaction per operation: begin, insert into a table with an autoincrement
    id, commit; the table is emptied before each measured run.
W5  scan 10,000 rows of (int, text, float, bool): dbsql as ``for row in rows``
    and as ``next()`` + ``scan(int, str, float, bool)``; raw is execute +
    fetchall; SQLAlchemy ``.all()``.
W6  Go's BenchmarkManyConcurrentQueries shape: a prepared point query from 16
    threads; dbsql shares one ``db.prepare(...)`` Stmt (max idle 16); the raw
    limit gives each thread a dedicated connection. Two diagnosis rows run the
    raw driver and dbsql again with all 16 threads on one CPU: what is left
    when the GIL is not handed from one CPU to the other. A floor row runs the
    raw connection per thread with only the lock round trips of the shared
    Stmt's query (wl_pools.GoStmtSteps): what any pool with Go's semantics
    costs at the least.

Candidates beside dbsql: the raw driver (sqlite3 / psycopg 3, which dbsql's
drivers wrap); the minimal pool (a deque of raw connections under a Lock, with a
Condition to wait on: the floor for pool workloads); SQLAlchemy 2 Core
(``engine.connect()`` + ``text()`` on its QueuePool) and "SQLAlchemy pool + raw
cursor" (``engine.raw_connection()``); DBUtils ``PooledDB``; psycopg_pool
(``getconn``/``putconn``, PostgreSQL only). Read workloads use autocommit
connections for every candidate (dbsql's drivers run in autocommit, so do the
SQLAlchemy engines, with ``isolation_level="AUTOCOMMIT"``); W4 uses DB-API
transactions (execute, then ``commit()``) for the raw and pooled cursors and
``engine.begin()`` for SQLAlchemy Core. A peer that is not installed is reported
as "not installed" (``pip install -e '.[bench]'``).

``--json PATH`` also writes the results as JSON. ``--profile`` runs dbsql's
one-thread candidates (W1, W2, W4, W5) under cProfile instead and prints the 15
functions with the most time of their own.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib.metadata
import io
import itertools
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import dbsql
from benchmarks.wl_backends import (
    PEOPLE_ROWS,
    POSTGRES_DSN_ENV,
    SCAN_ROWS,
    Backend,
    PostgresBackend,
    open_backend,
)
from benchmarks.wl_measure import (
    Op,
    OpFactory,
    calibrate,
    percentile,
    run_threads,
    time_run,
)
from benchmarks.wl_pools import (
    DBUtils,
    FairMinimalPool,
    GoStepsPool,
    GoStmtSteps,
    MinimalPool,
    NotInstalled,
    PsycopgPool,
    SQLAlchemy,
    load_dbutils,
    load_psycopg_pool,
    load_sqlalchemy,
)

__all__ = ["WORKLOADS", "main"]

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")
DATABASES = ("sqlite", "postgres")
DB_TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

Run = Callable[[int], None]
Closer = Callable[[], None]
Kind = Literal["serial", "parallel", "contention"]


@dataclass
class Timing:
    """How long to measure: one-thread repeats last about serial seconds;
    threaded ones warm up for warmup seconds and then measure window seconds."""

    serial: float = 0.2
    warmup: float = 0.1
    window: float = 0.3

    @classmethod
    def quick(cls) -> Timing:
        return cls(serial=0.05, warmup=0.03, window=0.1)


@dataclass
class Target:
    """A goal of issue 5: the candidate's ratio to the baseline op bound."""

    label: str  # the same for every database, e.g. "W2 dbsql conn()+close() / minimal pool"
    op: Literal["<=", ">="]
    bound: float

    def met(self, ratio: float) -> bool:
        return ratio <= self.bound if self.op == "<=" else ratio >= self.bound

    def text(self) -> str:
        return f"{self.op} {self.bound:g}x"


@dataclass
class Case:
    """A candidate: make() opens what it needs and returns its run(n) (serial
    sections) or its per-thread operation factory (threaded ones), and a close."""

    name: str
    make: Callable[[], tuple[Any, Closer]]
    target: Target | None = None


@dataclass
class Section:
    key: str  # "W1"
    title: str
    kind: Kind
    threads: int
    baseline: str  # the name of the baseline case
    baseline_short: str  # "raw", "minimal pool"
    cases: list[Case]
    before_each: Callable[[], None] | None = None  # before each measured run (W4)
    check: Callable[[int], None] | None = None  # after a measured run of n ops (W4)


@dataclass
class CaseResult:
    name: str
    status: str = ""  # "" when measured; "not installed: ..."; "error: ..."
    n: int = 0
    per_op_us: list[float] = field(default_factory=list)  # one per repeat
    p50_us: list[float] = field(default_factory=list)
    p99_us: list[float] = field(default_factory=list)
    max_us: list[float] = field(default_factory=list)
    wait_p99_us: list[float] = field(default_factory=list)
    target: Target | None = None


@dataclass
class SectionResult:
    key: str
    title: str
    kind: Kind
    threads: int
    baseline: str
    baseline_short: str
    cases: list[CaseResult]

    @staticmethod
    def from_json(d: dict[str, Any]) -> SectionResult:
        cases = []
        for c in d["cases"]:
            t = c.pop("target")
            cases.append(CaseResult(**c, target=Target(**t) if t else None))
        d = dict(d, cases=cases)
        return SectionResult(**d)

    def ratios(self, c: CaseResult) -> list[float]:
        """The candidate's ratio to the baseline in each repeat: time per op
        over the baseline's, or for contention the throughput over the baseline's."""
        base = next((b for b in self.cases if b.name == self.baseline), None)
        if base is None or base.status or c.status:
            return []
        pairs = zip(c.per_op_us, base.per_op_us, strict=False)
        if self.kind == "contention":
            return [b / x for x, b in pairs]
        return [x / b for x, b in pairs]


# ---- the candidates ----


def _ids(n: int) -> Iterator[int]:
    """n ids of the people table, in a cycle."""
    return itertools.islice(itertools.cycle(range(1, PEOPLE_ROWS + 1)), n)


class Peers:
    """The peer libraries, loaded on first use (NotInstalled if missing)."""

    def sa(self) -> SQLAlchemy:
        return load_sqlalchemy()

    def dbutils(self) -> DBUtils:
        return load_dbutils()

    def pgpool(self) -> PsycopgPool:
        return load_psycopg_pool()


# A pool of raw connections seen the same way for every library:
# (acquire, release, close).
Adapter = tuple[Callable[[], Any], Callable[[Any], None], Closer]
# What a pooled candidate does with a raw connection: work(conn, id).
Work = Callable[[Any, int], None]

MINIMAL = "minimal pool: deque + Lock + Condition"
FAIR = "minimal pool, Go's order: FIFO hand-off"
SA_CORE = "SQLAlchemy Core: engine.connect(), text()"
SA_RAW = "SQLAlchemy pool + raw cursor"
DBUTILS = "DBUtils PooledDB"
PGPOOL = "psycopg_pool getconn/putconn"
ONE_CPU = "all threads on one CPU: "  # W6 diagnosis rows (not candidates)


def _adapters(
    b: Backend, p: Peers, size: int, autocommit: bool
) -> list[tuple[str, Callable[[], Adapter]]]:
    """The pools of raw connections: the minimal one and the peers'."""

    def minimal() -> Adapter:
        pool = MinimalPool(lambda: b.raw_connect(autocommit=autocommit), size)
        pool.fill()

        def close() -> None:
            pool.close()

        return pool.get, pool.put, close

    def sa_raw() -> Adapter:
        engine = b.sa_engine(p.sa(), size=size, autocommit=autocommit)

        def release(c: Any) -> None:
            c.close()

        return engine.raw_connection, release, engine.dispose

    def dbutils() -> Adapter:
        pool = p.dbutils().pooled_db(lambda: b.raw_connect(autocommit=autocommit), size)

        def release(c: Any) -> None:
            c.close()

        return pool.connection, release, pool.close

    def pgpool() -> Adapter:
        if not isinstance(b, PostgresBackend):
            raise NotInstalled("psycopg_pool")  # not offered on this database
        pool = p.pgpool().pool(b.dsn, size, autocommit=autocommit)
        return pool.getconn, pool.putconn, pool.close

    out: list[tuple[str, Callable[[], Adapter]]] = [
        (MINIMAL, minimal),
        (SA_RAW, sa_raw),
        (DBUTILS, dbutils),
    ]
    if b.has_psycopg_pool:
        out.append((PGPOOL, pgpool))
    return out


def _pooled_serial(adapter: Callable[[], Adapter], work: Work) -> Callable[[], tuple[Run, Closer]]:
    def make() -> tuple[Run, Closer]:
        acquire, release, close = adapter()

        def run(n: int) -> None:
            for i in _ids(n):
                c = acquire()
                try:
                    work(c, i)
                finally:
                    release(c)

        return run, close

    return make


def _pooled_threaded(
    adapter: Callable[[], Adapter], work: Work
) -> Callable[[], tuple[OpFactory, Closer]]:
    def make() -> tuple[OpFactory, Closer]:
        acquire, release, close = adapter()
        ids = itertools.cycle(range(1, PEOPLE_ROWS + 1))

        def factory() -> tuple[Op, Closer]:
            def op() -> float:
                t0 = time.perf_counter()
                c = acquire()
                t1 = time.perf_counter()
                try:
                    work(c, next(ids))
                finally:
                    release(c)
                return t1 - t0

            return op, _noop

        return factory, close

    return make


def _noop() -> None:
    pass


def _on_one_cpu(
    make: Callable[[], tuple[OpFactory, Closer]],
) -> Callable[[], tuple[OpFactory, Closer]]:
    """A threaded candidate whose every worker thread runs on the same one CPU
    (os.sched_setaffinity on the calling thread, Linux): the GIL is then handed
    over on one core, with no cross-core wake-up. What a per-op cost becomes
    when threads only take turns (W6's diagnosis: benchmarks/README.md)."""

    def pinned() -> tuple[OpFactory, Closer]:
        factory, close = make()
        cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else -1

        def on_cpu() -> tuple[Op, Closer]:
            if cpu >= 0:
                os.sched_setaffinity(0, {cpu})  # this worker thread only
            return factory()

        return on_cpu, close

    return pinned


# ---- dbsql's Python per operation, as busy work (W3 and W6 diagnosis rows) ----

PY_COST = "+ dbsql's Python per op as busy work between the driver calls"
# W6's floor row: benchmarks/wl_pools.py, GoStmtSteps.
GO_STMT_STEPS = "+ Go's steps alone: a shared Stmt query's 13 lock round trips and its Rows"
_PY_CHUNKS = 4  # before the cursor, before fetchone, before close, after close

# What dbsql does on one thread, given an open DB: the operation and a closer.
DbsqlOp = Callable[[dbsql.DB], tuple[Callable[[], object], Closer]]


def _busy(n: int) -> None:
    """n iterations of pure Python: holds the GIL, releases nothing."""
    x = 0
    for i in range(n):
        x += i


def _loop(f: Callable[[], object]) -> Run:
    def run(n: int) -> None:
        for _ in range(n):
            f()

    return run


def _busy_chunk(b: Backend, q_raw: str, dbsql_op: DbsqlOp) -> int:
    """Iterations of _busy per chunk so that _PY_CHUNKS chunks cost, on one
    thread, what dbsql's operation costs beyond the raw point query on a
    connection of its own (cursor, execute, fetchone, close): dbsql's own
    Python per operation, measured in this process before each repeat (the
    best of 6 time_runs of each; the first doubles as the warm-up)."""
    conn = b.raw_connect(autocommit=True)
    db = b.dbsql_open()
    try:
        raw = _loop(functools.partial(_point_work(q_raw), conn, 7))
        op, close = dbsql_op(db)
        try:
            t_dbsql, t_raw = (min(time_run(r, 2000) for _ in range(6)) for r in (_loop(op), raw))
            extra = max(0.0, t_dbsql - t_raw)
        finally:
            close()
    finally:
        db.close()
        conn.close()
    per_iter = min(time_run(_busy, 200_000) for _ in range(5))
    return round(extra / _PY_CHUNKS / per_iter)


def _point_work_busy(q_raw: str, chunk: int) -> Work:
    """_point_work with busy Python between the driver calls, while the
    connection is held, where dbsql's own Python sits (argument conversion and
    the Rows before the query, the row and its scan between the fetch and the
    close, the close's bookkeeping and the return to the pool after it)."""

    def work(c: Any, i: int) -> None:
        _busy(chunk)
        cur = c.cursor()
        cur.execute(q_raw, (i,))
        _busy(chunk)
        cur.fetchone()
        _busy(chunk)
        cur.close()
        _busy(chunk)

    return work


def _with_py_cost(
    b: Backend,
    q_raw: str,
    dbsql_op: DbsqlOp,
    make: Callable[[Work], Callable[[], tuple[OpFactory, Closer]]],
) -> Callable[[], tuple[OpFactory, Closer]]:
    """A diagnosis candidate: make(work) with the point query's work carrying
    dbsql's Python per operation (_busy_chunk), calibrated before each repeat."""

    def made() -> tuple[OpFactory, Closer]:
        return make(_point_work_busy(q_raw, _busy_chunk(b, q_raw, dbsql_op)))()

    return made


def _point_queries(b: Backend) -> tuple[str, str, str]:
    t = b.people
    return (
        f"SELECT id, name FROM {t} WHERE id = {b.ph_raw}",
        f"SELECT id, name FROM {t} WHERE id = {b.ph(1)}",
        f"SELECT id, name FROM {t} WHERE id = :id",
    )


def _point_work(q_raw: str) -> Work:
    def work(c: Any, i: int) -> None:
        cur = c.cursor()
        cur.execute(q_raw, (i,))
        cur.fetchone()
        cur.close()

    return work


def w1(b: Backend, p: Peers) -> list[Section]:
    b.create_people()
    q_raw, q_db, q_sa = _point_queries(b)
    raw_name = f"raw {b.raw_name}: 1 connection, reused cursor"

    def raw() -> tuple[Run, Closer]:
        conn = b.raw_connect()
        cur = conn.cursor()

        def run(n: int) -> None:
            for i in _ids(n):
                cur.execute(q_raw, (i,))
                cur.fetchone()

        return run, conn.close

    def dbsql_query_row() -> tuple[Run, Closer]:
        db = b.dbsql_open()
        if db.query_row(q_db, 7).scan(int, str) != (7, "name-7"):
            raise AssertionError("dbsql: wrong row")

        def run(n: int) -> None:
            for i in _ids(n):
                db.query_row(q_db, i).scan(int, str)

        return run, db.close

    def sa_core() -> tuple[Run, Closer]:
        sa = p.sa()
        engine = b.sa_engine(sa, size=2, autocommit=True)
        stmt = sa.text(q_sa)

        def run(n: int) -> None:
            for i in _ids(n):
                with engine.connect() as c:
                    c.execute(stmt, {"id": i}).one()

        return run, engine.dispose

    cases = [
        Case(raw_name, raw),
        Case(
            "dbsql: db.query_row().scan(int, str)",
            dbsql_query_row,
            Target("W1 point query: dbsql / raw", "<=", 1.3 if b.key == "postgres" else 3.0),
        ),
        Case(SA_CORE, sa_core),
    ]
    work = _point_work(q_raw)
    cases += [
        Case(name, _pooled_serial(a, work)) for name, a in _adapters(b, p, 2, autocommit=True)
    ]
    return [
        Section(
            "W1",
            f"W1 point query, 1 thread: SELECT id, name FROM people WHERE id = {b.ph(1)}"
            f" ({PEOPLE_ROWS:,} rows)",
            "serial",
            1,
            raw_name,
            "raw",
            cases,
        )
    ]


def w2(b: Backend, p: Peers) -> list[Section]:
    def minimal() -> tuple[Run, Closer]:
        pool = MinimalPool(b.raw_connect, 2)
        pool.fill()

        def run(n: int) -> None:
            for _ in range(n):
                c = pool.get()
                pool.put(c)

        return run, pool.close

    def go_steps() -> tuple[Run, Closer]:
        pool = GoStepsPool(b.raw_connect, 2)

        def run(n: int) -> None:
            for _ in range(n):
                pool.put(pool.get())

        return run, pool.close

    def dbsql_conn() -> tuple[Run, Closer]:
        db = b.dbsql_open()

        def run(n: int) -> None:
            for _ in range(n):
                db.conn().close()

        return run, db.close

    def sa_core() -> tuple[Run, Closer]:
        engine = b.sa_engine(p.sa(), size=2, autocommit=True)

        def run(n: int) -> None:
            for _ in range(n):
                engine.connect().close()

        return run, engine.dispose

    def sa_raw() -> tuple[Run, Closer]:
        engine = b.sa_engine(p.sa(), size=2, autocommit=True)

        def run(n: int) -> None:
            for _ in range(n):
                engine.raw_connection().close()

        return run, engine.dispose

    def dbutils() -> tuple[Run, Closer]:
        pool = p.dbutils().pooled_db(b.raw_connect, 2)

        def run(n: int) -> None:
            for _ in range(n):
                pool.connection().close()

        return run, pool.close

    def pgpool() -> tuple[Run, Closer]:
        assert isinstance(b, PostgresBackend)
        pool = p.pgpool().pool(b.dsn, 2, autocommit=True)

        def run(n: int) -> None:
            for _ in range(n):
                c = pool.getconn()
                pool.putconn(c)

        return run, pool.close

    cases = [
        Case("minimal pool: get() + put()", minimal),
        Case("Go's steps alone: 5 lock round trips + a Conn", go_steps),
        Case(
            "dbsql: db.conn() + close()",
            dbsql_conn,
            Target("W2 checkout: dbsql / minimal pool", "<=", 2.0),
        ),
        Case("SQLAlchemy: engine.connect() + close()", sa_core),
        Case("SQLAlchemy pool: raw_connection() + close()", sa_raw),
        Case("DBUtils: pool.connection() + close()", dbutils),
    ]
    if b.has_psycopg_pool:
        cases.append(Case("psycopg_pool: getconn() + putconn()", pgpool))
    return [
        Section(
            "W2",
            "W2 pool checkout + return, no query, 1 thread",
            "serial",
            1,
            cases[0].name,
            "minimal pool",
            cases,
        )
    ]


def w3(b: Backend, p: Peers) -> list[Section]:
    b.create_people()
    q_raw, q_db, q_sa = _point_queries(b)
    size = 4
    ids = itertools.cycle(range(1, PEOPLE_ROWS + 1))

    def dbsql_db() -> tuple[OpFactory, Closer]:
        db = b.dbsql_open()
        db.set_max_open_conns(size)
        db.set_max_idle_conns(size)

        def factory() -> tuple[Op, Closer]:
            def op() -> float:
                db.query_row(q_db, next(ids)).scan(int, str)
                return -1.0

            return op, _noop

        return factory, db.close

    def dbsql_conn() -> tuple[OpFactory, Closer]:
        db = b.dbsql_open()
        db.set_max_open_conns(size)
        db.set_max_idle_conns(size)

        def factory() -> tuple[Op, Closer]:
            def op() -> float:
                t0 = time.perf_counter()
                c = db.conn()
                t1 = time.perf_counter()
                try:
                    c.query_row(q_db, next(ids)).scan(int, str)
                finally:
                    c.close()
                return t1 - t0

            return op, _noop

        return factory, db.close

    def sa_core() -> tuple[OpFactory, Closer]:
        sa = p.sa()
        engine = b.sa_engine(sa, size=size, autocommit=True)
        stmt = sa.text(q_sa)

        def factory() -> tuple[Op, Closer]:
            def op() -> float:
                t0 = time.perf_counter()
                c = engine.connect()
                t1 = time.perf_counter()
                try:
                    c.execute(stmt, {"id": next(ids)}).one()
                finally:
                    c.close()
                return t1 - t0

            return op, _noop

        return factory, engine.dispose

    def fair() -> Adapter:
        pool = FairMinimalPool(lambda: b.raw_connect(autocommit=True), size)
        pool.fill()
        return pool.get, pool.put, pool.close

    def dbsql_query_row(db: dbsql.DB) -> tuple[Callable[[], object], Closer]:
        return (lambda: db.query_row(q_db, 7).scan(int, str)), _noop

    sections = []
    work = _point_work(q_raw)
    for threads in (8, 32):
        cases = [
            Case(MINIMAL, _pooled_threaded(_adapters(b, p, size, True)[0][1], work)),
            Case(FAIR, _pooled_threaded(fair, work)),
            # Diagnosis, not a candidate: Go's order carrying dbsql's Python.
            Case(
                f"{FAIR} {PY_COST}",
                _with_py_cost(b, q_raw, dbsql_query_row, lambda w: _pooled_threaded(fair, w)),
            ),
            Case(
                "dbsql: db.query_row().scan()",
                dbsql_db,
                Target("W3 32 threads: dbsql throughput / minimal pool", ">=", 0.8)
                if threads == 32
                else None,
            ),
            Case("dbsql: db.conn(), query_row, close", dbsql_conn),
            Case(SA_CORE, sa_core),
        ]
        cases += [
            Case(name, _pooled_threaded(a, work))
            for name, a in _adapters(b, p, size, autocommit=True)[1:]
        ]
        sections.append(
            Section(
                "W3",
                f"W3 contention: {threads} threads share {size} connections, point queries",
                "contention",
                threads,
                MINIMAL,
                "minimal pool",
                cases,
            )
        )
    return sections


def w4(b: Backend, p: Peers) -> list[Section]:
    b.create_tx()
    t = b.txtab
    ins_raw = f"INSERT INTO {t} (name) VALUES ({b.ph_raw})"
    ins_db = f"INSERT INTO {t} (name) VALUES ({b.ph(1)})"
    ins_sa = f"INSERT INTO {t} (name) VALUES (:name)"
    raw_name = f"raw {b.raw_name}: 1 connection, execute + commit()"

    def raw() -> tuple[Run, Closer]:
        conn = b.raw_connect(autocommit=False)
        cur = conn.cursor()

        def run(n: int) -> None:
            for _ in range(n):
                cur.execute(ins_raw, ("w4",))
                conn.commit()

        return run, conn.close

    def dbsql_tx() -> tuple[Run, Closer]:
        db = b.dbsql_open()

        def run(n: int) -> None:
            for _ in range(n):
                tx = db.begin()
                tx.exec(ins_db, "w4")
                tx.commit()

        return run, db.close

    def sa_core() -> tuple[Run, Closer]:
        sa = p.sa()
        engine = b.sa_engine(sa, size=2, autocommit=False)
        stmt = sa.text(ins_sa)

        def run(n: int) -> None:
            for _ in range(n):
                with engine.begin() as c:
                    c.execute(stmt, {"name": "w4"})

        return run, engine.dispose

    def work(c: Any, _i: int) -> None:
        cur = c.cursor()
        cur.execute(ins_raw, ("w4",))
        cur.close()
        c.commit()

    def check(n: int) -> None:
        got = b.count(t)
        if got != n:
            raise AssertionError(f"W4: {got} rows after {n} transactions")

    cases = [
        Case(raw_name, raw),
        Case(
            "dbsql: db.begin(), tx.exec(), tx.commit()",
            dbsql_tx,
            Target("W4 transaction: dbsql / raw", "<=", 1.8),
        ),
        Case("SQLAlchemy Core: engine.begin(), text()", sa_core),
    ]
    cases += [
        Case(name, _pooled_serial(a, work)) for name, a in _adapters(b, p, 2, autocommit=False)
    ]
    return [
        Section(
            "W4",
            "W4 a transaction per op: begin, insert (autoincrement id), commit; 1 thread",
            "serial",
            1,
            raw_name,
            "raw",
            cases,
            before_each=b.truncate_tx,
            check=check,
        )
    ]


def scan_next_all(db: dbsql.DB, q: str) -> list[tuple[Any, ...]]:
    """W5's dbsql candidate: every row of q with next() + scan(int, str, float,
    bool) (benchmarks/instructions.py counts it too)."""
    rows = db.query(q)
    out = []
    while rows.next():
        out.append(rows.scan(int, str, float, bool))
    rows.close()
    err = rows.err()
    if err is not None:
        raise err
    return out


def w5(b: Backend, p: Peers) -> list[Section]:
    b.create_scan()
    q = f"SELECT id, name, score, flag FROM {b.scantab}"
    raw_name = f"raw {b.raw_name}: execute + fetchall()"

    def expect(rows: list[Any], who: str) -> None:
        if len(rows) != SCAN_ROWS:
            raise AssertionError(f"{who}: {len(rows)} rows, want {SCAN_ROWS}")

    def raw() -> tuple[Run, Closer]:
        conn = b.raw_connect()
        cur = conn.cursor()
        cur.execute(q)
        expect(cur.fetchall(), "raw")

        def run(n: int) -> None:
            for _ in range(n):
                cur.execute(q)
                cur.fetchall()

        return run, conn.close

    def dbsql_iter() -> tuple[Run, Closer]:
        db = b.dbsql_open()
        expect(list(db.query(q)), "dbsql")

        def run(n: int) -> None:
            for _ in range(n):
                rows = db.query(q)
                _ = [row for row in rows]

        return run, db.close

    def dbsql_scan() -> tuple[Run, Closer]:
        db = b.dbsql_open()
        expect(scan_next_all(db, q), "dbsql")

        def run(n: int) -> None:
            for _ in range(n):
                scan_next_all(db, q)

        return run, db.close

    def sa_core() -> tuple[Run, Closer]:
        sa = p.sa()
        engine = b.sa_engine(sa, size=2, autocommit=True)
        stmt = sa.text(q)

        def run(n: int) -> None:
            for _ in range(n):
                with engine.connect() as c:
                    c.execute(stmt).all()

        return run, engine.dispose

    def work(c: Any, _i: int) -> None:
        cur = c.cursor()
        cur.execute(q)
        cur.fetchall()
        cur.close()

    cases = [
        Case(raw_name, raw),
        Case(
            "dbsql: for row in rows",
            dbsql_iter,
            Target("W5 scan: dbsql for row in rows / raw", "<=", 1.5),
        ),
        Case(
            "dbsql: next() + scan(int, str, float, bool)",
            dbsql_scan,
            Target("W5 scan: dbsql next()+scan() / raw", "<=", 3.0),
        ),
        Case("SQLAlchemy Core: execute(text()).all()", sa_core),
    ]
    cases += [
        Case(name, _pooled_serial(a, work)) for name, a in _adapters(b, p, 2, autocommit=True)
    ]
    return [
        Section(
            "W5",
            f"W5 scan {SCAN_ROWS:,} rows x (int, text, float, bool), 1 thread (µs per query)",
            "serial",
            1,
            raw_name,
            "raw",
            cases,
        )
    ]


def w6(b: Backend, p: Peers) -> list[Section]:
    b.create_people()
    q_raw, q_db, q_sa = _point_queries(b)
    threads = 16
    ids = itertools.cycle(range(1, PEOPLE_ROWS + 1))
    raw_name = f"raw {b.raw_name}: a dedicated connection per thread"

    def raw() -> tuple[OpFactory, Closer]:
        def factory() -> tuple[Op, Closer]:
            conn = b.raw_connect()
            cur = conn.cursor()

            def op() -> float:
                cur.execute(q_raw, (next(ids),))
                cur.fetchone()
                return -1.0

            return op, conn.close

        return factory, _noop

    def raw_with(work: Work) -> Callable[[], tuple[OpFactory, Closer]]:
        def make() -> tuple[OpFactory, Closer]:
            def factory() -> tuple[Op, Closer]:
                conn = b.raw_connect(autocommit=True)

                def op() -> float:
                    work(conn, next(ids))
                    return -1.0

                return op, conn.close

            return factory, _noop

        return make

    def dbsql_stmt_op(db: dbsql.DB) -> tuple[Callable[[], object], Closer]:
        stmt = db.prepare(q_db)
        return (lambda: stmt.query_row(7).scan(int, str)), stmt.close

    def dbsql_stmt() -> tuple[OpFactory, Closer]:
        db = b.dbsql_open()
        db.set_max_idle_conns(threads)
        stmt = db.prepare(q_db)

        def factory() -> tuple[Op, Closer]:
            def op() -> float:
                stmt.query_row(next(ids)).scan(int, str)
                return -1.0

            return op, _noop

        def close() -> None:
            stmt.close()
            db.close()

        return factory, close

    def sa_core() -> tuple[OpFactory, Closer]:
        sa = p.sa()
        engine = b.sa_engine(sa, size=threads, autocommit=True)
        stmt = sa.text(q_sa)

        def factory() -> tuple[Op, Closer]:
            def op() -> float:
                with engine.connect() as c:
                    c.execute(stmt, {"id": next(ids)}).one()
                return -1.0

            return op, _noop

        return factory, engine.dispose

    cases = [
        Case(raw_name, raw),
        Case(
            "dbsql: one shared db.prepare() Stmt, query_row().scan()",
            dbsql_stmt,
            Target("W6 16 threads prepared: dbsql / raw conn per thread", "<=", 1.5),
        ),
        Case(SA_CORE, sa_core),
    ]
    work = _point_work(q_raw)
    cases += [
        Case(name, _pooled_threaded(a, work))
        for name, a in _adapters(b, p, threads, autocommit=True)
    ]

    # Diagnosis, not candidates: the same two with all 16 threads on one CPU,
    # and a raw connection per thread carrying dbsql's Python per operation.
    def go_steps() -> tuple[OpFactory, Closer]:
        steps = GoStmtSteps()

        def factory() -> tuple[Op, Closer]:
            conn = b.raw_connect()
            held = steps.conn(conn.cursor())

            def op() -> float:
                held.query_row(q_raw, next(ids))
                return -1.0

            return op, conn.close

        return factory, _noop

    cases += [
        Case(f"{ONE_CPU}raw, a connection per thread", _on_one_cpu(raw)),
        Case(f"{ONE_CPU}dbsql, one shared Stmt", _on_one_cpu(dbsql_stmt)),
        Case(
            f"raw, a connection per thread, {PY_COST}",
            _with_py_cost(b, q_raw, dbsql_stmt_op, raw_with),
        ),
        Case(f"raw, a connection per thread, {GO_STMT_STEPS}", go_steps),
    ]
    return [
        Section(
            "W6",
            f"W6 Go's BenchmarkManyConcurrentQueries shape: prepared point query, {threads} threads"
            " (wall µs per op)",
            "parallel",
            threads,
            raw_name,
            "raw",
            cases,
        )
    ]


BUILDERS: dict[str, Callable[[Backend, Peers], list[Section]]] = {
    "W1": w1,
    "W2": w2,
    "W3": w3,
    "W4": w4,
    "W5": w5,
    "W6": w6,
}


# ---- measuring ----


def _fail(res: CaseResult, e: BaseException) -> None:
    if isinstance(e, NotInstalled):
        res.status = f"not installed: {e.package}"
    else:
        res.status = f"error: {e!r}"
        print(f"{res.name} FAILED:\n{traceback.format_exc()}", file=sys.stderr, flush=True)


def run_section(sec: Section, repeats: int, timing: Timing) -> SectionResult:
    """Measure every case of sec repeats times, the cases taking turns."""
    results = [CaseResult(c.name, target=c.target) for c in sec.cases]
    for r in range(repeats):
        print(f"  {sec.title[:60]}: repeat {r + 1}/{repeats}", file=sys.stderr, flush=True)
        for case, res in zip(sec.cases, results, strict=True):
            if res.status:
                continue
            try:
                if sec.kind == "serial":
                    _measure_serial(sec, case, res, timing)
                else:
                    _measure_threads(sec, case, res, timing)
            except Exception as e:
                _fail(res, e)
    return SectionResult(
        sec.key, sec.title, sec.kind, sec.threads, sec.baseline, sec.baseline_short, results
    )


def _measure_serial(sec: Section, case: Case, res: CaseResult, timing: Timing) -> None:
    run, close = case.make()
    try:
        if not res.n:
            res.n = calibrate(run, timing.serial)  # the warm-up too
        else:
            run(max(1, res.n // 10))  # warm up the fresh pool
        if sec.before_each is not None:
            sec.before_each()
        res.per_op_us.append(time_run(run, res.n) * 1e6)
        if sec.check is not None:
            sec.check(res.n)
    finally:
        close()


def _measure_threads(sec: Section, case: Case, res: CaseResult, timing: Timing) -> None:
    factory, close = case.make()
    try:
        tr = run_threads(sec.threads, factory, timing.warmup, timing.window)
    finally:
        close()
    if not tr.latencies:
        raise RuntimeError("no operation finished")
    res.n += tr.ops
    res.per_op_us.append(tr.per_op * 1e6)  # inf when none ended inside the window
    res.p50_us.append(percentile(tr.latencies, 50) * 1e6)
    res.p99_us.append(percentile(tr.latencies, 99) * 1e6)
    res.max_us.append(max(tr.latencies) * 1e6)
    if tr.waits:
        res.wait_p99_us.append(percentile(tr.waits, 99) * 1e6)


# ---- report ----


def _num(v: float) -> str:
    if v != v:  # NaN
        return "-"
    if v < 10:
        return f"{v:.2f}"
    if v < 100:
        return f"{v:.1f}"
    return f"{v:,.0f}"


def _range(vs: list[float], fmt: Callable[[float], str] = _num) -> str:
    return f"{fmt(min(vs))}-{fmt(max(vs))}" if vs else ""


def _ratio(v: float) -> str:
    return f"{v:.2f}x"


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Lines of a table, the first left columns left-aligned, the others right-aligned.
    A row of two cells is a name and a note spanning the other columns."""
    full = [r for r in rows if len(r) == len(headers)]
    widths = [max([len(h), *(len(r[i]) for r in full)]) for i, h in enumerate(headers)]
    widths[0] = max([widths[0], *(len(r[0]) for r in rows)])

    def line(cells: list[str]) -> str:
        if len(cells) == 2:
            return f"{cells[0].ljust(widths[0])}  {cells[1]}"
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _verdict(target: Target | None, ratios: list[float]) -> tuple[str, str]:
    if target is None:
        return "", ""
    if not ratios:
        return target.text(), "-"
    return target.text(), "PASS" if target.met(statistics.median(ratios)) else "MISS"


def format_section(s: SectionResult) -> list[str]:
    rows: list[list[str]] = []
    vs = f"vs {s.baseline_short}"
    if s.kind == "contention":
        headers = ["candidate", "ops/s", "min-max", vs, "min-max", "p50 µs", "p99 µs"]
        headers += ["max µs", "p99 wait µs", "target", ""]
    else:
        headers = ["candidate", "µs/op", "min-max", vs, "min-max", "target", ""]
    for c in s.cases:
        if c.status:
            rows.append([c.name, c.status])
            continue
        ratios = s.ratios(c)
        target, verdict = _verdict(c.target, ratios)
        ratio = _ratio(statistics.median(ratios)) if ratios else "-"
        rrange = _range(ratios, lambda v: f"{v:.2f}") if ratios else ""
        if s.kind == "contention":
            ops = [1e6 / x for x in c.per_op_us]
            wait = _num(statistics.median(c.wait_p99_us)) if c.wait_p99_us else "-"
            rows.append(
                [
                    c.name,
                    f"{statistics.median(ops):,.0f}",
                    _range(ops, lambda v: f"{v:,.0f}"),
                    ratio,
                    rrange,
                    _num(statistics.median(c.p50_us)),
                    _num(statistics.median(c.p99_us)),
                    _num(statistics.median(c.max_us)),
                    wait,
                    target,
                    verdict,
                ]
            )
        else:
            rows.append(
                [
                    c.name,
                    _num(statistics.median(c.per_op_us)),
                    _range(c.per_op_us),
                    ratio,
                    rrange,
                    target,
                    verdict,
                ]
            )
    return [s.title, *("  " + ln for ln in _table(headers, rows))]


@dataclass
class DBReport:
    key: str
    label: str = ""
    sections: list[SectionResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def format_summary(reports: list[DBReport]) -> list[str]:
    """The targets of issue 5, one row each, one column per database."""
    labels: list[str] = []
    cells: dict[tuple[str, str], str] = {}
    for rep in reports:
        for s in rep.sections:
            for c in s.cases:
                if c.target is None:
                    continue
                if c.target.label not in labels:
                    labels.append(c.target.label)
                ratios = s.ratios(c)
                if c.status or not ratios:
                    cell = c.status or "-"
                else:
                    m = statistics.median(ratios)
                    verdict = "PASS" if c.target.met(m) else "MISS"
                    cell = f"{_ratio(m)} ({c.target.text()}) {verdict}"
                cells[(c.target.label, rep.key)] = cell
    headers = ["target (issue 5)"] + [DB_TITLES[r.key] for r in reports]
    rows = [[lb] + [cells.get((lb, r.key), "-") for r in reports] for lb in labels]
    out = _table(headers, rows, left=len(headers))
    if any(cell.endswith("MISS") for cell in cells.values()):
        out.append(
            "For each MISS: where the time goes and why it stays, benchmarks/README.md,"
            ' "Where the time goes, and why the misses stay".'
        )
    return out


def _versions() -> str:
    out = [f"Python {platform.python_version()}", f"{os.cpu_count()} CPUs"]
    for dist in ("psycopg", "SQLAlchemy", "DBUtils", "psycopg_pool"):
        try:
            out.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{dist} not installed")
    return ", ".join(out)


# ---- processes ----


def child(db: str, workload: str, repeats: int, timing: Timing, out: str) -> int:
    """Run one workload on one database in this process; write the JSON report to out."""
    backend = open_backend(db)
    try:
        sections = BUILDERS[workload](backend, Peers())
        results = [run_section(s, repeats, timing) for s in sections]
        label = backend.label()
    finally:
        backend.close()
    Path(out).write_text(
        json.dumps({"label": label, "sections": [asdict(r) for r in results]}),
        encoding="utf-8",
    )
    return 0


def _spawn(db: str, workload: str, repeats: int, quick: bool, rep: DBReport) -> None:
    with tempfile.TemporaryDirectory(prefix="dbsql-wl-") as d:
        out = os.path.join(d, "result.json")
        cmd = [sys.executable, "-m", "benchmarks.workloads", "--child", out]
        cmd += ["--db", db, "-w", workload, "--repeats", str(repeats)]
        if quick:
            cmd.append("--quick")
        print(f"{DB_TITLES[db]} {workload} ...", file=sys.stderr, flush=True)
        try:
            p = subprocess.run(cmd, cwd=ROOT, timeout=1800)
        except subprocess.TimeoutExpired:
            rep.errors.append(f"{workload}: timed out")
            return
        if p.returncode != 0 or not os.path.exists(out):
            rep.errors.append(f"{workload}: the process exited with status {p.returncode}")
            return
        data = json.loads(Path(out).read_text(encoding="utf-8"))
    rep.label = data["label"]
    rep.sections += [SectionResult.from_json(s) for s in data["sections"]]


def profile(dbs: list[str], workloads: list[str], timing: Timing) -> None:
    """cProfile dbsql's one-thread candidates; print the top 15 functions by tottime."""
    for db in dbs:
        backend = open_backend(db)
        try:
            for w in workloads:
                for sec in BUILDERS[w](backend, Peers()):
                    if sec.kind != "serial":
                        print(f"{DB_TITLES[db]} {sec.key}: threaded, not profiled\n")
                        continue
                    for case in sec.cases:
                        if not case.name.startswith("dbsql"):
                            continue
                        run, close = case.make()
                        try:
                            n = calibrate(run, timing.serial) * 5
                            prof = cProfile.Profile()
                            prof.enable()
                            run(n)
                            prof.disable()
                        finally:
                            close()
                        buf = io.StringIO()
                        st = pstats.Stats(prof, stream=buf)
                        st.strip_dirs().sort_stats("tottime").print_stats(15)
                        print(f"== {DB_TITLES[db]} {sec.key} {case.name}: {n} ops")
                        print(buf.getvalue().strip() + "\n")
        finally:
            backend.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.workloads", description=(__doc__ or "").split("\n")[0]
    )
    ap.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    ap.add_argument("-w", "--workloads", default=",".join(WORKLOADS), help="e.g. W1,W5")
    ap.add_argument("--repeats", type=int, default=0, help="repeats (default 5, --quick 3)")
    ap.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    ap.add_argument("--profile", action="store_true", help="cProfile dbsql's one-thread cases")
    ap.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    ap.add_argument("--child", metavar="OUT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in BUILDERS]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    repeats = args.repeats or (3 if args.quick else 5)
    timing = Timing.quick() if args.quick else Timing()

    if args.child:
        return child(args.db, workloads[0], repeats, timing, args.child)

    dbs = list(DATABASES) if args.db == "all" else [args.db]
    skipped = ""
    if "postgres" in dbs and not os.environ.get(POSTGRES_DSN_ENV):
        if args.db == "postgres":
            ap.error(f"--db postgres needs {POSTGRES_DSN_ENV} (a libpq DSN)")
        dbs.remove("postgres")
        skipped = f"PostgreSQL skipped: set {POSTGRES_DSN_ENV} to run it"

    if args.profile:
        profile(dbs, workloads, timing)
        return 0

    print(f"\ndbsql workloads (issue 5): {_versions()}")
    print(
        f"{repeats} repeats per candidate, taking turns; one-thread repeats of"
        f" ~{timing.serial}s, threaded ones {timing.window}s after a {timing.warmup}s"
        " warm-up; median and min-max over the repeats",
        flush=True,
    )
    if skipped:
        print(skipped)
    reports: list[DBReport] = []
    failed = False
    for db in dbs:
        rep = DBReport(db)
        reports.append(rep)
        for w in workloads:
            _spawn(db, w, repeats, args.quick, rep)
        print(f"\n== {rep.label or DB_TITLES[db]} ==")
        for s in rep.sections:
            print()
            print("\n".join(format_section(s)))
            failed |= any(c.status.startswith("error") for c in s.cases)
        for e in rep.errors:
            print(f"\n{DB_TITLES[db]} {e}")
            failed = True
        sys.stdout.flush()
    if any(c.target for r in reports for s in r.sections for c in s.cases):
        print()
        print("\n".join(format_summary(reports)))
    if args.json:
        data = {"versions": _versions(), "repeats": repeats, "timing": asdict(timing)}
        data["reports"] = [asdict(r) for r in reports]
        Path(args.json).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
