"""Tests for dbsql.convert: a port of Go's database/sql/convert_test.go, then tests of
the Python-specific rules (sized ints, UUID, T | None, Ref, Decimal, Null[T]) and of the
value types at the top of dbsql/sql.py."""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import threading
import typing
import uuid
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from dbsql import driver, sql
from dbsql.convert import (
    ConversionError,
    _convert_assign,
    _driver_args_conn_locked,
    _format_float,
    _format_rfc3339_nano,
    _parse_float,
    _parse_int,
    _parse_uint,
    convert_assign,
)
from dbsql.sql import (
    LEVEL_DEFAULT,
    LEVEL_LINEARIZABLE,
    LEVEL_SERIALIZABLE,
    ErrNoRows,
    Float32,
    Int8,
    Int16,
    Int32,
    Int64,
    IsolationLevel,
    NamedArg,
    NoRowsError,
    Null,
    NullBool,
    NullByte,
    NullFloat64,
    NullInt16,
    NullInt32,
    NullInt64,
    NullString,
    NullTime,
    Out,
    RawBytes,
    Ref,
    Scanner,
    TxOptions,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    named,
)

UTC = datetime.UTC

# Go's time.Unix(123, 0) (Python: in UTC; Go's is in the local zone).
some_time = datetime.datetime.fromtimestamp(123, UTC)
answer = 42


def unix(sec: int, usec: int = 0) -> datetime.datetime:
    """Go's time.Unix(sec, nsec).UTC(); Python's datetime holds microseconds, so the
    nanoseconds of Go's cases become microseconds here."""
    return datetime.datetime.fromtimestamp(sec, UTC) + datetime.timedelta(microseconds=usec)


class UserDefined(float):
    """Go's ``type userDefined float64``."""


class UserDefinedSlice(list[int]):
    """Go's ``type userDefinedSlice []int``."""


class UserDefinedString(str):
    """Go's ``type userDefinedString string``."""


_UNSET: Any = object()


@attrs.frozen
class ConversionTest:
    s: Any  # source
    d: Any  # destination
    # Go checks a want* field when it is non-zero; here want is checked when set
    # (including None and zero values, which Go cannot check).
    want: Any = _UNSET
    wanterr: str = ""


def conversion_tests() -> list[ConversionTest]:
    # Return a fresh instance to test so every run works alike.
    ct = ConversionTest
    return [
        # Exact conversions (destination type matches source type)
        ct(s="foo", d=str, want="foo"),
        ct(s=123, d=int, want=123),
        ct(s=some_time, d=datetime.datetime, want=some_time),
        # To strings
        ct(s="string", d=str, want="string"),
        ct(s=b"byteslice", d=str, want="byteslice"),
        ct(s=123, d=str, want="123"),
        ct(s=Int8(123), d=str, want="123"),
        ct(s=Int64(123), d=str, want="123"),
        ct(s=Uint8(123), d=str, want="123"),
        ct(s=Uint16(123), d=str, want="123"),
        ct(s=Uint32(123), d=str, want="123"),
        ct(s=Uint64(123), d=str, want="123"),
        ct(s=1.5, d=str, want="1.5"),
        # From datetime:
        ct(s=unix(1), d=str, want="1970-01-01T00:00:01Z"),
        ct(
            s=datetime.datetime.fromtimestamp(
                1453874597, datetime.timezone(datetime.timedelta(hours=-8), "here")
            ),
            d=str,
            want="2016-01-26T22:03:17-08:00",
        ),
        ct(s=unix(1, 2), d=str, want="1970-01-01T00:00:01.000002Z"),
        # Go's time.Time{}, the zero time, in UTC.
        ct(s=datetime.datetime(1, 1, 1, tzinfo=UTC), d=str, want="0001-01-01T00:00:00Z"),
        ct(s=unix(1, 2), d=bytes, want=b"1970-01-01T00:00:01.000002Z"),
        ct(s=unix(1, 2), d=object, want=unix(1, 2)),
        # To bytes
        ct(s=None, d=bytes, want=None),
        ct(s="string", d=bytes, want=b"string"),
        ct(s=b"byteslice", d=bytes, want=b"byteslice"),
        ct(s=123, d=bytes, want=b"123"),
        ct(s=Int8(123), d=bytes, want=b"123"),
        ct(s=Int64(123), d=bytes, want=b"123"),
        ct(s=Uint8(123), d=bytes, want=b"123"),
        ct(s=Uint16(123), d=bytes, want=b"123"),
        ct(s=Uint32(123), d=bytes, want=b"123"),
        ct(s=Uint64(123), d=bytes, want=b"123"),
        ct(s=1.5, d=bytes, want=b"1.5"),
        # To RawBytes
        ct(s=None, d=RawBytes, want=None),
        ct(s=b"byteslice", d=RawBytes, want=RawBytes(b"byteslice")),
        ct(s="string", d=RawBytes, want=RawBytes(b"string")),
        ct(s=123, d=RawBytes, want=RawBytes(b"123")),
        ct(s=Int8(123), d=RawBytes, want=RawBytes(b"123")),
        ct(s=Int64(123), d=RawBytes, want=RawBytes(b"123")),
        ct(s=Uint8(123), d=RawBytes, want=RawBytes(b"123")),
        ct(s=Uint16(123), d=RawBytes, want=RawBytes(b"123")),
        ct(s=Uint32(123), d=RawBytes, want=RawBytes(b"123")),
        ct(s=Uint64(123), d=RawBytes, want=RawBytes(b"123")),
        ct(s=1.5, d=RawBytes, want=RawBytes(b"1.5")),
        # datetime has been placed here to check that the RawBytes value gets
        # correctly reset when formatting a time.
        ct(s=unix(2, 5), d=RawBytes, want=RawBytes(b"1970-01-01T00:00:02.000005Z")),
        # Strings to integers
        ct(s="255", d=Uint8, want=255),
        ct(
            s="256",
            d=Uint8,
            wanterr='converting driver.Value type str ("256") to a Uint8: value out of range',
        ),
        ct(s="256", d=Uint16, want=256),
        ct(s="-1", d=int, want=-1),
        ct(
            s="foo",
            d=int,
            wanterr='converting driver.Value type str ("foo") to a int: invalid syntax',
        ),
        # int64 to smaller integers
        ct(s=5, d=Uint8, want=5),
        ct(
            s=256,
            d=Uint8,
            wanterr='converting driver.Value type int ("256") to a Uint8: value out of range',
        ),
        ct(s=256, d=Uint16, want=256),
        ct(
            s=65536,
            d=Uint16,
            wanterr='converting driver.Value type int ("65536") to a Uint16: value out of range',
        ),
        # True bools
        ct(s=True, d=bool, want=True),
        ct(s="True", d=bool, want=True),
        ct(s="TRUE", d=bool, want=True),
        ct(s="1", d=bool, want=True),
        ct(s=1, d=bool, want=True),
        ct(s=Int64(1), d=bool, want=True),
        ct(s=Uint16(1), d=bool, want=True),
        # False bools
        ct(s=False, d=bool, want=False),
        ct(s="false", d=bool, want=False),
        ct(s="FALSE", d=bool, want=False),
        ct(s="0", d=bool, want=False),
        ct(s=0, d=bool, want=False),
        ct(s=Int64(0), d=bool, want=False),
        ct(s=Uint16(0), d=bool, want=False),
        # Not bools
        ct(s="yup", d=bool, wanterr='sql/driver: couldn\'t convert "yup" into type bool'),
        ct(s=2, d=bool, wanterr="sql/driver: couldn't convert 2 into type bool"),
        # Floats
        ct(s=1.5, d=float, want=1.5),
        ct(s=1, d=float, want=1.0),
        ct(s=1.5, d=Float32, want=1.5),
        ct(s="1.5", d=Float32, want=1.5),
        ct(s="1.5", d=float, want=1.5),
        # Pointers (Go's **int64 is int | None)
        ct(s=None, d=int | None, want=None),
        ct(s=42, d=int | None, want=answer),
        # To object (Go's interface{})
        ct(s=1.5, d=object, want=1.5),
        ct(s=1, d=object, want=1),
        ct(s="str", d=object, want="str"),
        ct(s=b"byteslice", d=object, want=b"byteslice"),
        ct(s=True, d=object, want=True),
        ct(s=None, d=object, want=None),
        # Go's []byte(nil) has no Python twin: the empty bytes.
        ct(s=b"", d=object, want=b""),
        # To a user-defined type
        ct(s=1.5, d=UserDefined, want=UserDefined(1.5)),
        ct(s=123, d=UserDefined, want=UserDefined(123)),
        ct(s="1.5", d=UserDefined, want=UserDefined(1.5)),
        ct(
            s=bytes([1, 2, 3]),
            d=UserDefinedSlice,
            wanterr="unsupported Scan, storing driver.Value type bytes into type"
            f" {__name__}.UserDefinedSlice",
        ),
        ct(s="str", d=UserDefinedString, want=UserDefinedString("str")),
        # Other errors
        ct(
            s=complex(1, 2),
            d=str,
            wanterr="unsupported Scan, storing driver.Value type complex into type str",
        ),
    ]


