"""Go's sql_test.go, part: Conn, cursors, scan edge cases, Null* parameters and
the pool limits (TestConnQuery .. TestStats), translated one to one.

Go's ``defer`` is a :class:`contextlib.ExitStack` (its callbacks run last in,
first out); Go's ``t.Context()`` is the ``t_context`` fixture, cancelled when
the test ends, after the deferred calls.
"""

from __future__ import annotations

import datetime
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

import fakedb
from dbsql import context, sql
from dbsql.context import Context
from dbsql.sql import (
    DB,
    NullBool,
    NullByte,
    NullFloat64,
    NullInt16,
    NullInt32,
    NullInt64,
    NullString,
    NullTime,
    Rows,
)
from fakedb import fakedb as fdb
from tests.sqltest import (
    FAKE_DB_NAME,
    NullTestRow,
    NullTestSpec,
    clear_all_conns,
    close_db,
    dump_deps,
    exec_,
    new_test_db,
    not_basic,
    null_test_run,
    num_deps_poll,
    num_free_conns,
    num_open_conns,
    wait_condition,
)


@pytest.fixture
def t_context() -> Iterator[Context]:
    """Go's t.Context(): a context cancelled just before the test's cleanup, after
    its deferred calls have run."""
    ctx, cancel = context.with_cancel(context.background())
    try:
        yield ctx
    finally:
        cancel()


def _close_ignoring_error(c: sql.Conn) -> None:
    """Go's ``defer conn.Close()``: the returned error is ignored."""
    try:
        c.close()
    except sql.Error:
        pass


class _RawPanic(Exception):
    """The panic raised from a Conn.raw function."""


def test_conn_query(flavor: str, t_context: Context) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        ctx = t_context
        conn = db.conn(ctx)
        assert conn._dc is not None
        fakedb.fake_conn_of(conn._dc._ci).skip_dirty_session = True
        defer.callback(_close_ignoring_error, conn)

        (name,) = conn.query_row_context(ctx, "SELECT|people|name|age=?", 3).scan(str)
        if name != "Chris":
            pytest.fail(f"unexpected result, got {name!r} want Chris")

        conn.ping_context(ctx)


def test_conn_raw(t_context: Context) -> None:
    # Checks the driver conn's concrete type: the default flavour only.
    with ExitStack() as defer:
        db = new_test_db("people")
        defer.callback(close_db, db)

        ctx = t_context
        conn = db.conn(ctx)
        assert conn._dc is not None
        fakedb.fake_conn_of(conn._dc._ci).skip_dirty_session = True
        defer.callback(_close_ignoring_error, conn)

        saw_func = False

        def f(dc: Any) -> None:
            nonlocal saw_func
            saw_func = True
            if not isinstance(dc, fakedb.FakeConn):
                raise TypeError(f"got {type(dc).__name__} want FakeConn")

        conn.raw(f)
        if not saw_func:
            pytest.fail("Raw func not called")

        def panics(dc: Any) -> None:
            raise _RawPanic("Conn.Raw panic should return an error")

        # Go recovers the panic; here the exception propagates out of raw.
        with pytest.raises(_RawPanic):
            conn.raw(panics)
        conn._closemu.lock()
        try:
            closed = conn._dc is None
        finally:
            conn._closemu.unlock()
        if not closed:
            pytest.fail("expected connection to be closed after panic")


def test_cursor_fake(flavor: str) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        ctx, cancel = context.with_timeout(context.background(), 30)
        defer.callback(cancel)

        exec_(db, "CREATE|peoplecursor|list=table")
        exec_(db, "INSERT|peoplecursor|list=people!name!age")

        rows = db.query_context(ctx, "SELECT|peoplecursor|list|")
        defer.callback(rows.close)

        if not rows.next():
            pytest.fail("no rows")
        (cursor,) = rows.scan(Rows)
        defer.callback(cursor.close)

        expected_rows = 3
        current_row = 0

        while cursor.next():
            current_row += 1
            _s, n = cursor.scan(str, int)
            assert n == current_row, f"expected number(Age)={current_row}, got {n}"
        assert current_row == expected_rows, (
            f"expected {expected_rows} rows, got {current_row} rows"
        )


