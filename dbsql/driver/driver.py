"""The driver contract: a port of Go's database/sql/driver/driver.go.

Package driver defines the interfaces to be implemented by database drivers as
used by package :mod:`dbsql`. Most code should use :mod:`dbsql` itself.

Drivers should implement :class:`Connector` and :class:`DriverContext`. The
``Connector.connect`` and ``Driver.open`` methods should never raise
:class:`BadConnError`; it should only be raised from :class:`Validator`,
:class:`SessionResetter`, or a query method if the connection is already in an
invalid (e.g. closed) state.

All Conn implementations should implement :class:`Pinger`,
:class:`SessionResetter` and :class:`Validator`. If named parameters or context
are supported, the driver's Conn should implement :class:`ExecerContext`,
:class:`QueryerContext`, :class:`ConnPrepareContext` and :class:`ConnBeginTx`.

To support custom data types, implement :class:`NamedValueChecker`; raising
:class:`RemoveArgumentError` from ``check_named_value`` lets queries accept
per-query options as a parameter.

If multiple result sets are supported, Rows should implement
:class:`RowsNextResultSet`. A driver that knows the types of its result columns
implements the ``RowsColumnType*`` protocols. A row value may itself be a
:class:`Rows`, which represents a database cursor value.

Before a connection is returned to the pool, ``is_valid`` is called if
implemented. Before a connection is reused for another query,
``reset_session`` is called if implemented.

Python mapping: Go's ``(T, error)`` results are a return value or an exception;
``io.EOF`` from ``Rows.next`` is :class:`EOFError`; ``context.Context`` is
:class:`dbsql.context.Context`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from dbsql.driver.types import Value, ValueConverter

if TYPE_CHECKING:
    from dbsql.context import Context

__all__ = [
    "BadConnError",
    "ColumnConverter",
    "Conn",
    "ConnBeginTx",
    "ConnPrepareContext",
    "Connector",
    "Driver",
    "DriverContext",
    "ErrBadConn",
    "ErrRemoveArgument",
    "ErrSkip",
    "Execer",
    "ExecerContext",
    "IsolationLevel",
    "NamedValue",
    "NamedValueChecker",
    "Pinger",
    "Queryer",
    "QueryerContext",
    "QueryerRowContext",
    "StmtQueryRowContext",
    "RemoveArgumentError",
    "ResetSessioner",
    "Result",
    "ResultNoRows",
    "Rows",
    "RowsAffected",
    "RowsColumnScanner",
    "RowsColumnTypeDatabaseTypeName",
    "RowsColumnTypeLength",
    "RowsColumnTypeNullable",
    "RowsColumnTypePrecisionScale",
    "RowsColumnTypeScanType",
    "RowsNextBatch",
    "RowsNextResultSet",
    "ScanContext",
    "SessionResetter",
    "SkipError",
    "Stmt",
    "StmtExecContext",
    "StmtQueryContext",
    "Tx",
    "TxOptions",
    "Validator",
]


@attrs.define(slots=True)
class NamedValue:
    """Holds both the value name and value.

    If ``name`` is not empty it should be used for the parameter identifier and
    not the ordinal position; it has no symbol prefix. ``ordinal`` is the
    position of the parameter starting from one and is always set.
    """

    name: str
    ordinal: int
    value: Value


@runtime_checkable
class Driver(Protocol):
    """The interface that must be implemented by a database driver.

    Drivers may implement :class:`DriverContext` for access to contexts and to
    parse the name only once for a pool of connections.
    """

    def open(self, name: str) -> Conn:
        """Return a new connection to the database; ``name`` is driver-specific.

        The returned connection is only used by one thread at a time.
        """
        ...


@runtime_checkable
class DriverContext(Protocol):
    """A driver that can parse the name once and hand out a :class:`Connector`."""

    def open_connector(self, name: str) -> Connector:
        """Parse ``name`` in the same format that ``Driver.open`` parses it."""
        ...


@runtime_checkable
class Connector(Protocol):
    """A driver in a fixed configuration that can create any number of equivalent Conns.

    It can be passed to :func:`dbsql.open_db`. If a Connector has a ``close()``
    method, ``DB.close`` calls it and reports its error.
    """

    def connect(self, ctx: Context) -> Conn:
        """Return a connection to the database.

        The context is for dialing purposes only and should not be stored. The
        returned connection is only used by one thread at a time.
        """
        ...

    def driver(self) -> Driver:
        """Return the underlying Driver of the Connector."""
        ...


class SkipError(Exception):
    """May be raised by some optional interfaces' methods to indicate at run time
    that the fast path is unavailable and the sql package should continue as if the
    optional interface was not implemented. Only supported where explicitly documented.
    """

    def __init__(self, msg: str = "driver: skip fast-path; continue as if unimplemented") -> None:
        super().__init__(msg)


ErrSkip = SkipError


class BadConnError(Exception):
    """Raised by a driver to signal to the sql package that a driver Conn is in a
    bad state (such as the server having earlier closed the connection) and the sql
    package should retry on a new connection.

    To prevent duplicate operations, it should NOT be raised if there is a
    possibility that the database server might have performed the operation.
    """

    def __init__(self, msg: str = "driver: bad connection") -> None:
        super().__init__(msg)


ErrBadConn = BadConnError


@runtime_checkable
class Pinger(Protocol):
    """An optional interface that may be implemented by a Conn.

    If a Conn does not implement Pinger, ``DB.ping`` and ``DB.ping_context`` check
    that at least one Conn is available. If ``ping`` raises BadConnError, the
    Conn is removed from the pool.
    """

    def ping(self, ctx: Context) -> None: ...


@runtime_checkable
class Execer(Protocol):
    """Deprecated optional interface; drivers should implement ExecerContext.

    ``exec`` may raise SkipError.
    """

    def exec(self, query: str, args: Sequence[Value]) -> Result: ...


@runtime_checkable
class ExecerContext(Protocol):
    """An optional interface that may be implemented by a Conn.

    If not implemented, ``DB.exec`` first prepares a query, executes the
    statement and then closes it. ``exec_context`` may raise SkipError and must
    honor the context timeout.
    """

    def exec_context(self, ctx: Context, query: str, args: Sequence[NamedValue]) -> Result: ...


@runtime_checkable
class Queryer(Protocol):
    """Deprecated optional interface; drivers should implement QueryerContext.

    ``query`` may raise SkipError.
    """

    def query(self, query: str, args: Sequence[Value]) -> Rows: ...


@runtime_checkable
class QueryerContext(Protocol):
    """An optional interface that may be implemented by a Conn.

    If not implemented, ``DB.query`` first prepares a query, executes the
    statement and then closes it. ``query_context`` may raise SkipError and must
    honor the context timeout.
    """

    def query_context(self, ctx: Context, query: str, args: Sequence[NamedValue]) -> Rows: ...


@runtime_checkable
class QueryerRowContext(Protocol):
    """Beyond Go (dbsql only): an optional interface a Conn may implement beside
    :class:`QueryerContext`, for ``DB.query_row``, whose usual query is read for
    its first row only.

    ``query_row_context`` runs the query as ``query_context`` would, reads the
    first row of its first result set (a tuple in column order holding the values
    ``Rows.next`` would have written, or None when there is no row) and closes
    what it opened, all before it returns; errors are raised as ``query_context``,
    ``Rows.next`` or ``Rows.close`` would raise them. A row holds no cursor values
    (:class:`Rows`): those would be closed with the rows. It may raise
    :class:`SkipError`, and dbsql then runs the query through ``query_context``.
    dbsql calls it with the connection's lock held and a context that can never
    end, and keeps the connection checked out until the row is scanned, as it would
    keep the Rows.

    ``query_row_columns`` returns the names of the last such row's columns (what
    ``Rows.columns`` would have returned); dbsql calls it only to name a column in
    a scan error, before the connection's next use.
    """

    def query_row_context(
        self, ctx: Context, query: str, args: Sequence[NamedValue]
    ) -> tuple[Any, ...] | None: ...

    def query_row_columns(self) -> list[str]: ...


@runtime_checkable
class StmtQueryRowContext(Protocol):
    """Beyond Go (dbsql only): :class:`QueryerRowContext` for a Stmt, which
    ``Stmt.query_row`` uses as ``DB.query_row`` uses the Conn's (a statement of a
    transaction excepted): ``query_row_context`` runs the statement as
    ``query_context`` would and returns its first row, having closed its rows;
    ``query_row_columns`` names that row's columns."""

    def query_row_context(
        self, ctx: Context, args: Sequence[NamedValue]
    ) -> tuple[Any, ...] | None: ...

    def query_row_columns(self) -> list[str]: ...