@pytest.mark.parametrize(
    "ct", conversion_tests(), ids=[f"#{n}" for n in range(len(conversion_tests()))]
)
def test_conversions(ct: ConversionTest) -> None:
    base = f"convert_assign: for {ct.s!r} ({type(ct.s).__name__}) -> {ct.d!r}, "
    errstr = ""
    got: Any = _UNSET
    try:
        got = _convert_assign(ct.d, ct.s)
    except ConversionError as err:
        errstr = str(err)
    assert errstr == ct.wanterr, base + f"got error {errstr!r}, want error {ct.wanterr!r}"
    if ct.wanterr:
        return
    if ct.want is not _UNSET:
        assert got == ct.want, base + f"want {ct.want!r}, got {got!r}"
        if ct.want is not None:
            # The value has the destination's type (plain int/float for the sized ones).
            if ct.d is RawBytes and isinstance(ct.s, bytes):
                assert got is ct.s  # no copy, as Go's RawBytes shares the driver's memory
            elif isinstance(ct.d, type) and ct.d not in (object, Int8, Uint8, Uint16, Float32):
                assert isinstance(got, ct.d), base + f"got type {type(got).__name__}"
    if ct.d in (Uint8, Uint16, Float32) or ct.d == int | None:
        assert type(got) in (int, float, type(None)), "sized destinations give plain values"
    if ct.d is bool:
        assert type(got) is bool
    if ct.d is object and isinstance(ct.s, (bytes, bytearray)):
        # Go: "copy into interface{} didn't copy []byte data". Python bytes are
        # immutable, so sharing them is safe; the value must be bytes.
        assert type(got) is bytes


def test_null_string() -> None:
    ns = NullString()
    assert _convert_assign(ns, b"foo") is ns
    assert ns.valid, "expecting not null"
    assert ns.string == "foo", f"expecting foo; got {ns.string!r}"
    _convert_assign(ns, None)
    assert not ns.valid, "expecting null on nil"
    assert ns.string == "", f"expecting blank on nil; got {ns.string!r}"


@attrs.frozen
class ValueConverterTest:
    c: driver.ValueConverter
    in_: Any
    out: Any
    err: str


value_converter_tests = [
    ValueConverterTest(driver.DefaultParameterConverter, NullString("hi", True), "hi", ""),
    ValueConverterTest(driver.DefaultParameterConverter, NullString("", False), None, ""),
]


