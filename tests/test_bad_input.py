"""Bad input gets a clear, documented error, never an internal crash.

Property tests (hypothesis, small example counts) over:

* scan conversion (``dbsql.convert_assign`` and ``sql._convert_assign``):
  arbitrary sources into every kind of destination raise only
  ``ConversionError``, whose message names the destination and the value or
  its type;
* the default parameter converter: a driver Value, or a TypeError/ValueError
  naming the value's type (a Valuer's own error propagates, as in Go);
* fakedb's command language: random and half-valid commands through
  ``db.exec``/``db.query``/``db.prepare`` raise only fakedb's and dbsql's errors
  and never leak a connection;
* each driver's DSN parser (sqlite3, postgres, mysql Go form and URL, the
  DB-API bridge): a malformed DSN raises the driver's documented error naming
  the bad part.

And a table of public calls given wrong types or argument counts: each raises a
TypeError or ValueError (or, where Go returns an error value, dbsql's error)
whose message names the argument, and leaves the DB working.
"""

from __future__ import annotations

import array
import datetime
import decimal
import enum
import sqlite3
import typing
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dbsql
import fakedb
from dbsql import context, driver, sql
from dbsql import convert as convert_module
from dbsql.convert import ConversionError
from dbsql.driver.types import _quote, _type_name
from dbsql.drivers import dbapi
from dbsql.drivers import mysql as mysql_driver
from dbsql.drivers import postgres as postgres_driver
from dbsql.drivers import sqlite3 as sqlite3_driver


def examples(n: int) -> Callable[[Any], Any]:
    """Hypothesis settings for this module: n examples, no deadline."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# ---------------------------------------------------------------------------
# Sources and destinations.


class MyInt(int):
    """A user-defined int (Go's ``type userDefined int64``)."""


class MyStr(str):
    """A user-defined str."""


class Color(enum.IntEnum):
    RED = 1


class BrokenStr:
    """A value whose __str__ fails (Go: a panicking String method)."""

    def __str__(self) -> str:
        raise RuntimeError("broken __str__")


class ValuerFailed(Exception):
    """The error of BrokenValuer.value."""


class BrokenValuer:
    def value(self) -> Any:
        raise ValuerFailed("the valuer failed")


class Wrap:
    """A Valuer returning whatever it holds."""

    def __init__(self, v: Any) -> None:
        self.v = v

    def value(self) -> Any:
        return self.v

    def __repr__(self) -> str:
        return f"Wrap({self.v!r})"


ODD_TEXT = [
    "1",
    "-1",
    "1.5",
    "1e400",
    "0x10",
    "1_000",
    "true",
    "t",
    "nan",
    "inf",
    "-0",
    "255",
    "256",
    "9223372036854775808",
    " 1",
    "\uff11",
    "",
]

SOURCES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.floats(width=32).map(sql.Float32),
    st.text(max_size=12),
    st.sampled_from(ODD_TEXT),
    st.binary(max_size=12),
    st.binary(max_size=8).map(bytearray),
    st.binary(max_size=8).map(lambda b: memoryview(b)),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(),
    st.uuids(),
    st.sampled_from([[1], {"a": 1}, object(), BrokenStr(), Color.RED, MyInt(7), (1, 2)]),
)

# The names a message may use for a destination: the Scanner classes scan
# through the conversion to their value's type.
SCANNER_VALUE_TYPE: dict[Any, str] = {
    sql.NullString: "str",
    sql.NullInt64: "Int64",
    sql.NullInt32: "Int32",
    sql.NullInt16: "Int16",
    sql.NullByte: "Uint8",
    sql.NullFloat64: "float",
    sql.NullBool: "bool",
    sql.NullTime: "datetime",
}