@runtime_checkable
class Conn(Protocol):
    """A connection to a database. It is not used concurrently by multiple threads.

    Conn is assumed to be stateful.
    """

    def prepare(self, query: str) -> Stmt:
        """Return a prepared statement, bound to this connection."""
        ...

    def close(self) -> None:
        """Invalidate and potentially stop any current prepared statements and
        transactions, marking this connection as no longer in use.

        Because the sql package maintains a free pool of connections and only
        calls close when there's a surplus of idle connections, it shouldn't be
        necessary for drivers to do their own connection caching. Drivers must
        ensure all network calls made by close do not block indefinitely.
        """
        ...

    def begin(self) -> Tx:
        """Start and return a new transaction (deprecated: implement ConnBeginTx)."""
        ...


@runtime_checkable
class ConnPrepareContext(Protocol):
    """Enhances the Conn interface with context.

    The provided context is for the preparation of the statement; the statement
    must not store it.
    """

    def prepare_context(self, ctx: Context, query: str) -> Stmt: ...


class IsolationLevel(int):
    """The transaction isolation level stored in TxOptions.

    This type should be considered identical to :class:`dbsql.IsolationLevel`
    along with any values defined on it.
    """

    __slots__ = ()


@attrs.frozen(slots=True)
class TxOptions:
    """Holds the transaction options.

    This type should be considered identical to :class:`dbsql.TxOptions`.
    """

    isolation: IsolationLevel = IsolationLevel(0)
    read_only: bool = False


