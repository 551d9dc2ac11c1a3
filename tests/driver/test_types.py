"""Tests for dbsql.driver.types: a port of Go's database/sql/driver/types_test.go,
then tests of the Python-specific rules."""

from __future__ import annotations

import array
import datetime
import decimal
import enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbsql.driver.types import (
    Bool,
    DefaultParameterConverter,
    Int32,
    NotNull,
    Null,
    String,
    Value,
    ValueConverter,
    Valuer,
    _parse_duration,
    is_scan_value,
    is_value,
)

# --- Go's types_test.go ---

now = datetime.datetime.now()
answer = 42


# Go's named types map to subclasses of the nearest Python type.
class I(int):  # noqa: E742 - Go's `type i int64`
    pass


class F(float):  # Go's `type f float64`
    pass


class Bs(bytes):  # Go's `type bs []byte`
    pass


class S(str):  # Go's `type s string`
    pass


class T(datetime.datetime):  # Go's `type t time.Time` (unused in Go's table too)
    pass


class Is(list[int]):  # Go's `type is []int`
    pass


class Uint16(int):  # Go's uint16: an int subclass stands for a sized Go int
    pass


def dec(exponent: int) -> decimal.Decimal:
    """Go's dec (a decimalDecompose) with a zero coefficient is a zero Decimal."""
    return decimal.Decimal((0, (0,), exponent))


VALUE_CONVERTER_TESTS: list[tuple[ValueConverter, Any, Any, str]] = [
    (Bool, "true", True, ""),
    (Bool, "True", True, ""),
    (Bool, b"t", True, ""),  # Go's []byte("t") is bytes
    (Bool, True, True, ""),
    (Bool, "1", True, ""),
    (Bool, 1, True, ""),
    (Bool, 1, True, ""),  # Go's int64(1): Python has one int type
    (Bool, Uint16(1), True, ""),  # Go's uint16(1)
    (Bool, "false", False, ""),
    (Bool, False, False, ""),
    (Bool, "0", False, ""),
    (Bool, 0, False, ""),
    (Bool, 0, False, ""),  # Go's int64(0): Python has one int type
    (Bool, Uint16(0), False, ""),  # Go's uint16(0)
    (Bool, "foo", None, 'sql/driver: couldn\'t convert "foo" into type bool'),
    (Bool, 2, None, "sql/driver: couldn't convert 2 into type bool"),
    (DefaultParameterConverter, now, now, ""),
    (DefaultParameterConverter, None, None, ""),  # Go's (*int64)(nil): a nil pointer is None
    (DefaultParameterConverter, answer, answer, ""),  # Go's &answer: no pointers, the value
    (DefaultParameterConverter, now, now, ""),  # Go's &now: no pointers, the value
    (DefaultParameterConverter, I(9), 9, ""),
    (DefaultParameterConverter, F(0.1), 0.1, ""),
    (DefaultParameterConverter, True, True, ""),  # Go's b(true): bool cannot be subclassed
    (DefaultParameterConverter, Bs(b"\x01"), b"\x01", ""),
    (DefaultParameterConverter, S("a"), "a", ""),
    (DefaultParameterConverter, Is([1]), None, f"unsupported type {__name__}.Is, a list"),
    (DefaultParameterConverter, dec(-6), dec(-6), ""),
]


@pytest.mark.parametrize(
    ("c", "inp", "out", "err"),
    VALUE_CONVERTER_TESTS,
    ids=[
        f"{i}:{c!r}({type(inp).__name__})" for i, (c, inp, _, _) in enumerate(VALUE_CONVERTER_TESTS)
    ],
)
def test_value_converters(c: ValueConverter, inp: Any, out: Any, err: str) -> None:
    if err:
        with pytest.raises((TypeError, ValueError)) as excinfo:
            c.convert_value(inp)
        assert str(excinfo.value) == err
        return
    got = c.convert_value(inp)
    # Go's reflect.DeepEqual: same type and equal value.
    assert type(got) is type(out)
    assert got == out
    if isinstance(out, decimal.Decimal):
        assert got.as_tuple() == out.as_tuple()


# --- Python-specific rules ---


class Color(enum.IntEnum):
    RED = 1
    BIG = 1 << 63


class Mode(enum.StrEnum):
    ON = "on"


class Thing:
    pass


class GoodValuer:
    def __init__(self, v: Any) -> None:
        self.v = v

    def value(self) -> Value:
        return self.v


class FailingValuer:
    def value(self) -> Value:
        raise RuntimeError("boom")


class ValuerInt(int):
    """An int subclass that is also a Valuer: the Valuer wins, as in Go."""

    def value(self) -> Value:
        return "from value"