DESTINATIONS: list[Any] = [
    str,
    bytes,
    sql.RawBytes,
    int,
    sql.Int8,
    sql.Int16,
    sql.Int32,
    sql.Int64,
    sql.Uint8,
    sql.Uint16,
    sql.Uint32,
    sql.Uint64,
    float,
    sql.Float32,
    bool,
    object,
    typing.Any,
    datetime.datetime,
    decimal.Decimal,
    uuid.UUID,
    *SCANNER_VALUE_TYPE,
    sql.Null[int],
    sql.Null[str],
    int | None,
    str | None,
    datetime.datetime | None,
    MyInt,
    MyStr,
    Color,
    # Not destinations at all.
    None,
    1,
    "x",
    list,
    dict,
    int | str,
    datetime.date,
]


def dest_names(dest: Any) -> list[str]:
    """What a message may call dest."""
    if dest is None:
        return ["nil"]
    if dest is typing.Any:
        return ["Any"]
    if isinstance(dest, type):
        names = [dest.__name__]
        if dest in SCANNER_VALUE_TYPE:
            names.append(SCANNER_VALUE_TYPE[dest])
        return names
    origin = get_origin(dest)
    if origin is not None:
        inner = [a for a in get_args(dest) if a is not type(None)]
        if origin in (typing.Union, type(int | None)) and len(inner) == 1:
            return dest_names(inner[0])
        return [repr(dest), *(n for a in inner for n in dest_names(a))]
    return [repr(dest)]


def value_texts(src: Any) -> list[str]:
    """How a message may show src: its type, NULL, or (a prefix of) its text."""
    if src is None:
        return ["NULL", "nil", "None"]
    texts = [type(src).__name__, _type_name(src)]
    if isinstance(src, (str, bytes, bytearray, memoryview)):
        texts.append(_quote(src)[:24])
    else:
        try:
            texts.append(str(src)[:24])
        except Exception:
            pass
    return [t for t in texts if t]


def check_conversion_error(err: ConversionError, src: Any, dest: Any) -> None:
    msg = str(err)
    low = msg.lower()
    assert any(n.lower() in low for n in dest_names(dest)), (msg, dest)
    if "destination" not in low:  # an error about the value, not the destination
        assert any(t in msg for t in value_texts(src)), (msg, src)


CONVERTERS: dict[str, Callable[[Any, Any], Any]] = {
    "convert_assign": lambda dest, src: dbsql.convert_assign(None, dest, src),
    # sql._convert_assign, which dbsql.sql re-exports from dbsql.convert.
    "_convert_assign": lambda dest, src: convert_module._convert_assign(dest, src),
}


@pytest.mark.parametrize("name", sorted(CONVERTERS))
@examples(300)
@given(src=SOURCES, dest=st.sampled_from(DESTINATIONS), boxed=st.booleans())
def test_convert_assign_arbitrary(name: str, src: Any, dest: Any, boxed: bool) -> None:
    convert = CONVERTERS[name]
    target = sql.Ref(dest) if boxed and isinstance(dest, type) else dest
    try:
        out = convert(target, src)
    except ConversionError as e:
        check_conversion_error(e, src, dest)
    else:
        if isinstance(target, sql.Ref):
            assert target.value is out


def test_convert_assign_broken_str_source() -> None:
    # Go's fmt shows a panicking String method in the text; here too, as a
    # ConversionError naming the type, not the value's own exception.
    with pytest.raises(ConversionError, match="BrokenStr") as ei:
        dbsql.convert_assign(None, int, BrokenStr())
    assert "PANIC=String method: broken __str__" in str(ei.value)


# ---------------------------------------------------------------------------
# The default parameter converter.

PARAM_BASE = st.one_of(
    SOURCES,
    st.complex_numbers(allow_nan=False),
    st.integers(-(2**70), 2**70).map(MyInt),
    st.sampled_from(
        [
            array.array("i", [1, 2]),
            array.array("B", [1, 2]),
            sql.NullString("x", True),
            sql.NullInt64(0, False),
            sql.Null[int](1, True),
            int,
            BrokenValuer(),
        ]
    ),
)
PARAMS = st.one_of(PARAM_BASE, PARAM_BASE.map(Wrap))