@pytest.mark.parametrize("i", range(len(value_converter_tests)))
def test_value_converters(i: int) -> None:
    tt = value_converter_tests[i]
    goterr = ""
    out: Any = None
    try:
        out = tt.c.convert_value(tt.in_)
    except Exception as err:
        goterr = str(err)
    assert goterr == tt.err, f"test {i}: {tt.c}({tt.in_!r}) error = {goterr!r}; want {tt.err!r}"
    if tt.err:
        return
    assert out == tt.out, f"test {i}: {tt.c}({tt.in_!r}) = {out!r}; want {tt.out!r}"
    assert type(out) is type(tt.out)


# Tests that assigning to RawBytes works, and does not copy where Go does not allocate.
def test_raw_bytes_allocs() -> None:
    tests: list[tuple[str, Any, str]] = [
        ("uint64", Uint64(12345678), "12345678"),
        ("uint32", Uint32(1234), "1234"),
        ("uint16", Uint16(12), "12"),
        ("uint8", Uint8(1), "1"),
        ("uint", Uint64(123), "123"),  # Go's uint is 64 bits wide on amd64
        ("int", 123, "123"),
        ("int8", Int8(1), "1"),
        ("int16", Int16(12), "12"),
        ("int32", Int32(1234), "1234"),
        ("int64", Int64(12345678), "12345678"),
        ("float32", Float32(1.5), "1.5"),
        ("float64", 64.0, "64"),
        ("bool", False, "false"),
        ("time", unix(2, 5), "1970-01-01T00:00:02.000005Z"),
    ]

    def test(name: str, in_: Any, want: str) -> RawBytes:
        buf = _convert_assign(RawBytes, in_)
        assert isinstance(buf, bytes), f"{name}: convert_assign gave {type(buf).__name__}"
        assert buf == want.encode(), f"{name}: got {buf!r} (len {len(buf)}); want {want!r}"
        return typing.cast(RawBytes, buf)

    for name, in_, want in tests:
        assert isinstance(test(name, in_, want), RawBytes), name

    # Go measures allocations with testing.AllocsPerRun; a Python text form is a new
    # object. The Python twin of "no allocation": a bytes source is handed over as is.
    test("string", "foo", "foo")
    src = b"foo"
    for _ in range(100):
        assert test("bytes", src, "foo") is src


# https://golang.org/issues/13905
def test_user_defined_bytes() -> None:
    class UserDefinedBytes(bytes):
        pass

    v = b"foo"
    u = _convert_assign(UserDefinedBytes, v)
    assert u is not v, "UserDefinedBytes got potentially dirty driver memory"
    assert type(u) is UserDefinedBytes
    assert u == b"foo"
    # Python twin of dirty driver memory: a mutable buffer the driver reuses.
    mv = bytearray(b"foo")
    u = _convert_assign(UserDefinedBytes, mv)
    mv[0] = ord("x")
    assert u == b"foo"


class ValuerV(str):
    """Go's ``type Valuer_V string`` with a value receiver."""

    def value(self) -> driver.Value:
        return self.upper()


@attrs.frozen
class ValuerP:
    """Go's ``type Valuer_P string`` with a pointer receiver: p is the pointer, None
    for Go's nil *Valuer_P, whose Value method still runs."""

    p: str | None

    def value(self) -> driver.Value:
        if self.p is None:
            return "nil-to-str"
        return self.p.upper()


class StubDriverStmt:
    def __init__(self, err: Exception | None = None) -> None:
        self.err = err

    def close(self) -> None:
        if self.err is not None:
            raise self.err

    def num_input(self) -> int:
        return -1

    def exec(self, args: Sequence[driver.Value]) -> driver.Result:
        raise NotImplementedError

    def query(self, args: Sequence[driver.Value]) -> driver.Rows:
        raise NotImplementedError


@attrs.define
class StubDS:
    """The part of Go's *driverStmt that driverArgsConnLocked reads."""

    si: Any
    lock: threading.Lock = attrs.Factory(threading.Lock)


def test_driver_args() -> None:
    nil_valuer_v_ptr = None  # Go's nil *Valuer_V: Python's None
    nil_valuer_p_ptr = ValuerP(None)  # Go's nil *Valuer_P, whose method handles nil
    nil_str_ptr = None  # Go's nil *string
    tests: list[tuple[list[Any], list[driver.NamedValue]]] = [
        ([ValuerV("foo")], [driver.NamedValue(name="", ordinal=1, value="FOO")]),
        ([nil_valuer_v_ptr], [driver.NamedValue(name="", ordinal=1, value=None)]),
        ([nil_valuer_p_ptr], [driver.NamedValue(name="", ordinal=1, value="nil-to-str")]),
        (["plain-str"], [driver.NamedValue(name="", ordinal=1, value="plain-str")]),
        ([nil_str_ptr], [driver.NamedValue(name="", ordinal=1, value=None)]),
    ]
    for i, (args, want) in enumerate(tests):
        ds = StubDS(si=StubDriverStmt(None))
        got = _driver_args_conn_locked(None, ds, args)
        assert got == want, f"test[{i}]: got {got}, want {want}"
        assert [type(nv.value) for nv in got] == [type(nv.value) for nv in want]


@attrs.define
class Dec:
    form: int = 0
    neg: bool = False
    coefficient: bytes = bytes(16)
    exponent: int = 0

    def decompose(self, buf: bytes | None) -> tuple[int, bool, bytes, int]:
        coef = bytes(self.coefficient)
        return self.form, self.neg, coef, self.exponent

    def compose(self, form: int, negative: bool, coefficient: bytes, exponent: int) -> None:
        if form in (1, 2):
            self.form = form
            self.neg = negative
            return
        if form != 0:
            raise ValueError(f"unknown form {form}")
        self.form = form
        self.neg = negative
        self.exponent = exponent

        # This isn't strictly correct, as the extra bytes could be all zero,
        # ignore this for this test.
        if len(coefficient) > 16:
            raise ValueError("coefficient too large")
        self.coefficient = bytes(coefficient) + self.coefficient[len(coefficient) :]


