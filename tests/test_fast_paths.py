"""Tests of two fast paths of dbsql/sql.py.

1. ``Row.scan`` on driver Rows implementing ``driver.RowsNextBatch``, with no
   context callback and no RawBytes destination: one row is asked of the driver
   (``next_batch(1)``), converted, and the rows are closed without closemu
   (``Rows._scan_one``). It must behave exactly as the general path (Go's
   ``Row.Scan``): same values, same errors, the connection back in the pool.
2. ``Rows.scan`` (``_convert_row``): when every destination is a plain type and
   the row's values are exactly of those types, the row tuple is returned as is;
   anything else (other types, Refs, Scanner instances) goes through the
   per-column conversion.
3. ``DB.query_row`` on a driver Conn implementing ``driver.QueryerRowContext``
   (the embedded sqlite3 driver does): the driver reads the first row and closes
   its rows in one call, and the Row holds the values and the connection until it
   is scanned, as a Row holds its Rows. The ``test_sqlite3_row_scan_*`` tests
   above run through it (values, conversions, errors and their column names, no
   rows, a second scan); section 3 checks what is its own.
"""

from __future__ import annotations

import datetime
import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

import dbsql
from dbsql import context, driver, sql
from dbsql.context import Context

# --- helpers -----------------------------------------------------------------


def assert_released(db: dbsql.DB) -> None:
    """The one connection used went back to the pool."""
    st = db.stats()
    assert st.in_use == 0, st
    assert st.idle == 1, st


@pytest.fixture
def mem() -> Iterator[dbsql.DB]:
    db = dbsql.open("sqlite3", ":memory:")
    yield db
    db.close()


# --- a tiny driver whose Rows implement next_batch -----------------------------


class RowsError(Exception):
    """An error raised by the script driver's Rows."""


@attrs.define
class Script:
    """What a connection of the script driver returns, and what was called."""

    columns: list[str] = attrs.field(factory=lambda: ["id", "name"])
    rows: list[tuple[Any, ...]] = attrs.field(factory=list)
    batch_error: BaseException | None = None
    close_error: BaseException | None = None
    # Recorded calls.
    batch_calls: list[int] = attrs.field(factory=list)
    next_calls: int = 0
    close_calls: int = 0
    calls_after_close: int = 0
    query_ctxs: list[Context] = attrs.field(factory=list)