@examples(300)
@given(value=PARAMS)
def test_default_parameter_converter_arbitrary(value: Any) -> None:
    conv = driver.DefaultParameterConverter
    try:
        out = conv.convert_value(value)
    except ValuerFailed:
        # A Valuer's own error is returned unchanged, as in Go.
        inner = value.v if isinstance(value, Wrap) else value
        assert isinstance(inner, BrokenValuer)
    except (TypeError, ValueError) as e:
        assert type(value).__name__ in str(e), (str(e), value)
    else:
        assert driver.is_value(out), (value, out)


# ---------------------------------------------------------------------------
# fakedb's command language through the whole stack.

FAKE_NAMES = st.sampled_from(["t", "name", "age", "tb", "u", "b", "", "x", "nope", "op", "Exec"])
FAKE_VALUES = st.sampled_from(
    ["?", "?n", "?1", "", "1", "x", "abc", "t!name", "t!name!age", "nope!x", "!", "t"]
    + ["0f9a0d8e-2b8e-4c5e-9f4e-0c1d2e3f4a5b", "1e99", "99999999999", "?name"]
)
FAKE_ITEM = st.one_of(
    FAKE_NAMES,
    st.tuples(FAKE_NAMES, FAKE_VALUES).map("=".join),
    st.tuples(FAKE_NAMES, FAKE_VALUES, FAKE_VALUES).map("=".join),
)
FAKE_FIELD = st.lists(FAKE_ITEM, max_size=4).map(",".join)
FAKE_CMD = st.sampled_from(
    ["SELECT", "INSERT", "NOSERT", "CREATE", "WIPE", "USE_RAWBYTES", "X", ""]
)
# WAIT durations are never valid and positive: a statement never sleeps.
FAKE_PREFIX = st.sampled_from(
    ["", "", "", "PANIC|Nothing|", "WAIT|0s|", "WAIT|x|", "WAIT|", "PANIC|"]
)
FAKE_STMT = st.tuples(FAKE_PREFIX, FAKE_CMD, FAKE_NAMES, st.lists(FAKE_FIELD, max_size=3)).map(
    lambda t: t[0] + "|".join([t[1], t[2], *t[3]])
)
FAKE_QUERY = st.one_of(
    st.lists(FAKE_STMT, min_size=1, max_size=3).map(";".join),
    st.text(max_size=30),
)
FAKE_ARGS = st.lists(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=3),
        st.just(dbsql.named("n", 1)),
        st.just(dbsql.named("1bad", 1)),
        PARAM_BASE,
    ),
    max_size=3,
)

FAKE_ERRORS = (fakedb.FakeDBError, fakedb.FakeError, dbsql.Error, context.ContextError)


@pytest.fixture
def fake_db() -> Iterator[dbsql.DB]:
    name = "bad_input_" + uuid.uuid4().hex[:8]
    db = dbsql.open("test", name)
    db.exec("CREATE|t|name=string,age=int32,tb=table,u=uuid,b=bool")
    try:
        yield db
    finally:
        db.exec("WIPE")
        try:
            db.close()
        except fakedb.FakeDBError as e:
            # As in Go, when a later statement of a ";" query fails to prepare,
            # fakedb leaves the earlier ones open and then refuses to close the
            # conn (see test_fakedb.test_nosert).
            assert "dangling statement" in str(e)


def run_fake(db: dbsql.DB, how: str, query: str, args: list[Any]) -> None:
    if how == "query":
        rows = db.query(query, *args)
        try:
            while rows.next():
                rows.scan(*[object] * len(rows.columns()))
        finally:
            rows.close()
    elif how == "exec":
        db.exec(query, *args)
    else:
        db.prepare(query).close()


