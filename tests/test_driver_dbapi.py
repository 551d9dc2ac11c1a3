"""Tests of dbsql.drivers.dbapi, the driver over DB-API 2.0 modules: the placeholder
translation for every paramstyle, stdlib sqlite3 (qmark), a fake module for what
sqlite3 lacks, psycopg (pyformat; DBSQL_TEST_POSTGRES_DSN) and PyMySQL (format;
DBSQL_TEST_MYSQL_DSN), and the conformance kit run through the bridge."""

from __future__ import annotations

import datetime
import decimal
import os
import re
import sqlite3
import threading
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dbsql
from dbsql import context, driver
from dbsql.drivers import dbapi
from dbsql.drivers.dbapi import NotSupportedError, num_input, translate
from dbsql.drivertest import DriverSuite, drain_batches, drain_next, wait_for
from dbsql.sql import DB
from tests.sqltest import MySQLDialect, PostgresDialect

_PG_DSN = os.environ.get("DBSQL_TEST_POSTGRES_DSN")
_MY_DSN = os.environ.get("DBSQL_TEST_MYSQL_DSN")
_PG_SKIP = "DBSQL_TEST_POSTGRES_DSN is not set: no PostgreSQL server to test against"
_MY_SKIP = "DBSQL_TEST_MYSQL_DSN is not set: no MySQL/MariaDB server to test against"


def _nv(*args: Any, **named: Any) -> list[driver.NamedValue]:
    out = [driver.NamedValue("", i, v) for i, v in enumerate(args, 1)]
    for name, v in named.items():
        out.append(driver.NamedValue(name, len(out) + 1, v))
    return out


# ---------------------------------------------------------------------------
# Placeholder translation, every paramstyle.


def test_translate_qmark() -> None:
    t = translate("SELECT a FROM t WHERE a = ? AND b = ?", "qmark")
    assert t.query == "SELECT a FROM t WHERE a = ? AND b = ?"
    assert t.num_positional == 2
    assert t.bind(_nv(1, "x")) == (1, "x")


def test_translate_numeric() -> None:
    t = translate("SELECT ?, ?, '?'", "numeric")
    assert t.query == "SELECT :1, :2, '?'"
    assert t.bind(_nv(1, 2)) == (1, 2)


def test_translate_named() -> None:
    t = translate("SELECT ?, :name, ?, :name", "named", {"name"})
    assert t.query == "SELECT :p1, :name, :p2, :name"
    assert t.names == ("name",)
    assert t.bind(_nv(1, 2, name="n")) == {"p1": 1, "p2": 2, "name": "n"}


def test_translate_format() -> None:
    t = translate("SELECT ? WHERE s LIKE 'a%' AND ? -- 100%", "format")
    assert t.query == "SELECT %s WHERE s LIKE 'a%%' AND %s -- 100%%"
    assert t.bind(_nv(1, 2)) == (1, 2)


def test_translate_pyformat() -> None:
    t = translate("SELECT ?, :who, '%', ?", "pyformat", {"who"})
    assert t.query == "SELECT %(p1)s, %(who)s, '%%', %(p2)s"
    assert t.bind(_nv(1, 2, who="me")) == {"p1": 1, "p2": 2, "who": "me"}


@pytest.mark.parametrize("style", ["qmark", "numeric", "format"])
def test_translate_named_arg_needs_named_style(style: str) -> None:
    with pytest.raises(NotSupportedError, match=f"paramstyle '{style}'.*named argument 'x'"):
        translate("SELECT :x", style, {"x"}, module="mod")
    t = translate("SELECT ?", style)
    with pytest.raises(NotSupportedError, match="no named parameters"):
        t.bind(_nv(1, x=2))


