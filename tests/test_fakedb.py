"""Tests of the fake driver: Go's TestDrivers (fakedb_test.go) and our own tests
of the command language, hooks and flags, run directly against the driver API
(without the pool)."""

from __future__ import annotations

import datetime
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

import fakedb
from dbsql import context, driver, sql
from dbsql.driver import NamedValue, Value
from dbsql.driver.types import _quote
from fakedb import fakedb as fk

BG = context.background()


# ---------------------------------------------------------------------------
# Go's tests


def test_drivers() -> None:
    # Go leaves the registry with only these two drivers; we restore it afterwards
    # so that the tests that run later still find what imports registered.
    with sql._drivers_mu:
        saved = dict(sql._drivers)
    try:
        sql._unregister_all_drivers()
        sql.register("test", fk.fdriver)
        sql.register("invalid", fk.Dummy())
        all_ = sql.drivers()
        if (
            len(all_) < 2
            or all_ != sorted(all_)
            or not fk.contains(all_, "test")
            or not fk.contains(all_, "invalid")
        ):
            pytest.fail(f"Drivers = {all_}, want sorted list with at least [invalid, test]")
    finally:
        with sql._drivers_mu:
            sql._drivers.clear()
            sql._drivers.update(saved)


# ---------------------------------------------------------------------------
# Helpers


def nv(*args: Value) -> list[NamedValue]:
    """Positional arguments as NamedValues."""
    return [NamedValue("", i + 1, v) for i, v in enumerate(args)]


def exec_(c: fk.FakeConn, query: str, *args: Value) -> driver.Result:
    """Prepare, execute and close ``query`` on ``c``."""
    stmt = c.prepare_context(BG, query)
    try:
        return stmt.exec_context(BG, nv(*args))
    finally:
        stmt.close()


def query_all(
    c: fk.FakeConn, query: str, args: list[NamedValue] | None = None
) -> list[list[list[Value]]]:
    """Every row of every result set of ``query`` on ``c``."""
    stmt = c.prepare_context(BG, query)
    try:
        rows = stmt.query_context(BG, args or [])
        return read_all(rows)
    finally:
        stmt.close()


def read_all(rows: fk.RowsCursor) -> list[list[list[Value]]]:
    """Every row of every result set of ``rows``, which it closes."""
    sets: list[list[list[Value]]] = []
    try:
        while True:
            got: list[list[Value]] = []
            while True:
                dest: list[Value] = [None] * len(rows.columns())
                try:
                    rows.next(dest)
                except EOFError:
                    break
                got.append(dest)
            sets.append(got)
            if not rows.has_next_result_set():
                return sets
            rows.next_result_set()
    finally:
        rows.close()


@pytest.fixture
def drv() -> fk.FakeDriver:
    """A driver of its own, so that each test starts with empty databases."""
    return fk.FakeDriver()


@pytest.fixture
def conn(drv: fk.FakeDriver) -> Iterator[fk.FakeConn]:
    """A conn to an empty database "foo" that skips the dirty-session check."""
    c = drv.open("foo")
    c.skip_dirty_session = True
    yield c
    if c.db is not None and c.curr_tx is None and c.stmts_made == c.stmts_closed:
        c.close()


def people(c: fk.FakeConn) -> None:
    """The people table of Go's newTestDB."""
    exec_(c, "CREATE|people|name=string,age=int32,photo=blob,dead=bool,bdate=datetime")
    exec_(c, "INSERT|people|name=Alice,age=?,photo=APHOTO", 1)
    exec_(c, "INSERT|people|name=Bob,age=?,photo=BPHOTO", 2)
    exec_(c, "INSERT|people|name=Chris,age=?,photo=CPHOTO,bdate=?", 3, CHRIS_BIRTHDAY)


CHRIS_BIRTHDAY = datetime.datetime.fromtimestamp(123456789, tz=datetime.UTC)


# ---------------------------------------------------------------------------
# The command language


def test_create_insert_select(conn: fk.FakeConn) -> None:
    people(conn)
    got = query_all(conn, "SELECT|people|age,name,photo,dead,bdate|")
    assert got == [
        [
            [1, b"Alice", b"APHOTO", None, None],
            [2, b"Bob", b"BPHOTO", None, None],
            [3, b"Chris", b"CPHOTO", None, CHRIS_BIRTHDAY],
        ]
    ]
    # The where clause compares Go's %v of both sides: the stored bytes as text.
    assert query_all(conn, "SELECT|people|age|name=?", nv("Bob")) == [[[2]]]
    assert query_all(conn, "SELECT|people|name|age=?", nv(3)) == [[[b"Chris"]]]
    assert query_all(conn, "SELECT|people|name|age=?", nv("3")) == [[[b"Chris"]]]
    assert query_all(conn, "SELECT|people|name|age=?", nv(4)) == [[]]
    assert query_all(conn, "SELECT|people|name|age=?,name=?", nv(1, "Alice")) == [[[b"Alice"]]]
    assert query_all(conn, "SELECT|people|name|age=?,name=?", nv(1, "Bob")) == [[]]
    # Bytes as an argument print as Go's [66 111 98], so they match no text.
    assert query_all(conn, "SELECT|people|age|name=?", nv(b"Bob")) == [[]]