class ScriptRows:
    """driver.Rows + driver.RowsNextBatch over a Script's rows."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._pos = 0
        self._closed = False

    def columns(self) -> list[str]:
        return list(self._script.columns)

    def close(self) -> None:
        s = self._script
        s.close_calls += 1
        self._closed = True
        if s.close_error is not None:
            raise s.close_error

    def next(self, dest: list[Any]) -> None:
        s = self._script
        s.next_calls += 1
        if self._closed:
            s.calls_after_close += 1
        batch = self._take(1)
        if not batch:
            raise EOFError
        dest[:] = list(batch[0])

    def next_batch(self, max_rows: int) -> list[tuple[Any, ...]]:
        s = self._script
        s.batch_calls.append(max_rows)
        if self._closed:
            s.calls_after_close += 1
        if s.batch_error is not None:
            raise s.batch_error
        return self._take(max_rows)

    def _take(self, n: int) -> list[tuple[Any, ...]]:
        rows = self._script.rows[self._pos : self._pos + n]
        self._pos += len(rows)
        return rows


class ScriptConn:
    """driver.Conn + driver.QueryerContext."""

    def __init__(self, script: Script) -> None:
        self._script = script

    def prepare(self, query: str) -> driver.Stmt:
        raise NotImplementedError("script driver: prepare")

    def close(self) -> None:
        pass

    def begin(self) -> driver.Tx:
        raise NotImplementedError("script driver: begin")

    def query_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> ScriptRows:
        self._script.query_ctxs.append(ctx)
        return ScriptRows(self._script)


class ScriptDriver:
    """driver.Driver: the DSN names the Script to use."""

    def __init__(self) -> None:
        self._mu = threading.Lock()
        self.scripts: dict[str, Script] = {}

    def open(self, name: str) -> ScriptConn:
        with self._mu:
            return ScriptConn(self.scripts[name])


DRIVER_NAME = "test_fast_paths_script"
_DRIVER = ScriptDriver()
_dsn_seq = itertools.count()


def open_script(script: Script) -> dbsql.DB:
    if DRIVER_NAME not in dbsql.drivers():
        dbsql.register(DRIVER_NAME, _DRIVER)
    dsn = f"script-{next(_dsn_seq)}"
    _DRIVER.scripts[dsn] = script
    return dbsql.open(DRIVER_NAME, dsn)


@pytest.fixture
def script() -> Script:
    return Script(rows=[(1, "a"), (2, "b")])


@pytest.fixture
def sdb(script: Script) -> Iterator[dbsql.DB]:
    db = open_script(script)
    yield db
    db.close()


# The two ways to run query_row: background context (Row.scan's fast path) and a
# cancellable context (a context callback is attached: the general path). Both
# must give the same results.
PATHS = ["fast", "slow"]


def query_row(db: dbsql.DB, path: str, query: str) -> tuple[dbsql.Row, context.CancelFunc]:
    if path == "fast":
        return db.query_row(query), lambda: None
    ctx, cancel = context.with_cancel(context.background())
    return db.query_row_context(ctx, query), cancel


# --- Row.scan on the sqlite3 driver ----------------------------------------------


def test_sqlite3_rows_implement_next_batch(mem: dbsql.DB) -> None:
    # The premise of these tests: the embedded driver takes the fast path.
    rows = mem.query("SELECT 1")
    try:
        assert isinstance(rows._rowsi, driver.RowsNextBatch)
        assert rows._next_batch is not None
        assert rows._cancel is None
    finally:
        rows.close()


def test_sqlite3_row_scan_values(mem: dbsql.DB) -> None:
    got = mem.query_row("SELECT 7 AS id, 'seven' AS name, 2.5 AS f, x'00ff' AS b").scan(
        int, str, float, bytes
    )
    assert got == (7, "seven", 2.5, b"\x00\xff")
    assert [type(v) for v in got] == [int, str, float, bytes]
    assert_released(mem)


def test_sqlite3_row_scan_converts(mem: dbsql.DB) -> None:
    got = mem.query_row("SELECT 7, '42', 3").scan(str, int, float)
    assert got == ("7", 42, 3.0)
    assert [type(v) for v in got] == [str, int, float]
    assert_released(mem)


def test_sqlite3_row_scan_with_args(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    mem.exec("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')")
    assert mem.query_row("SELECT name FROM t WHERE id = ?", 2).scan(str) == ("b",)
    assert_released(mem)


def test_sqlite3_row_scan_temp_file(tmp_path: Path) -> None:
    db = dbsql.open("sqlite3", str(tmp_path / "fast.db"))
    try:
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        db.exec("INSERT INTO t (name) VALUES (?)", "x")
        assert db.query_row("SELECT id, name FROM t").scan(int, str) == (1, "x")
        assert_released(db)
    finally:
        db.close()


def test_sqlite3_row_scan_no_rows(mem: dbsql.DB) -> None:
    with pytest.raises(dbsql.NoRowsError, match=r"^sql: no rows in result set$"):
        mem.query_row("SELECT 1 WHERE 0").scan(int)
    assert_released(mem)


def test_sqlite3_row_scan_wrong_destination_count(mem: dbsql.DB) -> None:
    with pytest.raises(dbsql.Error) as ei:
        mem.query_row("SELECT 1, 2").scan(int)
    assert str(ei.value) == "sql: expected 2 destination arguments in Scan, not 1"
    assert not isinstance(ei.value, dbsql.ScanError | dbsql.NoRowsError)
    assert_released(mem)


def test_sqlite3_row_scan_conversion_error(mem: dbsql.DB) -> None:
    with pytest.raises(dbsql.ScanError) as ei:
        mem.query_row("SELECT 1 AS id, 'abc' AS name").scan(int, int)
    msg = str(ei.value)
    assert msg.startswith('sql: Scan error on column index 1, name "name": '), msg
    assert "abc" in msg
    assert ei.value.__cause__ is not None
    assert_released(mem)


def test_sqlite3_row_scan_first_of_several_rows(mem: dbsql.DB) -> None:
    q = "SELECT column1, column2 FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c'))"
    assert mem.query_row(q).scan(int, str) == (1, "a")
    assert_released(mem)
    # The conn is fine for the next query.
    assert mem.query_row("SELECT count(*) FROM (VALUES (1), (2), (3))").scan(int) == (3,)
    assert_released(mem)


def test_sqlite3_row_scan_null_into_optional(mem: dbsql.DB) -> None:
    assert mem.query_row("SELECT NULL, 5").scan(int | None, int | None) == (None, 5)
    assert_released(mem)


def test_sqlite3_row_scan_null_into_int_fails(mem: dbsql.DB) -> None:
    with pytest.raises(dbsql.ScanError, match=r'^sql: Scan error on column index 0, name "n"'):
        mem.query_row("SELECT NULL AS n").scan(int)
    assert_released(mem)


def test_sqlite3_row_scan_raw_bytes(mem: dbsql.DB) -> None:
    with pytest.raises(dbsql.Error) as ei:
        mem.query_row("SELECT x'01'").scan(dbsql.RawBytes)
    assert str(ei.value) == "sql: RawBytes isn't allowed on Row.Scan"
    assert_released(mem)
    with pytest.raises(dbsql.Error, match=r"^sql: RawBytes isn't allowed on Row\.Scan$"):
        mem.query_row("SELECT 1, x'01'").scan(int, dbsql.RawBytes)
    assert_released(mem)


def test_sqlite3_row_scan_query_error(mem: dbsql.DB) -> None:
    # A query error is deferred to scan (no rows were made: no fast path).
    with pytest.raises(Exception, match="no such table"):
        mem.query_row("SELECT x FROM missing").scan(int)
    assert_released(mem)


def test_sqlite3_row_scan_twice(mem: dbsql.DB) -> None:
    # Go: the second Scan finds the rows closed, Next is false: ErrNoRows.
    row = mem.query_row("SELECT 1, 'a'")
    assert row.scan(int, str) == (1, "a")
    with pytest.raises(dbsql.NoRowsError):
        row.scan(int, str)
    assert_released(mem)


def test_sqlite3_row_scan_scanner_and_ref(mem: dbsql.DB) -> None:
    n = dbsql.NullInt64()
    ref: dbsql.Ref[str] = dbsql.Ref(str)
    got = mem.query_row("SELECT 9, 'nine'").scan(n, ref)
    assert got[0] is n
    assert n == dbsql.NullInt64(int64=9, valid=True)
    assert got[1] == "nine"
    assert ref.value == "nine"
    assert_released(mem)


def test_sqlite3_row_scan_cancellable_context(mem: dbsql.DB) -> None:
    q = "SELECT 1 AS id, 'a' AS name UNION ALL SELECT 2, 'b'"
    fast = mem.query_row(q).scan(int, str)
    ctx, cancel = context.with_cancel(context.background())
    try:
        row = mem.query_row_context(ctx, q)
        assert row._rows is not None and row._rows._cancel is not None  # the slow path
        slow = row.scan(int, str)
    finally:
        cancel()
    assert fast == slow == (1, "a")
    assert_released(mem)


def test_sqlite3_row_scan_cancelled_context(mem: dbsql.DB) -> None:
    ctx, cancel = context.with_cancel(context.background())
    cancel()
    with pytest.raises(context.Canceled):
        mem.query_row_context(ctx, "SELECT 1").scan(int)
    assert mem.stats().in_use == 0


def test_sqlite3_row_scan_in_tx(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    tx = mem.begin()
    try:
        tx.exec("INSERT INTO t (id, name) VALUES (1, 'a')")
        assert tx.query_row("SELECT name FROM t WHERE id = 1").scan(str) == ("a",)
        with pytest.raises(dbsql.NoRowsError):
            tx.query_row("SELECT name FROM t WHERE id = 2").scan(str)
        assert mem.stats().in_use == 1  # the Tx still holds its conn
    finally:
        tx.rollback()
    assert_released(mem)


# --- Row.scan with the script driver ---------------------------------------------


def test_script_row_scan_fast_path_values(sdb: dbsql.DB, script: Script) -> None:
    assert sdb.query_row("q").scan(int, str) == (1, "a")
    assert script.batch_calls == [1]  # one row asked for, by next_batch
    assert script.next_calls == 0
    assert script.close_calls == 1
    assert script.calls_after_close == 0
    assert_released(sdb)


@pytest.mark.parametrize("path", PATHS)
def test_script_next_batch_error(sdb: dbsql.DB, script: Script, path: str) -> None:
    err = RowsError("next_batch failed")
    script.batch_error = err
    row, cancel = query_row(sdb, path, "q")
    try:
        with pytest.raises(RowsError) as ei:
            row.scan(int, str)
    finally:
        cancel()
    assert ei.value is err
    assert script.close_calls == 1
    assert len(script.batch_calls) == 1
    assert script.calls_after_close == 0
    assert_released(sdb)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "case",
    [
        # Go: the Next error is the one reported; Close's error is dropped.
        "next_batch_error_and_close_error",
        "close_error_after_good_row",
        # Go: Next hits EOF and closes; Err() then reports Close's error, not ErrNoRows.
        "close_error_when_no_rows",
        # A bad-connection close error: raised, and the conn is discarded.
        "close_error_bad_conn",
    ],
)
def test_script_close_errors(sdb: dbsql.DB, script: Script, path: str, case: str) -> None:
    close_err: Exception = (
        driver.BadConnError() if case == "close_error_bad_conn" else RowsError("close failed")
    )
    script.close_error = close_err
    want = close_err
    if case == "next_batch_error_and_close_error":
        want = script.batch_error = RowsError("next_batch failed")
    if case == "close_error_when_no_rows":
        script.rows = []
    row, cancel = query_row(sdb, path, "q")
    try:
        with pytest.raises(type(want)) as ei:
            row.scan(int, str)
    finally:
        cancel()
    assert ei.value is want
    assert script.close_calls == 1
    if case == "close_error_bad_conn":
        st = sdb.stats()
        assert st.in_use == 0 and st.idle == 0 and st.open_connections == 0, st
    else:
        assert_released(sdb)


@pytest.mark.parametrize("path", PATHS)
def test_script_no_rows(sdb: dbsql.DB, script: Script, path: str) -> None:
    script.rows = []
    row, cancel = query_row(sdb, path, "q")
    try:
        with pytest.raises(dbsql.NoRowsError):
            row.scan(int, str)
    finally:
        cancel()
    assert script.close_calls == 1
    assert_released(sdb)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "dest, error, text, whole",
    [
        # A column that does not convert: the ScanError names it.
        ((int, int), dbsql.ScanError, 'sql: Scan error on column index 1, name "name": ', False),
        # Go's destination-count error, word for word.
        (
            (int, str, str),
            dbsql.Error,
            "sql: expected 2 destination arguments in Scan, not 3",
            True,
        ),
    ],
    ids=["conversion_error", "wrong_destination_count"],
)
def test_script_scan_errors(
    sdb: dbsql.DB,
    script: Script,
    path: str,
    dest: tuple[type, ...],
    error: type[Exception],
    text: str,
    whole: bool,
) -> None:
    row, cancel = query_row(sdb, path, "q")
    try:
        with pytest.raises(error) as ei:
            row.scan(*dest)
    finally:
        cancel()
    if whole:
        assert str(ei.value) == text
    else:
        assert str(ei.value).startswith(text)
    assert script.close_calls == 1
    assert_released(sdb)


@pytest.mark.parametrize("path", PATHS)
def test_script_scanner_error_is_chained(sdb: dbsql.DB, script: Script, path: str) -> None:
    boom = ValueError("scanner refuses")

    class Refuser:
        def scan(self, src: Any) -> None:
            raise boom

    row, cancel = query_row(sdb, path, "q")
    try:
        with pytest.raises(dbsql.ScanError) as ei:
            row.scan(Refuser(), str)
    finally:
        cancel()
    assert str(ei.value).startswith('sql: Scan error on column index 0, name "id": ')
    assert ei.value.__cause__ is boom
    assert script.close_calls == 1
    assert_released(sdb)


def test_script_next_batch_called_with_one(sdb: dbsql.DB, script: Script) -> None:
    script.rows = [(i, str(i)) for i in range(10)]
    assert sdb.query_row("q").scan(int, str) == (0, "0")
    assert script.batch_calls == [1]
    assert script.close_calls == 1


@pytest.mark.parametrize("path", PATHS)
def test_script_row_scan_twice(sdb: dbsql.DB, script: Script, path: str) -> None:
    # Go: the second Scan finds the rows closed (Next is false without calling
    # the driver) and returns ErrNoRows; the driver Rows, closed, are not used.
    row, cancel = query_row(sdb, path, "q")
    try:
        assert row.scan(int, str) == (1, "a")
        with pytest.raises(dbsql.NoRowsError):
            row.scan(int, str)
    finally:
        cancel()
    assert script.calls_after_close == 0
    assert script.close_calls == 1
    assert_released(sdb)


def test_script_cancellable_context_slow_path(sdb: dbsql.DB, script: Script) -> None:
    fast = sdb.query_row("q").scan(int, str)
    assert script.batch_calls == [1]
    ctx, cancel = context.with_cancel(context.background())
    try:
        row = sdb.query_row_context(ctx, "q")
        assert row._rows is not None and row._rows._cancel is not None
        slow = row.scan(int, str)
    finally:
        cancel()
    assert slow == fast == (1, "a")
    # The slow path reads a batch as Rows.next does, not a single row.
    assert script.batch_calls == [1, sql._BATCH_ROWS]
    assert script.query_ctxs[-1] is ctx
    assert script.close_calls == 2
    assert script.calls_after_close == 0
    assert_released(sdb)


def test_script_cancelled_context_after_query(sdb: dbsql.DB, script: Script) -> None:
    # The context is cancelled between query_row_context and scan: the callback
    # closes the rows, and scan reports the context's error.
    ctx, cancel = context.with_cancel(context.background())
    row = sdb.query_row_context(ctx, "q")
    cancel()
    # The context callback runs asynchronously (Go's awaitDone goroutine).
    deadline = time.monotonic() + 10.0
    while script.close_calls == 0:
        assert time.monotonic() < deadline, "the context callback did not close the rows"
        time.sleep(0.005)
    with pytest.raises(context.Canceled):
        row.scan(int, str)
    assert script.close_calls == 1
    assert script.calls_after_close == 0
    assert sdb.stats().in_use == 0


def test_script_raw_bytes_not_on_fast_path(sdb: dbsql.DB, script: Script) -> None:
    with pytest.raises(dbsql.Error, match=r"^sql: RawBytes isn't allowed on Row\.Scan$"):
        sdb.query_row("q").scan(int, dbsql.RawBytes)
    assert script.batch_calls == []  # nothing was read
    assert script.close_calls == 1
    assert_released(sdb)


# --- Rows.scan identity path -------------------------------------------------------


def test_rows_scan_identity_returns_row(mem: dbsql.DB) -> None:
    q = "SELECT 1, 'a', 2.5, x'00ff' UNION ALL SELECT 2, 'b', 3.5, x'01'"
    expected = list(mem.query(q))
    assert expected == [(1, "a", 2.5, b"\x00\xff"), (2, "b", 3.5, b"\x01")]
    got = []
    with mem.query(q) as rows:
        while rows.next():
            t = rows.scan(int, str, float, bytes)
            assert type(t) is tuple
            got.append(t)
        assert rows.err() is None
    assert got == expected
    assert_released(mem)


def test_rows_scan_identity_checks_each_row(mem: dbsql.DB) -> None:
    # (int, str) is cached as an identity destination after the first row; the
    # second row's NULL must still go through the conversion (and fail).
    with mem.query("SELECT 1 AS id, 'a' AS name UNION ALL SELECT NULL, 'b'") as rows:
        assert rows.next()
        assert rows.scan(int, str) == (1, "a")
        assert rows.next()
        with pytest.raises(dbsql.ScanError) as ei:
            rows.scan(int, str)
        assert str(ei.value).startswith('sql: Scan error on column index 0, name "id": ')
        # The rows are still usable after a scan error.
        assert rows.scan(int | None, str) == (None, "b")
        assert not rows.next()
        assert rows.err() is None
    assert_released(mem)


def test_rows_scan_ref_destination(mem: dbsql.DB) -> None:
    with mem.query("SELECT 1, 'a'") as rows:
        assert rows.next()
        assert rows.scan(int, str) == (1, "a")  # an identity scan first
        ref: dbsql.Ref[int] = dbsql.Ref(int)
        assert rows.scan(ref, str) == (1, "a")
        assert ref.value == 1
        sref: dbsql.Ref[str] = dbsql.Ref(str)
        assert rows.scan(int, sref) == (1, "a")
        assert sref.value == "a"
        conv: dbsql.Ref[str] = dbsql.Ref(str)
        assert rows.scan(conv, str) == ("1", "a")
        assert conv.value == "1"


def test_rows_scan_scanner_destination(mem: dbsql.DB) -> None:
    with mem.query("SELECT 1, 'a' UNION ALL SELECT NULL, 'b'") as rows:
        assert rows.next()
        n = dbsql.NullInt64()
        s = dbsql.NullString()
        got = rows.scan(n, s)
        assert got[0] is n and got[1] is s
        assert n == dbsql.NullInt64(int64=1, valid=True)
        assert s == dbsql.NullString(string="a", valid=True)
        assert rows.next()
        n2 = dbsql.NullInt64(int64=5, valid=True)
        got = rows.scan(n2, str)
        assert got == (n2, "b")
        assert n2.valid is False and n2.int64 == 0


def test_rows_scan_int_into_str_converts(mem: dbsql.DB) -> None:
    with mem.query("SELECT 1, 'a', 2.5") as rows:
        assert rows.next()
        assert rows.scan(int, str, float) == (1, "a", 2.5)  # identity
        got = rows.scan(str, str, str)
        assert got == ("1", "a", "2.5")
        assert [type(v) for v in got] == [str, str, str]
        got = rows.scan(float, bytes, str)
        assert got == (1.0, b"a", "2.5")
        assert [type(v) for v in got] == [float, bytes, str]
        got = rows.scan(object, object, object)
        assert got == (1, "a", 2.5)


def test_rows_scan_bool_is_not_int(script: Script) -> None:
    # bool is a subclass of int but not an identity for an int destination: Go
    # refuses to scan a bool into an int.
    script.rows = [(True, "a")]
    db = open_script(script)
    try:
        with db.query("q") as rows:
            assert rows.next()
            assert rows.scan(bool, str) == (True, "a")
            with pytest.raises(
                dbsql.ScanError, match=r'^sql: Scan error on column index 0, name "id"'
            ):
                rows.scan(int, str)
    finally:
        db.close()


def test_rows_scan_sized_int_converts(mem: dbsql.DB) -> None:
    with mem.query("SELECT 300") as rows:
        assert rows.next()
        (v,) = rows.scan(dbsql.Int16)
        assert v == 300 and type(v) is int  # range-checked, returned as a plain int
        with pytest.raises(dbsql.ScanError, match=r"^sql: Scan error on column index 0"):
            rows.scan(dbsql.Int8)


def test_rows_scan_list_of_destinations_falls_back(mem: dbsql.DB) -> None:
    # _convert_row with an unhashable destination sequence (a list) must work.
    with mem.query("SELECT 1, 'a'") as rows:
        assert rows.next()
        assert sql._convert_row(rows, (1, "a"), [int, str]) == (1, "a")
        assert sql._convert_row(rows, (1, "a"), [str, str]) == ("1", "a")


def test_rows_scan_wrong_destination_count(mem: dbsql.DB) -> None:
    with mem.query("SELECT 1, 2") as rows:
        assert rows.next()
        with pytest.raises(dbsql.Error) as ei:
            rows.scan(int, int, int)
        assert str(ei.value) == "sql: expected 2 destination arguments in Scan, not 3"


def test_rows_scan_before_next(mem: dbsql.DB) -> None:
    with mem.query("SELECT 1") as rows:
        with pytest.raises(dbsql.Error, match=r"^sql: Scan called without calling Next$"):
            rows.scan(int)


def test_rows_scan_after_close(mem: dbsql.DB) -> None:
    rows = mem.query("SELECT 1")
    assert rows.next()
    assert rows.scan(int) == (1,)
    rows.close()
    with pytest.raises(dbsql.RowsClosedError) as ei:
        rows.scan(int)
    assert str(ei.value) == "sql: Rows are closed"
    assert_released(mem)


def test_rows_scan_after_end(mem: dbsql.DB) -> None:
    rows = mem.query("SELECT 1")
    assert rows.next()
    assert not rows.next()  # closes the rows
    with pytest.raises(dbsql.RowsClosedError, match=r"^sql: Rows are closed$"):
        rows.scan(int)
    assert rows.err() is None
    assert_released(mem)


def test_rows_scan_after_driver_error(sdb: dbsql.DB, script: Script) -> None:
    # A driver error closes the rows; scan then reports that error (lasterr).
    err = RowsError("next_batch failed")
    script.batch_error = err
    rows = sdb.query("q")
    assert not rows.next()
    assert rows.err() is err
    with pytest.raises(RowsError) as ei:
        rows.scan(int, str)
    assert ei.value is err
    assert script.close_calls == 1
    assert_released(sdb)


# --- _ClosingMutex.lock_unlock (Tx.commit and rollback's barrier) ---------------


def test_closing_mutex_lock_unlock_free() -> None:
    m = sql._ClosingMutex()
    m.lock_unlock()  # nobody holds it: returns at once, leaving it free
    m.lock()
    m.unlock()
    m.rlock()
    m.runlock()


def test_closing_mutex_lock_unlock_waits_for_reader_and_writer() -> None:
    for hold, free in (
        (sql._ClosingMutex.rlock, sql._ClosingMutex.runlock),
        (sql._ClosingMutex.lock, sql._ClosingMutex.unlock),
    ):
        m = sql._ClosingMutex()
        hold(m)
        done = threading.Event()

        def barrier(m: sql._ClosingMutex = m, done: threading.Event = done) -> None:
            m.lock_unlock()
            done.set()

        t = threading.Thread(target=barrier)
        t.start()
        # It waits while the mutex is held (nothing can end the wait but free()).
        assert not done.wait(0.05)
        free(m)
        assert done.wait(10)
        t.join()
        # Free again afterwards: a writer gets it at once.
        m.lock()
        m.unlock()


# --- 3. DB.query_row through driver.QueryerRowContext ---------------------------


def test_sqlite3_conn_implements_queryer_row(mem: dbsql.DB) -> None:
    def check(dc: Any) -> None:
        assert isinstance(dc, driver.QueryerRowContext)

    with mem.conn() as c:
        c.raw(check)
    assert type(mem.query_row("SELECT 1")) is sql._HeldRow


def test_held_row_keeps_the_connection_until_scanned(mem: dbsql.DB) -> None:
    # Go's Row keeps its Rows, and so the connection, until Scan.
    mem.set_max_open_conns(1)
    row = mem.query_row("SELECT 1, 'a'")
    st = mem.stats()
    assert (st.in_use, st.idle) == (1, 0), st
    ctx, cancel = context.with_timeout(context.background(), 0.05)
    try:
        with pytest.raises(context.DeadlineExceeded, match="max open 1, 1 in use"):
            mem.conn(ctx)
    finally:
        cancel()
    assert row.scan(int, str) == (1, "a")
    assert_released(mem)
    with mem.conn():
        pass


def test_held_row_releases_on_every_scan_outcome(mem: dbsql.DB) -> None:
    outcomes: list[type[BaseException] | None] = []
    for q, dest in [
        ("SELECT 1", (int,)),
        ("SELECT 1 WHERE 0", (int,)),  # NoRowsError
        ("SELECT 'x' AS s", (int,)),  # ScanError
        ("SELECT 1, 2", (int,)),  # the destination count
        ("SELECT x'01'", (dbsql.RawBytes,)),  # RawBytes on Row.scan
    ]:
        row = mem.query_row(q)
        assert type(row) is sql._HeldRow, q
        try:
            row.scan(*dest)
            outcomes.append(None)
        except dbsql.Error as e:
            outcomes.append(type(e))
        assert_released(mem)
        with pytest.raises(dbsql.NoRowsError):  # Go: the rows are closed by now
            row.scan(*dest)
        assert_released(mem)
    assert outcomes == [None, dbsql.NoRowsError, dbsql.ScanError, dbsql.Error, dbsql.Error]


def test_held_row_declared_types_converted(mem: dbsql.DB) -> None:
    # The driver's conversions of declared time and bool columns, as for Rows.
    mem.exec("CREATE TABLE t (ts TIMESTAMP, ok BOOLEAN, n INTEGER)")
    mem.exec("INSERT INTO t VALUES ('2024-05-06 07:08:09', 1, NULL)")
    q = "SELECT ts, ok, n FROM t"
    assert type(mem.query_row(q)) is sql._HeldRow
    got = mem.query_row(q).scan(object, object, object)
    with mem.query(q) as rows:
        want = list(rows)
    assert [got] == want
    assert got[0] == datetime.datetime(2024, 5, 6, 7, 8, 9) and got[1] is True


def test_held_row_skipped_by_the_driver_uses_rows(mem: dbsql.DB) -> None:
    # A query off the driver's plain path (here two statements, the first a
    # schema change) is skipped by query_row_context: Rows, on the same connection.
    row = mem.query_row("CREATE TEMP TABLE tt (a); SELECT 5")
    assert type(row) is dbsql.Row
    assert row.scan(int) == (5,)
    assert_released(mem)
    assert mem.stats().open_connections == 1


def test_held_row_query_error_is_deferred(mem: dbsql.DB) -> None:
    row = mem.query_row("SELECT x FROM missing")
    assert type(row) is dbsql.Row
    assert "no such table" in str(row.err())
    assert_released(mem)


def test_held_row_bad_conn_is_retried(mem: dbsql.DB) -> None:
    # driver.BadConnError from query_row_context: the connection is dropped and
    # the query retried on another, as for query_context (Go's retry).
    mem.query_row("SELECT 1").scan(int)
    (dc,) = mem._free_conn
    calls: list[str] = []

    def bad(ctx: Context, query: str, args: Sequence[driver.NamedValue]) -> None:
        calls.append(query)
        raise driver.BadConnError()

    dc._queryer_row = bad
    assert mem.query_row("SELECT 2").scan(int) == (2,)
    assert calls == ["SELECT 2"]
    assert dc._closed
    assert_released(mem)


def test_held_row_arguments_checked_by_the_driver(mem: dbsql.DB) -> None:
    # The arguments go through the driver's NamedValueChecker, as for Rows.
    got = mem.query_row("SELECT ?, ?, ?", True, b"\x01", None).scan(int, bytes, int | None)
    assert got == (1, b"\x01", None)
    row = mem.query_row("SELECT ?", object())
    assert type(row) is dbsql.Row  # the conversion failed before the driver call
    with pytest.raises(dbsql.ConversionError, match="converting argument"):
        row.scan(int)
    assert_released(mem)


def test_held_row_never_scanned_warns_and_keeps_the_connection() -> None:
    import gc
    import warnings

    db = dbsql.open("sqlite3", ":memory:")
    try:
        db.set_leak_threshold(60)
        gc.collect()  # (nothing of an earlier test's in the count)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            db.query_row("SELECT 1")
            gc.collect()
        msgs = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
        assert len(msgs) == 1, msgs
        assert msgs[0].startswith("dbsql: unclosed Row (never scanned)"), msgs[0]
        assert "test_held_row_never_scanned_warns_and_keeps_the_connection" in msgs[0]
        # As in Go (and for an unclosed Rows), the connection stays checked out.
        assert db.stats().in_use == 1
    finally:
        db.close()


def test_stmt_query_row_reads_in_one_call(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    mem.exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    with mem.prepare("SELECT id, name FROM t WHERE id = ?") as st:
        row = st.query_row(2)
        assert type(row) is sql._HeldRow
        assert mem.stats().in_use == 1  # kept until scanned, as Go's Row keeps its Rows
        assert row.scan(int, str) == (2, "b")
        assert_released(mem)
        with pytest.raises(dbsql.NoRowsError):
            st.query_row(3).scan(int, str)
        assert_released(mem)
        with pytest.raises(
            dbsql.ScanError, match=r'^sql: Scan error on column index 1, name "name"'
        ):
            st.query_row(1).scan(int, int)
        assert_released(mem)


def test_stmt_closed_before_its_row_is_scanned(mem: dbsql.DB) -> None:
    # The driver statement is closed once the connection is back (Go's deferral
    # of an unused statement on a connection in use); the row is unaffected.
    st = mem.prepare("SELECT 7")
    row = st.query_row()
    st.close()
    assert row.scan(int) == (7,)
    assert_released(mem)
    assert mem.query_row("SELECT 8").scan(int) == (8,)


def test_tx_stmt_query_row_keeps_rows(mem: dbsql.DB) -> None:
    # In a transaction the row is read through Rows: commit cancels the Tx's
    # context, which closes them (a held row would keep commit waiting).
    tx = mem.begin()
    row = tx.prepare("SELECT 1").query_row()
    assert type(row) is dbsql.Row
    tx.commit()  # (waits for the context callback to close the rows)
    with pytest.raises(context.Canceled):  # Go: Scan returns context.Canceled
        row.scan(int)
    assert_released(mem)