@pytest.mark.parametrize(
    ("query", "want"),
    [
        # Literals, quoted identifiers and comments keep their "?" and ":name".
        ("SELECT '?', ?", "SELECT '?', %s"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ('SELECT "col?" FROM t WHERE a = ?', 'SELECT "col?" FROM t WHERE a = %s'),
        ("SELECT ? -- what?\n, ?", "SELECT %s -- what?\n, %s"),
        ("SELECT /* ? /* nested ? */ still ? */ ?", "SELECT /* ? /* nested ? */ still ? */ %s"),
        ("SELECT $$ ? $$, $tag$ ?$$? $tag$, ?", "SELECT $$ ? $$, $tag$ ?$$? $tag$, %s"),
        ("SELECT E'\\' ?', ?", "SELECT E'\\' ?', %s"),
        # In a standard string a backslash is just a character.
        ("SELECT 'C:\\', ?", "SELECT 'C:\\', %s"),
        # PostgreSQL casts and array slices are not placeholders.
        ("SELECT ?::int, a[1:2], a[x:y]", "SELECT %s::int, a[1:2], a[x:y]"),
        # "$" inside an identifier does not start a dollar quote.
        ("SELECT a$b$, ?", "SELECT a$b$, %s"),
        # Unterminated literal: the rest is text.
        ("SELECT ?, 'open ?", "SELECT %s, 'open ?"),
        # A :name without a named argument stays as it is.
        ("SELECT :name, ?", "SELECT :name, %s"),
    ],
)
def test_translate_skips_literals_and_comments(query: str, want: str) -> None:
    assert translate(query, "format").query == want


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ("SELECT 'it\\'s ?', ?", "SELECT 'it\\'s ?', %s"),
        ('SELECT "a\\"?", ?', 'SELECT "a\\"?", %s'),
        ("SELECT `a?b`, ? # comment?\n", "SELECT `a?b`, %s # comment?\n"),
        ("SELECT /* ? /* ? */ ?", "SELECT /* ? /* ? */ %s"),  # no nesting in MySQL
        ("SELECT $$, ?", "SELECT $$, %s"),  # no dollar quotes in MySQL
    ],
)
def test_translate_mysql_quoting(query: str, want: str) -> None:
    assert translate(query, "format", quoting="mysql").query == want


def test_translate_no_percent_doubling_for_other_styles() -> None:
    for style in ("qmark", "numeric", "named"):
        assert "%%" not in translate("SELECT '%', ?", style).query


def test_translate_cached() -> None:
    a = translate("SELECT ? /* cache */", "pyformat")
    b = translate("SELECT ? /* cache */", "pyformat")
    assert a is b


def test_translate_bind_errors() -> None:
    t = translate("SELECT ?, ?", "named")
    with pytest.raises(ValueError, match="2 \\? placeholder.*got 1 positional"):
        t.bind(_nv(1))
    t = translate("SELECT :a", "named", {"a"})
    with pytest.raises(ValueError, match="named argument 'b' matches no :b placeholder"):
        t.bind(_nv(a=1, b=2))
    with pytest.raises(ValueError, match="collides"):
        translate("SELECT ?, :p1", "pyformat", {"p1"})
    with pytest.raises(ValueError, match="unknown paramstyle"):
        translate("SELECT ?", "dollar")
    with pytest.raises(ValueError, match="quoting"):
        translate("SELECT ?", "qmark", quoting="oracle")


def test_num_input() -> None:
    assert num_input("SELECT ?, ?, '?'") == 2
    assert num_input("SELECT 1") == 0
    assert num_input("SELECT ?, :name") == -1
    assert num_input("SELECT ?::text") == 1


# ---------------------------------------------------------------------------
# stdlib sqlite3 (qmark).


@pytest.fixture
def sdb(tmp_path: Path) -> Iterator[DB]:
    db = dbapi.open_db(sqlite3, str(tmp_path / "t.db"))
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
    yield db
    db.close()


def test_sqlite3_basic(sdb: DB) -> None:
    r = sdb.exec("INSERT INTO t (name) VALUES (?)", "bob")
    assert r.last_insert_id() == 1
    assert r.rows_affected() == 1
    r = sdb.exec("INSERT INTO t (name, data) VALUES (?, ?)", "alice", memoryview(b"\x00\x01"))
    assert r.last_insert_id() == 2
    assert sdb.query_row("SELECT data FROM t WHERE id = ?", 2).scan(bytes) == (b"\x00\x01",)
    with sdb.query("SELECT id, name FROM t ORDER BY id") as rows:
        assert rows.columns() == ["id", "name"]
        assert list(rows) == [(1, "bob"), (2, "alice")]
    assert sdb.exec("UPDATE t SET name = ?", "x").rows_affected() == 2
    stmt = sdb.prepare("SELECT name FROM t WHERE id = ?")
    assert stmt.query_row(1).scan(str) == ("x",)
    stmt.close()


def test_sqlite3_query_row_in_one_call(sdb: DB) -> None:
    # driver.QueryerRowContext (beyond Go): the bridge reads the row, closes the
    # cursor and keeps the column names for a scan error, in one call.
    from dbsql import sql

    sdb.exec("INSERT INTO t (id, name, data) VALUES (1, 'a', x'00ff'), (2, 'b', NULL)")
    row = sdb.query_row("SELECT id, name FROM t WHERE id = ?", 2)
    assert type(row) is sql._HeldRow
    assert sdb.stats().in_use == 1  # kept until scanned, as Go's Row keeps its Rows
    assert row.scan(int, str) == (2, "b")
    assert sdb.query_row("SELECT data FROM t WHERE id = 1").scan(bytes) == (b"\x00\xff",)
    with pytest.raises(dbsql.NoRowsError):
        sdb.query_row("SELECT id FROM t WHERE id = 3").scan(int)
    with pytest.raises(dbsql.ScanError, match=r'column index 1, name "name"'):
        sdb.query_row("SELECT id, name FROM t WHERE id = 1").scan(int, int)
    with sdb.prepare("SELECT name FROM t WHERE id = ?") as stmt:
        row = stmt.query_row(2)
        assert type(row) is sql._HeldRow
        assert row.scan(str) == ("b",)
    st = sdb.stats()
    assert (st.in_use, st.idle) == (0, 1), st


