"""The pool, lifetime, bad-connection and concurrency tests of Go's sql_test.go
(TestConnMaxLifetime through TestTypedString), translated one to one in Go's order.

The concurrent test types (Go's concurrentTest and its implementations) and
do_concurrent_test live here, as in Go; benchmarks/bench_sql.py uses them too.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import attrs
import pytest

import fakedb
from dbsql import context as ctxmod
from dbsql import driver, sql
from dbsql.context import ContextError
from dbsql.sql import DB, Out, Ref, Rows, Stmt, Tx
from fakedb import fakedb as fdb
from tests.sqltest import (
    CHRIS_BIRTHDAY,
    clear_all_conns,
    close_db,
    dump_deps,
    exec_,
    new_test_db,
    not_basic,
    num_deps_poll,
    num_free_conns,
    wait_condition,
)

# The errors Go's tests drop when they ignore an error result: errors that the
# sql package, a context or the fake driver return. Anything else (a Python
# error such as AttributeError, a FakePanic) is Go's panic and fails the test.
_GO_ERRORS: tuple[type[BaseException], ...] = (
    sql.Error,
    ContextError,
    driver.BadConnError,
    fakedb.FakeDBError,
    fakedb.FakeError,
)


def _ignore_err(f: Callable[[], object]) -> None:
    """Go's ``f()`` with its error result dropped."""
    with contextlib.suppress(*_GO_ERRORS):
        f()


