"""Value converters: a port of Go's database/sql/driver/types.go.

A driver ``Value`` is one of: ``None``, ``int`` (fitting in 64 bits), ``float``,
``bool``, ``bytes``, ``str``, ``datetime.datetime`` or ``decimal.Decimal`` (Go's
``decimalDecompose``).

Errors keep Go's text with Python type names in place of Go's. A value that is out of
range or cannot be parsed raises ``ValueError``; a value of an unsupported type raises
``TypeError``.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from typing import Any, Protocol, TypeAlias, _ProtocolMeta, runtime_checkable

import attrs

__all__ = [
    "Bool",
    "DefaultParameterConverter",
    "Int32",
    "NotNull",
    "Null",
    "String",
    "Value",
    "ValueConverter",
    "Valuer",
    "is_scan_value",
    "is_value",
]

Value: TypeAlias = Any
"""A driver Value: None, int (64-bit), float, bool, bytes, str, datetime.datetime or
decimal.Decimal. Go's ``driver.Value`` is declared in driver.go; the alias lives here
so that this module stands alone."""

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1


@runtime_checkable
class ValueConverter(Protocol):
    """ValueConverter is the interface providing the ``convert_value`` method.

    Various implementations of ValueConverter are provided by the driver package to
    provide consistent implementations of conversions between drivers. The
    ValueConverters have several uses:

    - converting from the Value types as provided by the sql package into a database
      table's specific column type and making sure it fits, such as making sure a
      particular int64 fits in a table's uint16 column.
    - converting a value as given from the database into one of the driver Value types.
    - by the sql package, for converting from a driver's Value type to a user's type
      in a scan.
    """

    def convert_value(self, v: Any) -> Value:
        """Converts a value to a driver Value (raises on error)."""
        ...


class _ValuerMeta(_ProtocolMeta):
    # A runtime-checkable protocol only checks that the attribute exists. Enum members
    # and value boxes have a non-callable ``value`` attribute, and a class has an
    # unbound ``value`` function: none of them is a Valuer.
    def __instancecheck__(cls, instance: Any) -> bool:
        if not super().__instancecheck__(instance):
            return False
        return not isinstance(instance, type) and callable(getattr(instance, "value", None))


@runtime_checkable
class Valuer(Protocol, metaclass=_ValuerMeta):
    """Valuer is the interface providing the ``value`` method.

    Types implementing Valuer are able to convert themselves to a driver Value.
    ``isinstance(x, Valuer)`` is true only when ``x.value`` is callable and ``x`` is
    not a class.
    """

    def value(self) -> Value:
        """Returns a driver Value (raises on error). ``value`` must not panic."""
        ...


# The types that are never Valuers: checked first so the common case costs one
# set lookup instead of a protocol check.
_PLAIN_TYPES = frozenset(
    {type(None), int, float, bool, str, bytes, bytearray, datetime.datetime, decimal.Decimal}
)


def _is_valuer(v: Any) -> bool:
    """``isinstance(v, Valuer)``, fast: a callable ``value`` on an instance."""
    if type(v) in _PLAIN_TYPES or isinstance(v, type):
        return False
    return callable(getattr(v, "value", None))


# --- formatting helpers (Go's %T, %v, %q and reflect.Kind) ---

_MAX_SHOWN = 200


def _type_name(v: Any) -> str:
    """Go's %T: the type's name, qualified by its module unless it is a builtin."""
    t = type(v)
    if t.__module__ == "builtins":
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


def _show(v: Any) -> str:
    """Go's %v: str(v), cut short when long."""
    try:
        s = str(v)
    except Exception:  # a broken __str__ must not hide the real error
        s = object.__repr__(v)
    if len(s) > _MAX_SHOWN:
        s = s[:_MAX_SHOWN] + "..."
    return s