def test_sqlite3_rowcount_unknown(sdb: DB) -> None:
    r = sdb.exec("CREATE TABLE u (a)")
    with pytest.raises(NotSupportedError, match="rowcount unknown"):
        r.rows_affected()


def test_sqlite3_no_nextset(sdb: DB) -> None:
    rows = sdb.query("SELECT 1")
    assert rows.next()
    assert not rows.next_result_set()
    err = rows.err()
    assert isinstance(err, NotSupportedError)
    assert str(err) == "dbapi: module sqlite3 has no Cursor.nextset"
    # Reading to the end does not ask for more sets.
    rows = sdb.query("SELECT 1")
    assert rows.next() and not rows.next()
    assert rows.err() is None


def test_sqlite3_named_args_need_named_style(sdb: DB, tmp_path: Path) -> None:
    with pytest.raises(NotSupportedError, match="module sqlite3 uses paramstyle 'qmark'"):
        sdb.query_row("SELECT :a", dbsql.named("a", 1)).scan(int)
    # sqlite3 also takes named parameters: say so.
    db = dbapi.open_db(dbapi.Driver(sqlite3, paramstyle="named"), str(tmp_path / "t.db"))
    try:
        got = db.query_row("SELECT ?, :a, ?, :a || 'x'", 1, dbsql.named("a", "A"), 2)
        assert got.scan(int, str, int, str) == (1, "A", 2, "Ax")
    finally:
        db.close()


def test_sqlite3_numeric_style(tmp_path: Path) -> None:
    db = dbapi.open_db(dbapi.Driver(sqlite3, paramstyle="numeric"), str(tmp_path / "t.db"))
    try:
        assert db.query_row("SELECT ?, ?", 1, "b").scan(int, str) == (1, "b")
    finally:
        db.close()


def test_sqlite3_transactions(sdb: DB) -> None:
    with sdb.begin() as tx:
        tx.exec("INSERT INTO t (name) VALUES ('in tx')")
        assert tx.query_row("SELECT count(*) FROM t").scan(int) == (1,)
    tx = sdb.begin()
    tx.exec("INSERT INTO t (name) VALUES ('rolled back')")
    tx.rollback()
    assert sdb.query_row("SELECT count(*) FROM t").scan(int) == (1,)
    # Outside a transaction every statement commits on its own (autocommit).
    sdb.exec("INSERT INTO t (name) VALUES ('auto')")
    other = sqlite3.connect(sdb.query_row("PRAGMA database_list").scan(int, str, str)[2])
    assert other.execute("SELECT count(*) FROM t").fetchone() == (2,)
    other.close()


def test_sqlite3_isolation_and_read_only_refused(sdb: DB) -> None:
    bg = context.background()
    with pytest.raises(NotSupportedError, match="no way to set isolation level Serializable"):
        sdb.begin_tx(bg, dbsql.TxOptions(isolation=dbsql.LEVEL_SERIALIZABLE))
    with pytest.raises(NotSupportedError, match="read-only"):
        sdb.begin_tx(bg, dbsql.TxOptions(read_only=True))
    s = sdb.stats()
    assert s.in_use == 0 and s.open_connections == s.idle
    with sdb.begin() as tx:
        tx.exec("INSERT INTO t (name) VALUES ('after')")


def test_sqlite3_set_tx_options_hook(tmp_path: Path) -> None:
    calls: list[tuple[int, bool]] = []

    def set_opts(raw: Any, iso: driver.IsolationLevel, read_only: bool) -> None:
        calls.append((int(iso), read_only))

    db = dbapi.open_db(dbapi.Driver(sqlite3, set_tx_options=set_opts), str(tmp_path / "t.db"))
    try:
        tx = db.begin_tx(context.background(), dbsql.TxOptions(isolation=6, read_only=True))
        tx.commit()
    finally:
        db.close()
    # Applied before the transaction, reset to the defaults after it.
    assert calls == [(6, True), (0, False)]


def _long_sqlite_query() -> str:
    return (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) "
        "SELECT max(x) FROM c"
    )


def test_sqlite3_cancel_interrupts(sdb: DB) -> None:
    sdb.set_max_open_conns(1)
    ctx, cancel = context.with_timeout(context.background(), 0.2)
    start = time.monotonic()
    with pytest.raises(context.DeadlineExceeded) as ei:
        sdb.exec_context(ctx, _long_sqlite_query())
    cancel()
    assert time.monotonic() - start < 10
    assert isinstance(ei.value.__cause__, sqlite3.OperationalError)
    # The same connection runs the next statement.
    assert sdb.query_row("SELECT count(*) FROM t").scan(int) == (0,)
    assert sdb.stats().open_connections == 1


