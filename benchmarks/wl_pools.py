"""The pools the workloads (benchmarks/workloads.py) compare dbsql with.

* :class:`MinimalPool`: the floor for pool workloads, a deque of raw DB-API
  connections under a ``threading.Lock`` with a ``Condition`` to wait on when
  all of them are checked out;
* :class:`FairMinimalPool`: the same with Go's order under contention (a
  connection put back goes to the longest waiting thread), the floor for a
  pool with dbsql's semantics in W3;
* :class:`GoStepsPool`: only the lock round trips Go's checkout and return do
  (no checks, no logic), the floor for W2 under Go's semantics;
* :class:`GoStmtSteps`: only the lock round trips of a shared Stmt's point
  query, around a raw query, the floor for W6 under Go's semantics;
* the peers a user would pick instead of dbsql, loaded only when a workload asks
  for them: SQLAlchemy 2 (:func:`load_sqlalchemy`), DBUtils (:func:`load_dbutils`)
  and psycopg_pool (:func:`load_psycopg_pool`). A peer that is not installed
  raises :class:`NotInstalled`, which the runner reports as "not installed".

The peers are imported with :func:`importlib.import_module` and handled as
``Any``: the benchmarks type-check (``mypy --strict``) whether or not they are
installed (they are the ``bench`` extra, which ``make lint`` does not install).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections import deque
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = [
    "FairMinimalPool",
    "GoStepsPool",
    "GoStmtSteps",
    "MinimalPool",
    "NotInstalled",
    "load_dbutils",
    "load_psycopg_pool",
    "load_sqlalchemy",
]

# A DB-API 2.0 connection (sqlite3.Connection, psycopg.Connection, ...).
DBAPIConn = Any


class NotInstalled(Exception):
    """A peer library the workload needs is not installed."""

    def __init__(self, package: str) -> None:
        super().__init__(f"{package} is not installed (pip install -e '.[bench]')")
        self.package = package


def _import(module: str, package: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise NotInstalled(package) from e


class MinimalPool:
    """The least a thread-safe pool does: reuse idle connections (LIFO), open a
    new one while fewer than size are open, else wait for one to come back.

    No health checks, no session reset, no lifetime limits, no statistics: the
    floor that dbsql's pool and the peers' are measured against.
    """

    def __init__(self, connect: Callable[[], DBAPIConn], size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: deque[DBAPIConn] = deque()
        self._open = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    def get(self) -> DBAPIConn:
        with self._lock:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._open < self._size:
                    self._open += 1
                    break
                self._cond.wait()
        try:
            return self._connect()
        except BaseException:
            with self._lock:
                self._open -= 1
                self._cond.notify()
            raise

    def put(self, conn: DBAPIConn) -> None:
        with self._lock:
            self._idle.append(conn)
            self._cond.notify()

    def fill(self) -> None:
        """Open all size connections now, so no measured get() opens one."""
        conns = [self.get() for _ in range(self._size)]
        for c in conns:
            self.put(c)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = list(self._idle), deque()
            self._open -= len(idle)
        for c in idle:
            c.close()


class FairMinimalPool(MinimalPool):
    """MinimalPool with Go's discipline under contention: a connection put back
    goes straight to the thread that has waited longest, and a thread that finds
    none idle queues behind the waiters (no barging: the thread that just put a
    connection back cannot take it again ahead of them).

    The floor for a pool that serves connection requests in order, as dbsql's
    does (Go's connRequests): each contended hand-off wakes a waiting thread.
    """

    def __init__(self, connect: Callable[[], DBAPIConn], size: int) -> None:
        super().__init__(connect, size)
        # Waiting threads, oldest first: a held lock to block on, and the slot
        # the connection is handed over in.
        self._waiters: deque[tuple[threading.Lock, list[DBAPIConn]]] = deque()

    def get(self) -> DBAPIConn:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                self._open += 1
                wait = None
            else:
                wait = threading.Lock()
                wait.acquire()
                slot: list[DBAPIConn] = []
                self._waiters.append((wait, slot))
        if wait is not None:
            wait.acquire()  # released by put, once the slot holds a connection
            return slot[0]
        try:
            return self._connect()
        except BaseException:
            with self._lock:
                self._open -= 1
            raise

    def put(self, conn: DBAPIConn) -> None:
        with self._lock:
            if self._waiters:
                wait, slot = self._waiters.popleft()
                slot.append(conn)
                wait.release()
                return
            self._idle.append(conn)


class _GoStepsConn:
    """A driver connection as Go's pool keeps it: its lock, in use, returned at."""

    __slots__ = ("conn", "lock", "in_use", "returned_at")

    def __init__(self, conn: DBAPIConn) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.in_use = False
        self.returned_at = 0.0


class GoStepsHandle:
    """What GoStepsPool.get hands out: Go's Conn (closemu's mutex, done)."""

    __slots__ = ("dc", "mu", "done", "writer")

    def __init__(self, dc: _GoStepsConn) -> None:
        self.dc = dc
        self.mu = threading.Lock()
        self.done = False
        self.writer = False

    @property
    def conn(self) -> DBAPIConn:
        return self.dc.conn


class GoStepsPool:
    """Only the synchronization Go's DB.Conn and Conn.Close do, in straight-line
    code with nothing checked: the floor for W2 under Go's semantics.

    get: db.mu (take an idle connection, mark it in use), the driver
    connection's lock (Go's session-reset check), a Conn with a closemu mutex.
    put: the Conn's mutex (done flag and closemu write lock in one acquisition),
    the driver connection's lock (Go's validity check), db.mu (mark idle, note
    the return time, push), and the mutex again (closemu unlock).
    """

    def __init__(self, connect: Callable[[], DBAPIConn], size: int) -> None:
        self._mu = threading.Lock()
        self._free = [_GoStepsConn(connect()) for _ in range(size)]

    def get(self) -> GoStepsHandle:
        with self._mu:
            dc = self._free.pop()
            dc.in_use = True
        with dc.lock:
            pass  # (the session-reset check)
        return GoStepsHandle(dc)

    def put(self, h: GoStepsHandle) -> None:
        with h.mu:
            h.done = True
            h.writer = True
        dc = h.dc
        with dc.lock:
            pass  # (the validity check)
        with self._mu:
            dc.in_use = False
            dc.returned_at = time.monotonic()
            self._free.append(dc)
        with h.mu:
            h.writer = False

    def close(self) -> None:
        with self._mu:
            free, self._free = self._free, []
        for dc in free:
            dc.conn.close()


class _GoStmtConn:
    """GoStmtSteps on one connection: its driver connection's and driver
    statement's locks, around a raw cursor."""

    __slots__ = ("steps", "cur", "dc", "ds")

    def __init__(self, steps: GoStmtSteps, cur: Any) -> None:
        self.steps = steps
        self.cur = cur
        self.dc = threading.Lock()
        self.ds = threading.Lock()

    def query_row(self, q: str, arg: object) -> object:
        s = self.steps
        dc = self.dc
        with s.closemu:
            pass  # the Stmt's closemu read lock (Go's QueryContext)
        with s.mu:
            pass  # connStmt
        with s.db_mu:
            pass  # db.conn: take the idle connection
        with dc:
            pass  # the session-reset check
        with s.mu:
            pass  # the connection's driver statement
        with self.ds:
            self.cur.execute(q, (arg,))  # rowsiFromStatement
        rows = _GoRows()
        with s.db_mu:
            pass  # addDep(s, rows)
        with s.closemu:
            pass  # closemu read unlock
        with dc:
            row = self.cur.fetchone()  # Row.Scan's Next
        with dc:
            pass  # the driver Rows' close
        rows.closed = True
        with dc:
            pass  # the validity check (putConn)
        with s.db_mu:
            pass  # putConn: back to the idle list
        with s.db_mu:
            pass  # removeDep(s, rows)
        return row


class _GoRows:
    """The Rows a Stmt query allocates, reduced to its closemu and a flag."""

    __slots__ = ("closemu", "closed")

    def __init__(self) -> None:
        self.closemu = threading.Lock()
        self.closed = False


class GoStmtSteps:
    """Only the synchronization dbsql's (and Go's) shared Stmt does for a point
    query (``stmt.query_row(id).scan(...)``), in straight-line code around the
    raw driver's execute and fetchone, nothing checked or converted: the floor
    for W6 under Go's semantics.

    Shared, as one DB and one Stmt share them: db.mu, the Stmt's mu and its
    closemu's mutex. Per connection (:meth:`conn`): the driver connection's and
    the driver statement's locks. Thirteen lock round trips a query, in Go's
    order: closemu, s.mu (connStmt), db.mu (take a connection), dc (session
    reset), s.mu (its statement), ds around the execute, db.mu (addDep),
    closemu (read unlock), dc around the fetch, dc (the driver Rows' close), dc
    (validity), db.mu (putConn), db.mu (removeDep); and the Rows with their
    closemu's lock. Rows that only their Row can reach skip their own closemu,
    as dbsql's do.
    """

    def __init__(self) -> None:
        self.db_mu = threading.Lock()
        self.mu = threading.Lock()
        self.closemu = threading.Lock()

    def conn(self, cur: Any) -> _GoStmtConn:
        """The steps on a connection of the calling thread's, through cursor cur."""
        return _GoStmtConn(self, cur)


class SQLAlchemy:
    """What the workloads use of SQLAlchemy 2: create_engine, text, QueuePool, event."""

    def __init__(self, sa: ModuleType, pool: ModuleType) -> None:
        self.sa = sa
        self.version: str = sa.__version__
        self.QueuePool: Any = pool.QueuePool

    def engine(
        self,
        url: str,
        *,
        size: int,
        autocommit: bool,
        creator: Callable[[], DBAPIConn] | None = None,
        connect_args: dict[str, Any] | None = None,
        on_connect: Callable[[DBAPIConn], None] | None = None,
    ) -> Any:
        """An Engine whose QueuePool keeps up to size connections and never
        opens more (max_overflow=0); AUTOCOMMIT isolation when autocommit."""
        kw: dict[str, Any] = {
            "poolclass": self.QueuePool,
            "pool_size": size,
            "max_overflow": 0,
            "pool_timeout": 60,
        }
        if autocommit:
            kw["isolation_level"] = "AUTOCOMMIT"
        if creator is not None:
            kw["creator"] = creator
        if connect_args:
            kw["connect_args"] = connect_args
        engine = self.sa.create_engine(url, **kw)
        if on_connect is not None:
            hook = on_connect

            def listener(dbapi_conn: DBAPIConn, _record: object) -> None:
                hook(dbapi_conn)

            self.sa.event.listen(engine, "connect", listener)
        return engine

    def text(self, sql: str) -> Any:
        return self.sa.text(sql)


def load_sqlalchemy() -> SQLAlchemy:
    sa = _import("sqlalchemy", "SQLAlchemy")
    if int(str(sa.__version__).split(".")[0]) < 2:
        raise NotInstalled(f"SQLAlchemy>=2 (found {sa.__version__})")
    return SQLAlchemy(sa, _import("sqlalchemy.pool", "SQLAlchemy"))


class DBUtils:
    """DBUtils' PooledDB (dbutils.pooled_db)."""

    def __init__(self, mod: ModuleType, version: str) -> None:
        self._mod = mod
        self.version = version

    def pooled_db(self, creator: Callable[[], DBAPIConn], size: int) -> Any:
        """A PooledDB of at most size dedicated connections that blocks when all
        are in use, with its defaults otherwise (reset=True: a rollback on return;
        ping=1: checked with ping() when the connection has one)."""
        return self._mod.PooledDB(
            creator, mincached=size, maxcached=size, maxconnections=size, blocking=True
        )


def load_dbutils() -> DBUtils:
    mod = _import("dbutils.pooled_db", "DBUtils")
    top = _import("dbutils", "DBUtils")
    return DBUtils(mod, str(getattr(top, "__version__", "?")))


class PsycopgPool:
    """psycopg_pool's ConnectionPool."""

    def __init__(self, mod: ModuleType) -> None:
        self._mod = mod
        self.version = str(getattr(mod, "__version__", "?"))

    def pool(self, dsn: str, size: int, *, autocommit: bool) -> Any:
        """A ConnectionPool of exactly size connections, opened and filled."""
        p = self._mod.ConnectionPool(
            dsn, min_size=size, max_size=size, kwargs={"autocommit": autocommit}, open=True
        )
        p.wait(timeout=60.0)
        return p


def load_psycopg_pool() -> PsycopgPool:
    return PsycopgPool(_import("psycopg_pool", "psycopg_pool"))