# Go's t.Run subtests, one per case, named as Go names them.
@pytest.mark.parametrize(
    ("input_", "expected_error"),
    [
        pytest.param(
            datetime.datetime,
            # Go: `unsupported Scan, storing driver.Value type <nil> into type
            # *time.Time`; the port names NULL for every destination type (see
            # test_convert.test_null_errors_name_destination).
            'sql: Scan error on column index 0, name "bdate": '
            "converting NULL to datetime is unsupported",
            id="time.Time",
        ),
        pytest.param(
            int,
            'sql: Scan error on column index 0, name "bdate": '
            "converting NULL to int is unsupported",
            id="int",
        ),
    ],
)
def test_invalid_nil_values(
    flavor: str, t_context: Context, input_: Any, expected_error: str
) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        ctx = t_context
        conn = db.conn(ctx)
        assert conn._dc is not None
        fakedb.fake_conn_of(conn._dc._ci).skip_dirty_session = True
        defer.callback(_close_ignoring_error, conn)

        try:
            conn.query_row_context(ctx, "SELECT|people|bdate|age=?", 1).scan(input_)
        except Exception as e:
            err: Exception = e
        else:
            pytest.fail("expected error when querying nil column, but succeeded")
        if str(err) != expected_error:
            pytest.fail(f"Expected error: {expected_error}\nReceived: {err}")

        conn.ping_context(ctx)


def test_conn_tx(flavor: str, t_context: Context) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        ctx = t_context
        conn = db.conn(ctx)
        assert conn._dc is not None
        fakedb.fake_conn_of(conn._dc._ci).skip_dirty_session = True
        defer.callback(_close_ignoring_error, conn)

        tx = conn.begin_tx(ctx, None)
        insert_name, insert_age = "Nancy", 33
        tx.exec_context(ctx, "INSERT|people|name=?,age=?,photo=APHOTO", insert_name, insert_age)
        tx.commit()

        (select_name,) = conn.query_row_context(ctx, "SELECT|people|name|age=?", insert_age).scan(
            str
        )
        if select_name != insert_name:
            pytest.fail(f"got {select_name!r} want {insert_name!r}")


@not_basic("driver.Validator (is_valid)")
def test_conn_is_valid(flavor: str) -> None:
    """A database connection that should be discarded is actually discarded and
    does not re-enter the connection pool. If the is_valid method of FakeConn is
    removed, this test will fail."""
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        db.set_max_open_conns(1)

        ctx = context.background()

        c = db.conn(ctx)

        def f(raw: Any) -> None:
            dc = fakedb.fake_conn_of(raw)
            dc.sticky_bad = True

        c.raw(f)
        _close_ignoring_error(c)

        if db._free_conn and fakedb.fake_conn_of(db._free_conn[0]._ci).sticky_bad:
            pytest.fail("bad connection returned to pool; expected bad connection to be discarded")


def test_issue2542_deadlock(flavor: str) -> None:
    """Tests fix for issue 2542, that we release a lock when querying on a closed
    connection."""
    db = new_test_db("people", flavor)
    close_db(db)
    for _ in range(2):
        with pytest.raises(sql.DBClosedError):
            db.query("SELECT|people|age,name|")


def test_close_stmt_before_rows(flavor: str) -> None:
    """From golang.org/issue/3865."""
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        s = db.prepare("SELECT|people|name|")

        try:
            r = s.query()
        except BaseException:
            s.close()
            raise

        s.close()

        r.close()


def test_null_byte_slice(flavor: str) -> None:
    """Tests fix for issue 2788, that we bind nil to a []byte (None to bytes) if
    the value in the column is sql null."""
    with ExitStack() as defer:
        db = new_test_db("", flavor)
        defer.callback(close_db, db)
        exec_(db, "CREATE|t|id=int32,name=nullstring")
        exec_(db, "INSERT|t|id=10,name=?", None)

        (name,) = db.query_row("SELECT|t|name|id=?", 10).scan(bytes)
        if name is not None:
            pytest.fail(f"name bytes should be None for null column value, got: {name!r}")

        exec_(db, "INSERT|t|id=11,name=?", "bob")
        (name,) = db.query_row("SELECT|t|name|id=?", 11).scan(bytes)
        if name != b"bob":
            pytest.fail(f"name bytes should be bob, got: {name!r}")


