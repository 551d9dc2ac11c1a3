"""The test driver: a port of Go's database/sql/fakedb_test.go.

FakeDriver is a fake database that implements the :mod:`dbsql.driver` contract,
just for testing.

It speaks a query language that's semantically similar to but syntactically
different and simpler than SQL. The syntax is as follows::

    WIPE
    USE_RAWBYTES
    CREATE|<tablename>|<col>=<type>,<col>=<type>,...
      where types are: "string", "blob", [u]int{8,16,32,64}, "bool", "byte",
      "float64", "datetime", "any", "table" (a cursor), "uuid" and their
      "null..." forms ("nullstring", "nullint64", "nulltable", "nulluuid"...)
    INSERT|<tablename>|col=val,col2=val2,col3=?
    INSERT|<tablename>|col=?name            (named placeholder)
    NOSERT|<tablename>|...                  (like INSERT, but adds no row)
    SELECT|<tablename>|projectcol1,projectcol2|filtercol=?,filtercol2=?
    SELECT|<tablename>|projectcol1,projectcol2|filtercol=?param1,filtercol2=?param2

Any of these can be preceded by PANIC|<method>|, to cause the named method on
FakeStmt to panic (raise :class:`FakePanic`).

Any of these can be proceeded by WAIT|<duration>|, to cause the named method on
FakeStmt to sleep for the specified duration (a Go duration such as ``10ms``).

Multiple of these can be combined when separated with a semicolon (several
result sets).

When opening a FakeDriver's database, it starts empty with no tables. All
tables and data are stored in memory only.

The magic table ``magicquery`` (``SELECT|magicquery|op|op=?,millis=?`` sleeps
``millis`` milliseconds when ``op`` is ``"sleep"``) and the magic table
``tx_status`` (its column ``tx_status`` reads ``"autocommit"`` or
``"transaction"``) are known to the driver.

Python mapping: Go's panics are raised :class:`FakePanic` exceptions with Go's
text; errors that Go creates with ``errors.New`` are :class:`FakeDBError`;
Go's ``fakeError`` (which wraps ``driver.ErrBadConn``) is :class:`FakeError`,
chained to the wrapped error through ``__cause__``. The test hooks are module
globals read at call time, so tests patch them with ``monkeypatch.setattr`` on
this module (``fakedb.fakedb``).

Newer upstream runs the sql tests once per driver flavour: ``"default"`` (the
fake connection itself), ``"basic"`` (a bare driver Conn without any optional
interface) and ``"scancols"`` (rows implementing ``RowsColumnScanner``); see
:class:`FakeConnector` and the helpers at the end of this module that unwrap a
wrapped conn, stmt or rows to the fake one.
"""

from __future__ import annotations

import datetime
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from dbsql.convert import _format_float
from dbsql.driver import (
    BadConnError,
    Bool,
    DefaultParameterConverter,
    Int32,
    NamedValue,
    NotNull,
    Null,
    Result,
    ResultNoRows,
    RowsAffected,
    ScanContext,
    SkipError,
    Value,
    ValueConverter,
)
from dbsql.driver import Conn as DriverConn
from dbsql.driver import Driver as DriverDriver
from dbsql.driver.types import _atoi, _parse_duration
from dbsql.driver.types import _quote as _go_quote  # (cuts past 200 chars; Go's does not)
from dbsql.driver.types import _type_name as _go_type

if TYPE_CHECKING:
    from dbsql.context import Context

# The hook globals (hook_*, rows_cursor_next_hook, test_strict_close) are not
# listed: they are read at call time from this module and must be patched here.
__all__ = [
    "FLAVORS",
    "AnyTypeConverter",
    "BasicConn",
    "BasicRows",
    "BasicStmt",
    "BoundCol",
    "Dummy",
    "ErrClosed",
    "ErrFakeConnSessionDirty",
    "FakeBadConnError",
    "FakeConn",
    "FakeConnector",
    "FakeDB",
    "FakeDBError",
    "FakeDriver",
    "FakeDriverCtx",
    "FakeDriverString",
    "FakeError",
    "FakePanic",
    "FakeStmt",
    "FakeTx",
    "MemToucher",
    "Row",
    "RowsCursor",
    "ScanColsConn",
    "ScanColsRows",
    "ScanColsStmt",
    "SessionDirtyError",
    "StmtClosedError",
    "Table",
    "check_subset_types",
    "col_type_to_reflect_type",
    "contains",
    "converter_for_type",
    "errf",
    "fake_conn_of",
    "fake_stmt_of",
    "fdriver",
    "rows_cursor_of",
    "set_hook_open_err",
    "set_hook_post_close_conn",
    "set_strict_fake_conn_close",
]


# ---------------------------------------------------------------------------
# Python-only support: exceptions and Go's %v. (Go's %q, %T, float formatting,
# time.ParseDuration and strconv.Atoi are dbsql's own, imported above.)


class FakePanic(BaseException):
    """A Go panic in fakedb (``PANIC|<method>|`` or a misuse such as closing a
    statement of a closed conn). The message is Go's panic value.

    It is a BaseException, not an Exception: the sql layer drops the *errors*
    (Exceptions) of some calls, as Go ignores their returned error (a deferred
    statement close), but a panic must still propagate, as Go's does.
    """


class FakeDBError(Exception):
    """An error that Go's fakedb creates with ``errors.New`` or ``fmt.Errorf``;
    the message is Go's text."""


_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

_NIL_DEREF = "runtime error: invalid memory address or nil pointer dereference"