@attrs.define
class DecFinite:
    neg: bool = False
    coefficient: bytes = bytes(16)
    exponent: int = 0

    def decompose(self, buf: bytes | None) -> tuple[int, bool, bytes, int]:
        coef = bytes(self.coefficient)
        return 0, self.neg, coef, self.exponent

    def compose(self, form: int, negative: bool, coefficient: bytes, exponent: int) -> None:
        if form in (1, 2):
            raise ValueError(f"unsupported form {form}")
        if form != 0:
            raise ValueError(f"unknown form {form}")
        self.neg = negative
        self.exponent = exponent

        # This isn't strictly correct, as the extra bytes could be all zero,
        # ignore this for this test.
        if len(coefficient) > 16:
            raise ValueError("coefficient too large")
        self.coefficient = bytes(coefficient) + self.coefficient[len(coefficient) :]


@pytest.mark.parametrize(
    ("in_", "out", "err"),
    [
        pytest.param(Dec(exponent=-6), Dec(exponent=-6), False, id="same"),
        # Ensure the value is composed, not assigned, by using different types.
        pytest.param(DecFinite(exponent=-6), Dec(exponent=-6), False, id="diff"),
        pytest.param(Dec(form=200), None, True, id="bad-form"),
    ],
)
def test_decimal(in_: Any, out: Dec | None, err: bool) -> None:
    got = Dec()
    if err:
        with pytest.raises(ValueError, match="unknown form 200"):
            _convert_assign(got, in_)
        return
    assert _convert_assign(got, in_) is got
    assert got == out, f"got {got!r} want {out!r}"


# --- Python-specific tests ---


def test_uuid_destination() -> None:
    u = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    assert _convert_assign(uuid.UUID, str(u)) == u
    assert _convert_assign(uuid.UUID, str(u).encode()) == u
    assert _convert_assign(uuid.UUID, u.bytes) == u
    assert _convert_assign(uuid.UUID, bytearray(u.bytes)) == u
    assert _convert_assign(uuid.UUID, u) is u
    assert _convert_assign(uuid.UUID | None, None) is None
    assert _convert_assign(str, str(u)) == str(u)
    with pytest.raises(ConversionError) as ei:
        _convert_assign(uuid.UUID, "nope")
    assert str(ei.value) == 'converting driver.Value type str ("nope") to a UUID: invalid syntax'
    assert ei.value.value == "nope" and ei.value.dest is uuid.UUID
    with pytest.raises(ConversionError, match="^converting NULL to UUID is unsupported$"):
        _convert_assign(uuid.UUID, None)
    with pytest.raises(
        ConversionError,
        match="^unsupported Scan, storing driver.Value type int into type uuid.UUID$",
    ):
        _convert_assign(uuid.UUID, 5)


def test_null_uuid() -> None:
    u = uuid.uuid4()
    n = Null[uuid.UUID]()
    n.scan(str(u))
    assert n == Null(u, True)
    assert n.value() == str(u)  # Go's uuid.UUID value is its text form
    n.scan(u.bytes)
    assert n.v == u and n.valid
    n.scan(None)
    assert n.v == uuid.UUID(int=0) and not n.valid
    assert n.value() is None
    with pytest.raises(ConversionError):
        n.scan("not-a-uuid")
    assert not n.valid
    # As a scan destination type.
    got = _convert_assign(Null[uuid.UUID], str(u))
    assert isinstance(got, Null) and got.v == u and got.valid


@pytest.mark.parametrize(
    ("src", "dest", "msg"),
    [
        ("128", Int8, 'converting driver.Value type str ("128") to a Int8: value out of range'),
        (-129, Int8, 'converting driver.Value type int ("-129") to a Int8: value out of range'),
        (
            "32768",
            Int16,
            'converting driver.Value type str ("32768") to a Int16: value out of range',
        ),
        (
            2**31,
            Int32,
            'converting driver.Value type int ("2147483648") to a Int32: value out of range',
        ),
        (
            "9223372036854775808",
            Int64,
            'converting driver.Value type str ("9223372036854775808") to a Int64: value out of range',
        ),
        (
            "9223372036854775808",
            int,
            'converting driver.Value type str ("9223372036854775808") to a int: value out of range',
        ),
        # ParseUint accepts no sign: Go reports a negative int as a syntax error.
        (-1, Uint8, 'converting driver.Value type int ("-1") to a Uint8: invalid syntax'),
        ("-1", Uint32, 'converting driver.Value type str ("-1") to a Uint32: invalid syntax'),
        (
            "18446744073709551616",
            Uint64,
            'converting driver.Value type str ("18446744073709551616") to a Uint64:'
            " value out of range",
        ),
        (1.5, Int16, 'converting driver.Value type float ("1.5") to a Int16: invalid syntax'),
        (True, int, 'converting driver.Value type bool ("true") to a int: invalid syntax'),
        (b"12x", Int32, 'converting driver.Value type bytes ("12x") to a Int32: invalid syntax'),
        ("", int, 'converting driver.Value type str ("") to a int: invalid syntax'),
        ("1_000", int, 'converting driver.Value type str ("1_000") to a int: invalid syntax'),
        (" 1", int, 'converting driver.Value type str (" 1") to a int: invalid syntax'),
        (
            "3.5e38",
            Float32,
            'converting driver.Value type str ("3.5e38") to a Float32: value out of range',
        ),
        (
            "1e400",
            float,
            'converting driver.Value type str ("1e400") to a float: value out of range',
        ),
        ("-nan", float, 'converting driver.Value type str ("-nan") to a float: invalid syntax'),
        ("0x1", float, 'converting driver.Value type str ("0x1") to a float: invalid syntax'),
        ("1__0", float, 'converting driver.Value type str ("1__0") to a float: invalid syntax'),
        (
            "foo\n",
            UserDefined,
            'converting driver.Value type str ("foo\\n") to a UserDefined: invalid syntax',
        ),
    ],
)
def test_sized_int_and_float_errors(src: Any, dest: type, msg: str) -> None:
    with pytest.raises(ConversionError) as ei:
        _convert_assign(dest, src)
    assert str(ei.value) == msg
    # The error names the value, its type and the destination.
    assert ei.value.value == src and ei.value.dest is dest


