"""Regression tests for the bugs that make stress and the chaos test
(tests/test_chaos.py) found, or that came to light while writing them: each
fails without its fix."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from dbsql import context as _ctx
from dbsql import driver, sql
from dbsql.context import Canceled
from dbsql.ctxutil import _ctx_driver_begin, _ctx_driver_prepare
from fakedb import fakedb as fdb
from tests.sqltest import close_db, new_test_db, wait_condition


def test_stmt_closed_while_its_conn_is_handed_to_a_waiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Stmt closed while its conn is out of the pool leaves the close of its
    driver statement to the conn's return (on_put) and drops it from the conn's
    open statements. A conn handed to a waiting request that then finds it
    expired is closed without being returned: its final close must close that
    statement too (Go leaks it; fakedb then refuses to close the conn: dangling
    statement)."""
    db = new_test_db("people")
    db.set_max_open_conns(1)
    db.set_conn_max_lifetime(3600)
    stmt = db.prepare("SELECT|people|name|")
    assert len(db._free_conn) == 1
    fc = fdb.fake_conn_of(db._free_conn[0]._ci)
    conn = db.conn()  # holds the only conn

    close_errors: list[BaseException] = []

    def post_close(_: fdb.FakeConn, err: BaseException | None) -> None:
        if err is not None:
            close_errors.append(err)

    fdb.set_hook_post_close_conn(post_close)
    handed = threading.Event()
    stmt_closed = threading.Event()
    now = [time.monotonic()]

    def clock() -> float:
        # In the waiter, once it holds the conn (db._mu free): the Stmt is
        # closed by "another thread" and the conn has expired.
        if (
            handed.is_set()
            and threading.current_thread() is waiter
            and not stmt_closed.is_set()
            and not db._mu.locked()
        ):
            stmt_closed.set()
            stmt.close()
            now[0] += 7200
        return now[0]

    monkeypatch.setattr(sql, "_now_func", clock)
    free_check = sql._put_conn_hook

    def put_hook(d: sql.DB, dc: sql._DriverConn) -> None:
        if free_check is not None:
            free_check(d, dc)
        handed.set()

    monkeypatch.setattr(sql, "_put_conn_hook", put_hook)
    errs: list[BaseException] = []

    def wait() -> None:
        try:
            db.ping()  # waits for the conn, finds it expired, retries on a new one
        except BaseException as e:
            errs.append(e)

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert wait_condition(lambda: len(db._conn_requests) == 1)
    conn.close()  # hands the conn to the waiter
    waiter.join(10)
    assert not waiter.is_alive() and not errs, errs
    assert stmt_closed.is_set()
    fdb.set_hook_post_close_conn(None)
    try:
        assert not close_errors, close_errors
        assert fc.stmts_closed == fc.stmts_made, "the statement was left open"
        assert fc.db is None, "the expired conn was not closed"
    finally:
        close_db(db)


def test_rows_close_error_on_context_cancel_reaches_no_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows closed because their context was cancelled: Go's awaitDone ignores
    the close error; it must not escape into the context's callback thread."""
    hook_errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda a: hook_errors.append(a.exc_value))
    db = new_test_db("people")
    ctx, cancel = _ctx.with_cancel(_ctx.background())
    rows = db.query_context(ctx, "SELECT|people|name|")
    fdb.rows_cursor_of(rows._rowsi).close_err = fdb.FakeDBError("fakedb: close failed")

    def closed() -> bool:
        rows._closemu.rlock()
        try:
            return rows._closed
        finally:
            rows._closemu.runlock()

    cancel()
    assert wait_condition(closed)
    # The callback's thread reports an escaping exception after close returns.
    ran = threading.Event()
    done_ctx, cancel2 = _ctx.with_cancel(_ctx.background())
    _ctx.after_func(done_ctx, ran.set)
    cancel2()
    assert ran.wait(10)
    assert not hook_errors, hook_errors
    assert isinstance(rows.err(), Canceled)
    close_db(db)


class _Stmt:
    def __init__(self, close_err: BaseException) -> None:
        self.close_err = close_err

    def close(self) -> None:
        raise self.close_err

    def num_input(self) -> int:
        return 0

    def exec(self, args: Sequence[Any]) -> driver.Result:
        raise NotImplementedError

    def query(self, args: Sequence[Any]) -> driver.Rows:
        raise NotImplementedError


class _Tx:
    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        raise driver.BadConnError()