_QUOTE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def _quote(s: str | bytes | bytearray | memoryview) -> str:
    """Go's %q (strconv.Quote): a double-quoted string with Go's escapes.

    Bytes that are not valid UTF-8 are shown as ``\\xNN``, as Go does.
    """
    from_bytes = not isinstance(s, str)
    text = bytes(s).decode("utf-8", "surrogateescape") if not isinstance(s, str) else s
    if len(text) > _MAX_SHOWN:
        text = text[:_MAX_SHOWN]
        suffix = "..."
    else:
        suffix = ""
    out = ['"']
    for ch in text:
        o = ord(ch)
        esc = _QUOTE_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif from_bytes and 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out) + suffix


def _kind(v: Any) -> str:
    """Go's reflect.Kind, Python style: the nearest builtin base type's name
    (``list``, ``dict``, ``complex``, ``function``...), or ``object``."""
    for cls in type(v).__mro__:
        if cls is not object and cls.__module__ == "builtins":
            return cls.__qualname__
    return "object"


def _a(word: str) -> str:
    return ("an " if word[:1] in ("a", "e", "i", "o", "u") else "a ") + word


def _as_byte_buffer(v: Any) -> memoryview | None:
    """The buffer of a bytes-like object (Go's slice kind), or None if v is none."""
    try:
        return memoryview(v)
    except TypeError:
        return None


# --- Bool ---


class _BoolType:
    """Bool is a ValueConverter that converts input values to bools.

    The conversion rules are:

    - booleans are returned unchanged
    - for integer types, 1 is True, 0 is False, other integers are an error
    - for strings and bytes, same rules as Go's strconv.ParseBool
    - all other types are an error
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Bool"

    __str__ = __repr__

    def convert_value(self, src: Any) -> Value:
        """Converts src to a bool (raises ValueError or TypeError)."""
        if isinstance(src, bool):
            return src
        if isinstance(src, str):
            b = _parse_bool(str.__str__(src))
            if b is None:
                raise ValueError(f"sql/driver: couldn't convert {_quote(src)} into type bool")
            return b
        if isinstance(src, (bytes, bytearray, memoryview)):
            raw = bytes(src)
            b = _parse_bool(raw.decode("utf-8", "surrogateescape"))
            if b is None:
                raise ValueError(f"sql/driver: couldn't convert {_quote(raw)} into type bool")
            return b

        # Go's reflect.Int*/Uint* kinds: int and its subclasses (IntEnum...).
        if isinstance(src, int):
            iv = int.__index__(src)
            if iv == 1 or iv == 0:
                return iv == 1
            raise ValueError(f"sql/driver: couldn't convert {iv} into type bool")

        raise TypeError(
            f"sql/driver: couldn't convert {_show(src)} ({_type_name(src)}) into type bool"
        )


def _parse_bool(s: str) -> bool | None:
    """Go's strconv.ParseBool: None where Go returns an error."""
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


Bool = _BoolType()


# --- Int32 ---

_ATOI_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)


def _atoi(s: str) -> int | None:
    """Go's strconv.Atoi on a 64-bit platform: None where Go returns an error."""
    if _ATOI_RE.fullmatch(s) is None:
        return None
    i = int(s)
    if not _INT64_MIN <= i <= _INT64_MAX:
        return None
    return i


# --- Go's time.ParseDuration (fakedb's wait commands, the MySQL DSN's timeouts) ---

_DURATION_UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # U+00B5 = micro symbol
    "\u03bcs": 1_000,  # U+03BC = Greek letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 60 * 60 * 1_000_000_000,
}


