"""Type conversions for scan and for query arguments: a port of Go's
database/sql/convert.go.

Python shape of Go's ``convertAssign(dest, src)``: a scan destination is not a
pointer but one of

- a type: ``str``, ``bytes``, :class:`RawBytes`, ``int``, the sized ints
  ``Int8`` .. ``Uint64``, ``float``, ``Float32``, ``bool``, ``object`` or
  ``typing.Any``, ``datetime.datetime``, ``decimal.Decimal``, ``uuid.UUID``,
  ``dbsql.Rows`` (a cursor column), a user-defined subclass of one of those
  (Go's ``type userDefined float64``), or a Scanner class (instantiated with
  no arguments, then scanned, as ``NullString`` or ``Null[int]``);
- ``T | None`` (Go's ``**T``): None for NULL, else converted to ``T``;
- a Scanner instance: its ``scan(src)`` is called and it is returned;
- a :class:`Ref` box (Go's pointer kept by the caller): the value converted to
  ``ref.type`` is stored in ``ref.value`` and returned.

The converted value is returned. Conversion errors raise
:class:`ConversionError` with Go's message (Python type names in place of
Go's); a Scanner's or a decimal composer's own exception propagates unchanged,
as Go returns their error unwrapped.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import math
import struct
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, get_args, get_origin, runtime_checkable

from dbsql import driver
from dbsql.driver.types import _is_valuer, _quote, _type_name
from dbsql.sql import (
    Error,
    Float32,
    Int8,
    Int16,
    Int32,
    Int64,
    NamedArg,
    RawBytes,
    Ref,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    _SizedInt,
)

__all__ = ["ConversionError", "convert_assign"]


class ConversionError(Error, ValueError):
    """A value could not be converted: a scan source into its destination, or a
    query argument into a driver Value.

    The message is Go's. ``value`` is the value that failed to convert and
    ``dest`` its destination (a scan destination, or None for an argument).
    For an argument, the driver's or the converter's error is chained as
    ``__cause__`` (Go wraps it with %w).
    """

    def __init__(self, msg: str, *, value: Any = None, dest: Any = None) -> None:
        super().__init__(msg)
        self.value = value
        self.dest = dest


# Go's errNilPtr: a scan destination that is None (Go's nil pointer, as in
# TestQueryRowNilScanDest) fails with this message.
_ERR_NIL_PTR = "destination pointer is nil"  # embedded in descriptive error


def _describe_named_value(nv: driver.NamedValue) -> str:
    if len(nv.name) == 0:
        return f"${nv.ordinal}"
    return f"with name {_quote(nv.name)}"


def _validate_named_value_name(name: str) -> None:
    if len(name) == 0:
        return
    if name[0].isalpha():
        return
    raise ConversionError(f"name {_quote(name)} does not begin with a letter", value=name)


class _CCChecker:
    """Wraps the driver.ColumnConverter and allows it to be used as if it were
    a NamedValueChecker. If the driver ColumnConverter is not present then the
    NamedValueChecker raises driver.SkipError."""

    __slots__ = ("cci", "want")

    def __init__(self) -> None:
        self.cci: driver.ColumnConverter | None = None
        self.want = -1

    def check_named_value(self, nv: driver.NamedValue) -> None:
        if self.cci is None:
            raise driver.SkipError()
        # The column converter shouldn't be called on any index it isn't
        # expecting. The final error will be thrown in the argument converter
        # loop. An unknown input count (-1) expects every index (newer Go).
        index = nv.ordinal - 1
        if 0 <= self.want <= index:
            return

        # First, see if the value itself knows how to convert itself to a
        # driver type. For example, a NullString struct changing into a string
        # or None.
        if _is_valuer(nv.value):
            sv = _call_valuer_value(nv.value)
            if not driver.is_value(sv):
                raise TypeError(f"non-subset type {_type_name(sv)} returned from Value")
            nv.value = sv

        # Second, ask the column to sanity check itself. For example, drivers
        # might use this to make sure that an int64 values being inserted into
        # a 16-bit integer field is in range (before getting truncated), or
        # that a None can't go into a NOT NULL column before going across the
        # network to get the same error.
        arg = nv.value
        nv.value = self.cci.column_converter(index).convert_value(arg)
        if not driver.is_value(nv.value):
            raise TypeError(
                f"driver ColumnConverter error converted {_type_name(arg)}"
                f" to unsupported type {_type_name(nv.value)}"
            )


_NamedValue = driver.NamedValue

# The checker of a statement without a column converter (never called: only a
# cci routes arguments to it).
_NO_CC_CHECKER = _CCChecker()


def _default_check_named_value(nv: driver.NamedValue) -> None:
    """Wraps the default ColumnConverter to have the same signature as
    ``check_named_value`` in the driver.NamedValueChecker interface."""
    nv.value = driver.DefaultParameterConverter.convert_value(nv.value)


def _driver_args_conn_locked(
    ci: driver.Conn | None, ds: Any, args: Sequence[object]
) -> list[driver.NamedValue]:
    """Convert arguments from callers of Stmt.exec and Stmt.query into driver
    Values.

    The statement ds (a ``_DriverStmt``, whose ``si`` is the driver Stmt) may be
    None, if no statement is available.

    ci must be locked.
    """
    nvargs: list[driver.NamedValue] = []

    # -1 means the driver doesn't know how to count the number of
    # placeholders, so we won't sanity check input here and instead let the
    # driver deal with errors.
    want = -1

    if not args and ds is None:
        return []  # (nothing to convert, nothing to count)

    si: Any = None
    cc = _NO_CC_CHECKER
    nvc_check: Callable[[driver.NamedValue], None] | None = None
    cci: driver.ColumnConverter | None = None
    if ds is not None:
        si = ds.si
        want = si.num_input()

        # Check all types of interfaces from the start. Drivers may opt to use
        # the NamedValueChecker for special argument types, then raise
        # driver.SkipError to pass it along to the column converter.
        # (Go's type assertions; getattr is the fast Python twin of a protocol
        # check.)
        nvc_check = getattr(si, "check_named_value", None)
        if getattr(si, "column_converter", None) is not None:
            cci = si
            cc = _CCChecker()
            cc.cci = cci
            cc.want = want
    if nvc_check is None:
        nvc_check = getattr(ci, "check_named_value", None)

    # Loop through all the arguments, checking each one. If no error is raised
    # simply increment the index and continue. However if
    # driver.RemoveArgumentError is raised the argument is not included in the
    # query argument list.
    # Checking sequence has four routes:
    # A: 1. Default
    # B: 1. NamedValueChecker 2. Column Converter 3. Default
    # C: 1. NamedValueChecker 3. Default
    # D: 1. Column Converter 2. Default
    #
    # The only time a Column Converter is called is first or after
    # NamedValueConverter. If first it is handled before the retry loop.
    # Thus for repeats tries only when the NamedValueConverter is selected
    # should the Column Converter be used in the retry.
    # (Each argument's first checker depends only on what the driver
    # implements: chosen once, before the loop.)
    first_checker: Callable[[driver.NamedValue], None] = _default_check_named_value
    first_next_cc = False
    if nvc_check is not None:
        first_next_cc = cci is not None
        first_checker = nvc_check
    elif cci is not None:
        first_checker = cc.check_named_value

    n = 0
    for arg in args:
        nv = _NamedValue("", n + 1, arg)
        if isinstance(arg, NamedArg):
            _validate_named_value_name(arg.name)
            nv.value = arg.value
            nv.name = arg.name

        checker = first_checker
        next_cc = first_next_cc
        while True:  # nextCheck:
            try:
                checker(nv)
            except driver.RemoveArgumentError:
                break
            except driver.SkipError:
                if next_cc:
                    next_cc = False
                    checker = cc.check_named_value
                else:
                    checker = _default_check_named_value
                continue
            except Exception as err:
                raise ConversionError(
                    f"sql: converting argument {_describe_named_value(nv)} type: {err}",
                    value=nv.value,
                ) from err
            nvargs.append(nv)
            n += 1
            break

    # Check the length of arguments after conversion to allow for omitted
    # arguments.
    if want != -1 and len(nvargs) != want:
        raise ConversionError(f"sql: expected {want} arguments, got {len(nvargs)}")

    return nvargs


def convert_assign(scan_ctx: driver.ScanContext | None, dest: Any, src: Any) -> Any:
    """Convert src, a driver Value, for the scan destination dest and return the
    result, with the rules of ``Rows.scan`` (Go 1.27's ``ConvertAssign``).

    Drivers implementing ``driver.RowsColumnScanner`` may call it from
    ``scan_column``, passing on the ``scan_ctx`` they were given (needed to scan
    a cursor column into ``Rows``).
    """
    rows = scan_ctx.rows if scan_ctx is not None else None
    return _convert_assign_rows(dest, src, rows)


def _convert_assign(dest: Any, src: Any) -> Any:
    """The same as _convert_assign_rows, but without the optional rows argument."""
    return _convert_assign_rows(dest, src, None)


def _convert_assign_rows(dest: Any, src: Any, rows: Any) -> Any:
    """Convert src for the scan destination dest and return the result.

    An error is raised if the conversion would result in loss of information.
    If rows (the ``dbsql.Rows`` being scanned) is passed in, it is used as the
    parent for any cursor values converted from a driver.Rows to a Rows.
    """
    # Fast path: the driver gave exactly the destination type (Go's assignable).
    if type(src) is dest and dest in _IDENTITY_TYPES:
        return src
    # Go's pointer kinds: a Ref keeps the value; T | None is Go's **T.
    if isinstance(dest, Ref):
        v = _convert_assign_rows(dest.type, src, rows)
        dest.value = v
        return v
    if not isinstance(dest, type):
        return _convert_assign_non_type(dest, src, rows)

    # Common cases, without reflect.
    if isinstance(src, str):
        if dest is str:
            return src
        if dest is bytes:
            return _encode(src, dest)
        if dest is RawBytes:
            # Issue 65201: the bytes belong to the Rows, never to memory the
            # caller passed in (Python: a new RawBytes).
            return RawBytes(_encode(src, dest))
    elif isinstance(src, (bytes, bytearray, memoryview)):
        if dest is str:
            return _decode(src, dest)
        if dest is object or dest is Any:
            return _clone_bytes(src)
        if dest is bytes:
            return _clone_bytes(src)
        if dest is RawBytes:
            # No copy: the driver's bytes, valid until the next next/scan/close.
            return src if isinstance(src, bytes) else RawBytes(src)
    elif isinstance(src, datetime.datetime):
        if dest is datetime.datetime:
            return src
        if dest is str:
            return _format_rfc3339_nano(src)
        if dest is bytes:
            return _format_rfc3339_nano(src).encode()
        if dest is RawBytes:
            return RawBytes(_format_rfc3339_nano(src).encode())
    elif src is None:
        if dest is object or dest is Any:
            return None
        if dest is bytes:
            return None
        if dest is RawBytes:
            return None

    # Go's destination type switch.
    if dest is str:
        if isinstance(src, (bool, int, float, decimal.Decimal)):
            return _as_string(src)
    elif dest is bytes:
        b = _as_bytes(src)
        if b is not None:
            return b
    elif dest is RawBytes:
        b = _as_bytes(src)
        if b is not None:
            return RawBytes(b)  # issue 65201, as above
    elif dest is bool:
        try:
            return driver.Bool.convert_value(src)
        except (ValueError, TypeError) as err:
            raise ConversionError(str(err), value=src, dest=dest) from err
    elif dest is object or dest is Any:
        return src

    if callable(getattr(dest, "scan", None)):
        # The driver is returning a cursor the client may iterate over.
        from dbsql import sql as _sql

        rows_type = getattr(_sql, "Rows", None)
        if rows_type is not None and issubclass(dest, rows_type):
            if isinstance(src, driver.Rows):
                if rows is None:
                    raise ConversionError(
                        "invalid context to convert cursor rows, missing parent Rows",
                        value=src,
                        dest=dest,
                    )
                return rows._cursor_rows(src)
        else:
            # A Scanner class: a new one, scanned (Go's &NullString{}).
            scanner = _new_scanner(dest, src)
            scanner.scan(src)
            return scanner

    # Assignable (src already is a dest of the same kind: Go's bool is not an
    # int, a float32 is not a float64), or convertible within its kind.
    dk = _kind(dest)
    sk = None if src is None else _kind(type(src))
    if dk is None:
        if isinstance(src, dest):
            return src
    elif dk == sk:
        if dk == "bytes":
            return dest(src)  # Go clones a []byte (issue 13905)
        if isinstance(src, dest):
            return _plain(dest, src)
        return _make(dest, src)

    # The following conversions use a string value as an intermediate
    # representation to convert between various numeric types.
    #
    # This also allows scanning into user defined types such as "class Int(int)".
    # For symmetry, also check for string destination types.
    if dk is not None and dk[0] == "i":  # int, int8, ..., int64
        if src is None:
            raise _null_error(dest)
        bits = dest._bits if issubclass(dest, _SizedInt) else 64
        s, i = _int_source(src)
        try:
            i64 = _check_int(i, bits) if i is not None else _parse_int(s, bits)
        except _NumError as err:
            raise _parse_error(src, s, dest, err) from None
        return _make(dest, i64, src)
    if dk is not None and dk[0] == "u":  # uint8, ..., uint64
        if src is None:
            raise _null_error(dest)
        bits = dest._bits if issubclass(dest, _SizedInt) else 64
        s, i = _int_source(src)
        try:
            u64 = _check_uint(i, bits) if i is not None else _parse_uint(s, bits)
        except _NumError as err:
            raise _parse_error(src, s, dest, err) from None
        return _make(dest, u64, src)
    if dk is not None and dk[0] == "f":  # float32, float64
        if src is None:
            raise _null_error(dest)
        s = _as_string(src)
        try:
            f64 = _parse_float(s, 32 if dk == "float32" else 64)
        except _NumError as err:
            raise _parse_error(src, s, dest, err) from None
        return _make(dest, f64, src)
    if dk == "string":
        if src is None:
            raise _null_error(dest)
        if isinstance(src, str):
            return _make(dest, src)
        if isinstance(src, (bytes, bytearray, memoryview)):
            return _make(dest, _decode(src, dest), src)

    # Python only: decimal.Decimal and uuid.UUID destinations.
    if issubclass(dest, decimal.Decimal):
        if src is None:
            raise _null_error(dest)
        return _to_decimal(dest, src)
    if issubclass(dest, uuid.UUID):
        if src is None:
            raise _null_error(dest)
        if isinstance(src, (str, bytes, bytearray, memoryview)):
            return _to_uuid(dest, src)

    if src is None:
        raise _null_error(dest)
    raise ConversionError(
        f"unsupported Scan, storing driver.Value type {_type_name(src)}"
        f" into type {_dest_name(dest)}",
        value=src,
        dest=dest,
    )


def _convert_assign_non_type(dest: Any, src: Any, rows: Any) -> Any:
    """_convert_assign_rows for a destination that is not a type: a T | None
    union, a Scanner class subscripted (``Null[int]``), a Scanner instance or a
    decimal composer instance."""
    if dest is None:
        raise ConversionError(_ERR_NIL_PTR, value=src, dest=dest)
    origin = get_origin(dest)
    if origin is typing.Union or origin is types.UnionType:
        inner = _nullable_inner(dest)
        if inner is None:
            raise ConversionError(
                f"unsupported Scan destination {dest!r}: a union must be T | None",
                value=src,
                dest=dest,
            )
        if src is None:
            return None
        return _convert_assign_rows(inner, src, rows)
    if origin is not None:
        if isinstance(origin, type) and callable(getattr(origin, "scan", None)):
            scanner = _new_scanner(dest, src)
            scanner.scan(src)
            return scanner
        raise ConversionError(
            f"unsupported Scan, storing driver.Value type {_type_name(src)} into type {dest!r}",
            value=src,
            dest=dest,
        )

    if _is_decimal_decompose(src):
        compose = getattr(dest, "compose", None)
        if callable(compose):
            compose(*_decompose(src))
            return dest

    scan = getattr(dest, "scan", None)
    if callable(scan):
        scan(src)
        return dest

    raise ConversionError(
        f"destination not a type, a T | None union, a Scanner or a Ref: {dest!r}",
        value=src,
        dest=dest,
    )


# Go's strconvErr unwraps a *strconv.NumError to its Err: here the parsers
# raise _NumError holding only that inner text ("invalid syntax", "value out of
# range").


def _clone_bytes(b: bytes | bytearray | memoryview) -> bytes:
    """Go's bytes.Clone: Python bytes are immutable, so a bytes value is its own
    clone; another buffer is copied."""
    if type(b) is bytes:
        return b
    return bytes(b)


def _as_string(src: Any) -> str:
    if isinstance(src, str):
        return str.__str__(src)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src).decode("utf-8", "replace")
    if isinstance(src, bool):
        return "true" if src else "false"
    if isinstance(src, int):
        return int.__repr__(src)
    if isinstance(src, Float32):
        return _format_float(float(src), 32)
    if isinstance(src, float):
        return _format_float(float(src), 64)
    try:
        return str(src)
    except Exception as err:  # Go's fmt shows a panicking String method in the text
        return f"%!v(PANIC=String method: {err})"


def _as_bytes(src: Any) -> bytes | None:
    """The bytes of src's text form for Go's numeric, bool and string kinds
    (and, Python only, decimal.Decimal); None for any other src."""
    if isinstance(src, (bool, int, float, decimal.Decimal)):
        return _as_string(src).encode()
    if isinstance(src, str):
        return src.encode("utf-8", "surrogateescape")
    return None


def _call_valuer_value(vr: driver.Valuer) -> driver.Value:
    """Return ``vr.value()``.

    Go makes one exception: a nil pointer whose Value method is auto-generated
    on the pointer type would panic, so it is treated like nil (issue 8415).
    Python has no such nil pointer. This function is mirrored in the
    dbsql.driver package.
    """
    return vr.value()


@runtime_checkable
class _DecimalDecompose(Protocol):
    """Go's decimalDecompose: returns the internal decimal state in parts.

    There are four parts: a negative flag, a form (finite=0, infinite=1,
    NaN=2), a base-2 big-endian integer coefficient as bytes, and an int32
    exponent: "decimal = (neg) (form=finite) coefficient * 10 ^ exponent". A
    zero length coefficient is a zero value. If the form is not finite the
    coefficient and exponent should be ignored. ``decimal.Decimal`` is one.
    (Experimental in Go, see https://golang.org/issue/30870.)
    """

    def decompose(self, buf: bytes | None) -> tuple[int, bool, bytes, int]: ...


@runtime_checkable
class _DecimalCompose(Protocol):
    """Go's decimalCompose: sets the internal decimal value from parts (see
    _DecimalDecompose). If the value cannot be represented then an error
    should be raised."""

    def compose(self, form: int, negative: bool, coefficient: bytes, exponent: int) -> None: ...


# --- Python helpers: Go's strconv parsing and formatting, kinds ---


class _NumError(Exception):
    """The inner error of Go's strconv.NumError: "invalid syntax" or "value out
    of range"."""


_SYNTAX = "invalid syntax"
_RANGE = "value out of range"

_PLAIN_INTS: frozenset[type] = frozenset(
    {int, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64}
)


_IDENTITY_TYPES: frozenset[type] = frozenset(
    {int, float, str, bytes, bool, datetime.datetime, decimal.Decimal, uuid.UUID}
)


@functools.lru_cache(maxsize=256)
def _nullable_inner(dest: Any) -> Any:
    """T for a ``T | None`` union, None for any other union."""
    args = get_args(dest)
    inner = [a for a in args if a is not type(None)]
    if len(inner) != 1 or len(inner) == len(args):
        return None
    return inner[0]


_KINDS: dict[type, str | None] = {}


def _kind(t: type) -> str | None:
    """Go's reflect.Kind of a type (see _type_kind), memoized."""
    try:
        return _KINDS[t]
    except KeyError:
        k = _KINDS[t] = _type_kind(t)
        return k


def _type_kind(t: type) -> str | None:
    """Go's reflect.Kind of a type: "bool", "int" (Python's int, Go's int64),
    "int8" ... "int64", "uint8" ... "uint64", "float32", "float64", "string",
    "bytes" (Go's []byte), or None for any other type."""
    if issubclass(t, bool):
        return "bool"
    if issubclass(t, _SizedInt):
        return ("int" if t._signed else "uint") + str(t._bits)
    if issubclass(t, int):
        return "int"
    if issubclass(t, float):
        return "float32" if issubclass(t, Float32) else "float64"
    if issubclass(t, str):
        return "string"
    if issubclass(t, (bytes, bytearray)):
        return "bytes"
    return None


def _make(dest: type, v: Any, src: Any = None) -> Any:
    """The value v as a dest: a plain int or float for the builtin and sized
    destinations, ``dest(v)`` for a user-defined subclass. src is the driver
    Value v was converted from, for the error message (default: v)."""
    if dest in _PLAIN_INTS:
        return int(v)
    if dest is float or dest is Float32:
        return float(v)
    if dest is str:
        return str.__str__(v)
    try:
        return dest(v)
    except Exception as err:  # a user type refusing the value (an IntEnum...)
        if src is None:
            src = v
        raise ConversionError(
            f"converting driver.Value type {_type_name(src)} ({_quote(_as_string(src))})"
            f" to a {dest.__name__}: {err}",
            value=src,
            dest=dest,
        ) from err


def _new_scanner(dest: Any, src: Any) -> Any:
    """A new instance of a Scanner class destination."""
    try:
        return dest()
    except Exception as err:
        raise ConversionError(
            f"unsupported Scan, storing driver.Value type {_type_name(src)} into type"
            f" {_dest_name(dest)}: cannot create one: {err}",
            value=src,
            dest=dest,
        ) from err


def _plain(dest: type, src: Any) -> Any:
    """An assignable src as a dest: normalized to a plain int or float for the
    builtin and sized destinations, else src itself."""
    if dest in _PLAIN_INTS:
        return int(src)
    if dest is float or dest is Float32:
        return float(src)
    return src


def _dest_name(dest: Any) -> str:
    """Go's %T of a destination: the type's name, module-qualified unless builtin."""
    if isinstance(dest, type):
        if dest.__module__ == "builtins":
            return dest.__qualname__
        return f"{dest.__module__}.{dest.__qualname__}"
    return repr(dest)


def _null_error(dest: type) -> ConversionError:
    return ConversionError(f"converting NULL to {dest.__name__} is unsupported", dest=dest)


def _parse_error(src: Any, s: str, dest: type, err: _NumError) -> ConversionError:
    return ConversionError(
        f"converting driver.Value type {_type_name(src)} ({_quote(s)}) to a {dest.__name__}: {err}",
        value=src,
        dest=dest,
    )


def _encode(s: str, dest: Any) -> bytes:
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as err:
        raise ConversionError(
            f"converting driver.Value type {_type_name(s)} ({_quote(s)}) to a"
            f" {_dest_name(dest)}: invalid UTF-8",
            value=s,
            dest=dest,
        ) from err


def _decode(b: bytes | bytearray | memoryview, dest: Any) -> str:
    """Go's string(b). Python strings hold text: bytes that are not UTF-8 would
    lose information, so they are an error."""
    try:
        return bytes(b).decode()
    except UnicodeDecodeError as err:
        raise ConversionError(
            f"converting driver.Value type {_type_name(b)} ({_quote(b)}) to a"
            f" {getattr(dest, '__name__', dest)}: invalid UTF-8",
            value=b,
            dest=dest,
        ) from err


def _int_source(src: Any) -> tuple[str, int | None]:
    """Go's asString(src) for an integer destination, with the int itself when
    src is an int (its text always parses, so only the range is checked)."""
    if isinstance(src, int) and not isinstance(src, bool):
        i = int(src)
        return int.__repr__(i), i
    return _as_string(src), None


def _check_int(i: int, bits: int) -> int:
    cutoff = 1 << (bits - 1)
    if not -cutoff <= i < cutoff:
        raise _NumError(_RANGE)
    return i


def _check_uint(i: int, bits: int) -> int:
    if i < 0:
        raise _NumError(_SYNTAX)  # Go formats it with a sign ParseUint rejects
    if i >= 1 << bits:
        raise _NumError(_RANGE)
    return i


def _parse_uint(s: str, bits: int) -> int:
    """Go's strconv.ParseUint(s, 10, bits)."""
    if s == "":
        raise _NumError(_SYNTAX)
    if s.isascii() and s.isdigit():
        return _check_uint(int(s), bits)
    max_val = (1 << bits) - 1
    n = 0
    for c in s:
        if not "0" <= c <= "9":
            raise _NumError(_SYNTAX)
        n = n * 10 + ord(c) - 48
        if n > max_val:
            raise _NumError(_RANGE)
    return n


def _parse_int(s: str, bits: int) -> int:
    """Go's strconv.ParseInt(s, 10, bits)."""
    if s == "":
        raise _NumError(_SYNTAX)
    neg = False
    body = s
    if s[0] == "+":
        body = s[1:]
    elif s[0] == "-":
        neg = True
        body = s[1:]
    try:
        un = _parse_uint(body, bits)
    except _NumError as err:
        if str(err) != _RANGE:
            raise
        un = 1 << bits
    cutoff = 1 << (bits - 1)
    if not neg and un >= cutoff:
        raise _NumError(_RANGE)
    if neg and un > cutoff:
        raise _NumError(_RANGE)
    return -un if neg else un


def _underscore_ok(s: str) -> bool:
    """Go's strconv.underscoreOK: underscores only between digits or between a
    base prefix and a digit."""
    saw = "^"
    i = 0
    if len(s) >= 1 and s[0] in "+-":
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        i += 1
        if "0" <= c <= "9" or (hexa and "a" <= c.lower() <= "f"):
            saw = "0"
            continue
        if c == "_":
            if saw != "0":
                return False
            saw = "_"
            continue
        if saw == "_":
            return False
        saw = "!"
    return saw != "_"


def _float_syntax_ok(s: str) -> bool:
    """Go's strconv.readFloat over the whole of s: decimal or hexadecimal (with
    its mandatory p exponent) mantissa, optional exponent, underscores as Go's
    syntax allows."""
    i, n = 0, len(s)
    if i < n and s[i] in "+-":
        i += 1
    hexa = i + 2 < n and s[i] == "0" and s[i + 1] in "xX"
    if hexa:
        i += 2
    underscores = False
    sawdot = sawdigits = False
    while i < n:
        c = s[i]
        if c == "_":
            underscores = True
        elif c == ".":
            if sawdot:
                break
            sawdot = True
        elif "0" <= c <= "9" or (hexa and "a" <= c.lower() <= "f"):
            sawdigits = True
        else:
            break
        i += 1
    if not sawdigits:
        return False
    if i < n and s[i].lower() == ("p" if hexa else "e"):
        i += 1
        if i >= n:
            return False
        if s[i] in "+-":
            i += 1
        if i >= n or not "0" <= s[i] <= "9":
            return False
        while i < n and ("0" <= s[i] <= "9" or s[i] == "_"):
            if s[i] == "_":
                underscores = True
            i += 1
    elif hexa:
        return False  # must have exponent
    if i != n:
        return False
    return not underscores or _underscore_ok(s)


_F32 = struct.Struct("<f")


def _parse_float(s: str, bits: int) -> float:
    """Go's strconv.ParseFloat(s, bits): out of range is an error."""
    low = s.lower()
    if low in ("inf", "+inf", "infinity", "+infinity"):
        return math.inf
    if low in ("-inf", "-infinity"):
        return -math.inf
    if low == "nan":
        return math.nan
    if not _float_syntax_ok(s):
        raise _NumError(_SYNTAX)
    clean = s.replace("_", "")
    try:
        if "x" in clean or "X" in clean:
            f = float.fromhex(clean)
        else:
            f = float(clean)
    except OverflowError:
        raise _NumError(_RANGE) from None
    except ValueError:
        raise _NumError(_SYNTAX) from None
    if math.isinf(f):
        raise _NumError(_RANGE)
    if bits == 32:
        try:
            f = _F32.unpack(_F32.pack(f))[0]
        except OverflowError:
            raise _NumError(_RANGE) from None
    return f


def _shortest_digits(f: float, bits: int) -> tuple[str, int]:
    """The shortest decimal digits that read back as f (a positive finite float,
    of float32 precision when bits is 32), and the decimal point position."""
    r = repr(f)
    if bits == 32:
        for p in range(1, 10):
            r = f"{f:.{p - 1}e}"
            try:
                if _F32.unpack(_F32.pack(float(r)))[0] == f:
                    break
            except OverflowError:  # rounded up past the largest float32
                continue
    mant, _, e = r.partition("e")
    exp10 = int(e) if e else 0
    ip, _, fp = mant.partition(".")
    digits = ip + fp
    lead = len(digits) - len(digits.lstrip("0"))
    digits = digits[lead:].rstrip("0")
    return digits, len(ip) + exp10 - lead


def _format_float(f: float, bits: int) -> str:
    """Go's strconv.FormatFloat(f, 'g', -1, bits)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    a = abs(f)
    digits, dp = ("", 0) if a == 0 else _shortest_digits(a, bits)
    nd = len(digits)
    exp = dp - 1
    if exp < -4 or exp >= 6:  # shortest: Go decides with precision 6
        out = digits[:1] or "0"
        if nd > 1:
            out += "." + digits[1:]
        if nd == 0:  # special case: 0 has exponent 0
            exp = 0
        es = "-" if exp < 0 else "+"
        return f"{sign}{out}e{es}{abs(exp):02d}"
    if dp > 0:
        out = digits[:dp].ljust(dp, "0")
    else:
        out = "0"
    prec = max(nd - dp, 0)
    if prec > 0:
        out += "." + "".join(digits[dp + i] if 0 <= dp + i < nd else "0" for i in range(prec))
    return sign + out


def _format_rfc3339_nano(t: datetime.datetime) -> str:
    """Go's t.Format(time.RFC3339Nano): fractional seconds without trailing
    zeros, "Z" for UTC. Python only: a naive datetime gets no zone suffix."""
    s = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if t.microsecond:
        s += "." + f"{t.microsecond:06d}".rstrip("0")
    off = t.utcoffset()
    if off is None:
        return s
    secs = int(off.total_seconds())
    if secs == 0:
        return s + "Z"
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    return f"{s}{sign}{secs // 3600:02d}:{secs // 60 % 60:02d}"


def _is_decimal_decompose(src: Any) -> bool:
    if isinstance(src, decimal.Decimal):
        return True
    return not isinstance(src, type) and callable(getattr(src, "decompose", None))


def _decompose(src: Any) -> tuple[int, bool, bytes, int]:
    """The parts of a decimal source (see _DecimalDecompose)."""
    if not isinstance(src, decimal.Decimal):
        parts: tuple[int, bool, bytes, int] = src.decompose(None)
        return parts
    sign, digits, exponent = src.as_tuple()
    neg = bool(sign)
    if exponent == "F":
        return 1, neg, b"", 0
    if exponent in ("n", "N"):
        return 2, neg, b"", 0
    coef = int("".join(map(str, digits))) if digits else 0
    assert isinstance(exponent, int)
    return 0, neg, coef.to_bytes((coef.bit_length() + 7) // 8, "big"), exponent


def _compose_decimal(dest: type, form: int, negative: bool, coef: bytes, exp: int) -> Any:
    """A decimal.Decimal (or subclass) from decimal parts (Go's Compose)."""
    if form == 0:
        n = int.from_bytes(coef, "big")
        return dest((1 if negative else 0, tuple(int(c) for c in str(n)), exp))
    if form == 1:
        return dest("-Infinity" if negative else "Infinity")
    if form == 2:
        return dest("NaN")
    raise ConversionError(f"unknown decimal form {form}", dest=dest)


def _is_decimal_text(s: str) -> bool:
    """Go's strconv float syntax, decimal only (no hex) plus the special
    values; the text decimal.Decimal reads exactly."""
    low = s.lower()
    if low in ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan"):
        return True
    return "x" not in low and _float_syntax_ok(s)


def _to_decimal(dest: type, src: Any) -> Any:
    """Python only: a decimal.Decimal destination takes a decimal source's parts,
    an int exactly, and other sources through their text (Go's asString), so a
    float gives its shortest text ("0.1", not the binary expansion)."""
    if _is_decimal_decompose(src):
        return _compose_decimal(dest, *_decompose(src))
    s, i = _int_source(src)
    if i is not None:
        return dest(i)
    if not _is_decimal_text(s):
        raise _parse_error(src, s, dest, _NumError(_SYNTAX))
    return dest(s.replace("_", ""))


def _to_uuid(dest: type, src: str | bytes | bytearray | memoryview) -> Any:
    """Go 1.27: a UUID destination takes its text form or its 16 bytes."""
    if not isinstance(src, str) and len(src) == 16:
        return dest(bytes=bytes(src))
    s = src if isinstance(src, str) else bytes(src).decode("utf-8", "replace")
    try:
        return dest(s)
    except ValueError:
        raise _parse_error(src, s, dest, _NumError(_SYNTAX)) from None
