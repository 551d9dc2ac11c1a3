"""Go's sql_test.go, translated test for test (TestOpenDB .. TestTxErrBadConn).

Each test keeps Go's order of steps and assertions; Go's helpers are in
``tests/sqltest.py``. Tests that go through the DB API run once per driver
flavour (newer upstream); a flavour lacking a feature a test needs is skipped
for that flavour only.
"""

from __future__ import annotations

import datetime
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import pytest

import fakedb
from dbsql import context, sql
from dbsql.context import Context
from fakedb import fakedb as fdb
from tests.sqltest import (
    CHRIS_BIRTHDAY,
    FAKE_DB_NAME,
    POLL_DURATION,
    close_db,
    exec_,
    new_test_db,
    new_test_db_connector,
    not_basic,
    num_free_conns,
    num_prepares,
    wait_condition,
    wait_for_free,
    wait_for_rows_close,
)

# How long a test waits for a thread or an event before it fails instead of
# hanging (Go relies on the test binary's timeout).
WAIT_TIMEOUT = 10.0


class _WaitGroup:
    """Go's sync.WaitGroup: add, done, and a wait with a deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._n = 0

    def add(self, n: int) -> None:
        with self._cond:
            self._n += n
            if self._n == 0:
                self._cond.notify_all()

    def done(self) -> None:
        self.add(-1)

    def wait(self, timeout: float = WAIT_TIMEOUT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._n == 0, timeout)


def _start(fn: Callable[[], None]) -> threading.Thread:
    """Go's ``go fn()``."""
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def test_open_db() -> None:
    db = sql.open_db(sql._DsnConnector(FAKE_DB_NAME, fdb.fdriver))
    if db.driver() is not fdb.fdriver:
        pytest.fail("OpenDB should return the driver of the Connector")


def test_driver_panic() -> None:
    # Test that if driver panics, database/sql does not deadlock.
    try:
        db = sql.open("test", FAKE_DB_NAME)
    except Exception as e:
        pytest.fail(f"Open: {e}")

    def expect_panic(name: str, f: Callable[[], object]) -> None:
        # Go recovers the driver's panic; here the driver raises FakePanic.
        try:
            f()
        except fakedb.FakePanic:
            return
        pytest.fail(f"{name} did not panic")

    expect_panic("Exec Exec", lambda: db.exec("PANIC|Exec|WIPE"))
    exec_(db, "WIPE")  # check not deadlocked
    expect_panic("Exec NumInput", lambda: db.exec("PANIC|NumInput|WIPE"))
    exec_(db, "WIPE")  # check not deadlocked
    expect_panic("Exec Close", lambda: db.exec("PANIC|Close|WIPE"))
    exec_(db, "WIPE")  # check not deadlocked
    exec_(db, "PANIC|Query|WIPE")  # should run successfully: Exec does not call Query
    exec_(db, "WIPE")  # check not deadlocked

    exec_(db, "CREATE|people|name=string,age=int32,photo=blob,dead=bool,bdate=datetime")

    expect_panic("Query Query", lambda: db.query("PANIC|Query|SELECT|people|age,name|"))
    expect_panic("Query NumInput", lambda: db.query("PANIC|NumInput|SELECT|people|age,name|"))

    def query_close() -> None:
        try:
            rows = db.query("PANIC|Close|SELECT|people|age,name|")
        except Exception as e:
            pytest.fail(str(e))
        rows.close()

    expect_panic("Query Close", query_close)
    # should run successfully: Query does not call Exec
    db.query("PANIC|Exec|SELECT|people|age,name|")
    exec_(db, "WIPE")  # check not deadlocked