@runtime_checkable
class ConnBeginTx(Protocol):
    """Enhances the Conn interface with context and TxOptions.

    The context is for the starting and the committing or rolling back of the
    transaction: if it is cancelled the sql package rolls back. If a
    non-default isolation level is set that the driver does not support, an
    error must be raised; if read-only is true but unsupported, likewise.
    """

    def begin_tx(self, ctx: Context, opts: TxOptions) -> Tx: ...


@runtime_checkable
class SessionResetter(Protocol):
    """May be implemented by Conn to allow drivers to reset the session state
    associated with the connection and to signal a bad connection.

    ``reset_session`` is called prior to executing a query on the connection
    if the connection has been used before. If the driver raises BadConnError
    the connection is discarded.
    """

    def reset_session(self, ctx: Context) -> None: ...


# ResetSessioner is the name some code uses for SessionResetter.
ResetSessioner = SessionResetter


@runtime_checkable
class Validator(Protocol):
    """May be implemented by Conn to allow drivers to signal if a connection is
    valid or if it should be discarded.

    If implemented, drivers may raise the underlying error from queries, even if
    the connection should be discarded by the connection pool.
    """

    def is_valid(self) -> bool: ...


@runtime_checkable
class Result(Protocol):
    """The result of a query execution."""

    def last_insert_id(self) -> int:
        """Return the database's auto-generated ID after, for example, an
        INSERT into a table with a primary key."""
        ...

    def rows_affected(self) -> int:
        """Return the number of rows affected by the query."""
        ...