@examples(400)
@given(query=FAKE_QUERY, args=FAKE_ARGS, how=st.sampled_from(["query", "exec", "prepare"]))
def test_fakedb_command_parser(fake_db: dbsql.DB, query: str, args: list[Any], how: str) -> None:
    try:
        run_fake(fake_db, how, query, args)
    except fakedb.FakePanic:
        # PANIC|<method>| makes the named method panic on purpose.
        assert "PANIC" in query
    except FAKE_ERRORS as e:
        msg = str(e)
        assert msg, repr(e)
        if isinstance(e, fakedb.FakeDBError):
            assert msg.startswith("fakedb: "), msg
        if isinstance(e, ConversionError) and "converting argument" in msg:
            assert "$" in msg or "with name" in msg, msg  # names the argument
    # Whatever happened, no connection was left in use.
    s = fake_db.stats()
    assert s.in_use == 0, s


@pytest.mark.parametrize(
    "query, needle",
    [
        ("SELECT|t", "invalid SELECT syntax with 1 parts"),
        ("SELECT|t|name|age", 'invalid column spec of "age"'),
        ("SELECT|t|name|nope=?", 'non-existent column "nope"'),
        ("SELECT|t|name|age=1", 'pre-bound value for where column "age"'),
        ("SELECT|nope|name|", 'table "nope" doesn\'t exist'),
        ("SELECT|t|nope|", 'unknown column name "nope"'),
        ("CREATE|u2|a", 'invalid column spec of "a"'),
        ("INSERT|t|age=x", 'invalid conversion to int32 from "x"'),
        ("INSERT|t|u=x", 'invalid conversion to uuid from "x"'),
        ("INSERT|t|name", 'invalid column spec of "name"'),
        ("WAIT|soon|WIPE", 'got "soon"'),
        ("BOGUS|t", 'unsupported command type "BOGUS"'),
        ("", 'unsupported command type ""'),
    ],
)
def test_fakedb_errors_name_the_bad_part(fake_db: dbsql.DB, query: str, needle: str) -> None:
    with pytest.raises(fakedb.FakeDBError) as ei:
        run_fake(fake_db, "query", query, [])
    assert needle in str(ei.value)
    assert fake_db.stats().in_use == 0


# ---------------------------------------------------------------------------
# DSN parsers.

SQLITE_FRAGMENTS = ["file:", ":memory:", "?", "&", "=", "_busy_timeout", "_fk", "_journal"]
SQLITE_FRAGMENTS += ["_sync", "_txlock", "_pragma", "mode", "cache", "vfs", "memdb", "ro", "x"]
SQLITE_FRAGMENTS += ["%", "%zz", "%41", "#", "/", "(", ")", "_x", "-1", "1", "on", "key", ""]
PG_FRAGMENTS = ["host", "=", " ", "'", "\\", "password", "port", "dbname", "user"]
PG_FRAGMENTS += ["postgresql://", "postgres://", "@", ":", "/", "?", "&", "%", "%zz", "x", "1"]
PG_FRAGMENTS += ["[", "]", "#", "sslmode", "connect_timeout", "bogus", "\x00", ""]
MY_FRAGMENTS = ["root", ":", "@", "tcp", "unix", "(", ")", "/", "?", "&", "=", "%", "%zz"]
MY_FRAGMENTS += ["[", "]", "::1", "127.0.0.1", "3306", "99999", "x", "timeout", "5s", "loc"]
MY_FRAGMENTS += ["charset", "tls", "parseTime", "true", "sql_mode", "#", "+", "-1", ""]


def dsns(fragments: list[str], prefix: str = "") -> st.SearchStrategy[str]:
    built = st.lists(st.sampled_from(fragments), max_size=14).map(lambda p: prefix + "".join(p))
    return st.one_of(built, st.text(max_size=25).map(lambda t: prefix + t))