def _parse_duration(s: str) -> float:
    """Go's time.ParseDuration, in seconds; raises ValueError with Go's text.

    A duration string is a possibly signed sequence of decimal numbers, each
    with optional fraction and a unit suffix, such as "300ms", "-1.5h" or
    "2h45m". Valid time units are "ns", "us" (or "µs"), "ms", "s", "m", "h".
    """
    orig = s
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if s == "":
        raise ValueError("time: invalid duration " + _quote(orig))
    total = decimal.Decimal(0)
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise ValueError("time: invalid duration " + _quote(orig))
        m = re.match(r"([0-9]*)(\.([0-9]*))?", s)
        assert m is not None
        pre, post = m.group(1), m.group(3)
        if pre == "" and not post:
            raise ValueError("time: invalid duration " + _quote(orig))
        s = s[m.end() :]
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError("time: missing unit in duration " + _quote(orig))
        u, s = s[:i], s[i:]
        unit = _DURATION_UNITS.get(u)
        if unit is None:
            raise ValueError("time: unknown unit " + _quote(u) + " in duration " + _quote(orig))
        value = decimal.Decimal(pre or "0") * unit
        if post:
            value += int(decimal.Decimal("0." + post) * unit)  # truncated, as Go does
        total += value
        if total > _INT64_MAX + (1 if neg else 0):
            raise ValueError("time: invalid duration " + _quote(orig))
    ns = int(total)
    return (-ns if neg else ns) / 1e9


class _Int32Type:
    """Int32 is a ValueConverter that converts input values to int (Go's int64),
    respecting the limits of an int32 value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Int32"

    __str__ = __repr__

    def convert_value(self, v: Any) -> Value:
        """Converts v to an int within int32's range (raises ValueError or TypeError)."""
        # Go's reflect.Int*/Uint* kinds: int and its subclasses, but not bool (Go's
        # bool is its own kind).
        if isinstance(v, int) and not isinstance(v, bool):
            i64 = int.__index__(v)
            if i64 > _INT32_MAX or i64 < _INT32_MIN:
                raise ValueError(f"sql/driver: value {i64} overflows int32")
            return i64
        # Go's reflect.String kind: str and its subclasses (StrEnum...).
        if isinstance(v, str):
            i = _atoi(str.__str__(v))
            if i is None:
                raise ValueError(f"sql/driver: value {_quote(v)} can't be converted to int32")
            # As in Go, a parsed string is only checked to fit in 64 bits, not 32.
            return i
        raise TypeError(
            f"sql/driver: unsupported value {_show(v)} (type {_type_name(v)}) converting to int32"
        )


Int32 = _Int32Type()


# --- String ---