@runtime_checkable
class Stmt(Protocol):
    """A prepared statement. It is bound to a Conn and not used by multiple
    threads concurrently."""

    def close(self) -> None:
        """Close the statement.

        The sql package does not call it while queries are running
        (this changed in Go 1.1).
        """
        ...

    def num_input(self) -> int:
        """Return the number of placeholder parameters.

        If it returns >= 0, the sql package sanity checks argument counts from
        callers and reports errors to the caller before the statement's exec or
        query methods are called. It may also return -1 if the driver doesn't
        know its number of placeholders; then the sql package does not sanity
        check them.
        """
        ...

    def exec(self, args: Sequence[Value]) -> Result:
        """Execute a query that doesn't return rows (deprecated: StmtExecContext)."""
        ...

    def query(self, args: Sequence[Value]) -> Rows:
        """Execute a query that may return rows (deprecated: StmtQueryContext)."""
        ...


@runtime_checkable
class StmtExecContext(Protocol):
    """Enhances the Stmt interface by providing exec with context; it must honor
    the context timeout and return when it is cancelled."""

    def exec_context(self, ctx: Context, args: Sequence[NamedValue]) -> Result: ...


@runtime_checkable
class StmtQueryContext(Protocol):
    """Enhances the Stmt interface by providing query with context; it must honor
    the context timeout and return when it is cancelled."""

    def query_context(self, ctx: Context, args: Sequence[NamedValue]) -> Rows: ...


class RemoveArgumentError(Exception):
    """May be raised from NamedValueChecker to instruct the sql package to not
    pass the argument to the driver query interface. Raise it when accepting
    query specific options or structures that aren't SQL query arguments."""

    def __init__(self, msg: str = "driver: remove argument from query") -> None:
        super().__init__(msg)


ErrRemoveArgument = RemoveArgumentError


@runtime_checkable
class NamedValueChecker(Protocol):
    """May be optionally implemented by Conn or Stmt. It provides the driver more
    control to handle Python types beyond the default Value types.

    The sql package checks for value checkers in the following order, stopping at
    the first found match: Stmt.NamedValueChecker, Conn.NamedValueChecker,
    Stmt.ColumnConverter, DefaultParameterConverter.

    If ``check_named_value`` raises SkipError the sql package continues on to
    the next candidate. It may set ``nv.value`` to the converted value.
    """

    def check_named_value(self, nv: NamedValue) -> None: ...


@runtime_checkable
class ColumnConverter(Protocol):
    """May be optionally implemented by Stmt if the statement is aware of its own
    columns' types and can convert from any type to a driver Value.

    Deprecated: drivers should implement NamedValueChecker.
    """

    def column_converter(self, idx: int) -> ValueConverter: ...


@runtime_checkable
class Rows(Protocol):
    """An iterator over an executed query's results."""

    def columns(self) -> list[str]:
        """Return the names of the columns; an unknown name is an empty string."""
        ...

    def close(self) -> None:
        """Close the rows iterator."""
        ...

    def next(self, dest: list[Value]) -> None:
        """Populate the next row of data into ``dest``, a list as long as the columns.

        Raise EOFError when there are no more rows. ``dest`` should not be
        written to outside of ``next``.
        """
        ...