def _go_v(v: Any) -> str:
    """Go's %v of a driver value: ``<nil>``, ``true``/``false``, Go's float
    format, ``[65 66]`` for bytes; ``str(v)`` for anything else."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return _format_float(float(v), 64)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "[" + " ".join(str(b) for b in bytes(v)) + "]"
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, datetime.datetime):
        return str(v)
    return str(v)


# ---------------------------------------------------------------------------
# fakeDriver, fakeConnector, fakeDriverCtx, fakeDB


class FakeDriver:
    """A fake database that implements the driver contract, just for testing.

    Its counters are for tests: ``mu`` guards the three following fields.
    """

    def __init__(self) -> None:
        self.mu = threading.Lock()  # guards 3 following fields
        self.open_count = 0  # conn opens
        self.close_count = 0  # conn closes
        # wait_ch and waiting_ch make open pause: open puts on waiting_ch, then
        # waits on wait_ch (Go's channels of capacity 1).
        self.wait_ch: queue.Queue[None] | None = None
        self.waiting_ch: queue.Queue[None] | None = None
        self.dbs: dict[str, FakeDB] | None = None

    # Supports dsn forms:
    #
    #    <dbname>
    #    <dbname>;<opts>  (only currently supported option is `badConn`,
    #                      which causes driver.ErrBadConn to be returned on
    #                      every other conn.Begin())
    def open(self, dsn: str) -> FakeConn:
        """Open a connection to the fake database named by ``dsn``."""
        with _hook_open_err_mu:
            fn = hook_open_err
        if fn is not None:
            err = fn()
            if err is not None:
                raise err
        parts = dsn.split(";")
        if len(parts) < 1:
            raise FakeDBError("fakedb: no database name")
        name = parts[0]

        db = self.get_db(name)

        with self.mu:
            self.open_count += 1
        conn = FakeConn(db)

        if len(parts) >= 2 and parts[1] == "badConn":
            conn.bad = True
        wait_ch, waiting_ch = self.wait_ch, self.waiting_ch
        if wait_ch is not None and waiting_ch is not None:
            waiting_ch.put(None)
            wait_ch.get()
            self.wait_ch = None
            self.waiting_ch = None
        return conn

    def get_db(self, name: str) -> FakeDB:
        """The database named ``name``, created on first use."""
        with self.mu:
            if self.dbs is None:
                self.dbs = {}
            db = self.dbs.get(name)
            if db is None:
                db = FakeDB(name)
                self.dbs[name] = db
            return db


FLAVORS = ("basic", "default", "scancols")
"""The driver flavours the sql tests run with (newer upstream): ``"basic"``, a
bare driver Conn with no optional interface; ``"default"``, the fake conn;
``"scancols"``, whose rows implement ``RowsColumnScanner``."""


class FakeConnector:
    """A Connector for the fake driver, opening ``name`` with :data:`fdriver`.

    ``waiter`` is given to every conn (see :attr:`FakeConn.waiter`); ``closed``
    is set by :meth:`close`. ``flavor`` (newer upstream) picks what ``connect``
    returns: the FakeConn (``"default"``), a :class:`BasicConn` or a
    :class:`ScanColsConn` around it.
    """

    def __init__(
        self,
        name: str = "",
        waiter: Callable[[Context], None] | None = None,
        flavor: str = "default",
    ) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"fakedb: unknown flavor {flavor!r}; want one of {FLAVORS}")
        self.name = name
        self.waiter = waiter
        self.closed = False
        self.flavor = flavor

    def connect(self, ctx: Context) -> FakeConn | BasicConn | ScanColsConn:
        """Open a conn with :data:`fdriver` and set its waiter."""
        conn = fdriver.open(self.name)
        conn.waiter = self.waiter
        if self.flavor == "basic":
            return BasicConn(conn)
        if self.flavor == "scancols":
            return ScanColsConn(conn)
        return conn

    def driver(self) -> FakeDriver:
        """The underlying driver, :data:`fdriver`."""
        return fdriver

    def close(self) -> None:
        """Mark the connector closed; closing twice is an error."""
        if self.closed:
            raise FakeDBError("fakedb: connector is closed")
        self.closed = True


class FakeDriverCtx(FakeDriver):
    """A FakeDriver that implements DriverContext."""

    def open_connector(self, name: str) -> FakeConnector:
        """A FakeConnector for ``name``."""
        return FakeConnector(name=name)


class FakeDB:
    """One named in-memory database: its tables and flags."""

    def __init__(self, name: str) -> None:
        self.name = name

        # use_raw_bytes is set by USE_RAWBYTES: rows then hand out the stored
        # bytes themselves instead of a clone. (Go's atomic.Bool; a bool attribute
        # is read and written atomically.)
        self.use_raw_bytes = False

        self.mu = threading.Lock()
        self.tables: dict[str, Table] | None = None
        self.bad_conn = False
        self.allow_any = False

    def wipe(self) -> None:
        """Drop every table."""
        with self.mu:
            self.tables = None

    def create_table(self, name: str, column_names: list[str], column_types: list[str]) -> None:
        """Create the table ``name``; raises if it exists or the lists differ in length."""
        with self.mu:
            if self.tables is None:
                self.tables = {}
            if name in self.tables:
                raise FakeDBError(f"fakedb: table {_go_quote(name)} already exists")
            if len(column_names) != len(column_types):
                raise FakeDBError(
                    f"fakedb: create table of {_go_quote(name)} len(names) != len(types):"
                    f" {len(column_names)} vs {len(column_types)}"
                )
            self.tables[name] = Table(column_names, column_types)

    # must be called with db.mu lock held
    def table(self, table: str) -> Table | None:
        """The table named ``table``, or None (Go's ``(t, ok)``)."""
        if self.tables is None:
            return None
        return self.tables.get(table)

    def column_type(self, table: str, column: str) -> str | None:
        """The type of ``table.column``, or None if either does not exist."""
        with self.mu:
            t = self.table(table)
            if t is None:
                return None
            for n, cname in enumerate(t.colname):
                if cname == column:
                    return t.coltype[n]
            return None


class FakeError(Exception):
    """Go's fakeError: an error with a message that wraps another error.

    The wrapped error is ``__cause__`` (Go's ``Unwrap``). ``str()`` is the
    message only, which may be empty, as in Go.
    """

    def __init__(self, message: str = "", wrapped: BaseException | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.wrapped = wrapped
        self.__cause__ = wrapped

    def __str__(self) -> str:
        return self.message

    def unwrap(self) -> BaseException | None:
        """The wrapped error (Go's ``Unwrap``)."""
        return self.wrapped


class FakeBadConnError(FakeError, BadConnError):
    """A FakeError wrapping ``driver.ErrBadConn``.

    It is also a :class:`~dbsql.driver.BadConnError`, so that both
    ``isinstance(err, BadConnError)`` and a walk of the ``__cause__`` chain
    report it as Go's ``errors.Is(err, driver.ErrBadConn)`` does.
    """


def _fake_error(message: str, wrapped: BaseException) -> FakeError:
    """fakeError{Message: message, Wrapped: wrapped}."""
    if isinstance(wrapped, BadConnError):
        return FakeBadConnError(message, wrapped)
    return FakeError(message, wrapped)


class Table:
    """A table: column names and types, and its rows (guarded by ``mu``)."""

    def __init__(self, colname: list[str], coltype: list[str]) -> None:
        self.mu = threading.Lock()
        self.colname = colname
        self.coltype = coltype
        self.rows: list[Row] = []

    def column_index(self, name: str) -> int:
        """The index of column ``name``, or -1."""
        for n, nname in enumerate(self.colname):
            if name == nname:
                return n
        return -1


class Row:
    """A row of a table."""

    def __init__(self, cols: list[Value]) -> None:
        self.cols = cols  # must be same size as its table colname + coltype

    def __repr__(self) -> str:
        return f"Row({self.cols!r})"


class MemToucher(Protocol):
    """Go's memToucher (touch_mem reads & writes some memory, to help find data races)."""

    def touch_mem(self) -> None: ...


class FakeConn:
    """A connection to a FakeDB.

    Counters and flags for tests: ``num_prepare``, ``stmts_made`` and
    ``stmts_closed`` (the latter two guarded by ``mu``), ``bad`` and
    ``sticky_bad`` (see :meth:`is_bad`), ``skip_dirty_session`` and
    ``dirty_session`` (see :meth:`is_dirty_and_mark`), ``curr_tx``, ``db``
    (None once closed) and ``waiter``.
    """

    def __init__(self, db: FakeDB | None) -> None:
        self.db = db  # where to return ourselves to

        self.curr_tx: FakeTx | None = None

        # Every operation writes to line to enable the race detector
        # check for data races.
        self.line = 0

        # Stats for tests:
        self.mu = threading.Lock()
        self.stmts_made = 0
        self.stmts_closed = 0
        self.num_prepare = 0

        # bad connection tests; see is_bad()
        self.bad = False
        self.sticky_bad = False

        self.skip_dirty_session = False  # tests that use Conn should set this to true.

        # dirty_session tests reset_session, true if a query has executed
        # until reset_session is called.
        self.dirty_session = False

        # The waiter is called before each query. May be used in place of the "WAIT"
        # directive.
        self.waiter: Callable[[Context], None] | None = None

    def __repr__(self) -> str:
        return (
            f"<FakeConn db={self.db.name if self.db is not None else None!r}"
            f" curr_tx={self.curr_tx is not None} stmts_made={self.stmts_made}"
            f" stmts_closed={self.stmts_closed} num_prepare={self.num_prepare}"
            f" bad={self.bad} sticky_bad={self.sticky_bad}"
            f" dirty_session={self.dirty_session}>"
        )

    def touch_mem(self) -> None:
        """Write to ``line`` (Go's race-detector aid)."""
        self.line += 1

    def incr_stat(self, name: str) -> None:
        """Increment the counter attribute ``name`` under ``mu`` (Go's incrStat(&v))."""
        with self.mu:
            setattr(self, name, getattr(self, name) + 1)

    def _must_db(self) -> FakeDB:
        """c.db, panicking as Go's nil dereference does when the conn is closed."""
        db = self.db
        if db is None:
            raise FakePanic(_NIL_DEREF)
        return db

    def is_bad(self) -> bool:
        """Report whether the conn is bad: always when sticky_bad; every other
        call when ``bad`` (the ``;badConn`` DSN option)."""
        if self.sticky_bad:
            return True
        elif self.bad:
            if self.db is None:
                return False
            # alternate between bad conn and not bad conn
            self.db.bad_conn = not self.db.bad_conn
            return self.db.bad_conn
        else:
            return False

    def is_dirty_and_mark(self) -> bool:
        """Report whether the session is dirty, marking it dirty."""
        if self.skip_dirty_session:
            return False
        if self.curr_tx is not None:
            self.dirty_session = True
            return False
        if self.dirty_session:
            return True
        self.dirty_session = True
        return False

    def begin(self) -> FakeTx:
        """Start a transaction."""
        if self.is_bad():
            raise _fake_error("", BadConnError())
        if self.curr_tx is not None:
            raise FakeDBError("fakedb: already in a transaction")
        self.touch_mem()
        self.curr_tx = FakeTx(self)
        return self.curr_tx

    def reset_session(self, ctx: Context) -> None:
        """Clear the dirty flag and the transaction; raises a bad conn error if bad."""
        self.dirty_session = False
        self.curr_tx = None
        if self.is_bad():
            raise _fake_error("Reset Session: bad conn", BadConnError())

    def is_valid(self) -> bool:
        """Report whether the conn may return to the pool."""
        return not self.is_bad()

    def close(self) -> None:
        """Close the conn; fails while in a transaction, when already closed or
        with statements left open.

        Afterwards, as Go's deferred function does: a failure is reported to
        :data:`test_strict_close`, :data:`hook_post_close_conn` is called, and a
        success is counted in ``fdriver.close_count``.
        """
        drv = fdriver
        err = self._close()
        strict = test_strict_close
        if err is not None and strict is not None:
            strict(f"failed to close a test fakeConn: {err}")
        with _hook_post_close_conn_mu:
            fn = hook_post_close_conn
        if fn is not None:
            fn(self, err)
        if err is None:
            with drv.mu:
                drv.close_count += 1
        if err is not None:
            raise err

    def _close(self) -> FakeDBError | None:
        """The body of Go's Close: the error it returns, or None."""
        self.touch_mem()
        if self.curr_tx is not None:
            return FakeDBError("fakedb: can't close fakeConn; in a Transaction")
        if self.db is None:
            return FakeDBError("fakedb: can't close fakeConn; already closed")
        if self.stmts_made > self.stmts_closed:
            return FakeDBError("fakedb: can't close; dangling statement(s)")
        self.db = None
        return None

    def exec(self, query: str, args: Sequence[Value]) -> Result:
        """Not used: ensure that exec_context is called if available."""
        # Ensure that ExecContext is called if available.
        raise FakePanic("ExecContext was not called.")

    def exec_context(self, ctx: Context, query: str, args: Sequence[NamedValue]) -> Result:
        """Check the argument types, then raise SkipError.

        This is an optional interface, but it's implemented here just to check
        that all the args are of the proper types. SkipError is raised so the
        caller acts as if we didn't implement this at all.
        """
        check_subset_types(self._must_db().allow_any, args)
        raise SkipError()

    def query(self, query: str, args: Sequence[Value]) -> RowsCursor:
        """Not used: ensure that query_context is called if available."""
        # Ensure that ExecContext is called if available.
        raise FakePanic("QueryContext was not called.")

    def query_context(self, ctx: Context, query: str, args: Sequence[NamedValue]) -> RowsCursor:
        """Check the argument types, then raise SkipError (see :meth:`exec_context`)."""
        check_subset_types(self._must_db().allow_any, args)
        raise SkipError()

    # parts are table|selectCol1,selectCol2|whereCol=?,whereCol2=?
    # (note that where columns must always contain ? marks,
    # just a limitation for fakedb)
    def prepare_select(self, stmt: FakeStmt, parts: list[str]) -> FakeStmt:
        """Parse the rest of a SELECT into ``stmt``."""
        if len(parts) != 3:
            stmt.close()
            raise errf(f"invalid SELECT syntax with {len(parts)} parts; want 3")
        stmt.table = parts[0]

        stmt.col_name = parts[1].split(",")
        for n, colspec in enumerate(parts[2].split(",")):
            if colspec == "":
                continue
            name_val = colspec.split("=")
            if len(name_val) != 2:
                stmt.close()
                raise errf(
                    f"SELECT on table {_go_quote(stmt.table)} has invalid column spec of"
                    f" {_go_quote(colspec)} (index {n})"
                )
            column, value = name_val[0], name_val[1]
            if self._must_db().column_type(stmt.table, column) is None:
                stmt.close()
                raise errf(
                    f"SELECT on table {_go_quote(stmt.table)} references non-existent"
                    f" column {_go_quote(column)}"
                )
            if not value.startswith("?"):
                stmt.close()
                raise errf(
                    f"SELECT on table {_go_quote(stmt.table)} has pre-bound value for where"
                    f" column {_go_quote(column)}; need a question mark"
                )
            stmt.placeholders += 1
            stmt.where_col.append(BoundCol(column, value, stmt.placeholders))
        return stmt

    # parts are table|col=type,col2=type2
    def prepare_create(self, stmt: FakeStmt, parts: list[str]) -> FakeStmt:
        """Parse the rest of a CREATE into ``stmt``."""
        if len(parts) != 2:
            stmt.close()
            raise errf(f"invalid CREATE syntax with {len(parts)} parts; want 2")
        stmt.table = parts[0]
        for n, colspec in enumerate(parts[1].split(",")):
            name_type = colspec.split("=")
            if len(name_type) != 2:
                stmt.close()
                raise errf(
                    f"CREATE table {_go_quote(stmt.table)} has invalid column spec of"
                    f" {_go_quote(colspec)} (index {n})"
                )
            stmt.col_name.append(name_type[0])
            stmt.col_type.append(name_type[1])
        return stmt

    # parts are table|col=?,col2=val
    def prepare_insert(self, ctx: Context, stmt: FakeStmt, parts: list[str]) -> FakeStmt:
        """Parse the rest of an INSERT (or NOSERT) into ``stmt``."""
        if len(parts) != 2:
            stmt.close()
            raise errf(f"invalid INSERT syntax with {len(parts)} parts; want 2")
        stmt.table = parts[0]
        for n, colspec in enumerate(parts[1].split(",")):
            name_val = colspec.split("=")
            if len(name_val) != 2:
                stmt.close()
                raise errf(
                    f"INSERT table {_go_quote(stmt.table)} has invalid column spec of"
                    f" {_go_quote(colspec)} (index {n})"
                )
            column, value = name_val[0], name_val[1]
            ctype = self._must_db().column_type(stmt.table, column)
            if ctype is None:
                stmt.close()
                raise errf(
                    f"INSERT table {_go_quote(stmt.table)} references non-existent"
                    f" column {_go_quote(column)}"
                )
            stmt.col_name.append(column)

            if not value.startswith("?"):
                subset_val: Value
                # Convert to driver subset type
                if ctype == "string":
                    subset_val = value.encode()
                elif ctype == "blob":
                    subset_val = value.encode()
                elif ctype == "int32":
                    i = _atoi(value)
                    if i is None:
                        stmt.close()
                        raise errf(f"invalid conversion to int32 from {_go_quote(value)}")
                    subset_val = i  # int64 is a subset type, but not int32
                elif ctype in ("uuid", "nulluuid"):  # newer upstream
                    try:
                        subset_val = str(uuid.UUID(value))
                    except ValueError:
                        stmt.close()
                        raise errf(f"invalid conversion to uuid from {_go_quote(value)}") from None
                elif ctype in ("table", "nulltable"):  # For testing cursor reads.
                    self.skip_dirty_session = True
                    vparts = value.split("!")

                    substmt = self.prepare_context(
                        ctx, f"SELECT|{vparts[0]}|{','.join(vparts[1:])}|"
                    )
                    try:
                        cursor = substmt.query_context(ctx, [])
                    finally:
                        substmt.close()
                    subset_val = cursor
                else:
                    stmt.close()
                    raise errf(
                        f"unsupported conversion for pre-bound parameter {_go_quote(value)}"
                        f" to type {_go_quote(ctype)}"
                    )
                stmt.col_value.append(subset_val)
            else:
                stmt.placeholders += 1
                stmt.placeholder_converter.append(converter_for_type(ctype))
                stmt.col_value.append(value)
        return stmt

    def prepare(self, query: str) -> FakeStmt:
        """Not used: prepare_context is."""
        raise FakePanic("use PrepareContext")

    def prepare_context(self, ctx: Context, query: str) -> FakeStmt:
        """Prepare ``query`` (several statements separated by ``;``)."""
        self.num_prepare += 1
        if self.db is None:
            raise FakePanic(f"nil c.db; conn = {self!r}")

        prepare_bad = hook_prepare_bad_conn
        if self.sticky_bad or (prepare_bad is not None and prepare_bad()):
            raise _fake_error("Prepare: Sticky Bad", BadConnError())

        self.touch_mem()
        first_stmt: FakeStmt | None = None
        prev: FakeStmt | None = None
        for q in query.split(";"):
            parts = q.split("|")
            if len(parts) < 1:
                raise errf("empty query")
            stmt = FakeStmt(self, q)
            if first_stmt is None:
                first_stmt = stmt
            if len(parts) >= 3:
                if parts[0] == "PANIC":
                    stmt.panic = parts[1]
                    parts = parts[2:]
                elif parts[0] == "WAIT":
                    try:
                        wait = _parse_duration(parts[1])
                    except ValueError as err:
                        raise errf(
                            "expected section after WAIT to be a duration, got"
                            f" {_go_quote(parts[1])} {err}"
                        ) from None
                    parts = parts[2:]
                    stmt.wait = wait
            cmd = parts[0]
            stmt.cmd = cmd
            parts = parts[1:]

            waiter = self.waiter
            if waiter is not None:
                waiter(ctx)
                ctx_err = ctx.err()
                if ctx_err is not None:
                    raise ctx_err

            if stmt.wait > 0:
                if ctx.done().wait(stmt.wait):
                    ctx_err = ctx.err()
                    assert ctx_err is not None
                    raise ctx_err

            self.incr_stat("stmts_made")
            if cmd == "WIPE":
                pass  # Nothing
            elif cmd == "USE_RAWBYTES":
                pass  # Nothing
            elif cmd == "SELECT":
                stmt = self.prepare_select(stmt, parts)
            elif cmd == "CREATE":
                stmt = self.prepare_create(stmt, parts)
            elif cmd == "INSERT":
                stmt = self.prepare_insert(ctx, stmt, parts)
            elif cmd == "NOSERT":
                # Do all the prep-work like for an INSERT but don't actually insert the row.
                # Used for some of the concurrent tests.
                stmt = self.prepare_insert(ctx, stmt, parts)
            else:
                stmt.close()
                raise errf(f"unsupported command type {_go_quote(cmd)}")
            if prev is not None:
                prev.next = stmt
            prev = stmt
        assert first_stmt is not None
        return first_stmt


class FakeTx:
    """A transaction on a FakeConn."""

    def __init__(self, c: FakeConn) -> None:
        self.c = c

    def commit(self) -> None:
        """End the transaction; :data:`hook_commit_bad_conn` can make it fail."""
        self.c.curr_tx = None
        hook = hook_commit_bad_conn
        if hook is not None and hook():
            raise _fake_error("Commit: Hook Bad Conn", BadConnError())
        self.c.touch_mem()

    def rollback(self) -> None:
        """End the transaction; :data:`hook_rollback_bad_conn` can make it fail."""
        self.c.curr_tx = None
        hook = hook_rollback_bad_conn
        if hook is not None and hook():
            raise _fake_error("Rollback: Hook Bad Conn", BadConnError())
        self.c.touch_mem()


class BoundCol:
    """A where-clause column of a SELECT and its placeholder."""

    def __init__(self, column: str, placeholder: str, ordinal: int) -> None:
        self.column = column
        self.placeholder = placeholder
        self.ordinal = ordinal

    def __repr__(self) -> str:
        return f"BoundCol({self.column!r}, {self.placeholder!r}, {self.ordinal!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundCol):
            return NotImplemented
        return (self.column, self.placeholder, self.ordinal) == (
            other.column,
            other.placeholder,
            other.ordinal,
        )

    def __hash__(self) -> int:
        return hash((self.column, self.placeholder, self.ordinal))

    def _go_q(self) -> str:
        """Go's %q of the struct."""
        return f"{{{_go_quote(self.column)} {_go_quote(self.placeholder)} %!q(int={self.ordinal})}}"


class FakeStmt:
    """A prepared statement of a FakeConn; ``next`` chains the statements of a
    query with several result sets."""

    def __init__(self, c: FakeConn, q: str) -> None:
        self.mem_toucher: MemToucher = c
        self.c: FakeConn | None = c
        self.q = q  # just for debugging

        self.cmd = ""
        self.table = ""
        self.panic = ""
        self.wait = 0.0  # seconds

        self.next: FakeStmt | None = None  # used for returning multiple results.

        self.closed = False

        self.col_name: list[str] = []  # used by CREATE, INSERT, SELECT (selected columns)
        self.col_type: list[str] = []  # used by CREATE
        # used by INSERT (mix of strings and "?" for bound params)
        self.col_value: list[Value] = []
        self.placeholders = 0  # used by INSERT/SELECT: number of ? params

        self.where_col: list[BoundCol] = []  # used by SELECT (all placeholders)

        self.placeholder_converter: list[ValueConverter] = []  # used by INSERT

    def __repr__(self) -> str:
        return f"<FakeStmt q={self.q!r} closed={self.closed}>"

    def touch_mem(self) -> None:
        """Go's embedded memToucher."""
        self.mem_toucher.touch_mem()

    def _conn(self) -> FakeConn:
        c = self.c
        if c is None:
            raise FakePanic(_NIL_DEREF)
        return c

    def column_converter(self, idx: int) -> ValueConverter:
        """The converter of the ``idx``-th placeholder (INSERT), else the default."""
        if self.panic == "ColumnConverter":
            raise FakePanic(self.panic)
        if len(self.placeholder_converter) == 0:
            return DefaultParameterConverter
        return self.placeholder_converter[idx]

    def close(self) -> None:
        """Close the statement and the ones chained after it."""
        if self.panic == "Close":
            raise FakePanic(self.panic)
        if self.c is None:
            raise FakePanic("nil conn in fakeStmt.Close")
        if self.c.db is None:
            raise FakePanic("in fakeStmt.Close, conn's db is nil (already closed)")
        self.touch_mem()
        if not self.closed:
            self.c.incr_stat("stmts_closed")
            self.closed = True
        if self.next is not None:
            self.next.close()

    def exec(self, args: Sequence[Value]) -> Result:
        """Not used: exec_context is."""
        raise FakePanic("Using ExecContext")

    def exec_context(self, ctx: Context, args: Sequence[NamedValue]) -> Result:
        """Execute WIPE, USE_RAWBYTES, CREATE, INSERT or NOSERT."""
        if self.panic == "Exec":
            raise FakePanic(self.panic)
        if self.closed:
            raise StmtClosedError()

        c = self._conn()
        exec_bad = hook_exec_bad_conn
        if c.sticky_bad or (exec_bad is not None and exec_bad()):
            raise _fake_error("Exec: Sticky Bad", BadConnError())
        if c.is_dirty_and_mark():
            raise SessionDirtyError()

        check_subset_types(c._must_db().allow_any, args)
        self.touch_mem()

        if self.wait > 0:
            time.sleep(self.wait)

        ctx_err = ctx.err()
        if ctx_err is not None:
            raise ctx_err

        db = c._must_db()
        if self.cmd == "WIPE":
            db.wipe()
            return ResultNoRows
        if self.cmd == "USE_RAWBYTES":
            db.use_raw_bytes = True
            return ResultNoRows
        if self.cmd == "CREATE":
            db.create_table(self.table, self.col_name, self.col_type)
            return ResultNoRows
        if self.cmd == "INSERT":
            return self.exec_insert(args, True)
        if self.cmd == "NOSERT":
            # Do all the prep-work like for an INSERT but don't actually insert the row.
            # Used for some of the concurrent tests.
            return self.exec_insert(args, False)
        raise FakeDBError(
            f"fakedb: unimplemented statement Exec command type of {_go_quote(self.cmd)}"
        )

    # When do_insert is true, add the row to the table.
    # When do_insert is false do prep-work and error checking, but don't
    # actually add the row to the table.
    def exec_insert(self, args: Sequence[NamedValue], do_insert: bool) -> Result:
        """Insert a row built from the bound and pre-bound values."""
        db = self._conn()._must_db()
        if len(args) != self.placeholders:
            raise FakePanic("error in pkg db; should only get here if size is correct")
        with db.mu:
            t = db.table(self.table)
        if t is None:
            raise FakeDBError(f"fakedb: table {_go_quote(self.table)} doesn't exist")

        with t.mu:
            cols: list[Value] = []
            if do_insert:
                cols = [None] * len(t.colname)
            arg_pos = 0
            for n, colname in enumerate(self.col_name):
                colidx = t.column_index(colname)
                if colidx == -1:
                    raise FakeDBError(
                        f"fakedb: column {_go_quote(colname)} doesn't exist or dropped since"
                        " prepared statement was created"
                    )
                val: Value = None
                strvalue = self.col_value[n]
                if isinstance(strvalue, str) and strvalue.startswith("?"):
                    if strvalue == "?":
                        val = args[arg_pos].value
                    else:
                        # Assign value from argument placeholder name.
                        for a in args:
                            if a.name == strvalue[1:]:
                                val = a.value
                                break
                    arg_pos += 1
                else:
                    val = self.col_value[n]
                if do_insert:
                    cols[colidx] = val

            if do_insert:
                t.rows.append(Row(cols))
            return RowsAffected(1)

    def query(self, args: Sequence[Value]) -> RowsCursor:
        """Not used: query_context is."""
        raise FakePanic("Use QueryContext")

    def query_context(self, ctx: Context, args: Sequence[NamedValue]) -> RowsCursor:
        """Run the SELECT (and the ones chained after it) and return a cursor."""
        if self.panic == "Query":
            raise FakePanic(self.panic)
        if self.closed:
            raise StmtClosedError()

        c = self._conn()
        query_bad = hook_query_bad_conn
        if c.sticky_bad or (query_bad is not None and query_bad()):
            raise _fake_error("Query: Sticky Bad", BadConnError())
        if c.is_dirty_and_mark():
            raise SessionDirtyError()

        check_subset_types(c._must_db().allow_any, args)

        self.touch_mem()
        db = c._must_db()
        if len(args) != self.placeholders:
            raise FakePanic("error in pkg db; should only get here if size is correct")

        set_m_rows: list[list[Row]] = []
        set_columns: list[list[str]] = []
        set_col_type: list[list[str]] = []

        s = self
        while True:
            with db.mu:
                t = db.table(s.table)
            if t is None:
                raise FakeDBError(f"fakedb: table {_go_quote(s.table)} doesn't exist")

            if s.table == "magicquery":
                if (
                    len(s.where_col) == 2
                    and s.where_col[0].column == "op"
                    and s.where_col[1].column == "millis"
                ):
                    if args[0].value == "sleep":
                        millis = args[1].value
                        if type(millis) is not int:
                            raise FakePanic(
                                f"interface conversion: interface {{}} is {_go_type(millis)},"
                                " not int64"
                            )
                        time.sleep(millis / 1000)
            if s.table == "tx_status" and s.col_name[0] == "tx_status":
                tx_status = "autocommit"
                if c.curr_tx is not None:
                    tx_status = "transaction"
                return RowsCursor(
                    parent_mem=c,
                    db=db,
                    rows=[[Row([tx_status])]],
                    cols=[["tx_status"]],
                    col_type=[["string"]],
                )

            with t.mu:
                col_idx: dict[str, int] = {}  # select column name -> column index in table
                for name in s.col_name:
                    idx = t.column_index(name)
                    if idx == -1:
                        raise FakeDBError(f"fakedb: unknown column name {_go_quote(name)}")
                    col_idx[name] = idx

                mrows: list[Row] = []
                for trow in t.rows:
                    # Process the where clause, skipping non-match rows. This is lazy
                    # and just uses Go's fmt.Sprintf("%v") to test equality. Good enough
                    # for test code.
                    if not s._where_matches(t, trow, args):
                        continue
                    mrow = Row([None] * len(s.col_name))
                    for seli, name in enumerate(s.col_name):
                        mrow.cols[seli] = trow.cols[col_idx[name]]
                    mrows.append(mrow)

                col_type: list[str] = []
                for column in s.col_name:
                    col_type.append(t.coltype[t.column_index(column)])

            set_m_rows.append(mrows)
            set_columns.append(s.col_name)
            set_col_type.append(col_type)

            if s.next is None:
                break
            s = s.next

        return RowsCursor(
            parent_mem=s._conn(),
            db=db,
            rows=set_m_rows,
            cols=set_columns,
            col_type=set_col_type,
        )

    def _where_matches(self, t: Table, trow: Row, args: Sequence[NamedValue]) -> bool:
        """The where clause of Go's QueryContext (``continue rows`` is False);
        must be called with t.mu held."""
        for wcol in self.where_col:
            idx = t.column_index(wcol.column)
            if idx == -1:
                raise FakeDBError(f"fakedb: invalid where clause column {wcol._go_q()}")
            tcol = trow.cols[idx]
            if isinstance(tcol, (bytes, bytearray)):
                # lazy hack to avoid sprintf %v on a []byte
                tcol = bytes(tcol).decode("utf-8", "surrogateescape")
            arg_value: Value = None
            if wcol.placeholder == "?":
                arg_value = args[wcol.ordinal - 1].value
            else:
                # Assign arg value from placeholder name.
                for a in args:
                    if a.name == wcol.placeholder[1:]:
                        arg_value = a.value
                        break
            if _go_v(tcol) != _go_v(arg_value):
                return False
        return True

    def num_input(self) -> int:
        """The number of placeholders."""
        if self.panic == "NumInput":
            raise FakePanic(self.panic)
        return self.placeholders


fdriver: FakeDriver = FakeDriver()
"""The driver registered as "test" (``fakedb/__init__.py`` registers it on import,
as Go's ``init`` does)."""


def contains(lst: Sequence[str], y: str) -> bool:
    """Report whether ``y`` is in ``lst``."""
    return any(x == y for x in lst)


class Dummy:
    """Go's ``Dummy{driver.Driver}``: a driver embedding a (nil) Driver.

    Calling :meth:`open` with no embedded driver panics, as Go's nil interface
    call does.
    """

    def __init__(self, embedded: DriverDriver | None = None) -> None:
        self.embedded = embedded

    def open(self, name: str) -> DriverConn:
        """The embedded driver's open."""
        if self.embedded is None:
            raise FakePanic(_NIL_DEREF)
        return self.embedded.open(name)


# TestDrivers is test_drivers in tests/test_fakedb.py.

# hook to simulate connection failures
hook_open_err: Callable[[], BaseException | None] | None = None
_hook_open_err_mu = threading.Lock()  # guards hook_open_err, as Go's embedded mutex


def set_hook_open_err(fn: Callable[[], BaseException | None] | None) -> None:
    """Set :data:`hook_open_err`: FakeDriver.open raises what ``fn`` returns."""
    global hook_open_err
    with _hook_open_err_mu:
        hook_open_err = fn


hook_post_close_conn: Callable[[FakeConn, BaseException | None], None] | None = None
_hook_post_close_conn_mu = threading.Lock()  # guards hook_post_close_conn


def set_hook_post_close_conn(fn: Callable[[FakeConn, BaseException | None], None] | None) -> None:
    """Set :data:`hook_post_close_conn`, called with the conn and the error (or
    None) after every FakeConn.close (Go's setHookpostCloseConn)."""
    global hook_post_close_conn
    with _hook_post_close_conn_mu:
        hook_post_close_conn = fn


test_strict_close: Callable[[str], None] | None = None
"""Reports a failed FakeConn.close (Go's testStrictClose *testing.T)."""


def set_strict_fake_conn_close(fail: Callable[[str], None] | None) -> None:
    """Set the callable (e.g. ``pytest.fail``) that is told when FakeConn.close
    fails to close. If None, the check is disabled."""
    global test_strict_close
    test_strict_close = fail


def check_subset_types(allow_any: bool, args: Sequence[NamedValue]) -> None:
    """Raise unless every argument is of a driver subset type (int that fits 64
    bits, float, bool, None, bytes, str, datetime), unless ``allow_any``."""
    for arg in args:
        v = arg.value
        t = type(v)
        if v is None or t in (float, bool, bytes, str, datetime.datetime):
            continue
        if t is int and _INT64_MIN <= v <= _INT64_MAX:
            continue
        if not allow_any:
            raise FakeDBError(
                f"fakedb: invalid argument ordinal {arg.ordinal}: {_go_v(v)}, type {_go_type(v)}"
            )


def errf(msg: str) -> FakeDBError:
    """An error with ``"fakedb: "`` prepended (the caller formats ``msg``)."""
    return FakeDBError("fakedb: " + msg)


# hook to simulate broken connections
hook_prepare_bad_conn: Callable[[], bool] | None = None


class StmtClosedError(FakeDBError):
    """Raised by a closed FakeStmt (Go's errClosed)."""

    def __init__(self, msg: str = "fakedb: statement has been closed") -> None:
        super().__init__(msg)


ErrClosed = StmtClosedError

# hook to simulate broken connections
hook_exec_bad_conn: Callable[[], bool] | None = None


class SessionDirtyError(FakeDBError):
    """Raised when a query runs on a session that was not reset (Go's
    errFakeConnSessionDirty)."""

    def __init__(self, msg: str = "fakedb: session is dirty") -> None:
        super().__init__(msg)


ErrFakeConnSessionDirty = SessionDirtyError

# hook to simulate broken connections
hook_query_bad_conn: Callable[[], bool] | None = None

# hook to simulate broken connections
hook_commit_bad_conn: Callable[[], bool] | None = None

# hook to simulate broken connections
hook_rollback_bad_conn: Callable[[], bool] | None = None


class RowsCursor:
    """The rows of a query: one list of rows per result set.

    For tests: ``err_pos`` and ``err`` make ``next`` raise ``err`` at row
    ``err_pos``; ``close_err`` is raised by ``close``; ``closed`` tells whether
    it was closed.
    """

    def __init__(
        self,
        parent_mem: MemToucher,
        rows: list[list[Row]],
        cols: list[list[str]],
        col_type: list[list[str]],
        db: FakeDB | None = None,
    ) -> None:
        self.db = db
        self.parent_mem = parent_mem
        self.cols = cols
        self.col_type = col_type
        self.pos_set = 0
        self.pos_row = -1
        self.rows = rows
        self.closed = False

        # err_pos and err are for making next raise early with an error.
        self.err_pos = -1
        self.err: BaseException | None = None

        # a clone of byte values to give out to clients, indexed by the
        # original value's identity (the original is kept alive alongside).
        self.bytes_clone: dict[int, tuple[bytes | bytearray, bytes]] | None = None

        # Every operation writes to line to enable the race detector
        # check for data races.
        # This is separate from the FakeConn.line to allow for drivers that
        # can start multiple queries on the same transaction at the same time.
        self.line = 0

        # close_err is raised by close.
        self.close_err: BaseException | None = None

    def __repr__(self) -> str:
        return f"<RowsCursor cols={self.cols!r} pos_set={self.pos_set} pos_row={self.pos_row}>"

    def touch_mem(self) -> None:
        """Write to ``line`` and the parent's (Go's race-detector aid)."""
        self.parent_mem.touch_mem()
        self.line += 1

    def close(self) -> None:
        """Close the cursor; raises ``close_err`` if set."""
        self.touch_mem()
        self.parent_mem.touch_mem()
        self.closed = True
        if self.close_err is not None:
            raise self.close_err

    def columns(self) -> list[str]:
        """The column names of the current result set."""
        return self.cols[self.pos_set]

    def column_type_scan_type(self, index: int) -> Any:
        """The Python type to scan column ``index`` into."""
        return col_type_to_reflect_type(self.col_type[self.pos_set][index])

    def next(self, dest: list[Value]) -> None:
        """Fill ``dest`` with the next row; raises EOFError at the end."""
        hook = rows_cursor_next_hook
        if hook is not None:
            hook(dest)
            return

        if self.closed:
            raise FakeDBError("fakedb: cursor is closed")
        self.touch_mem()
        self.pos_row += 1
        if self.pos_row == self.err_pos:
            if self.err is not None:
                raise self.err
            return
        if self.pos_row >= len(self.rows[self.pos_set]):
            raise EOFError()  # per interface spec
        db = self.db
        for i, v in enumerate(self.rows[self.pos_set][self.pos_row].cols):
            # TODO(bradfitz): convert to subset types? naah, I
            # think the subset types should only be input to
            # driver, but the sql package should be able to handle
            # a wider range of types coming out of drivers. all
            # for ease of drivers, and to prevent drivers from
            # messing up conversions or doing them differently.
            dest[i] = v

            if isinstance(v, (bytes, bytearray)) and not (db is not None and db.use_raw_bytes):
                if self.bytes_clone is None:
                    self.bytes_clone = {}
                entry = self.bytes_clone.get(id(v))
                if entry is None or entry[0] is not v:
                    entry = (v, bytes(memoryview(v)))
                    self.bytes_clone[id(v)] = entry
                dest[i] = entry[1]

    def has_next_result_set(self) -> bool:
        """Report whether another result set follows the current one."""
        self.touch_mem()
        return self.pos_set < len(self.rows) - 1

    def next_result_set(self) -> None:
        """Advance to the next result set; raises EOFError when there is none."""
        self.touch_mem()
        if self.has_next_result_set():
            self.pos_set += 1
            self.pos_row = -1
            return
        raise EOFError()  # Per interface spec.


rows_cursor_next_hook: Callable[[list[Value]], None] | None = None
"""If set, RowsCursor.next calls it instead (it may raise, e.g. EOFError)."""


class FakeDriverString:
    """Like driver.String, but with Go's %v for other values, like
    DefaultValueConverter. (Go's pointer indirection has no Python twin: None
    is handled by the Null/NotNull wrapper.)

    This could be surprising behavior to retroactively apply to driver.String
    now that Go1 is out, but this is convenient for TestPointerParamsAndScans.
    """

    def convert_value(self, v: Any) -> Value:
        """str and bytes unchanged, None as None, anything else as Go's %v."""
        if isinstance(v, (str, bytes)):
            return v
        if isinstance(v, bytearray):
            return bytes(v)
        if v is None:
            return None
        return _go_v(v)


class AnyTypeConverter:
    """A converter that lets every value through."""

    def convert_value(self, v: Any) -> Value:
        """``v`` itself."""
        return v


class _UUIDConverter:
    """Newer upstream's converter for "uuid" columns: a uuid.UUID is stored in
    its text form; other values go through DefaultParameterConverter."""

    def convert_value(self, v: Any) -> Value:
        """``str(v)`` for a uuid.UUID, else the default conversion."""
        if isinstance(v, uuid.UUID):
            return str(v)
        return DefaultParameterConverter.convert_value(v)


def converter_for_type(typ: str) -> ValueConverter:
    """The placeholder converter for a column of type ``typ``."""
    if typ == "bool":
        return Bool
    if typ == "nullbool":
        return Null(Bool)
    if typ in ("byte", "int16"):
        return NotNull(DefaultParameterConverter)
    if typ == "int32":
        return Int32
    if typ in ("nullbyte", "nullint32", "nullint16"):
        return Null(DefaultParameterConverter)
    if typ == "string":
        return NotNull(FakeDriverString())
    if typ == "nullstring":
        return Null(FakeDriverString())
    if typ == "int64":
        # TODO(coopernurse): add type-specific converter
        return NotNull(DefaultParameterConverter)
    if typ == "nullint64":
        # TODO(coopernurse): add type-specific converter
        return Null(DefaultParameterConverter)
    if typ == "float64":
        # TODO(coopernurse): add type-specific converter
        return NotNull(DefaultParameterConverter)
    if typ == "nullfloat64":
        # TODO(coopernurse): add type-specific converter
        return Null(DefaultParameterConverter)
    if typ == "datetime":
        return NotNull(DefaultParameterConverter)
    if typ == "nulldatetime":
        return Null(DefaultParameterConverter)
    if typ == "uuid":
        return NotNull(_UUIDConverter())
    if typ == "nulluuid":
        return Null(_UUIDConverter())
    if typ == "table":
        return NotNull(AnyTypeConverter())
    if typ == "nulltable":
        return Null(AnyTypeConverter())
    if typ == "any":
        return AnyTypeConverter()
    raise FakePanic("invalid fakedb column type of " + typ)


def col_type_to_reflect_type(typ: str) -> Any:
    """The Python type to scan a column of type ``typ`` into (Go's reflect.Type)."""
    from dbsql import sql

    if typ == "bool":
        return bool
    if typ == "nullbool":
        return sql.NullBool
    if typ == "byte":
        return sql.Uint8
    if typ == "nullbyte":
        return sql.NullByte
    if typ == "int16":
        return sql.Int16
    if typ == "nullint16":
        return sql.NullInt16
    if typ == "int32":
        return sql.Int32
    if typ == "nullint32":
        return sql.NullInt32
    if typ == "string":
        return str
    if typ == "nullstring":
        return sql.NullString
    if typ == "int64":
        return int
    if typ == "nullint64":
        return sql.NullInt64
    if typ == "float64":
        return float
    if typ == "nullfloat64":
        return sql.NullFloat64
    if typ == "datetime":
        return datetime.datetime
    if typ == "nulldatetime":
        return sql.NullTime
    if typ == "uuid":
        return uuid.UUID
    if typ == "nulluuid":
        return sql.Null[uuid.UUID]
    if typ == "table":
        return sql.Rows
    if typ == "nulltable":
        return sql.Rows | None
    if typ == "any":
        return object
    raise FakePanic("invalid fakedb column type of " + typ)


# ---------------------------------------------------------------------------
# Driver flavours (newer upstream) and the helpers that unwrap a wrapped conn,
# stmt or rows to the fake one.


def _background() -> Context:
    from dbsql.context import background

    return background()


def _named(args: Sequence[Value]) -> list[NamedValue]:
    """Positional values as NamedValues (ordinal from 1)."""
    return [NamedValue("", i + 1, v) for i, v in enumerate(args)]


class BasicConn:
    """The "basic" flavour: a bare driver Conn around a FakeConn, with no
    optional interface (no context methods, no session reset, no validator).

    Its statements run the fake statement's context methods with a background
    context. As the pool never resets its session, the FakeConn skips the
    dirty-session check.
    """

    def __init__(self, fc: FakeConn) -> None:
        self.fc = fc
        fc.skip_dirty_session = True

    def __repr__(self) -> str:
        return f"<BasicConn {self.fc!r}>"

    def prepare(self, query: str) -> BasicStmt:
        """Prepare ``query`` on the FakeConn."""
        return BasicStmt(self.fc.prepare_context(_background(), query))

    def close(self) -> None:
        """Close the FakeConn."""
        self.fc.close()

    def begin(self) -> FakeTx:
        """Begin a transaction on the FakeConn."""
        return self.fc.begin()


class BasicStmt:
    """The statement of a :class:`BasicConn`: close, num_input, exec and query only."""

    def __init__(self, fs: FakeStmt) -> None:
        self.fs = fs

    def __repr__(self) -> str:
        return f"<BasicStmt {self.fs!r}>"

    def close(self) -> None:
        """Close the FakeStmt."""
        self.fs.close()

    def num_input(self) -> int:
        """The FakeStmt's number of placeholders."""
        return self.fs.num_input()

    def exec(self, args: Sequence[Value]) -> Result:
        """Execute with positional arguments."""
        return self.fs.exec_context(_background(), _named(args))

    def query(self, args: Sequence[Value]) -> BasicRows:
        """Query with positional arguments."""
        return BasicRows(self.fs.query_context(_background(), _named(args)))


class BasicRows:
    """The rows of a :class:`BasicStmt`: columns, close and next only."""

    def __init__(self, rc: RowsCursor) -> None:
        self.rc = rc

    def __repr__(self) -> str:
        return f"<BasicRows {self.rc!r}>"

    def columns(self) -> list[str]:
        """The cursor's column names."""
        return self.rc.columns()

    def close(self) -> None:
        """Close the cursor."""
        self.rc.close()

    def next(self, dest: list[Value]) -> None:
        """The cursor's next row."""
        self.rc.next(dest)


class ScanColsConn:
    """The "scancols" flavour: a FakeConn whose statements return
    :class:`ScanColsRows`; every other method is the FakeConn's."""

    def __init__(self, fc: FakeConn) -> None:
        self.fc = fc

    def __repr__(self) -> str:
        return f"<ScanColsConn {self.fc!r}>"

    def begin(self) -> FakeTx:
        """FakeConn.begin."""
        return self.fc.begin()

    def reset_session(self, ctx: Context) -> None:
        """FakeConn.reset_session."""
        self.fc.reset_session(ctx)

    def is_valid(self) -> bool:
        """FakeConn.is_valid."""
        return self.fc.is_valid()

    def close(self) -> None:
        """FakeConn.close."""
        self.fc.close()

    def exec(self, query: str, args: Sequence[Value]) -> Result:
        """FakeConn.exec (panics)."""
        return self.fc.exec(query, args)

    def exec_context(self, ctx: Context, query: str, args: Sequence[NamedValue]) -> Result:
        """FakeConn.exec_context."""
        return self.fc.exec_context(ctx, query, args)

    def query(self, query: str, args: Sequence[Value]) -> ScanColsRows:
        """FakeConn.query (panics)."""
        return ScanColsRows(self.fc.query(query, args))

    def query_context(self, ctx: Context, query: str, args: Sequence[NamedValue]) -> ScanColsRows:
        """FakeConn.query_context."""
        return ScanColsRows(self.fc.query_context(ctx, query, args))

    def prepare(self, query: str) -> ScanColsStmt:
        """FakeConn.prepare (panics)."""
        return ScanColsStmt(self.fc.prepare(query))

    def prepare_context(self, ctx: Context, query: str) -> ScanColsStmt:
        """FakeConn.prepare_context, its statement wrapped."""
        return ScanColsStmt(self.fc.prepare_context(ctx, query))


class ScanColsStmt:
    """The statement of a :class:`ScanColsConn`: a FakeStmt whose query
    methods return :class:`ScanColsRows`."""

    def __init__(self, fs: FakeStmt) -> None:
        self.fs = fs

    def __repr__(self) -> str:
        return f"<ScanColsStmt {self.fs!r}>"

    def column_converter(self, idx: int) -> ValueConverter:
        """FakeStmt.column_converter."""
        return self.fs.column_converter(idx)

    def close(self) -> None:
        """FakeStmt.close."""
        self.fs.close()

    def num_input(self) -> int:
        """FakeStmt.num_input."""
        return self.fs.num_input()

    def exec(self, args: Sequence[Value]) -> Result:
        """FakeStmt.exec (panics)."""
        return self.fs.exec(args)

    def exec_context(self, ctx: Context, args: Sequence[NamedValue]) -> Result:
        """FakeStmt.exec_context."""
        return self.fs.exec_context(ctx, args)

    def query(self, args: Sequence[Value]) -> ScanColsRows:
        """FakeStmt.query (panics)."""
        return ScanColsRows(self.fs.query(args))

    def query_context(self, ctx: Context, args: Sequence[NamedValue]) -> ScanColsRows:
        """FakeStmt.query_context, its cursor wrapped."""
        return ScanColsRows(self.fs.query_context(ctx, args))


class ScanColsRows:
    """A RowsCursor that implements ``RowsColumnScanner``: ``next_row`` reads
    the next row and ``scan_column`` converts one of its columns with
    :func:`dbsql.convert.convert_assign`. The sql layer must never call
    ``next`` on it: that panics.
    """

    def __init__(self, rc: RowsCursor) -> None:
        self.rc = rc
        self.row: list[Value] | None = None  # the current row, read by next_row

    def __repr__(self) -> str:
        return f"<ScanColsRows {self.rc!r}>"

    def columns(self) -> list[str]:
        """RowsCursor.columns."""
        return self.rc.columns()

    def close(self) -> None:
        """RowsCursor.close."""
        self.rc.close()

    def column_type_scan_type(self, index: int) -> Any:
        """RowsCursor.column_type_scan_type."""
        return self.rc.column_type_scan_type(index)

    def next(self, dest: list[Value]) -> None:
        """Never called on a RowsColumnScanner: panics."""
        raise FakePanic("fakedb: Next called on rows that implement RowsColumnScanner")

    def next_row(self) -> None:
        """Advance to the next row; raises EOFError at the end."""
        self.row = None
        dest: list[Value] = [None] * len(self.rc.columns())
        self.rc.next(dest)
        self.row = dest

    def scan_column(self, scan_ctx: ScanContext, index: int, dest: Any) -> Any:
        """Convert column ``index`` of the current row for ``dest``."""
        from dbsql.convert import convert_assign

        if self.row is None:
            raise FakeDBError("fakedb: ScanColumn called without NextRow")
        return convert_assign(scan_ctx, dest, self.row[index])

    def has_next_result_set(self) -> bool:
        """RowsCursor.has_next_result_set."""
        return self.rc.has_next_result_set()

    def next_result_set(self) -> None:
        """RowsCursor.next_result_set."""
        self.row = None
        self.rc.next_result_set()


def fake_conn_of(ci: object) -> FakeConn:
    """The FakeConn of a driver conn of any flavour (Go's ``ci.(*fakeConn)``)."""
    if isinstance(ci, FakeConn):
        return ci
    if isinstance(ci, (BasicConn, ScanColsConn)):
        return ci.fc
    raise TypeError(f"fakedb: {_go_type(ci)} is not a fake conn")


def fake_stmt_of(si: object) -> FakeStmt:
    """The FakeStmt of a driver stmt of any flavour (Go's ``si.(*fakeStmt)``)."""
    if isinstance(si, FakeStmt):
        return si
    if isinstance(si, (BasicStmt, ScanColsStmt)):
        return si.fs
    raise TypeError(f"fakedb: {_go_type(si)} is not a fake stmt")


def rows_cursor_of(rowsi: object) -> RowsCursor:
    """The RowsCursor of driver rows of any flavour (Go's ``rowsi.(*rowsCursor)``)."""
    if isinstance(rowsi, RowsCursor):
        return rowsi
    if isinstance(rowsi, (BasicRows, ScanColsRows)):
        return rowsi.rc
    raise TypeError(f"fakedb: {_go_type(rowsi)} is not a fake rows cursor")