def test_query(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        prepares0 = num_prepares(db)
        try:
            rows = db.query("SELECT|people|age,name|")
        except Exception as e:
            pytest.fail(f"Query: {e}")
        try:
            got: list[tuple[int, str]] = []
            while rows.next():
                try:
                    age, name = rows.scan(int, str)
                except Exception as e:
                    pytest.fail(f"Scan: {e}")
                got.append((age, name))
            err = rows.err()
            if err is not None:
                pytest.fail(f"Err: {err}")
            want = [(1, "Alice"), (2, "Bob"), (3, "Chris")]
            assert got == want, f"mismatch.\n got: {got!r}\nwant: {want!r}"

            # And verify that the final rows.next() call, which hit EOF,
            # also closed the rows connection.
            n = num_free_conns(db)
            if n != 1:
                pytest.fail(f"free conns after query hitting EOF = {n}; want 1")
            prepares = num_prepares(db) - prepares0
            assert prepares == 1, f"executed {prepares} Prepare statements; want 1"
        finally:
            rows.close()
    finally:
        close_db(db)


def test_query_context(flavor: str) -> None:
    """Canceling the context while scanning the rows."""
    db = new_test_db("people", flavor)
    try:
        prepares0 = num_prepares(db)

        ctx, cancel = context.with_cancel(context.background())
        try:
            try:
                rows = db.query_context(ctx, "SELECT|people|age,name|")
            except Exception as e:
                pytest.fail(f"Query: {e}")
            got: list[tuple[int, str]] = []
            index = 0
            while rows.next():
                if index == 2:
                    cancel()
                    wait_for_rows_close(rows)
                try:
                    age, name = rows.scan(int, str)
                except Exception as e:
                    if index == 2:
                        break
                    pytest.fail(f"Scan: {e}")
                if index == 2:
                    # Go: err != context.Canceled, with err nil here.
                    pytest.fail("Scan: None; want context.Canceled")
                got.append((age, name))
                index += 1
            if ctx.done().is_set():
                err = ctx.err()
                if not isinstance(err, context.Canceled):
                    pytest.fail(f"context err = {err!r}; want context.Canceled")
            else:
                pytest.fail("context err = None; want context.Canceled")
            want = [(1, "Alice"), (2, "Bob")]
            assert got == want, f"mismatch.\n got: {got!r}\nwant: {want!r}"

            # And verify that the final rows.next() call, which hit EOF,
            # also closed the rows connection.
            wait_for_rows_close(rows)
            wait_for_free(db, 1)
            prepares = num_prepares(db) - prepares0
            assert prepares == 1, f"executed {prepares} Prepare statements; want 1"
        finally:
            cancel()
    finally:
        close_db(db)


def test_query_context_wait(flavor: str) -> None:
    """Rows and all internal statements are closed when a query context is closed
    during execution."""
    db = new_test_db("people", flavor)
    try:
        prepares0 = num_prepares(db)

        ctx, cancel = context.with_cancel(context.background())
        try:
            # This will trigger the FakeConn.prepare_context method which will take
            # time performing the query. The _ctx_driver_prepare func will check the
            # context after this and close the rows and raise an error.
            try:
                c = db.conn(ctx)
            except Exception as e:
                pytest.fail(str(e))

            def waiter(_: Context) -> None:
                cancel()
                ctx.done().wait()

            assert c._dc is not None
            fakedb.fake_conn_of(c._dc._ci).waiter = waiter
            err: BaseException | None = None
            try:
                c.query_context(ctx, "SELECT|people|age,name|")
            except Exception as e:
                err = e
            c.close()
            if not isinstance(err, context.Canceled):
                pytest.fail(
                    "expected QueryContext to error with context deadline exceeded but "
                    f"returned {err!r}"
                )

            # Verify closed rows connection after error condition.
            wait_for_free(db, 1)
            prepares = num_prepares(db) - prepares0
            if prepares != 1:
                pytest.fail(f"executed {prepares} Prepare statements; want 1")
        finally:
            cancel()
    finally:
        close_db(db)


def test_tx_context_wait(flavor: str) -> None:
    """The transaction behavior when the tx context is canceled during execution
    of the query."""
    _test_context_wait(flavor, False)


def test_tx_context_wait_no_discard(flavor: str) -> None:
    """The same as test_tx_context_wait, but should not discard the final connection."""
    _test_context_wait(flavor, True)


def _test_context_wait(flavor: str, keep_conn_on_rollback: bool) -> None:
    db = new_test_db("people", flavor)
    try:
        ctx, cancel = context.with_cancel(context.background())

        try:
            tx = db.begin_tx(ctx, None)
        except Exception as e:
            pytest.fail(str(e))
        tx._keep_conn_on_rollback = keep_conn_on_rollback

        def waiter(_: Context) -> None:
            cancel()
            ctx.done().wait()

        assert tx._dc is not None
        fakedb.fake_conn_of(tx._dc._ci).waiter = waiter
        # This will trigger the FakeConn.prepare_context method which will take
        # time performing the query. The _ctx_driver_prepare func will check the
        # context after this and close the rows and raise an error.
        err: BaseException | None = None
        try:
            tx.query_context(ctx, "SELECT|people|age,name|")
        except Exception as e:
            err = e
        if not isinstance(err, context.Canceled):
            pytest.fail(
                f"expected QueryContext to error with context canceled but returned {err!r}"
            )

        if keep_conn_on_rollback:
            wait_for_free(db, 1)
        else:
            wait_for_free(db, 0)
    finally:
        close_db(db)


def test_unsupported_options(flavor: str) -> None:
    """The database fails when a driver that doesn't implement ConnBeginTx is used
    with non-default options and an un-cancellable context."""
    db = new_test_db("people", flavor)
    try:
        with pytest.raises(Exception):  # noqa: B017 - Go only checks err != nil
            db.begin_tx(
                context.background(),
                sql.TxOptions(isolation=sql.LEVEL_SERIALIZABLE, read_only=True),
            )
    finally:
        close_db(db)


@not_basic("RowsNextResultSet")
def test_multi_result_set_query(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        prepares0 = num_prepares(db)
        try:
            rows = db.query("SELECT|people|age,name|;SELECT|people|name|")
        except Exception as e:
            pytest.fail(f"Query: {e}")
        got1: list[tuple[int, str]] = []
        while rows.next():
            try:
                age, name = rows.scan(int, str)
            except Exception as e:
                pytest.fail(f"Scan: {e}")
            got1.append((age, name))
        err = rows.err()
        if err is not None:
            pytest.fail(f"Err: {err}")
        want1 = [(1, "Alice"), (2, "Bob"), (3, "Chris")]
        assert got1 == want1, f"mismatch.\n got1: {got1!r}\nwant: {want1!r}"

        assert rows.next_result_set(), "expected another result set"

        got2: list[tuple[str]] = []
        while rows.next():
            try:
                got2.append(rows.scan(str))
            except Exception as e:
                pytest.fail(f"Scan: {e}")
        err = rows.err()
        if err is not None:
            pytest.fail(f"Err: {err}")
        want2 = [("Alice",), ("Bob",), ("Chris",)]
        assert got2 == want2, f"mismatch.\n got: {got2!r}\nwant: {want2!r}"
        assert not rows.next_result_set(), "expected no more result sets"

        # And verify that the final rows.next() call, which hit EOF,
        # also closed the rows connection.
        wait_for_free(db, 1)
        prepares = num_prepares(db) - prepares0
        assert prepares == 1, f"executed {prepares} Prepare statements; want 1"
    finally:
        close_db(db)


@not_basic("named parameters (no context-aware Stmt)")
def test_query_named_arg(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        prepares0 = num_prepares(db)
        try:
            rows = db.query(
                # Ensure the name and age parameters only match on placeholder
                # name, not position.
                "SELECT|people|age,name|name=?name,age=?age",
                sql.named("age", 2),
                sql.named("name", "Bob"),
            )
        except Exception as e:
            pytest.fail(f"Query: {e}")
        got: list[tuple[int, str]] = []
        while rows.next():
            try:
                age, name = rows.scan(int, str)
            except Exception as e:
                pytest.fail(f"Scan: {e}")
            got.append((age, name))
        err = rows.err()
        if err is not None:
            pytest.fail(f"Err: {err}")
        want = [(2, "Bob")]
        assert got == want, f"mismatch.\n got: {got!r}\nwant: {want!r}"

        # And verify that the final rows.next() call, which hit EOF,
        # also closed the rows connection.
        n = num_free_conns(db)
        if n != 1:
            pytest.fail(f"free conns after query hitting EOF = {n}; want 1")
        prepares = num_prepares(db) - prepares0
        assert prepares == 1, f"executed {prepares} Prepare statements; want 1"
    finally:
        close_db(db)


def test_pool_exhaust_on_cancel(flavor: str) -> None:
    max_ = 3
    saturate, saturate_done = _WaitGroup(), _WaitGroup()
    saturate.add(max_)
    saturate_done.add(max_)

    done_ping = threading.Event()
    state = [0]

    # waiter will be called for all queries, including initial setup queries.
    # The state is only assigned when no queries are made.
    #
    # Only allow the first batch of queries to finish once the second batch of
    # Ping queries have finished.
    def waiter(ctx: Context) -> None:
        if state[0] == 0:
            pass  # Nothing. Initial database setup.
        elif state[0] == 1:
            saturate.done()
            # select { case <-ctx.Done(): case <-donePing: }
            while not done_ping.wait(POLL_DURATION) and not ctx.done().is_set():
                pass

    db = new_test_db_connector(fakedb.FakeConnector(waiter=waiter, flavor=flavor), "people")
    try:
        db.set_max_open_conns(max_)

        # First saturate the connection pool.
        # Then start new requests for a connection that is canceled after it is
        # requested.

        state[0] = 1
        errors: queue.Queue[str] = queue.Queue()

        def saturate_query() -> None:
            try:
                rows = db.query("SELECT|people|name,photo|")
            except Exception as e:
                errors.put(f"Query: {e!r}")
                return
            rows.close()
            saturate_done.done()

        threads = [_start(saturate_query) for _ in range(max_)]

        if not saturate.wait():
            pytest.fail("the pool was not saturated")
        if not errors.empty():
            pytest.fail(errors.get())
        state[0] = 2

        # Now cancel the request while it is waiting.
        ctx, cancel = context.with_timeout(context.background(), 2.0)
        try:
            for _ in range(max_):
                ctx_req, cancel_req = context.with_cancel(ctx)

                # Go sleeps 100ms before canceling, for the ping to be waiting
                # for a connection; here we wait until its request is queued.
                def cancel_when_waiting(cancel_req: Callable[[], None] = cancel_req) -> None:
                    def waiting() -> bool:
                        with db._mu:
                            return len(db._conn_requests) > 0

                    wait_condition(waiting)
                    cancel_req()

                canceler = _start(cancel_when_waiting)
                err: BaseException | None = None
                try:
                    db.ping_context(ctx_req)
                except Exception as e:
                    err = e
                canceler.join(WAIT_TIMEOUT)
                if not isinstance(err, context.Canceled):
                    pytest.fail(f"PingContext (Exhaust): {err!r}")
            done_ping.set()
            if not saturate_done.wait():
                pytest.fail("saturating queries did not finish")
            for t in threads:
                t.join(WAIT_TIMEOUT)
            if not errors.empty():  # Go's t.Errorf in the goroutines
                pytest.fail(errors.get())

            # Now try to open a normal connection.
            try:
                db.ping_context(ctx)
            except Exception as e:
                pytest.fail(f"PingContext (Normal): {e!r}")
        finally:
            cancel()
    finally:
        done_ping.set()
        close_db(db)


def test_rows_columns(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        try:
            rows = db.query("SELECT|people|age,name|")
        except Exception as e:
            pytest.fail(f"Query: {e}")
        try:
            cols = rows.columns()
        except Exception as e:
            pytest.fail(f"Columns: {e}")
        want = ["age", "name"]
        assert cols == want, f"got {cols!r}; want {want!r}"
        try:
            rows.close()
        except Exception as e:
            pytest.fail(f"error closing rows: {e}")
    finally:
        close_db(db)


@not_basic("RowsColumnTypeScanType")
def test_rows_column_types(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        try:
            rows = db.query("SELECT|people|age,name|")
        except Exception as e:
            pytest.fail(f"Query: {e}")
        try:
            tt = rows.column_types()
        except Exception as e:
            pytest.fail(f"ColumnTypes: {e}")

        types: list[Any] = [None] * len(tt)
        errors: list[str] = []
        for i, tp in enumerate(tt):
            st = tp.scan_type()
            if st is None:
                errors.append(f"scantype is null for column {tp.name()!r}")
                continue
            types[i] = st
        assert not errors, "\n".join(errors)
        # Go allocates a new value of each scan type (reflect.New); here the
        # types themselves are the scan destinations.
        ct = 0
        while rows.next():
            try:
                values = rows.scan(*types)
            except Exception as e:
                pytest.fail(f"failed to scan values in {e}")
            if ct == 1:
                # Go's type assertions values[0].(*int32) and values[1].(*string)
                # check the destinations' types: here the scan types (scanning
                # into Int32 gives a plain, range-checked int).
                assert types[0] is sql.Int32, f"scan type of age is {types[0]!r}, not Int32"
                age = values[0]
                assert type(age) is int, f"age is {type(age).__name__}, not int"
                assert age == 2, f"Expected 2, got {age}"
                assert types[1] is str, f"scan type of name is {types[1]!r}, not str"
                name = values[1]
                assert type(name) is str, f"name is {type(name).__name__}, not str"
                assert name == "Bob", f"Expected Bob, got {name}"
            ct += 1
        assert ct == 3, f"expected 3 rows, got {ct}"

        try:
            rows.close()
        except Exception as e:
            pytest.fail(f"error closing rows: {e}")
    finally:
        close_db(db)


def test_query_row(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        err: BaseException | None = None
        try:
            db.query_row("SELECT|people|age,name|age=?", 3).scan(int)
        except Exception as e:
            err = e
        assert err is not None and "expected 2 destination arguments" in str(err), (
            f"expected error from wrong number of arguments; actually got: {err!r}"
        )

        birthday: datetime.datetime | None = None
        err = None
        try:
            (birthday,) = db.query_row("SELECT|people|bdate|age=?", 3).scan(datetime.datetime)
        except Exception as e:
            err = e
        assert err is None and birthday == CHRIS_BIRTHDAY, (
            f"chris birthday = {birthday}, err = {err!r}; want {CHRIS_BIRTHDAY}"
        )

        try:
            age, name = db.query_row("SELECT|people|age,name|age=?", 2).scan(int, str)
        except Exception as e:
            pytest.fail(f"age QueryRow+Scan: {e}")
        assert name == "Bob", f"expected name Bob, got {name!r}"
        assert age == 2, f"expected age 2, got {age}"

        try:
            age, name = db.query_row("SELECT|people|age,name|name=?", "Alice").scan(int, str)
        except Exception as e:
            pytest.fail(f"name QueryRow+Scan: {e}")
        assert name == "Alice", f"expected name Alice, got {name!r}"
        assert age == 1, f"expected age 1, got {age}"

        try:
            (photo,) = db.query_row("SELECT|people|photo|name=?", "Alice").scan(bytes)
        except Exception as e:
            pytest.fail(f"photo QueryRow+Scan: {e}")
        want = b"APHOTO"
        assert photo == want, f"photo = {photo!r}; want {want!r}"
    finally:
        close_db(db)


def test_row_err(flavor: str) -> None:
    db = new_test_db("people", flavor)

    err = db.query_row_context(context.background(), "SELECT|people|bdate|age=?", 3).err()
    assert err is None, f"Unexpected err = {err!r}; want None"

    ctx, cancel = context.with_cancel(context.background())
    cancel()

    err = db.query_row_context(ctx, "SELECT|people|bdate|age=?", 3).err()
    exp = "context canceled"
    assert err is not None and exp in str(err), f"Expected err = {exp}; got {err!r}"


def test_tx_rollback_commit_err(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        try:
            tx = db.begin()
        except Exception as e:
            pytest.fail(str(e))
        try:
            tx.rollback()
        except Exception as e:
            pytest.fail(f"expected nil error from Rollback; got {e!r}")
        with pytest.raises(sql.TxDoneError):
            tx.commit()

        try:
            tx = db.begin()
        except Exception as e:
            pytest.fail(str(e))
        try:
            tx.commit()
        except Exception as e:
            pytest.fail(f"expected nil error from Commit; got {e!r}")
        with pytest.raises(sql.TxDoneError):
            tx.rollback()
    finally:
        close_db(db)


def test_statement_error_after_close(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        try:
            stmt = db.prepare("SELECT|people|age|name=?")
        except Exception as e:
            pytest.fail(f"Prepare: {e}")
        try:
            stmt.close()
        except Exception as e:
            pytest.fail(f"Close: {e}")
        with pytest.raises(Exception):  # noqa: B017 - Go only checks err != nil
            stmt.query_row("foo").scan(str)
    finally:
        close_db(db)


def test_statement_query_row(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        try:
            stmt = db.prepare("SELECT|people|age|name=?")
        except Exception as e:
            pytest.fail(f"Prepare: {e}")
        try:
            errors: list[str] = []
            for n, (name, want) in enumerate([("Alice", 1), ("Bob", 2), ("Chris", 3)]):
                try:
                    (age,) = stmt.query_row(name).scan(int)
                except Exception as e:
                    errors.append(f"{n}: on {name!r}, QueryRow/Scan: {e}")
                    continue
                if age != want:
                    errors.append(f"{n}: age={age}, want {want}")
            assert not errors, "\n".join(errors)
        finally:
            stmt.close()
    finally:
        close_db(db)


class _StubDriverStmt:
    """Go's stubDriverStmt: a driver.Stmt whose close returns err."""

    def __init__(self, err: BaseException | None) -> None:
        self.err = err

    def close(self) -> None:
        if self.err is not None:
            raise self.err

    def num_input(self) -> int:
        return -1

    def exec(self, args: Sequence[Any]) -> Any:
        return None

    def query(self, args: Sequence[Any]) -> Any:
        return None


class _Locker:
    """Stands in for the _DriverConn a _DriverStmt takes its lock from (Go's
    driverStmt{Locker: &sync.Mutex{}})."""

    def __init__(self) -> None:
        self._lock = threading.Lock()


def test_statement_close() -> None:
    """golang.org/issue/12798"""
    want = Exception("STMT ERROR")

    # Go's zero-value &Tx{} has no Python twin: an uninitialised Tx stands in.
    tx = sql.Tx.__new__(sql.Tx)
    ds = sql._DriverStmt(cast(Any, _Locker()), _StubDriverStmt(want))
    tests = [
        (sql.Stmt(None, "", None, None, sticky_err=want), "stickyErr not propagated"),
        (sql.Stmt(None, "", tx, ds), "driverStmt.Close() error not propagated"),
    ]
    errors: list[str] = []
    for stmt, msg in tests:
        err: BaseException | None = None
        try:
            stmt.close()
        except Exception as e:
            err = e
        if err is not want:
            errors.append(f"{msg}. Got stmt.Close() = {err!r}, want = {want!r}")
    assert not errors, "\n".join(errors)


def test_statement_query_row_concurrent(flavor: str) -> None:
    """golang.org/issue/3734"""
    db = new_test_db("people", flavor)
    try:
        try:
            stmt = db.prepare("SELECT|people|age|name=?")
        except Exception as e:
            pytest.fail(f"Prepare: {e}")
        try:
            n = 10
            ch: queue.Queue[BaseException | None] = queue.Queue(n)

            def query() -> None:
                err: BaseException | None = None
                try:
                    (age,) = stmt.query_row("Alice").scan(int)
                    if age != 1:
                        err = Exception(f"unexpected age {age}")
                except Exception as e:
                    err = e
                ch.put(err)

            for _ in range(n):
                _start(query)
            errors: list[str] = []
            for _ in range(n):
                err = ch.get(timeout=WAIT_TIMEOUT)
                if err is not None:
                    errors.append(repr(err))
            assert not errors, "\n".join(errors)
        finally:
            stmt.close()
    finally:
        close_db(db)


def test_bogus_prebound_parameters(flavor: str) -> None:
    """Just a test of fakedb itself."""
    db = new_test_db("foo", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")
        with pytest.raises(Exception) as info:  # noqa: B017 - the message is checked
            db.prepare("INSERT|t1|name=?,age=bogusconversion")
        err = info.value
        assert str(err) == 'fakedb: invalid conversion to int32 from "bogusconversion"', (
            f"unexpected error: {err}"
        )
    finally:
        close_db(db)


@not_basic("ColumnConverter")
def test_exec(flavor: str) -> None:
    db = new_test_db("foo", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")
        try:
            stmt = db.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            exec_tests: list[tuple[list[Any], str]] = [
                # Okay:
                (["Brad", 31], ""),
                (["Brad", 31], ""),  # Go: int64(31)
                (["Bob", "32"], ""),
                ([7, 9], ""),
                # Invalid conversions:
                (
                    ["Brad", 0xFFFFFFFF],
                    "sql: converting argument $2 type: sql/driver: value 4294967295 "
                    "overflows int32",
                ),
                (
                    ["Brad", "strconv fail"],
                    'sql: converting argument $2 type: sql/driver: value "strconv fail" '
                    "can't be converted to int32",
                ),
                # Wrong number of args:
                ([], "sql: expected 2 arguments, got 0"),
                ([1, 2, 3], "sql: expected 2 arguments, got 3"),
            ]
            errors: list[str] = []
            for n, (args, want_err) in enumerate(exec_tests):
                err_str = ""
                try:
                    stmt.exec(*args)
                except Exception as e:
                    err_str = str(e)
                if err_str != want_err:
                    errors.append(
                        f"stmt.Execute #{n}: for {args!r}, got error {err_str!r}, "
                        f"want error {want_err!r}"
                    )
            assert not errors, "\n".join(errors)
        finally:
            stmt.close()
    finally:
        close_db(db)


def test_tx_prepare(flavor: str) -> None:
    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")
        try:
            tx = db.begin()
        except Exception as e:
            pytest.fail(f"Begin = {e}")
        try:
            stmt = tx.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            try:
                stmt.exec("Bobby", 7)
            except Exception as e:
                pytest.fail(f"Exec = {e}")
            try:
                tx.commit()
            except Exception as e:
                pytest.fail(f"Commit = {e}")
            # commit() should have closed the statement
            if not stmt._closed:
                pytest.fail("Stmt not closed after Commit")
        finally:
            stmt.close()
    finally:
        close_db(db)


def test_tx_stmt(flavor: str) -> None:
    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")
        try:
            stmt = db.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            try:
                tx = db.begin()
            except Exception as e:
                pytest.fail(f"Begin = {e}")
            txs = tx.stmt(stmt)
            try:
                try:
                    txs.exec("Bobby", 7)
                except Exception as e:
                    pytest.fail(f"Exec = {e}")
                try:
                    tx.commit()
                except Exception as e:
                    pytest.fail(f"Commit = {e}")
                # commit() should have closed the statement
                if not txs._closed:
                    pytest.fail("Stmt not closed after Commit")
            finally:
                txs.close()
        finally:
            stmt.close()
    finally:
        close_db(db)


def test_tx_stmt_prepared_once(flavor: str) -> None:
    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32")

        prepares0 = num_prepares(db)

        # db.prepare increments num_prepares.
        try:
            stmt = db.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            try:
                tx = db.begin()
            except Exception as e:
                pytest.fail(f"Begin = {e}")

            txs1 = tx.stmt(stmt)
            txs2 = tx.stmt(stmt)

            try:
                txs1.exec("Go", 7)
            except Exception as e:
                pytest.fail(f"Exec = {e}")
            txs1.close()

            try:
                txs2.exec("Gopher", 8)
            except Exception as e:
                pytest.fail(f"Exec = {e}")
            txs2.close()

            try:
                tx.commit()
            except Exception as e:
                pytest.fail(f"Commit = {e}")

            prepares = num_prepares(db) - prepares0
            assert prepares == 1, f"executed {prepares} Prepare statements; want 1"
        finally:
            stmt.close()
    finally:
        close_db(db)


def test_tx_stmt_closed_re_prepares(flavor: str) -> None:
    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32")

        prepares0 = num_prepares(db)

        # db.prepare increments num_prepares.
        try:
            stmt = db.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            tx = db.begin()
        except Exception as e:
            pytest.fail(f"Begin = {e}")
        try:
            stmt.close()
        except Exception as e:
            pytest.fail(f"stmt.Close() = {e}")
        # tx.stmt increments num_prepares because stmt is closed.
        txs = tx.stmt(stmt)
        if txs._sticky_err is not None:
            pytest.fail(repr(txs._sticky_err))
        if txs._parent_stmt is not None:
            pytest.fail("expected nil parentStmt")
        try:
            txs.exec("Eric", 82)
        except Exception as e:
            pytest.fail(f"txs.Exec = {e}")

        try:
            txs.close()
        except Exception as e:
            pytest.fail(f"txs.Close = {e}")

        tx.rollback()

        prepares = num_prepares(db) - prepares0
        assert prepares == 2, f"executed {prepares} Prepare statements; want 2"
    finally:
        close_db(db)


def test_parent_stmt_outlives_tx_stmt(flavor: str) -> None:
    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32")

        # Make sure everything happens on the same connection.
        db.set_max_open_conns(1)

        prepares0 = num_prepares(db)

        # db.prepare increments num_prepares.
        try:
            stmt = db.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            try:
                tx = db.begin()
            except Exception as e:
                pytest.fail(f"Begin = {e}")
            txs = tx.stmt(stmt)
            if len(stmt._css) != 1:
                pytest.fail(f"len(stmt.css) = {len(stmt._css)}; want 1")
            try:
                txs.close()
            except Exception as e:
                pytest.fail(f"txs.Close() = {e}")
            try:
                tx.rollback()
            except Exception as e:
                pytest.fail(f"tx.Rollback() = {e}")
            # txs must not be valid.
            with pytest.raises(Exception):  # noqa: B017 - Go only checks err != nil
                txs.exec("Suzan", 30)
            # Stmt must still be valid.
            try:
                stmt.exec("Janina", 25)
            except Exception as e:
                pytest.fail(f"stmt.Exec() = {e}")

            prepares = num_prepares(db) - prepares0
            assert prepares == 1, f"executed {prepares} Prepare statements; want 1"
        finally:
            stmt.close()
    finally:
        close_db(db)


def test_tx_stmt_from_tx_stmt_re_prepares(flavor: str) -> None:
    """tx.stmt called with a statement already associated with tx as argument
    re-prepares the same statement again."""
    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32")
        prepares0 = num_prepares(db)
        # db.prepare increments num_prepares.
        try:
            stmt = db.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            try:
                tx = db.begin()
            except Exception as e:
                pytest.fail(f"Begin = {e}")
            txs1 = tx.stmt(stmt)

            # tx.stmt(txs1) increments num_prepares because txs1 already belongs
            # to a transaction (albeit the same transaction).
            txs2 = tx.stmt(txs1)
            if txs2._sticky_err is not None:
                pytest.fail(repr(txs2._sticky_err))
            if txs2._parent_stmt is not None:
                pytest.fail("expected nil parentStmt")
            try:
                txs2.exec("Eric", 82)
            except Exception as e:
                pytest.fail(repr(e))

            try:
                txs1.close()
            except Exception as e:
                pytest.fail(f"txs1.Close = {e}")
            try:
                txs2.close()
            except Exception as e:
                pytest.fail(f"txs1.Close = {e}")
            try:
                tx.rollback()
            except Exception as e:
                pytest.fail(f"tx.Rollback = {e}")

            prepares = num_prepares(db) - prepares0
            assert prepares == 2, f"executed {prepares} Prepare statements; want 2"
        finally:
            stmt.close()
    finally:
        close_db(db)


def test_tx_query(flavor: str) -> None:
    """Issue: https://golang.org/issue/2784

    This test didn't fail before because we got lucky with the fakedb driver.
    It was failing, and now not, in github.com/bradfitz/go-sql-test
    """
    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")
        exec_(db, "INSERT|t1|name=Alice")

        try:
            tx = db.begin()
        except Exception as e:
            pytest.fail(repr(e))
        try:
            try:
                r = tx.query("SELECT|t1|name|")
            except Exception as e:
                pytest.fail(repr(e))
            try:
                if not r.next():
                    if r.err() is not None:
                        pytest.fail(repr(r.err()))
                    pytest.fail("expected one row")

                try:
                    r.scan(str)
                except Exception as e:
                    pytest.fail(repr(e))
            finally:
                r.close()
        finally:
            _rollback_ignoring_error(tx)
    finally:
        close_db(db)


def _rollback_ignoring_error(tx: sql.Tx) -> None:
    """Go's ``defer tx.Rollback()``, whose error is dropped."""
    try:
        tx.rollback()
    except Exception:
        pass


def test_tx_query_invalid(flavor: str) -> None:
    db = new_test_db("", flavor)
    try:
        try:
            tx = db.begin()
        except Exception as e:
            pytest.fail(repr(e))
        try:
            with pytest.raises(Exception):  # noqa: B017 - Go only checks err != nil
                tx.query("SELECT|t1|name|")
        finally:
            _rollback_ignoring_error(tx)
    finally:
        close_db(db)


def test_tx_err_bad_conn() -> None:
    """Tests fix for issue 4433, that retries in begin happen when conn.begin()
    raises BadConnError."""
    try:
        db = sql.open("test", FAKE_DB_NAME + ";badConn")
    except Exception as e:
        pytest.fail(f"Open: {e}")
    try:
        db.exec("WIPE")
    except Exception as e:
        pytest.fail(f"exec wipe: {e}")
    try:
        exec_(db, "CREATE|t1|name=string,age=int32,dead=bool")
        try:
            stmt = db.prepare("INSERT|t1|name=?,age=?")
        except Exception as e:
            pytest.fail(f"Stmt, err = None, {e}")
        try:
            try:
                tx = db.begin()
            except Exception as e:
                pytest.fail(f"Begin = {e}")
            txs = tx.stmt(stmt)
            try:
                try:
                    txs.exec("Bobby", 7)
                except Exception as e:
                    pytest.fail(f"Exec = {e}")
                try:
                    tx.commit()
                except Exception as e:
                    pytest.fail(f"Commit = {e}")
            finally:
                txs.close()
        finally:
            stmt.close()
    finally:
        close_db(db)