class ScanContext:
    """Carries state related to the current query through a
    ``RowsColumnScanner.scan_column`` call to :func:`dbsql.convert_assign`.

    Drivers treat it as opaque and pass it on unchanged.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: Any = None) -> None:
        # rows is the dbsql.Rows being scanned (needed to scan a cursor column).
        self.rows = rows


@runtime_checkable
class RowsColumnScanner(Rows, Protocol):
    """Extends Rows with a way for the driver to scan directly into the
    user-provided destination. It supersedes ``Rows.next``: dbsql never calls
    ``next`` on rows that implement it.
    """

    def next_row(self) -> None:
        """Advance to the next row of data; raise EOFError when there are no more."""
        ...

    def scan_column(self, scan_ctx: ScanContext, index: int, dest: Any) -> Any:
        """Convert the column at ``index`` of the current row for the destination
        ``dest`` (see ``Rows.scan``) and return the converted value.

        The driver may use :func:`dbsql.convert_assign` for the conversion.
        """
        ...


@runtime_checkable
class RowsNextBatch(Rows, Protocol):
    """Beyond Go (dbsql only): rows that can hand over up to max_rows rows at once,
    each a tuple in column order holding exactly the values ``next`` would have
    written; an empty list means the end of the current result set (where ``next``
    raises EOFError). Errors are raised as ``next`` raises them. dbsql uses either
    ``next`` or ``next_batch`` on a Rows, never both, and holds the connection's
    lock during the call, as for ``next``.
    """

    def next_batch(self, max_rows: int) -> list[tuple[Any, ...]]:
        """Return up to max_rows rows (at least one unless at the end of the result set)."""
        ...


@runtime_checkable
class RowsNextResultSet(Rows, Protocol):
    """Extends Rows with a way to signal the driver to advance to the next result set."""

    def has_next_result_set(self) -> bool:
        """Called at the end of the current result set; reports whether there is
        another result set after the current one."""
        ...

    def next_result_set(self) -> None:
        """Advance to the next result set even if there are remaining rows in the
        current one. Raise EOFError when there are no more result sets."""
        ...


@runtime_checkable
class RowsColumnTypeScanType(Rows, Protocol):
    """Returns the Python type that can be used to scan values into."""

    def column_type_scan_type(self, index: int) -> type: ...


@runtime_checkable
class RowsColumnTypeDatabaseTypeName(Rows, Protocol):
    """Returns the database system type name without the length, upper case
    (``"VARCHAR"``, ``"DECIMAL"``, ``"BIGINT"``, ``"JSONB"``, ...)."""

    def column_type_database_type_name(self, index: int) -> str: ...


@runtime_checkable
class RowsColumnTypeLength(Rows, Protocol):
    """Returns ``(length, ok)``: the length of a variable length column type, ok
    False when not variable length; ``2**63 - 1`` when limited only by the system."""

    def column_type_length(self, index: int) -> tuple[int, bool]: ...


@runtime_checkable
class RowsColumnTypeNullable(Rows, Protocol):
    """Returns ``(nullable, ok)``; ok is False when nullability is unknown."""

    def column_type_nullable(self, index: int) -> tuple[bool, bool]: ...


@runtime_checkable
class RowsColumnTypePrecisionScale(Rows, Protocol):
    """Returns ``(precision, scale, ok)`` for decimal types; ok False if not applicable."""

    def column_type_precision_scale(self, index: int) -> tuple[int, int, bool]: ...


@runtime_checkable
class Tx(Protocol):
    """A transaction."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class RowsAffected(int):
    """Implements Result for an INSERT or UPDATE operation which mutates a number of rows."""

    __slots__ = ()

    def last_insert_id(self) -> int:
        raise NotImplementedError("LastInsertId is not supported by this driver")

    def rows_affected(self) -> int:
        return int(self)


class _NoRows:
    """The Result for a DDL command (such as CREATE TABLE): both accessors fail."""

    __slots__ = ()

    def last_insert_id(self) -> int:
        raise NotImplementedError("no LastInsertId available after DDL statement")

    def rows_affected(self) -> int:
        raise NotImplementedError("no RowsAffected available after DDL statement")

    def __repr__(self) -> str:
        return "ResultNoRows"


# ResultNoRows is a pre-defined Result for drivers to return when a DDL command
# (such as a CREATE TABLE) succeeds. It raises for both last_insert_id and
# rows_affected.
ResultNoRows: Result = _NoRows()