def test_pointer_params_and_scans(flavor: str) -> None:
    # Go's *string is str | None: a value or None (nil).
    with ExitStack() as defer:
        db = new_test_db("", flavor)
        defer.callback(close_db, db)
        exec_(db, "CREATE|t|id=int32,name=nullstring")

        bob = "bob"
        name: str | None

        name = bob
        exec_(db, "INSERT|t|id=10,name=?", name)
        name = None
        exec_(db, "INSERT|t|id=20,name=?", name)

        try:
            (name,) = db.query_row("SELECT|t|name|id=?", 10).scan(str | None)
        except Exception as e:
            pytest.fail(f"querying id 10: {e!r}")
        assert name is not None, "id 10's name = nil; want bob"
        assert name == "bob", f"id 10's name = {name!r}; want bob"

        try:
            (name,) = db.query_row("SELECT|t|name|id=?", 20).scan(str | None)
        except Exception as e:
            pytest.fail(f"querying id 20: {e!r}")
        assert name is None, f"id 20 = {name!r}; want nil"


def test_query_row_closing_stmt(flavor: str) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)
        _age, _name = db.query_row("SELECT|people|age,name|age=?", 3).scan(int, str)
        if len(db._free_conn) != 1:
            pytest.fail("expected 1 free conn")
        fake_conn = fakedb.fake_conn_of(db._free_conn[0]._ci)
        made, closed = fake_conn.stmts_made, fake_conn.stmts_closed
        assert made == closed, f"statement close mismatch: made {made}, closed {closed}"