def test_sqlite3_threadsafety_0_serializes(tmp_path: Path) -> None:
    drv = dbapi.Driver(sqlite3, threadsafety=0)
    assert drv.threadsafety == 0
    assert drv._lock is dbapi.Driver(sqlite3, threadsafety=0)._lock  # one lock per module
    db = dbapi.open_db(drv, str(tmp_path / "t.db"))
    try:
        db.exec("CREATE TABLE n (v INTEGER)")
        with db.conn() as c:
            # Statements are not interrupted at level 0 (the interrupt would wait for the lock).
            assert c.raw(lambda ci: ci._interrupt) is None
        errors: list[BaseException] = []

        def work(k: int) -> None:
            try:
                for i in range(20):
                    db.exec("INSERT INTO n (v) VALUES (?)", k * 100 + i)
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert not errors
        assert db.query_row("SELECT count(*) FROM n").scan(int) == (80,)
    finally:
        db.close()


def test_sqlite3_used_from_other_threads(sdb: DB) -> None:
    sdb.set_max_open_conns(1)
    sdb.exec("INSERT INTO t (name) VALUES ('main')")
    got: list[Any] = []
    th = threading.Thread(target=lambda: got.append(sdb.query_row("SELECT name FROM t").scan(str)))
    th.start()
    th.join(10)
    assert got == [("main",)]


def test_sqlite3_session_reset_rolls_back(sdb: DB) -> None:
    sdb.set_max_open_conns(1)
    with sdb.conn() as c:
        c.exec("BEGIN")
        c.exec("INSERT INTO t (name) VALUES ('left open')")
    assert sdb.query_row("SELECT count(*) FROM t").scan(int) == (0,)


def test_sqlite3_driver_conn_contract(tmp_path: Path) -> None:
    drv = dbapi.Driver(sqlite3)
    c: Any = drv.open(str(tmp_path / "c.db"))
    bg = context.background()
    c.ping(bg)
    assert c.is_valid()
    res = c.exec_context(bg, "CREATE TABLE x (a)", [])
    assert res.last_insert_id() == 0
    st = c.prepare("SELECT ?, ?")
    assert st.num_input() == 2
    rows = st.query([1, 2])
    dest: list[Any] = [None, None]
    rows.next(dest)
    assert dest == [1, 2]
    with pytest.raises(EOFError):
        rows.next(dest)
    rows.close()
    st.close()
    c.close()
    assert not c.is_valid()
    with pytest.raises(driver.BadConnError):
        c.exec_context(bg, "SELECT 1", [])
    with pytest.raises(driver.BadConnError):
        c.reset_session(bg)
    with pytest.raises(driver.BadConnError):
        c.begin_tx(bg, driver.TxOptions())


def test_check_named_value() -> None:
    conn: Any = dbapi.Driver(sqlite3).open(":memory:")
    try:
        for v in (
            None,
            True,
            1,
            1.5,
            "s",
            b"b",
            decimal.Decimal("1.5"),
            datetime.datetime(2020, 1, 1),
            datetime.date(2020, 1, 1),
            datetime.time(1, 2),
            datetime.timedelta(1),
            uuid.uuid4(),
        ):
            nv = driver.NamedValue("", 1, v)
            conn.check_named_value(nv)
            assert nv.value is v
        nv = driver.NamedValue("", 1, bytearray(b"ab"))
        conn.check_named_value(nv)
        assert nv.value == b"ab" and type(nv.value) is bytes
        for other in (1 << 64, object(), dbsql.Int8(1)):
            with pytest.raises(driver.SkipError):
                conn.check_named_value(driver.NamedValue("", 1, other))
    finally:
        conn.close()