def query_keys(dsn: str) -> list[str]:
    query = dsn.partition("?")[2]
    if dsn.startswith("file:"):
        query = query.partition("#")[0]  # a URI's fragment is not part of its query
    return [urllib.parse.unquote(p.partition("=")[0]) for p in query.split("&") if p]


@examples(300)
@given(dsn=dsns(SQLITE_FRAGMENTS))
def test_sqlite3_dsn_parser(dsn: str) -> None:
    try:
        c = sqlite3_driver.SQLiteDriver().open_connector(dsn)
    except sqlite3_driver.DSNError as e:
        msg = str(e)
        assert msg.startswith("sqlite3: "), msg
        # An empty DSN or path, or the option at fault, by name (as written, or
        # quoted with its control characters escaped).
        assert "empty" in msg or any(k and (k in msg or repr(k) in msg) for k in query_keys(dsn)), (
            msg,
            dsn,
        )
    else:
        c.close()


@examples(300)
@given(dsn=dsns(PG_FRAGMENTS) | dsns(PG_FRAGMENTS, "postgresql://"))
def test_postgres_dsn_parser(dsn: str) -> None:
    try:
        postgres_driver.PostgresDriver().open_connector(dsn)
    except ValueError as e:
        msg = str(e)
        assert msg.startswith("postgres: invalid DSN: "), msg
        assert len(msg.strip()) > len("postgres: invalid DSN: "), msg  # says what is wrong


def check_mysql_dsn(dsn: str) -> None:
    try:
        cfg = mysql_driver.MySQLDriver().open_connector(dsn).config
    except mysql_driver.DSNError as e:
        msg = str(e)
        assert msg.startswith("mysql: invalid DSN"), msg
        assert len(msg) > len("mysql: invalid DSN URL: ") + 5, msg  # says what is wrong
    else:
        assert cfg.net in ("tcp", "unix")
        if cfg.net == "tcp":
            assert 0 < cfg.port < 65536


@examples(300)
@given(dsn=dsns(MY_FRAGMENTS))
def test_mysql_go_dsn_parser(dsn: str) -> None:
    check_mysql_dsn(dsn)


@examples(300)
@given(dsn=dsns(MY_FRAGMENTS, "mysql://") | dsns(MY_FRAGMENTS, "mariadb://"))
def test_mysql_url_dsn_parser(dsn: str) -> None:
    check_mysql_dsn(dsn)


@examples(100)
@given(dsn=st.text(max_size=40))
def test_dbapi_dsn_parser(dsn: str) -> None:
    # The bridge's default DSN parser passes the name to connect() as its one
    # argument; nothing is checked (or shown) before connect.
    c = dbapi.Driver(sqlite3).open_connector(dsn)
    assert c._args == (dsn,)
    assert c._kwargs == {"check_same_thread": False}
    # The repr shows the module only, whatever the DSN.
    assert repr(c) == repr(dbapi.Driver(sqlite3).open_connector("other"))