def test_issue6651(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Test issue 6651."""
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        want = "error in rows.Next"

        def next_hook(dest: list[Any]) -> None:
            raise Exception(want)

        monkeypatch.setattr(fdb, "rows_cursor_next_hook", next_hook)

        try:
            db.query_row("SELECT|people|name|").scan(str)
        except Exception as e:
            assert str(e) == want, f"error = {str(e)!r}; want {want!r}"
        else:
            pytest.fail(f"error = None; want {want!r}")
        monkeypatch.setattr(fdb, "rows_cursor_next_hook", None)

        want = "error in rows.Close"

        def close_hook(rows: Rows, err: BaseException | None) -> BaseException | None:
            return Exception(want)

        # Go's setRowsCloseHook; monkeypatch restores the no-hook default at the end.
        monkeypatch.setattr(sql, "_rows_close_hook", lambda: close_hook)
        try:
            db.query_row("SELECT|people|name|").scan(str)
        except Exception as e:
            assert str(e) == want, f"error = {str(e)!r}; want {want!r}"
        else:
            pytest.fail(f"error = None; want {want!r}")


@not_basic("driver.ColumnConverter")
def test_null_string_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullstring",
        "string",
        (
            NullTestRow(NullString("aqua", True), "", NullString("aqua", True)),
            NullTestRow(NullString("brown", False), "", NullString("", False)),
            NullTestRow("chartreuse", "", NullString("chartreuse", True)),
            NullTestRow(NullString("darkred", True), "", NullString("darkred", True)),
            NullTestRow(NullString("eel", False), "", NullString("", False)),
            NullTestRow("foo", NullString("black", False), None),
        ),
    )
    null_test_run(spec, flavor)


@not_basic("driver.ColumnConverter")
def test_null_int64_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullint64",
        "int64",
        (
            NullTestRow(NullInt64(31, True), 1, NullInt64(31, True)),
            NullTestRow(NullInt64(-22, False), 1, NullInt64(0, False)),
            NullTestRow(22, 1, NullInt64(22, True)),
            NullTestRow(NullInt64(33, True), 1, NullInt64(33, True)),
            NullTestRow(NullInt64(222, False), 1, NullInt64(0, False)),
            NullTestRow(0, NullInt64(31, False), None),
        ),
    )
    null_test_run(spec, flavor)


@not_basic("driver.ColumnConverter")
def test_null_int32_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullint32",
        "int32",
        (
            NullTestRow(NullInt32(31, True), 1, NullInt32(31, True)),
            NullTestRow(NullInt32(-22, False), 1, NullInt32(0, False)),
            NullTestRow(22, 1, NullInt32(22, True)),
            NullTestRow(NullInt32(33, True), 1, NullInt32(33, True)),
            NullTestRow(NullInt32(222, False), 1, NullInt32(0, False)),
            NullTestRow(0, NullInt32(31, False), None),
        ),
    )
    null_test_run(spec, flavor)


@not_basic("driver.ColumnConverter")
def test_null_int16_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullint16",
        "int16",
        (
            NullTestRow(NullInt16(31, True), 1, NullInt16(31, True)),
            NullTestRow(NullInt16(-22, False), 1, NullInt16(0, False)),
            NullTestRow(22, 1, NullInt16(22, True)),
            NullTestRow(NullInt16(33, True), 1, NullInt16(33, True)),
            NullTestRow(NullInt16(222, False), 1, NullInt16(0, False)),
            NullTestRow(0, NullInt16(31, False), None),
        ),
    )
    null_test_run(spec, flavor)


@not_basic("driver.ColumnConverter")
def test_null_byte_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullbyte",
        "byte",
        (
            NullTestRow(NullByte(31, True), 1, NullByte(31, True)),
            NullTestRow(NullByte(0, False), 1, NullByte(0, False)),
            NullTestRow(22, 1, NullByte(22, True)),
            NullTestRow(NullByte(33, True), 1, NullByte(33, True)),
            NullTestRow(NullByte(222, False), 1, NullByte(0, False)),
            NullTestRow(0, NullByte(31, False), None),
        ),
    )
    null_test_run(spec, flavor)


@not_basic("driver.ColumnConverter")
def test_null_float64_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullfloat64",
        "float64",
        (
            NullTestRow(NullFloat64(31.2, True), 1, NullFloat64(31.2, True)),
            NullTestRow(NullFloat64(13.1, False), 1, NullFloat64(0.0, False)),
            NullTestRow(-22.9, 1, NullFloat64(-22.9, True)),
            NullTestRow(NullFloat64(33.81, True), 1, NullFloat64(33.81, True)),
            NullTestRow(NullFloat64(222, False), 1, NullFloat64(0.0, False)),
            NullTestRow(10, NullFloat64(31.2, False), None),
        ),
    )
    null_test_run(spec, flavor)


@not_basic("driver.ColumnConverter")
def test_null_bool_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullbool",
        "bool",
        (
            NullTestRow(NullBool(False, True), True, NullBool(False, True)),
            NullTestRow(NullBool(True, False), False, NullBool(False, False)),
            NullTestRow(True, True, NullBool(True, True)),
            NullTestRow(NullBool(True, True), False, NullBool(True, True)),
            NullTestRow(NullBool(True, False), True, NullBool(False, False)),
            NullTestRow(True, NullBool(True, False), None),
        ),
    )
    null_test_run(spec, flavor)


@not_basic("driver.ColumnConverter")
def test_null_time_param(flavor: str) -> None:
    # Go's zero time.Time is None in NullTime. Go's 11 nanoseconds are 11
    # microseconds here: datetime has no finer resolution.
    t0 = None
    t1 = datetime.datetime(2000, 1, 1, 8, 9, 10, 11, tzinfo=datetime.UTC)
    t2 = datetime.datetime(2010, 1, 1, 8, 9, 10, 11, tzinfo=datetime.UTC)
    spec = NullTestSpec(
        "nulldatetime",
        "datetime",
        (
            NullTestRow(NullTime(t1, True), t2, NullTime(t1, True)),
            NullTestRow(NullTime(t1, False), t2, NullTime(t0, False)),
            NullTestRow(t1, t2, NullTime(t1, True)),
            NullTestRow(NullTime(t1, True), t2, NullTime(t1, True)),
            NullTestRow(NullTime(t1, False), t2, NullTime(t0, False)),
            NullTestRow(t2, NullTime(t1, False), None),
        ),
    )
    null_test_run(spec, flavor)


def test_query_row_nil_scan_dest(flavor: str) -> None:
    """golang.org/issue/4859. Go's nil pointer destination is None here."""
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)
        name = None  # nil pointer
        want = 'sql: Scan error on column index 0, name "name": destination pointer is nil'
        try:
            db.query_row("SELECT|people|name|").scan(name)
        except Exception as e:
            assert str(e) == want, f"error = {str(e)!r}; want {want!r}"
        else:
            pytest.fail(f"error = None; want {want!r}")


def test_issue4902(flavor: str) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        drv = db.driver()
        assert isinstance(drv, fakedb.FakeDriver)
        opens0 = drv.open_count

        stmt: sql.Stmt | None = None
        for _ in range(10):
            stmt = db.prepare("SELECT|people|name|")
            stmt.close()

        opens = drv.open_count - opens0
        assert opens <= 1, f"opens = {opens}; want <= 1\ndb = {db!r}\nstmt = {stmt!r}"


