"""The tests newer Go (up to the 1.27 line) added to database/sql's sql_test.go.

Translated from upstream where the stored sources hold them
(TestGenericNullStringParam, TestDriverArgsWrapsErrors,
TestContextCancelDuringRawBytesScan, TestContextCancelBetweenNextAndErr,
TestNilErrorAfterClose, TestRawBytesReuse, TestGrabConnAllocs,
TestConnRequestSet, TestIssue69837, TestIssue69728); the others are written
from the behaviour UPSTREAM-DELTA.md describes (each says so in its docstring).
Tests that go through the DB API only run once per driver flavour.
"""

from __future__ import annotations

import datetime
import decimal
import gc
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import fakedb
from dbsql import context as dctx
from dbsql import driver, sql
from dbsql.context import Canceled, Context
from dbsql.sql import (
    ConversionError,
    Null,
    NullBool,
    NullByte,
    NullFloat64,
    NullInt16,
    NullInt32,
    NullInt64,
    NullString,
    NullTime,
    RawBytes,
    Rows,
    ScanError,
)
from tests.sqltest import (
    FAKE_DB_NAME,
    NullTestRow,
    NullTestSpec,
    close_db,
    exec_,
    new_test_db,
    not_basic,
    null_test_run,
    wait_condition,
    wait_for_free,
    wait_for_rows_close,
)

# ---------------------------------------------------------------------------
# Helpers.


def _errors_is(err: BaseException | None, cls: type[BaseException]) -> bool:
    """Go's errors.Is for a wrapped error: err or one of the errors it was
    raised from (its __cause__ chain, or the implicit __context__)."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, cls):
            return True
        seen.add(id(err))
        err = err.__cause__ if err.__cause__ is not None else err.__context__
    return False


def _flush_after_funcs() -> None:
    """Where Go sleeps a few milliseconds "to increase the odds of seeing a
    failure" (letting the awaitDone goroutine run after a cancel), wait until
    the context callback pool has run a marker queued behind every callback a
    cancel scheduled so far."""
    ctx, cancel = dctx.with_cancel(dctx.background())
    cancel()
    ran = threading.Event()
    dctx.after_func(ctx, ran.set)
    assert ran.wait(10), "context callbacks did not run"


def _with_cancel() -> tuple[Context, Callable[[], None]]:
    return dctx.with_cancel(dctx.background())


def _cursor_db(flavor: str, coltype: str = "table") -> sql.DB:
    """The people DB with a table whose column is a cursor over people (Go's
    TestCursorFake set-up)."""
    db = new_test_db("people", flavor)
    exec_(db, f"CREATE|peoplecursor|list={coltype}")
    exec_(db, "INSERT|peoplecursor|list=people!name!age")
    return db


def _read_people_cursor(cursor: Rows) -> None:
    """Go's TestCursorFake loop: the cursor holds the 3 people, by age."""
    expected_rows = 3
    current_row = 0
    while cursor.next():
        current_row += 1
        _, n = cursor.scan(str, int)
        assert n == current_row, f"expected number(Age)={current_row}, got {n}"
    assert cursor.err() is None
    assert current_row == expected_rows, f"expected {expected_rows} rows, got {current_row} rows"


# ---------------------------------------------------------------------------
# Cursors.


def test_cursor_double_rows_pointer(flavor: str) -> None:
    """Written from UPSTREAM-DELTA.md (not in the stored sources): a cursor
    column scanned into Go's ``**Rows`` (``var cursor *Rows; rows.Scan(&cursor)``),
    which is ``Rows | None`` here, gives a working cursor."""
    db = _cursor_db(flavor)
    try:
        ctx, cancel = dctx.with_timeout(dctx.background(), 30)
        try:
            with db.query_context(ctx, "SELECT|peoplecursor|list|") as rows:
                assert rows.next(), "no rows"
                (cursor,) = rows.scan(Rows | None)
                assert isinstance(cursor, Rows), f"got {cursor!r}, want a Rows"
                with cursor:
                    _read_people_cursor(cursor)
                assert not rows.next()
                assert rows.err() is None
        finally:
            cancel()
    finally:
        close_db(db)