class Box:
    """A value box whose ``value`` is data, not a method: not a Valuer."""

    def __init__(self) -> None:
        self.value = 3


def test_converters_satisfy_protocol() -> None:
    for c in (Bool, Int32, String, DefaultParameterConverter, Null(Bool), NotNull(Int32)):
        assert isinstance(c, ValueConverter)
    assert repr(Bool) == str(Bool) == "Bool"
    assert repr(Int32) == "Int32"
    assert repr(String) == "String"
    assert repr(DefaultParameterConverter) == "DefaultParameterConverter"


def test_valuer_isinstance() -> None:
    assert isinstance(GoodValuer(1), Valuer)
    assert isinstance(ValuerInt(1), Valuer)
    # Enum members and boxes have a ``value`` attribute that is not a method.
    assert not isinstance(Color.RED, Valuer)
    assert not isinstance(Mode.ON, Valuer)
    assert not isinstance(Box(), Valuer)
    # A class with a value method is not itself a Valuer.
    assert not isinstance(GoodValuer, Valuer)
    assert not isinstance(1, Valuer)


@pytest.mark.parametrize(
    ("v", "want"),
    [
        (None, True),
        (0, True),
        ((1 << 63) - 1, True),
        (-(1 << 63), True),
        (1 << 63, False),
        (-(1 << 63) - 1, False),
        (1.5, True),
        (True, True),
        (b"", True),
        ("", True),
        (now, True),
        (datetime.datetime.now(datetime.UTC), True),
        (decimal.Decimal("1.5"), True),
        (bytearray(b"x"), False),
        (memoryview(b"x"), False),
        (Color.RED, False),
        (Mode.ON, False),
        (I(1), False),
        (S("a"), False),
        (T(2020, 1, 1), False),
        (datetime.date(2020, 1, 1), False),
        ([1], False),
        (Thing(), False),
        (GoodValuer(1), False),
    ],
)
def test_is_value(v: Any, want: bool) -> None:
    assert is_value(v) is want
    assert is_scan_value(v) is want


@pytest.mark.parametrize(
    ("s", "want"),
    [
        *[(s, True) for s in ("1", "t", "T", "TRUE", "true", "True")],
        *[(s, False) for s in ("0", "f", "F", "FALSE", "false", "False")],
    ],
)
def test_bool_parse_bool_strings(s: str, want: bool) -> None:
    assert Bool.convert_value(s) is want
    assert Bool.convert_value(s.encode()) is want
    assert Bool.convert_value(bytearray(s.encode())) is want
    assert Bool.convert_value(memoryview(s.encode())) is want
    assert Bool.convert_value(S(s)) is want


@pytest.mark.parametrize("s", ["", "yes", "tRUE", " true", "true ", "2", "01", "ｔ"])
def test_bool_rejects_other_strings(s: str) -> None:
    with pytest.raises(ValueError, match='^sql/driver: couldn\'t convert ".*" into type bool$'):
        Bool.convert_value(s)


def test_bool_error_messages() -> None:
    with pytest.raises(ValueError) as excinfo:
        Bool.convert_value(b"\xffno\n")
    assert str(excinfo.value) == 'sql/driver: couldn\'t convert "\\xffno\\n" into type bool'
    with pytest.raises(ValueError) as excinfo:
        Bool.convert_value('say "hi"')
    assert str(excinfo.value) == 'sql/driver: couldn\'t convert "say \\"hi\\"" into type bool'
    with pytest.raises(ValueError) as excinfo:
        Bool.convert_value(-1)
    assert str(excinfo.value) == "sql/driver: couldn't convert -1 into type bool"
    with pytest.raises(TypeError) as type_excinfo:
        Bool.convert_value(1.0)
    assert str(type_excinfo.value) == "sql/driver: couldn't convert 1.0 (float) into type bool"
    with pytest.raises(TypeError) as type_excinfo:
        Bool.convert_value(None)
    assert str(type_excinfo.value) == "sql/driver: couldn't convert None (NoneType) into type bool"


def test_bool_int_subclasses() -> None:
    assert Bool.convert_value(Color.RED) is True
    assert Bool.convert_value(I(0)) is False
    with pytest.raises(ValueError, match="couldn't convert 9223372036854775808 into type bool"):
        Bool.convert_value(Color.BIG)


def test_int32() -> None:
    for v, want in [
        (0, 0),
        ((1 << 31) - 1, (1 << 31) - 1),
        (-(1 << 31), -(1 << 31)),
        (Color.RED, 1),
        (Uint16(7), 7),
        ("123", 123),
        ("+5", 5),
        ("-7", -7),
        ("007", 7),
        (S("12"), 12),
        # As in Go, a string is only checked to fit in 64 bits (strconv.Atoi).
        ("4294967295", 4294967295),
    ]:
        got = Int32.convert_value(v)
        assert type(got) is int
        assert got == want


