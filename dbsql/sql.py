"""Package sql provides a generic interface around SQL (or SQL-like) databases:
a port of Go's database/sql/sql.go.

The sql package must be used in conjunction with a database driver (see
:mod:`dbsql.driver` for the contract a driver implements and :func:`register`).

Drivers that do not support context cancellation will not return until after
the query is completed.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import logging
import os
import struct
import threading
import time
import traceback
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from random import random as _random
from typing import Any, ClassVar, Generic, Protocol, TypeVar, get_args, runtime_checkable

import attrs

from dbsql import context as _ctx
from dbsql import driver
from dbsql.context import Context
from dbsql.ctxutil import (
    _ctx_driver_begin,
    _ctx_driver_exec,
    _ctx_driver_prepare,
    _ctx_driver_query,
    _ctx_driver_stmt_exec,
    _ctx_driver_stmt_query,
)
from dbsql.driver.types import _quote

__all__ = [
    "DB",
    "LEVEL_DEFAULT",
    "LEVEL_LINEARIZABLE",
    "LEVEL_READ_COMMITTED",
    "LEVEL_READ_UNCOMMITTED",
    "LEVEL_REPEATABLE_READ",
    "LEVEL_SERIALIZABLE",
    "LEVEL_SNAPSHOT",
    "LEVEL_WRITE_COMMITTED",
    "ColumnType",
    "Conn",
    "ConnDoneError",
    "ConversionError",
    "DBClosedError",
    "DBStats",
    "ErrConnDone",
    "ErrNoRows",
    "ErrTxDone",
    "Error",
    "Float32",
    "Int16",
    "Int32",
    "Int64",
    "Int8",
    "IsolationLevel",
    "NamedArg",
    "NoRowsError",
    "Null",
    "NullBool",
    "NullByte",
    "NullFloat64",
    "NullInt16",
    "NullInt32",
    "NullInt64",
    "NullString",
    "NullTime",
    "Out",
    "RawBytes",
    "Ref",
    "Result",
    "Row",
    "Rows",
    "RowsClosedError",
    "ScanError",
    "Scanner",
    "Stmt",
    "StmtClosedError",
    "Tx",
    "TxDoneError",
    "TxOptions",
    "Uint16",
    "Uint32",
    "Uint64",
    "Uint8",
    "convert_assign",
    "drivers",
    "named",
    "open",
    "open_db",
    "register",
]

T = TypeVar("T")

_drivers_mu = threading.Lock()
_drivers: dict[str, driver.Driver] = {}


def register(name: str, driver: driver.Driver | None) -> None:
    """Make a database driver available by the provided name.

    If register is called twice with the same name, with an empty name, or if
    driver is None, it raises ValueError (Go panics).
    """
    with _drivers_mu:
        if driver is None:
            raise ValueError("sql: Register driver is nil")
        if name == "":
            raise ValueError("sql: Driver name is empty")
        if name in _drivers:
            raise ValueError("sql: Register called twice for driver " + name)
        _drivers[name] = driver


def _unregister_all_drivers() -> None:
    with _drivers_mu:
        # For tests.
        _drivers.clear()


def drivers() -> list[str]:
    """Return a sorted list of the names of the registered drivers."""
    with _drivers_mu:
        return sorted(_drivers)


@attrs.frozen(kw_only=True)
class NamedArg:
    """A named argument. NamedArg values may be used as arguments to
    ``DB.query`` or ``DB.exec`` and bind to the corresponding named parameter
    in the SQL statement.

    For a more concise way to create NamedArg values, see :func:`named`.
    As Go's ``_NamedFieldsRequired``, the fields must be passed by keyword.
    """

    # name is the name of the parameter placeholder. If empty, the ordinal
    # position in the argument list will be used. It must omit any symbol
    # prefix.
    name: str
    # value is the value of the parameter. It may be assigned the same value
    # types as the query arguments.
    value: Any


def named(name: str, value: Any) -> NamedArg:
    """A more concise way to create NamedArg values.

    Example::

        db.exec_context(ctx, '''
            delete from Invoice
            where
                TimeCreated < @end
                and TimeCreated >= @start;''',
            dbsql.named("start", start_time),
            dbsql.named("end", end_time),
        )
    """
    if not isinstance(name, str):
        raise TypeError(f"sql: named: name must be a str, not {type(name).__name__}")
    return NamedArg(name=name, value=value)


_ISOLATION_LEVEL_NAMES = (
    "Default",
    "Read Uncommitted",
    "Read Committed",
    "Write Committed",
    "Repeatable Read",
    "Snapshot",
    "Serializable",
    "Linearizable",
)


class IsolationLevel(enum.IntEnum):
    """The transaction isolation level used in :class:`TxOptions`.

    Various isolation levels that drivers may support in ``DB.begin_tx``. If a
    driver does not support a given isolation level an error may be raised. See
    https://en.wikipedia.org/wiki/Isolation_(database_systems)#Isolation_levels.

    ``str()`` gives Go's ``String()`` text; any other int is accepted as
    ``IsolationLevel(n)`` and prints as ``"IsolationLevel(n)"``.
    """

    LEVEL_DEFAULT = 0
    LEVEL_READ_UNCOMMITTED = 1
    LEVEL_READ_COMMITTED = 2
    LEVEL_WRITE_COMMITTED = 3
    LEVEL_REPEATABLE_READ = 4
    LEVEL_SNAPSHOT = 5
    LEVEL_SERIALIZABLE = 6
    LEVEL_LINEARIZABLE = 7

    @classmethod
    def _missing_(cls, value: object) -> IsolationLevel | None:
        # Go's IsolationLevel is an int: any value is a level, printed by number.
        if isinstance(value, int) and not isinstance(value, bool):
            member = int.__new__(cls, value)
            member._name_ = f"IsolationLevel({value})"
            member._value_ = value
            return member
        return None

    def __str__(self) -> str:
        """Return the name of the transaction isolation level (Go's String)."""
        i = int(self)
        if 0 <= i < len(_ISOLATION_LEVEL_NAMES):
            return _ISOLATION_LEVEL_NAMES[i]
        return "IsolationLevel(" + str(i) + ")"

    def __format__(self, format_spec: str) -> str:
        if format_spec == "":
            return str(self)
        return int.__format__(int(self), format_spec)


LEVEL_DEFAULT = IsolationLevel.LEVEL_DEFAULT
LEVEL_READ_UNCOMMITTED = IsolationLevel.LEVEL_READ_UNCOMMITTED
LEVEL_READ_COMMITTED = IsolationLevel.LEVEL_READ_COMMITTED
LEVEL_WRITE_COMMITTED = IsolationLevel.LEVEL_WRITE_COMMITTED
LEVEL_REPEATABLE_READ = IsolationLevel.LEVEL_REPEATABLE_READ
LEVEL_SNAPSHOT = IsolationLevel.LEVEL_SNAPSHOT
LEVEL_SERIALIZABLE = IsolationLevel.LEVEL_SERIALIZABLE
LEVEL_LINEARIZABLE = IsolationLevel.LEVEL_LINEARIZABLE


@attrs.frozen
class TxOptions:
    """Holds the transaction options to be used in ``DB.begin_tx``."""

    # isolation is the transaction isolation level. If zero, the driver or
    # database's default level is used.
    isolation: IsolationLevel = attrs.field(default=LEVEL_DEFAULT, converter=IsolationLevel)
    read_only: bool = False


class RawBytes(bytes):
    """A bytes value that holds a reference to memory owned by the database
    itself (by the Rows being scanned).

    After a ``Rows.scan`` into RawBytes, the value is only valid until the next
    call to ``Rows.next``, ``Rows.scan`` or ``Rows.close``. Scanning a ``bytes``
    column into RawBytes returns the driver's very bytes object, without a copy
    (Python bytes are immutable, so the value stays readable, but the contract
    is Go's: do not keep it past the next call).
    """

    __slots__ = ()


@attrs.define
class NullString:
    """A str that may be null. NullString implements the :class:`Scanner`
    interface so it can be used as a scan destination::

        s = db.query_row("SELECT name FROM foo WHERE id=?", id).scan(NullString())[0]
        if s.valid:
            ...  # use s.string
        else:
            ...  # NULL value
    """

    string: str = ""
    valid: bool = False  # valid is True if string is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.string, self.valid = "", False
            return
        try:
            self.string = _convert_assign(str, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return self.string


@attrs.define
class NullInt64:
    """An int64 that may be null. NullInt64 implements the :class:`Scanner`
    interface so it can be used as a scan destination, similar to NullString."""

    int64: int = 0
    valid: bool = False  # valid is True if int64 is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.int64, self.valid = 0, False
            return
        try:
            self.int64 = _convert_assign(Int64, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return self.int64


@attrs.define
class NullInt32:
    """An int32 that may be null. NullInt32 implements the :class:`Scanner`
    interface so it can be used as a scan destination, similar to NullString."""

    int32: int = 0
    valid: bool = False  # valid is True if int32 is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.int32, self.valid = 0, False
            return
        try:
            self.int32 = _convert_assign(Int32, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return int(self.int32)


@attrs.define
class NullInt16:
    """An int16 that may be null. NullInt16 implements the :class:`Scanner`
    interface so it can be used as a scan destination, similar to NullString."""

    int16: int = 0
    valid: bool = False  # valid is True if int16 is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.int16, self.valid = 0, False
            return
        try:
            self.int16 = _convert_assign(Int16, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return int(self.int16)


@attrs.define
class NullByte:
    """A byte (an int in 0..255) that may be null. NullByte implements the
    :class:`Scanner` interface so it can be used as a scan destination, similar
    to NullString."""

    byte: int = 0
    valid: bool = False  # valid is True if byte is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.byte, self.valid = 0, False
            return
        try:
            self.byte = _convert_assign(Uint8, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return int(self.byte)


@attrs.define
class NullFloat64:
    """A float64 that may be null. NullFloat64 implements the :class:`Scanner`
    interface so it can be used as a scan destination, similar to NullString."""

    float64: float = 0.0
    valid: bool = False  # valid is True if float64 is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.float64, self.valid = 0.0, False
            return
        try:
            self.float64 = _convert_assign(float, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return self.float64


@attrs.define
class NullBool:
    """A bool that may be null. NullBool implements the :class:`Scanner`
    interface so it can be used as a scan destination, similar to NullString."""

    bool_: bool = False
    valid: bool = False  # valid is True if bool_ is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.bool_, self.valid = False, False
            return
        try:
            self.bool_ = _convert_assign(bool, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return self.bool_


@attrs.define
class NullTime:
    """A datetime that may be null. NullTime implements the :class:`Scanner`
    interface so it can be used as a scan destination, similar to NullString.

    Python has no zero datetime (Go's ``time.Time{}``): the NULL value is None.
    """

    time: datetime.datetime | None = None
    valid: bool = False  # valid is True if time is not NULL

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface."""
        if value is None:
            self.time, self.valid = None, False
            return
        try:
            self.time = _convert_assign(datetime.datetime, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        return self.time


def _zero_value(t: Any) -> Any:
    """Go's ``*new(T)`` for a scan destination type: None where Python has no
    zero value (datetime), where Go's is nil (bytes) or unknown (object...)."""
    if t is uuid.UUID:
        return uuid.UUID(int=0)
    if t is decimal.Decimal:
        return decimal.Decimal(0)
    if isinstance(t, type):
        if issubclass(t, _SizedInt):
            return 0
        if issubclass(t, Float32):
            return 0.0
        if issubclass(t, (bool, int, float, str)) and not issubclass(t, enum.Enum):
            try:
                return t()
            except Exception:
                return None
    return None


@attrs.define(slots=False)
class Null(Generic[T]):
    """A value that may be null. Null implements the :class:`Scanner` interface
    so it can be used as a scan destination::

        s = db.query_row("SELECT name FROM foo WHERE id=?", id).scan(Null[str]())[0]
        if s.valid:
            ...  # use s.v
        else:
            ...  # NULL value

    T should be one of the types accepted as scan destinations (``str``,
    ``int``, ``Int32``, ``float``, ``bool``, ``datetime``, ``uuid.UUID``...). It
    is taken from the subscription (``Null[str]()``, or ``Null[str]`` as a scan
    destination); a bare ``Null()`` scans like ``object`` unless ``v`` holds a
    value, whose type is then used.
    """

    v: T | None = None
    valid: bool = False

    def _type(self) -> Any:
        orig = getattr(self, "__orig_class__", None)
        if orig is not None:
            args = get_args(orig)
            if args and not isinstance(args[0], TypeVar):
                return args[0]
        if self.v is not None:
            return type(self.v)
        return object

    def scan(self, value: Any) -> None:
        """Implement the Scanner interface: None gives T's zero value and
        ``valid=False``; otherwise ``v`` is the converted value and ``valid``
        is True only if the conversion succeeded."""
        t = self._type()
        if value is None:
            self.v, self.valid = _zero_value(t), False
            return
        try:
            self.v = _convert_assign(t, value)
        except BaseException:
            self.valid = False
            raise
        self.valid = True

    def value(self) -> driver.Value:
        """Implement the driver Valuer interface."""
        if not self.valid:
            return None
        v: Any = self.v
        # See issue 69728.
        if isinstance(v, driver.Valuer):
            v = v.value()
        elif isinstance(v, uuid.UUID):
            # Go's uuid.UUID is a Valuer giving its text form.
            v = str(v)
        # See issue 69837.
        return driver.DefaultParameterConverter.convert_value(v)


@runtime_checkable
class Scanner(Protocol):
    """An interface used by ``Rows.scan``."""

    def scan(self, src: Any) -> None:
        """Assign a value from a database driver.

        The src value will be of one of the following types: int, float, bool,
        bytes, str, datetime.datetime, decimal.Decimal, or None for NULL values.

        An error should be raised if the value cannot be stored without loss of
        information.

        Reference types such as bytes are only valid until the next call to scan
        and should not be retained: their underlying memory is owned by the
        driver. If retention is necessary, copy their values before the next
        call to scan.
        """
        ...


class Ref(Generic[T]):
    """A mutable box: where Go passes a pointer it keeps (``Out.dest``, a scan
    destination), dbsql passes a Ref.

    ``Ref(typ, value=None)``: ``type`` is the destination type (anything that
    is a scan destination: ``str``, ``int | None``, ``Int32``...), ``value`` the
    current value. Scanning into a Ref converts to ``type``, stores the result
    in ``value`` and returns it. Refs compare by identity, like pointers.
    """

    __slots__ = ("type", "value")

    def __init__(self, typ: Any, value: T | None = None) -> None:
        self.type: Any = typ
        self.value: T | None = value

    def __repr__(self) -> str:
        t = self.type
        name = t.__qualname__ if isinstance(t, type) else repr(t)
        return f"Ref({name}, {self.value!r})"


@attrs.frozen(kw_only=True)
class Out:
    """May be used to retrieve OUTPUT value parameters from stored procedures.

    Not all drivers and databases support OUTPUT value parameters. Example::

        out_arg = dbsql.Ref(str)
        db.exec_context(ctx, "ProcName", dbsql.named("Arg1", dbsql.Out(dest=out_arg)))

    As Go's ``_NamedFieldsRequired``, the fields must be passed by keyword.
    """

    # dest is the box that will be set to the result of the stored procedure's
    # OUTPUT parameter.
    dest: Ref[Any]
    # in_ is whether the parameter is an INOUT parameter. If so, the input
    # value to the stored procedure is dest.value, which is then replaced with
    # the output value.
    in_: bool = False


class _SizedInt(int):
    """A Go sized integer type, used as a scan destination: scanning into it
    range-checks like Go's strconv.ParseInt/ParseUint with its bit size and
    returns a plain int. Constructing one checks the range too."""

    __slots__ = ()
    _bits: ClassVar[int] = 64
    _signed: ClassVar[bool] = True

    def __new__(cls, x: Any = 0, /) -> Any:
        v = int.__new__(cls, x)
        if cls._signed:
            lo, hi = -(1 << (cls._bits - 1)), (1 << (cls._bits - 1)) - 1
        else:
            lo, hi = 0, (1 << cls._bits) - 1
        if not lo <= v <= hi:
            raise OverflowError(f"{int(v)} is out of range for {cls.__name__}")
        return v


class Int8(_SizedInt):
    """Go's int8 as a scan destination (and an int checked to fit 8 bits)."""

    __slots__ = ()
    _bits = 8


class Int16(_SizedInt):
    """Go's int16 as a scan destination (and an int checked to fit 16 bits)."""

    __slots__ = ()
    _bits = 16


class Int32(_SizedInt):
    """Go's int32 as a scan destination (and an int checked to fit 32 bits)."""

    __slots__ = ()
    _bits = 32


class Int64(_SizedInt):
    """Go's int64 as a scan destination (and an int checked to fit 64 bits)."""

    __slots__ = ()
    _bits = 64


class Uint8(_SizedInt):
    """Go's uint8 (byte) as a scan destination (and an int checked to fit 0..255)."""

    __slots__ = ()
    _bits = 8
    _signed = False


class Uint16(_SizedInt):
    """Go's uint16 as a scan destination (and an int checked to fit 16 bits unsigned)."""

    __slots__ = ()
    _bits = 16
    _signed = False


class Uint32(_SizedInt):
    """Go's uint32 as a scan destination (and an int checked to fit 32 bits unsigned)."""

    __slots__ = ()
    _bits = 32
    _signed = False


class Uint64(_SizedInt):
    """Go's uint64 as a scan destination (and an int checked to fit 64 bits unsigned)."""

    __slots__ = ()
    _bits = 64
    _signed = False


_F32 = struct.Struct("<f")


class Float32(float):
    """Go's float32 as a scan destination: scanning into it parses or rounds like
    Go's 32-bit floats and returns a plain float. Constructing one rounds to the
    nearest float32 (OverflowError if out of range)."""

    __slots__ = ()

    def __new__(cls, x: Any = 0.0, /) -> Float32:
        f = float(x)
        r: float = _F32.unpack(_F32.pack(f))[0]
        return float.__new__(cls, r)


class Error(Exception):
    """Base class of the errors dbsql itself raises (drivers raise their own)."""


class NoRowsError(Error):
    """Raised by ``Row.scan`` when ``DB.query_row`` doesn't return a row. In such
    a case, query_row returns a placeholder Row value that defers this error
    until a scan."""

    def __init__(self, msg: str = "sql: no rows in result set") -> None:
        super().__init__(msg)


ErrNoRows = NoRowsError

from dbsql.convert import (  # noqa: E402, F401
    _IDENTITY_TYPES,
    ConversionError,
    _convert_assign,
    _convert_assign_rows,
    _default_check_named_value,
    _driver_args_conn_locked,
    convert_assign,
)

# ---- the pool and the API (convert.py imports only the names above) ----

# nowFunc returns the current time; it's overridden in tests. Times are
# time.monotonic() seconds.
_now_func: Callable[[], float] = time.monotonic


# Python only: Go's types guarantee these; a wrong type raises a TypeError naming
# the argument before anything is done (a None ctx would otherwise fail deep in
# the pool, holding its lock).
def _check_ctx(ctx: object) -> None:
    if ctx is _BACKGROUND:  # the plain methods' context: nothing to check
        return
    if not isinstance(ctx, Context) and not callable(getattr(ctx, "err", None)):
        raise TypeError(f"sql: ctx must be a dbsql.context.Context, not {type(ctx).__name__}")


def _check_query(query: object) -> None:
    if not isinstance(query, str):
        raise TypeError(f"sql: query must be a str, not {type(query).__name__}")


def _check_args(ctx: object, query: object) -> None:
    if ctx is _BACKGROUND and type(query) is str:
        return
    _check_ctx(ctx)
    _check_query(query)


def _check_opts(opts: object) -> None:
    if opts is not None and not (hasattr(opts, "isolation") and hasattr(opts, "read_only")):
        raise TypeError(f"sql: opts must be a TxOptions or None, not {type(opts).__name__}")


def _check_int(what: str, n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"sql: {what} must be an int, not {type(n).__name__}")


def _never_done(ctx: Context) -> bool:
    """Go's ``ctx.Done() == nil``: the context can never be cancelled."""
    return ctx is _BACKGROUND or ctx.done() is _ctx._NEVER


class ConnDoneError(Error):
    """Raised by any operation performed on a connection that has already been
    returned to the connection pool."""

    def __init__(self, msg: str = "sql: connection is already closed") -> None:
        super().__init__(msg)


ErrConnDone = ConnDoneError


class TxDoneError(Error):
    """Raised by any operation performed on a transaction that has already been
    committed or rolled back."""

    def __init__(
        self, msg: str = "sql: transaction has already been committed or rolled back"
    ) -> None:
        super().__init__(msg)


ErrTxDone = TxDoneError


class DBClosedError(Error):
    """Raised by operations on a closed DB, and to every waiter when the DB closes."""

    def __init__(self, msg: str = "sql: database is closed") -> None:
        super().__init__(msg)


class RowsClosedError(Error):
    """Raised by operations on closed Rows."""

    def __init__(self, msg: str = "sql: Rows are closed") -> None:
        super().__init__(msg)


class StmtClosedError(Error):
    """Raised by operations on a closed Stmt."""

    def __init__(self, msg: str = "sql: statement is closed") -> None:
        super().__init__(msg)


class ScanError(Error):
    """A column could not be converted to its scan destination; the cause is chained."""


class _ClosingMutex:
    """An RWMutex for synchronizing close (Go's closingMutex, closemu.go).

    Unlike a sync.RWMutex, RLock takes priority over Lock: reads can starve out
    close, but reads are safely reentrant, so a nested read lock in one thread
    cannot deadlock (Go issues 64498, 78304). All state is guarded by one lock
    and waits are on conditions of that lock, so no wake-up is lost (81043).
    """

    __slots__ = ("_mu", "_read", "_write", "_readers", "_writer", "_writers_waiting")

    def __init__(self) -> None:
        self._mu = threading.Lock()
        self._read: threading.Condition | None = None
        self._write: threading.Condition | None = None
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def _init(self) -> tuple[threading.Condition, threading.Condition]:
        # Lazily create the read/write Conds. In the common, uncontended case,
        # we'll never need them.
        if self._read is None or self._write is None:
            self._read = threading.Condition(self._mu)
            self._write = threading.Condition(self._mu)
        return self._read, self._write

    def _try_rlock_locked(self) -> bool:
        # Fail if the mutex is write locked or unlocked with a writer waiting.
        # If the mutex is read-locked, add a reader even if this starves out a
        # waiting writer.
        if self._writer or (self._readers == 0 and self._writers_waiting):
            return False
        self._readers += 1
        return True

    def try_rlock(self) -> bool:
        with self._mu:
            return self._try_rlock_locked()

    def rlock(self) -> None:
        with self._mu:
            # (_try_rlock_locked inlined: the uncontended case is the hot path.)
            if not self._writer and (self._readers or not self._writers_waiting):
                self._readers += 1
                return
            while not self._try_rlock_locked():
                self._init()[0].wait()

    def runlock(self) -> None:
        with self._mu:
            readers = self._readers - 1
            if readers < 0:
                raise RuntimeError("runlock of un-rlocked mutex")
            self._readers = readers
            if readers == 0 and self._writers_waiting and self._write is not None:
                # We were the last reader, and a writer is waiting.
                self._write.notify_all()

    def lock(self) -> None:
        with self._mu:
            if not self._writer and self._readers == 0:
                self._writer = True
                return
            self._writers_waiting += 1
            write = self._init()[1]
            while self._writer or self._readers:
                write.wait()
            self._writers_waiting -= 1
            self._writer = True

    def lock_unlock(self) -> None:
        """lock() then unlock(): wait until nobody holds the mutex (one
        acquisition of its own mutex when nobody holds or waits for it)."""
        with self._mu:
            if not (self._writer or self._readers or self._writers_waiting):
                return
        self.lock()
        self.unlock()

    def unlock(self) -> None:
        with self._mu:
            if not self._writer:
                raise RuntimeError("unlock of unlocked mutex")
            self._writer = False
            if self._read is not None and self._write is not None:
                self._read.notify_all()
                self._write.notify_all()


class DB:
    """A database handle representing a pool of zero or more underlying connections.

    It's safe for concurrent use by multiple threads.

    The sql package creates and frees connections automatically; it also
    maintains a free pool of idle connections. If the database has a concept of
    per-connection state, such state can be reliably observed within a
    transaction (:class:`Tx`) or connection (:class:`Conn`). Once :meth:`begin`
    is called, the returned Tx is bound to a single connection. Once commit or
    rollback is called on the transaction, that transaction's connection is
    returned to DB's idle connection pool. The pool size can be controlled with
    :meth:`set_max_idle_conns`.

    ``with db:`` closes the DB at the end of the block.
    """

    def __init__(self, connector: driver.Connector) -> None:
        # Total time waited for new connections (Go's atomic: guarded by a lock
        # of its own, so that a waiter that got its connection does not queue
        # again on _mu).
        self._wait_duration = 0.0
        self._wait_duration_mu = threading.Lock()
        self._connector = connector
        # _num_closed is a counter which represents a total number of closed
        # connections. Stmt._open_stmt checks it before cleaning closed
        # connections in Stmt._css.
        self._num_closed = 0

        self._mu = threading.Lock()  # protects following fields
        # free connections ordered by returned_at oldest to newest
        self._free_conn: list[_DriverConn] = []
        self._conn_requests = _ConnRequestSet()
        self._num_open = 0  # number of opened and pending open connections
        # Used to signal the need for new connections: the opener thread waits
        # on _opener_cond for _opener_pending > 0; _maybe_open_new_connections
        # increments it (one per needed connection). db.close stops the opener.
        self._opener_cond = threading.Condition(self._mu)
        self._opener_pending = 0
        self._opener_thread: threading.Thread | None = None
        self._closed = False
        self._dep: dict[_FinalCloser, dict[object, bool]] = {}
        self._max_idle_count = 0  # zero means default_max_idle_conns; negative means 0
        self._max_open = 0  # <= 0 means unlimited
        self._max_lifetime = 0.0  # maximum amount of time a connection may be reused
        # maximum amount of time a connection may be idle before being closed
        self._max_idle_time = 0.0
        self._cleaner_ch: _Signal | None = None
        self._wait_count = 0  # Total number of connections waited for.
        self._max_idle_closed = 0  # Total number of connections closed due to idle count.
        # Total number of connections closed due to idle time.
        self._max_idle_time_closed = 0
        # Total number of connections closed due to max connection lifetime limit.
        self._max_lifetime_closed = 0
        self._stopped = False  # the opener was told to stop (Go's stop func)
        # Beyond Go: opt-in leak detection (see set_leak_threshold).
        self._leaks: _LeakTracker | None = None
        _all_dbs.add(self)

    def __enter__(self) -> DB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<dbsql.DB driver={type(self._connector.driver()).__name__}>"

    # addDep notes that x now depends on dep, and x's final_close won't be
    # called until all of x's dependencies are removed with remove_dep.
    def _add_dep(self, x: _FinalCloser, dep: object) -> None:
        with self._mu:
            self._add_dep_locked(x, dep)

    def _add_dep_locked(self, x: _FinalCloser, dep: object) -> None:
        xdep = self._dep.get(x)
        if xdep is None:
            xdep = self._dep[x] = {}
        xdep[dep] = True

    # removeDep notes that x no longer depends on dep. If x still has
    # dependencies, None is returned. If x no longer has any dependencies, its
    # final_close method will be called and its error raised.
    def _remove_dep(self, x: _FinalCloser, dep: object) -> None:
        with self._mu:
            fn = self._remove_dep_locked(x, dep)
        fn()

    def _remove_dep_locked(self, x: _FinalCloser, dep: object) -> Callable[[], None]:
        xdep = self._dep.get(x)
        if xdep is None:
            raise RuntimeError(f"unpaired removeDep: no deps for {type(x).__name__}")
        if dep not in xdep:
            # Nothing removed. Shouldn't happen.
            raise RuntimeError(
                f"unpaired removeDep: no {type(dep).__name__} dep on {type(x).__name__}"
            )
        del xdep[dep]
        if not xdep:
            # No more dependencies.
            del self._dep[x]
            return x._final_close
        # Dependencies remain.
        return _noop

    def _ping_dc(
        self, ctx: Context, dc: _DriverConn, release: Callable[[BaseException | None], None]
    ) -> None:
        err: BaseException | None = None
        pinger = getattr(dc._ci, "ping", None)
        try:
            if pinger is not None:
                with dc._lock:
                    pinger(ctx)
        except Exception as e:
            err = e
        release(err)
        if err is not None:
            raise err

    def ping_context(self, ctx: Context) -> None:
        """Verify a connection to the database is still alive, establishing a
        connection if necessary."""
        dc = self._retry(lambda strategy: self._conn(ctx, strategy))
        self._ping_dc(ctx, dc, dc._release_conn)

    def ping(self) -> None:
        """Verify a connection to the database is still alive, establishing a
        connection if necessary. Uses the background context."""
        self.ping_context(_ctx.background())

    def close(self) -> None:
        """Close the database and prevent new queries from starting.

        Close then waits for all queries that have started processing on the
        server to finish. It is rare to close a DB, as the DB handle is meant to
        be long-lived and shared between many threads.
        """
        with self._mu:
            if self._closed:  # Make DB.close idempotent
                return
            if self._cleaner_ch is not None:
                self._cleaner_ch.close()
            fns = [dc._close_db_locked() for dc in self._free_conn]
            self._free_conn = []
            self._closed = True
            self._conn_requests.close_and_remove_all()
        err: BaseException | None = None
        for fn in fns:
            try:
                fn()
            except Exception as e:
                err = e
        self._stop()
        leaks = self._leaks
        if leaks is not None:
            leaks.stop()
        close = getattr(self._connector, "close", None)
        if close is not None:
            try:
                close()
            except Exception as e:
                err = e
        if err is not None:
            raise err

    def _stop(self) -> None:
        # stop cancels the connection opener.
        with self._mu:
            self._stopped = True
            # Beyond Go: the opens still pending will not run; undo their
            # optimistic num_open += 1 (Go leaks them: Stats counts them open).
            self._num_open -= self._opener_pending
            self._opener_pending = 0
            self._opener_cond.notify_all()

    def _max_idle_conns_locked(self) -> int:
        n = self._max_idle_count
        if n == 0:
            return _DEFAULT_MAX_IDLE_CONNS
        if n < 0:
            return 0
        return n

    def _shortest_idle_time_locked(self) -> float:
        if self._max_idle_time <= 0:
            return self._max_lifetime
        if self._max_lifetime <= 0:
            return self._max_idle_time
        return min(self._max_idle_time, self._max_lifetime)

    def set_max_idle_conns(self, n: int) -> None:
        """Set the maximum number of connections in the idle connection pool.

        If max open is greater than 0 but less than the new max idle, then the
        new max idle will be reduced to match the max open limit. If n <= 0, no
        idle connections are retained. The default is currently 2.
        """
        _check_int("set_max_idle_conns: n", n)
        with self._mu:
            if n > 0:
                self._max_idle_count = n
            else:
                # No idle connections.
                self._max_idle_count = -1
            # Make sure max_idle doesn't exceed max_open
            if self._max_open > 0 and self._max_idle_conns_locked() > self._max_open:
                self._max_idle_count = self._max_open
            closing: list[_DriverConn] = []
            idle_count = len(self._free_conn)
            max_idle = self._max_idle_conns_locked()
            if idle_count > max_idle:
                closing = self._free_conn[max_idle:]
                self._free_conn = self._free_conn[:max_idle]
            self._max_idle_closed += len(closing)
        for c in closing:
            c._close_quiet()

    def set_max_open_conns(self, n: int) -> None:
        """Set the maximum number of open connections to the database.

        If max idle is greater than 0 and the new max open is less than it, max
        idle is reduced to match. If n <= 0, there is no limit (the default).
        """
        _check_int("set_max_open_conns: n", n)
        with self._mu:
            self._max_open = n
            if n < 0:
                self._max_open = 0
            sync_max_idle = self._max_open > 0 and self._max_idle_conns_locked() > self._max_open
        if sync_max_idle:
            self.set_max_idle_conns(n)

    def set_conn_max_lifetime(self, d: float | datetime.timedelta) -> None:
        """Set the maximum amount of time (seconds or timedelta) a connection may be reused.

        Expired connections may be closed lazily before reuse. If d <= 0,
        connections are not closed due to a connection's age.
        """
        s = _ctx._seconds(d, "sql: set_conn_max_lifetime: d")
        if s < 0:
            s = 0.0
        with self._mu:
            # Wake cleaner up when lifetime is shortened.
            if s > 0 and s < self._shortest_idle_time_locked() and self._cleaner_ch is not None:
                self._cleaner_ch.send()
            self._max_lifetime = s
            self._start_cleaner_locked()

    def set_conn_max_idle_time(self, d: float | datetime.timedelta) -> None:
        """Set the maximum amount of time (seconds or timedelta) a connection may be idle.

        Expired connections may be closed lazily before reuse. If d <= 0,
        connections are not closed due to a connection's idle time.
        """
        s = _ctx._seconds(d, "sql: set_conn_max_idle_time: d")
        if s < 0:
            s = 0.0
        with self._mu:
            # Wake cleaner up when idle time is shortened.
            if s > 0 and s < self._shortest_idle_time_locked() and self._cleaner_ch is not None:
                self._cleaner_ch.send()
            self._max_idle_time = s
            self._start_cleaner_locked()

    def set_leak_threshold(self, d: float | datetime.timedelta) -> None:
        """Log who has held a Conn, Tx or Rows of this DB longer than d (seconds or
        timedelta); 0 turns it off (the default).

        Beyond Go (after HikariCP's leak detection): while on, each Conn, Tx and
        Rows records the stack that created it, and one checker thread per DB
        logs a warning on the ``dbsql.leak`` logger with that stack for each one
        still open after d. It costs a stack capture per Conn, Tx and Rows, so it
        is meant for finding leaks, not for always.
        """
        s = _ctx._seconds(d, "sql: set_leak_threshold: d")
        if s < 0:
            raise ValueError(f"sql: set_leak_threshold: d must be >= 0, not {s}")
        with self._mu:
            tracker = self._leaks
            if s == 0:
                self._leaks = None
            elif tracker is None or tracker._stopped:
                self._leaks = _LeakTracker(s)
            else:
                tracker.set_threshold(s)
        if s == 0 and tracker is not None:
            tracker.stop()

    def _start_cleaner_locked(self) -> None:
        """Start the connection cleaner thread if needed."""
        if (
            (self._max_lifetime > 0 or self._max_idle_time > 0)
            and self._num_open > 0
            and self._cleaner_ch is None
        ):
            ch = self._cleaner_ch = _Signal()
            threading.Thread(
                target=self._connection_cleaner,
                args=(ch, self._shortest_idle_time_locked()),
                name="dbsql-cleaner",
                daemon=True,
            ).start()

    def _connection_cleaner(self, ch: _Signal, d: float) -> None:
        min_interval = _CLEANER_MIN_INTERVAL
        if d < min_interval:
            d = min_interval
        while True:
            # Wait for the timer, or for max_lifetime to change or the db to close.
            ch.wait(d)
            with self._mu:
                d = self._shortest_idle_time_locked()
                if self._closed or self._num_open == 0 or d <= 0:
                    self._cleaner_ch = None
                    return
                d, closing = self._connection_cleaner_run_locked(d)
            for c in closing:
                c._close_quiet()
            if d < min_interval:
                d = min_interval

    def _connection_cleaner_run_locked(self, d: float) -> tuple[float, list[_DriverConn]]:
        """Remove the connections that should be closed from the free list and return
        them with an updated duration to the next check, if a quicker check is
        required to ensure connections are checked appropriately."""
        idle_closing = 0
        closing: list[_DriverConn] = []
        if self._max_idle_time > 0:
            # As free_conn is ordered by returned_at process in reverse order
            # to minimise the work needed.
            idle_since = _now_func() - self._max_idle_time
            last = len(self._free_conn) - 1
            for i in range(last, -1, -1):
                c = self._free_conn[i]
                if c._returned_at < idle_since:
                    i += 1
                    closing = self._free_conn[:i]
                    self._free_conn = self._free_conn[i:]
                    idle_closing = len(closing)
                    self._max_idle_time_closed += idle_closing
                    break
            if self._free_conn:
                c = self._free_conn[0]
                d2 = c._returned_at - idle_since
                if d2 < d:
                    # Ensure idle connections are cleaned up as soon as possible.
                    d = d2

        if self._max_lifetime > 0:
            expired_since = _now_func() - self._max_lifetime
            i = 0
            while i < len(self._free_conn):
                c = self._free_conn[i]
                if c._created_at < expired_since:
                    closing.append(c)
                    # Use slow delete as order is required to ensure
                    # connections are reused least idle time first.
                    del self._free_conn[i]
                    continue
                d2 = c._created_at - expired_since
                if d2 < d:
                    # Prevent connections sitting the free_conn when they have
                    # expired by updating our next deadline d.
                    d = d2
                i += 1
            self._max_lifetime_closed += len(closing) - idle_closing
        return d, closing

    def _add_wait_duration(self, d: float) -> None:
        with self._wait_duration_mu:
            self._wait_duration += d

    def _load_wait_duration(self) -> float:
        with self._wait_duration_mu:
            return self._wait_duration

    def stats(self) -> DBStats:
        """Return database statistics."""
        with self._mu:
            return DBStats(
                max_open_connections=self._max_open,
                open_connections=self._num_open,
                in_use=self._num_open - len(self._free_conn),
                idle=len(self._free_conn),
                wait_count=self._wait_count,
                wait_duration=self._load_wait_duration(),
                max_idle_closed=self._max_idle_closed,
                max_idle_time_closed=self._max_idle_time_closed,
                max_lifetime_closed=self._max_lifetime_closed,
            )

    # Assumes db._mu is locked. If there are conn requests and the connection
    # limit hasn't been reached, then tell the opener to open new connections.
    def _maybe_open_new_connections(self) -> None:
        num_requests = len(self._conn_requests)
        if self._max_open > 0:
            num_can_open = self._max_open - self._num_open
            if num_requests > num_can_open:
                num_requests = num_can_open
        while num_requests > 0:
            self._num_open += 1  # optimistically
            num_requests -= 1
            if self._closed:
                return
            self._opener_pending += 1
            if self._opener_thread is None:
                # The opener thread is started on first need, one per DB.
                self._opener_thread = threading.Thread(
                    target=self._connection_opener, name="dbsql-opener", daemon=True
                )
                self._opener_thread.start()
            self._opener_cond.notify()

    def _connection_opener(self) -> None:
        """Runs in a separate thread, opens new connections when requested."""
        ctx = _ctx.background()
        while True:
            with self._mu:
                while self._opener_pending == 0 and not self._stopped:
                    self._opener_cond.wait()
                if self._stopped:
                    return
                self._opener_pending -= 1
            self._open_new_connection(ctx)

    def _open_new_connection(self, ctx: Context) -> None:
        """Open one new connection."""
        # _maybe_open_new_connections has already executed num_open += 1
        # before it signalled the opener. This function must execute
        # num_open -= 1 if the connection fails or is closed before returning.
        ci: driver.Conn | None = None
        err: BaseException | None = None
        try:
            ci = self._connector.connect(ctx)
        except Exception as e:
            err = e
        with self._mu:
            if self._closed:
                if ci is not None:
                    _close_quietly(ci)
                self._num_open -= 1
                return
            if err is not None or ci is None:
                self._num_open -= 1
                self._put_conn_db_locked(None, err)
                self._maybe_open_new_connections()
                return
            now = _now_func()
            dc = _DriverConn(self, ci, now)
            if self._put_conn_db_locked(dc, None):
                self._add_dep_locked(dc, dc)
            else:
                self._num_open -= 1
                _close_quietly(ci)

    def _conn(self, ctx: Context, strategy: int) -> _DriverConn:
        """Return a newly-opened or cached _DriverConn."""
        if ctx is not _BACKGROUND:
            _check_ctx(ctx)
        self._mu.acquire()
        if self._closed:
            self._mu.release()
            raise DBClosedError()
        # Check if the context is expired.
        if ctx is not _BACKGROUND:
            err = ctx.err()
            if err is not None:
                self._mu.release()
                raise err
        lifetime = self._max_lifetime

        # Prefer a free connection, if possible.
        if strategy == _CACHED_OR_NEW_CONN and self._free_conn:
            # Reuse the lowest idle time connection so we can close connections
            # which remain idle as soon as possible.
            conn = self._free_conn.pop()
            conn._in_use = True
            if lifetime > 0 and conn._expired(lifetime):
                self._max_lifetime_closed += 1
                self._mu.release()
                conn._close_quiet()
                raise driver.BadConnError()
            self._mu.release()

            # Reset the session if required. (conn._reset_session, inlined.)
            if conn._need_reset:
                try:
                    with conn._lock:
                        resetter = conn._resetter
                        if conn._need_reset and resetter is not None:
                            resetter(ctx)
                except driver.BadConnError:
                    conn._close_quiet()
                    raise
                except Exception:
                    pass  # Go ignores any other error from ResetSession.
            return conn

        # Out of free connections or we were asked not to use one. If we're not
        # allowed to open any more connections, make a request and wait.
        if self._max_open > 0 and self._num_open >= self._max_open:
            req = _ConnRequest()
            del_handle = self._conn_requests.add(req)
            self._wait_count += 1
            self._mu.release()
            return self._wait_conn_request(ctx, strategy, lifetime, req, del_handle)

        self._num_open += 1  # optimistically
        self._mu.release()
        try:
            ci = self._connector.connect(ctx)
        except BaseException:
            with self._mu:
                self._num_open -= 1  # correct for earlier optimism
                self._maybe_open_new_connections()
            raise
        with self._mu:
            dc = _DriverConn(self, ci, _now_func())
            dc._in_use = True
            self._add_dep_locked(dc, dc)
        return dc

    def _wait_conn_request(
        self,
        ctx: Context,
        strategy: int,
        lifetime: float,
        req: _ConnRequest,
        del_handle: _ConnRequestHandle,
    ) -> _DriverConn:
        wait_start = _now_func()
        # Timeout the connection request with the context: a callback on the
        # context wakes this thread, no thread of its own.
        stop = None if _never_done(ctx) else _ctx.after_func(ctx, req.wake)
        req.sem.acquire()
        if stop is not None:
            stop()
        if not req.filled:
            # The context ended first. Remove the connection request and
            # ensure no value has been sent on it after removing.
            with self._mu:
                deleted = self._conn_requests.delete(del_handle)
                waited = _now_func() - wait_start
                pool_state = (
                    f"max open {self._max_open}, "
                    f"{self._num_open - len(self._free_conn)} in use, "
                    f"{len(self._conn_requests)} other waiting"
                )
            self._add_wait_duration(waited)
            # If we failed to delete it, that means either the DB was closed or
            # something else grabbed it and sent on it (under db._mu, so it is
            # filled now): give a connection back.
            if not deleted and req.ok and req.conn is not None:
                self._put_conn(req.conn, req.err, False)
            err = ctx.err()
            assert err is not None
            # Beyond Go: the error keeps the context error's type (Canceled or
            # DeadlineExceeded) and says why the wait was long.
            raise _pool_exhausted(err, waited, pool_state) from err
        self._add_wait_duration(_now_func() - wait_start)
        if not req.ok:
            raise DBClosedError()
        # Only check if the connection is expired if the strategy is
        # cached_or_new_conn. If we require a new connection, just re-use the
        # connection without looking at the expiry time. If it is expired, it
        # will be checked when it is placed back into the connection pool. This
        # prioritizes giving a valid connection to a client over the exact
        # connection lifetime, which could expire exactly after this point anyway.
        conn = req.conn
        if strategy == _CACHED_OR_NEW_CONN and req.err is None and conn is not None:
            if conn._expired(lifetime):
                with self._mu:
                    self._max_lifetime_closed += 1
                conn._close_quiet()
                raise driver.BadConnError()
        if conn is None:
            assert req.err is not None
            raise req.err
        # Reset the session if required.
        try:
            conn._reset_session(ctx)
        except driver.BadConnError:
            conn._close_quiet()
            raise
        except Exception:
            pass  # Go ignores any other error from ResetSession.
        return conn

    # noteUnusedDriverStatement notes that ds is no longer used and should be
    # closed whenever possible (when c is next not in use), unless c is already
    # closed.
    def _note_unused_driver_statement(self, c: _DriverConn, ds: _DriverStmt) -> None:
        if c._fork_gen != _fork_gen:
            return  # the parent process's connection: not ours to touch
        with self._mu:
            if c._in_use:
                c._on_put.append(ds._close_quiet)
            else:
                with c._lock:
                    fc = c._final_closed
                if not fc:
                    ds._close_quiet()

    def _put_conn(self, dc: _DriverConn, err: BaseException | None, reset_session: bool) -> None:
        """Add a connection to the db's free pool.

        err is optionally the last error that occurred on this connection.
        """
        bad = err is not None and isinstance(err, driver.BadConnError)
        if not bad:
            # (Go's dc.validateConnection, written out here: see _DriverConn.)
            with dc._lock:
                if reset_session:
                    dc._need_reset = True
                validator = dc._validator
                if validator is not None and not validator():
                    err = driver.BadConnError()
                    bad = True
        self._mu.acquire()
        if dc._fork_gen != _fork_gen:
            # Inherited from the parent process: dropped, never closed here (see
            # _after_fork_in_child).
            self._mu.release()
            return
        if not dc._in_use:
            self._mu.release()
            raise RuntimeError("sql: connection returned that was never out")

        if not bad and self._max_lifetime > 0 and dc._expired(self._max_lifetime):
            self._max_lifetime_closed += 1
            err = driver.BadConnError()
            bad = True
        dc._in_use = False
        dc._returned_at = _now_func()

        if dc._on_put:
            for fn in dc._on_put:
                fn()
            dc._on_put = []

        if bad:
            # Don't reuse bad connections. Since the conn is considered bad and
            # is being discarded, treat it as closed. Don't decrement the open
            # count here, final_close will take care of that.
            self._maybe_open_new_connections()
            self._mu.release()
            dc._close_quiet()
            return
        hook = _put_conn_hook
        if hook is not None:
            hook(self, dc)
        added = self._put_conn_db_locked(dc, None)
        self._mu.release()

        if not added:
            dc._close_quiet()

    def _put_conn_db_locked(self, dc: _DriverConn | None, err: BaseException | None) -> bool:
        """Satisfy a conn request or put the _DriverConn in the idle pool and return
        True, or return False.

        It satisfies a conn request if there is one, or returns the _DriverConn to
        the free list if err is None and the idle connection limit will not be
        exceeded. If err is not None, the value of dc is ignored. If err is None,
        then dc must not be None.
        """
        if self._closed:
            return False
        if self._max_open > 0 and self._num_open > self._max_open:
            return False
        # (take_random on an empty set: skipped, the common case.)
        req = self._conn_requests.take_random() if self._conn_requests._s else None
        if req is not None:
            if err is None:
                assert dc is not None
                dc._in_use = True
            req.send(dc if err is None else None, err)
            return True
        if err is None and not self._closed:
            n = self._max_idle_count  # (_max_idle_conns_locked, inlined)
            max_idle = _DEFAULT_MAX_IDLE_CONNS if n == 0 else 0 if n < 0 else n
            if max_idle > len(self._free_conn):
                assert dc is not None
                self._free_conn.append(dc)
                if self._cleaner_ch is None and (self._max_lifetime > 0 or self._max_idle_time > 0):
                    self._start_cleaner_locked()
                return True
            self._max_idle_closed += 1
        return False

    def _retry(self, fn: Callable[[int], _T], done: int = 0) -> _T:
        # done: attempts with _CACHED_OR_NEW_CONN the caller already made (the
        # hot paths make the first one inline, without a closure).
        for _ in range(_MAX_BAD_CONN_RETRIES - done):
            try:
                return fn(_CACHED_OR_NEW_CONN)
            except driver.BadConnError:
                # retry if err is driver.BadConnError
                pass
        return fn(_ALWAYS_NEW_CONN)

    def prepare_context(self, ctx: Context, query: str) -> Stmt:
        """Create a prepared statement for later queries or executions.

        Multiple queries or executions may be run concurrently from the returned
        statement. The caller must call the statement's close method when the
        statement is no longer needed. The context is used for the preparation
        of the statement, not for its execution.
        """
        return self._retry(lambda strategy: self._prepare(ctx, query, strategy))

    def prepare(self, query: str) -> Stmt:
        """Create a prepared statement for later queries or executions; see
        :meth:`prepare_context`."""
        return self.prepare_context(_ctx.background(), query)

    def _prepare(self, ctx: Context, query: str, strategy: int) -> Stmt:
        # TODO: check if db.driver supports an optional driver.Preparer
        # interface and call that instead, if so, otherwise we make a prepared
        # statement that's bound to a connection, and to execute this prepared
        # statement we either need to use this connection (if it's free), else
        # get a new connection + re-prepare + execute on that one.
        if type(query) is not str:
            _check_query(query)
        dc = self._conn(ctx, strategy)
        return self._prepare_dc(ctx, dc, dc._release_conn, None, query)

    def _prepare_dc(
        self,
        ctx: Context,
        dc: _DriverConn,
        release: Callable[[BaseException | None], None],
        cg: _StmtConnGrabber | None,
        query: str,
    ) -> Stmt:
        """Prepare a query on the _DriverConn and call release before returning.

        When cg is None it implies that a connection pool is used, and when cg is
        not None only a single driver connection is used.
        """
        err: BaseException | None = None
        try:
            with dc._lock:
                ds = dc._prepare_locked(ctx, cg, query)
        except BaseException as e:
            err = e
            raise
        finally:
            release(err)
        stmt = Stmt(self, query, cg, ds)

        # When cg is None this statement will need to keep track of various
        # connections they are prepared on and record the stmt dependency on
        # the DB.
        if cg is None:
            stmt._css = [_ConnStmt(dc, ds)]
            stmt._last_num_closed = self._num_closed
            self._add_dep(stmt, stmt)
        return stmt

    def exec_context(self, ctx: Context, query: str, *args: Any) -> Result:
        """Execute a query without returning any rows.

        The args are for any placeholder parameters in the query.
        """
        try:
            return self._exec(ctx, query, args, _CACHED_OR_NEW_CONN)
        except driver.BadConnError:
            return self._retry(lambda strategy: self._exec(ctx, query, args, strategy), 1)

    def exec(self, query: str, *args: Any) -> Result:
        """Execute a query without returning any rows; see :meth:`exec_context`."""
        try:
            return self._exec(_BACKGROUND, query, args, _CACHED_OR_NEW_CONN)
        except driver.BadConnError:
            return self._retry(lambda strategy: self._exec(_BACKGROUND, query, args, strategy), 1)

    def _exec(self, ctx: Context, query: str, args: Sequence[Any], strategy: int) -> Result:
        if type(query) is not str:
            _check_query(query)
        dc = self._conn(ctx, strategy)
        return self._exec_dc(ctx, dc, dc._release_conn, query, args)

    def _exec_dc(
        self,
        ctx: Context,
        dc: _DriverConn,
        release: Callable[[BaseException | None], None],
        query: str,
        args: Sequence[Any],
    ) -> Result:
        err: BaseException | None = None
        try:
            execer_ctx = dc._execer_ctx
            execer = None if execer_ctx is not None else dc._execer
            if execer_ctx is not None or execer is not None:
                try:
                    with dc._lock:
                        nvdargs = _driver_args_conn_locked(dc._ci, None, args)
                        if execer_ctx is not None:  # (ctxDriverExec, inlined)
                            resi = execer_ctx(ctx, query, nvdargs)
                        else:
                            resi = _ctx_driver_exec(ctx, None, execer, query, nvdargs)
                    return _DriverResult(dc._lock, resi)
                except driver.SkipError:
                    pass

            with dc._lock:
                si = _ctx_driver_prepare(ctx, dc._ci, query)
            ds = _DriverStmt(dc, si)
            try:
                return _result_from_statement(ctx, dc._ci, ds, args)
            finally:
                ds._close_quiet()
        except BaseException as e:
            err = e
            raise
        finally:
            release(err)

    def query_context(self, ctx: Context, query: str, *args: Any) -> Rows:
        """Execute a query that returns rows, typically a SELECT.

        The args are for any placeholder parameters in the query.
        """
        try:
            return self._query(ctx, query, args, _CACHED_OR_NEW_CONN)
        except driver.BadConnError:
            return self._retry(lambda strategy: self._query(ctx, query, args, strategy), 1)

    def query(self, query: str, *args: Any) -> Rows:
        """Execute a query that returns rows; see :meth:`query_context`."""
        try:
            return self._query(_BACKGROUND, query, args, _CACHED_OR_NEW_CONN)
        except driver.BadConnError:
            return self._retry(lambda strategy: self._query(_BACKGROUND, query, args, strategy), 1)

    def _query(self, ctx: Context, query: str, args: Sequence[Any], strategy: int) -> Rows:
        if type(query) is not str:
            _check_query(query)
        dc = self._conn(ctx, strategy)
        return self._query_dc(ctx, None, dc, dc._release_conn, query, args)

    def _query_dc(
        self,
        ctx: Context,
        txctx: Context | None,
        dc: _DriverConn,
        release_conn: Callable[[BaseException | None], None],
        query: str,
        args: Sequence[Any],
    ) -> Rows:
        """Execute a query on the given connection.

        The connection gets released by the release_conn function. The ctx
        context is from a query method and the txctx context is from an optional
        transaction context.
        """
        queryer_ctx = dc._queryer_ctx
        queryer = None if queryer_ctx is not None else dc._queryer
        if queryer_ctx is not None or queryer is not None:
            try:
                with dc._lock:
                    nvdargs = _driver_args_conn_locked(dc._ci, None, args)
                    if queryer_ctx is not None:  # (ctxDriverQuery, inlined)
                        rowsi = queryer_ctx(ctx, query, nvdargs)
                    else:
                        rowsi = _ctx_driver_query(ctx, None, queryer, query, nvdargs)
            except driver.SkipError:
                pass
            except BaseException as e:
                release_conn(e)
                raise
            else:
                # Note: ownership of dc passes to the Rows, to be freed with
                # release_conn.
                rows = Rows(dc, release_conn, rowsi)
                if ctx is not _BACKGROUND or txctx is not None:
                    rows._init_context_close(ctx, txctx)
                return rows

        try:
            with dc._lock:
                si = _ctx_driver_prepare(ctx, dc._ci, query)
        except BaseException as e:
            release_conn(e)
            raise

        ds = _DriverStmt(dc, si)
        try:
            rowsi = _rowsi_from_statement(ctx, dc._ci, ds, args)
        except BaseException as e:
            ds._close_quiet()
            release_conn(e)
            raise

        # Note: ownership of ci passes to the Rows, to be freed with release_conn.
        rows = Rows(dc, release_conn, rowsi)
        rows._close_stmt = ds
        if ctx is not _BACKGROUND or txctx is not None:
            rows._init_context_close(ctx, txctx)
        return rows

    def query_row_context(self, ctx: Context, query: str, *args: Any) -> Row:
        """Execute a query that is expected to return at most one row.

        It always returns a Row. Errors are deferred until Row's scan method is
        called. If the query selects no rows, Row.scan raises NoRowsError.
        Otherwise, Row.scan scans the first selected row and discards the rest.
        """
        try:
            rows = self.query_context(ctx, query, *args)
        except Exception as e:
            return Row(None, e)
        return Row(rows, None)

    def query_row(self, query: str, *args: Any) -> Row:
        """Execute a query that is expected to return at most one row; see
        :meth:`query_row_context`."""
        try:
            try:
                # (_query, inlined: the first attempt of the hot path.)
                if type(query) is not str:
                    _check_query(query)
                dc = self._conn(_BACKGROUND, _CACHED_OR_NEW_CONN)
                queryer_row = dc._queryer_row
                if queryer_row is not None:
                    row = _read_held_row(dc, None, queryer_row, query, args)
                    if row is not None:
                        return row
                    # (The driver skipped it: Rows, on the same connection.)
                rows = self._query_dc(_BACKGROUND, None, dc, dc._release_conn, query, args)
            except driver.BadConnError:
                rows = self._retry(
                    lambda strategy: self._query(_BACKGROUND, query, args, strategy), 1
                )
        except Exception as e:
            return Row(None, e)
        return Row(rows, None)

    def begin_tx(self, ctx: Context, opts: TxOptions | None = None) -> Tx:
        """Start a transaction.

        The provided context is used until the transaction is committed or
        rolled back. If the context is canceled, the sql package will roll back
        the transaction; Tx.commit will raise if the context provided to
        begin_tx is canceled. If a non-default isolation level is used that the
        driver doesn't support, an error will be raised.

        ``with db.begin_tx(ctx) as tx:`` commits on a clean exit and rolls back
        (re-raising) on an exception.
        """
        # (The first attempt inline, the retries through _retry.)
        try:
            return self._begin(ctx, opts, _CACHED_OR_NEW_CONN)
        except driver.BadConnError:
            return self._retry(lambda strategy: self._begin(ctx, opts, strategy), 1)

    def begin(self) -> Tx:
        """Start a transaction with the background context; see :meth:`begin_tx`."""
        return self.begin_tx(_BACKGROUND, None)

    def _begin(self, ctx: Context, opts: TxOptions | None, strategy: int) -> Tx:
        _check_opts(opts)
        dc = self._conn(ctx, strategy)
        return self._begin_dc(ctx, dc, dc._release_conn, opts)

    def _begin_dc(
        self,
        ctx: Context,
        dc: _DriverConn,
        release: Callable[[BaseException | None], None],
        opts: TxOptions | None,
    ) -> Tx:
        """Start a transaction. The provided dc must be valid and ready to use."""
        try:
            with dc._lock:
                # (The driver's optional methods, as looked up when dc was made.)
                has_session_resetter = dc._resetter is not None
                has_connection_validator = dc._validator is not None
                keep_conn_on_rollback = has_session_resetter and has_connection_validator
                txi = _ctx_driver_begin(ctx, opts, dc._ci)
        except BaseException as e:
            release(e)
            raise

        # Schedule the transaction to rollback when the context is canceled.
        # The cancel function in Tx will be called after done is set to true.
        # Go runs awaitDone in a goroutine; here a callback on the context.
        # When ctx can never end, txctx ends only by tx._cancel, which runs after
        # done is set, when awaitDone's rollback is a no-op: no callback needed,
        # and txctx is only made if a query asks for it (Tx._tx_ctx).
        if _never_done(ctx):
            return Tx(self, dc, release, txi, None, keep_conn_on_rollback, ctx)
        txctx, cancel = _ctx.with_cancel(ctx)
        tx = Tx(self, dc, release, txi, cancel, keep_conn_on_rollback, txctx)
        tx._stop_await = _ctx.after_func(txctx, tx._await_done)
        return tx

    def driver(self) -> driver.Driver:
        """Return the database's underlying driver."""
        return self._connector.driver()

    def conn(self, ctx: Context | None = None) -> Conn:
        """Return a single connection by either opening a new connection or
        returning an existing connection from the connection pool.

        It blocks until either a connection is returned or ctx is canceled.
        Queries run on the same Conn will be run in the same database session.
        Every Conn must be returned to the database pool after use by calling
        Conn.close (or using ``with``).
        """
        c = _BACKGROUND if ctx is None else ctx
        try:
            dc = self._conn(c, _CACHED_OR_NEW_CONN)
        except driver.BadConnError:
            dc = self._retry(lambda strategy: self._conn(c, strategy), 1)
        return Conn(self, dc)


class _DsnConnector:
    """The Connector of a driver without DriverContext: opens each connection by name."""

    __slots__ = ("_dsn", "_driver")

    def __init__(self, dsn: str, drv: driver.Driver) -> None:
        self._dsn = dsn
        self._driver = drv

    def connect(self, ctx: Context) -> driver.Conn:
        return self._driver.open(self._dsn)

    def driver(self) -> driver.Driver:
        return self._driver


def open_db(c: driver.Connector) -> DB:
    """Open a database using a driver.Connector, allowing drivers to bypass a
    string based data source name.

    open_db may just validate its arguments without creating a connection to
    the database. To verify that the data source name is valid, call
    :meth:`DB.ping`. The returned DB is safe for concurrent use by multiple
    threads and maintains its own pool of idle connections. Thus, open_db
    should be called just once. It is rarely necessary to close a DB.
    """
    if not hasattr(c, "connect") or not hasattr(c, "driver"):
        raise TypeError(
            f"sql: open_db needs a driver.Connector (connect and driver methods), "
            f"got {type(c).__name__}"
        )
    return DB(c)


def open(driver_name: str, data_source_name: str) -> DB:  # noqa: A001
    """Open a database specified by its database driver name and a driver-specific
    data source name, usually consisting of at least a database name and
    connection information.

    open may just validate its arguments without creating a connection to the
    database. To verify that the data source name is valid, call
    :meth:`DB.ping`. The returned DB is safe for concurrent use by multiple
    threads and maintains its own pool of idle connections. Thus, open should be
    called just once. It is rarely necessary to close a DB.
    """
    if not isinstance(driver_name, str):
        raise TypeError(f"sql: open: driver_name must be a str, not {type(driver_name).__name__}")
    if not isinstance(data_source_name, str):
        raise TypeError(
            f"sql: open: data_source_name must be a str, not {type(data_source_name).__name__}"
        )
    with _drivers_mu:
        driveri = _drivers.get(driver_name)
    if driveri is None:
        # Beyond Go: the drivers shipped with dbsql and those that installed
        # packages declare in the entry-point group "dbsql.drivers" are found
        # without an import (see dbsql.drivers).
        from dbsql.drivers import _find_driver

        driveri = _find_driver(driver_name)
    if driveri is None:
        raise ValueError(f"sql: unknown driver {_quote(driver_name)} (forgotten import?)")

    open_connector = getattr(driveri, "open_connector", None)
    if open_connector is not None:
        connector: driver.Connector = open_connector(data_source_name)
        return open_db(connector)

    return open_db(_DsnConnector(data_source_name, driveri))


def _pool_exhausted(err: BaseException, waited: float, pool_state: str) -> BaseException:
    """The context error of a caller that gave up waiting for a connection, of the
    same type, saying how long it waited and how full the pool was."""
    msg = f"{err} after waiting {waited:.3f}s for a connection ({pool_state})"
    try:
        return type(err)(msg)
    except Exception:  # an error type that takes other arguments: keep it as is
        return err


# connReuseStrategy determines how DB._conn returns database connections.
# _ALWAYS_NEW_CONN forces a new connection to the database.
_ALWAYS_NEW_CONN = 0
# _CACHED_OR_NEW_CONN returns a cached connection, if available, else waits for
# one to become available (if max open has been reached) or creates a new
# database connection.
_CACHED_OR_NEW_CONN = 1

_DEFAULT_MAX_IDLE_CONNS = 2

# The cleaner never runs more often than this (Go's minInterval); tests lower it.
_CLEANER_MIN_INTERVAL = 1.0

# maxBadConnRetries is the number of maximum retries if the driver raises
# driver.BadConnError to signal a broken connection before forcing a new
# connection to be opened.
_MAX_BAD_CONN_RETRIES = 2

# putConnHook is a hook for testing.
_put_conn_hook: Callable[[DB, _DriverConn], None] | None = None


def _noop() -> None:
    return None


def _close_quietly(ci: Any) -> None:
    try:
        ci.close()
    except Exception:
        pass


class _Signal:
    """A one-slot wake-up signal (Go's ``make(chan struct{}, 1)`` used with a
    non-blocking send), which can also be closed."""

    __slots__ = ("_cond", "_pending", "_closed")

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._pending = False
        self._closed = False

    def send(self) -> None:
        with self._cond:
            self._pending = True
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        """Wait until a send, a close or the timeout; consume a send."""
        with self._cond:
            if not self._pending and not self._closed:
                self._cond.wait(timeout)
            self._pending = False


class _FinalCloser(Protocol):
    """Used by DB._add_dep and related dependency reference counting."""

    def _final_close(self) -> None:
        """Called when the reference count of an object goes to zero. db._mu is
        not held while calling it."""
        ...


class _DriverConn:
    """Wraps a driver.Conn with a lock, to be held during all calls into the Conn
    (including any calls onto interfaces returned via that Conn, such as calls
    on Tx, Stmt, Result, Rows)."""

    __slots__ = (
        "_db",
        "_created_at",
        "_lock",
        "_ci",
        "_need_reset",
        "_closed",
        "_final_closed",
        "_open_stmt",
        "_in_use",
        "_dbmu_closed",
        "_returned_at",
        "_on_put",
        "_execer_ctx",
        "_execer",
        "_queryer_ctx",
        "_queryer",
        "_queryer_row",
        "_resetter",
        "_validator",
        "_fork_gen",
        "__weakref__",
    )

    def __init__(self, db: DB, ci: driver.Conn, now: float) -> None:
        self._db = db
        self._created_at = now
        self._lock = threading.Lock()  # guards following
        self._ci: Any = ci
        # The connection session should be reset before use if true.
        self._need_reset = False
        self._closed = False
        self._final_closed = False  # ci.close has been called
        self._open_stmt: dict[_DriverStmt, bool] | None = None
        # guarded by db._mu
        self._in_use = False
        # same as closed, but guarded by db._mu, for remove_closed_stmt_locked
        self._dbmu_closed = False
        self._returned_at = now  # Time the connection was created or returned.
        # code (with db._mu held) run when conn is next returned
        self._on_put: list[Callable[[], None]] = []
        # The process generation the connection was opened in (fork safety).
        self._fork_gen = _fork_gen
        # The driver's optional methods, looked up once (Go's type assertions).
        self._execer_ctx = getattr(ci, "exec_context", None)
        self._execer = getattr(ci, "exec", None)
        self._queryer_ctx = getattr(ci, "query_context", None)
        self._queryer = getattr(ci, "query", None)
        self._queryer_row = _row_reader(ci)  # (driver.QueryerRowContext)
        self._resetter = getattr(ci, "reset_session", None)
        self._validator = getattr(ci, "is_valid", None)

    def _release_conn(self, err: BaseException | None) -> None:
        self._db._put_conn(self, err, True)

    def _remove_open_stmt(self, ds: _DriverStmt) -> None:
        with self._lock:
            if self._open_stmt is not None:
                self._open_stmt.pop(ds, None)

    def _expired(self, timeout: float) -> bool:
        if timeout <= 0:
            return False
        return self._created_at + timeout < _now_func()

    def _reset_session(self, ctx: Context) -> None:
        """Check if the driver connection needs the session to be reset and if
        required, reset it."""
        with self._lock:
            if not self._need_reset:
                return
            if self._resetter is not None:
                self._resetter(ctx)

    # validateConnection (check that the connection is valid and can still be
    # used, and mark the session for reset if required) is written out in
    # DB._put_conn, its only caller: it is on every query's path.

    def _prepare_locked(self, ctx: Context, cg: _StmtConnGrabber | None, query: str) -> _DriverStmt:
        """Prepare the query on dc. When cg is None the dc must keep track of the
        prepared statements in a pool."""
        si = _ctx_driver_prepare(ctx, self._ci, query)
        ds = _DriverStmt(self, si)

        # No need to manage open statements if there is a single connection grabber.
        if cg is not None:
            return ds

        # Track each _DriverConn's open statements, so we can close them before
        # closing the conn. Wrap all driver.Stmt in _DriverStmt to ensure they
        # are only closed once.
        if self._open_stmt is None:
            self._open_stmt = {}
        self._open_stmt[ds] = True
        return ds

    # the dc._db's lock is held.
    def _close_db_locked(self) -> Callable[[], None]:
        with self._lock:
            if self._closed:
                return _raise_duplicate_close
            self._closed = True
        return self._db._remove_dep_locked(self, self)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                raise Error("sql: duplicate driverConn close")
            self._closed = True
        # not "with"; remove_dep final_close calls may need to lock

        # And now updates that require holding db._mu.
        with self._db._mu:
            self._dbmu_closed = True
            fn = self._db._remove_dep_locked(self, self)
        fn()

    def _close_quiet(self) -> None:
        """close, ignoring its error (Go ignores dc.Close's result in these places)."""
        try:
            self.close()
        except Exception:
            pass

    def _final_close(self) -> None:
        err: BaseException | None = None

        # Beyond Go: a conn closed while in use without being put back (expired
        # or failing its session reset when taken from the pool) never runs its
        # on_put, where _note_unused_driver_statement left the close of the
        # statements it already removed from open_stmt. Close them now (Go
        # leaks them).
        with self._db._mu:
            on_put = self._on_put
            self._on_put = []
        for fn in on_put:
            fn()

        # Each _DriverStmt has a lock to the dc. Copy the list out of the dc
        # before calling close on each stmt.
        with self._lock:
            open_stmt = list(self._open_stmt) if self._open_stmt else []
            self._open_stmt = None
        for ds in open_stmt:
            ds._close_quiet()
        with self._lock:
            self._final_closed = True
            try:
                self._ci.close()
            except Exception as e:
                err = e
            self._ci = None

        db = self._db
        with db._mu:
            db._num_open -= 1
            db._maybe_open_new_connections()
            db._num_closed += 1
        if err is not None:
            raise err


def _raise_duplicate_close() -> None:
    raise Error("sql: duplicate driverConn close")


class _DriverStmt:
    """Associates a driver.Stmt with the _DriverConn from which it came, so the
    _DriverConn's lock can be held during calls."""

    __slots__ = ("_dc", "_lock", "si", "_closed", "_close_err", "_query_ctx", "_query_row")

    def __init__(self, dc: _DriverConn, si: driver.Stmt) -> None:
        self._dc = dc
        self._lock = dc._lock  # the _DriverConn's lock (Go's embedded Locker)
        self.si = si
        self._closed = False
        self._close_err: BaseException | None = None  # result of previous close call
        # The driver Stmt's query_context, if it has one (Go's type assertion in
        # ctxDriverStmtQuery, made once).
        self._query_ctx: Callable[[Context, Sequence[driver.NamedValue]], driver.Rows] | None = (
            getattr(si, "query_context", None)
        )
        self._query_row = _row_reader(si)  # (driver.StmtQueryRowContext)

    def close(self) -> None:
        """Ensure driver.Stmt is only closed once and always give the same result."""
        with self._lock:
            if not self._closed:
                self._closed = True
                try:
                    self.si.close()
                except Exception as e:
                    self._close_err = e
            if self._close_err is not None:
                raise self._close_err

    def _close_quiet(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class DBStats:
    """Database statistics, as returned by :meth:`DB.stats`."""

    __slots__ = (
        "max_open_connections",
        "open_connections",
        "in_use",
        "idle",
        "wait_count",
        "wait_duration",
        "max_idle_closed",
        "max_idle_time_closed",
        "max_lifetime_closed",
    )

    def __init__(
        self,
        max_open_connections: int = 0,
        open_connections: int = 0,
        in_use: int = 0,
        idle: int = 0,
        wait_count: int = 0,
        wait_duration: float = 0.0,
        max_idle_closed: int = 0,
        max_idle_time_closed: int = 0,
        max_lifetime_closed: int = 0,
    ) -> None:
        # Maximum number of open connections to the database.
        self.max_open_connections = max_open_connections
        # Pool status: established connections both in use and idle, in use, idle.
        self.open_connections = open_connections
        self.in_use = in_use
        self.idle = idle
        # Counters: connections waited for; total seconds blocked waiting for a
        # new connection; connections closed due to set_max_idle_conns,
        # set_conn_max_idle_time and set_conn_max_lifetime.
        self.wait_count = wait_count
        self.wait_duration = wait_duration
        self.max_idle_closed = max_idle_closed
        self.max_idle_time_closed = max_idle_time_closed
        self.max_lifetime_closed = max_lifetime_closed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DBStats):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__)
        return f"DBStats({fields})"


class _ConnRequest:
    """One request for a connection. When there are no idle connections
    available, DB._conn creates one and puts it in db._conn_requests.

    Go's buffered ``chan connRequest``: the sender fills it once (under db._mu)
    and releases the semaphore; closing it (DB.close) releases it with ok=False;
    the waiter's context releases it through ``wake``.
    """

    __slots__ = ("sem", "conn", "err", "ok", "filled", "idx")

    def __init__(self) -> None:
        self.sem = threading.Lock()
        self.sem.acquire()
        self.conn: _DriverConn | None = None
        self.err: BaseException | None = None
        self.ok = True
        self.filled = False
        # current location in _ConnRequestSet._s; -1 upon removal.
        self.idx = -1

    def send(self, conn: _DriverConn | None, err: BaseException | None) -> None:
        self.conn = conn
        self.err = err
        self.filled = True
        self.wake()

    def close(self) -> None:
        self.ok = False
        self.filled = True
        self.wake()

    def wake(self) -> None:
        try:
            self.sem.release()
        except RuntimeError:
            pass  # already woken


# A handle to delete an item added to a _ConnRequestSet: the request itself,
# whose idx is its place in the set or -1 if not in it.
_ConnRequestHandle = _ConnRequest


class _ConnRequestSet:
    """A set of waiting connection requests, optimized for adding an element,
    removing an element (only by the caller who added it) and taking (get +
    delete) a random element. Guarded by db._mu."""

    __slots__ = ("_s",)

    def __init__(self) -> None:
        # the elements in the set.
        self._s: list[_ConnRequest] = []

    def close_and_remove_all(self) -> None:
        """Close all requests in the set and clear the set."""
        for v in self._s:
            v.idx = -1
            v.close()
        self._s = []

    def __len__(self) -> int:
        return len(self._s)

    def add(self, v: _ConnRequest) -> _ConnRequestHandle:
        """Add v to the set of waiting requests; the returned handle can be used
        to remove the item from the set."""
        v.idx = len(self._s)
        self._s.append(v)
        return v

    def delete(self, h: _ConnRequestHandle) -> bool:
        """Remove an element from the set; report whether it was deleted (False if
        a take_random took it meanwhile, or upon the second call to delete)."""
        idx = h.idx
        if idx < 0:
            return False
        self._delete_index(idx)
        return True

    def _delete_index(self, idx: int) -> None:
        s = self._s
        # Mark item as deleted.
        s[idx].idx = -1
        # Copy last element, updating its position to its new home.
        last = s.pop()
        if idx < len(s):
            last.idx = idx
            s[idx] = last

    def take_random(self) -> _ConnRequest | None:
        """Return and remove a random element, or None if the set is empty."""
        if not self._s:
            return None
        # (random.random, one C call: randrange is three Python frames, and this
        # runs under db._mu on every contended hand-off; the bias for a set of
        # fewer than 2**40 requests is below 2**-13 of a request's share.)
        pick = int(_random() * len(self._s))
        e = self._s[pick]
        self._delete_index(pick)
        return e


class Conn:
    """A single database connection rather than a pool of database connections.

    Prefer running queries from DB unless there is a specific need for a
    continuous single database connection. A Conn must call :meth:`close` to
    return the connection to the database pool and may do so concurrently with a
    running query. After a call to close, all operations on the connection fail
    with ConnDoneError. ``with db.conn() as c:`` closes it at the end.
    """

    __slots__ = (
        "_db",
        "_closemu",
        "_dc",
        "_done",
        "_release_conn_cache",
        "_leak",
        "__weakref__",
    )

    def __init__(self, db: DB, dc: _DriverConn) -> None:
        self._db: DB | None = db
        # closemu prevents the connection from closing while there is an active
        # query. It is held for read during queries and exclusively during close.
        self._closemu = _ClosingMutex()
        # dc is owned until close, at which point it's returned to the pool.
        self._dc: _DriverConn | None = dc
        # done transitions from False to True exactly once, on close. Once
        # done, all operations fail with ConnDoneError.
        # (Go's atomic done; closemu's own mutex guards it, see _close.)
        self._done = False
        # release_conn_cache is a cache of _closemu_runlock_cond_release_conn
        # to save allocations when handed out by _grab_conn (a bound method is
        # a new object on every attribute access).
        self._release_conn_cache: Callable[[BaseException | None], None] = (
            self._closemu_runlock_cond_release_conn
        )
        leaks = db._leaks
        self._leak: _Held | None = leaks.track(self) if leaks is not None else None

    def __del__(self) -> None:
        if not getattr(self, "_done", True):
            _warn_unclosed(self, self._leak)

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.close()

    def _grab_conn(
        self, ctx: Context | None
    ) -> tuple[_DriverConn, Callable[[BaseException | None], None]]:
        """Implements _StmtConnGrabber; the context is not used."""
        if self._done:
            raise ConnDoneError()
        self._closemu.rlock()
        dc = self._dc
        if dc is None:  # closed between the check and the lock
            self._closemu.runlock()
            raise ConnDoneError()
        return dc, self._release_conn_cache

    def _db_or_done(self) -> DB:
        db = self._db
        if db is None:
            raise ConnDoneError()
        return db

    def ping_context(self, ctx: Context) -> None:
        """Verify the connection to the database is still alive."""
        _check_ctx(ctx)
        dc, release = self._grab_conn(ctx)
        self._db_or_done()._ping_dc(ctx, dc, release)

    def ping(self) -> None:
        """Verify the connection to the database is still alive (background context)."""
        self.ping_context(_ctx.background())

    def exec_context(self, ctx: Context, query: str, *args: Any) -> Result:
        """Execute a query without returning any rows."""
        _check_args(ctx, query)
        dc, release = self._grab_conn(ctx)
        return dc._db._exec_dc(ctx, dc, release, query, args)

    def exec(self, query: str, *args: Any) -> Result:
        """Execute a query without returning any rows (background context)."""
        return self.exec_context(_BACKGROUND, query, *args)

    def query_context(self, ctx: Context, query: str, *args: Any) -> Rows:
        """Execute a query that returns rows, typically a SELECT."""
        _check_args(ctx, query)
        dc, release = self._grab_conn(ctx)
        return dc._db._query_dc(ctx, None, dc, release, query, args)

    def query(self, query: str, *args: Any) -> Rows:
        """Execute a query that returns rows (background context)."""
        return self.query_context(_BACKGROUND, query, *args)

    def query_row_context(self, ctx: Context, query: str, *args: Any) -> Row:
        """Execute a query that is expected to return at most one row; errors are
        deferred until Row.scan."""
        try:
            rows = self.query_context(ctx, query, *args)
        except Exception as e:
            return Row(None, e)
        return Row(rows, None)

    def query_row(self, query: str, *args: Any) -> Row:
        """Execute a query that is expected to return at most one row (background context)."""
        return self.query_row_context(_BACKGROUND, query, *args)

    def prepare_context(self, ctx: Context, query: str) -> Stmt:
        """Create a prepared statement bound to this connection."""
        _check_args(ctx, query)
        dc, release = self._grab_conn(ctx)
        return dc._db._prepare_dc(ctx, dc, release, self, query)

    def prepare(self, query: str) -> Stmt:
        """Create a prepared statement bound to this connection (background context)."""
        return self.prepare_context(_ctx.background(), query)

    def raw(self, f: Callable[[Any], _T]) -> _T:
        """Execute f exposing the underlying driver connection for the duration of f.

        The driver connection must not be used outside of f. Once f returns and
        does not raise driver.BadConnError, the Conn will continue to be usable
        until close is called. f's result is returned.
        """
        if not callable(f):
            raise TypeError(f"sql: Conn.raw: f must be callable, not {type(f).__name__}")
        # grab_conn takes a context to implement _StmtConnGrabber, but the
        # context is not used.
        dc, release = self._grab_conn(None)
        err: BaseException | None = None
        dc._lock.acquire()
        try:
            return f(dc._ci)
        except driver.BadConnError as e:
            err = e
            raise
        except BaseException as e:
            # If f raises, pass BadConnError to release so the connection may
            # be discarded (Go: if f panics).
            err = driver.BadConnError()
            raise e
        finally:
            dc._lock.release()
            release(err)

    def begin_tx(self, ctx: Context, opts: TxOptions | None = None) -> Tx:
        """Start a transaction on this connection; see :meth:`DB.begin_tx`."""
        _check_ctx(ctx)
        _check_opts(opts)
        dc, release = self._grab_conn(ctx)
        return dc._db._begin_dc(ctx, dc, release, opts)

    def begin(self) -> Tx:
        """Start a transaction on this connection (background context)."""
        return self.begin_tx(_ctx.background(), None)

    def _closemu_runlock_cond_release_conn(self, err: BaseException | None) -> None:
        """Read unlock closemu as the sql operation is done with the dc."""
        self._closemu.runlock()
        if isinstance(err, driver.BadConnError):
            try:
                self._close(err)
            except (ConnDoneError, driver.BadConnError):
                pass

    def _tx_ctx(self) -> Context | None:
        return None

    def _close(self, err: BaseException | None) -> None:
        closemu = self._closemu
        # done's compare-and-swap under closemu's own mutex, which also takes
        # closemu.lock in the uncontended case (never held while calling closemu).
        with closemu._mu:
            if self._done:
                raise ConnDoneError()
            self._done = True
            locked = not (closemu._writer or closemu._readers)
            if locked:
                closemu._writer = True

        if self._leak is not None:
            self._leak.done = True
        # Lock around releasing the driver connection to ensure all queries
        # have been stopped before doing so.
        if not locked:
            closemu.lock()
        try:
            dc = self._dc
            assert dc is not None
            dc._release_conn(err)
            self._dc = None
            self._db = None
            # (The cached bound method refers to this Conn: dropped here, so that
            # a closed Conn is freed at once, not by Python's cycle collector.)
            self._release_conn_cache = _noop_release
        finally:
            self._closemu.unlock()
        if err is not None:
            raise err

    def close(self) -> None:
        """Return the connection to the connection pool.

        All operations after a close raise ConnDoneError. close is safe to call
        concurrently with other operations and blocks until all other operations
        finish. It may be useful to first cancel any used context and then call
        close directly after.
        """
        self._close(None)


class Tx:
    """An in-progress database transaction.

    A transaction must end with a call to :meth:`commit` or :meth:`rollback`.
    After that, all operations on the transaction fail with TxDoneError. The
    statements prepared for a transaction by :meth:`prepare` or :meth:`stmt` are
    closed by the call to commit or rollback.

    ``with db.begin() as tx:`` commits on a clean exit and rolls back (and
    re-raises) on an exception.
    """

    def __init__(
        self,
        db: DB,
        dc: _DriverConn,
        release_conn: Callable[[BaseException | None], None],
        txi: driver.Tx,
        cancel: Callable[[], None] | None,
        keep_conn_on_rollback: bool,
        ctx: Context,
    ) -> None:
        """cancel is None when ctx can never end: the transaction's own context
        (a child of ctx that cancel ends) is then made on first use by _tx_ctx."""
        self._db = db
        # closemu prevents the transaction from closing while there is an active
        # query. It is held for read during queries and exclusively during close.
        self._closemu = _ClosingMutex()
        # dc is owned exclusively until commit or rollback, at which point it's
        # returned with put_conn.
        self._dc: _DriverConn | None = dc
        self._txi: driver.Tx | None = txi
        # release_conn is called once the Tx is closed to release any held
        # _DriverConn back to the pool.
        self._release_conn = release_conn
        # done transitions from False to True exactly once, on commit or
        # rollback. Once done, all operations fail with TxDoneError.
        self._done = False
        self._done_lock = threading.Lock()
        # keep_conn_on_rollback is true if the driver knows how to reset the
        # connection's session and if need be discard the connection.
        self._keep_conn_on_rollback = keep_conn_on_rollback
        # All Stmts prepared for this transaction. These will be closed after
        # the transaction has been committed or rolled back.
        self._stmts_lock = threading.Lock()
        self._stmts: list[Stmt] = []
        # cancel is called after done transitions from False to True.
        self._cancel: Callable[[], None] = _noop if cancel is None else cancel
        # ctx lives for the life of the transaction (None: not made yet, see
        # _tx_ctx; parent_ctx is then the one it derives from).
        self._ctx: Context | None = None if cancel is None else ctx
        self._parent_ctx = ctx
        # Stops the rollback callback registered on ctx (Go's awaitDone goroutine).
        self._stop_await: Callable[[], bool] = _false
        leaks = db._leaks
        self._leak: _Held | None = leaks.track(self) if leaks is not None else None

    def __del__(self) -> None:
        if not getattr(self, "_done", True):
            _warn_unclosed(self, self._leak)

    def __enter__(self) -> Tx:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            if not self._done:
                try:
                    self.rollback()
                except TxDoneError:
                    pass
            return
        if not self._done:
            self.commit()

    def _await_done(self) -> None:
        """Called once the context in Tx is done: roll back the transaction if
        it's not already done."""
        # Discard and close the connection used to ensure the transaction is
        # closed and the resources are released. This rollback does nothing if
        # the transaction has already been committed or rolled back. Do not
        # discard the connection if the connection knows how to reset the
        # session.
        discard_connection = not self._keep_conn_on_rollback
        try:
            self._rollback(discard_connection)
        except Exception:
            pass

    def _is_done(self) -> bool:
        return self._done

    def _set_done(self) -> bool:
        """Go's done.CompareAndSwap(false, true)."""
        with self._done_lock:
            if self._done:
                return False
            self._done = True
            return True

    def _close(self, err: BaseException | None) -> None:
        """Return the connection to the pool; must only be called by rollback or
        commit while tx is already canceled and won't be executed concurrently."""
        if self._leak is not None:
            self._leak.done = True
        self._release_conn(err)
        self._dc = None
        self._txi = None

    def _grab_conn(
        self, ctx: Context | None
    ) -> tuple[_DriverConn, Callable[[BaseException | None], None]]:
        if ctx is not None and ctx is not _BACKGROUND:
            err = ctx.err()
            if err is not None:
                raise err

        # closemu.rlock must come before the check for is_done to prevent the
        # Tx from closing while a query is executing.
        self._closemu.rlock()
        if self._done:
            self._closemu.runlock()
            raise TxDoneError()
        hook = _hook_tx_grab_conn
        if hook is not None:  # test hook
            hook()
        dc = self._dc
        assert dc is not None
        return dc, self._closemu_runlock_release

    def _tx_ctx(self) -> Context:
        ctx = self._ctx
        if ctx is None:
            # Made on first use (the parent can never end, see _begin_dc); made
            # after done, it is born canceled, as Go's would be by then.
            with self._done_lock:
                ctx = self._ctx
                if ctx is None:
                    ctx, cancel = _ctx.with_cancel(self._parent_ctx)
                    if self._done:
                        cancel()
                    else:
                        self._cancel = cancel
                    self._ctx = ctx
        return ctx

    def _closemu_runlock_release(self, err: BaseException | None) -> None:
        """Used as the release function in exec and query: unlocking in the release
        keeps the driver conn from being returned to the pool until the Rows has
        been closed."""
        self._closemu.runlock()

    def _close_prepared(self) -> None:
        """Close all Stmts prepared for this transaction."""
        if not self._stmts:
            # (None to close. Read without the lock: commit and rollback call
            # this after taking closemu exclusively, so no prepare is under way.)
            return
        with self._stmts_lock:
            for stmt in self._stmts:
                try:
                    stmt.close()
                except Exception:
                    pass
            # (Then forgotten: each refers back to this Tx, and the cycle would
            # leave both to Python's cycle collector. The Tx is done: nothing
            # is prepared on it again.)
            self._stmts = []

    def commit(self) -> None:
        """Commit the transaction."""
        # Check context first to avoid transaction leak. If put it behind the
        # done check, we can't ensure the consistency between done and the real
        # COMMIT operation.
        ctx = self._ctx
        err = ctx.err() if ctx is not None else None
        if err is not None:
            if self._done:
                raise TxDoneError()
            raise err
        if not self._set_done():
            raise TxDoneError()

        # Cancel the Tx to release any active R-closemu locks. This is safe to
        # do because done has already transitioned from False to True. Hold the
        # W-closemu lock prior to rollback to ensure no other connection has an
        # active query.
        self._stop_await()
        self._cancel()
        self._closemu.lock_unlock()

        dc = self._dc
        txi = self._txi
        assert dc is not None and txi is not None
        cerr: BaseException | None = None
        try:
            with dc._lock:
                txi.commit()
        except BaseException as e:
            cerr = e
        if not isinstance(cerr, driver.BadConnError):
            self._close_prepared()
        self._close(cerr)
        if cerr is not None:
            raise cerr

    def _rollback(self, discard_conn: bool) -> None:
        """Abort the transaction and optionally force the pool to discard the connection."""
        if not self._set_done():
            raise TxDoneError()

        hook = _rollback_hook
        if hook is not None:
            hook()

        # Cancel the Tx to release any active R-closemu locks. This is safe to
        # do because done has already transitioned from False to True. Hold the
        # W-closemu lock prior to rollback to ensure no other connection has an
        # active query.
        self._stop_await()
        self._cancel()
        self._closemu.lock_unlock()

        dc = self._dc
        txi = self._txi
        assert dc is not None and txi is not None
        err: BaseException | None = None
        try:
            with dc._lock:
                txi.rollback()
        except BaseException as e:
            err = e
        if not isinstance(err, driver.BadConnError):
            self._close_prepared()
        if discard_conn:
            err = driver.BadConnError()
            self._close(err)
            return
        self._close(err)
        if err is not None:
            raise err

    def rollback(self) -> None:
        """Abort the transaction."""
        self._rollback(False)

    def prepare_context(self, ctx: Context, query: str) -> Stmt:
        """Create a prepared statement for use within a transaction.

        The returned statement operates within the transaction and will be
        closed when the transaction has been committed or rolled back. The
        context is used for the preparation, not for the execution of the
        returned statement, which runs in the transaction context.
        """
        _check_args(ctx, query)
        dc, release = self._grab_conn(ctx)
        # Beyond Go: closemu stays read-locked until the Stmt is in tx._stmts;
        # Go releases it first, so a rollback on the Tx's context in between
        # (which waits for closemu) misses the Stmt and leaves it open.
        err: BaseException | None = None
        try:
            stmt = self._db._prepare_dc(ctx, dc, _noop_release, self, query)
            with self._stmts_lock:
                self._stmts.append(stmt)
        except BaseException as e:
            err = e
            raise
        finally:
            release(err)
        return stmt

    def prepare(self, query: str) -> Stmt:
        """Create a prepared statement for use within a transaction (background context)."""
        return self.prepare_context(_ctx.background(), query)

    def stmt_context(self, ctx: Context, stmt: Stmt) -> Stmt:
        """Return a transaction-specific prepared statement from an existing statement.

        The context is used for the preparation of the statement, not for its
        execution. The returned statement operates within the transaction and
        will be closed when the transaction has been committed or rolled back.
        Errors are sticky on the returned statement.
        """
        _check_ctx(ctx)
        if not isinstance(stmt, Stmt):
            raise TypeError(f"sql: Tx.stmt: stmt must be a Stmt, not {type(stmt).__name__}")
        try:
            dc, release = self._grab_conn(ctx)
        except Exception as e:
            return Stmt._sticky(e)
        try:
            if self._db is not stmt._db:
                return Stmt._sticky(Error("sql: Tx.Stmt: statement from different database used"))
            si: driver.Stmt | None = None
            parent_stmt: Stmt | None = None
            stmt._mu.acquire()
            if stmt._closed or stmt._cg is not None:
                # If the statement has been closed or already belongs to a
                # transaction, we can't reuse it in this connection. Since
                # stmt_context should never need to be called with a Stmt
                # already belonging to tx, we ignore this edge case and
                # re-prepare the statement in this case. No need to add
                # code-complexity for this.
                stmt._mu.release()
                try:
                    with dc._lock:
                        si = _ctx_driver_prepare(ctx, dc._ci, stmt._query)
                except Exception as e:
                    return Stmt._sticky(e)
            else:
                stmt._remove_closed_stmt_locked()
                # See if the statement has already been prepared on this
                # connection, and reuse it if possible.
                for v in stmt._css:
                    if v.dc is dc:
                        si = v.ds.si
                        break
                stmt._mu.release()

                if si is None:
                    try:
                        with dc._lock:
                            ds = stmt._prepare_on_conn_locked(ctx, dc)
                    except Exception as e:
                        return Stmt._sticky(e)
                    si = ds.si
                parent_stmt = stmt

            txs = Stmt(self._db, stmt._query, self, _DriverStmt(dc, si))
            txs._parent_stmt = parent_stmt
            if parent_stmt is not None:
                self._db._add_dep(parent_stmt, txs)
            with self._stmts_lock:
                self._stmts.append(txs)
            return txs
        finally:
            release(None)

    def stmt(self, stmt: Stmt) -> Stmt:
        """Return a transaction-specific prepared statement from an existing
        statement (background context); see :meth:`stmt_context`."""
        return self.stmt_context(_ctx.background(), stmt)

    def exec_context(self, ctx: Context, query: str, *args: Any) -> Result:
        """Execute a query that doesn't return rows, for example an INSERT or UPDATE."""
        _check_args(ctx, query)
        dc, release = self._grab_conn(ctx)
        return self._db._exec_dc(ctx, dc, release, query, args)

    def exec(self, query: str, *args: Any) -> Result:
        """Execute a query that doesn't return rows (background context)."""
        return self.exec_context(_BACKGROUND, query, *args)

    def query_context(self, ctx: Context, query: str, *args: Any) -> Rows:
        """Execute a query that returns rows, typically a SELECT."""
        _check_args(ctx, query)
        dc, release = self._grab_conn(ctx)
        return self._db._query_dc(ctx, self._tx_ctx(), dc, release, query, args)

    def query(self, query: str, *args: Any) -> Rows:
        """Execute a query that returns rows (background context)."""
        return self.query_context(_BACKGROUND, query, *args)

    def query_row_context(self, ctx: Context, query: str, *args: Any) -> Row:
        """Execute a query that is expected to return at most one row; errors are
        deferred until Row.scan."""
        try:
            rows = self.query_context(ctx, query, *args)
        except Exception as e:
            return Row(None, e)
        return Row(rows, None)

    def query_row(self, query: str, *args: Any) -> Row:
        """Execute a query that is expected to return at most one row (background context)."""
        return self.query_row_context(_BACKGROUND, query, *args)


def _false() -> bool:
    return False


# hookTxGrabConn specifies an optional hook to be called on a successful call
# to Tx._grab_conn. For tests.
_hook_tx_grab_conn: Callable[[], None] | None = None

_rollback_hook: Callable[[], None] | None = None


class _ConnStmt:
    """A prepared statement on a particular connection."""

    __slots__ = ("dc", "ds")

    def __init__(self, dc: _DriverConn, ds: _DriverStmt) -> None:
        self.dc = dc
        self.ds = ds


class _StmtConnGrabber(Protocol):
    """A Tx or Conn that will return the underlying _DriverConn and release function."""

    def _grab_conn(
        self, ctx: Context | None
    ) -> tuple[_DriverConn, Callable[[BaseException | None], None]]:
        """Return the _DriverConn and the associated release function that must be
        called when the operation completes."""
        ...

    def _tx_ctx(self) -> Context | None:
        """Return the transaction context if available. It should be waited on
        along with any query context when awaiting a cancel."""
        ...


class Stmt:
    """A prepared statement. A Stmt is safe for concurrent use by multiple threads.

    If a Stmt is prepared on a Tx or Conn, it will be bound to a single
    underlying connection forever. If the Tx or Conn closes, the Stmt will
    become unusable and all operations will raise an error. If a Stmt is
    prepared on a DB, it will remain usable for the lifetime of the DB. When the
    Stmt needs to execute on a new underlying connection, it will prepare
    itself on the new connection automatically. ``with`` closes it.
    """

    def __init__(
        self,
        db: DB | None,
        query: str,
        cg: _StmtConnGrabber | None,
        cgds: _DriverStmt | None,
        sticky_err: BaseException | None = None,
    ) -> None:
        # Immutable:
        self._db = db  # where we came from
        self._query = query  # that created the Stmt
        self._sticky_err = sticky_err  # if set, this error is raised for all operations

        self._closemu = _ClosingMutex()  # held exclusively during close, for read otherwise.

        # If Stmt is prepared on a Tx or Conn then cg is present and will only
        # ever grab a connection from cg. If cg is None then the Stmt must grab
        # an arbitrary connection from db and determine if it must prepare the
        # stmt again by inspecting css.
        self._cg = cg
        self._cgds = cgds

        # parent_stmt is set when a transaction-specific statement is requested
        # from an identical statement prepared on the same conn. It is used to
        # track the dependency of this statement on its originating ("parent")
        # statement so that parent_stmt may be closed by the user without them
        # having to know whether or not any transactions are still using it.
        self._parent_stmt: Stmt | None = None

        self._mu = threading.Lock()  # protects the rest of the fields
        self._closed = False

        # css is a list of underlying driver statement interfaces that are valid
        # on particular connections. This is only used if cg is None and one is
        # found that has idle connections. If cg is not None, cgds is always used.
        self._css: list[_ConnStmt] = []

        # last_num_closed is copied from db._num_closed when Stmt is created
        # without tx and closed connections in css are removed.
        self._last_num_closed = 0

    @classmethod
    def _sticky(cls, err: BaseException) -> Stmt:
        return cls(None, "", None, None, err)

    def __enter__(self) -> Stmt:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True) and self._sticky_err is None and self._db is not None:
            _warn_unclosed(self, None)

    def exec_context(self, ctx: Context, *args: Any) -> Result:
        """Execute a prepared statement with the given arguments and return a
        Result summarizing the effect of the statement."""
        if ctx is not _BACKGROUND:
            _check_ctx(ctx)
        self._closemu.rlock()
        try:
            if self._sticky_err is not None:
                raise self._sticky_err
            db = self._db
            assert db is not None
            # (The first attempt inline, the retries through db._retry.)
            try:
                return self._exec_attempt(ctx, args, _CACHED_OR_NEW_CONN)
            except driver.BadConnError:
                return db._retry(lambda strategy: self._exec_attempt(ctx, args, strategy), 1)
        finally:
            self._closemu.runlock()

    def _exec_attempt(self, ctx: Context, args: Sequence[Any], strategy: int) -> Result:
        dc, release_conn, ds = self._conn_stmt(ctx, strategy)
        try:
            res = _result_from_statement(ctx, dc._ci, ds, args)
        except BaseException as e:
            release_conn(e)
            raise
        release_conn(None)
        return res

    def exec(self, *args: Any) -> Result:
        """Execute a prepared statement (background context); see :meth:`exec_context`."""
        return self.exec_context(_BACKGROUND, *args)

    def _remove_closed_stmt_locked(self) -> None:
        """Remove closed conns in css.

        To avoid lock contention on db._mu, we do it only when
        db._num_closed - last_num_closed is large enough.
        """
        t = len(self._css) // 2 + 1
        if t > 10:
            t = 10
        db = self._db
        assert db is not None
        db_closed = db._num_closed
        if db_closed - self._last_num_closed < t:
            return

        with db._mu:
            self._css = [cs for cs in self._css if not cs.dc._dbmu_closed]
        self._last_num_closed = db_closed

    def _conn_stmt(
        self, ctx: Context, strategy: int
    ) -> tuple[_DriverConn, Callable[[BaseException | None], None], _DriverStmt]:
        """Return a free driver connection on which to execute the statement, a
        function to call to release the connection, and a statement bound to that
        connection."""
        if self._sticky_err is not None:
            raise self._sticky_err
        self._mu.acquire()
        if self._closed:
            self._mu.release()
            raise StmtClosedError()

        # In a transaction or connection, we always use the connection that the
        # stmt was created on.
        cg = self._cg
        if cg is not None:
            self._mu.release()
            dc, release_conn = cg._grab_conn(ctx)  # blocks, waiting for the connection.
            cgds = self._cgds
            if cgds is None:  # closed meanwhile
                release_conn(None)
                raise StmtClosedError()
            return dc, release_conn, cgds

        db = self._db
        assert db is not None
        # (Nothing closed since the last sweep, the usual case: no call.)
        if db._num_closed != self._last_num_closed:
            self._remove_closed_stmt_locked()
        self._mu.release()

        dc = db._conn(ctx, strategy)

        with self._mu:
            for v in self._css:
                if v.dc is dc:
                    return dc, dc._release_conn, v.ds

        # No luck; we need to prepare the statement on this connection
        try:
            with dc._lock:
                ds = self._prepare_on_conn_locked(ctx, dc)
        except BaseException as e:
            dc._release_conn(e)
            raise
        return dc, dc._release_conn, ds

    def _prepare_on_conn_locked(self, ctx: Context, dc: _DriverConn) -> _DriverStmt:
        """Prepare the query in Stmt s on dc and add it to the list of open conn
        stmts on the statement. It assumes the caller is holding the lock on dc."""
        si = dc._prepare_locked(ctx, self._cg, self._query)
        cs = _ConnStmt(dc, si)
        with self._mu:
            self._css.append(cs)
        return cs.ds

    def query_context(self, ctx: Context, *args: Any) -> Rows:
        """Execute a prepared query statement with the given arguments and return
        the query results as Rows."""
        if ctx is not _BACKGROUND:
            _check_ctx(ctx)
        return self._query_rows(ctx, args, False)  # type: ignore[return-value]  # (not one_row)

    def _query_rows(self, ctx: Context, args: Sequence[Any], one_row: bool) -> Rows | _HeldRow:
        """query_context's body; with one_row (query_row's), the first attempt reads
        the row in one driver call where the driver Stmt can (StmtQueryRowContext,
        beyond Go)."""
        self._closemu.rlock()
        try:
            if self._sticky_err is not None:
                raise self._sticky_err
            db = self._db
            assert db is not None
            # (The first attempt inline, the retries through db._retry.)
            try:
                return self._query_attempt(db, ctx, args, _CACHED_OR_NEW_CONN, one_row)
            except driver.BadConnError:
                return db._retry(lambda strategy: self._query_attempt(db, ctx, args, strategy), 1)
        finally:
            self._closemu.runlock()

    def _query_attempt(
        self, db: DB, ctx: Context, args: Sequence[Any], strategy: int, one_row: bool = False
    ) -> Rows | _HeldRow:
        dc, release_conn, ds = self._conn_stmt(ctx, strategy)
        # Beyond Go: the row of query_row read in one driver call, on a statement
        # outside a transaction (a Tx's closemu waits for its rows, and only its
        # context callback closes them). The Row keeps the connection until it is
        # scanned; the driver statement is done with, so no dependency is noted.
        # (one_row: query_row's first attempt, under the background context; with
        # no grabber, release_conn is dc's own, which the helper calls.)
        query_row = ds._query_row if one_row and self._cg is None else None
        if query_row is not None:
            row = _read_held_row(dc, ds, query_row, "", args)
            if row is not None:
                return row
        try:
            rowsi = _rowsi_from_statement(ctx, dc._ci, ds, args)
        except BaseException as e:
            release_conn(e)
            raise
        # Note: ownership of ci passes to the Rows, to be freed with
        # release_conn.
        rows = Rows(dc, _noop_release, rowsi)
        # add_dep must be added before init_context_close or it could
        # attempt to remove_dep before it has been added.
        db._add_dep(self, rows)

        # release_conn must be set before init_context_close or it could
        # release the connection before it is set.
        def release(err: BaseException | None) -> None:
            release_conn(err)
            db._remove_dep(self, rows)

        rows._release_conn = release
        cg = self._cg
        if ctx is not _BACKGROUND or cg is not None:
            rows._init_context_close(ctx, cg._tx_ctx() if cg is not None else None)
        return rows

    def query(self, *args: Any) -> Rows:
        """Execute a prepared query statement (background context); see
        :meth:`query_context`."""
        return self.query_context(_BACKGROUND, *args)

    def query_row_context(self, ctx: Context, *args: Any) -> Row:
        """Execute a prepared query statement that is expected to return at most
        one row. Errors are deferred until Row.scan; with no rows, Row.scan raises
        NoRowsError."""
        try:
            rows = self.query_context(ctx, *args)
        except Exception as e:
            return Row(None, e)
        return Row(rows, None)

    def query_row(self, *args: Any) -> Row:
        """Execute a prepared query statement expected to return at most one row
        (background context)."""
        # (query_row_context, written out: W6's path.)
        try:
            rows = self._query_rows(_BACKGROUND, args, True)
        except Exception as e:
            return Row(None, e)
        if type(rows) is _HeldRow:
            return rows
        return Row(rows, None)  # type: ignore[arg-type]

    def close(self) -> None:
        """Close the statement."""
        self._closemu.lock()
        try:
            if self._sticky_err is not None:
                raise self._sticky_err
            with self._mu:
                if self._closed:
                    return
                self._closed = True
                txds = self._cgds
                self._cgds = None

            db = self._db
            if self._cg is None:
                assert db is not None
                db._remove_dep(self, self)
                return

            if self._parent_stmt is not None:
                # If parent_stmt is set, we must not close txds since it's
                # stored in the css array of the parent_stmt.
                assert db is not None
                db._remove_dep(self._parent_stmt, self)
                return
            assert txds is not None
            txds.close()
        finally:
            self._closemu.unlock()

    def _final_close(self) -> None:
        with self._mu:
            if self._css:
                db = self._db
                assert db is not None
                for v in self._css:
                    db._note_unused_driver_statement(v.dc, v.ds)
                    v.dc._remove_open_stmt(v.ds)
                self._css = []


def _noop_release(err: BaseException | None) -> None:
    return None


def _result_from_statement(
    ctx: Context, ci: driver.Conn, ds: _DriverStmt, args: Sequence[Any]
) -> Result:
    with ds._lock:
        dargs = _driver_args_conn_locked(ci, ds, args)
        resi = _ctx_driver_stmt_exec(ctx, ds.si, dargs)
    return _DriverResult(ds._lock, resi)


def _rowsi_from_statement(
    ctx: Context, ci: driver.Conn, ds: _DriverStmt, args: Sequence[Any]
) -> driver.Rows:
    with ds._lock:
        dargs = _driver_args_conn_locked(ci, ds, args)
        query_ctx = ds._query_ctx
        if query_ctx is not None:  # (ctxDriverStmtQuery, inlined)
            return query_ctx(ctx, dargs)
        return _ctx_driver_stmt_query(ctx, ds.si, dargs)


class Rows:
    """The result of a query. Its cursor starts before the first row of the result set.

    Use :meth:`next` to advance from row to row and :meth:`scan` to read it, or
    iterate: ``for row in rows:`` yields each row as a tuple of the driver's
    values and closes the rows at the end. ``with`` closes them too.
    """

    __slots__ = (
        "_dc",
        "_release_conn",
        "_rowsi",
        "_col_scanner",
        "_cancel",
        "_close_stmt",
        "_context_done",
        "_closemu",
        "_lasterr",
        "_closed",
        "_closemu_scan_hold",
        "_hit_eof",
        "_lastcols",
        "_next_batch",
        "_buf",
        "_bpos",
        "_leak",
        "__weakref__",
    )

    def __init__(
        self,
        dc: _DriverConn,
        release_conn: Callable[[BaseException | None], None],
        rowsi: driver.Rows,
    ) -> None:
        self._dc = dc  # owned; must call release_conn when closed to release
        self._release_conn = release_conn
        self._rowsi: Any = rowsi
        # Rows that implement driver.RowsColumnScanner: next is never called.
        # (What the driver's Rows type implements, looked up once per type.)
        caps = _rows_caps.get(type(rowsi))
        if caps is None:
            caps = _rows_caps_of(rowsi)
        self._col_scanner = caps
        self._cancel: Callable[[], object] | None = None  # called when Rows is closed
        self._close_stmt: _DriverStmt | None = None  # if set, statement to close on close

        # error that the context callback saw; set before close attempt
        self._context_done: BaseException | None = None

        # closemu prevents Rows from closing while there is an active streaming
        # result. It is held for read during non-close operations and
        # exclusively during close. closemu guards lasterr and closed.
        self._closemu = _ClosingMutex()
        self._lasterr: BaseException | None = None  # set only if closed is True
        self._closed = False

        # closemu_scan_hold is whether the previous call to scan kept closemu
        # read-locked without unlocking it. It does that when the user passes a
        # RawBytes scan target. In that case, we need to prevent the context
        # callback from closing the Rows while the user's still using the
        # memory (Go issue 60304). It is only used by scan, next, and
        # next_result_set which are expected not to be called concurrently.
        self._closemu_scan_hold = False

        # hit_eof is whether next hit the end of the rows without encountering
        # an error. It's only used by next and err which are expected not to be
        # called concurrently.
        self._hit_eof = False

        # lastcols is only used in scan, next, and next_result_set which are
        # expected not to be called concurrently.
        self._lastcols: Sequence[Any] | None = None

        # Beyond Go: rows whose driver implements driver.RowsNextBatch are read
        # from the driver a batch at a time (under the same locks as Go's Next);
        # next then hands out the rows of the batch without calling the driver.
        # Only next, next_result_set and close touch these.
        self._next_batch: Callable[[int], list[tuple[Any, ...]]] | None = (
            None if caps else getattr(rowsi, "next_batch", None)
        )
        self._buf: Sequence[tuple[Any, ...]] = ()
        self._bpos = 0

        leaks = dc._db._leaks
        self._leak: _Held | None = leaks.track(self) if leaks is not None else None

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            _warn_unclosed(self, self._leak)

    def __enter__(self) -> Rows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        """Yield each row as a tuple of the driver's values, then close the rows.

        An error met while iterating is raised at the end (and still reported by
        :meth:`err`).
        """
        try:
            while True:
                # The rows of a batch already read from the driver (see next).
                buf = self._buf
                pos = self._bpos
                if pos < len(buf) and self._context_done is None and not self._closemu_scan_hold:
                    self._bpos = pos + 1
                    row = self._lastcols = buf[pos]
                    yield row
                    continue
                if not self.next():
                    break
                if self._col_scanner:
                    yield self.scan(*([object] * len(self._lastcols or ())))
                else:
                    lastcols = self._lastcols
                    assert lastcols is not None
                    yield lastcols if type(lastcols) is tuple else tuple(lastcols)
        finally:
            self.close()
        err = self.err()
        if err is not None:
            raise err

    def _lasterr_or_err_locked(self, err: BaseException | None) -> BaseException | None:
        """Return either lasterr or the provided err. closemu must be read-locked."""
        if self._lasterr is not None and not isinstance(self._lasterr, EOFError):
            return self._lasterr
        return err

    def _init_context_close(self, ctx: Context, txctx: Context | None) -> None:
        ctx_ends = not _never_done(ctx)
        tctx = txctx if txctx is not None and not _never_done(txctx) else None
        if not ctx_ends and tctx is None:
            return
        if _bypass_rows_await_done:
            return
        # Go runs awaitDone in a goroutine waiting on ctx, txctx and a close
        # context; here callbacks on ctx and txctx do its work, and close stops
        # them (rs._cancel). The first callback to run wins.
        fired = threading.Lock()

        def on_done(done_ctx: Context) -> None:
            if not fired.acquire(blocking=False):
                return
            self._context_done = done_ctx.err()
            try:
                self._close(ctx.err())
            except Exception:
                pass  # Go's awaitDone ignores close's error; err() reports it.

        # (A context that can never end gets no callback.)
        if tctx is None:
            self._cancel = _ctx.after_func(ctx, lambda: on_done(ctx))
            return
        stop_tx = _ctx.after_func(tctx, lambda: on_done(tctx))
        if not ctx_ends:
            self._cancel = stop_tx
            return
        stop_ctx = _ctx.after_func(ctx, lambda: on_done(ctx))

        def cancel() -> None:
            stop_ctx()
            stop_tx()

        self._cancel = cancel

    def next(self) -> bool:
        """Prepare the next result row for reading with :meth:`scan`.

        Return True on success, or False if there is no next result row or an
        error happened while preparing it; :meth:`err` tells the two apart.
        Every call to scan, even the first one, must be preceded by a call to next.
        """
        # If the user's calling next, they're done with their previous row's
        # scan results (any RawBytes memory), so we can release the read lock
        # that would be preventing the context callback from calling close.
        if self._closemu_scan_hold:
            self._closemu_runlock_if_held_by_scan()

        if self._context_done is not None:
            return False

        # A row of the batch already read from the driver: no driver call, so
        # nothing for closemu to guard (close empties the batch).
        buf = self._buf
        pos = self._bpos
        if pos < len(buf):
            self._bpos = pos + 1
            self._lastcols = buf[pos]
            return True

        self._closemu.rlock()
        try:
            do_close, ok = self._next_locked()
        finally:
            self._closemu.runlock()
        if do_close:
            try:
                self.close()
            except Exception:
                pass  # Go ignores Close's error here; err() reports it.
            if not ok:
                self._hit_eof = True
        return ok

    def _next_locked(self) -> tuple[bool, bool]:
        if self._closed:
            return False, False

        # Lock the driver connection before calling the driver interface rowsi
        # to prevent a Tx from rolling back the connection at the same time.
        rowsi = self._rowsi
        with self._dc._lock:
            try:
                next_batch = self._next_batch
                if next_batch is not None:
                    batch = next_batch(_BATCH_ROWS)
                    if not batch:
                        raise EOFError
                    self._buf = batch
                    self._bpos = 1
                    self._lastcols = batch[0]
                    return False, True
                if self._col_scanner:
                    # A RowsColumnScanner is never asked for next; lastcols
                    # only records that a row is current and the width.
                    if self._lastcols is None:
                        self._lastcols = [None] * len(rowsi.columns())
                    rowsi.next_row()
                else:
                    if self._lastcols is None:
                        self._lastcols = [None] * len(rowsi.columns())
                    rowsi.next(self._lastcols)
                return False, True
            except EOFError as e:
                self._lasterr = e
            except Exception as e:
                self._lasterr = e
                # Close the connection if there is a driver error.
                return True, False
            has_next_result_set = getattr(rowsi, "has_next_result_set", None)
            if has_next_result_set is None:
                return True, False
            # The driver is at the end of the current result set. Test to see if
            # there is another result set after the current one. Only close
            # Rows if there is no further result sets to read.
            return not has_next_result_set(), False

    def next_result_set(self) -> bool:
        """Prepare the next result set for reading.

        Report whether there are further result sets, or False if there is no
        further result set or if there is an error advancing to it; :meth:`err`
        tells the two apart. After next_result_set, :meth:`next` should always be
        called before scanning.
        """
        # If the user's calling next_result_set, they're done with their previous
        # row's scan results (any RawBytes memory), so we can release the read
        # lock that would be preventing the context callback from calling close.
        self._closemu_runlock_if_held_by_scan()

        do_close = False
        try:
            self._closemu.rlock()
            try:
                if self._closed:
                    return False

                self._lastcols = None
                self._buf = ()
                self._bpos = 0
                next_result_set = getattr(self._rowsi, "next_result_set", None)
                if next_result_set is None:
                    do_close = True
                    return False

                # Lock the driver connection before calling the driver interface
                # rowsi to prevent a Tx from rolling back the connection at the
                # same time.
                with self._dc._lock:
                    try:
                        next_result_set()
                    except Exception as e:
                        self._lasterr = e
                        do_close = True
                        return False
                return True
            finally:
                self._closemu.runlock()
        finally:
            if do_close:
                try:
                    self.close()
                except Exception:
                    pass  # Go ignores Close's error here; err() reports it.

    def err(self) -> BaseException | None:
        """Return the error, if any, that was encountered during iteration.

        err may be called after an explicit or implicit close.
        """
        # Return any context error that might've happened during row iteration,
        # but only if we haven't reported the final next() = False after rows
        # are done, in which case the user might've canceled their own context
        # before calling err.
        if not self._hit_eof:
            cd = self._context_done
            if cd is not None:
                return cd

        self._closemu.rlock()
        try:
            return self._lasterr_or_err_locked(None)
        finally:
            self._closemu.runlock()

    def columns(self) -> list[str]:
        """Return the column names; raise if the rows are closed."""
        self._closemu.rlock()
        try:
            if self._closed:
                raise self._lasterr_or_err_locked(RowsClosedError()) or RowsClosedError()
            with self._dc._lock:
                return list(self._rowsi.columns())
        finally:
            self._closemu.runlock()

    def column_types(self) -> list[ColumnType]:
        """Return column information such as column type, length, and nullable.

        Some information may not be available from some drivers.
        """
        self._closemu.rlock()
        try:
            if self._closed:
                raise self._lasterr_or_err_locked(RowsClosedError()) or RowsClosedError()
            with self._dc._lock:
                return _rows_column_info_setup_conn_locked(self._rowsi)
        finally:
            self._closemu.runlock()

    def scan(self, *dest: Any) -> tuple[Any, ...]:
        """Convert the columns in the current row to the destinations in dest and
        return the values as a tuple. The number of destinations must be the
        same as the number of columns.

        A destination is a type (``str``, ``bytes``, ``int``, the sized ints
        such as :class:`Int8` or :class:`Uint64`, ``float``, :class:`Float32`,
        ``bool``, ``datetime.datetime``, ``decimal.Decimal``, ``uuid.UUID``,
        ``object`` for the value as the driver gave it, :class:`RawBytes`,
        :class:`Rows` for a cursor column), ``T | None`` for a nullable column,
        a :class:`Scanner` instance (its ``scan`` is called and it is returned),
        or a :class:`Ref` box (its value is set and returned).

        Scan converts between string and numeric types, as long as no
        information would be lost; scans into numeric types are checked for
        overflow. A ``bytes`` destination gets a copy owned by the caller; a
        RawBytes one is only valid until the next call to next, scan or close.
        Values of type datetime scanned into str or bytes use RFC 3339 with
        nanoseconds. Scanning into bool accepts True, False, 1, 0, or strings
        parseable by Go's strconv.ParseBool. If a Scanner raises, that error is
        chained (``__cause__``) to the raised ScanError.
        """
        if self._closemu_scan_hold:
            # This should only be possible if the user calls scan twice in a row
            # without calling next.
            raise Error("sql: Scan called without calling Next (closemuScanHold)")
        closemu = self._closemu
        # Destinations that all take their own type as is (cached per tuple of
        # types; RawBytes is not among them): see _convert_row.
        try:
            ident = _identity_dests.get(dest)
        except TypeError:
            ident = False  # an unhashable destination (a Scanner instance, ...)
        hold = False if ident else RawBytes in dest
        # (closemu.rlock, inlined: with no writer holding or waiting for closemu,
        # holding its own mutex during the checks below stands for the read
        # lock; otherwise wait for the read lock as Go does.)
        mu = closemu._mu
        mu.acquire()
        if hold or closemu._writer or closemu._writers_waiting:
            mu.release()
            closemu.rlock()
            unlock = closemu.runlock
        else:
            unlock = mu.release

        lasterr = self._lasterr
        if lasterr is not None and not isinstance(lasterr, EOFError):
            unlock()
            raise lasterr
        if self._closed:
            err = self._lasterr_or_err_locked(RowsClosedError())
            unlock()
            assert err is not None
            raise err

        if hold:
            self._closemu_scan_hold = True
        else:
            unlock()

        lastcols = self._lastcols
        if lastcols is None:
            self._closemu_runlock_if_held_by_scan()
            raise Error("sql: Scan called without calling Next")
        # (_convert_row's identity case, written out: next + scan's per-row path;
        # the row's types equal to dest's means as many columns as destinations.)
        if ident and not self._col_scanner and tuple(map(type, lastcols)) == dest:
            return lastcols if type(lastcols) is tuple else tuple(lastcols)
        if len(dest) != len(lastcols):
            self._closemu_runlock_if_held_by_scan()
            raise _scan_count_error(len(lastcols), len(dest))

        if self._col_scanner:
            scan_ctx = driver.ScanContext(self)
            scan_column = self._rowsi.scan_column
            out: list[Any] = []
            for i, d in enumerate(dest):
                try:
                    out.append(scan_column(scan_ctx, i, d))
                except Exception as e:
                    self._closemu_runlock_if_held_by_scan()
                    raise self._scan_error(i, e) from e
            return tuple(out)
        try:
            return (
                _convert_row(self, lastcols, dest)
                if ident is None
                else _convert_cols(self, lastcols, dest)
            )
        except ScanError:
            self._closemu_runlock_if_held_by_scan()
            raise

    def _scan_one(
        self, next_batch: Callable[[int], list[tuple[Any, ...]]], dest: tuple[Any, ...]
    ) -> tuple[Any, ...]:
        """Row.scan's next, scan and close in one, for Rows only their Row can
        reach: with no context callback (_cancel is None) nothing can close them
        meanwhile, so closemu, which guards against that, is not taken. The
        driver is asked for one row."""
        dc = self._dc
        try:
            with dc._lock:
                batch = next_batch(1)
        except Exception as e:
            # (Next: the driver error closes the rows; Row.scan reports it.)
            self._lasterr = e
            try:
                self._close_locked(None)
            except Exception:
                pass
            raise
        if not batch:
            self._lasterr = EOFError()
            self._hit_eof = True
            self._close_locked(None)
            raise NoRowsError()
        row = self._lastcols = batch[0]
        if len(dest) != len(row):
            self._close_quietly()
            raise _scan_count_error(len(row), len(dest))
        try:
            values = _convert_row(self, row, dest)
        except BaseException:
            self._close_quietly()
            raise
        # Make sure the query can be processed to completion with no errors.
        self._close_locked(None)
        return values

    def _close_quietly(self) -> None:
        try:
            self._close_locked(None)
        except Exception:
            pass

    def _scan_error(self, i: int, err: BaseException) -> ScanError:
        return _scan_error_named(self._rowsi.columns, i, err)

    def _closemu_runlock_if_held_by_scan(self) -> None:
        """Release any closemu read lock held open by a previous call to scan with
        RawBytes."""
        if self._closemu_scan_hold:
            self._closemu_scan_hold = False
            self._closemu.runlock()

    def close(self) -> None:
        """Close the Rows, preventing further enumeration.

        If next returns False and there are no further result sets, the Rows are
        closed automatically and it will suffice to check the result of err.
        close is idempotent and does not affect the result of err.
        """
        # If the user's calling close, they're done with their previous row's
        # scan results (any RawBytes memory), so we can release the read lock
        # that would be preventing the context callback from calling close.
        if self._closemu_scan_hold:
            self._closemu_runlock_if_held_by_scan()
        self._close(None)

    def _close(self, err: BaseException | None) -> None:
        closemu = self._closemu
        closemu.lock()
        try:
            self._close_locked(err)
        finally:
            closemu.unlock()

    def _close_locked(self, err: BaseException | None) -> None:
        """_close's body; closemu must be held, or nothing else can reach the Rows
        (see _scan_one)."""
        if self._closed:
            return
        self._closed = True
        self._buf = ()
        if self._leak is not None:
            self._leak.done = True

        if self._lasterr is None:
            self._lasterr = err

        cerr: BaseException | None = None
        try:
            with self._dc._lock:
                self._rowsi.close()
        except Exception as e:
            cerr = e
        if _rows_close_hook is not _no_rows_close_hook:
            hook = _rows_close_hook()
            if hook is not None:
                cerr = hook(self, cerr)
        if self._cancel is not None:
            self._cancel()

        if self._close_stmt is not None:
            self._close_stmt._close_quiet()
        # (Dropped once called: a Stmt's release closure refers to these Rows,
        # and the cycle would leave them, their driver Rows and cursor to
        # Python's cycle collector instead of freeing them here.)
        release, self._release_conn = self._release_conn, _noop_release
        release(cerr)

        # (_lasterr_or_err_locked, inlined.)
        lasterr = self._lasterr
        if lasterr is None or isinstance(lasterr, EOFError):
            self._lasterr = cerr
        if cerr is not None:
            raise cerr

    def _cursor_rows(self, src: driver.Rows) -> Rows:
        """A cursor column's driver Rows, scanned into a Rows of its own that this
        Rows closes when it closes (Go's convertAssignRows case for *Rows)."""
        self._closemu.lock()
        try:
            d = Rows(self._dc, _noop_release, src)
            # Chain the cancel function.
            parent_cancel = self._cancel

            def cancel() -> None:
                # When Rows.cancel is called, the closemu will be locked as
                # well. So we can access lasterr.
                try:
                    d._close(self._lasterr)
                except Exception:
                    pass
                if parent_cancel is not None:
                    parent_cancel()

            self._cancel = cancel
            return d
        finally:
            self._closemu.unlock()


# How many rows Rows asks a driver.RowsNextBatch for at a time.
_BATCH_ROWS = 256

# bypassRowsAwaitDone is only used for testing. If true, it will not close the
# Rows automatically from the context.
_bypass_rows_await_done = False


def _no_rows_close_hook() -> Callable[[Rows, BaseException | None], BaseException | None] | None:
    return None


# rowsCloseHook returns a function so tests may install the hook. The hook gets
# the Rows and the close error and returns the close error to use (Go passes a
# pointer to the error).
_rows_close_hook: Callable[
    [], Callable[[Rows, BaseException | None], BaseException | None] | None
] = _no_rows_close_hook


def _rows_caps_of(rowsi: object) -> bool:
    """Whether a driver Rows type implements driver.RowsColumnScanner, cached
    per type in _rows_caps."""
    caps = hasattr(rowsi, "scan_column") and hasattr(rowsi, "next_row")
    if len(_rows_caps) < 256:
        _rows_caps[type(rowsi)] = caps
    return caps


_rows_caps: dict[type, bool] = {}


def _row_reader(obj: object) -> Any:
    """Beyond Go: obj's query_row_context if obj implements
    driver.QueryerRowContext or driver.StmtQueryRowContext (both of their methods),
    else None; looked up once per driver Conn or Stmt."""
    if callable(getattr(obj, "query_row_columns", None)):
        return getattr(obj, "query_row_context", None)
    return None


def _scan_error_named(
    columns: Callable[[], Sequence[str]], i: int, err: BaseException
) -> ScanError:
    """Go's scan error for column i, named by columns() (no name if that fails)."""
    try:
        name = columns()[i]
    except Exception:
        name = ""
    return ScanError(f'sql: Scan error on column index {i}, name "{name}": {err}')


def _scan_count_error(columns: int, dest: int) -> Error:
    return Error(f"sql: expected {columns} destination arguments in Scan, not {dest}")


def _convert_row(
    rows: Rows | _HeldRow, lastcols: Sequence[Any], dest: Sequence[Any]
) -> tuple[Any, ...]:
    """Rows.scan's conversion of the current row's columns to dest (as many);
    a failure raises the ScanError naming the column."""
    # Every column already of its destination's type (identity conversions):
    # the row itself (a tuple cannot change under the caller).
    try:
        ident = _identity_dests.get(dest)  # type: ignore[call-overload]
    except TypeError:
        ident = False  # an unhashable destination (a Scanner instance, ...)
    if ident is None:
        ident = _identity_dest(dest)
    if ident and tuple(map(type, lastcols)) == dest:
        return lastcols if type(lastcols) is tuple else tuple(lastcols)
    return _convert_cols(rows, lastcols, dest)


def _convert_cols(
    rows: Rows | _HeldRow, lastcols: Sequence[Any], dest: Sequence[Any]
) -> tuple[Any, ...]:
    """_convert_row's column by column conversion."""
    out = []
    i = 0
    try:
        for sv in lastcols:
            d = dest[i]
            # (convert's first fast path, inlined: the driver gave the type.)
            if type(sv) is d and d in _IDENTITY_TYPES:
                out.append(sv)
            else:
                out.append(_convert_assign_rows(d, sv, rows))
            i += 1
    except Exception as e:
        raise rows._scan_error(i, e) from e
    return tuple(out)


def _identity_dest(dest: Sequence[Any]) -> bool:
    """Whether every destination of dest converts a value of its own type to
    itself; cached in _identity_dests for tuples of plain types."""
    try:
        ident = all(type(d) is type and d in _IDENTITY_TYPES for d in dest)
    except TypeError:
        return False  # an unhashable destination (a Scanner instance, ...)
    if len(_identity_dests) < 1024 and all(type(d) is type for d in dest):
        _identity_dests[tuple(dest)] = ident
    return ident


_identity_dests: dict[tuple[Any, ...], bool] = {}


class ColumnType:
    """The name and type of a column, from :meth:`Rows.column_types`."""

    __slots__ = (
        "_name",
        "_has_nullable",
        "_has_length",
        "_has_precision_scale",
        "_nullable",
        "_length",
        "_database_type",
        "_precision",
        "_scale",
        "_scan_type",
    )

    def __init__(self, name: str) -> None:
        self._name = name
        self._has_nullable = False
        self._has_length = False
        self._has_precision_scale = False
        self._nullable = False
        self._length = 0
        self._database_type = ""
        self._precision = 0
        self._scale = 0
        self._scan_type: Any = object

    def __repr__(self) -> str:
        return f"ColumnType(name={self._name!r}, database_type={self._database_type!r})"

    def name(self) -> str:
        """Return the name or alias of the column."""
        return self._name

    def length(self) -> tuple[int, bool]:
        """Return ``(length, ok)``: the column type length for variable length
        column types such as text and binary field types; ``2**63 - 1`` if
        unbounded. ok is False for fixed-length types or if not supported."""
        return self._length, self._has_length

    def decimal_size(self) -> tuple[int, int, bool]:
        """Return ``(precision, scale, ok)`` of a decimal type; ok False if not
        applicable or not supported."""
        return self._precision, self._scale, self._has_precision_scale

    def scan_type(self) -> Any:
        """Return a Python type suitable for scanning into using Rows.scan; ``object``
        if the driver does not support this property."""
        return self._scan_type

    def nullable(self) -> tuple[bool, bool]:
        """Return ``(nullable, ok)``: whether the column may be null; ok False if
        the driver does not support this property."""
        return self._nullable, self._has_nullable

    def database_type_name(self) -> str:
        """Return the database system name of the column type ("VARCHAR", "INT",
        ...), or "" if not supported. Length specifiers are not included."""
        return self._database_type


def _rows_column_info_setup_conn_locked(rowsi: Any) -> list[ColumnType]:
    names = rowsi.columns()
    scan_type = getattr(rowsi, "column_type_scan_type", None)
    type_name = getattr(rowsi, "column_type_database_type_name", None)
    length = getattr(rowsi, "column_type_length", None)
    nullable = getattr(rowsi, "column_type_nullable", None)
    precision_scale = getattr(rowsi, "column_type_precision_scale", None)
    out: list[ColumnType] = []
    for i, name in enumerate(names):
        ci = ColumnType(name)
        out.append(ci)
        if scan_type is not None:
            ci._scan_type = scan_type(i)
        if type_name is not None:
            ci._database_type = type_name(i)
        if length is not None:
            ci._length, ci._has_length = length(i)
        if nullable is not None:
            ci._nullable, ci._has_nullable = nullable(i)
        if precision_scale is not None:
            ci._precision, ci._scale, ci._has_precision_scale = precision_scale(i)
    return out


class Row:
    """The result of calling query_row to select a single row."""

    __slots__ = ("_err", "_rows")

    def __init__(self, rows: Rows | None, err: BaseException | None) -> None:
        # One of these two will be set:
        self._err = err  # deferred error for easy chaining
        self._rows = rows

    def scan(self, *dest: Any) -> tuple[Any, ...]:
        """Convert the columns of the matched row to dest and return them; see
        :meth:`Rows.scan`. If more than one row matches the query, scan uses the
        first row and discards the rest. If no row matches, raise NoRowsError.
        """
        if self._err is not None:
            raise self._err
        rows = self._rows
        assert rows is not None
        next_batch = rows._next_batch
        if (
            next_batch is not None
            and rows._cancel is None
            and not rows._closed  # (a second scan: the slow path's NoRowsError)
            and RawBytes not in dest
        ):
            return rows._scan_one(next_batch, dest)

        # For now we need to defensively clone all bytes that the driver
        # returned (not permitting RawBytes in Rows.scan), since we're about to
        # close the Rows when we return from this function.
        try:
            if RawBytes in dest:
                raise Error("sql: RawBytes isn't allowed on Row.Scan")

            if not rows.next():
                err = rows.err()
                if err is not None:
                    raise err
                raise NoRowsError()
            values = rows.scan(*dest)
        except BaseException:
            try:
                rows.close()
            except Exception:
                pass
            raise
        # Make sure the query can be processed to completion with no errors.
        rows.close()
        return values

    def err(self) -> BaseException | None:
        """Return the error, if any, that was encountered while running the query,
        for wrapping packages to check without calling scan."""
        return self._err


def _read_held_row(
    dc: _DriverConn, ds: _DriverStmt | None, read: Any, query: str, args: Sequence[Any]
) -> _HeldRow | None:
    """Beyond Go: query_row's row read in one driver call, with the background
    context under dc's lock: read is the driver Conn's query_row_context
    (driver.QueryerRowContext) for query when ds is None, else ds's driver
    Stmt's (driver.StmtQueryRowContext). The Row keeps dc until it is scanned, as
    a Row keeps its Rows. None if the driver skipped it (the caller then runs the
    query through Rows on dc)."""
    try:
        with dc._lock:
            nvdargs = _driver_args_conn_locked(dc._ci, ds, args)
            values = read(_BACKGROUND, query, nvdargs) if ds is None else read(_BACKGROUND, nvdargs)
    except driver.SkipError:
        return None
    except BaseException as e:
        dc._release_conn(e)
        raise
    return _HeldRow(dc, values, dc._ci if ds is None else ds.si)


class _HeldRow(Row):
    """Beyond Go: the Row of a query the driver read in one call
    (driver.QueryerRowContext). It holds the first row's values (None: no row) and,
    until it is scanned, the connection, as a Row holds its Rows: the pool counts
    it in use, and a Row never scanned keeps it (with the ResourceWarning of an
    unclosed Rows)."""

    __slots__ = ("_dc", "_values", "_src", "_leak")

    def __init__(self, dc: _DriverConn, values: tuple[Any, ...] | None, src: Any) -> None:
        self._err = None
        self._rows = None
        self._dc: _DriverConn | None = dc
        self._values = values
        self._src = src  # the driver Conn or Stmt that read it: its query_row_columns
        leaks = dc._db._leaks
        self._leak: _Held | None = leaks.track(self, "Row") if leaks is not None else None

    def __del__(self) -> None:
        if getattr(self, "_dc", None) is not None:
            _warn_unclosed(self, self._leak, "Row (never scanned)")

    def scan(self, *dest: Any) -> tuple[Any, ...]:
        """As Row.scan: the row's values converted to dest, NoRowsError if there was
        no row; the connection goes back to the pool in any case."""
        dc = self._dc
        if dc is None:
            raise NoRowsError()  # (scanned before: its Rows would be closed)
        values = self._values
        try:
            if RawBytes in dest:
                raise Error("sql: RawBytes isn't allowed on Row.Scan")
            if values is None:
                raise NoRowsError()
            if len(dest) != len(values):
                raise _scan_count_error(len(values), len(dest))
            return _convert_row(self, values, dest)
        finally:
            # (Rows.close: the connection back to the pool.)
            self._dc = None
            self._values = self._src = None
            if self._leak is not None:
                self._leak.done = True
            dc._release_conn(None)

    # What _convert_row asks of the Rows it converts for.
    def _scan_error(self, i: int, err: BaseException) -> ScanError:
        # (Called during scan, before the release: the driver's last row still.)
        return _scan_error_named(self._src.query_row_columns, i, err)

    def _cursor_rows(self, src: driver.Rows) -> Rows:
        raise Error("sql: a cursor column in a row read in one call (driver.QueryerRowContext)")


@runtime_checkable
class Result(Protocol):
    """A Result summarizes an executed SQL command."""

    def last_insert_id(self) -> int:
        """Return the integer generated by the database in response to a command,
        typically from an "auto increment" column when inserting a new row. Not
        all databases support this feature."""
        ...

    def rows_affected(self) -> int:
        """Return the number of rows affected by an update, insert, or delete. Not
        every database or database driver may support this."""
        ...


class _DriverResult:
    __slots__ = ("_lock", "_resi")

    def __init__(self, lock: threading.Lock, resi: driver.Result) -> None:
        self._lock = lock  # the _DriverConn's lock
        self._resi = resi

    def last_insert_id(self) -> int:
        with self._lock:
            return self._resi.last_insert_id()

    def rows_affected(self) -> int:
        with self._lock:
            return self._resi.rows_affected()


_T = TypeVar("_T")

_BACKGROUND = _ctx.background()


# ---- Beyond Go: leak detection and fork safety ----

_leak_log = logging.getLogger("dbsql.leak")


class _Held:
    """A Conn, Tx, Rows or held Row being watched by a _LeakTracker."""

    __slots__ = ("kind", "created_at", "stack", "done", "reported")

    def __init__(self, kind: str, stack: str) -> None:
        self.kind = kind
        self.created_at = time.monotonic()
        self.stack = stack
        self.done = False  # set when the resource is closed
        self.reported = False


class _LeakTracker:
    """Watches a DB's Conns, Txs and Rows; one daemon thread logs those held
    longer than the threshold (DB.set_leak_threshold)."""

    def __init__(self, threshold: float) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._threshold = threshold
        self._held: list[_Held] = []
        self._stopped = False
        threading.Thread(target=self._run, name="dbsql-leaks", daemon=True).start()

    def track(self, obj: object, kind: str = "") -> _Held:
        h = _Held(kind or type(obj).__name__, "".join(traceback.format_stack(limit=16)[:-2]))
        with self._cond:
            self._held.append(h)
        return h

    def set_threshold(self, threshold: float) -> None:
        with self._cond:
            self._threshold = threshold
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                threshold = self._threshold
                self._cond.wait(max(min(threshold / 2, 1.0), 0.001))
                now = time.monotonic()
                report: list[tuple[_Held, float]] = []
                kept: list[_Held] = []
                for h in self._held:
                    if h.done:
                        continue
                    kept.append(h)
                    held_for = now - h.created_at
                    if not h.reported and held_for > self._threshold:
                        h.reported = True
                        report.append((h, held_for))
                self._held = kept
                for h, held_for in report:
                    _leak_log.warning(
                        "dbsql: a %s has been held for %.3fs (leak threshold %gs); it was "
                        "opened at:\n%s",
                        h.kind,
                        held_for,
                        self._threshold,
                        h.stack,
                    )


def _warn_unclosed(obj: object, held: _Held | None, kind: str = "") -> None:
    """ResourceWarning for a Conn, Tx, Stmt or Rows collected without close (or a
    Row read in one call, collected without scan: kind names it).

    The stack that created it is in the message when leak detection was on;
    otherwise run with ``python -X tracemalloc`` for the allocation traceback.
    """
    try:
        where = (
            f"; it was opened at:\n{held.stack}"
            if held is not None
            else " (run with -X tracemalloc, or DB.set_leak_threshold, to see where it was opened)"
        )
        warnings.warn(
            f"dbsql: unclosed {kind or type(obj).__name__} {obj!r}{where}",
            ResourceWarning,
            stacklevel=2,
            source=obj,
        )
    except Exception:  # never raise from a finalizer (e.g. at interpreter exit)
        pass


# Every DB of this process, for the fork handler.
_all_dbs: weakref.WeakSet[DB] = weakref.WeakSet()

# The process generation: a connection opened in a parent process is not
# returned to a child's pool.
_fork_gen = 0

# Connections inherited by a forked child: kept referenced and never closed, so
# that nothing the child does (not even garbage collection) closes the parent's
# connections.
_fork_orphans: list[object] = []


def _after_fork_in_child() -> None:
    """A DB used in a forked child drops the connections it inherited, without
    closing them (they belong to the parent), and opens its own."""
    global _fork_gen
    _fork_gen += 1
    for db in list(_all_dbs):
        # Locks may have been held by threads that do not exist in the child.
        db._mu = threading.Lock()
        db._wait_duration_mu = threading.Lock()
        db._opener_cond = threading.Condition(db._mu)
        _fork_orphans.extend(db._free_conn)
        db._free_conn = []
        # Waiters were threads of the parent: they do not exist here.
        db._conn_requests = _ConnRequestSet()
        db._num_open = 0
        db._opener_pending = 0
        db._opener_thread = None
        db._cleaner_ch = None
        db._dep = {k: v for k, v in db._dep.items() if not isinstance(k, _DriverConn)}
        if db._leaks is not None and not db._leaks._stopped:
            db._leaks = _LeakTracker(db._leaks._threshold)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