def test_cursor_null(flavor: str) -> None:
    """Written from UPSTREAM-DELTA.md (newer fakedb adds the "nulltable" column
    type): a NULL cursor column scans into ``Rows | None`` (Go's ``**Rows``) as
    None, is an error for a ``Rows`` destination (Go's ``*Rows``), and a
    non-NULL one still is a cursor."""
    db = new_test_db("people", flavor)
    try:
        exec_(db, "CREATE|peoplecursor|id=int32,list=nulltable")
        exec_(db, "INSERT|peoplecursor|id=?,list=?", 1, None)
        exec_(db, "INSERT|peoplecursor|id=2,list=people!name!age")
        ctx, cancel = dctx.with_timeout(dctx.background(), 30)
        try:
            with db.query_context(ctx, "SELECT|peoplecursor|list|id=?", 1) as rows:
                assert rows.next(), "no rows"
                (cursor,) = rows.scan(Rows | None)
                assert cursor is None, f"NULL cursor scanned as {cursor!r}; want None"
                assert not rows.next()
                assert rows.err() is None

            with db.query_context(ctx, "SELECT|peoplecursor|list|id=?", 1) as rows:
                assert rows.next(), "no rows"
                with pytest.raises(ScanError) as ei:
                    rows.scan(Rows)
                assert str(ei.value).startswith(
                    'sql: Scan error on column index 0, name "list": '
                ), str(ei.value)
                assert isinstance(ei.value.__cause__, ConversionError)

            with db.query_context(ctx, "SELECT|peoplecursor|list|id=?", 2) as rows:
                assert rows.next(), "no rows"
                (cursor,) = rows.scan(Rows | None)
                assert isinstance(cursor, Rows), f"got {cursor!r}, want a Rows"
                with cursor:
                    _read_people_cursor(cursor)
                assert not rows.next()
                assert rows.err() is None
        finally:
            cancel()
    finally:
        close_db(db)


def test_cursor_cancel(flavor: str) -> None:
    """Written from UPSTREAM-DELTA.md: canceling the query's context while a
    cursor column is being read closes the rows and, with them, the cursor;
    both report the context's error."""
    db = _cursor_db(flavor)
    try:
        ctx, cancel = _with_cancel()
        try:
            rows = db.query_context(ctx, "SELECT|peoplecursor|list|")
            assert rows.next(), "no rows"
            (cursor,) = rows.scan(Rows)
            assert cursor.next(), "empty cursor"
            assert cursor.scan(str, int) == ("Alice", 1)

            cancel()
            wait_for_rows_close(rows)
            wait_for_rows_close(cursor)

            assert not cursor.next(), "cursor.next() after cancel"
            assert isinstance(cursor.err(), Canceled), f"cursor.err() = {cursor.err()!r}"
            assert not rows.next(), "rows.next() after cancel"
            assert isinstance(rows.err(), Canceled), f"rows.err() = {rows.err()!r}"
            with pytest.raises(Canceled):
                cursor.scan(str, int)
            cursor.close()
            rows.close()
            wait_for_free(db, 1)
        finally:
            cancel()
    finally:
        close_db(db)


# ---------------------------------------------------------------------------
# Nullable parameters (Go's nullTestRun).


@not_basic("ColumnConverter (the NOT NULL column rejects NULL in its column converter)")
def test_generic_null_string_param(flavor: str) -> None:
    spec = NullTestSpec(
        "nullstring",
        "string",
        [
            NullTestRow(Null[str]("aqua", True), "", Null[str]("aqua", True)),
            NullTestRow(Null[str]("brown", False), "", Null[str]("", False)),
            NullTestRow("chartreuse", "", Null[str]("chartreuse", True)),
            NullTestRow(Null[str]("darkred", True), "", Null[str]("darkred", True)),
            NullTestRow(Null[str]("eel", False), "", Null[str]("", False)),
            NullTestRow("foo", Null[str]("black", False), None),
        ],
    )
    null_test_run(spec, flavor)


@not_basic("ColumnConverter (the NOT NULL column rejects NULL in its column converter)")
def test_null_uuid_param(flavor: str) -> None:
    """Written from UPSTREAM-DELTA.md (scanning into a UUID, Go 1.27; newer
    fakedb's "uuid" and "nulluuid" columns), after TestNullTimeParam."""
    u0 = uuid.UUID(int=0)
    u1 = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    u2 = uuid.UUID("f47ac10b-58cc-4372-a567-0e02b2c3d479")
    spec = NullTestSpec(
        "nulluuid",
        "uuid",
        [
            NullTestRow(Null[uuid.UUID](u1, True), u2, Null[uuid.UUID](u1, True)),
            NullTestRow(Null[uuid.UUID](u1, False), u2, Null[uuid.UUID](u0, False)),
            NullTestRow(u1, u2, Null[uuid.UUID](u1, True)),
            NullTestRow(Null[uuid.UUID](u1, True), u2, Null[uuid.UUID](u1, True)),
            NullTestRow(Null[uuid.UUID](u1, False), u2, Null[uuid.UUID](u0, False)),
            NullTestRow(u2, Null[uuid.UUID](u1, False), None),
        ],
    )
    null_test_run(spec, flavor)