def test_simultaneous_queries(flavor: str) -> None:
    """Issue 3857. This used to deadlock."""
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        tx = db.begin()
        defer.callback(_rollback_ignoring_error, tx)

        r1 = tx.query("SELECT|people|name|")
        defer.callback(r1.close)

        r2 = tx.query("SELECT|people|name|")
        defer.callback(r2.close)


def _rollback_ignoring_error(tx: sql.Tx) -> None:
    """Go's ``defer tx.Rollback()``: the returned error is ignored."""
    try:
        tx.rollback()
    except sql.Error:
        pass


def test_max_idle_conns(flavor: str) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        tx = db.begin()
        tx.commit()
        got = len(db._free_conn)
        assert got == 1, f"freeConns = {got}; want 1"

        db.set_max_idle_conns(0)

        got = len(db._free_conn)
        assert got == 0, f"freeConns after set to zero = {got}; want 0"

        tx = db.begin()
        tx.commit()
        got = len(db._free_conn)
        assert got == 0, f"freeConns = {got}; want 0"


def test_max_open_conns(flavor: str) -> None:
    close_errors: list[str] = []

    def post_close(_: fakedb.FakeConn, err: BaseException | None) -> None:
        if err is not None:
            close_errors.append(f"Error closing fakeConn: {err!r}")

    with ExitStack() as defer:
        defer.callback(fdb.set_hook_post_close_conn, None)
        fdb.set_hook_post_close_conn(post_close)

        db = new_test_db("magicquery", flavor)
        defer.callback(close_db, db)

        drv = db.driver()
        assert isinstance(drv, fakedb.FakeDriver)

        # Force the number of open connections to 0 so we can get an accurate
        # count for the test
        clear_all_conns(db)

        with drv.mu:
            opens0 = drv.open_count
            closes0 = drv.close_count

        db.set_max_idle_conns(10)
        db.set_max_open_conns(10)

        stmt = db.prepare("SELECT|magicquery|op|op=?,millis=?")

        # Start 50 parallel slow queries.
        nquery = 50
        sleep_millis = 25
        nbatch = 2
        errors: list[BaseException] = []
        errors_mu = threading.Lock()

        def query() -> None:
            try:
                stmt.query_row("sleep", sleep_millis).scan(str)
            except sql.NoRowsError:
                pass
            except BaseException as e:
                with errors_mu:
                    errors.append(e)

        for _ in range(nbatch):
            threads = [threading.Thread(target=query) for _ in range(nquery)]
            for th in threads:
                th.start()
            # Wait for the batch of queries above to finish before starting the
            # next round.
            for th in threads:
                th.join()
        assert not errors, f"query errors: {errors!r}"

        g, w = num_free_conns(db), 10
        assert g == w, f"free conns = {g}; want {w}"

        n = num_deps_poll(db, 20)
        assert n <= 20, f"number of dependencies = {n}; expected <= 20\n{dump_deps(db)}"

        with drv.mu:
            opens = drv.open_count - opens0
            closes = drv.close_count - closes0

        assert opens <= 10, (
            f"open calls = {opens}\nclose calls = {closes}\n"
            f"db connections opened = {opens}; want <= 10\n{dump_deps(db)}"
        )

        stmt.close()

        g, w = num_free_conns(db), 10
        assert g == w, f"free conns = {g}; want {w}"

        n = num_deps_poll(db, 10)
        assert n <= 10, f"number of dependencies = {n}; expected <= 10\n{dump_deps(db)}"

        db.set_max_open_conns(5)

        g, w = num_free_conns(db), 5
        assert g == w, f"free conns = {g}; want {w}"

        n = num_deps_poll(db, 5)
        assert n <= 5, f"number of dependencies = {n}; expected 0\n{dump_deps(db)}"

        db.set_max_open_conns(0)

        g, w = num_free_conns(db), 5
        assert g == w, f"free conns = {g}; want {w}"

        n = num_deps_poll(db, 5)
        assert n <= 5, f"number of dependencies = {n}; expected 0\n{dump_deps(db)}"

        clear_all_conns(db)
    assert not close_errors, "\n".join(close_errors)


