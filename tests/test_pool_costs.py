"""What a query costs the pool beyond Go's semantics: no thread per query, Rows,
Stmt or Tx, and a point query takes each lock as often as Go's does."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from dbsql import context as ctxmod
from tests.sqltest import close_db, new_test_db, wait_condition


def test_no_thread_per_query_or_tx() -> None:
    db = new_test_db("people")
    try:
        db.set_max_open_conns(2)
        # Warm up: the shared context worker and timer threads start once.
        ctx, cancel = ctxmod.with_timeout(ctxmod.background(), 30)
        db.query_row_context(ctx, "SELECT|people|age|name=?", "Bob").scan(int)
        with db.begin_tx(ctx) as tx:
            tx.exec("INSERT|people|name=Warm,age=?", 1)
        cancel()
        baseline = threading.active_count()
        peak = baseline
        for i in range(1000):
            ctx, cancel = ctxmod.with_cancel(ctxmod.background())
            rows = db.query_context(ctx, "SELECT|people|age,name|")
            rows.next()
            if i % 2:
                cancel()  # the context closes the rows
            rows.close()
            tctx, tcancel = ctxmod.with_timeout(ctxmod.background(), 30)
            tx = db.begin_tx(tctx)
            tx.query_row("SELECT|people|age|name=?", "Alice").scan(int)
            stmt = tx.prepare("SELECT|people|age|name=?")
            stmt.query_row("Bob").scan(int)
            if i % 3:
                tx.commit()
            else:
                tcancel()  # the context rolls the transaction back
                assert wait_condition(lambda t=tx: t._done)  # type: ignore[misc]
            tcancel()
            cancel()
            peak = max(peak, threading.active_count())
        # 2,000 contexts, 1,000 Rows, Stmts and Txs: no thread of their own. The
        # shared callback pool may add a worker when a callback stalls.
        assert peak <= baseline + 2, f"threads grew from {baseline} to {peak}"
    finally:
        close_db(db)


class _CountingLock:
    """A lock that counts its acquisitions."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self.n = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self.n += 1
        return bool(self._lock.acquire(blocking, timeout))

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        t: type[BaseException] | None,
        v: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def test_point_query_lock_counts_match_go() -> None:
    db = new_test_db("people")
    real_mu = db._mu
    try:
        db.query_row("SELECT|people|age|name=?", "Bob").scan(int)  # one idle conn
        assert len(db._free_conn) == 1
        dc = db._free_conn[0]
        db_mu = _CountingLock(db._mu)
        dc_lock = _CountingLock(dc._lock)
        db._mu = db_mu  # type: ignore[assignment]
        dc._lock = dc_lock  # type: ignore[assignment]
        (age,) = db.query_row("SELECT|people|age|name=?", "Bob").scan(int)
        assert age == 2
        # Go's DB.QueryRow(...).Scan on fakedb, a reused connection:
        # db.mu: conn() 1 + putConn 1.
        assert db_mu.n == 2
        # dc's mutex: resetSession 1, queryDC's driverArgs + QueryContext
        # (ErrSkip) 1, prepare 1, rowsiFromStatement 1, Rows.Next 1, Rows.close's
        # rowsi.Close 1 and closeStmt.Close 1, putConn's validateConnection 1.
        assert dc_lock.n == 8
    finally:
        db._mu = real_mu
        close_db(db)