# ---------------------------------------------------------------------------
# Issue 64707: argument conversion errors wrap their cause.


class _EmptyValueError(Exception):
    """errEmpty is returned when an empty value is found."""

    def __init__(self, msg: str = "empty value") -> None:
        super().__init__(msg)


class _AlwaysErrValuer:
    """A driver.Valuer whose value() always fails."""

    def value(self) -> driver.Value:
        raise _EmptyValueError()


@not_basic(
    "ExecerContext and QueryerContext (its arguments are converted only  after the statement is prepared, which fails first on the missing table)"
)
def test_driver_args_wraps_errors(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        # exec
        with pytest.raises(ConversionError) as ei:
            db.exec("INSERT|keys|dec1=?", _AlwaysErrValuer())
        assert _errors_is(ei.value, _EmptyValueError), f"errors.Is mismatch\n{ei.value!r}"
        # Ensure that error substring matching still correctly works.
        assert "empty value" in str(ei.value), str(ei.value)

        # query
        with pytest.raises(ConversionError) as ei:
            db.query("INSERT|keys|dec1=?", _AlwaysErrValuer())
        assert _errors_is(ei.value, _EmptyValueError), f"errors.Is mismatch\n{ei.value!r}"
        assert "empty value" in str(ei.value), str(ei.value)
    finally:
        close_db(db)


# ---------------------------------------------------------------------------
# Context cancels against Rows (issue 60304 and its follow-ups).


@pytest.mark.parametrize("mode", ["nocancel", "top", "bottom", "go"])
def test_context_cancel_during_raw_bytes_scan(mode: str, flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        _context_cancel_during_raw_bytes_scan(db, mode)
    finally:
        close_db(db)


# From go.dev/issue/60304
def _context_cancel_during_raw_bytes_scan(db: sql.DB, mode: str) -> None:
    exec_(db, "USE_RAWBYTES")

    # cancel used to call close asynchronously. This test checks that it waits
    # so as not to interfere with RawBytes.
    ctx, cancel = _with_cancel()
    canceler: threading.Thread | None = None
    try:
        r = db.query_context(ctx, "SELECT|people|name|")
        num_rows = 0
        sink = 0
        while r.next():
            if mode == "top" and num_rows == 2:
                # cancel between next and scan is observed by scan as Canceled.
                # Go sleeps 100ms to make it likely that the cancel is observed
                # (else the test still passes, like in "go" mode); here wait
                # until the context callback has closed the rows.
                cancel()
                wait_for_rows_close(r)
            num_rows += 1
            err: BaseException | None = None
            s: bytes = b""
            try:
                (s,) = r.scan(RawBytes)
            except Exception as e:
                err = e
            if num_rows == 3 and isinstance(err, Canceled):
                assert not r._closemu_scan_hold, "expected closemu NOT to be held"
                break
            if err is not None:
                pytest.fail(f"scan: {err!r} (closemu held: {r._closemu_scan_hold})")
            assert r._closemu_scan_hold, "expected closemu to be held"
            if mode == "bottom" and num_rows == 2:
                # cancel before next should be observed by next, exiting the
                # loop. Go sleeps 100ms to make that likely; here wait until the
                # context callback has run (it now waits for the scan's read
                # lock to close the rows).
                cancel()
                assert wait_condition(lambda: r._context_done is not None)
            if mode == "go" and num_rows == 2:
                # cancel at any future time, to catch other cases
                canceler = threading.Thread(target=cancel)
                canceler.start()
            for b in s:  # some operation reading from the raw memory
                sink = (sink + b) & 0xFF
        assert not r._closemu_scan_hold, "closemu held; should not be"

        # There are 3 rows. We canceled after reading 2 so we expect either 2 or
        # 3 depending on how the context callback is scheduled.
        if num_rows < 2:
            pytest.fail(f"got {num_rows} rows; want 2+")
        elif num_rows == 2:
            err2 = r.err()
            assert isinstance(err2, Canceled), f"unexpected error: {err2!r}"
        # else: made it to the end. This is rare, but fine. Permit it.

        r.close()
    finally:
        if canceler is not None:
            canceler.join()
        cancel()


def test_context_cancel_between_next_and_err(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        ctx, cancel = _with_cancel()
        try:
            r = db.query_context(ctx, "SELECT|people|name|")
            while r.next():
                pass
            cancel()  # wake up the context callback (Go's awaitDone goroutine)
            _flush_after_funcs()  # increase odds of seeing failure
            assert r.err() is None, f"err() = {r.err()!r}"
        finally:
            cancel()
    finally:
        close_db(db)


class _CancelingScanner:
    """A Scanner that cancels the query's context while Rows.scan runs and, before
    returning, waits until the cancel has been acted upon."""

    def __init__(self, cancel: Callable[[], None], acted: Callable[[], bool]) -> None:
        self.cancel = cancel
        self.acted = acted
        self.src: Any = None

    def scan(self, src: Any) -> None:
        self.src = src
        self.cancel()
        if not wait_condition(self.acted):
            raise AssertionError("the cancel was not acted upon during scan")


def test_context_cancel_during_scan(flavor: str) -> None:
    """Written from UPSTREAM-DELTA.md: a context canceled while scan runs.

    Without RawBytes, scan holds no lock while it converts, so the context
    closes the rows meanwhile; the scan still completes with its values, and
    then next() is False and err() reports the context's error. With a RawBytes
    destination, scan keeps the read lock (issue 60304): the context cannot
    close the rows under the reader until next().
    """
    db = new_test_db("people", flavor)
    try:
        ctx, cancel = _with_cancel()
        try:
            r = db.query_context(ctx, "SELECT|people|name|")
            assert r.next()

            def closed() -> bool:
                r._closemu.rlock()
                try:
                    return r._closed
                finally:
                    r._closemu.runlock()

            sc = _CancelingScanner(cancel, closed)
            (got,) = r.scan(sc)
            assert got is sc
            assert sc.src == b"Alice", f"scanned {sc.src!r}"
            assert not r.next(), "next() after the context was canceled"
            assert isinstance(r.err(), Canceled), f"err() = {r.err()!r}"
            r.close()
            wait_for_free(db, 1)
        finally:
            cancel()

        ctx, cancel = _with_cancel()
        try:
            r2 = db.query_context(ctx, "SELECT|people|name,age|")
            assert r2.next()
            # The context callback has run and is waiting to close the rows.
            sc2 = _CancelingScanner(cancel, lambda: r2._closemu._writers_waiting > 0)
            raw, got2 = r2.scan(RawBytes, sc2)
            assert got2 is sc2 and sc2.src == 1
            assert r2._closemu_scan_hold, "expected closemu to be held"
            assert not r2._closed, "rows closed under a RawBytes reader"
            assert bytes(raw) == b"Alice"
            assert not r2.next(), "next() after the context was canceled"
            assert not r2._closemu_scan_hold
            wait_for_rows_close(r2)
            assert isinstance(r2.err(), Canceled), f"err() = {r2.err()!r}"
            r2.close()
            wait_for_free(db, 1)
        finally:
            cancel()
    finally:
        close_db(db)


def test_nil_error_after_close(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        # This with_cancel is important; Rows contains an optimization to avoid
        # waiting on the context when the query/transaction context cannot be
        # canceled, but this test tests a bug which is caused by said waiting.
        ctx, cancel = _with_cancel()
        try:
            r = db.query_context(ctx, "SELECT|people|name|")
            r.close()
            _flush_after_funcs()  # increase odds of seeing failure
            assert r.err() is None, f"err() = {r.err()!r}"
        finally:
            cancel()
    finally:
        close_db(db)


# Issue #65201.
#
# If a RawBytes is reused across multiple queries, subsequent queries shouldn't
# overwrite driver-owned memory from previous queries.
def test_raw_bytes_reuse(flavor: str) -> None:
    db = new_test_db("people", flavor)
    try:
        exec_(db, "USE_RAWBYTES")

        # The RawBytes in this query aliases driver-owned memory.
        rows = db.query("SELECT|people|name|")
        rows.next()
        (raw,) = rows.scan(RawBytes)  # now raw is the driver-owned memory
        name1 = bytes(raw).decode()
        rows.close()

        # The RawBytes in this query does not alias driver-owned memory.
        rows = db.query("SELECT|people|age|")
        rows.next()
        (raw_age,) = rows.scan(RawBytes)  # this must not write to the driver-owned memory
        # Python: Go's caller-provided slice has no twin (bytes are immutable);
        # the converted value is a new buffer, not the driver's memory.
        assert isinstance(raw_age, RawBytes) and raw_age == b"1"
        assert raw_age is not raw
        rows.close()

        # Repeat the first query. Nothing should have changed.
        rows = db.query("SELECT|people|name|")
        rows.next()
        (raw,) = rows.scan(RawBytes)  # raw is the driver-owned memory again
        name2 = bytes(raw).decode()
        rows.close()
        assert name1 == name2, f"scan read name {name2!r}, want {name1!r}"
    finally:
        close_db(db)


# ---------------------------------------------------------------------------
# The pool.


def test_grab_conn_allocs() -> None:
    # Go skips this when optimizations are off or under the race detector; it
    # runs testing.AllocsPerRun(1000) on a zero Conn. Python can build no Conn
    # without a DB, so a real one is used; "allocates nothing" becomes: the same
    # release callable every time (no new bound method per call), no object
    # growth and no thread.
    db = new_test_db("people")
    try:
        ctx = dctx.background()
        c = db.conn(ctx)
        try:
            dc0, release0 = c._grab_conn(ctx)
            release0(None)
            threads0 = threading.active_count()
            gc.collect()
            objects0 = len(gc.get_objects())
            for _ in range(1000):
                dc, release = c._grab_conn(ctx)
                assert dc is dc0
                assert release is release0, "Conn._grab_conn made a new release function"
                release(None)
            gc.collect()
            n = len(gc.get_objects()) - objects0
            assert n < 100, f"Conn._grab_conn left {n} new objects after 1000 calls; want ~0"
            assert threading.active_count() == threads0
        finally:
            c.close()
    finally:
        close_db(db)


def test_conn_request_set() -> None:
    s = sql._ConnRequestSet()

    def want_len(want: int) -> None:
        got = len(s)
        assert got == want, f"len = {got}; want {want}"
        if want == 0:
            assert s.take_random() is None, "take_random returned result when empty"

    def reset() -> None:
        nonlocal s
        s = sql._ConnRequestSet()

    # add-delete
    reset()
    want_len(0)
    dh = s.add(sql._ConnRequest())
    want_len(1)
    assert s.delete(dh), "failed to delete"
    want_len(0)
    assert not s.delete(dh), "delete worked twice"
    want_len(0)

    # take-before-delete
    reset()
    ch1 = sql._ConnRequest()
    dh = s.add(ch1)
    want_len(1)
    got = s.take_random()
    assert got is ch1, f"wrong take; got {got!r}"
    want_len(0)
    assert not s.delete(dh), "unexpected delete after take"

    # get-take-many
    reset()
    n_items = 100
    m: dict[int, sql._ConnRequest] = {}
    in_order: list[sql._ConnRequest] = []
    back_out: list[sql._ConnRequest] = []
    for _ in range(n_items):
        c = sql._ConnRequest()
        m[id(c)] = c
        s.add(c)
        in_order.append(c)
    assert len(s) == n_items, f"len = {len(s)}; want {n_items}"
    while len(s) > 0:
        taken = s.take_random()
        assert taken is not None, "failed to take when non-empty"
        assert m.get(id(taken)) is taken, "returned item not in remaining set"
        del m[id(taken)]
        back_out.append(taken)
    assert not m, "items remain in expected map"
    # N! chance of flaking; N=100 is fine
    assert [id(c) for c in in_order] != [id(c) for c in back_out], "wasn't random"

    # close-delete
    reset()
    ch = sql._ConnRequest()
    dh = s.add(ch)
    want_len(1)
    s.close_and_remove_all()
    want_len(0)
    assert not s.delete(dh), "unexpected delete after close_and_remove_all"
    # Python: Go's closed channel is a request closed with ok False.
    assert ch.filled and not ch.ok


# ---------------------------------------------------------------------------
# Null[T].value (issues 69837 and 69728).


def test_issue69837() -> None:
    u = Null[sql.Uint64](sql.Uint64(1), True)
    val = driver.DefaultParameterConverter.convert_value(u)
    assert type(val) is int, f"type(val): got {type(val).__name__}, expected int"
    assert val == 1, f"val: got {val}, expected 1"


class _Issue69728Type:
    def __init__(self, id_: int, name: str) -> None:
        self.id = id_
        self.name = name

    def value(self) -> driver.Value:
        return f"{self.id}, {self.name}".encode()


def test_issue69728() -> None:
    for_value = Null[_Issue69728Type](_Issue69728Type(42, "foobar"), True)
    v1 = for_value.value()
    assert for_value.v is not None
    v2 = for_value.v.value()
    assert v1 == v2, f"not equal; v1 = {v1!r}, v2 = {v2!r}"


# ---------------------------------------------------------------------------
# A column converter with an unknown input count.


class _RecordingConverter:
    def __init__(self, conv: driver.ValueConverter, idx: int, calls: list[tuple[int, Any]]) -> None:
        self.conv = conv
        self.idx = idx
        self.calls = calls

    def convert_value(self, v: Any) -> driver.Value:
        self.calls.append((self.idx, v))
        return self.conv.convert_value(v)


def _named_values(args: Sequence[driver.Value]) -> list[driver.NamedValue]:
    return [driver.NamedValue("", i + 1, v) for i, v in enumerate(args)]


class _UnknownInputCountStmt:
    """A driver statement that cannot count its placeholders (num_input is -1)
    but converts its arguments column by column: the fake statement's column
    converters, recorded."""

    def __init__(self, fs: fakedb.FakeStmt, calls: list[tuple[int, Any]]) -> None:
        self.fs = fs
        self.calls = calls

    def close(self) -> None:
        self.fs.close()

    def num_input(self) -> int:
        return -1

    def column_converter(self, idx: int) -> driver.ValueConverter:
        return _RecordingConverter(self.fs.column_converter(idx), idx, self.calls)

    def exec(self, args: Sequence[driver.Value]) -> driver.Result:
        return self.exec_context(dctx.background(), _named_values(args))

    def query(self, args: Sequence[driver.Value]) -> driver.Rows:
        return self.query_context(dctx.background(), _named_values(args))

    def exec_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> driver.Result:
        return self.fs.exec_context(ctx, args)

    def query_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> driver.Rows:
        return self.fs.query_context(ctx, args)


class _UnknownInputCountConn:
    def __init__(self, fc: fakedb.FakeConn, calls: list[tuple[int, Any]]) -> None:
        self.fc = fc
        self.calls = calls
        # The pool never resets this conn's session (no SessionResetter).
        fc.skip_dirty_session = True

    def prepare(self, query: str) -> _UnknownInputCountStmt:
        return _UnknownInputCountStmt(self.fc.prepare_context(dctx.background(), query), self.calls)

    def close(self) -> None:
        self.fc.close()

    def begin(self) -> fakedb.FakeTx:
        return self.fc.begin()


class _UnknownInputCountConnector:
    def __init__(self) -> None:
        self.calls: list[tuple[int, Any]] = []

    def connect(self, ctx: Context) -> driver.Conn:
        return _UnknownInputCountConn(fakedb.fdriver.open(FAKE_DB_NAME), self.calls)

    def driver(self) -> fakedb.FakeDriver:
        return fakedb.fdriver


def test_column_converter_with_unknown_input_count() -> None:
    """Written from UPSTREAM-DELTA.md: a statement's column converter applies
    even when its input count is unknown (num_input() == -1); it used to be
    skipped for every argument then."""
    connector = _UnknownInputCountConnector()
    db = sql.open_db(connector)
    try:
        exec_(db, "WIPE")
        exec_(db, "CREATE|t|id=int32,dead=bool")
        connector.calls.clear()

        exec_(db, "INSERT|t|id=?,dead=?", 1, "true")
        assert connector.calls == [(0, 1), (1, "true")], connector.calls
        # The bool column's converter (driver.Bool) turned "true" into True;
        # without it the string would have been stored as is.
        (dead,) = db.query_row("SELECT|t|dead|id=?", 1).scan(object)
        assert dead is True, f"stored {dead!r}; want True"

        # A value the column converter rejects is an error, wrapped as Go wraps it.
        with pytest.raises(ConversionError) as ei:
            db.exec("INSERT|t|id=?,dead=?", 2, "maybe")
        assert str(ei.value).startswith("sql: converting argument $2 type: "), str(ei.value)
    finally:
        close_db(db)


# ---------------------------------------------------------------------------
# The Null types' scan (Go issue 45662).


_NOW = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
_U = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")


def _valid_nulls() -> list[tuple[Any, Any, Any, Any]]:
    """(a valid Null value, a source it cannot convert, a good source, the Null
    value that good source gives)."""
    return [
        (NullString("x", True), [1], "y", NullString("y", True)),
        (NullInt64(5, True), "abc", 7, NullInt64(7, True)),
        (NullInt32(5, True), 1 << 40, "7", NullInt32(7, True)),
        (NullInt16(5, True), 1 << 20, 7, NullInt16(7, True)),
        (NullByte(5, True), 256, b"7", NullByte(7, True)),
        (NullFloat64(1.5, True), "x", "2.5", NullFloat64(2.5, True)),
        (NullBool(True, True), "maybe", "false", NullBool(False, True)),
        (NullTime(_NOW, True), "not a time", _NOW, NullTime(_NOW, True)),
        (Null[int](5, True), "abc", 7, Null[int](7, True)),
        (Null[sql.Int32](sql.Int32(5), True), 1 << 40, 7, Null[sql.Int32](sql.Int32(7), True)),
        (Null[float](1.5, True), "x", 2, Null[float](2.0, True)),
        (Null[uuid.UUID](_U, True), "nope", str(_U), Null[uuid.UUID](_U, True)),
        (
            Null[decimal.Decimal](decimal.Decimal(1), True),
            "x",
            "1.5",
            Null[decimal.Decimal](decimal.Decimal("1.5"), True),
        ),
    ]


def test_null_type_scan_error_consistency(flavor: str) -> None:
    """Written from UPSTREAM-DELTA.md: every Null type's scan sets valid to
    whether the conversion succeeded (Go issue 45662), also when it was valid
    before; and the error reaches Rows.scan's caller naming the column."""
    for n, bad, good, want in _valid_nulls():
        with pytest.raises(ConversionError):
            n.scan(bad)
        assert n.valid is False, f"{type(n).__name__}.scan({bad!r}) failed but left valid=True"
        n.scan(good)
        assert n.valid is True, f"{type(n).__name__}.scan({good!r}) succeeded but valid=False"
        assert n == want, f"{type(n).__name__}.scan({good!r}) = {n!r}; want {want!r}"

    db = new_test_db("people", flavor)
    try:
        dest = NullInt64(5, True)
        with pytest.raises(ScanError) as ei2:
            db.query_row("SELECT|people|name|age=?", 1).scan(dest)
        assert str(ei2.value).startswith('sql: Scan error on column index 0, name "name": '), str(
            ei2.value
        )
        assert isinstance(ei2.value.__cause__, ConversionError)
        assert dest.valid is False

        dest2 = Null[int](5, True)
        rows = db.query("SELECT|people|age,name|age=?", 2)
        with rows:
            assert rows.next()
            with pytest.raises(ScanError) as ei2:
                rows.scan(int, dest2)
            assert str(ei2.value).startswith('sql: Scan error on column index 1, name "name": '), (
                str(ei2.value)
            )
            assert dest2.valid is False
    finally:
        close_db(db)


def test_null_type_scan_nil(flavor: str) -> None:
    """Written from UPSTREAM-DELTA.md: scanning NULL into a Null type, even one
    holding a valid value, gives the zero value and valid=False (Python has no
    zero datetime or bytes: None)."""
    cases: list[tuple[Any, Any]] = [
        (NullString("x", True), NullString("", False)),
        (NullInt64(5, True), NullInt64(0, False)),
        (NullInt32(5, True), NullInt32(0, False)),
        (NullInt16(5, True), NullInt16(0, False)),
        (NullByte(5, True), NullByte(0, False)),
        (NullFloat64(1.5, True), NullFloat64(0.0, False)),
        (NullBool(True, True), NullBool(False, False)),
        (NullTime(_NOW, True), NullTime(None, False)),
        (Null[str]("x", True), Null[str]("", False)),
        (Null[int](5, True), Null[int](0, False)),
        (Null[sql.Int32](sql.Int32(5), True), Null[sql.Int32](sql.Int32(0), False)),
        (Null[float](1.5, True), Null[float](0.0, False)),
        (Null[bool](True, True), Null[bool](False, False)),
        (Null[datetime.datetime](_NOW, True), Null[datetime.datetime](None, False)),
        (Null[uuid.UUID](_U, True), Null[uuid.UUID](uuid.UUID(int=0), False)),
        (
            Null[decimal.Decimal](decimal.Decimal(3), True),
            Null[decimal.Decimal](decimal.Decimal(0), False),
        ),
        (Null[bytes](b"x", True), Null[bytes](None, False)),
    ]
    for n, want in cases:
        n.scan(None)
        assert n == want, f"{type(n).__name__}.scan(None) = {n!r}; want {want!r}"

    db = new_test_db("", flavor)
    try:
        exec_(db, "CREATE|t|id=int32,s=nullstring,i=nullint64")
        exec_(db, "INSERT|t|id=?,s=?,i=?", 1, None, None)
        exec_(db, "INSERT|t|id=?,s=?,i=?", 2, "two", 2)
        s, i = NullString(), Null[int]()
        assert db.query_row("SELECT|t|s,i|id=?", 2).scan(s, i) == (s, i)
        assert s == NullString("two", True) and i == Null[int](2, True)
        assert db.query_row("SELECT|t|s,i|id=?", 1).scan(s, i) == (s, i)
        assert s == NullString("", False), f"got {s!r}"
        assert i == Null[int](0, False), f"got {i!r}"
    finally:
        close_db(db)


# ---------------------------------------------------------------------------
# RowsColumnScanner.


def test_query_rows_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Written from UPSTREAM-DELTA.md: when the driver's rows implement
    RowsColumnScanner (the "scancols" flavour), the sql layer reads rows with
    next_row and converts each column with scan_column, passing a ScanContext
    that leads back to the Rows, and never calls the driver rows' next."""
    calls = {"next": 0, "next_row": 0, "scan_column": 0}
    scan_ctx_rows: list[Any] = []
    orig_next = fakedb.ScanColsRows.next
    orig_next_row = fakedb.ScanColsRows.next_row
    orig_scan_column = fakedb.ScanColsRows.scan_column

    def next_(self: fakedb.ScanColsRows, dest: list[Any]) -> None:
        calls["next"] += 1
        orig_next(self, dest)

    def next_row(self: fakedb.ScanColsRows) -> None:
        calls["next_row"] += 1
        orig_next_row(self)

    def scan_column(
        self: fakedb.ScanColsRows, scan_ctx: driver.ScanContext, index: int, dest: Any
    ) -> Any:
        calls["scan_column"] += 1
        scan_ctx_rows.append(scan_ctx.rows)
        return orig_scan_column(self, scan_ctx, index, dest)

    monkeypatch.setattr(fakedb.ScanColsRows, "next", next_)
    monkeypatch.setattr(fakedb.ScanColsRows, "next_row", next_row)
    monkeypatch.setattr(fakedb.ScanColsRows, "scan_column", scan_column)

    db = new_test_db("people", "scancols")
    try:
        # Rows.next and Rows.scan.
        rows = db.query("SELECT|people|age,name|")
        got: list[tuple[Any, ...]] = []
        with rows:
            assert rows.columns() == ["age", "name"]
            while rows.next():
                got.append(rows.scan(int, str))
            assert rows.err() is None
        assert got == [(1, "Alice"), (2, "Bob"), (3, "Chris")]
        assert calls == {"next": 0, "next_row": 4, "scan_column": 6}, calls
        assert scan_ctx_rows and all(r is rows for r in scan_ctx_rows)

        # Row.scan.
        assert db.query_row("SELECT|people|name|age=?", 2).scan(str) == ("Bob",)
        # Iteration yields each row's values as the driver gives them.
        assert [tuple(r) for r in db.query("SELECT|people|age|")] == [(1,), (2,), (3,)]

        # Several result sets.
        rows = db.query("SELECT|people|age,name|;SELECT|people|name|")
        with rows:
            got = []
            while rows.next():
                got.append(rows.scan(int, str))
            assert rows.next_result_set(), "expected another result set"
            while rows.next():
                got.append(rows.scan(str))
            assert not rows.next_result_set()
            assert rows.err() is None
        assert got == [(1, "Alice"), (2, "Bob"), (3, "Chris"), ("Alice",), ("Bob",), ("Chris",)]

        assert calls["next"] == 0, "the sql layer called next on a RowsColumnScanner"
        assert calls["next_row"] > 4 and calls["scan_column"] > 6
    finally:
        close_db(db)