def test_max_open_conns_on_busy() -> None:
    """Issue 9453: set_max_open_conns can be lowered at runtime and affects the
    subsequent release of connections. Uses the pool's internals: the default
    flavour only."""
    close_errors: list[str] = []

    def post_close(_: fakedb.FakeConn, err: BaseException | None) -> None:
        if err is not None:
            close_errors.append(f"Error closing fakeConn: {err!r}")

    with ExitStack() as defer:
        defer.callback(fdb.set_hook_post_close_conn, None)
        fdb.set_hook_post_close_conn(post_close)

        db = new_test_db("magicquery")
        defer.callback(close_db, db)

        db.set_max_open_conns(3)

        ctx = context.background()

        try:
            conn0 = db._conn(ctx, sql._CACHED_OR_NEW_CONN)
        except Exception as e:
            pytest.fail(f"db open conn fail: {e!r}")

        try:
            conn1 = db._conn(ctx, sql._CACHED_OR_NEW_CONN)
        except Exception as e:
            pytest.fail(f"db open conn fail: {e!r}")

        try:
            conn2 = db._conn(ctx, sql._CACHED_OR_NEW_CONN)
        except Exception as e:
            pytest.fail(f"db open conn fail: {e!r}")

        g, w = db._num_open, 3
        assert g == w, f"free conns = {g}; want {w}"

        db.set_max_open_conns(2)
        g, w = db._num_open, 3
        assert g == w, f"free conns = {g}; want {w}"

        conn0._release_conn(None)
        conn1._release_conn(None)
        g, w = db._num_open, 2
        assert g == w, f"free conns = {g}; want {w}"

        conn2._release_conn(None)
        g, w = db._num_open, 2
        assert g == w, f"free conns = {g}; want {w}"
    assert not close_errors, "\n".join(close_errors)


class _WaitGroup:
    """Go's sync.WaitGroup, enough for the tests: a counter that wait blocks on
    until it reaches zero."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._cond = threading.Condition()

    def done(self) -> None:
        with self._cond:
            self._n -= 1
            if self._n <= 0:
                self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._n <= 0, timeout)


def test_pending_conns_after_err() -> None:
    """Issue 10886: all connection attempts return when more than DB.max_open
    connections are in flight and the first DB.max_open fail."""
    max_open = 2
    try_open = max_open * 2 + 2

    # No queries will be run.
    try:
        db = sql.open("test", FAKE_DB_NAME)
    except Exception as e:
        pytest.fail(f"Open: {e!r}")
    with ExitStack() as defer:
        defer.callback(close_db, db)
        # Go logs db.lastPut here, a debug-only map the port does not keep.

        db.set_max_open_conns(max_open)
        db.set_max_idle_conns(0)

        err_offline = Exception("db offline")

        defer.callback(fdb.set_hook_open_err, None)

        errs: queue.Queue[BaseException | None] = queue.Queue(try_open)

        opening = _WaitGroup(try_open)

        def hook_open_err() -> BaseException | None:
            # Wait for all connections to enqueue.
            opening.wait(10)
            return err_offline

        fdb.set_hook_open_err(hook_open_err)

        def worker() -> None:
            opening.done()  # signal one connection is in flight
            try:
                db.exec("will never run")
            except BaseException as e:
                errs.put(e)
            else:
                errs.put(None)

        for _ in range(try_open):
            threading.Thread(target=worker, daemon=True).start()

        opening.wait()  # wait for all workers to begin running

        timeout = 5.0
        deadline = time.monotonic() + timeout

        # check that all connections fail without deadlock
        unexpected: list[str] = []
        for _ in range(try_open):
            try:
                err = errs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"orphaned connection request(s), still waiting after {timeout}s")
            if err is not err_offline:
                unexpected.append(f"unexpected err: got {err!r}, want {err_offline!r}")
        assert not unexpected, "\n".join(unexpected)

        # Wait a reasonable time for the database to close all connections;
        # if it does not, closing the database checks num_open and fails the test.
        wait_condition(
            lambda: num_open_conns(db) == 0, timeout=max(0.0, deadline - time.monotonic())
        )


def test_single_open_conn(flavor: str) -> None:
    with ExitStack() as defer:
        db = new_test_db("people", flavor)
        defer.callback(close_db, db)

        db.set_max_open_conns(1)

        rows = db.query("SELECT|people|name|")
        rows.close()
        # shouldn't deadlock
        rows = db.query("SELECT|people|name|")
        rows.close()


def test_stats(flavor: str) -> None:
    db: DB = new_test_db("people", flavor)
    stats = db.stats()
    got = stats.open_connections
    assert got == 1, f"stats.open_connections = {got}; want 1"

    tx = db.begin()
    tx.commit()

    close_db(db)
    stats = db.stats()
    got = stats.open_connections
    assert got == 0, f"stats.open_connections = {got}; want 0"