class _StringType:
    """String is a ValueConverter that converts its input to a string.

    If the value is already a str or bytes, it's unchanged (other bytes-like values
    become bytes). If the value is of another type, conversion to string is done with
    ``str(v)`` (Go's ``fmt.Sprintf("%v", v)``).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "String"

    __str__ = __repr__

    def convert_value(self, v: Any) -> Value:
        """Converts v to a str (bytes are kept as bytes)."""
        if type(v) is str or type(v) is bytes:
            return v
        if isinstance(v, (bytes, bytearray, memoryview)):
            return bytes(v)
        return str(v)


String = _StringType()


# --- Null, NotNull ---


@attrs.frozen
class Null:
    """Null is a ValueConverter that allows None values but otherwise delegates to
    another ValueConverter."""

    converter: ValueConverter

    def convert_value(self, v: Any) -> Value:
        """Returns None for None, else ``self.converter.convert_value(v)``."""
        if v is None:
            return None
        return self.converter.convert_value(v)


@attrs.frozen
class NotNull:
    """NotNull is a ValueConverter that disallows None values but otherwise delegates
    to another ValueConverter."""

    converter: ValueConverter

    def convert_value(self, v: Any) -> Value:
        """Raises ValueError for None, else returns ``self.converter.convert_value(v)``."""
        if v is None:
            raise ValueError("nil value not allowed")
        return self.converter.convert_value(v)


# --- is_value, is_scan_value ---


def is_value(v: Any) -> bool:
    """Reports whether v is a valid Value parameter type.

    Like Go's type switch, the types must match exactly (an int subclass such as an
    IntEnum member is not a Value); an int must fit in 64 bits. Any decimal.Decimal,
    Go's decimalDecompose interface, is a Value.
    """
    if v is None:
        return True
    t = type(v)
    if t is int:
        return bool(_INT64_MIN <= v <= _INT64_MAX)
    if t is bytes or t is bool or t is float or t is str or t is datetime.datetime:
        return True
    return isinstance(v, decimal.Decimal)


def is_scan_value(v: Any) -> bool:
    """is_scan_value is equivalent to is_value. It exists for compatibility."""
    return is_value(v)


# --- DefaultParameterConverter ---


def _call_valuer_value(vr: Valuer) -> Value:
    """Returns ``vr.value()``.

    Go makes one exception: if Value is an auto-generated method on a pointer type and
    the pointer is nil, it would panic in the panicwrap method, so it is treated like
    nil instead (Go issue 8415). Python has no nil pointer to a value type, so there is
    no such case here.

    This function is mirrored in the sql package.
    """
    return vr.value()


class _DefaultConverter:
    """DefaultParameterConverter is the default implementation of ValueConverter that's
    used when a Stmt doesn't implement ColumnConverter.

    DefaultParameterConverter returns its argument directly if ``is_value(arg)``.
    Otherwise, if the argument implements Valuer, its ``value`` method is used to
    return a Value. As a fallback, the provided argument's base type is used to convert
    it to a Value: int subclasses (IntEnum...) are converted to int (which must fit in
    64 bits), float subclasses to float, and str, bytes and datetime subclasses to
    themselves; bytearray, memoryview and other byte buffers become bytes; a
    ``uuid.UUID`` becomes its text form (Go 1.27). ``None`` (Go's nil pointer) is a
    None Value. Other types are an error.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "DefaultParameterConverter"

    __str__ = __repr__

    def convert_value(self, v: Any) -> Value:
        """Converts v to a driver Value (raises ValueError or TypeError)."""
        if is_value(v):
            return v

        if _is_valuer(v):
            sv = _call_valuer_value(v)
            if not is_value(sv):
                raise TypeError(
                    f"non-Value type {_type_name(sv)} returned from Value"
                    f" of {_type_name(v)}: {_show(sv)}"
                )
            return sv
        # For now, continue to prefer the Valuer interface over the decimal decompose
        # interface. (Go's decimalDecompose is decimal.Decimal, already a Value above.)

        # Go 1.27 binds a uuid.UUID natively: its text form.
        if isinstance(v, uuid.UUID):
            return str(v)

        # Go's reflect.Pointer kind: None was a Value above; Python has no other
        # pointer to dereference.

        # Go's reflect.Int*/Uint* kinds (bool cannot be subclassed, so a bool was a
        # Value above).
        if isinstance(v, int):
            iv = int.__index__(v)
            if _INT64_MIN <= iv <= _INT64_MAX:
                return iv
            if _INT64_MAX < iv <= _UINT64_MAX:
                raise ValueError(
                    "uint64 values with high bit set are not supported:"
                    f" value {iv} (type {_type_name(v)})"
                )
            raise ValueError(f"value {iv} (type {_type_name(v)}) overflows int64")
        # Go's reflect.Float32/Float64 kinds.
        if isinstance(v, float):
            return float.__float__(v)
        # Go's reflect.String kind.
        if isinstance(v, str):
            return str.__str__(v)
        # Go's reflect.Slice kind: a slice of uint8 is bytes, any other slice an error.
        if isinstance(v, (bytes, bytearray)):
            return bytes(v)
        buf = _as_byte_buffer(v)
        if buf is not None:
            if buf.format == "B":
                return buf.tobytes()
            raise TypeError(f"unsupported type {_type_name(v)}, a buffer of format {buf.format!r}")
        # Python only: a datetime subclass is a datetime (Go's named time.Time is a
        # struct and an error).
        if isinstance(v, datetime.datetime):
            return datetime.datetime(
                v.year,
                v.month,
                v.day,
                v.hour,
                v.minute,
                v.second,
                v.microsecond,
                tzinfo=v.tzinfo,
                fold=v.fold,
            )
        raise TypeError(f"unsupported type {_type_name(v)}, {_a(_kind(v))}")


DefaultParameterConverter = _DefaultConverter()