class _Conn:
    """A driver Conn without the context methods; prepare and begin run while
    the caller's context is cancelled (cancel), and what they return fails to
    close or roll back."""

    def __init__(self, cancel: _ctx.CancelFunc) -> None:
        self.cancel = cancel

    def prepare(self, query: str) -> _Stmt:
        self.cancel()
        return _Stmt(driver.BadConnError())

    def close(self) -> None:
        pass

    def begin(self) -> _Tx:
        self.cancel()
        return _Tx()


def test_ctx_driver_prepare_ignores_the_close_error() -> None:
    """The context ended during a driver's prepare: Go closes the statement,
    ignores its close error and returns the context's error (a close error of
    driver.ErrBadConn would otherwise make the pool discard a good conn)."""
    ctx, cancel = _ctx.with_cancel(_ctx.background())
    with pytest.raises(Canceled):
        _ctx_driver_prepare(ctx, _Conn(cancel), "SELECT 1")


def test_ctx_driver_begin_ignores_the_rollback_error() -> None:
    """The context ended during a driver's begin: Go rolls back, ignores the
    rollback's error and returns the context's error."""
    ctx, cancel = _ctx.with_cancel(_ctx.background())
    with pytest.raises(Canceled):
        _ctx_driver_begin(ctx, None, _Conn(cancel))


def test_tx_prepare_racing_a_rollback_leaves_no_statement_open() -> None:
    """Tx.prepare vs a rollback of the Tx from another thread (its context
    cancelled): Go releases the Tx's closemu before adding the new Stmt to the
    Tx's statements, so a rollback in between misses it and leaves its driver
    statement open on a conn back in the pool. The rollback must close it."""
    db = new_test_db("people")
    tx = db.begin()
    dc = tx._dc
    assert dc is not None
    fc = fdb.fake_conn_of(dc._ci)
    real_release = tx._closemu_runlock_release
    rolled_back: list[BaseException | None] = []

    def release(err: BaseException | None) -> None:
        # The prepare is done with the conn: another thread rolls back now.
        real_release(err)
        if not rolled_back:
            t = threading.Thread(target=lambda: rolled_back.append(_rollback(tx)))
            t.start()
            t.join(10)
            assert not t.is_alive(), "rollback blocked"

    tx._closemu_runlock_release = release  # type: ignore[method-assign]
    stmt = tx.prepare("SELECT|people|name|")
    assert rolled_back == [None]
    assert stmt._closed, "the Tx's statement was left open"
    assert fc.stmts_closed == fc.stmts_made
    close_db(db)


def _rollback(tx: sql.Tx) -> BaseException | None:
    try:
        tx.rollback()
    except BaseException as e:
        return e
    return None


def test_db_close_drops_the_pending_opens() -> None:
    """Connection requests wait while the opener is busy opening: DB.close stops
    the opener, whose pending opens never run. Their optimistic num_open += 1
    must be undone (Go leaks them: Stats then counts phantom open conns)."""
    db = new_test_db("people")
    db.set_max_open_conns(2)
    c1, c2 = db.conn(), db.conn()
    errs: list[BaseException] = []

    def wait_for_conn() -> None:
        try:
            db.conn().close()
        except BaseException as e:
            errs.append(e)

    waiters = [threading.Thread(target=wait_for_conn) for _ in range(2)]
    for t in waiters:
        t.start()
    assert wait_condition(lambda: len(db._conn_requests) == 2)

    def bad(_: Any) -> None:
        raise driver.BadConnError()

    # The opener's next open blocks until wait_ch gets a value.
    drv = fdb.fdriver
    wait_ch: queue.Queue[None] = queue.Queue()
    waiting_ch: queue.Queue[None] = queue.Queue()
    drv.wait_ch, drv.waiting_ch = wait_ch, waiting_ch
    try:
        # Each conn discarded as bad makes room for one open for the waiters:
        # the first is running (blocked), the second stays pending.
        with pytest.raises(driver.BadConnError):
            c1.raw(bad)
        waiting_ch.get(timeout=10)
        with pytest.raises(driver.BadConnError):
            c2.raw(bad)
        with db._mu:
            assert db._opener_pending == 1 and db._num_open == 2
        db.close()
    finally:
        wait_ch.put(None)  # the blocked open returns; the closed DB closes it
    for t in waiters:
        t.join(10)
    assert all(isinstance(e, sql.DBClosedError) for e in errs) and len(errs) == 2, errs
    assert wait_condition(lambda: db._num_open == 0), f"num_open {db._num_open} after close"
    assert db.stats().open_connections == 0