@pytest.mark.parametrize(
    ("src", "dest", "want"),
    [
        ("127", Int8, 127),
        ("-128", Int8, -128),
        ("+5", Int16, 5),
        (2**31 - 1, Int32, 2**31 - 1),
        ("18446744073709551615", Uint64, 2**64 - 1),
        (2**64 - 1, Uint64, 2**64 - 1),
        (1.0, int, 1),  # Go formats 1.0 as "1", which parses
        (Int8(-3), int, -3),
        ("0x1p-2", float, 0.25),
        ("1_000.5", float, 1000.5),
        ("Inf", float, math.inf),
        ("-infinity", Float32, -math.inf),
        (".5", float, 0.5),
        ("1e-400", float, 0.0),  # Go: underflow is not an error
        ("0.1", Float32, float(Float32(0.1))),
        (0.1, Float32, float(Float32(0.1))),
        (Float32(0.1), float, 0.1),  # through Go's 32-bit text "0.1"
        (decimal.Decimal("2.5"), float, 2.5),
        (7, Uint32 | None, 7),
    ],
)
def test_sized_int_and_float_conversions(src: Any, dest: Any, want: Any) -> None:
    got = _convert_assign(dest, src)
    assert got == want
    assert type(got) is type(want)


def test_sized_int_constructors() -> None:
    assert Int8(127) == 127 and isinstance(Int8(-128), int)
    assert Uint64(2**64 - 1) == 2**64 - 1
    for t, bad in [(Int8, 128), (Int8, -129), (Uint8, -1), (Uint16, 65536), (Int64, 2**63)]:
        with pytest.raises(OverflowError):
            t(bad)
    assert Float32(0.1) != 0.1 and abs(Float32(0.1) - 0.1) < 1e-8
    with pytest.raises(OverflowError):
        Float32(1e39)


@pytest.mark.parametrize(
    ("f", "bits", "want"),
    [
        (0.0, 64, "0"),
        (-0.0, 64, "-0"),
        (1.5, 64, "1.5"),
        (100000.0, 64, "100000"),
        (1e6, 64, "1e+06"),
        (1234567.0, 64, "1.234567e+06"),
        (1e21, 64, "1e+21"),
        (1e100, 64, "1e+100"),
        (0.0001, 64, "0.0001"),
        (0.00001234, 64, "1.234e-05"),
        (0.1 + 0.2, 64, "0.30000000000000004"),
        (5e-324, 64, "5e-324"),
        (math.inf, 64, "+Inf"),
        (-math.inf, 64, "-Inf"),
        (math.nan, 64, "NaN"),
        (float(Float32(0.1)), 32, "0.1"),
        (16777216.0, 32, "1.6777216e+07"),
        (float(Float32(3.4028234663852886e38)), 32, "3.4028235e+38"),
    ],
)
def test_format_float(f: float, bits: int, want: str) -> None:
    assert _format_float(f, bits) == want


def test_parsers() -> None:
    assert _parse_int("-9223372036854775808", 64) == -(2**63)
    assert _parse_uint("0", 8) == 0
    assert _parse_float("1E+05", 64) == 1e5


def test_format_rfc3339_nano() -> None:
    assert _format_rfc3339_nano(datetime.datetime(2020, 1, 2, 3, 4, 5, 120000, UTC)) == (
        "2020-01-02T03:04:05.12Z"
    )
    ist = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    assert _format_rfc3339_nano(datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=ist)) == (
        "2020-01-02T03:04:05+05:30"
    )
    # Python only: a naive datetime has no zone to show.
    assert _format_rfc3339_nano(datetime.datetime(2020, 1, 2)) == "2020-01-02T00:00:00"


def test_nullable_union() -> None:
    assert _convert_assign(int | None, None) is None
    assert _convert_assign(int | None, "12") == 12
    assert _convert_assign(typing.Optional[str], b"x") == "x"  # noqa: UP045
    assert _convert_assign(None | datetime.datetime, some_time) is some_time
    assert _convert_assign(Null[int] | None, None) is None
    got = _convert_assign(Null[int] | None, "3")
    assert got == Null(3, True)
    with pytest.raises(ConversionError, match="a union must be T | None"):
        _convert_assign(int | str, 1)
    with pytest.raises(ConversionError, match="a union must be T | None"):
        _convert_assign(int | str | None, 1)


def test_ref() -> None:
    r: Ref[int] = Ref(int)
    assert r.type is int and r.value is None
    assert _convert_assign(r, "42") == 42
    assert r.value == 42
    rn: Ref[int | None] = Ref(int | None, 5)
    assert _convert_assign(rn, None) is None
    assert rn.value is None
    rs: Ref[NullString] = Ref(NullString)
    got = _convert_assign(rs, "a")
    assert got is rs.value and rs.value == NullString("a", True)
    assert repr(Ref(str, "x")) == "Ref(str, 'x')"
    assert Ref(int) != Ref(int)  # Refs compare by identity, like pointers
    # A failed conversion leaves the Ref alone.
    r2: Ref[int] = Ref(Int8, 1)
    with pytest.raises(ConversionError):
        _convert_assign(r2, 1000)
    assert r2.value == 1