@pytest.mark.parametrize("v", [1 << 31, -(1 << 31) - 1, 0xFFFFFFFF, 1 << 70, Color.BIG])
def test_int32_overflow(v: int) -> None:
    with pytest.raises(ValueError) as excinfo:
        Int32.convert_value(v)
    assert str(excinfo.value) == f"sql/driver: value {int(v)} overflows int32"


def test_int32_overflow_message_as_in_sql_test() -> None:
    # sql_test.go's TestExec expects this exact text for 0xFFFFFFFF.
    with pytest.raises(ValueError, match="^sql/driver: value 4294967295 overflows int32$"):
        Int32.convert_value(0xFFFFFFFF)


@pytest.mark.parametrize(
    "s", ["", "abc", "1_000", " 1", "1 ", "1.5", "１", "0x10", "99999999999999999999"]
)
def test_int32_unparsable_strings(s: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        Int32.convert_value(s)
    assert str(excinfo.value) == f'sql/driver: value "{s}" can\'t be converted to int32'


@pytest.mark.parametrize(
    ("v", "shown", "tname"),
    [
        (True, "True", "bool"),
        (1.5, "1.5", "float"),
        (b"1", "b'1'", "bytes"),
        (None, "None", "NoneType"),
    ],
)
def test_int32_unsupported(v: Any, shown: str, tname: str) -> None:
    with pytest.raises(TypeError) as excinfo:
        Int32.convert_value(v)
    assert str(excinfo.value) == (
        f"sql/driver: unsupported value {shown} (type {tname}) converting to int32"
    )


def test_string() -> None:
    s = "a"
    b = b"x"
    assert String.convert_value(s) is s
    assert String.convert_value(b) is b
    for v, want in [
        (12, "12"),
        (1.5, "1.5"),
        (True, "True"),
        (None, "None"),
        (Mode.ON, "on"),
        (S("z"), "z"),
        (bytearray(b"y"), b"y"),
        (memoryview(b"w"), b"w"),
        (Bs(b"v"), b"v"),
    ]:
        got = String.convert_value(v)
        assert type(got) is type(want)
        assert got == want


def test_null_and_not_null() -> None:
    assert Null(Bool).convert_value(None) is None
    assert Null(Bool).convert_value("t") is True
    assert Null(converter=Int32).convert_value("3") == 3
    with pytest.raises(ValueError, match="overflows int32"):
        Null(Int32).convert_value(1 << 40)

    with pytest.raises(ValueError) as excinfo:
        NotNull(Bool).convert_value(None)
    assert str(excinfo.value) == "nil value not allowed"
    assert NotNull(Bool).convert_value(0) is False
    with pytest.raises(TypeError, match="unsupported type list, a list"):
        NotNull(DefaultParameterConverter).convert_value([1])

    assert Null(Bool) == Null(Bool)
    assert Null(Bool) != Null(Int32)
    assert NotNull(Bool).converter is Bool


@pytest.mark.parametrize(
    ("v", "want"),
    [
        (bytearray(b"ab"), b"ab"),
        (memoryview(b"cd"), b"cd"),
        (memoryview(bytearray(b"abcdef"))[::2], b"ace"),
        (array.array("B", [1, 2]), b"\x01\x02"),
        (Bs(b"e"), b"e"),
        (Color.RED, 1),
        (I(-5), -5),
        (F(2.5), 2.5),
        (Mode.ON, "on"),
        (S("s"), "s"),
        ((1 << 63) - 1, (1 << 63) - 1),
        (-(1 << 63), -(1 << 63)),
        (T(2020, 1, 2, 3, 4, 5, 6), datetime.datetime(2020, 1, 2, 3, 4, 5, 6)),
    ],
)
def test_default_converter_base_types(v: Any, want: Any) -> None:
    got = DefaultParameterConverter.convert_value(v)
    assert type(got) is type(want)
    assert got == want
    assert is_value(got)


def test_default_converter_keeps_values() -> None:
    aware = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    d = decimal.Decimal("1.50")

    class D(decimal.Decimal):  # Go's decimalDecompose is an interface: any Decimal passes
        pass

    dd = D("2")
    for v in (aware, d, dd, b"x", "y", 1.5, False, 0):
        assert DefaultParameterConverter.convert_value(v) is v
    aware_sub = T(2020, 1, 1, tzinfo=datetime.UTC, fold=1)
    got = DefaultParameterConverter.convert_value(aware_sub)
    assert type(got) is datetime.datetime
    assert got == aware_sub
    assert got.tzinfo is datetime.UTC
    assert got.fold == 1


@pytest.mark.parametrize("v", [1 << 63, (1 << 64) - 1, Color.BIG])
def test_default_converter_uint64_high_bit(v: int) -> None:
    with pytest.raises(ValueError) as excinfo:
        DefaultParameterConverter.convert_value(v)
    msg = str(excinfo.value)
    assert msg.startswith("uint64 values with high bit set are not supported")
    assert str(int(v)) in msg
    assert f"(type {'int' if type(v) is int else f'{__name__}.Color'})" in msg


@pytest.mark.parametrize("v", [1 << 64, -(1 << 63) - 1, -(1 << 100)])
def test_default_converter_int_beyond_64_bits(v: int) -> None:
    with pytest.raises(ValueError) as excinfo:
        DefaultParameterConverter.convert_value(v)
    assert str(excinfo.value) == f"value {v} (type int) overflows int64"


@given(st.integers())
def test_default_converter_ints(v: int) -> None:
    if -(1 << 63) <= v < (1 << 63):
        assert DefaultParameterConverter.convert_value(v) == v
        assert DefaultParameterConverter.convert_value(I(v)) == v
    else:
        with pytest.raises(ValueError, match=str(v)):
            DefaultParameterConverter.convert_value(v)


@pytest.mark.parametrize(
    ("v", "want"),
    [
        (GoodValuer(None), None),
        (GoodValuer(7), 7),
        (GoodValuer("s"), "s"),
        (GoodValuer(b"b"), b"b"),
        (ValuerInt(3), "from value"),
    ],
)
def test_default_converter_valuer(v: Any, want: Any) -> None:
    assert DefaultParameterConverter.convert_value(v) == want


@pytest.mark.parametrize(
    ("ret", "tname", "shown"),
    [
        ([1, 2], "list", "[1, 2]"),
        (1 << 64, "int", str(1 << 64)),
        (Color.RED, f"{__name__}.Color", "1"),
        (bytearray(b"x"), "bytearray", "bytearray(b'x')"),
    ],
)
def test_default_converter_valuer_returns_non_value(ret: Any, tname: str, shown: str) -> None:
    with pytest.raises(TypeError) as excinfo:
        DefaultParameterConverter.convert_value(GoodValuer(ret))
    assert str(excinfo.value) == (
        f"non-Value type {tname} returned from Value of {__name__}.GoodValuer: {shown}"
    )


def test_default_converter_valuer_error_propagates() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        DefaultParameterConverter.convert_value(FailingValuer())


@pytest.mark.parametrize(
    ("v", "msg"),
    [
        ([1], "unsupported type list, a list"),
        ((1,), "unsupported type tuple, a tuple"),
        ({"a": 1}, "unsupported type dict, a dict"),
        ({1}, "unsupported type set, a set"),
        (1j, "unsupported type complex, a complex"),
        (len, "unsupported type builtin_function_or_method, a builtin_function_or_method"),
        (Thing(), f"unsupported type {__name__}.Thing, an object"),
        (Box(), f"unsupported type {__name__}.Box, an object"),
        (GoodValuer, "unsupported type type, a type"),
        (datetime.date(2020, 1, 1), "unsupported type datetime.date, an object"),
        (array.array("i", [1]), "unsupported type array.array, a buffer of format 'i'"),
        (memoryview(b"ab").cast("c"), "unsupported type memoryview, a buffer of format 'c'"),
    ],
)
def test_default_converter_unsupported(v: Any, msg: str) -> None:
    with pytest.raises(TypeError) as excinfo:
        DefaultParameterConverter.convert_value(v)
    assert str(excinfo.value) == msg


# --- Go's time.ParseDuration (used by fakedb and the MySQL DSN) ---


@pytest.mark.parametrize(
    ("s", "want"),
    [
        ("0", 0.0),
        ("10ms", 0.01),
        ("1.5h", 5400.0),
        ("-1.5h", -5400.0),
        ("+2h45m", 9900.0),
        ("1µs", 1e-6),
        ("1μs", 1e-6),
        ("1us", 1e-6),
        ("3ns", 3e-9),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("1m0.5s", 60.5),
    ],
)
def test_parse_duration(s: str, want: float) -> None:
    assert _parse_duration(s) == pytest.approx(want)


@pytest.mark.parametrize(
    ("s", "want"),
    [
        ("", 'time: invalid duration ""'),
        ("x", 'time: invalid duration "x"'),
        (".s", 'time: invalid duration ".s"'),
        ("-", 'time: invalid duration "-"'),
        ("1", 'time: missing unit in duration "1"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("9999999999h", 'time: invalid duration "9999999999h"'),
    ],
)
def test_parse_duration_errors(s: str, want: str) -> None:
    with pytest.raises(ValueError) as info:
        _parse_duration(s)
    assert str(info.value) == want