def test_insert_result_and_prepared_statement(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string,age=int32")
    stmt = conn.prepare_context(BG, "INSERT|t|name=?,age=?")
    assert stmt.num_input() == 2
    res = stmt.exec_context(BG, nv("a", 1))
    assert res.rows_affected() == 1
    stmt.exec_context(BG, nv("b", 2))
    stmt.close()
    assert query_all(conn, "SELECT|t|name,age|") == [[["a", 1], ["b", 2]]]
    res = exec_(conn, "CREATE|u|x=int32")
    assert res is driver.ResultNoRows


def test_named_placeholders(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string,age=int32")
    stmt = conn.prepare_context(BG, "INSERT|t|name=?name,age=?age")
    # Only the names count, not the positions.
    stmt.exec_context(BG, [NamedValue("age", 1, 7), NamedValue("name", 2, "Ann")])
    stmt.exec_context(BG, [NamedValue("age", 1, 8), NamedValue("name", 2, "Bo")])
    stmt.close()
    args = [NamedValue("age", 1, 8), NamedValue("name", 2, "Bo")]
    assert query_all(conn, "SELECT|t|age,name|name=?name,age=?age", args) == [[[8, "Bo"]]]
    stmt = conn.prepare_context(BG, "SELECT|t|name|age=?age")
    assert [w.placeholder for w in stmt.where_col] == ["?age"]
    assert stmt.where_col[0] == fk.BoundCol("age", "?age", 1)
    stmt.close()


def test_multiple_result_sets(conn: fk.FakeConn) -> None:
    people(conn)
    stmt = conn.prepare_context(BG, "SELECT|people|age,name|;SELECT|people|name|")
    assert stmt.next is not None and stmt.next.cmd == "SELECT"
    rows = stmt.query_context(BG, [])
    assert rows.columns() == ["age", "name"]
    assert rows.has_next_result_set()
    rows.next_result_set()
    assert rows.columns() == ["name"]
    assert not rows.has_next_result_set()
    with pytest.raises(EOFError):
        rows.next_result_set()
    rows.close()
    stmt.close()
    # Closing the first statement closes the chained ones.
    assert conn.stmts_made == conn.stmts_closed
    got = query_all(conn, "SELECT|people|age,name|;SELECT|people|name|")
    assert got == [
        [[1, b"Alice"], [2, b"Bob"], [3, b"Chris"]],
        [[b"Alice"], [b"Bob"], [b"Chris"]],
    ]


def test_wipe(conn: fk.FakeConn) -> None:
    people(conn)
    exec_(conn, "WIPE")
    with pytest.raises(fk.FakeDBError, match=r'^fakedb: table "people" doesn\'t exist$'):
        query_all(conn, "SELECT|people|name|")
    # A where column is checked at prepare time.
    with pytest.raises(
        fk.FakeDBError,
        match=r'^fakedb: SELECT on table "people" references non-existent column "age"$',
    ):
        conn.prepare_context(BG, "SELECT|people|name|age=?")
    exec_(conn, "CREATE|people|name=string")


def test_nosert(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string,age=int32")
    res = exec_(conn, "NOSERT|t|name=?,age=?", "x", 1)
    assert res.rows_affected() == 1
    assert query_all(conn, "SELECT|t|name|") == [[]]
    stmt = conn.prepare_context(BG, "NOSERT|t|name=?,age=?")
    exec_(conn, "WIPE")
    with pytest.raises(fk.FakeDBError, match=r'^fakedb: table "t" doesn\'t exist$'):
        stmt.exec_context(BG, nv("x", 1))
    stmt.close()
    # Columns are checked at prepare time: a later statement of the query fails,
    # the earlier ones stay open (as in Go).
    made, closed = conn.stmts_made, conn.stmts_closed
    with pytest.raises(fk.FakeDBError, match=r'^fakedb: INSERT table "nope" references'):
        conn.prepare_context(BG, "CREATE|nope|a=int32;NOSERT|nope|a=?")
    assert (conn.stmts_made, conn.stmts_closed) == (made + 2, closed + 1)
    conn.stmts_closed += 1  # let the fixture close the conn


def test_exec_errors(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string")
    with pytest.raises(fk.FakeDBError, match=r'^fakedb: table "t" already exists$'):
        exec_(conn, "CREATE|t|name=string")
    db = conn.db
    assert db is not None
    with pytest.raises(
        fk.FakeDBError,
        match=r'^fakedb: create table of "u" len\(names\) != len\(types\): 1 vs 0$',
    ):
        db.create_table("u", ["a"], [])
    stmt = conn.prepare_context(BG, "SELECT|t|name|")
    with pytest.raises(
        fk.FakeDBError,
        match=r'^fakedb: unimplemented statement Exec command type of "SELECT"$',
    ):
        stmt.exec_context(BG, [])
    stmt.close()
    # A column dropped since the statement was prepared.
    stmt = conn.prepare_context(BG, "INSERT|t|name=?")
    exec_(conn, "WIPE")
    exec_(conn, "CREATE|t|other=string")
    with pytest.raises(
        fk.FakeDBError,
        match=r'^fakedb: column "name" doesn\'t exist or dropped since prepared statement',
    ):
        stmt.exec_context(BG, nv("x"))
    stmt.close()
    # A selected column that does not exist shows at query time.
    with pytest.raises(fk.FakeDBError, match=r'^fakedb: unknown column name "nope"$'):
        query_all(conn, "SELECT|t|nope|")


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ("BOGUS|t", 'fakedb: unsupported command type "BOGUS"'),
        ("", 'fakedb: unsupported command type ""'),
        ("SELECT|t|name", "fakedb: invalid SELECT syntax with 2 parts; want 3"),
        ("SELECT|t|name|name", 'fakedb: SELECT on table "t" has invalid column spec of "name" (index 0)'),
        ("SELECT|t|name|,age==?", 'fakedb: SELECT on table "t" has invalid column spec of "age==?" (index 1)'),
        ("SELECT|t|name|nope=?", 'fakedb: SELECT on table "t" references non-existent column "nope"'),
        (
            "SELECT|t|name|name=x",
            'fakedb: SELECT on table "t" has pre-bound value for where column "name"; need a question mark',
        ),
        ("CREATE|u", "fakedb: invalid CREATE syntax with 1 parts; want 2"),
        ("CREATE|u|a", 'fakedb: CREATE table "u" has invalid column spec of "a" (index 0)'),
        ("INSERT|t", "fakedb: invalid INSERT syntax with 1 parts; want 2"),
        ("INSERT|t|name", 'fakedb: INSERT table "t" has invalid column spec of "name" (index 0)'),
        ("INSERT|t|nope=1", 'fakedb: INSERT table "t" references non-existent column "nope"'),
        ("INSERT|nope|a=1", 'fakedb: INSERT table "nope" references non-existent column "a"'),
        ("INSERT|t|age=bogusconversion", 'fakedb: invalid conversion to int32 from "bogusconversion"'),
        ("INSERT|t|age= 1", 'fakedb: invalid conversion to int32 from " 1"'),
        ("INSERT|t|age=1_0", 'fakedb: invalid conversion to int32 from "1_0"'),
        ("INSERT|t|dead=true", 'fakedb: unsupported conversion for pre-bound parameter "true" to type "bool"'),
        ("INSERT|t|id=zzz", 'fakedb: invalid conversion to uuid from "zzz"'),
        ("WAIT|soon|WIPE", 'fakedb: expected section after WAIT to be a duration, got "soon" time: invalid duration "soon"'),
        ("WAIT|10|WIPE", 'fakedb: expected section after WAIT to be a duration, got "10" time: missing unit in duration "10"'),
        ("WAIT|1y|WIPE", 'fakedb: expected section after WAIT to be a duration, got "1y" time: unknown unit "y" in duration "1y"'),
    ],
)  # fmt: skip
def test_prepare_errors(conn: fk.FakeConn, query: str, want: str) -> None:
    exec_(conn, "CREATE|t|name=string,age=int32,dead=bool,id=uuid")
    with pytest.raises(fk.FakeDBError) as info:
        conn.prepare_context(BG, query)
    assert str(info.value) == want
    # The failed statement was closed (WAIT fails before making one).
    assert conn.stmts_made == conn.stmts_closed


def test_prebound_values(conn: fk.FakeConn) -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    exec_(conn, "CREATE|t|s=string,b=blob,i=int32,id=uuid,nid=nulluuid")
    exec_(conn, f"INSERT|t|s=héllo,b=raw,i=-42,id={u},nid={str(u).upper()}")
    assert query_all(conn, "SELECT|t|s,b,i,id,nid|") == [
        [["héllo".encode(), b"raw", -42, str(u), str(u)]]
    ]


def test_uuid_placeholders(conn: fk.FakeConn) -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    exec_(conn, "CREATE|t|n=int32,id=uuid,nid=nulluuid")
    stmt = conn.prepare_context(BG, "INSERT|t|n=?,id=?,nid=?")
    assert stmt.column_converter(1).convert_value(u) == str(u)
    assert stmt.column_converter(1).convert_value(str(u)) == str(u)
    with pytest.raises(ValueError, match="nil value not allowed"):
        stmt.column_converter(1).convert_value(None)
    assert stmt.column_converter(2).convert_value(None) is None
    assert stmt.column_converter(2).convert_value(u) == str(u)
    stmt.close()


def test_column_converter(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string,age=int32,dead=bool")
    stmt = conn.prepare_context(BG, "INSERT|t|name=?,age=?,dead=?")
    assert stmt.column_converter(0).convert_value(7) == "7"
    assert stmt.column_converter(1).convert_value("31") == 31
    with pytest.raises(ValueError, match=r"overflows int32"):
        stmt.column_converter(1).convert_value(0xFFFFFFFF)
    assert stmt.column_converter(2).convert_value(1) is True
    with pytest.raises(ValueError, match="nil value not allowed"):
        stmt.column_converter(0).convert_value(None)
    stmt.close()
    # Without placeholders (SELECT) the default converter is used.
    stmt = conn.prepare_context(BG, "SELECT|t|name|age=?")
    assert stmt.column_converter(0) is driver.DefaultParameterConverter
    stmt.close()


def test_panic_directive(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string")
    calls: list[tuple[str, Callable[[fk.FakeStmt], object]]] = [
        ("Exec", lambda s: s.exec_context(BG, [])),
        ("Query", lambda s: s.query_context(BG, [])),
        ("NumInput", lambda s: s.num_input()),
        ("ColumnConverter", lambda s: s.column_converter(0)),
        ("Close", lambda s: s.close()),
    ]
    for method, call in calls:
        stmt = conn.prepare_context(BG, f"PANIC|{method}|SELECT|t|name|")
        assert stmt.panic == method
        with pytest.raises(fk.FakePanic) as info:
            call(stmt)
        assert str(info.value) == method
        stmt.panic = ""
        stmt.close()
    # Another method still works: Query does not call Exec.
    assert query_all(conn, "PANIC|Exec|SELECT|t|name|") == [[]]
    exec_(conn, "PANIC|Query|WIPE")


def test_wait_directive(conn: fk.FakeConn) -> None:
    t0 = time.monotonic()
    stmt = conn.prepare_context(BG, "WAIT|30ms|WIPE")
    assert time.monotonic() - t0 >= 0.03
    assert stmt.wait == pytest.approx(0.03)
    # Exec sleeps the duration once more, then checks the context.
    t0 = time.monotonic()
    stmt.exec_context(BG, [])
    assert time.monotonic() - t0 >= 0.03
    ctx, cancel = context.with_cancel(BG)
    cancel()
    with pytest.raises(context.Canceled):
        stmt.exec_context(ctx, [])
    stmt.close()

    # A canceled context ends the wait at once, before a statement is made.
    made = conn.stmts_made
    t0 = time.monotonic()
    with pytest.raises(context.Canceled):
        conn.prepare_context(ctx, "WAIT|10s|WIPE")
    assert time.monotonic() - t0 < 5
    assert conn.stmts_made == made

    tctx, tcancel = context.with_timeout(BG, 0.05)
    try:
        t0 = time.monotonic()
        with pytest.raises(context.DeadlineExceeded):
            conn.prepare_context(tctx, "WAIT|10s|WIPE")
        assert time.monotonic() - t0 < 5
    finally:
        tcancel()

    # A negative or zero duration does not wait.
    conn.prepare_context(ctx, "WAIT|-1s|WIPE").close()
    conn.prepare_context(ctx, "WAIT|0|WIPE").close()


def test_waiter(conn: fk.FakeConn) -> None:
    seen: list[context.Context] = []
    conn.waiter = seen.append
    ctx, cancel = context.with_cancel(BG)
    conn.prepare_context(ctx, "WIPE;WIPE").close()
    assert seen == [ctx, ctx]

    def cancel_waiter(c: context.Context) -> None:
        cancel()

    conn.waiter = cancel_waiter
    with pytest.raises(context.Canceled):
        conn.prepare_context(ctx, "WIPE")
    assert conn.stmts_made == conn.stmts_closed


def test_magicquery(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|magicquery|op=string,millis=int32")
    exec_(conn, "INSERT|magicquery|op=sleep,millis=10")
    t0 = time.monotonic()
    got = query_all(conn, "SELECT|magicquery|op|op=?,millis=?", nv("sleep", 30))
    assert time.monotonic() - t0 >= 0.03
    assert got == [[]]  # millis 30 matches no row
    assert query_all(conn, "SELECT|magicquery|op|op=?,millis=?", nv("sleep", 10)) == [[[b"sleep"]]]
    with pytest.raises(fk.FakePanic, match=r"interface conversion: interface \{\} is str"):
        query_all(conn, "SELECT|magicquery|op|op=?,millis=?", nv("sleep", "10"))


def test_tx_status(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|tx_status|tx_status=string")
    exec_(conn, "INSERT|tx_status|tx_status=invalid")
    assert query_all(conn, "SELECT|tx_status|tx_status|") == [[["autocommit"]]]
    tx = conn.begin()
    assert query_all(conn, "SELECT|tx_status|tx_status|") == [[["transaction"]]]
    stmt = conn.prepare_context(BG, "SELECT|tx_status|tx_status|")
    rows = stmt.query_context(BG, [])
    assert rows.col_type == [["string"]]
    assert rows.column_type_scan_type(0) is str
    rows.close()
    stmt.close()
    tx.commit()
    assert query_all(conn, "SELECT|tx_status|tx_status|") == [[["autocommit"]]]


def test_table_cursor(drv: fk.FakeDriver) -> None:
    c = drv.open("foo")
    c.skip_dirty_session = True
    people(c)
    c.skip_dirty_session = False
    c.reset_session(BG)
    exec_(c, "CREATE|peoplecursor|list=table")
    c.reset_session(BG)
    exec_(c, "INSERT|peoplecursor|list=people!name!age")
    # Preparing a cursor value makes the conn skip the dirty-session check.
    assert c.skip_dirty_session
    got = query_all(c, "SELECT|peoplecursor|list|")
    cursor = got[0][0][0]
    assert isinstance(cursor, fk.RowsCursor)
    assert cursor.columns() == ["name", "age"]
    assert read_all(cursor) == [[[b"Alice", 1], [b"Bob", 2], [b"Chris", 3]]]
    stmt = c.prepare_context(BG, "SELECT|peoplecursor|list|")
    rows = stmt.query_context(BG, [])
    assert rows.column_type_scan_type(0) is sql.Rows
    rows.close()
    stmt.close()
    c.close()


def test_null_table_cursor(conn: fk.FakeConn) -> None:
    people(conn)
    exec_(conn, "CREATE|pc|id=int32,list=nulltable")
    exec_(conn, "INSERT|pc|id=1,list=?", None)
    exec_(conn, "INSERT|pc|id=2,list=people!name")
    got = query_all(conn, "SELECT|pc|id,list|")
    assert got[0][0] == [1, None]
    cursor = got[0][1][1]
    assert isinstance(cursor, fk.RowsCursor)
    assert read_all(cursor) == [[[b"Alice"], [b"Bob"], [b"Chris"]]]
    stmt = conn.prepare_context(BG, "INSERT|pc|id=?,list=?")
    assert stmt.column_converter(1).convert_value(None) is None
    stmt.close()


# ---------------------------------------------------------------------------
# Connections: bad, sticky bad, dirty session, transactions, close


def test_bad_conn_dsn(drv: fk.FakeDriver) -> None:
    c = drv.open("foo;badConn")
    assert c.bad and not c.sticky_bad
    # Every other begin fails with a bad connection; the toggle is per database.
    with pytest.raises(driver.BadConnError) as info:
        c.begin()
    err = info.value
    assert isinstance(err, fk.FakeError)
    assert str(err) == ""
    assert isinstance(err.__cause__, driver.BadConnError)
    assert err.unwrap() is err.__cause__
    tx = c.begin()
    tx.rollback()
    assert c.is_valid() is False
    assert c.is_valid() is True
    c.close()
    # Without the option the conn is never bad.
    c2 = drv.open("foo;other")
    assert not c2.bad
    assert c2.is_valid()
    c2.close()
    # A closed bad conn is not bad.
    assert c.is_bad() is False


def test_sticky_bad(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string")
    stmt_exec = conn.prepare_context(BG, "INSERT|t|name=?")
    stmt_query = conn.prepare_context(BG, "SELECT|t|name|")
    conn.sticky_bad = True
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: conn.prepare_context(BG, "WIPE"), "Prepare: Sticky Bad"),
        (lambda: stmt_exec.exec_context(BG, nv("x")), "Exec: Sticky Bad"),
        (lambda: stmt_query.query_context(BG, []), "Query: Sticky Bad"),
        (lambda: conn.reset_session(BG), "Reset Session: bad conn"),
        (lambda: conn.begin(), ""),
    ]
    for call, msg in calls:
        with pytest.raises(fk.FakeBadConnError) as info:
            call()
        assert str(info.value) == msg
        assert isinstance(info.value, driver.BadConnError)
        assert isinstance(info.value.__cause__, driver.BadConnError)
    assert not conn.is_valid()
    conn.sticky_bad = False
    stmt_exec.close()
    stmt_query.close()


def test_dirty_session(drv: fk.FakeDriver) -> None:
    c = drv.open("foo")
    exec_(c, "CREATE|t|name=string")
    assert c.dirty_session
    # A second query before reset_session fails.
    stmt = c.prepare_context(BG, "SELECT|t|name|")
    with pytest.raises(fk.SessionDirtyError, match=r"^fakedb: session is dirty$"):
        stmt.query_context(BG, [])
    assert fk.ErrFakeConnSessionDirty is fk.SessionDirtyError
    c.reset_session(BG)
    assert not c.dirty_session
    stmt.query_context(BG, []).close()
    stmt.close()
    # Inside a transaction every query marks the session dirty, but none fails.
    c.reset_session(BG)
    tx = c.begin()
    exec_(c, "INSERT|t|name=?", "a")
    exec_(c, "INSERT|t|name=?", "b")
    assert c.dirty_session
    tx.commit()
    with pytest.raises(fk.SessionDirtyError):
        exec_(c, "INSERT|t|name=?", "c")
    # reset_session also ends the transaction.
    c.begin()
    c.reset_session(BG)
    assert c.curr_tx is None
    c.skip_dirty_session = True
    exec_(c, "INSERT|t|name=?", "d")
    exec_(c, "INSERT|t|name=?", "e")
    c.close()


def test_transactions(conn: fk.FakeConn) -> None:
    tx = conn.begin()
    assert conn.curr_tx is tx and tx.c is conn
    with pytest.raises(fk.FakeDBError, match=r"^fakedb: already in a transaction$"):
        conn.begin()
    line = conn.line
    tx.commit()
    assert conn.curr_tx is None and conn.line > line
    conn.begin().rollback()
    assert conn.curr_tx is None


def test_close_rules(drv: fk.FakeDriver) -> None:
    closes0 = fk.fdriver.close_count
    c = drv.open("foo")
    tx = c.begin()
    with pytest.raises(fk.FakeDBError, match=r"^fakedb: can't close fakeConn; in a Transaction$"):
        c.close()
    tx.rollback()
    stmt = c.prepare_context(BG, "WIPE")
    with pytest.raises(fk.FakeDBError, match=r"^fakedb: can't close; dangling statement\(s\)$"):
        c.close()
    stmt.close()
    stmt.close()  # closing twice counts once
    assert (c.stmts_made, c.stmts_closed) == (1, 1)
    assert fk.fdriver.close_count == closes0
    c.close()
    assert c.db is None
    # Go counts every close in fdriver, whichever driver opened the conn.
    assert fk.fdriver.close_count == closes0 + 1
    with pytest.raises(fk.FakeDBError, match=r"^fakedb: can't close fakeConn; already closed$"):
        c.close()
    assert fk.fdriver.close_count == closes0 + 1
    # A statement of a closed conn cannot close, nor can the conn prepare.
    with pytest.raises(fk.FakePanic, match=r"already closed"):
        stmt.close()
    with pytest.raises(fk.FakePanic, match=r"^nil c.db; conn = <FakeConn"):
        c.prepare_context(BG, "WIPE")


def test_stmt_closed(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|name=string")
    stmt = conn.prepare_context(BG, "SELECT|t|name|")
    stmt.close()
    with pytest.raises(fk.StmtClosedError, match=r"^fakedb: statement has been closed$"):
        stmt.query_context(BG, [])
    with pytest.raises(fk.ErrClosed):
        stmt.exec_context(BG, [])


def test_conn_exec_query_check_types(conn: fk.FakeConn) -> None:
    good = nv(1, 1.5, True, None, b"x", "s", CHRIS_BIRTHDAY)
    with pytest.raises(driver.SkipError):
        conn.exec_context(BG, "WIPE", good)
    with pytest.raises(driver.SkipError):
        conn.query_context(BG, "WIPE", good)
    bad = [NamedValue("", 2, [1, 2])]
    msg = r"^fakedb: invalid argument ordinal 2: \[1, 2\], type list$"
    with pytest.raises(fk.FakeDBError, match=msg):
        conn.exec_context(BG, "WIPE", bad)
    with pytest.raises(fk.FakeDBError, match=msg):
        conn.query_context(BG, "WIPE", bad)
    with pytest.raises(fk.FakeDBError, match=r"ordinal 1: 18446744073709551615, type int$"):
        fk.check_subset_types(False, nv(2**64 - 1))
    # allowAny lets any type through, to the statement too.
    db = conn.db
    assert db is not None
    db.allow_any = True
    with pytest.raises(driver.SkipError):
        conn.exec_context(BG, "WIPE", bad)
    exec_(conn, "CREATE|t|v=any")
    exec_(conn, "INSERT|t|v=?", [1, 2])
    assert query_all(conn, "SELECT|t|v|") == [[[[1, 2]]]]


def test_not_context_methods_panic(conn: fk.FakeConn) -> None:
    with pytest.raises(fk.FakePanic, match=r"^ExecContext was not called\.$"):
        conn.exec("WIPE", [])
    with pytest.raises(fk.FakePanic, match=r"^QueryContext was not called\.$"):
        conn.query("WIPE", [])
    with pytest.raises(fk.FakePanic, match=r"^use PrepareContext$"):
        conn.prepare("WIPE")
    stmt = conn.prepare_context(BG, "WIPE")
    with pytest.raises(fk.FakePanic, match=r"^Using ExecContext$"):
        stmt.exec([])
    with pytest.raises(fk.FakePanic, match=r"^Use QueryContext$"):
        stmt.query([])
    with pytest.raises(fk.FakePanic, match=r"^error in pkg db; should only get here"):
        stmt.exec_insert(nv(1), True)
    stmt.close()


# ---------------------------------------------------------------------------
# Hooks


def test_hook_open_err(drv: fk.FakeDriver) -> None:
    offline = RuntimeError("db offline")
    fk.set_hook_open_err(lambda: offline)
    try:
        with pytest.raises(RuntimeError) as info:
            drv.open("foo")
        assert info.value is offline
        opens = drv.open_count
        fk.set_hook_open_err(lambda: None)
        drv.open("foo").close()
        assert drv.open_count == opens + 1
    finally:
        fk.set_hook_open_err(None)
    assert fk.hook_open_err is None


@pytest.mark.parametrize(
    ("hook", "msg"),
    [
        ("hook_prepare_bad_conn", "Prepare: Sticky Bad"),
        ("hook_exec_bad_conn", "Exec: Sticky Bad"),
        ("hook_query_bad_conn", "Query: Sticky Bad"),
        ("hook_commit_bad_conn", "Commit: Hook Bad Conn"),
        ("hook_rollback_bad_conn", "Rollback: Hook Bad Conn"),
    ],
)
def test_bad_conn_hooks(
    conn: fk.FakeConn, monkeypatch: pytest.MonkeyPatch, hook: str, msg: str
) -> None:
    exec_(conn, "CREATE|t|name=string")
    calls = 0

    def broken() -> bool:
        nonlocal calls
        calls += 1
        return calls == 1  # broken on the first try only

    monkeypatch.setattr(fk, hook, broken)

    def op() -> None:
        if hook == "hook_commit_bad_conn":
            conn.begin().commit()
        elif hook == "hook_rollback_bad_conn":
            conn.begin().rollback()
        elif hook == "hook_query_bad_conn":
            query_all(conn, "SELECT|t|name|")
        else:
            exec_(conn, "INSERT|t|name=?", "x")

    with pytest.raises(fk.FakeBadConnError) as info:
        op()
    assert str(info.value) == msg
    assert conn.curr_tx is None  # commit and rollback end the transaction anyway
    op()
    assert calls == 2


def test_rows_cursor_next_hook(conn: fk.FakeConn, monkeypatch: pytest.MonkeyPatch) -> None:
    people(conn)

    def hook(dest: list[Value]) -> None:
        raise RuntimeError("error in rows.Next")

    monkeypatch.setattr(fk, "rows_cursor_next_hook", hook)
    with pytest.raises(RuntimeError, match=r"^error in rows.Next$"):
        query_all(conn, "SELECT|people|name|")

    def fill(dest: list[Value]) -> None:
        dest[0] = "from hook"

    monkeypatch.setattr(fk, "rows_cursor_next_hook", fill)
    stmt = conn.prepare_context(BG, "SELECT|people|name|")
    rows = stmt.query_context(BG, [])
    dest: list[Value] = [None]
    rows.next(dest)
    assert dest == ["from hook"]
    rows.close()
    stmt.close()


def test_hook_post_close_conn_and_strict_close(drv: fk.FakeDriver) -> None:
    seen: list[tuple[fk.FakeConn, BaseException | None]] = []
    failures: list[str] = []
    fk.set_hook_post_close_conn(lambda c, err: seen.append((c, err)))
    fk.set_strict_fake_conn_close(failures.append)
    try:
        c = drv.open("foo")
        c.close()
        assert seen == [(c, None)]
        assert failures == []
        with pytest.raises(fk.FakeDBError) as info:
            c.close()
        assert seen[1] == (c, info.value)
        assert failures == [
            "failed to close a test fakeConn: fakedb: can't close fakeConn; already closed"
        ]
    finally:
        fk.set_hook_post_close_conn(None)
        fk.set_strict_fake_conn_close(None)
    assert fk.hook_post_close_conn is None and fk.test_strict_close is None
    with pytest.raises(fk.FakeDBError):
        c.close()
    assert len(seen) == 2 and len(failures) == 1


# ---------------------------------------------------------------------------
# Rows


def test_rows_cursor_err_pos_and_close_err(conn: fk.FakeConn) -> None:
    people(conn)
    stmt = conn.prepare_context(BG, "SELECT|people|age,name|")
    rows = stmt.query_context(BG, [])
    fail = RuntimeError("fail")
    rows.err_pos, rows.err = 2, fail
    dest: list[Value] = [None, None]
    rows.next(dest)
    rows.next(dest)
    with pytest.raises(RuntimeError) as info:
        rows.next(dest)
    assert info.value is fail
    rows.close_err = RuntimeError("rowsCursor: failed to close")
    with pytest.raises(RuntimeError, match="failed to close"):
        rows.close()
    assert rows.closed
    with pytest.raises(fk.FakeDBError, match=r"^fakedb: cursor is closed$"):
        rows.next(dest)
    stmt.close()


def test_rows_bytes_clone_and_use_rawbytes(conn: fk.FakeConn) -> None:
    people(conn)
    db = conn.db
    assert db is not None and db.tables is not None
    stored = db.tables["people"].rows[0].cols[0]
    assert stored == b"Alice"

    def first_name() -> Value:
        stmt = conn.prepare_context(BG, "SELECT|people|name|")
        rows = stmt.query_context(BG, [])
        dest: list[Value] = [None]
        rows.next(dest)
        rows.close()
        stmt.close()
        return dest[0]

    # The rows hand out a clone of the stored bytes...
    name = first_name()
    assert name == b"Alice" and name is not stored
    # ...unless USE_RAWBYTES was executed: then the stored bytes themselves.
    assert exec_(conn, "USE_RAWBYTES") is driver.ResultNoRows
    assert db.use_raw_bytes
    assert first_name() is stored


def test_rows_bytes_clone_is_per_value(conn: fk.FakeConn) -> None:
    exec_(conn, "CREATE|t|b=string")
    exec_(conn, "INSERT|t|b=?", b"same")
    stmt = conn.prepare_context(BG, "SELECT|t|b|;SELECT|t|b|")
    rows = stmt.query_context(BG, [])
    d1: list[Value] = [None]
    rows.next(d1)
    rows.next_result_set()
    d2: list[Value] = [None]
    rows.next(d2)
    assert d1[0] == b"same" and d1[0] is d2[0]  # one clone per stored value
    rows.close()
    stmt.close()


def test_column_type_scan_type(conn: fk.FakeConn) -> None:
    types = {
        "bool": bool,
        "nullbool": sql.NullBool,
        "int16": sql.Int16,
        "nullint16": sql.NullInt16,
        "int32": sql.Int32,
        "nullint32": sql.NullInt32,
        "string": str,
        "nullstring": sql.NullString,
        "int64": int,
        "nullint64": sql.NullInt64,
        "float64": float,
        "nullfloat64": sql.NullFloat64,
        "datetime": datetime.datetime,
        "any": object,
        "uuid": uuid.UUID,
        "nulluuid": sql.Null[uuid.UUID],
        "table": sql.Rows,
        "nulltable": sql.Rows | None,
        "byte": sql.Uint8,
        "nullbyte": sql.NullByte,
        "nulldatetime": sql.NullTime,
    }
    spec = ",".join(f"c{i}={t}" for i, t in enumerate(types))
    exec_(conn, f"CREATE|t|{spec}")
    stmt = conn.prepare_context(BG, f"SELECT|t|{','.join(f'c{i}' for i in range(len(types)))}|")
    rows = stmt.query_context(BG, [])
    for i, want in enumerate(types.values()):
        assert rows.column_type_scan_type(i) == want
    rows.close()
    stmt.close()
    with pytest.raises(fk.FakePanic, match=r"^invalid fakedb column type of blob$"):
        fk.col_type_to_reflect_type("blob")


def test_converter_for_type() -> None:
    assert fk.converter_for_type("bool") is driver.Bool
    assert fk.converter_for_type("nullbool") == driver.Null(driver.Bool)
    assert fk.converter_for_type("int32") is driver.Int32
    for t in ("byte", "int16", "int64", "float64", "datetime"):
        assert fk.converter_for_type(t) == driver.NotNull(driver.DefaultParameterConverter)
    for t in ("nullbyte", "nullint16", "nullint32", "nullint64", "nullfloat64", "nulldatetime"):
        assert fk.converter_for_type(t) == driver.Null(driver.DefaultParameterConverter)
    s = fk.converter_for_type("string")
    assert isinstance(s, driver.NotNull) and isinstance(s.converter, fk.FakeDriverString)
    ns = fk.converter_for_type("nullstring")
    assert isinstance(ns, driver.Null) and isinstance(ns.converter, fk.FakeDriverString)
    assert isinstance(fk.converter_for_type("any"), fk.AnyTypeConverter)
    tc = fk.converter_for_type("table")
    assert isinstance(tc, driver.NotNull) and isinstance(tc.converter, fk.AnyTypeConverter)
    nt = fk.converter_for_type("nulltable")
    assert isinstance(nt, driver.Null) and isinstance(nt.converter, fk.AnyTypeConverter)
    assert isinstance(fk.converter_for_type("uuid"), driver.NotNull)
    assert isinstance(fk.converter_for_type("nulluuid"), driver.Null)
    with pytest.raises(fk.FakePanic, match=r"^invalid fakedb column type of blob$"):
        fk.converter_for_type("blob")


def test_fake_driver_string_and_any() -> None:
    fs = fk.FakeDriverString()
    assert fs.convert_value("x") == "x"
    assert fs.convert_value(b"x") == b"x"
    assert fs.convert_value(bytearray(b"x")) == b"x"
    assert fs.convert_value(None) is None
    # Anything else is Go's %v.
    assert fs.convert_value(7) == "7"
    assert fs.convert_value(True) == "true"
    assert fs.convert_value(1.0) == "1"
    assert fs.convert_value(1e6) == "1e+06"
    obj = object()
    assert fk.AnyTypeConverter().convert_value(obj) is obj


@pytest.mark.parametrize(
    ("f", "want"),
    [
        (1.0, "1"),
        (31.2, "31.2"),
        (-22.9, "-22.9"),
        (123456.0, "123456"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e300, "1.5e+300"),
        (0.0, "0"),
        (-0.0, "-0"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_go_float_format(f: float, want: str) -> None:
    assert fk._go_v(f) == want


def test_go_value_format() -> None:
    assert fk._go_v(None) == "<nil>"
    assert fk._go_v(False) == "false"
    assert fk._go_v(-3) == "-3"
    assert fk._go_v(b"AB") == "[65 66]"
    assert fk._go_v("text") == "text"
    # fakedb's %q is dbsql's (dbsql.driver.types._quote).
    assert _quote('a"b\n\x00é') == '"a\\"b\\n\\x00é"'


# ---------------------------------------------------------------------------
# Driver, connector, registration


def test_registered_as_test() -> None:
    assert "test" in sql.drivers()
    assert fakedb.fdriver is fk.fdriver


def test_driver_counts_and_dbs(drv: fk.FakeDriver) -> None:
    c1 = drv.open("one")
    c2 = drv.open("one;badConn")
    c3 = drv.open("two")
    assert drv.open_count == 3
    assert c1.db is c2.db is drv.get_db("one")
    assert c3.db is not c1.db and c3.db is not None and c3.db.name == "two"
    assert drv.dbs is not None and sorted(drv.dbs) == ["one", "two"]
    # Another driver has databases of its own.
    other = fk.FakeDriver().open("one")
    assert other.db is not c1.db
    for c in (c1, c2, c3, other):
        c.close()


def test_driver_wait_ch(drv: fk.FakeDriver) -> None:
    wait_ch: queue.Queue[None] = queue.Queue(1)
    waiting_ch: queue.Queue[None] = queue.Queue(1)
    drv.wait_ch, drv.waiting_ch = wait_ch, waiting_ch
    opened: list[fk.FakeConn] = []
    th = threading.Thread(target=lambda: opened.append(drv.open("foo")))
    th.start()
    waiting_ch.get(timeout=5)  # the open has started waiting
    assert opened == []
    wait_ch.put(None)
    th.join(timeout=5)
    assert len(opened) == 1
    assert drv.wait_ch is None and drv.waiting_ch is None
    opened[0].close()


def test_connector() -> None:
    waiter_calls: list[context.Context] = []
    c = fk.FakeConnector(name="fakedb_test_connector", waiter=waiter_calls.append)
    assert c.driver() is fk.fdriver
    opens = fk.fdriver.open_count
    fc = c.connect(BG)
    assert isinstance(fc, fk.FakeConn)
    assert fk.fdriver.open_count == opens + 1
    assert fc.waiter is not None
    fc.prepare_context(BG, "WIPE").close()
    assert waiter_calls == [BG]
    fc.close()
    assert not c.closed
    c.close()
    assert c.closed
    with pytest.raises(fk.FakeDBError, match=r"^fakedb: connector is closed$"):
        c.close()
    with pytest.raises(ValueError, match="unknown flavor"):
        fk.FakeConnector(flavor="nope")


def test_driver_ctx() -> None:
    d = fk.FakeDriverCtx()
    assert isinstance(d, driver.DriverContext) and isinstance(d, fk.FakeDriver)
    c = d.open_connector("people")
    assert isinstance(c, fk.FakeConnector) and c.name == "people" and not c.closed


def test_dummy() -> None:
    with pytest.raises(fk.FakePanic, match="nil pointer dereference"):
        fk.Dummy().open("x")
    d = fk.Dummy(fk.FakeDriver())
    c = d.open("x")
    assert isinstance(c, fk.FakeConn)
    c.close()


def test_protocols(conn: fk.FakeConn) -> None:
    assert isinstance(fk.fdriver, driver.Driver)
    assert isinstance(fk.FakeConnector(), driver.Connector)
    for proto in (
        driver.Conn,
        driver.ConnPrepareContext,
        driver.SessionResetter,
        driver.Validator,
        driver.ExecerContext,
        driver.QueryerContext,
    ):
        assert isinstance(conn, proto), proto
    # Go's fakeConn implements neither ConnBeginTx nor Pinger nor NamedValueChecker.
    for absent in (driver.ConnBeginTx, driver.Pinger, driver.NamedValueChecker):
        assert not isinstance(conn, absent), absent
    exec_(conn, "CREATE|t|name=string")
    stmt = conn.prepare_context(BG, "SELECT|t|name|")
    for sproto in (
        driver.Stmt,
        driver.StmtExecContext,
        driver.StmtQueryContext,
        driver.ColumnConverter,
    ):
        assert isinstance(stmt, sproto), sproto
    rows = stmt.query_context(BG, [])
    assert isinstance(rows, driver.RowsNextResultSet)
    assert isinstance(rows, driver.RowsColumnTypeScanType)
    assert not isinstance(rows, driver.RowsColumnScanner)
    rows.close()
    stmt.close()
    tx = conn.begin()
    assert isinstance(tx, driver.Tx)
    tx.rollback()


# ---------------------------------------------------------------------------
# Flavours and the unwrap helpers


def test_basic_flavor() -> None:
    c = fk.FakeConnector(name="fakedb_test_basic", flavor="basic").connect(BG)
    assert isinstance(c, fk.BasicConn)
    fc = fk.fake_conn_of(c)
    assert fc.skip_dirty_session
    for proto in (
        driver.ConnPrepareContext,
        driver.SessionResetter,
        driver.Validator,
        driver.ExecerContext,
        driver.QueryerContext,
        driver.Execer,
        driver.Queryer,
    ):
        assert not isinstance(c, proto), proto
    assert isinstance(c, driver.Conn)
    s = c.prepare("WIPE")
    s.exec([])
    s.close()
    s = c.prepare("CREATE|t|name=string,age=int32")
    s.exec([])
    s.close()
    s = c.prepare("INSERT|t|name=?,age=?")
    assert fk.fake_stmt_of(s) is s.fs
    assert not isinstance(s, driver.StmtExecContext)
    assert not isinstance(s, driver.ColumnConverter)
    assert s.num_input() == 2
    s.exec(["a", 1])
    s.close()
    s = c.prepare("SELECT|t|name,age|age=?")
    rows = s.query([1])
    assert not isinstance(rows, driver.RowsNextResultSet)
    assert not isinstance(rows, driver.RowsColumnTypeScanType)
    assert rows.columns() == ["name", "age"]
    dest: list[Value] = [None, None]
    rows.next(dest)
    assert dest == ["a", 1]
    with pytest.raises(EOFError):
        rows.next(dest)
    assert fk.rows_cursor_of(rows) is rows.rc
    rows.close()
    s.close()
    tx = c.begin()
    tx.commit()
    c.close()
    assert fc.db is None


def test_scancols_flavor() -> None:
    c = fk.FakeConnector(name="fakedb_test_scancols", flavor="scancols").connect(BG)
    assert isinstance(c, fk.ScanColsConn)
    fc = fk.fake_conn_of(c)
    for proto in (
        driver.Conn,
        driver.ConnPrepareContext,
        driver.SessionResetter,
        driver.Validator,
        driver.ExecerContext,
        driver.QueryerContext,
    ):
        assert isinstance(c, proto), proto
    fc.skip_dirty_session = True
    for q in ("WIPE", "CREATE|t|name=string,age=int32"):
        st = c.prepare_context(BG, q)
        st.exec_context(BG, [])
        st.close()
    st = c.prepare_context(BG, "INSERT|t|name=?,age=?")
    assert isinstance(st, driver.ColumnConverter)
    assert st.column_converter(1) is driver.Int32
    st.exec_context(BG, nv("Ann", 7))
    st.close()
    st = c.prepare_context(BG, "SELECT|t|name,age|;SELECT|t|age|")
    assert fk.fake_stmt_of(st) is st.fs
    rows = st.query_context(BG, [])
    assert isinstance(rows, driver.RowsColumnScanner)
    assert isinstance(rows, driver.RowsNextResultSet)
    assert rows.column_type_scan_type(1) is sql.Int32
    with pytest.raises(fk.FakePanic, match="Next called"):
        rows.next([None, None])
    with pytest.raises(fk.FakeDBError, match="without NextRow"):
        rows.scan_column(driver.ScanContext(), 0, str)
    rows.next_row()
    assert rows.row == ["Ann", 7]
    scan_ctx = driver.ScanContext()
    assert rows.scan_column(scan_ctx, 0, str) == "Ann"
    assert rows.scan_column(scan_ctx, 1, str) == "7"
    assert rows.scan_column(scan_ctx, 1, int) == 7
    with pytest.raises(EOFError):
        rows.next_row()
    rows.next_result_set()
    assert rows.columns() == ["age"]
    rows.next_row()
    assert rows.scan_column(scan_ctx, 0, float) == 7.0
    assert fk.rows_cursor_of(rows) is rows.rc
    rows.close()
    assert rows.rc.closed
    st.close()
    c.close()


def test_unwrap_helpers(conn: fk.FakeConn) -> None:
    assert fk.fake_conn_of(conn) is conn
    stmt = conn.prepare_context(BG, "WIPE")
    assert fk.fake_stmt_of(stmt) is stmt
    stmt.close()
    rc = fk.RowsCursor(conn, [[]], [[]], [[]])
    assert fk.rows_cursor_of(rc) is rc
    with pytest.raises(TypeError, match=r"^fakedb: object is not a fake conn$"):
        fk.fake_conn_of(object())
    with pytest.raises(TypeError, match="not a fake stmt"):
        fk.fake_stmt_of(conn)
    with pytest.raises(TypeError, match="not a fake rows cursor"):
        fk.rows_cursor_of(conn)


# ---------------------------------------------------------------------------
# Concurrency: the locks of FakeDB, Table and FakeConn stats


def test_concurrent_inserts(drv: fk.FakeDriver) -> None:
    setup = drv.open("foo")
    setup.skip_dirty_session = True
    exec_(setup, "CREATE|t|n=int32")
    setup.close()
    n_threads, per_thread = 8, 50
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            c = drv.open("foo")
            c.skip_dirty_session = True
            stmt = c.prepare_context(BG, "INSERT|t|n=?")
            for i in range(per_thread):
                stmt.exec_context(BG, nv(k * per_thread + i))
            stmt.close()
            c.close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert errors == []
    c = drv.open("foo")
    c.skip_dirty_session = True
    got = query_all(c, "SELECT|t|n|")
    assert sorted(r[0] for r in got[0]) == list(range(n_threads * per_thread))
    c.close()
    assert drv.open_count == n_threads + 2