def test_scanner_destinations() -> None:
    class Upper:
        def __init__(self) -> None:
            self.s = ""

        def scan(self, src: Any) -> None:
            self.s = _convert_assign(str, src).upper()

    u = Upper()
    assert isinstance(u, Scanner)
    assert _convert_assign(u, b"abc") is u and u.s == "ABC"
    # A Scanner class is instantiated, then scanned.
    got = _convert_assign(Upper, "xyz")
    assert isinstance(got, Upper) and got.s == "XYZ"
    ns = _convert_assign(NullString, None)
    assert ns == NullString("", False)
    # A Scanner's own error propagates unchanged (Go returns it as is).

    class Failing:
        def scan(self, src: Any) -> None:
            raise KeyError("boom")

    with pytest.raises(KeyError):
        _convert_assign(Failing(), 1)

    class NeedsArgs:
        def __init__(self, x: int) -> None:
            self.x = x

        def scan(self, src: Any) -> None:
            pass

    with pytest.raises(ConversionError, match="cannot create one"):
        _convert_assign(NeedsArgs, 1)
    # Something that is neither a type, a union, a Scanner nor a Ref.
    with pytest.raises(ConversionError, match="destination not a type"):
        _convert_assign(42, 1)
    with pytest.raises(ConversionError, match="unsupported Scan"):
        _convert_assign(list[int], 1)


def test_null_types_valid_only_on_success() -> None:
    # Go issue 45662: valid reports whether the conversion succeeded.
    cases: list[tuple[Any, str, Any, Any]] = [
        (NullString(), "string", b"ok", "ok"),
        (NullInt64(), "int64", "-7", -7),
        (NullInt32(), "int32", 2**31 - 1, 2**31 - 1),
        (NullInt16(), "int16", "-32768", -32768),
        (NullByte(), "byte", "255", 255),
        (NullFloat64(), "float64", "2.5", 2.5),
        (NullBool(), "bool_", "t", True),
        (NullTime(), "time", some_time, some_time),
    ]
    for n, field, good, want in cases:
        n.scan(good)
        assert n.valid, n
        assert getattr(n, field) == want
        assert n.value() == (want if field != "bool_" else True)
        bad: Any = complex(1, 1)
        with pytest.raises(ConversionError):
            n.scan(bad)
        assert not n.valid, n
        assert n.value() is None
        n.scan(None)
        assert not n.valid
    bad_cases: list[tuple[Any, Any]] = [
        (NullInt32(), 2**31),
        (NullInt16(), "32768"),
        (NullByte(), 256),
        (NullInt64(), "x"),
        (NullBool(), 2),
        (NullTime(), "2020-01-01"),
    ]
    for n, bad in bad_cases:
        with pytest.raises(ConversionError):
            n.scan(bad)
        assert not n.valid
    assert NullTime().time is None
    assert NullInt32(5, True).value() == 5 and type(NullInt32(5, True).value()) is int


def test_generic_null() -> None:
    n = Null[int]()
    assert n == Null(None, False)
    n.scan("12")
    assert n == Null(12, True)
    n.scan(None)
    assert n == Null(0, False)  # T's zero value
    with pytest.raises(ConversionError):
        n.scan("x")
    assert not n.valid
    s = Null[str]()
    s.scan(None)
    assert s.v == ""
    t = Null[datetime.datetime]()
    t.scan(None)
    assert t.v is None  # Python has no zero datetime
    i8 = Null[Int8]()
    i8.scan(None)
    assert i8.v == 0 and type(i8.v) is int
    i8.scan("-5")
    assert i8.v == -5 and type(i8.v) is int
    # A bare Null scans like object.
    bare: Null[Any] = Null()
    bare.scan(b"raw")
    assert bare.v == b"raw" and bare.valid
    # value(): None when not valid; an inner Valuer is called (issue 69728); the
    # result goes through the default converter (issue 69837).
    assert Null[int]().value() is None
    assert Null(ValuerV("abc"), True).value() == "ABC"
    assert Null(NullString("x", True), True).value() == "x"
    assert Null(NullString("", False), True).value() is None
    assert Null(Int8(3), True).value() == 3 and type(Null(Int8(3), True).value()) is int
    with pytest.raises(TypeError):
        Null(complex(1, 2), True).value()


def test_user_defined_int_types() -> None:
    class Color(enum.IntEnum):
        RED = 1

    class Count(int):
        pass

    assert _convert_assign(Color, 1) is Color.RED
    assert _convert_assign(Color, "1") is Color.RED
    got = _convert_assign(Count, "7")
    assert got == 7 and type(got) is Count
    with pytest.raises(ConversionError) as ei:
        _convert_assign(Color, 5)
    assert str(ei.value).startswith('converting driver.Value type int ("5") to a Color: ')
    assert ei.value.dest is Color


def test_null_errors_name_destination() -> None:
    for dest, name in [
        (str, "str"),
        (int, "int"),
        (float, "float"),
        (Int8, "Int8"),
        (Uint64, "Uint64"),
        (Float32, "Float32"),
        (UserDefinedString, "UserDefinedString"),
        (datetime.datetime, "datetime"),
        (decimal.Decimal, "Decimal"),
        (bool, None),
    ]:
        with pytest.raises(ConversionError) as ei:
            _convert_assign(dest, None)
        if name is not None:
            assert str(ei.value) == f"converting NULL to {name} is unsupported"
        assert ei.value.dest is dest or dest is bool