def _is(err: BaseException | None, target: BaseException | type[BaseException]) -> bool:
    """Go's errors.Is: err or anything it wraps (``__cause__``) is target (an
    instance, by identity) or is an instance of target (a class)."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(target, type):
            if isinstance(err, target):
                return True
        elif err is target:
            return True
        err = err.__cause__
    return False


class _Goroutines:
    """Go's ``go f()`` with a sync.WaitGroup, and t.Error from goroutines: an
    exception escaping f (Go's panic or t.Fatal) and every ``error`` call are
    collected for the test to report."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._mu = threading.Lock()
        self.errors: list[str] = []

    def error(self, msg: str) -> None:
        with self._mu:
            self.errors.append(msg)

    def go(self, f: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            try:
                f()
            except BaseException as e:
                self.error(f"{e!r}\n{traceback.format_exc()}")

        th = threading.Thread(target=run, daemon=True)
        self._threads.append(th)
        th.start()
        return th

    def wait(self, timeout: float = 60.0) -> None:
        """wg.Wait(), with a deadline so that a deadlock fails instead of hanging."""
        for th in self._threads:
            th.join(timeout)
            if th.is_alive():
                pytest.fail(f"goroutine {th.name} still running after {timeout}s (deadlock?)")
        self._threads.clear()

    def check(self) -> None:
        assert not self.errors, "\n".join(self.errors)


class _Clock:
    """A settable clock for sql._now_func (Go's nowFunc = func() time.Time {...})."""

    def __init__(self, now: float) -> None:
        self._mu = threading.Lock()
        self._now = now

    def set(self, now: float) -> None:
        with self._mu:
            self._now = now

    def __call__(self) -> float:
        with self._mu:
            return self._now


def _fake_driver(db: DB) -> fakedb.FakeDriver:
    """db.Driver().(*fakeDriver)."""
    drv = db.driver()
    assert isinstance(drv, fakedb.FakeDriver)
    return drv


def _counts(drv: fakedb.FakeDriver) -> tuple[int, int]:
    with drv.mu:
        return drv.open_count, drv.close_count


def _register_once(name: str, drv: Any) -> None:
    """Register drv as name, unless an earlier run of the test in this process did."""
    if name not in sql.drivers():
        sql.register(name, drv)


def _ns(n: float) -> float:
    """n nanoseconds in seconds (Go's time.Duration(n))."""
    return n / 1e9


def test_conn_max_lifetime(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = 1000000.0
    offset = 0.0

    # nowFunc = func() time.Time { return t0.Add(offset) }
    monkeypatch.setattr(sql, "_now_func", lambda: t0 + offset)

    db = new_test_db("magicquery", flavor)
    try:
        drv = _fake_driver(db)

        # Force the number of open connections to 0 so we can get an accurate
        # count for the test
        clear_all_conns(db)

        opens0, closes0 = _counts(drv)

        db.set_max_idle_conns(10)
        db.set_max_open_conns(10)

        tx = db.begin()

        offset = 1.0
        tx2 = db.begin()

        tx.commit()
        tx2.commit()

        o, c = _counts(drv)
        opens, closes = o - opens0, c - closes0

        assert opens == 2, f"opens = {opens}; want 2"
        assert closes == 0, f"closes = {closes}; want 0"
        g, w = num_free_conns(db), 2
        assert g == w, f"free conns = {g}; want {w}"

        # Expire first conn
        offset = 11.0
        db.set_conn_max_lifetime(10.0)

        tx = db.begin()
        tx2 = db.begin()
        tx.commit()
        tx2.commit()

        # Give connectionCleaner chance to run.
        def closed_one() -> bool:
            nonlocal opens, closes
            o, c = _counts(drv)
            opens, closes = o - opens0, c - closes0
            return closes == 1

        wait_condition(closed_one)

        assert opens == 3, f"opens = {opens}; want 3"
        assert closes == 1, f"closes = {closes}; want 1"

        s = db.stats()
        assert s.max_lifetime_closed == 1, (
            f"MaxLifetimeClosed = {s.max_lifetime_closed}; want 1 {s!r}"
        )
    finally:
        close_db(db)


# golang.org/issue/5323
def test_stmt_close_deps(flavor: str) -> None:
    hook_errors: list[str] = []

    def hook(_: fakedb.FakeConn, err: BaseException | None) -> None:
        if err is not None:
            hook_errors.append(f"Error closing fakeConn: {err!r}")

    fdb.set_hook_post_close_conn(hook)
    try:
        db = new_test_db("magicquery", flavor)
        try:
            drv = _fake_driver(db)

            opens0, closes0 = _counts(drv)
            open_delta0 = opens0 - closes0

            stmt = db.prepare("SELECT|magicquery|op|op=?,millis=?")

            # Start 50 parallel slow queries.
            nquery = 50
            sleep_millis = 25
            nbatch = 2
            g = _Goroutines()

            def query() -> None:
                try:
                    stmt.query_row("sleep", sleep_millis).scan(str)
                except sql.NoRowsError:
                    pass
                except Exception as e:
                    g.error(repr(e))

            for _ in range(nbatch):
                for _ in range(nquery):
                    g.go(query)
                # Wait for the batch of queries above to finish before starting the next round.
                g.wait()
            g.check()

            gf, w = num_free_conns(db), 2
            assert gf == w, f"free conns = {gf}; want {w}"

            n = num_deps_poll(db, 4)
            assert n <= 4, f"number of dependencies = {n}; expected <= 4\n{dump_deps(db)}"

            with drv.mu:
                opens = drv.open_count - opens0
                closes = drv.close_count - closes0
                open_delta = (drv.open_count - drv.close_count) - open_delta0

            assert open_delta <= 2, (
                f"open calls = {opens}\nclose calls = {closes}\nopen delta = {open_delta}\n"
                f"db connections opened = {open_delta}; want <= 2\n{dump_deps(db)}"
            )

            assert wait_condition(lambda: len(stmt._css) <= nquery), (
                f"len(stmt.css) = {len(stmt._css)}; want <= {nquery}"
            )

            stmt.close()

            gf, w = num_free_conns(db), 2
            assert gf == w, f"free conns = {gf}; want {w}"

            n = num_deps_poll(db, 2)
            assert n <= 2, f"number of dependencies = {n}; expected <= 2\n{dump_deps(db)}"

            clear_all_conns(db)
        finally:
            close_db(db)
    finally:
        fdb.set_hook_post_close_conn(None)
    assert not hook_errors, "\n".join(hook_errors)


# golang.org/issue/5046
def test_close_conn_before_stmts(flavor: str) -> None:
    db = new_test_db("people", flavor)
    hook_errors: list[str] = []
    try:

        def hook(_: fakedb.FakeConn, err: BaseException | None) -> None:
            if err is not None:
                hook_errors.append(
                    f"Error closing fakeConn: {err!r}; from {''.join(traceback.format_stack())}"
                    f"\n{dump_deps(db)}\nDB = {db!r}"
                )

        fdb.set_hook_post_close_conn(hook)
        try:
            stmt = db.prepare("SELECT|people|name|")

            assert len(db._free_conn) == 1, f"expected 1 freeConn; got {len(db._free_conn)}"
            dc = db._free_conn[0]
            assert not dc._closed, "conn shouldn't be closed"

            n = len(dc._open_stmt or {})
            assert n == 1, f"driverConn num openStmt = {n}; want 1"
            db.close()
            assert dc._closed, "after db.Close, driverConn should be closed"
            n = len(dc._open_stmt or {})
            assert n == 0, f"driverConn num openStmt = {n}; want 0"

            stmt.close()

            assert dc._closed, "conn should be closed"
            assert dc._ci is None, "after Stmt Close, driverConn's Conn interface should be nil"
        finally:
            fdb.set_hook_post_close_conn(None)
    finally:
        close_db(db)
    assert not hook_errors, "\n".join(hook_errors)


# golang.org/issue/5283: don't release the Rows' connection in Close
# before calling Stmt.Close.
def test_rows_close_order(flavor: str) -> None:
    db = new_test_db("people", flavor)
    strict_errors: list[str] = []
    try:
        db.set_max_idle_conns(0)
        fdb.set_strict_fake_conn_close(strict_errors.append)
        try:
            rows = db.query("SELECT|people|age,name|")
            rows.close()
        finally:
            fdb.set_strict_fake_conn_close(None)
    finally:
        close_db(db)
    assert not strict_errors, "\n".join(strict_errors)


def test_rows_implicit_close(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        rows = db.query("SELECT|people|age,name|")

        want, fail = 2, Exception("fail")
        r = fakedb.rows_cursor_of(rows._rowsi)
        r.err_pos, r.err = want, fail

        got = 0
        while rows.next():
            got += 1
        assert got == want, f"got {got} rows, want {want}"
        err = rows.err()
        assert err is fail, f"got error {err!r}, want {fail!r}"
        assert r.closed, "r.closed is false, want true"
    finally:
        close_db(db)


def test_rows_close_error(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        rows = db.query("SELECT|people|age,name|")
        got: list[tuple[int, str]] = []

        # rows.rowsi.(*rowsCursor), of any flavour.
        rc = fakedb.rows_cursor_of(rows._rowsi)
        rc.close_err = Exception("rowsCursor: failed to close")

        while rows.next():
            age, name = rows.scan(int, str)
            got.append((age, name))
        err = rows.err()
        assert err is rc.close_err, f"unexpected err: got {err!r}, want {rc.close_err!r}"
    finally:
        db.close()


def test_stmt_close_order(flavor: str) -> None:
    db = new_test_db("people", flavor)
    strict_errors: list[str] = []
    try:
        db.set_max_idle_conns(0)
        fdb.set_strict_fake_conn_close(strict_errors.append)
        try:
            # Querying non-existent table should fail
            with pytest.raises(fakedb.FakeDBError):
                db.query("SELECT|non_existent|name|")
        finally:
            fdb.set_strict_fake_conn_close(None)
    finally:
        close_db(db)
    assert not strict_errors, "\n".join(strict_errors)


# Test cases where there's more than maxBadConnRetries bad connections in the
# pool (issue 8834)
def test_many_err_bad_conn(flavor: str) -> None:
    def many_err_bad_conn_setup(*first: Callable[[DB], None]) -> DB:
        db = new_test_db("people", flavor)

        for f in first:
            f(db)

        nconn = sql._MAX_BAD_CONN_RETRIES + 1
        db.set_max_idle_conns(nconn)
        db.set_max_open_conns(nconn)
        # open enough connections
        with contextlib.ExitStack() as defer:
            for _ in range(nconn):
                rows = db.query("SELECT|people|age,name|")
                defer.callback(rows.close)

        with db._mu:
            assert db._num_open == nconn, (
                f"unexpected numOpen {db._num_open} (was expecting {nconn})"
            )
            assert len(db._free_conn) == nconn, (
                f"unexpected len(db.freeConn) {len(db._free_conn)} (was expecting {nconn})"
            )
            for conn in db._free_conn:
                with conn._lock:
                    fakedb.fake_conn_of(conn._ci).sticky_bad = True
        return db

    with contextlib.ExitStack() as defer:
        # Query
        db = many_err_bad_conn_setup()
        defer.callback(close_db, db)
        rows = db.query("SELECT|people|age,name|")
        rows.close()

        # Exec
        db = many_err_bad_conn_setup()
        defer.callback(close_db, db)
        db.exec("INSERT|people|name=Julia,age=19")

        # Begin
        db = many_err_bad_conn_setup()
        defer.callback(close_db, db)
        tx = db.begin()
        tx.rollback()

        # Prepare
        db = many_err_bad_conn_setup()
        defer.callback(close_db, db)
        stmt = db.prepare("SELECT|people|age,name|")
        stmt.close()

        # Stmt.Exec
        stmts: list[Stmt] = []

        def prepare_insert(db: DB) -> None:
            stmts.append(db.prepare("INSERT|people|name=Julia,age=19"))

        db = many_err_bad_conn_setup(prepare_insert)
        defer.callback(close_db, db)
        stmt = stmts[-1]
        stmt.exec()
        stmt.close()

        # Stmt.Query
        def prepare_select(db: DB) -> None:
            stmts.append(db.prepare("SELECT|people|age,name|"))

        db = many_err_bad_conn_setup(prepare_select)
        defer.callback(close_db, db)
        stmt = stmts[-1]
        rows = stmt.query()
        rows.close()
        stmt.close()

        # Conn
        db = many_err_bad_conn_setup()
        defer.callback(close_db, db)
        # ctx := t.Context(): canceled when the test ends.
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        defer.callback(cancel)
        conn = db.conn(ctx)
        assert conn._dc is not None
        fakedb.fake_conn_of(conn._dc._ci).skip_dirty_session = True
        conn.close()

        # Ping
        db = many_err_bad_conn_setup()
        defer.callback(close_db, db)
        db.ping_context(ctx)


# Issue 34775: Ensure that a Tx cannot commit after a rollback.
def test_tx_cannot_commit_after_rollback(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = new_test_db("tx_status", flavor)
    with contextlib.ExitStack() as defer:
        defer.callback(close_db, db)

        # First check query reporting is correct.
        (tx_status,) = db.query_row("SELECT|tx_status|tx_status|").scan(str)
        g, w = tx_status, "autocommit"
        assert g == w, f"tx_status={g!r}, wanted {w!r}"

        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        defer.callback(cancel)

        tx = db.begin_tx(ctx, None)

        # Ignore dirty session for this test.
        # A failing test should trigger the dirty session flag as well,
        # but that isn't exactly what this should test for.
        txi = tx._txi
        assert isinstance(txi, fakedb.FakeTx)
        txi.c.skip_dirty_session = True

        defer.callback(_ignore_err, tx.rollback)

        (tx_status,) = tx.query_row("SELECT|tx_status|tx_status|").scan(str)
        g, w = tx_status, "transaction"
        assert g == w, f"tx_status={g!r}, wanted {w!r}"

        # 1. Begin a transaction.
        # 2. (A) Start a query, (B) begin Tx rollback through a ctx cancel.
        # 3. Check if 2.A has committed in Tx (pass) or outside of Tx (fail).
        send_query = threading.Event()
        hook_errors: list[str] = []

        def hook_tx_grab_conn() -> None:
            cancel()
            # <-sendQuery (with a deadline, so that a bug fails instead of hanging)
            if not send_query.wait(10.0):
                hook_errors.append("rollback hook never ran")

        # The Tx status is returned through the row results, ensure
        # that the rows results are not canceled.
        with monkeypatch.context() as m:
            m.setattr(sql, "_bypass_rows_await_done", True)
            m.setattr(sql, "_hook_tx_grab_conn", hook_tx_grab_conn)
            m.setattr(sql, "_rollback_hook", send_query.set)

            # A failure here would be expected if skipDirtySession was not set to true above.
            (tx_status,) = tx.query_row("SELECT|tx_status|tx_status|").scan(str)
            g, w = tx_status, "transaction"
            assert g == w, f"tx_status={g!r}, wanted {w!r}"
        assert not hook_errors, hook_errors


# Issue 40985 transaction statement deadlock while context cancel.
def test_tx_stmt_deadlock(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        try:
            tx = db.begin_tx(ctx, None)

            stmt = tx.prepare("SELECT|people|name,age|age=?")
            cancel()
            # Run number of stmt queries to reproduce deadlock from context cancel
            for _ in range(1000):
                # Encounter any close related errors (e.g. ErrTxDone, stmt is closed)
                # is expected due to context cancel.
                try:
                    stmt.query(1)
                except _GO_ERRORS:
                    break
            _ignore_err(tx.rollback)
        finally:
            cancel()
    finally:
        close_db(db)


# Issue32530 encounters an issue where a connection may
# expire right after it comes out of a used connection pool
# even when a new connection is requested.
def test_conn_expires_fresh_out_of_pool(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    exec_cases = [
        # (expired, bad_reset)
        (False, False),
        (True, False),
        (False, True),
    ]

    t0 = 1000000.0
    clock = _Clock(t0)  # t0.Add(offset), offset guarded by the clock's lock
    monkeypatch.setattr(sql, "_now_func", clock)

    # ctx := t.Context(): canceled when the test ends.
    ctx, cancel = ctxmod.with_cancel(ctxmod.background())

    db = new_test_db("magicquery", flavor)
    with contextlib.ExitStack() as defer:
        defer.callback(cancel)
        defer.callback(close_db, db)

        db.set_max_open_conns(1)

        for expired, bad_reset in exec_cases:
            name = f"expired={str(expired).lower()},badReset={str(bad_reset).lower()}"
            clear_all_conns(db)

            db.set_max_idle_conns(1)
            db.set_conn_max_lifetime(10.0)

            conn = db._conn(ctx, sql._ALWAYS_NEW_CONN)

            g = _Goroutines()

            def get_and_put(g: _Goroutines = g) -> None:
                try:
                    c = db._conn(ctx, sql._ALWAYS_NEW_CONN)
                except Exception as e:
                    g.error(f"db.conn: {e!r}")
                    return
                db._put_conn(c, None, False)

            g.go(get_and_put)  # closes afterPutConn when done

            # The waitingForConn goroutine, polling with a deadline.
            def waiting_for_conn(g: _Goroutines = g) -> bool:
                if g.errors:
                    return True
                with db._mu:
                    ct = len(db._conn_requests)
                return ct > 0

            assert wait_condition(waiting_for_conn), f"{name}: no connection request queued"
            g.check()

            clock.set(t0 + 11.0 if expired else t0)

            fakedb.fake_conn_of(conn._ci).sticky_bad = bad_reset

            db._put_conn(conn, None, True)

            g.wait()  # <-afterPutConn
            g.check()


# TestIssue20575 ensures the Rows from query does not block
# closing a transaction. Ensure Rows is closed while closing a transaction.
def test_issue20575(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        tx = db.begin()
        ctx, cancel = ctxmod.with_timeout(ctxmod.background(), 3.0)
        try:
            tx.query_context(ctx, "SELECT|people|age,name|")
            # Do not close Rows from QueryContext.
            tx.rollback()
            assert not ctx.done().is_set(), (
                f"timeout: failed to rollback query without closing rows: {ctx.err()!r}"
            )
        finally:
            cancel()
    finally:
        close_db(db)


# TestIssue20622 tests closing the transaction before rows is closed, requires
# the race detector to fail.
def test_issue20622(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        try:
            tx = db.begin_tx(ctx, None)

            rows = tx.query("SELECT|people|age,name|")

            count = 0
            while rows.next():
                count += 1
                rows.scan(int, str)  # a scan failure raises: Go's t.Fatal("scan failed", err)

                if count == 1:
                    cancel()
                    # Go sleeps 100ms here to let the context's rollback run while the
                    # rows are open: wait for the rollback to have started and for the
                    # rows to have seen the context end instead (else next() may still
                    # give a row that the context then closes before scan).
                    assert wait_condition(
                        lambda: tx._is_done() and rows._context_done is not None
                    ), "tx not rolled back after cancel"
            rows.close()
            _ignore_err(tx.commit)
        finally:
            cancel()
    finally:
        close_db(db)


# golang.org/issue/5718
def test_err_bad_conn_reconnect(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = new_test_db("foo", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")

        def simulate_bad_conn(name: str, hook: str, op: Callable[[], None]) -> None:
            broken, retried = False, False
            num_open = db._num_open

            # simulate a broken connection on the first try
            def hook_fn() -> bool:
                nonlocal broken, retried
                if not broken:
                    broken = True
                    return True
                retried = True
                return False

            monkeypatch.setattr(fdb, hook, hook_fn)

            try:
                op()
            except Exception as e:
                pytest.fail(f"{name}: {e!r}")

            assert broken and retried, name + ": Failed to simulate broken connection"
            monkeypatch.setattr(fdb, hook, None)

            assert num_open == db._num_open, (
                f"{name}: leaked {db._num_open - num_open} connection(s)!"
            )

        # db.Exec
        def db_exec() -> None:
            db.exec("INSERT|t1|name=?,age=?,dead=?", "Gordon", 3, True)

        simulate_bad_conn("db.Exec prepare", "hook_prepare_bad_conn", db_exec)
        simulate_bad_conn("db.Exec exec", "hook_exec_bad_conn", db_exec)

        # db.Query
        def db_query() -> None:
            rows = db.query("SELECT|t1|age,name|")
            rows.close()

        simulate_bad_conn("db.Query prepare", "hook_prepare_bad_conn", db_query)
        simulate_bad_conn("db.Query query", "hook_query_bad_conn", db_query)

        # db.Prepare
        def db_prepare() -> None:
            stmt = db.prepare("INSERT|t1|name=?,age=?,dead=?")
            stmt.close()

        simulate_bad_conn("db.Prepare", "hook_prepare_bad_conn", db_prepare)

        # Provide a way to force a re-prepare of a statement on next execution
        def force_prepare(stmt: Stmt) -> None:
            stmt._css = []

        with contextlib.ExitStack() as defer:
            # stmt.Exec
            stmt1 = db.prepare("INSERT|t1|name=?,age=?,dead=?")
            defer.callback(stmt1.close)
            # make sure we must prepare the stmt first
            force_prepare(stmt1)

            def stmt_exec() -> None:
                stmt1.exec("Gopher", 3, False)

            simulate_bad_conn("stmt.Exec prepare", "hook_prepare_bad_conn", stmt_exec)
            simulate_bad_conn("stmt.Exec exec", "hook_exec_bad_conn", stmt_exec)

            # stmt.Query
            stmt2 = db.prepare("SELECT|t1|age,name|")
            defer.callback(stmt2.close)
            # make sure we must prepare the stmt first
            force_prepare(stmt2)

            def stmt_query() -> None:
                rows = stmt2.query()
                rows.close()

            simulate_bad_conn("stmt.Query prepare", "hook_prepare_bad_conn", stmt_query)
            simulate_bad_conn("stmt.Query exec", "hook_query_bad_conn", stmt_query)
    finally:
        close_db(db)


# golang.org/issue/11264
def test_tx_end_bad_conn(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = new_test_db("foo", flavor)
    try:
        db.set_max_idle_conns(0)
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")
        db.set_max_idle_conns(1)

        def simulate_bad_conn(name: str, hook: str, op: Callable[[], None]) -> None:
            broken = False
            num_open = db._num_open

            def hook_fn() -> bool:
                nonlocal broken
                if not broken:
                    broken = True
                return broken

            monkeypatch.setattr(fdb, hook, hook_fn)

            err: BaseException | None = None
            try:
                op()
            except Exception as e:
                err = e
            assert _is(err, driver.BadConnError), f"{name}: {err!r}"

            assert broken, name + ": Failed to simulate broken connection"
            monkeypatch.setattr(fdb, hook, None)

            assert num_open == db._num_open, (
                f"{name}: leaked {db._num_open - num_open} connection(s)!"
            )

        # db.Exec
        def db_exec(end_tx: Callable[[Tx], None]) -> Callable[[], None]:
            def op() -> None:
                tx = db.begin()
                tx.exec("INSERT|t1|name=?,age=?,dead=?", "Gordon", 3, True)
                end_tx(tx)

            return op

        simulate_bad_conn("db.Tx.Exec commit", "hook_commit_bad_conn", db_exec(Tx.commit))
        simulate_bad_conn("db.Tx.Exec rollback", "hook_rollback_bad_conn", db_exec(Tx.rollback))

        # db.Query
        def db_query(end_tx: Callable[[Tx], None]) -> Callable[[], None]:
            def op() -> None:
                tx = db.begin()
                rows = tx.query("SELECT|t1|age,name|")
                rows.close()
                end_tx(tx)

            return op

        simulate_bad_conn("db.Tx.Query commit", "hook_commit_bad_conn", db_query(Tx.commit))
        simulate_bad_conn("db.Tx.Query rollback", "hook_rollback_bad_conn", db_query(Tx.rollback))
    finally:
        close_db(db)


class TB(Protocol):
    """The part of Go's testing.TB the concurrent tests use from their goroutines."""

    def error(self, msg: str) -> None: ...


class ConcurrentTest(Protocol):
    """Go's concurrentTest. init raises where Go calls t.Fatal; test reports its
    error with t.error and returns it (Go's ``return err``)."""

    def init(self, db: DB) -> None: ...

    def finish(self) -> None: ...

    def test(self, t: TB) -> BaseException | None: ...


class ConcurrentDBQueryTest:
    def __init__(self) -> None:
        self.db: DB | None = None

    def init(self, db: DB) -> None:
        self.db = db

    def finish(self) -> None:
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.db is not None
        try:
            rows = self.db.query("SELECT|people|name|")
        except _GO_ERRORS as e:
            t.error(repr(e))
            return e
        while rows.next():
            rows.scan(str)
        rows.close()
        return None


class ConcurrentDBExecTest:
    def __init__(self) -> None:
        self.db: DB | None = None

    def init(self, db: DB) -> None:
        self.db = db

    def finish(self) -> None:
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.db is not None
        try:
            self.db.exec("NOSERT|people|name=Chris,age=?,photo=CPHOTO,bdate=?", 3, CHRIS_BIRTHDAY)
        except _GO_ERRORS as e:
            t.error(repr(e))
            return e
        return None


class ConcurrentStmtQueryTest:
    def __init__(self) -> None:
        self.db: DB | None = None
        self.stmt: Stmt | None = None

    def init(self, db: DB) -> None:
        self.db = db
        self.stmt = db.prepare("SELECT|people|name|")

    def finish(self) -> None:
        if self.stmt is not None:
            _ignore_err(self.stmt.close)
            self.stmt = None
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.stmt is not None
        try:
            rows = self.stmt.query()
        except _GO_ERRORS as e:
            t.error(f"error on query:  {e!r}")
            return e

        while rows.next():
            rows.scan(str)
        rows.close()
        return None


class ConcurrentStmtExecTest:
    def __init__(self) -> None:
        self.db: DB | None = None
        self.stmt: Stmt | None = None

    def init(self, db: DB) -> None:
        self.db = db
        self.stmt = db.prepare("NOSERT|people|name=Chris,age=?,photo=CPHOTO,bdate=?")

    def finish(self) -> None:
        if self.stmt is not None:
            _ignore_err(self.stmt.close)
            self.stmt = None
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.stmt is not None
        try:
            self.stmt.exec(3, CHRIS_BIRTHDAY)
        except _GO_ERRORS as e:
            t.error(f"error on exec:  {e!r}")
            return e
        return None


class ConcurrentTxQueryTest:
    def __init__(self) -> None:
        self.db: DB | None = None
        self.tx: Tx | None = None

    def init(self, db: DB) -> None:
        self.db = db
        self.tx = self.db.begin()

    def finish(self) -> None:
        if self.tx is not None:
            _ignore_err(self.tx.rollback)
            self.tx = None
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.db is not None
        try:
            rows = self.db.query("SELECT|people|name|")
        except _GO_ERRORS as e:
            t.error(repr(e))
            return e
        while rows.next():
            rows.scan(str)
        rows.close()
        return None


class ConcurrentTxExecTest:
    def __init__(self) -> None:
        self.db: DB | None = None
        self.tx: Tx | None = None

    def init(self, db: DB) -> None:
        self.db = db
        self.tx = self.db.begin()

    def finish(self) -> None:
        if self.tx is not None:
            _ignore_err(self.tx.rollback)
            self.tx = None
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.tx is not None
        try:
            self.tx.exec("NOSERT|people|name=Chris,age=?,photo=CPHOTO,bdate=?", 3, CHRIS_BIRTHDAY)
        except _GO_ERRORS as e:
            t.error(repr(e))
            return e
        return None


class ConcurrentTxStmtQueryTest:
    def __init__(self) -> None:
        self.db: DB | None = None
        self.tx: Tx | None = None
        self.stmt: Stmt | None = None

    def init(self, db: DB) -> None:
        self.db = db
        self.tx = self.db.begin()
        self.stmt = self.tx.prepare("SELECT|people|name|")

    def finish(self) -> None:
        if self.stmt is not None:
            _ignore_err(self.stmt.close)
            self.stmt = None
        if self.tx is not None:
            _ignore_err(self.tx.rollback)
            self.tx = None
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.stmt is not None
        try:
            rows = self.stmt.query()
        except _GO_ERRORS as e:
            t.error(f"error on query:  {e!r}")
            return e

        while rows.next():
            rows.scan(str)
        rows.close()
        return None


class ConcurrentTxStmtExecTest:
    def __init__(self) -> None:
        self.db: DB | None = None
        self.tx: Tx | None = None
        self.stmt: Stmt | None = None

    def init(self, db: DB) -> None:
        self.db = db
        self.tx = self.db.begin()
        self.stmt = self.tx.prepare("NOSERT|people|name=Chris,age=?,photo=CPHOTO,bdate=?")

    def finish(self) -> None:
        if self.stmt is not None:
            _ignore_err(self.stmt.close)
            self.stmt = None
        if self.tx is not None:
            _ignore_err(self.tx.rollback)
            self.tx = None
        self.db = None

    def test(self, t: TB) -> BaseException | None:
        assert self.stmt is not None
        try:
            self.stmt.exec(3, CHRIS_BIRTHDAY)
        except _GO_ERRORS as e:
            t.error(f"error on exec:  {e!r}")
            return e
        return None


class ConcurrentRandomTest:
    def __init__(self) -> None:
        self.tests: list[ConcurrentTest] = []

    def init(self, db: DB) -> None:
        self.tests = [
            ConcurrentDBQueryTest(),
            ConcurrentDBExecTest(),
            ConcurrentStmtQueryTest(),
            ConcurrentStmtExecTest(),
            ConcurrentTxQueryTest(),
            ConcurrentTxExecTest(),
            ConcurrentTxStmtQueryTest(),
            ConcurrentTxStmtExecTest(),
        ]
        for ct in self.tests:
            ct.init(db)

    def finish(self) -> None:
        for ct in self.tests:
            ct.finish()

    def test(self, t: TB) -> BaseException | None:
        ct = self.tests[random.randrange(len(self.tests))]
        return ct.test(t)


def do_concurrent_test(
    t: _Goroutines, ct: ConcurrentTest, flavor: str = "default", num_reqs: int = 500
) -> None:
    """Go's doConcurrentTest: num_reqs requests served by max_procs*2 goroutines.

    Go also sets GOMAXPROCS to max_procs (1) for the run, which has no Python
    twin: the two worker threads share the interpreter as they find it.
    """
    max_procs = 1

    db = new_test_db("people", flavor)
    with contextlib.ExitStack() as defer:
        defer.callback(close_db, db)

        ct.init(db)
        defer.callback(ct.finish)

        # reqs := make(chan bool); the WaitGroup counts the requests served.
        reqs: list[bool] = [True] * num_reqs
        reqs_mu = threading.Lock()

        def take_req() -> bool:
            with reqs_mu:
                if not reqs:
                    return False  # close(reqs)
                reqs.pop()
                return True

        def worker() -> None:
            while take_req():
                ct.test(t)

        for _ in range(max_procs * 2):
            t.go(worker)

        t.wait()  # wg.Wait()


def test_issue6081(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = new_test_db("people", flavor)
    try:
        drv = _fake_driver(db)
        opens0, closes0 = _counts(drv)

        stmt = db.prepare("SELECT|people|name|")

        def rows_close_hook(rows: Rows, err: BaseException | None) -> BaseException | None:
            return driver.BadConnError()

        monkeypatch.setattr(sql, "_rows_close_hook", lambda: rows_close_hook)
        try:
            for _ in range(10):
                rows = stmt.query()
                _ignore_err(rows.close)
        finally:
            monkeypatch.setattr(sql, "_rows_close_hook", sql._no_rows_close_hook)
        n = len(stmt._css)
        assert n <= 1, f"len(css slice) = {n}; want <= 1"
        stmt.close()
        n = len(stmt._css)
        assert n == 0, f"len(css slice) after Close = {n}; want 0"

        o, c = _counts(drv)
        opens, closes = o - opens0, c - closes0
        assert opens >= 9, f"opens = {opens}; want >= 9"
        assert closes >= 9, f"closes = {closes}; want >= 9"
    finally:
        close_db(db)


def _go_duration_ms(ms: int) -> str:
    """(time.Duration(ms) * time.Millisecond).String()."""
    return f"{ms}ms" if ms else "0s"


# TestIssue18429 attempts to stress rolling back the transaction from a
# context cancel while simultaneously calling Tx.Rollback. Rolling back from a
# context happens concurrently so tx.rollback and tx.Commit must guard against
# double entry.
#
# In the test, a context is canceled while the query is in process so
# the internal rollback will run concurrently with the explicitly called
# Tx.Rollback.
#
# The addition of calling rows.Next also tests
# Issue 21117.
def test_issue18429(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        ctx = ctxmod.background()
        sem = threading.Semaphore(20)
        g = _Goroutines()

        milli_wait = 30

        def run() -> None:
            try:
                qwait = _go_duration_ms(random.randrange(milli_wait))

                tctx, cancel = ctxmod.with_timeout(ctx, random.randrange(milli_wait) / 1000)
                try:
                    try:
                        tx = db.begin_tx(tctx, None)
                    except _GO_ERRORS:
                        return
                    # This is expected to give a cancel error most, but not all the time.
                    # Test failure will happen with a panic or other race condition being
                    # reported.
                    rows: Rows | None = None
                    with contextlib.suppress(*_GO_ERRORS):
                        rows = tx.query_context(tctx, "WAIT|" + qwait + "|SELECT|people|name|")
                    if rows is not None:
                        # Call Next to test Issue 21117 and check for races.
                        while rows.next():
                            # Scan the buffer so it is read and checked for races.
                            with contextlib.suppress(*_GO_ERRORS):
                                rows.scan(str)
                        _ignore_err(rows.close)
                    # This call will race with the context cancel rollback to complete
                    # if the rollback itself isn't guarded.
                    _ignore_err(tx.rollback)
                finally:
                    cancel()
            finally:
                sem.release()

        for _ in range(100):
            sem.acquire()
            g.go(run)
        g.wait()
        g.check()
    finally:
        close_db(db)


# TestIssue20160 attempts to test a short context life on a stmt Query.
def test_issue20160(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        ctx = ctxmod.background()
        sem = threading.Semaphore(20)
        g = _Goroutines()

        milli_wait = 30

        stmt = db.prepare_context(ctx, "SELECT|people|name|")
        try:

            def run() -> None:
                try:
                    tctx, cancel = ctxmod.with_timeout(ctx, random.randrange(milli_wait) / 1000)
                    try:
                        # This is expected to give a cancel error most, but not all the time.
                        # Test failure will happen with a panic or other race condition being
                        # reported.
                        rows: Rows | None = None
                        with contextlib.suppress(*_GO_ERRORS):
                            rows = stmt.query_context(tctx)
                        if rows is not None:
                            _ignore_err(rows.close)
                    finally:
                        cancel()
                finally:
                    sem.release()

            for _ in range(100):
                sem.acquire()
                g.go(run)
            g.wait()
            g.check()
        finally:
            stmt.close()
    finally:
        close_db(db)


# TestIssue18719 closes the context right before use. The sql.driverConn
# will nil out the ci on close in a lock, but if another process uses it right after
# it will panic with on the nil ref.
#
# See https://golang.org/cl/35550 .
@not_basic("ConnPrepareContext")
def test_issue18719(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = new_test_db("people", flavor)
    try:
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        try:
            tx = db.begin_tx(ctx, None)

            def hook_tx_grab_conn() -> None:
                cancel()

                # Wait for the context to cancel and tx to rollback.
                if not wait_condition(tx._is_done):
                    raise AssertionError("tx not done after the context was canceled")

            monkeypatch.setattr(sql, "_hook_tx_grab_conn", hook_tx_grab_conn)
            try:
                # This call will grab the connection and cancel the context
                # after it has done so. Code after must deal with the canceled state.
                try:
                    tx.query_context(ctx, "SELECT|people|name|")
                except Exception as e:
                    pytest.fail(f"expected error None but got {e!r}")
            finally:
                monkeypatch.setattr(sql, "_hook_tx_grab_conn", None)

            # Rows may be ignored because it will be closed when the context is canceled.

            # Do not explicitly rollback. The rollback will happen from the
            # canceled context.

            cancel()
        finally:
            cancel()
    finally:
        close_db(db)


def test_issue20647(flavor: str) -> None:
    db = new_test_db("people", flavor)
    with contextlib.ExitStack() as defer:
        defer.callback(close_db, db)

        # ctx := t.Context(): canceled when the test ends.
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        defer.callback(cancel)

        conn = db.conn(ctx)
        assert conn._dc is not None
        fakedb.fake_conn_of(conn._dc._ci).skip_dirty_session = True
        defer.callback(conn.close)

        stmt = conn.prepare_context(ctx, "SELECT|people|name|")
        defer.callback(stmt.close)

        rows1 = stmt.query_context(ctx)
        defer.callback(rows1.close)

        rows2 = stmt.query_context(ctx)
        defer.callback(rows2.close)

        assert rows1._dc is rows2._dc, "stmt prepared on Conn does not use same connection"


_CONCURRENT_TESTS: list[tuple[str, Callable[[], ConcurrentTest]]] = [
    ("Query", ConcurrentDBQueryTest),
    ("Exec", ConcurrentDBExecTest),
    ("StmtQuery", ConcurrentStmtQueryTest),
    ("StmtExec", ConcurrentStmtExecTest),
    ("TxQuery", ConcurrentTxQueryTest),
    ("TxExec", ConcurrentTxExecTest),
    ("TxStmtQuery", ConcurrentTxStmtQueryTest),
    ("TxStmtExec", ConcurrentTxStmtExecTest),
    ("Random", ConcurrentRandomTest),
]


@pytest.mark.parametrize(
    "new_ct", [f for _, f in _CONCURRENT_TESTS], ids=[n for n, _ in _CONCURRENT_TESTS]
)
def test_concurrency(flavor: str, new_ct: Callable[[], ConcurrentTest]) -> None:
    # Go's t.Run(item.name, ...) subtests are the parametrized cases.
    t = _Goroutines()
    do_concurrent_test(t, new_ct(), flavor)
    t.check()


def test_connection_leak(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        # Start by opening defaultMaxIdleConns
        rows: list[Rows] = []
        # We need to SetMaxOpenConns > MaxIdleConns, so the DB can open
        # a new connection and we can fill the idle queue with the released
        # connections.
        db.set_max_open_conns(sql._DEFAULT_MAX_IDLE_CONNS + 1)
        for _ in range(sql._DEFAULT_MAX_IDLE_CONNS):
            r = db.query("SELECT|people|name|")
            r.next()
            err = r.err()
            if err is not None:
                raise err
            rows.append(r)
        # Now we have defaultMaxIdleConns busy connections. Open
        # a new one, but wait until the busy connections are released
        # before returning control to DB.
        drv = _fake_driver(db)
        wait_ch: queue.Queue[None] = queue.Queue(1)
        waiting_ch: queue.Queue[None] = queue.Queue(1)
        drv.wait_ch = wait_ch
        drv.waiting_ch = waiting_ch
        g = _Goroutines()

        def query() -> None:
            r = db.query("SELECT|people|name|")
            r.close()

        g.go(query)
        # Wait until the goroutine we've just created has started waiting.
        waiting_ch.get(timeout=10)
        # Now close the busy connections. This provides a connection for
        # the blocked goroutine and then fills up the idle queue.
        for v in rows:
            v.close()
        # At this point we give the new connection to DB. This connection is
        # now useless, since the idle queue is full and there are no pending
        # requests. DB should deal with this situation without leaking the
        # connection.
        wait_ch.put(None)
        g.wait()
        g.check()
    finally:
        close_db(db)


def test_stats_max_idle_closed_zero(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        db.set_max_open_conns(1)
        db.set_max_idle_conns(1)
        db.set_conn_max_lifetime(0)

        pre_max_idle_closed = db.stats().max_idle_closed

        for _ in range(10):
            rows = db.query("SELECT|people|name|")
            rows.close()

        st = db.stats()
        max_idle_closed = st.max_idle_closed - pre_max_idle_closed
        assert max_idle_closed == 0, f"expected 0 max idle closed conns, got: {max_idle_closed}"
    finally:
        close_db(db)


def test_stats_max_idle_closed_ten(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        db.set_max_open_conns(1)
        db.set_max_idle_conns(0)
        db.set_conn_max_lifetime(0)

        pre_max_idle_closed = db.stats().max_idle_closed

        for _ in range(10):
            rows = db.query("SELECT|people|name|")
            rows.close()

        st = db.stats()
        max_idle_closed = st.max_idle_closed - pre_max_idle_closed
        assert max_idle_closed == 10, f"expected 10 max idle closed conns, got: {max_idle_closed}"
    finally:
        close_db(db)


def _test_use_conns(count: int, tm: float, db: DB, clock: _Clock) -> float:
    """Go's testUseConns: use count concurrent connections 1 nanosecond apart;
    return the returnedAt time of the final connection."""
    conns: list[sql.Conn] = []
    ctx = ctxmod.background()
    for _ in range(count):
        tm += _ns(1)
        clock.set(tm)
        conns.append(db.conn(ctx))

    for i in range(len(conns) - 1, -1, -1):
        tm += _ns(1)
        clock.set(tm)
        conns[i].close()

    return tm


@attrs.frozen
class _MaxIdleTimeCase:
    want_max_idle_time: float
    want_max_lifetime: float
    want_next_check: float
    want_idle_closed: int
    want_max_idle_closed: int
    time_offset: float
    second_time_offset: float


def test_max_idle_time(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    used_conns = 5
    reused_conns = 2
    ms = 1e-3
    cases = [
        _MaxIdleTimeCase(
            ms,
            0,
            ms - _ns(1),
            used_conns - reused_conns,
            used_conns - reused_conns,
            10 * ms,
            0,
        ),
        _MaxIdleTimeCase(
            # Want to close some connections via max idle time and one by max lifetime.
            ms,
            # nowFunc() - MaxLifetime should be 1 * time.Nanosecond in connectionCleanerRunLocked.
            # This guarantees that first opened connection is to be closed.
            # Thus it is timeOffset + secondTimeOffset + 3 (+2 for Close while reusing conns and +1 for Conn).
            10 * ms + _ns(100) + _ns(3),
            _ns(1),
            # Closed all not reused connections and extra one by max lifetime.
            used_conns - reused_conns + 1,
            used_conns - reused_conns,
            10 * ms,
            # Add second offset because otherwise connections are expired via max lifetime in Close.
            _ns(100),
        ),
        _MaxIdleTimeCase(3600.0, 0, 1.0, 0, 0, 10 * ms, 0),
    ]
    base_time = 0.0
    clock = _Clock(base_time)
    monkeypatch.setattr(sql, "_now_func", clock)
    for item in cases:
        clock.set(base_time)
        # Go's t.Run(fmt.Sprintf("%v", item.wantMaxIdleTime), ...)
        name = f"{item.want_max_idle_time}s"
        db = new_test_db("people", flavor)
        try:
            db.set_max_open_conns(used_conns)
            db.set_max_idle_conns(used_conns)
            db.set_conn_max_idle_time(item.want_max_idle_time)
            db.set_conn_max_lifetime(item.want_max_lifetime)

            pre_max_idle_closed = db.stats().max_idle_time_closed

            # Busy usedConns.
            _test_use_conns(used_conns, base_time, db, clock)

            tm = base_time + item.time_offset

            # Reuse connections which should never be considered idle
            # and exercises the sorting for issue 39471.
            tm = _test_use_conns(reused_conns, tm, db, clock)

            tm += item.second_time_offset
            clock.set(tm)

            with db._mu:
                nc, closing = db._connection_cleaner_run_locked(1.0)
                # Durations are float seconds here: equal to well under a nanosecond.
                assert nc == pytest.approx(item.want_next_check, rel=0, abs=1e-12), (
                    f"{name}: got {nc}; want {item.want_next_check} next check duration"
                )

                # Validate freeConn order.
                last = float("-inf")
                for c in db._free_conn:
                    assert not last > c._returned_at, (
                        f"{name}: freeConn is not ordered by returnedAt"
                    )
                    last = c._returned_at

            for c in closing:
                c.close()
            g, w = len(closing), item.want_idle_closed
            assert g == w, f"{name}: got: {g}; want {w} closed conns"

            st = db.stats()
            max_idle_closed = st.max_idle_time_closed - pre_max_idle_closed
            g, w = max_idle_closed, item.want_max_idle_closed
            assert g == w, f"{name}: got: {g}; want {w} max idle closed conns"
        finally:
            close_db(db)


class NvcDriver(fakedb.FakeDriver):
    """Go's nvcDriver: a fakeDriver whose conns are NvcConns."""

    def __init__(self, skip_named_value_check: bool = False) -> None:
        super().__init__()
        self.skip_named_value_check = skip_named_value_check

    def open(self, dsn: str) -> NvcConn:  # type: ignore[override]
        fc = super().open(dsn)
        fc._must_db().allow_any = True
        return NvcConn(fc, self.skip_named_value_check)


class NvcConn:
    """Go's nvcConn: a fakeConn (its methods promoted, as Go's embedding does)
    that implements driver.NamedValueChecker."""

    def __init__(self, fc: fakedb.FakeConn, skip_named_value_check: bool) -> None:
        self.fc = fc
        self.skip_named_value_check = skip_named_value_check

    # The embedded *fakeConn's methods.
    def begin(self) -> fakedb.FakeTx:
        return self.fc.begin()

    def reset_session(self, ctx: ctxmod.Context) -> None:
        self.fc.reset_session(ctx)

    def is_valid(self) -> bool:
        return self.fc.is_valid()

    def close(self) -> None:
        self.fc.close()

    def exec(self, query: str, args: list[Any]) -> driver.Result:
        return self.fc.exec(query, args)

    def exec_context(
        self, ctx: ctxmod.Context, query: str, args: list[driver.NamedValue]
    ) -> driver.Result:
        return self.fc.exec_context(ctx, query, args)

    def query(self, query: str, args: list[Any]) -> fakedb.RowsCursor:
        return self.fc.query(query, args)

    def query_context(
        self, ctx: ctxmod.Context, query: str, args: list[driver.NamedValue]
    ) -> fakedb.RowsCursor:
        return self.fc.query_context(ctx, query, args)

    def prepare(self, query: str) -> fakedb.FakeStmt:
        return self.fc.prepare(query)

    def prepare_context(self, ctx: ctxmod.Context, query: str) -> fakedb.FakeStmt:
        return self.fc.prepare_context(ctx, query)

    def check_named_value(self, nv: driver.NamedValue) -> None:
        if self.skip_named_value_check:
            raise driver.SkipError()
        v = nv.value
        if isinstance(v, Out):
            ov = v.dest
            # switch ov := v.Dest.(type) { case *string: ... }
            if not (isinstance(ov, Ref) and ov.type is str):
                raise _UnknownOutputTypeError("unknown NameValueCheck OUTPUT type")
            ov.value = "from-server"
            nv.value = "OUT:*string"
            return
        if isinstance(v, (DecimalInt, list)):  # case decimalInt, []int64
            return
        if isinstance(v, DoNotInclude):
            raise driver.RemoveArgumentError()
        raise driver.SkipError()


class _UnknownOutputTypeError(Exception):
    pass


@attrs.frozen
class DecimalInt:
    value: int


class DoNotInclude:
    pass


def test_named_value_checker() -> None:
    _register_once("NamedValueCheck", NvcDriver())
    db = sql.open("NamedValueCheck", "")
    with contextlib.ExitStack() as defer:
        defer.callback(db.close)

        # ctx := t.Context(): canceled when the test ends.
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        defer.callback(cancel)

        db.exec_context(ctx, "WIPE")

        db.exec_context(ctx, "CREATE|keys|dec1=any,str1=string,out1=string,array1=any")

        o1: Ref[str] = Ref(str, "")
        db.exec_context(
            ctx,
            "INSERT|keys|dec1=?A,str1=?,out1=?O1,array1=?",
            sql.named("A", DecimalInt(123)),
            "hello",
            sql.named("O1", Out(dest=o1)),
            [42, 128, 707],
            DoNotInclude(),
        )
        # Go's []int64 destination is a list here.
        dec1, str1, arr1 = db.query_row_context(ctx, "SELECT|keys|dec1,str1,array1|").scan(
            DecimalInt, str, list
        )

        cases: list[tuple[Any, Any]] = [
            (o1.value, "from-server"),
            (dec1, DecimalInt(123)),
            (str1, "hello"),
            (arr1, [42, 128, 707]),
        ]

        for index, (got, want) in enumerate(cases):
            assert got == want and type(got) is type(want), (
                f"got {got!r} wanted {want!r} for index {index}"
            )


def test_named_value_checker_skip() -> None:
    _register_once("NamedValueCheckSkip", NvcDriver(skip_named_value_check=True))
    db = sql.open("NamedValueCheckSkip", "")
    with contextlib.ExitStack() as defer:
        defer.callback(db.close)

        # ctx := t.Context(): canceled when the test ends.
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        defer.callback(cancel)

        db.exec_context(ctx, "WIPE")

        db.exec_context(ctx, "CREATE|keys|dec1=any")

        # expected error with bad argument
        with pytest.raises(sql.ConversionError):
            db.exec_context(ctx, "INSERT|keys|dec1=?A", sql.named("A", DecimalInt(123)))


def test_open_connector() -> None:
    _register_once("testctx", fakedb.FakeDriverCtx())
    db = sql.open("testctx", "people")
    try:
        c = db._connector
        assert isinstance(c, fakedb.FakeConnector), "not using *fakeConnector"

        db.close()

        assert c.closed, "connector is not closed"
    finally:
        db.close()


class CtxOnlyDriver(fakedb.FakeDriver):
    """Go's ctxOnlyDriver: a fakeDriver whose conns are CtxOnlyConns."""

    def open(self, dsn: str) -> CtxOnlyConn:  # type: ignore[override]
        conn = super().open(dsn)
        return CtxOnlyConn(conn)


class CtxOnlyConn:
    """A driver Conn with only the context variants of query and exec."""

    def __init__(self, fc: fakedb.FakeConn) -> None:
        self.fc = fc

        self.query_ctx_called = False
        self.exec_ctx_called = False

    def begin(self) -> fakedb.FakeTx:
        return self.fc.begin()

    def close(self) -> None:
        self.fc.close()

    # Prepare is still part of the Conn interface, so while it isn't used
    # must be defined for compatibility.
    def prepare(self, q: str) -> fakedb.FakeStmt:
        raise fakedb.FakePanic("not used")

    def prepare_context(self, ctx: ctxmod.Context, q: str) -> fakedb.FakeStmt:
        return self.fc.prepare_context(ctx, q)

    def query_context(
        self, ctx: ctxmod.Context, q: str, args: list[driver.NamedValue]
    ) -> fakedb.RowsCursor:
        self.query_ctx_called = True
        return self.fc.query_context(ctx, q, args)

    def exec_context(
        self, ctx: ctxmod.Context, q: str, args: list[driver.NamedValue]
    ) -> driver.Result:
        self.exec_ctx_called = True
        return self.fc.exec_context(ctx, q, args)


# TestQueryExecContextOnly ensures drivers only need to implement QueryContext
# and ExecContext methods.
def test_query_exec_context_only() -> None:
    # Ensure connection does not implement non-context interfaces.
    conn_type: object = CtxOnlyConn(fakedb.FakeConn(None))
    assert isinstance(conn_type, driver.Conn)
    assert not isinstance(conn_type, driver.Execer), (
        f"{type(conn_type).__name__} must not implement driver.Execer"
    )
    assert not isinstance(conn_type, driver.Queryer), (
        f"{type(conn_type).__name__} must not implement driver.Queryer"
    )

    _register_once("ContextOnly", CtxOnlyDriver())
    db = sql.open("ContextOnly", "")
    with contextlib.ExitStack() as defer:
        defer.callback(db.close)

        # ctx := t.Context(): canceled when the test ends.
        ctx, cancel = ctxmod.with_cancel(ctxmod.background())
        defer.callback(cancel)

        conn = db.conn(ctx)
        defer.callback(conn.close)
        assert conn._dc is not None
        coc = conn._dc._ci
        assert isinstance(coc, CtxOnlyConn)
        coc.fc.skip_dirty_session = True

        conn.exec_context(ctx, "WIPE")

        conn.exec_context(ctx, "CREATE|keys|v1=string")
        expected_value = "value1"
        conn.exec_context(ctx, "INSERT|keys|v1=?", expected_value)
        rows = conn.query_context(ctx, "SELECT|keys|v1|")
        v1 = ""
        while rows.next():
            (v1,) = rows.scan(str)
        rows.close()

        assert v1 == expected_value, f"expected {expected_value!r}, got {v1!r}"

        assert coc.exec_ctx_called, "ExecContext not called"
        assert coc.query_ctx_called, "QueryContext not called"


class AlwaysErrScanner:
    def scan(self, src: Any) -> None:
        raise ERR_TEST_SCAN_WRAP


ERR_TEST_SCAN_WRAP = Exception("errTestScanWrap")


# Issue 38099: Ensure that Rows.Scan properly wraps underlying errors.
def test_rows_scan_properly_wraps_errors(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        rows = db.query("SELECT|people|age|")

        res = AlwaysErrScanner()

        scanned = 0
        while rows.next():
            scanned += 1
            with pytest.raises(Exception) as ei:  # noqa: B017 (any error; checked below)
                rows.scan(res)
            err = ei.value
            assert _is(err, ERR_TEST_SCAN_WRAP), (
                f"errors.Is mismatch\n{err}\nWant: {ERR_TEST_SCAN_WRAP}"
            )
            # Ensure that error substring matching still correctly works.
            assert str(ERR_TEST_SCAN_WRAP) in str(err), (
                f"Error {err} does not contain {ERR_TEST_SCAN_WRAP}"
            )
        assert scanned == 3
    finally:
        close_db(db)


class BadConnPanic(Exception):
    """A Go panic in BadConn (its value is the message)."""


class BadConn:
    """Implements a bad driver.Conn, for test_bad_driver. The exec method panics."""

    def prepare(self, query: str) -> driver.Stmt:
        raise fakedb.FakeDBError("badConn Prepare")

    def close(self) -> None:
        return None

    def begin(self) -> driver.Tx:
        raise fakedb.FakeDBError("badConn Begin")

    def exec(self, query: str, args: list[Any]) -> driver.Result:
        raise BadConnPanic("badConn.Exec")


class BadDriver:
    """A driver.Driver that uses BadConn."""

    def open(self, name: str) -> BadConn:
        return BadConn()


# Issue 15901.
def test_bad_driver() -> None:
    _register_once("bad", BadDriver())
    db = sql.open("bad", "ignored")
    # expected panic
    with pytest.raises(BadConnPanic) as ei:
        try:
            db.exec("ignored")
        finally:
            db.close()
    want = "badConn.Exec"
    assert str(ei.value) == want, f"panic was {ei.value}, expected {want}"


class PingDriver:
    def __init__(self) -> None:
        self.fails = False

    def open(self, name: str) -> PingConn:
        return PingConn(self)


class PingConn(BadConn):
    def __init__(self, drv: PingDriver) -> None:
        self.driver = drv

    def ping(self, ctx: ctxmod.Context) -> None:
        if self.driver.fails:
            raise PING_ERROR


PING_ERROR = Exception("Ping failed")

_PING_DRIVER = PingDriver()


def test_ping() -> None:
    drv = _PING_DRIVER
    drv.fails = False  # Go registers a new driver; a second run reuses this one.
    _register_once("ping", drv)

    db = sql.open("ping", "ignored")

    try:
        db.ping()
    except Exception as e:
        pytest.fail(f"err was {e!r}, expected nil")

    drv.fails = True
    with pytest.raises(Exception) as ei:  # noqa: B017 (the very error; checked below)
        db.ping()
    assert ei.value is PING_ERROR, f"err was {ei.value!r}, expected pingError"


# Issue 18101.
def test_typed_string(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:

        class Str(str):
            pass

        (scanned,) = db.query_row("SELECT|people|name|name=?", "Alice").scan(Str)
        expected = Str("Alice")
        assert scanned == expected and type(scanned) is Str, (
            f"expected {expected!r}, got {scanned!r}"
        )
    finally:
        close_db(db)


# The Go benchmarks of sql_test.go are in benchmarks/bench_sql.py.


@pytest.fixture(autouse=True)
def _no_leftover_hooks() -> Iterator[None]:
    """The fakedb hooks a test sets are reset even when it fails half way."""
    yield
    fdb.set_hook_post_close_conn(None)
    fdb.set_strict_fake_conn_close(None)