def test_dbapi_dsn_parser_errors_propagate() -> None:
    def parse(name: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        key, sep, value = name.partition("=")
        if not sep:
            raise ValueError(f"my DSN: missing '=' in {key!r}")
        return (), {key: value}

    d = dbapi.Driver(sqlite3, dsn_parser=parse)
    with pytest.raises(ValueError, match="missing '=' in 'nope'"):
        d.open_connector("nope")
    assert d.open_connector("database=:memory:")._kwargs["database"] == ":memory:"


def test_driver_dsn_errors_name_the_bad_part() -> None:
    cases: list[tuple[Callable[[str], object], str, str]] = [
        (sqlite3_driver.SQLiteDriver().open_connector, "x.db?_busy_timeout=soon", "soon"),
        (sqlite3_driver.SQLiteDriver().open_connector, "x.db?_nope=1", "'_nope'"),
        (sqlite3_driver.SQLiteDriver().open_connector, "file:x.db?mode=rx", "mode='rx'"),
        (sqlite3_driver.SQLiteDriver().open_connector, "", "empty DSN"),
        (postgres_driver.PostgresDriver().open_connector, "host=x bogus", '"bogus"'),
        (postgres_driver.PostgresDriver().open_connector, "host=x nope=1", '"nope"'),
        (mysql_driver.parse_dsn, "root@tcp(h:99999)/db", "'h:99999'"),
        (mysql_driver.parse_dsn, "root@tcp(h)/db?parseTime=maybe", "parseTime='maybe'"),
        (mysql_driver.parse_dsn, "root@tcp(h)/db?bad-name=1", "'bad-name'"),
        (mysql_driver.parse_dsn, "root@pipe(h)/db", "'pipe'"),
        (mysql_driver.parse_dsn, "root@tcp(h", "slash"),
        (mysql_driver.parse_dsn, "mysql://root@h:port/db", "port"),
        (mysql_driver.parse_dsn, "mysql://root@h/db/x", "path"),
    ]
    for parse, dsn, needle in cases:
        with pytest.raises(ValueError) as ei:
            parse(dsn)
        assert needle in str(ei.value), (dsn, str(ei.value))


# ---------------------------------------------------------------------------
# Public calls with wrong types or argument counts.


class Env:
    """A fakedb DB with a table, and the handles a call may need; typed Any, as
    the calls pass what the signatures do not allow."""

    def __init__(self, db: dbsql.DB) -> None:
        self.db: Any = db
        self.bg = context.background()
        self._closers: list[Callable[[], object]] = []

    def conn(self) -> Any:
        c = self.db.conn()
        self._closers.append(c.close)
        return c

    def tx(self) -> Any:
        t = self.db.begin()
        self._closers.append(t.rollback)
        return t

    def stmt(self, query: str = "SELECT|people|name|age=?") -> Any:
        s = self.db.prepare(query)
        self._closers.append(s.close)
        return s

    def rows(self) -> Any:
        r = self.db.query("SELECT|people|name,age|")
        self._closers.append(r.close)
        assert r.next()
        return r

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except (dbsql.TxDoneError, dbsql.ConnDoneError):
                pass
        self._closers.clear()


# The modules, typed Any: the calls below pass what their signatures do not allow.
DBSQL: Any = dbsql
CONTEXT: Any = context
Q = "SELECT|people|name|"
Q1 = "SELECT|people|name|age=?"

MISUSE: list[tuple[str, Callable[[Env], object], type[BaseException], list[str]]] = [
    # The package functions.
    ("open(1, 2)", lambda e: DBSQL.open(1, 2), TypeError, ["driver_name", "int"]),
    ("open('test', 2)", lambda e: DBSQL.open("test", 2), TypeError, ["data_source_name"]),
    ("open(unknown)", lambda e: DBSQL.open("no-such-driver", ""), ValueError, ['"no-such-driver"']),
    ("open()", lambda e: DBSQL.open(), TypeError, ["driver_name"]),
    ("open_db('x')", lambda e: DBSQL.open_db("x"), TypeError, ["Connector", "str"]),
    ("register(None)", lambda e: DBSQL.register("x-none", None), ValueError, ["driver"]),
    ("register('')", lambda e: DBSQL.register("", fakedb.fdriver), ValueError, ["name"]),
    ("named(1, 2)", lambda e: DBSQL.named(1, 2), TypeError, ["name", "int"]),
    ("TxOptions('x')", lambda e: DBSQL.TxOptions(isolation="x"), ValueError, ["IsolationLevel"]),
    # DB settings.
    (
        "set_max_open_conns('x')",
        lambda e: e.db.set_max_open_conns("x"),
        TypeError,
        ["set_max_open_conns", "n", "str"],
    ),
    (
        "set_max_open_conns(None)",
        lambda e: e.db.set_max_open_conns(None),
        TypeError,
        ["set_max_open_conns", "NoneType"],
    ),
    (
        "set_max_idle_conns(1.5)",
        lambda e: e.db.set_max_idle_conns(1.5),
        TypeError,
        ["set_max_idle_conns", "float"],
    ),
    (
        "set_conn_max_lifetime('x')",
        lambda e: e.db.set_conn_max_lifetime("x"),
        TypeError,
        ["set_conn_max_lifetime", "d", "str"],
    ),
    (
        "set_conn_max_idle_time(None)",
        lambda e: e.db.set_conn_max_idle_time(None),
        TypeError,
        ["set_conn_max_idle_time"],
    ),
    ("set_max_open_conns()", lambda e: e.db.set_max_open_conns(), TypeError, ["'n'"]),
    # DB queries.
    ("db.query(123)", lambda e: e.db.query(123), TypeError, ["query", "int"]),
    ("db.exec(None)", lambda e: e.db.exec(None), TypeError, ["query", "NoneType"]),
    ("db.prepare(b'x')", lambda e: e.db.prepare(b"x"), TypeError, ["query", "bytes"]),
    ("db.query_row(123).scan", lambda e: e.db.query_row(123).scan(str), TypeError, ["query"]),
    ("db.exec_context(q)", lambda e: e.db.exec_context(Q), TypeError, ["'query'"]),
    ("db.query_context(None, q)", lambda e: e.db.query_context(None, Q), TypeError, ["ctx"]),
    ("db.exec_context('x', q)", lambda e: e.db.exec_context("x", Q), TypeError, ["ctx", "str"]),
    ("db.prepare_context(None, q)", lambda e: e.db.prepare_context(None, Q), TypeError, ["ctx"]),
    (
        "db.query_row_context(None, q).scan",
        lambda e: e.db.query_row_context(None, Q).scan(str),
        TypeError,
        ["ctx", "NoneType"],
    ),
    ("db.ping_context(None)", lambda e: e.db.ping_context(None), TypeError, ["ctx"]),
    ("db.conn('x')", lambda e: e.db.conn("x"), TypeError, ["ctx", "str"]),
    ("db.begin_tx(None)", lambda e: e.db.begin_tx(None), TypeError, ["ctx", "NoneType"]),
    ("db.begin_tx(ctx, 'x')", lambda e: e.db.begin_tx(e.bg, "x"), TypeError, ["opts", "str"]),
    (
        "db.query(q, object())",
        lambda e: e.db.query(Q1, object()),
        ValueError,
        ["argument $1", "object"],
    ),
    (
        "db.query(q, 1, 2)",
        lambda e: e.db.query(Q1, 1, 2),
        ValueError,
        ["expected 1 arguments, got 2"],
    ),
    (
        "db.exec(q, named('1x'))",
        lambda e: e.db.exec("INSERT|people|age=?", dbsql.named("1x", 1)),
        ValueError,
        ['"1x"'],
    ),
    # Conn.
    ("conn.query(123)", lambda e: e.conn().query(123), TypeError, ["query", "int"]),
    ("conn.exec_context(None, q)", lambda e: e.conn().exec_context(None, Q), TypeError, ["ctx"]),
    ("conn.prepare(1)", lambda e: e.conn().prepare(1), TypeError, ["query"]),
    ("conn.ping_context(None)", lambda e: e.conn().ping_context(None), TypeError, ["ctx"]),
    ("conn.begin_tx(None)", lambda e: e.conn().begin_tx(None), TypeError, ["ctx"]),
    ("conn.begin_tx(ctx, 5)", lambda e: e.conn().begin_tx(e.bg, 5), TypeError, ["opts", "int"]),
    ("conn.raw('x')", lambda e: e.conn().raw("x"), TypeError, ["raw", "f", "str"]),
    # Tx.
    ("tx.stmt(123)", lambda e: e.tx().stmt(123), TypeError, ["stmt", "int"]),
    (
        "tx.stmt_context(None, stmt)",
        lambda e: e.tx().stmt_context(None, e.stmt()),
        TypeError,
        ["ctx"],
    ),
    ("tx.query(123)", lambda e: e.tx().query(123), TypeError, ["query"]),
    ("tx.exec(None)", lambda e: e.tx().exec(None), TypeError, ["query"]),
    ("tx.prepare(1)", lambda e: e.tx().prepare(1), TypeError, ["query"]),
    ("tx.query_context(None, q)", lambda e: e.tx().query_context(None, Q), TypeError, ["ctx"]),
    # Stmt.
    ("stmt.exec_context(None)", lambda e: e.stmt().exec_context(None, 1), TypeError, ["ctx"]),
    (
        "stmt.query_context('x')",
        lambda e: e.stmt().query_context("x", 1),
        TypeError,
        ["ctx", "str"],
    ),
    (
        "stmt.query(1, 2)",
        lambda e: e.stmt().query(1, 2),
        ValueError,
        ["expected 1 arguments, got 2"],
    ),
    ("stmt.query()", lambda e: e.stmt().query(), ValueError, ["expected 1 arguments, got 0"]),
    # Rows and Row: Go returns these as errors (dbsql.Error, not a TypeError);
    # they name the destination count or the column and the destination.
    (
        "rows.scan()",
        lambda e: e.rows().scan(),
        dbsql.Error,
        ["expected 2 destination arguments", "not 0"],
    ),
    (
        "rows.scan(str)",
        lambda e: e.rows().scan(str),
        dbsql.Error,
        ["expected 2 destination arguments", "not 1"],
    ),
    ("rows.scan(str, int, int)", lambda e: e.rows().scan(str, int, int), dbsql.Error, ["not 3"]),
    (
        "rows.scan(1, int)",
        lambda e: e.rows().scan(1, int),
        dbsql.ScanError,
        ['column index 0, name "name"', ": 1"],
    ),
    (
        "rows.scan('x', int)",
        lambda e: e.rows().scan("x", int),
        dbsql.ScanError,
        ["column index 0", "'x'"],
    ),
    (
        "rows.scan(str, datetime)",
        lambda e: e.rows().scan(str, datetime.datetime),
        dbsql.ScanError,
        ['column index 1, name "age"', "datetime"],
    ),
    (
        "row.scan(RawBytes)",
        lambda e: e.db.query_row(Q).scan(sql.RawBytes),
        dbsql.Error,
        ["RawBytes"],
    ),
    # The context package.
    ("with_timeout(bg, 'x')", lambda e: CONTEXT.with_timeout(e.bg, "x"), TypeError, ["timeout"]),
    ("with_deadline(bg, 'x')", lambda e: CONTEXT.with_deadline(e.bg, "x"), TypeError, ["deadline"]),
    ("with_cancel(None)", lambda e: CONTEXT.with_cancel(None), TypeError, ["parent"]),
]


@pytest.fixture
def env() -> Iterator[Env]:
    db = dbsql.open("test", "bad_input_calls_" + uuid.uuid4().hex[:8])
    db.exec("CREATE|people|name=string,age=int32")
    db.exec("INSERT|people|name=?,age=?", "alice", 1)
    e = Env(db)
    try:
        yield e
    finally:
        e.close()
        db.exec("WIPE")
        db.close()


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "call, expected, words", [pytest.param(c, x, w, id=i) for i, c, x, w in MISUSE]
)
def test_wrong_arguments_name_the_argument(
    env: Env, call: Callable[[Env], object], expected: type[BaseException], words: list[str]
) -> None:
    with pytest.raises(expected) as ei:
        call(env)
    for w in words:
        assert w in str(ei.value), (w, str(ei.value))
    env.close()
    # The DB is still whole: nothing held, and it answers.
    assert env.db.stats().in_use == 0
    assert env.db.query_row("SELECT|people|name|").scan(str) == ("alice",)