def test_bad_input_errors_name_value_type_and_destination() -> None:
    with pytest.raises(ConversionError) as ei:
        _convert_assign(int, "12a")
    assert '"12a"' in str(ei.value) and "str" in str(ei.value) and "int" in str(ei.value)
    with pytest.raises(ConversionError) as ei:
        _convert_assign(str, b"\xff\xfe")
    assert (
        str(ei.value) == 'converting driver.Value type bytes ("\\xff\\xfe") to a str: invalid UTF-8'
    )
    assert ei.value.value == b"\xff\xfe" and ei.value.dest is str
    with pytest.raises(ConversionError) as ei:
        _convert_assign(datetime.datetime, "2020-01-01")
    assert str(ei.value) == (
        "unsupported Scan, storing driver.Value type str into type datetime.datetime"
    )
    assert ei.value.value == "2020-01-01" and ei.value.dest is datetime.datetime


def test_decimal_destination() -> None:
    d = decimal.Decimal("1.50")
    assert _convert_assign(decimal.Decimal, d) is d
    assert _convert_assign(decimal.Decimal, 12) == decimal.Decimal(12)
    assert str(_convert_assign(decimal.Decimal, "1.50")) == "1.50"
    assert str(_convert_assign(decimal.Decimal, b"-2e3")) == "-2E+3"
    assert _convert_assign(decimal.Decimal, 0.1) == decimal.Decimal("0.1")
    assert _convert_assign(decimal.Decimal | None, None) is None
    with pytest.raises(ConversionError) as ei:
        _convert_assign(decimal.Decimal, "abc")
    assert str(ei.value) == 'converting driver.Value type str ("abc") to a Decimal: invalid syntax'
    # A decimal composer takes a Decimal's parts, and a Decimal a decomposer's.
    out = Dec()
    assert _convert_assign(out, decimal.Decimal("-1.25")) is out
    assert out == Dec(0, True, (125).to_bytes(1, "big") + bytes(15), -2)
    coef = (125).to_bytes(16, "big")
    assert _convert_assign(decimal.Decimal, Dec(0, True, coef, -2)) == decimal.Decimal("-1.25")
    assert _convert_assign(decimal.Decimal, Dec(form=1, neg=True)) == decimal.Decimal("-Infinity")
    assert _convert_assign(decimal.Decimal, Dec(form=2)).is_nan()
    with pytest.raises(ConversionError, match="unknown decimal form 7"):
        _convert_assign(decimal.Decimal, Dec(form=7))
    inf = Dec()
    _convert_assign(inf, decimal.Decimal("Infinity"))
    assert inf.form == 1 and not inf.neg
    assert _convert_assign(str, decimal.Decimal("1.50")) == "1.50"
    assert _convert_assign(bytes, decimal.Decimal("1.50")) == b"1.50"


def test_no_copy_for_bytes() -> None:
    b = b"abc"
    assert _convert_assign(bytes, b) is b
    assert _convert_assign(RawBytes, b) is b
    assert _convert_assign(object, b) is b
    ba = bytearray(b"abc")
    for dest in (bytes, object):
        got = _convert_assign(dest, ba)
        assert got == b"abc" and type(got) is bytes
    raw = _convert_assign(RawBytes, ba)
    assert isinstance(raw, RawBytes) and raw == b"abc"
    assert _convert_assign(bytearray, ba) is not ba


def test_convert_assign_public() -> None:
    assert convert_assign(driver.ScanContext(), int, "5") == 5
    assert convert_assign(None, str | None, None) is None


def test_convert_assign_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    rows_type = getattr(sql, "Rows", None)
    if rows_type is None:
        # Until sql.py holds its Rows, a stand-in with Rows' scan method.

        class StandInRows:
            def scan(self, *dest: Any) -> tuple[Any, ...]:
                raise NotImplementedError

        monkeypatch.setattr(sql, "Rows", StandInRows, raising=False)
        rows_type = StandInRows

    class FakeDriverRows:
        def columns(self) -> list[str]:
            return ["a"]

        def close(self) -> None:
            pass

        def next(self, dest: list[driver.Value]) -> None:
            raise EOFError

    class Parent:
        def __init__(self) -> None:
            self.got: Any = None

        def _cursor_rows(self, src: driver.Rows) -> str:
            self.got = src
            return "child"

    src = FakeDriverRows()
    parent = Parent()
    assert convert_assign(driver.ScanContext(parent), rows_type, src) == "child"
    assert parent.got is src
    with pytest.raises(ConversionError, match="missing parent Rows"):
        _convert_assign(rows_type, src)


# --- driver_args_conn_locked beyond Go's table ---


class CheckerStmt(StubDriverStmt):
    """A driver Stmt with a NamedValueChecker and a ColumnConverter."""

    def __init__(self, n: int, check: Any, conv: driver.ValueConverter | None = None) -> None:
        super().__init__()
        self.n = n
        self.check = check
        self.conv = conv

    def num_input(self) -> int:
        return self.n

    def check_named_value(self, nv: driver.NamedValue) -> None:
        self.check(nv)

    def column_converter(self, idx: int) -> driver.ValueConverter:
        assert self.conv is not None
        return self.conv


class ConvStmt(StubDriverStmt):
    """A driver Stmt with only a ColumnConverter."""

    def __init__(self, n: int, conv: driver.ValueConverter) -> None:
        super().__init__()
        self.n = n
        self.conv = conv

    def num_input(self) -> int:
        return self.n

    def column_converter(self, idx: int) -> driver.ValueConverter:
        return self.conv


class Doubler:
    def convert_value(self, v: Any) -> driver.Value:
        return v * 2