def test_register_and_dsn_parser(tmp_path: Path) -> None:
    path = str(tmp_path / "reg.db")

    def parse(dsn: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        assert dsn.startswith("file=")
        return (dsn.removeprefix("file="),), {"timeout": 1.0}

    name = f"dbapi-sqlite3-test-{uuid.uuid4().hex[:6]}"
    drv = dbapi.register(name, sqlite3, dsn_parser=parse)
    assert name in dbsql.sql.drivers()  # dbsql.drivers is the subpackage once imported
    db = dbsql.open(name, "file=" + path)
    try:
        assert db.driver() is drv
        assert db.query_row("SELECT ?", 5).scan(int) == (5,)
    finally:
        db.close()


def test_driver_from_connect_function(tmp_path: Path) -> None:
    drv = dbapi.Driver(sqlite3.connect)
    assert drv.module is sqlite3 and drv.paramstyle == "qmark"
    db = dbapi.open_db(sqlite3.connect, str(tmp_path / "f.db"))
    try:
        assert db.query_row("SELECT 1").scan(int) == (1,)
    finally:
        db.close()
    with pytest.raises(ValueError, match="cannot tell the paramstyle"):
        dbapi.Driver(lambda: None)
    with pytest.raises(TypeError, match="needs a DB-API module"):
        dbapi.Driver(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown paramstyle"):
        dbapi.Driver(sqlite3, paramstyle="dollar")


def test_connector_repr_hides_arguments() -> None:
    c = dbapi.Driver(sqlite3).connector(":memory:", password="hunter2")
    assert "hunter2" not in repr(c)
    assert "sqlite3" in repr(c)


# ---------------------------------------------------------------------------
# A fake DB-API module: what sqlite3 does not have (type codes, sizes, nextset,
# no autocommit switch, a None lastrowid).


class _FakeCursor:
    description: Any = None
    rowcount = -1
    lastrowid = None

    def __init__(self, conn: _FakeConn) -> None:
        self.conn = conn
        self.sets: list[tuple[Any, list[tuple[Any, ...]]]] = []

    def execute(self, query: str, params: Any = None) -> None:
        self.conn.log.append((query, params))
        if query.startswith("MULTI"):
            self.sets = [
                (None, []),
                ((("a", "VARCHAR(10)", 10, 40, None, None, True),), [("x",), ("y",)]),
                (None, []),
                ((("n", "numeric", None, 8, 10, 2, False),), [(decimal.Decimal("1.25"),)]),
            ]
        else:
            self.sets = [(None, [])]
            self.rowcount = 7
        self._load()

    def _load(self) -> None:
        self.description, rows = self.sets.pop(0)
        self.rows = list(rows)

    def fetchmany(self, n: int) -> list[tuple[Any, ...]]:
        out, self.rows = self.rows[:n], self.rows[n:]
        return out

    def nextset(self) -> bool | None:
        if not self.sets:
            return None
        self._load()
        return True

    def close(self) -> None:
        pass


class _FakeConn:
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.commits = 0

    def cursor(self) -> _FakeCursor:
        return _FakeCursor(self)

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def _fake_module() -> types.ModuleType:
    m = types.ModuleType("fakedbapi")
    m.paramstyle = "pyformat"  # type: ignore[attr-defined]
    m.threadsafety = 1  # type: ignore[attr-defined]
    conns: list[_FakeConn] = []

    def connect() -> _FakeConn:
        c = _FakeConn()
        conns.append(c)
        return c

    m.connect = connect  # type: ignore[attr-defined]
    m.conns = conns  # type: ignore[attr-defined]
    return m


def test_fake_module_result_sets_and_column_types() -> None:
    m = _fake_module()
    db = dbapi.open_db(m)
    try:
        rows = db.query("MULTI")
        # The leading result without columns is skipped.
        assert rows.columns() == ["a"]
        (ct,) = rows.column_types()
        assert ct.database_type_name() == "VARCHAR"
        assert ct.length() == (10, True)
        assert ct.nullable() == (True, True)
        assert ct.decimal_size() == (0, 0, False)
        assert [rows.scan(str) for _ in iter(rows.next, False)] == [("x",), ("y",)]
        assert rows.next_result_set()
        assert rows.columns() == ["n"]
        (ct,) = rows.column_types()
        assert ct.database_type_name() == "NUMERIC"
        assert ct.decimal_size() == (10, 2, True)
        assert ct.nullable() == (False, True)
        assert rows.next() and rows.scan(decimal.Decimal) == (decimal.Decimal("1.25"),)
        assert not rows.next()
        assert not rows.next_result_set()
        assert rows.err() is None
    finally:
        db.close()


def test_fake_module_no_autocommit_switch_commits_each_statement() -> None:
    m = _fake_module()
    db = dbapi.open_db(m)
    try:
        db.set_max_open_conns(1)
        r = db.exec("UPDATE x SET a = ? WHERE b = ?", 1, "%")
        assert r.rows_affected() == 7
        with pytest.raises(NotSupportedError, match="reported no lastrowid"):
            r.last_insert_id()
        conn = m.conns[0]
        assert conn.log[-1] == ("UPDATE x SET a = %(p1)s WHERE b = %(p2)s", {"p1": 1, "p2": "%"})
        commits = conn.commits
        assert commits >= 1
        with db.query("SELECT 1 WHERE '%' = ?", 1) as rows:
            assert conn.log[-1] == ("SELECT 1 WHERE '%%' = %(p1)s", {"p1": 1})
            assert not rows.next()
        assert conn.commits == commits + 1
        # Inside a transaction nothing is committed before commit.
        tx = db.begin()
        tx.exec("UPDATE x SET a = 1")
        assert conn.commits == commits + 1
        tx.commit()
        assert conn.commits == commits + 2
        # Without arguments the text goes as it is.
        db.exec("SELECT '%'")
        assert conn.log[-1] == ("SELECT '%'", None)
    finally:
        db.close()


# ---------------------------------------------------------------------------
# psycopg (pyformat).


@pytest.fixture
def pgdb() -> Iterator[DB]:
    if not _PG_DSN:
        pytest.skip(_PG_SKIP)
    import psycopg

    db = dbapi.open_db(psycopg, _PG_DSN)
    yield db
    db.close()


def test_psycopg_placeholders(pgdb: DB) -> None:
    got = pgdb.query_row(
        "SELECT ?::int + ?, :who::text, '100%', '?'", 1, 2, dbsql.named("who", "me")
    )
    assert got.scan(int, str, str, str) == (3, "me", "100%", "?")


def test_psycopg_multi_result_and_column_types(pgdb: DB) -> None:
    with pgdb.query("SELECT 1 AS a; SELECT 'x'::varchar(10) AS b, 2.5::numeric(10,2) AS c") as rows:
        assert rows.next() and rows.scan(int) == (1,)
        assert rows.next_result_set()
        cts = rows.column_types()
        assert [c.database_type_name() for c in cts] == ["VARCHAR", "NUMERIC"]
        assert cts[1].decimal_size() == (10, 2, True)
        assert rows.next() and rows.scan(str, decimal.Decimal) == ("x", decimal.Decimal("2.50"))
        assert not rows.next_result_set()
        assert rows.err() is None


def test_psycopg_lastrowid_missing(pgdb: DB) -> None:
    r = pgdb.exec("SELECT 1")
    with pytest.raises(NotSupportedError, match="module psycopg has no Cursor.lastrowid"):
        r.last_insert_id()


def test_psycopg_isolation_and_read_only(pgdb: DB) -> None:
    opts = dbsql.TxOptions(isolation=dbsql.LEVEL_SERIALIZABLE, read_only=True)
    pgdb.set_max_open_conns(1)
    tx = pgdb.begin_tx(context.background(), opts)
    assert tx.query_row("SHOW transaction_isolation").scan(str) == ("serializable",)
    assert tx.query_row("SHOW transaction_read_only").scan(str) == ("on",)
    tx.rollback()
    with pgdb.begin() as tx:
        assert tx.query_row("SHOW transaction_isolation").scan(str) == ("read committed",)
        assert tx.query_row("SHOW transaction_read_only").scan(str) == ("off",)
    with pytest.raises(NotSupportedError, match="Snapshot"):
        pgdb.begin_tx(context.background(), dbsql.TxOptions(isolation=dbsql.LEVEL_SNAPSHOT))


def test_psycopg_cancel(pgdb: DB) -> None:
    import psycopg

    pgdb.set_max_open_conns(1)
    ctx, cancel = context.with_timeout(context.background(), 0.2)
    with pytest.raises(context.DeadlineExceeded) as ei:
        pgdb.exec_context(ctx, "SELECT pg_sleep(10)")
    cancel()
    assert isinstance(ei.value.__cause__, psycopg.errors.QueryCanceled)
    assert pgdb.query_row("SELECT 1").scan(int) == (1,)


def test_psycopg_stale_connection_detected(pgdb: DB) -> None:
    pgdb.set_max_idle_conns(1)
    c1 = pgdb.conn()
    (pid,) = c1.query_row("SELECT pg_backend_pid()").scan(int)
    c1.close()
    with dbapi.open_db(dbapi.Driver(__import__("psycopg")), _PG_DSN) as other:
        other.exec("SELECT pg_terminate_backend(?)", pid)
        wait_for(
            lambda: (
                other.query_row("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid).scan(
                    int
                )
                == (0,)
            ),
            what="the backend to exit",
        )
    assert pgdb.query_row("SELECT pg_backend_pid()").scan(int) != (pid,)


# ---------------------------------------------------------------------------
# PyMySQL (format).


def _pymysql_parse(dsn: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Go's user:pass@tcp(host:port)/db form, enough for the tests."""
    from pymysql.constants import CLIENT  # type: ignore[import-untyped]

    m = re.fullmatch(
        r"(?P<user>[^:@]*)(?::(?P<pw>[^@]*))?@tcp\((?P<host>[^:)]+)(?::(?P<port>\d+))?\)"
        r"/(?P<db>[^?]*)(?:\?.*)?",
        dsn,
    )
    assert m is not None, "unsupported DSN form"
    return (), {
        "host": m["host"],
        "port": int(m["port"] or 3306),
        "user": m["user"],
        "password": m["pw"] or "",
        "database": m["db"],
        "charset": "utf8mb4",
        "client_flag": CLIENT.MULTI_STATEMENTS,
    }


def _pymysql_driver() -> dbapi.Driver:
    import pymysql  # type: ignore[import-untyped]

    return dbapi.Driver(pymysql, paramstyle="format", dsn_parser=_pymysql_parse)


@pytest.fixture
def mydb() -> Iterator[DB]:
    if not _MY_DSN:
        pytest.skip(_MY_SKIP)
    db = dbsql.open_db(_pymysql_driver().open_connector(_MY_DSN))
    yield db
    db.close()


def test_pymysql_placeholders_and_results(mydb: DB) -> None:
    assert mydb.query_row("SELECT ? + ?, '100%', 'it\\'s ?'", 1, 2).scan(int, str, str) == (
        3,
        "100%",
        "it's ?",
    )
    with pytest.raises(NotSupportedError, match="paramstyle 'format'"):
        mydb.query_row("SELECT :a", dbsql.named("a", 1)).scan(int)
    name = f"dbsql_dbapi_{uuid.uuid4().hex[:8]}"
    mydb.exec(f"CREATE TABLE {name} (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)")
    try:
        r = mydb.exec(f"INSERT INTO {name} (v) VALUES (?), (?)", 1, 2)
        assert r.rows_affected() == 2
        assert r.last_insert_id() >= 1
        with mydb.query(f"SELECT id, v FROM {name}") as rows:
            cts = rows.column_types()
            assert [c.database_type_name() for c in cts] == ["BIGINT", "INT"]
            assert cts[1].nullable() == (False, True)
            assert cts[1].decimal_size() == (0, 0, False)
        with mydb.query("SELECT CAST(1.5 AS DECIMAL(30,10)), CAST(2 AS DECIMAL(7,0))") as rows:
            assert [c.decimal_size() for c in rows.column_types()] == [(30, 10, True), (7, 0, True)]
    finally:
        mydb.exec(f"DROP TABLE {name}")


def test_pymysql_multi_result(mydb: DB) -> None:
    with mydb.query("SELECT 1; DO 1; SELECT 2, 3") as rows:
        assert rows.next() and rows.scan(int) == (1,)
        assert not rows.next()
        assert rows.next_result_set()
        assert rows.next() and rows.scan(int, int) == (2, 3)
        assert not rows.next_result_set()
        assert rows.err() is None


def test_pymysql_no_interrupt_and_isolation_refused(mydb: DB) -> None:
    with mydb.conn() as c:
        # PyMySQL connections have no cancel(): statements run to their end.
        assert c.raw(lambda ci: ci._interrupt) is None
    with pytest.raises(NotSupportedError, match="no way to set isolation level Read Committed"):
        mydb.begin_tx(context.background(), dbsql.TxOptions(isolation=2))
    name = f"dbsql_dbapi_{uuid.uuid4().hex[:8]}"
    mydb.exec(f"CREATE TABLE {name} (v INT)")
    try:
        tx = mydb.begin()
        tx.exec(f"INSERT INTO {name} (v) VALUES (?)", 1)
        tx.rollback()
        with mydb.begin() as tx:
            tx.exec(f"INSERT INTO {name} (v) VALUES (?)", 2)
        assert mydb.query_row(f"SELECT v FROM {name}").scan(int) == (2,)
    finally:
        mydb.exec(f"DROP TABLE {name}")


# ---------------------------------------------------------------------------
# The conformance kit through the bridge.


class TestKitPsycopg(PostgresDialect, DriverSuite):
    """The kit over psycopg through the bridge (pyformat)."""

    driver_name = "dbapi(psycopg)"
    dsn = _PG_DSN
    skip_reason = _PG_SKIP

    isolation_levels = (
        dbsql.LEVEL_READ_UNCOMMITTED,
        dbsql.LEVEL_READ_COMMITTED,
        dbsql.LEVEL_REPEATABLE_READ,
        dbsql.LEVEL_SERIALIZABLE,
    )
    unsupported_isolation_levels = (dbsql.LEVEL_SNAPSHOT, dbsql.LEVEL_LINEARIZABLE)

    def open_db(self) -> DB:
        import psycopg

        assert self.dsn
        return dbapi.open_db(psycopg, self.dsn)

    def connection_alive_sql(self, conn_id: Any) -> str | None:
        return f"SELECT count(*) FROM pg_stat_activity WHERE pid = {int(conn_id)}"


class TestKitPyMySQL(MySQLDialect, DriverSuite):
    """The kit over PyMySQL through the bridge (format): no interrupts, no
    isolation levels."""

    driver_name = "dbapi(pymysql)"
    dsn = _MY_DSN
    skip_reason = _MY_SKIP

    unsupported_isolation_levels = (dbsql.LEVEL_SERIALIZABLE,)
    supports_read_only = False

    def open_db(self) -> DB:
        assert self.dsn
        return dbsql.open_db(_pymysql_driver().open_connector(self.dsn))


# ---------------------------------------------------------------------------
# next_batch (driver.RowsNextBatch).


class _BufferCursor(_FakeCursor):
    """Rows as lists and tuples holding bytearray and memoryview values."""

    def execute(self, query: str, params: Any = None) -> None:
        self.conn.log.append((query, params))
        desc = (
            ("i", "int", None, None, None, None, None),
            ("b", "bytea", None, None, None, None, None),
        )
        rows: list[Any] = [[1, bytearray(b"ab")], (2, memoryview(b"cd")), (3, b"ef"), [4, None]]
        self.sets = [(desc, rows)]
        self._load()


class _BufferConn(_FakeConn):
    def cursor(self) -> _FakeCursor:
        return _BufferCursor(self)


def test_next_batch_matches_next(tmp_path: Path) -> None:
    bg = context.background()
    c: Any = dbapi.Driver(sqlite3).open(str(tmp_path / "b.db"))
    try:
        c.exec_context(bg, "CREATE TABLE m (i INTEGER, r REAL, s TEXT, b BLOB, n NUMERIC)", [])
        values: list[tuple[Any, ...]] = [
            (0, 1.5, "a", b"\x00\x01", 10),
            (1, None, "", b"", 2.5),
            (2, -0.0, None, None, None),
            *((i, float(i), f"s{i}", bytes([i]), i) for i in range(3, 250)),
        ]
        for v in values:
            c.exec_context(bg, "INSERT INTO m VALUES (?, ?, ?, ?, ?)", _nv(*v))
        q = "SELECT * FROM m ORDER BY i"
        rows = c.query_context(bg, q, [])
        assert isinstance(rows, driver.RowsNextBatch)
        want = drain_next(rows)
        rows.close()
        assert want == values
        for size in (1, 7, 250, 1000):
            rows = c.query_context(bg, q, [])
            assert drain_batches(rows, size) == want
            assert rows.next_batch(size) == []  # the end stays the end
            rows.close()
        # Rows taken with next first: next_batch hands out the others.
        rows = c.query_context(bg, q, [])
        dest: list[Any] = [None] * 5
        rows.next(dest)
        assert tuple(dest) == want[0]
        assert drain_batches(rows, 30) == want[1:]
        with pytest.raises(ValueError, match="max_rows"):
            rows.next_batch(0)
        rows.close()
    finally:
        c.close()
    # A module whose rows are lists, or hold bytearray and memoryview values:
    # next_batch gives tuples of bytes, as next gives bytes.
    m = _fake_module()
    m.connect = _BufferConn  # type: ignore[attr-defined]
    fc: Any = dbapi.Driver(m).connector().connect(bg)
    try:
        want = drain_next(fc.query_context(bg, "BUFS", []))
        assert want == [(1, b"ab"), (2, b"cd"), (3, b"ef"), (4, None)]
        assert all(type(r[1]) is bytes for r in want[:3])
        for size in (1, 3, 10):
            got = drain_batches(fc.query_context(bg, "BUFS", []), size)
            assert got == want
            assert all(type(r[1]) is bytes for r in got[:3])
    finally:
        fc.close()


def test_next_batch_multiple_result_sets() -> None:
    bg = context.background()
    c: Any = dbapi.Driver(_fake_module()).connector().connect(bg)
    try:
        rows = c.query_context(bg, "MULTI", [])
        # The leading result without columns is skipped.
        assert rows.columns() == ["a"]
        assert rows.next_batch(1) == [("x",)]
        assert rows.next_batch(5) == [("y",)]
        assert rows.next_batch(5) == []
        # After the empty list, as after EOFError from next.
        assert rows.has_next_result_set()
        rows.next_result_set()
        assert rows.columns() == ["n"]
        assert rows.next_batch(5) == [(decimal.Decimal("1.25"),)]
        assert rows.next_batch(5) == []
        assert not rows.has_next_result_set()
        with pytest.raises(EOFError):
            rows.next_result_set()
        rows.close()
    finally:
        c.close()


def test_next_batch_cancelled_between_batches(tmp_path: Path) -> None:
    bg = context.background()
    c: Any = dbapi.Driver(sqlite3).open(str(tmp_path / "c.db"))
    try:
        ctx, cancel = context.with_cancel(bg)
        rows = c.query_context(
            ctx,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) "
            "SELECT x FROM c",
            [],
        )
        assert rows.next_batch(100) == [(i,) for i in range(1, 101)]
        cancel()
        # The context is checked before each fetchmany.
        with pytest.raises(context.Canceled):
            rows.next_batch(100)
        rows.close()
        # The connection stays usable.
        rows = c.query_context(bg, "SELECT 4", [])
        assert rows.next_batch(5) == [(4,)]
        rows.close()
        assert c.is_valid()
    finally:
        c.close()