def test_driver_args_named_and_routes() -> None:
    got = _driver_args_conn_locked(None, None, [named("a", 1), NamedArg(name="", value="x")])
    assert got == [
        driver.NamedValue(name="a", ordinal=1, value=1),
        driver.NamedValue(name="", ordinal=2, value="x"),
    ]
    with pytest.raises(ConversionError, match='^name "1a" does not begin with a letter$'):
        _driver_args_conn_locked(None, None, [named("1a", 1)])

    # B: NamedValueChecker, then (SkipError) the column converter.
    def skip(nv: driver.NamedValue) -> None:
        if nv.value == "remove":
            raise driver.RemoveArgumentError()
        if isinstance(nv.value, Out):
            nv.value = "out-ok"
            return
        raise driver.SkipError()

    ds = StubDS(si=CheckerStmt(2, skip, Doubler()))
    got = _driver_args_conn_locked(None, ds, [3, "remove", Out(dest=Ref(str))])
    assert got == [
        driver.NamedValue(name="", ordinal=1, value=6),
        driver.NamedValue(name="", ordinal=2, value="out-ok"),
    ]
    # An Out without a NamedValueChecker is refused by the default converter.
    with pytest.raises(ConversionError, match=r"^sql: converting argument \$1 type: ") as ei:
        _driver_args_conn_locked(None, None, [Out(dest=Ref(str))])
    assert isinstance(ei.value.__cause__, TypeError)
    # The argument count is checked after removals.
    with pytest.raises(ConversionError, match="^sql: expected 2 arguments, got 1$"):
        _driver_args_conn_locked(None, ds, [3, "remove"])


def test_driver_args_column_converter_unknown_input_count() -> None:
    # Newer Go: the column converter applies even when NumInput is -1.
    got = _driver_args_conn_locked(None, StubDS(si=ConvStmt(-1, Doubler())), [2, "a"])
    assert [nv.value for nv in got] == [4, "aa"]
    # With a known count, indexes past it are left to the count check.
    with pytest.raises(ConversionError, match="expected 1 arguments, got 2"):
        _driver_args_conn_locked(None, StubDS(si=ConvStmt(1, Doubler())), [2, "a"])


def test_driver_args_conn_locked_wraps_errors() -> None:
    class ErrEmpty(Exception):
        pass

    class AlwaysErrValuer:
        def value(self) -> driver.Value:
            raise ErrEmpty("empty value")

    with pytest.raises(ConversionError) as ei:
        _driver_args_conn_locked(None, None, [1, named("x", AlwaysErrValuer())])
    assert str(ei.value) == 'sql: converting argument with name "x" type: empty value'
    assert isinstance(ei.value.__cause__, ErrEmpty)
    # Through a column converter too.
    with pytest.raises(ConversionError, match=r"^sql: converting argument \$1 type: empty") as ei:
        _driver_args_conn_locked(None, StubDS(si=ConvStmt(1, Doubler())), [AlwaysErrValuer()])
    assert isinstance(ei.value.__cause__, ErrEmpty)

    class BadValuer:
        def value(self) -> driver.Value:
            return complex(1, 1)

    with pytest.raises(ConversionError, match="non-subset type complex returned from Value"):
        _driver_args_conn_locked(None, StubDS(si=ConvStmt(1, Doubler())), [BadValuer()])

    class ToComplex:
        def convert_value(self, v: Any) -> driver.Value:
            return complex(v, 0)

    with pytest.raises(
        ConversionError,
        match="driver ColumnConverter error converted int to unsupported type complex",
    ):
        _driver_args_conn_locked(None, StubDS(si=ConvStmt(1, ToComplex())), [1])


def test_driver_args_conn_checker() -> None:
    class Conn:
        def check_named_value(self, nv: driver.NamedValue) -> None:
            nv.value = ("conn", nv.value)

    # Without a statement, the Conn's NamedValueChecker is used.
    got = _driver_args_conn_locked(typing.cast(driver.Conn, Conn()), None, [1])
    assert got[0].value == ("conn", 1)


# --- The value types of sql.py ---


def test_registry() -> None:
    saved = dict(sql._drivers)
    try:
        sql._unregister_all_drivers()
        assert sql.drivers() == []
        d = typing.cast(driver.Driver, object())
        sql.register("b", d)
        sql.register("a", d)
        assert sql.drivers() == ["a", "b"]
        with pytest.raises(ValueError, match="^sql: Register called twice for driver a$"):
            sql.register("a", d)
        with pytest.raises(ValueError, match="^sql: Register driver is nil$"):
            sql.register("c", None)
        with pytest.raises(ValueError, match="^sql: Driver name is empty$"):
            sql.register("", d)
    finally:
        sql._unregister_all_drivers()
        sql._drivers.update(saved)


def test_isolation_level_and_tx_options() -> None:
    names = [
        "Default",
        "Read Uncommitted",
        "Read Committed",
        "Write Committed",
        "Repeatable Read",
        "Snapshot",
        "Serializable",
        "Linearizable",
    ]
    assert [str(IsolationLevel(i)) for i in range(8)] == names
    assert str(IsolationLevel(8)) == "IsolationLevel(8)"
    assert f"{LEVEL_SERIALIZABLE}" == "Serializable" and f"{LEVEL_SERIALIZABLE:d}" == "6"
    assert LEVEL_LINEARIZABLE == 7 and IsolationLevel(-1) == -1
    assert TxOptions() == TxOptions(LEVEL_DEFAULT, False)
    assert TxOptions(isolation=2).isolation is IsolationLevel.LEVEL_READ_COMMITTED


def test_named_out_and_errors() -> None:
    assert named("a", 1) == NamedArg(name="a", value=1)
    with pytest.raises(TypeError):
        NamedArg("a", 1)  # type: ignore[call-arg]  # Go's _NamedFieldsRequired
    r: Ref[str] = Ref(str)
    o = Out(dest=r, in_=True)
    assert o.dest is r and o.in_
    assert str(NoRowsError()) == "sql: no rows in result set"
    assert ErrNoRows is NoRowsError
    assert issubclass(ConversionError, ValueError)
    assert isinstance(RawBytes(b"x"), bytes)
