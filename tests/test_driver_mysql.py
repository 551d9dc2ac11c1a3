"""Tests of the "mysql" driver (dbsql/drivers/mysql.py).

The DSN parsing, placeholder and argument tests need no server. The others run
against the server named by DBSQL_TEST_MYSQL_DSN (e.g.
``root:@tcp(127.0.0.1:3306)/test``) and are skipped when it is not set. Tables
are named ``dbsql_my_<word>_<random>`` and dropped afterwards.
"""

from __future__ import annotations

import datetime
import decimal
import os
import socket
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dbsql
from dbsql import context, driver
from dbsql.drivers import mysql
from dbsql.drivertest import drain_batches, drain_next
from tests.sqltest import check_query_row_in_one_call

MYSQL_DSN = os.environ.get("DBSQL_TEST_MYSQL_DSN", "")

needs_server = pytest.mark.skipif(
    not MYSQL_DSN, reason="DBSQL_TEST_MYSQL_DSN is not set: no MySQL server to test against"
)

SECRET = "Sup3r-S3cret:pw/@x"


def config_of(db: dbsql.DB) -> mysql.Config:
    connector = db._connector
    assert isinstance(connector, mysql.MySQLConnector)
    return connector.config


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def all_text(e: BaseException) -> str:
    """Everything an error shows: str, repr, args and its whole chain, formatted."""
    parts = ["".join(traceback.format_exception(e))]
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts += [str(cur), repr(cur), repr(cur.args)]
        cur = cur.__cause__ or cur.__context__
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# DSN parsing (no server).


def test_dsn_go_form_all_params() -> None:
    db = dbsql.open(
        "mysql",
        "root:@tcp(127.0.0.1:3306)/test?parseTime=true&timeout=5s&readTimeout=1m30s"
        "&writeTimeout=500ms&charset=utf8mb4&collation=utf8mb4_bin&loc=UTC"
        "&multiStatements=true&autocommit=true&tls=skip-verify&interpolateParams=true"
        "&clientFoundRows=true&columnsWithAlias=true&checkConnLiveness=false"
        "&maxAllowedPacket=4194304",
    )
    cfg = config_of(db)
    assert (cfg.user, cfg.passwd, cfg.net, cfg.addr, cfg.dbname) == (
        "root",
        "",
        "tcp",
        "127.0.0.1:3306",
        "test",
    )
    assert (cfg.host, cfg.port) == ("127.0.0.1", 3306)
    assert cfg.parse_time is True
    assert cfg.timeout == 5.0
    assert cfg.read_timeout == 90.0
    assert cfg.write_timeout == 0.5
    assert (cfg.charset, cfg.collation) == ("utf8mb4", "utf8mb4_bin")
    assert cfg.loc == datetime.UTC
    assert cfg.multi_statements and cfg.autocommit
    assert cfg.tls == "skip-verify"
    assert cfg.client_found_rows and cfg.columns_with_alias
    assert not cfg.check_conn_liveness
    assert cfg.max_allowed_packet == 4194304
    assert cfg.params == ()
    assert isinstance(db.driver(), mysql.MySQLDriver)


def test_dsn_go_form_defaults() -> None:
    for dsn in ("", "/", "/test"):
        cfg = mysql.parse_dsn(dsn)
        assert (cfg.net, cfg.addr, cfg.user, cfg.passwd) == ("tcp", "127.0.0.1:3306", "", "")
        assert cfg.dbname == ("test" if dsn == "/test" else "")
        assert cfg.parse_time and cfg.autocommit and not cfg.multi_statements
        assert cfg.tls == "false" and cfg.loc is None and cfg.timeout is None
    cfg = mysql.parse_dsn("u@unix/db")
    assert (cfg.net, cfg.addr) == ("unix", "/tmp/mysql.sock")


def test_dsn_go_form_special_password() -> None:
    # The last '@' before the last '/' ends the password, the first ':' starts it.
    cfg = mysql.parse_dsn("user:" + SECRET + "@tcp(db.example)/my%20db")
    assert cfg.user == "user"
    assert cfg.passwd == SECRET
    assert cfg.addr == "db.example:3306"
    assert cfg.dbname == "my db"
    cfg = mysql.parse_dsn("user:p%40ss@/db")
    assert cfg.passwd == "p%40ss"  # the Go form takes the password literally


def test_dsn_go_form_addresses() -> None:
    cfg = mysql.parse_dsn("u:p@unix(/var/run/mysqld/mysqld.sock)/db?parseTime=false")
    assert (cfg.net, cfg.addr, cfg.dbname, cfg.parse_time) == (
        "unix",
        "/var/run/mysqld/mysqld.sock",
        "db",
        False,
    )
    assert mysql.parse_dsn("tcp([::1]:3307)/db").addr == "[::1]:3307"
    assert mysql.parse_dsn("tcp([::1]:3307)/db").host == "::1"
    assert mysql.parse_dsn("tcp(::1)/db").addr == "[::1]:3306"
    assert mysql.parse_dsn("tcp(localhost:3310)/db").port == 3310
    assert mysql.parse_dsn("tcp6(localhost)/db").net == "tcp"


def test_dsn_url_form() -> None:
    cfg = mysql.parse_dsn(
        "mysql://us%40er:p%40ss%2Fw0rd%3F@db.example:3307/app%2Dx?readTimeout=30s&loc=Local"
    )
    assert (cfg.user, cfg.passwd) == ("us@er", "p@ss/w0rd?")
    assert (cfg.net, cfg.addr, cfg.dbname) == ("tcp", "db.example:3307", "app-x")
    assert cfg.read_timeout == 30.0
    assert cfg.loc is not None
    cfg = mysql.parse_dsn("mariadb://root@%2Ftmp%2FMy.sock/test")
    assert (cfg.net, cfg.addr, cfg.user, cfg.passwd) == ("unix", "/tmp/My.sock", "root", "")
    cfg = mysql.parse_dsn("mysql://[::1]/x")
    assert cfg.addr == "[::1]:3306"
    cfg = mysql.parse_dsn("mysql:///x")
    assert cfg.addr == "127.0.0.1:3306"


def test_dsn_system_variables() -> None:
    cfg = mysql.parse_dsn(
        "root@/test?sql_mode=%27ANSI_QUOTES%27&time_zone=%27%2B00:00%27&max_statement_time=5"
    )
    assert cfg.params == (
        ("sql_mode", "'ANSI_QUOTES'"),
        ("time_zone", "'+00:00'"),
        ("max_statement_time", "5"),
    )


@pytest.mark.parametrize(
    ("dsn", "needle"),
    [
        ("root@/test?foo-bar=1", "'foo-bar'"),
        ("root@/test?a;DROP=1", "'a;DROP'"),
        ("root@/test?parseTime=maybe", "parseTime"),
        ("root@/test?timeout=5", "timeout"),
        ("root@/test?readTimeout=fast", "readTimeout"),
        ("root@/test?tls=custom", "tls"),
        ("root@/test?loc=Mars%2FOlympus", "loc"),
        ("root@/test?charset=klingon", "charset"),
        ("root@/test?multiStatements", "multiStatements"),
        ("root@/test?maxAllowedPacket=big", "maxAllowedPacket"),
        ("root@/test?sql_mode=", "sql_mode"),
        ("root@tcp(127.0.0.1:3306/test", "missing closing brace"),
        ("root@tcp(127.0.0.1:3306)", "missing the slash"),
        ("root@pipe(x)/test", "unknown network"),
        ("root@tcp(h:99999)/test", "port"),
        ("mysql://root@h:abc/test", "Port"),
    ],
)
def test_dsn_errors(dsn: str, needle: str) -> None:
    with pytest.raises(mysql.DSNError) as ei:
        dbsql.open("mysql", dsn)
    assert needle in str(ei.value)


def test_dsn_errors_hide_password() -> None:
    for dsn in (
        f"root:{SECRET}@tcp(127.0.0.1:3306)/test?parseTime=maybe",
        f"root:{SECRET}@tcp(127.0.0.1:3306)/test?bad-name=1",
        f"root:{SECRET}@tcp(127.0.0.1:3306",
    ):
        with pytest.raises(ValueError) as ei:
            dbsql.open("mysql", dsn)
        assert SECRET not in all_text(ei.value)


def test_password_redacted_in_repr() -> None:
    db = dbsql.open("mysql", f"root:{SECRET}@tcp(127.0.0.1:3306)/test")
    cfg = config_of(db)
    assert cfg.passwd == SECRET
    for text in (repr(cfg), str(cfg), repr(db._connector), repr(db)):
        assert SECRET not in text
    assert "***" in repr(cfg)
    db.close()


# ---------------------------------------------------------------------------
# Placeholders and arguments (no server).


@pytest.mark.parametrize(
    ("query", "n"),
    [
        ("SELECT ?", 1),
        ("SELECT ?, ?", 2),
        ("SELECT '?', ?", 1),
        ('SELECT "?", ?', 1),
        ("SELECT `a?b`, ?", 1),
        ("SELECT `a``?`, ?", 1),
        ("SELECT 'it''s ?', ?", 1),
        ("SELECT 'a\\'?', ?", 1),
        ('SELECT "a\\"?", ?', 1),
        ("SELECT ? # ?\n, ?", 2),
        ("SELECT ? -- ?\n, ?", 2),
        ("SELECT 1--?", 1),  # "--" without a space is minus minus
        ("SELECT ? /* ? */, ?", 2),
        ("SELECT /*! ? */ 1", 1),  # executable comment: code
        ("SELECT '100%', ?", 1),
        ("SELECT 'unterminated ?", 0),
    ],
)
def test_placeholder_split(query: str, n: int) -> None:
    assert mysql._count_placeholders(query) == n


def test_placeholder_split_no_backslash_escapes() -> None:
    # With NO_BACKSLASH_ESCAPES a backslash ends nothing: 'a\' is a whole string.
    assert mysql._count_placeholders("SELECT 'a\\', ?", backslash_escapes=False) == 1
    assert mysql._count_placeholders("SELECT 'a\\', ?", backslash_escapes=True) == 0


def test_placeholder_split_cached() -> None:
    q = "SELECT ?, '?', ? /* cached */"
    first = mysql._split_placeholders(q, True)
    assert mysql._split_placeholders(q, True) is first
    assert first == ("SELECT ", ", '?', ", " /* cached */")


STATE, DATABASE = mysql._STATE, mysql._DATABASE


@pytest.mark.parametrize(
    ("query", "effects"),
    [
        # Nothing left beyond the transaction.
        ("SELECT 1", 0),
        ("select * from t where x = ?", 0),
        ("SELECT @@version, @@session.sql_mode", 0),
        ("SELECT @x", 0),  # reading a user variable
        ("INSERT INTO t VALUES (?)", 0),
        ("UPDATE t SET x = 1", 0),
        ("SELECT x INTO OUTFILE '/tmp/f' FROM t", 0),
        ("START TRANSACTION", 0),
        ("BEGIN", 0),
        ("COMMIT", 0),
        ("  (SELECT 1)", 0),
        ("SELECT `temporary`, `get_lock` FROM t", 0),
        ("SELECT 'SET @x := 1; CREATE TEMPORARY TABLE'", 0),
        ('SELECT "; USE x"', 0),
        ("SELECT 1 -- ; SET @a = 1\n", 0),
        ("SELECT 1 # ; SET @a = 1", 0),
        ("SELECT /* ; SET @a = 1 */ 1", 0),
        ("SELECT 'a\\'; SET @x = 1'", 0),  # backslash escapes: one string
        # Session state.
        ("SET @x = 1", STATE),
        ("set session sql_mode = 'ANSI'", STATE),
        ("SET NAMES latin1", STATE),
        ("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", STATE),
        ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", STATE),  # the next tx's level
        ("CREATE TEMPORARY TABLE t (x INT)", STATE),
        ("DROP TEMPORARY TABLE t", STATE),
        ("SELECT @x := 1", STATE),
        ("SELECT 1 INTO @x", STATE),
        ("SELECT a, b INTO @`x`, @'y' FROM t", STATE),
        ("PREPARE s FROM 'SELECT 1'", STATE),
        ("EXECUTE IMMEDIATE 'SET @a = 1'", STATE),
        ("LOCK TABLES t READ", STATE),
        ("FLUSH TABLES WITH READ LOCK", STATE),
        ("SELECT GET_LOCK('a', 1)", STATE),
        ("CALL p()", STATE),
        ("DO 1", STATE),
        ("HANDLER t OPEN", STATE),
        ("XA START 'x'", STATE),
        ("BEGIN NOT ATOMIC SELECT 1; END", STATE),
        ("/*!40101 SET NAMES utf8mb4 */", STATE),  # an executable comment is code
        ("/*M!100100 SET @a = 1 */", STATE),
        ("SELECT 1; SET @a = 2", STATE),  # a later statement of several
        ("SELECT 1--; SET @a = 1", STATE),  # "--" without a space is minus minus
        ("USE other", DATABASE),
        ("use `x`; set @a = 1", STATE | DATABASE),
    ],
)
def test_session_effects(query: str, effects: int) -> None:
    assert mysql._session_effects(query, True) == effects


def test_session_effects_no_backslash_escapes() -> None:
    # With NO_BACKSLASH_ESCAPES 'a\' is a whole string: the SET is a statement.
    q = "SELECT 'a\\'; SET @x = 1'"
    assert mysql._session_effects(q, False) == STATE
    assert mysql._session_effects(q, True) == 0


def test_session_effects_cached() -> None:
    q = "SELECT 1 /* dbsql session effects cached */"
    mysql._session_effects(q, True)
    hits = mysql._session_effects.cache_info().hits
    assert mysql._session_effects(q, True) == 0
    assert mysql._session_effects.cache_info().hits == hits + 1


def test_dsn_reset_session() -> None:
    # Not given: automatic; true: always; false: never (Go's driver).
    assert mysql.parse_dsn("root@/test").reset_session is None
    assert mysql.parse_dsn("root@/test?resetSession=true").reset_session is True
    assert mysql.parse_dsn("root@/test?resetSession=false").reset_session is False


def new_conn_unopened() -> mysql.MySQLConn:
    """A MySQLConn over an unconnected PyMySQL connection, for check_named_value."""
    connector = mysql.MySQLDriver().open_connector("root@/test")
    raw = mysql._PyConn(**connector._kwargs(1.0, None))
    return mysql.MySQLConn(connector, raw)


def test_check_named_value() -> None:
    c = new_conn_unopened()
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    cases: list[tuple[Any, Any]] = [
        (None, None),
        (True, True),
        (-(2**63), -(2**63)),
        (2**64 - 1, 2**64 - 1),
        (dbsql.Int8(5), 5),
        (1.5, 1.5),
        ("x", "x"),
        (b"", b""),
        (bytearray(b"ab"), b"ab"),
        (memoryview(b"cd"), b"cd"),
        (decimal.Decimal("1.25"), decimal.Decimal("1.25")),
        (datetime.datetime(2024, 1, 2, 3, 4, 5, 6), datetime.datetime(2024, 1, 2, 3, 4, 5, 6)),
        (datetime.date(2024, 1, 2), datetime.date(2024, 1, 2)),
        (datetime.time(1, 2, 3), datetime.time(1, 2, 3)),
        (datetime.timedelta(hours=-1), datetime.timedelta(hours=-1)),
        (u, str(u)),
    ]
    for value, want in cases:
        nv = driver.NamedValue("", 1, value)
        c.check_named_value(nv)
        assert nv.value == want and type(nv.value) is type(want), value
    for value in (dbsql.NullString("a", True), object(), [1, 2], {"a": 1}):
        with pytest.raises(driver.SkipError):
            c.check_named_value(driver.NamedValue("", 1, value))
    for value in (2**64, -(2**63) - 1, float("nan"), decimal.Decimal("inf")):
        with pytest.raises((OverflowError, ValueError)):
            c.check_named_value(driver.NamedValue("", 1, value))
    with pytest.raises(TypeError):
        c.check_named_value(driver.NamedValue("", 1, datetime.time(1, tzinfo=datetime.UTC)))


# ---------------------------------------------------------------------------
# Against a server.


def with_params(dsn: str, params: str) -> str:
    return dsn + ("&" if "?" in dsn.rpartition("/")[2] else "?") + params


def table_name(word: str) -> str:
    return f"dbsql_my_{word}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def db() -> Iterator[dbsql.DB]:
    if not MYSQL_DSN:
        pytest.skip("DBSQL_TEST_MYSQL_DSN is not set: no MySQL server to test against")
    d = dbsql.open("mysql", MYSQL_DSN)
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def table(db: dbsql.DB) -> Iterator[Callable[[str, str], str]]:
    """Create tables (word, column definitions) with unique names; drop them all."""
    made: list[str] = []

    def make(word: str, columns: str) -> str:
        name = table_name(word)
        db.exec(f"CREATE TABLE {name} ({columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
        made.append(name)
        return name

    yield make
    for name in made:
        db.exec(f"DROP TABLE IF EXISTS {name}")


def other_db(*params: str) -> dbsql.DB:
    dsn = MYSQL_DSN
    for p in params:
        dsn = with_params(dsn, p)
    return dbsql.open("mysql", dsn)


@needs_server
def test_placeholders_and_literals(db: dbsql.DB) -> None:
    got = db.query_row(
        "SELECT ?, '?', \"?\", 'it''s ?', 'a\\'?', ? AS `x?y` /* ? */, '100%' -- ?\n, ?",
        1,
        "two's \\ %s",
        None,
    ).scan(object, str, str, str, str, object, str, object)
    assert got == (1, "?", "?", "it's ?", "a'?", "two's \\ %s", "100%", None)
    with pytest.raises(Exception, match="placeholders"):
        db.query_row("SELECT ?, '?'", 1, 2).scan(int, str)
    with pytest.raises(Exception, match="Named Parameters"):
        db.query_row("SELECT ?", dbsql.named("a", 1)).scan(int)
    # Without arguments the text is sent unchanged: '?' and '%' stay.
    assert db.query_row("SELECT '?%'").scan(str) == ("?%",)
    # A prepared statement counts its placeholders.
    with db.prepare("SELECT ? + ?, '?'") as st:
        assert st.query_row(1, 2).scan(int, str) == (3, "?")
        with pytest.raises(dbsql.Error, match="expected 2 arguments, got 1"):
            st.query_row(1).scan(int, str)


@needs_server
def test_no_backslash_escapes_session() -> None:
    d = other_db("sql_mode=%27NO_BACKSLASH_ESCAPES%27")
    try:
        s = "a\\b'c\"d\n"
        assert d.query_row("SELECT ?, 'x\\', ?", s, 2).scan(str, str, int) == (s, "x\\", 2)
    finally:
        d.close()


@needs_server
def test_unknown_system_variable_fails_at_connect() -> None:
    d = other_db("noSuchVariable=1")
    try:
        with pytest.raises(Exception, match="noSuchVariable|nosuchvariable"):
            d.ping()
    finally:
        d.close()


@needs_server
def test_round_trip(db: dbsql.DB, table: Callable[[str, str], str]) -> None:
    t = table(
        "rt",
        "id INT AUTO_INCREMENT PRIMARY KEY, n INT NULL, b BLOB, i BIGINT, u BIGINT UNSIGNED,"
        " d DECIMAL(30,10), dt DATETIME(6), s VARCHAR(50), f DOUBLE, bt VARBINARY(10)",
    )
    rows_in: list[tuple[Any, ...]] = [
        (None, b"", -(2**63), 2**64 - 1, decimal.Decimal("-12345678901234567890.0123456789")),
        (7, b"\x00\xff'\\", 2**63 - 1, 0, decimal.Decimal("0.0000000001")),
    ]
    dts = [
        datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
        datetime.datetime(1999, 1, 1, 0, 0, 0, 1),
    ]
    texts = ["😀 emoji 𝄞 ok", "naïve ’quote’ \\ %s ?"]
    for (n, b, i, u, d), dt, s in zip(rows_in, dts, texts, strict=True):
        db.exec(
            f"INSERT INTO {t} (n, b, i, u, d, dt, s, f, bt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            n,
            b,
            i,
            u,
            d,
            dt,
            s,
            1.5e300,
            b"",
        )
    rows = db.query(f"SELECT n, b, i, u, d, dt, s, f, bt FROM {t} ORDER BY id")
    got = list(rows)
    assert rows.err() is None
    assert got == [
        (None, b"", -(2**63), 2**64 - 1, rows_in[0][4], dts[0], texts[0], 1.5e300, b""),
        (7, b"\x00\xff'\\", 2**63 - 1, 0, rows_in[1][4], dts[1], texts[1], 1.5e300, b""),
    ]
    assert isinstance(got[0][4], decimal.Decimal)
    # Scanning into typed destinations.
    n, u = db.query_row(f"SELECT n, u FROM {t} ORDER BY id LIMIT 1").scan(int | None, dbsql.Uint64)
    assert (n, u) == (None, 2**64 - 1)
    # Round trip of the other accepted argument types.
    uid = uuid.uuid4()
    got_row = db.query_row(
        "SELECT ?, ?, ?, CAST(? AS TIME(6)), ?, ?, ?",
        datetime.date(2020, 5, 6),
        datetime.timedelta(hours=-26, seconds=-5),
        uid,
        datetime.time(1, 2, 3, 4),
        True,
        bytearray(b"\x01"),
        dbsql.NullString("", False),
    ).scan(object, object, str, object, int, bytes, object)
    assert got_row == (
        "2020-05-06",
        "-26:00:05",
        str(uid),
        datetime.timedelta(hours=1, minutes=2, seconds=3, microseconds=4),
        1,
        b"\x01",
        None,
    )


@needs_server
def test_parse_time_and_loc(db: dbsql.DB) -> None:
    q = "SELECT CAST('2024-01-02 03:04:05.5' AS DATETIME(1)), CAST('2024-01-02' AS DATE)"
    assert db.query_row(q).scan(object, object) == (
        datetime.datetime(2024, 1, 2, 3, 4, 5, 500000),
        datetime.date(2024, 1, 2),
    )
    d = other_db("parseTime=false")
    try:
        assert d.query_row(q).scan(object, object) == ("2024-01-02 03:04:05.5", "2024-01-02")
    finally:
        d.close()
    d = other_db("loc=UTC")
    try:
        (v,) = d.query_row(q.split(",")[0]).scan(object)
        assert v == datetime.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=datetime.UTC)
        assert v.tzinfo is not None
        # An aware argument is converted to loc before it is sent.
        berlin = datetime.timezone(datetime.timedelta(hours=1))
        aware = datetime.datetime(2024, 1, 2, 4, 4, 5, tzinfo=berlin)
        assert d.query_row("SELECT CAST(? AS CHAR)", aware).scan(str) == ("2024-01-02 03:04:05",)
    finally:
        d.close()


@needs_server
def test_multi_result_sets(table: Callable[[str, str], str]) -> None:
    d = other_db("multiStatements=true")
    try:
        t = table("multi", "id INT AUTO_INCREMENT PRIMARY KEY, v INT")
        rows = d.query(
            f"SELECT 1 AS a UNION ALL SELECT 2; INSERT INTO {t} (v) VALUES (?); "
            "SELECT ? AS b, 'c' AS c",
            10,
            20,
        )
        assert rows.columns() == ["a"]
        assert [r for (r,) in iter_rows(rows)] == [1, 2]
        assert rows.next_result_set()
        assert rows.columns() == ["b", "c"]  # the INSERT's result is skipped
        assert rows.next() and rows.scan(int, str) == (20, "c")
        assert not rows.next()
        assert not rows.next_result_set()
        assert rows.err() is None
        rows.close()
        assert d.query_row(f"SELECT v FROM {t}").scan(int) == (10,)
        # Closing rows with result sets left unread drains them: the conn is reusable.
        d.set_max_open_conns(1)
        rows = d.query("SELECT 1; SELECT 2; SELECT 3")
        rows.close()
        assert d.query_row("SELECT 4").scan(int) == (4,)
        # Exec reads every result; the Result is the last statement's.
        res = d.exec(f"INSERT INTO {t} (v) VALUES (1), (2); UPDATE {t} SET v = v + 1 WHERE v < 3")
        assert res.rows_affected() == 2
    finally:
        d.close()


def iter_rows(rows: dbsql.Rows) -> Iterator[tuple[Any, ...]]:
    while rows.next():
        yield rows.scan(object)


@needs_server
def test_multi_statements_off(db: dbsql.DB) -> None:
    with pytest.raises(Exception, match="1064|syntax"):
        db.exec("SELECT 1; SELECT 2")


@needs_server
def test_last_insert_id_rows_affected(db: dbsql.DB, table: Callable[[str, str], str]) -> None:
    t = table("ids", "id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT")
    r1 = db.exec(f"INSERT INTO {t} (v) VALUES (?)", 1)
    assert r1.rows_affected() == 1
    first = r1.last_insert_id()
    assert first >= 1
    r2 = db.exec(f"INSERT INTO {t} (v) VALUES (?), (?), (?)", 2, 3, 4)
    assert r2.rows_affected() == 3
    assert r2.last_insert_id() == first + 1  # MySQL reports the first id of the batch
    r3 = db.exec(f"UPDATE {t} SET v = 0 WHERE v >= ?", 3)
    assert (r3.rows_affected(), r3.last_insert_id()) == (2, 0)
    # Unchanged rows are not affected, unless clientFoundRows.
    assert db.exec(f"UPDATE {t} SET v = 0 WHERE v = 0").rows_affected() == 0
    d = other_db("clientFoundRows=true")
    try:
        assert d.exec(f"UPDATE {t} SET v = 0 WHERE v = 0").rows_affected() == 2
    finally:
        d.close()
    assert db.exec(f"DELETE FROM {t}").rows_affected() == 4


@needs_server
def test_isolation_and_read_only(db: dbsql.DB, table: Callable[[str, str], str]) -> None:
    t = table("iso", "id INT PRIMARY KEY, v INT")
    db.exec(f"INSERT INTO {t} VALUES (1, 1)")
    bg = context.background()

    def sees_concurrent_commit(level: dbsql.IsolationLevel) -> bool:
        tx = db.begin_tx(bg, dbsql.TxOptions(isolation=level))
        try:
            (before,) = tx.query_row(f"SELECT v FROM {t} WHERE id = 1").scan(int)
            db.exec(f"UPDATE {t} SET v = v + 1 WHERE id = 1")
            (after,) = tx.query_row(f"SELECT v FROM {t} WHERE id = 1").scan(int)
            return bool(after != before)
        finally:
            tx.rollback()

    assert sees_concurrent_commit(dbsql.LEVEL_READ_COMMITTED)
    assert sees_concurrent_commit(dbsql.LEVEL_READ_UNCOMMITTED)
    assert not sees_concurrent_commit(dbsql.LEVEL_REPEATABLE_READ)
    assert not sees_concurrent_commit(dbsql.LEVEL_DEFAULT)
    tx = db.begin_tx(bg, dbsql.TxOptions(isolation=dbsql.LEVEL_SERIALIZABLE))
    assert tx.query_row("SELECT @@in_transaction").scan(int) == (1,)
    tx.commit()

    tx = db.begin_tx(bg, dbsql.TxOptions(read_only=True))
    with pytest.raises(Exception, match="1792|READ ONLY"):
        tx.exec(f"UPDATE {t} SET v = 0")
    tx.rollback()
    for level in (dbsql.LEVEL_SNAPSHOT, dbsql.LEVEL_LINEARIZABLE, dbsql.LEVEL_WRITE_COMMITTED):
        with pytest.raises(NotImplementedError, match=str(level)):
            db.begin_tx(bg, dbsql.TxOptions(isolation=level))
    # Commit keeps, rollback drops.
    with db.begin() as tx:
        tx.exec(f"INSERT INTO {t} VALUES (2, 2)")
    tx = db.begin()
    tx.exec(f"INSERT INTO {t} VALUES (3, 3)")
    tx.rollback()
    assert db.query_row(f"SELECT COUNT(*) FROM {t}").scan(int) == (2,)


@needs_server
def test_cancel_sleep_by_timeout(db: dbsql.DB) -> None:
    db.set_max_open_conns(1)
    (tid,) = db.query_row("SELECT CONNECTION_ID()").scan(int)
    ctx, cancel = context.with_timeout(context.background(), 0.3)
    try:
        start = time.monotonic()
        with pytest.raises(context.DeadlineExceeded) as ei:
            db.query_row_context(ctx, "SELECT SLEEP(10)").scan(int)
        assert time.monotonic() - start < 5
    finally:
        cancel()
    cause = ei.value.__cause__
    assert cause is not None and cause.args[0] == 1317, repr(cause)
    # The same pooled connection is still good.
    assert db.query_row("SELECT CONNECTION_ID()").scan(int) == (tid,)
    ctx, cancel = context.with_timeout(context.background(), 0.3)
    try:
        with pytest.raises(context.DeadlineExceeded):
            db.exec_context(ctx, "DO SLEEP(10)")
    finally:
        cancel()
    assert db.query_row("SELECT 1 + ?", 1).scan(int) == (2,)
    assert db.stats().open_connections == 1


@needs_server
def test_cancel_by_cancel_func(db: dbsql.DB) -> None:
    db.set_max_open_conns(1)
    (tid,) = db.query_row("SELECT CONNECTION_ID()").scan(int)
    watcher = other_db()
    ctx, cancel = context.with_cancel(context.background())

    def sleeping() -> bool:
        (n,) = watcher.query_row(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
            "WHERE ID = ? AND INFO LIKE 'SELECT SLEEP%'",
            tid,
        ).scan(int)
        return bool(n == 1)

    def canceller() -> None:
        wait_for(sleeping, "the query to run")
        cancel()

    th = threading.Thread(target=canceller)
    th.start()
    try:
        start = time.monotonic()
        with pytest.raises(context.Canceled):
            db.query_context(ctx, "SELECT SLEEP(10)")
        assert time.monotonic() - start < 8
    finally:
        th.join()
        watcher.close()
    assert db.query_row("SELECT CONNECTION_ID()").scan(int) == (tid,)


@needs_server
def test_connection_killed_while_idle(db: dbsql.DB) -> None:
    db.set_max_open_conns(1)
    (tid,) = db.query_row("SELECT CONNECTION_ID()").scan(int)
    killer = other_db()
    try:
        killer.exec(f"KILL {int(tid)}")

        def gone() -> bool:
            (n,) = killer.query_row(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", tid
            ).scan(int)
            return bool(n == 0)

        wait_for(gone, "the killed connection to go away")
    finally:
        killer.close()
    # reset_session sees the closed socket: BadConnError, the pool retries.
    (tid2,) = db.query_row("SELECT CONNECTION_ID()").scan(int)
    assert tid2 != tid
    assert db.stats().open_connections == 1


@needs_server
def test_bad_conn_only_before_send(db: dbsql.DB) -> None:
    c = db.conn()
    try:

        def check(dc: Any) -> None:
            assert isinstance(dc, mysql.MySQLConn)
            # A connection already closed: the statement cannot have been sent.
            dc._raw._force_close()
            assert not dc.is_valid()
            with pytest.raises(driver.BadConnError):
                dc.exec_context(context.background(), "SELECT 1", [])

        c.raw(check)
    finally:
        c.close()
    assert db.query_row("SELECT 1").scan(int) == (1,)

    # The connection lost while reading the reply: the statement may have run.
    c = db.conn()
    try:
        (tid,) = c.query_row("SELECT CONNECTION_ID()").scan(int)
        killer = other_db()
        done = threading.Event()

        def kill_when_running() -> None:
            def running() -> bool:
                (n,) = killer.query_row(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                    "WHERE ID = ? AND INFO LIKE 'SELECT SLEEP%'",
                    tid,
                ).scan(int)
                return bool(n == 1)

            try:
                wait_for(running, "the query to run")
                killer.exec(f"KILL {int(tid)}")
            finally:
                done.set()

        th = threading.Thread(target=kill_when_running)
        th.start()
        try:
            with pytest.raises(Exception) as ei:
                c.query_row("SELECT SLEEP(10)").scan(int)
            assert not isinstance(ei.value, driver.BadConnError)
        finally:
            th.join()
            killer.close()

        def invalid(dc: Any) -> bool:
            return not bool(dc.is_valid())

        assert c.raw(invalid)
    finally:
        c.close()
    assert db.query_row("SELECT 2").scan(int) == (2,)


@needs_server
def test_column_types(db: dbsql.DB, table: Callable[[str, str], str]) -> None:
    t = table(
        "ct",
        "a DECIMAL(10,2) NOT NULL, b DECIMAL(10,2) UNSIGNED, c DATETIME(6), e VARCHAR(20) NOT NULL,"
        " f VARBINARY(7), g TEXT, h BLOB, i DOUBLE, k BIGINT UNSIGNED NOT NULL, l CHAR(3),"
        " m ENUM('x','y'), n INT, o TIME(3), p TIMESTAMP NULL, q DATE",
    )
    rows = db.query(f"SELECT * FROM {t}")
    try:
        cts = {ct.name(): ct for ct in rows.column_types()}
    finally:
        rows.close()
    names = {k: ct.database_type_name() for k, ct in cts.items()}
    assert names == {
        "a": "DECIMAL",
        "b": "DECIMAL",
        "c": "DATETIME",
        "e": "VARCHAR",
        "f": "VARBINARY",
        "g": "TEXT",
        "h": "BLOB",
        "i": "DOUBLE",
        "k": "UNSIGNED BIGINT",
        "l": "CHAR",
        "m": "ENUM",
        "n": "INT",
        "o": "TIME",
        "p": "TIMESTAMP",
        "q": "DATE",
    }
    assert cts["a"].nullable() == (False, True)
    assert cts["b"].nullable() == (True, True)
    assert cts["a"].decimal_size() == (10, 2, True)
    assert cts["b"].decimal_size() == (10, 2, True)
    assert cts["c"].decimal_size() == (0, 6, True)
    assert cts["n"].decimal_size() == (0, 0, False)
    assert cts["e"].length() == (20, True)
    assert cts["f"].length() == (7, True)
    assert cts["l"].length() == (3, True)
    assert cts["n"].length() == (0, False)
    assert cts["a"].scan_type() is decimal.Decimal
    assert cts["k"].scan_type() is int
    assert cts["e"].scan_type() is str
    assert cts["n"].scan_type() == (int | None)
    assert cts["f"].scan_type() == (bytes | None)
    assert cts["c"].scan_type() == (datetime.datetime | None)
    assert cts["o"].scan_type() == (datetime.timedelta | None)
    assert cts["q"].scan_type() == (datetime.date | None)


@needs_server
def test_reset_session_rolls_back_abandoned_tx(
    db: dbsql.DB, table: Callable[[str, str], str]
) -> None:
    t = table("reset", "id INT PRIMARY KEY")
    db.set_max_open_conns(1)
    c = db.conn()
    c.exec("START TRANSACTION")
    c.exec(f"INSERT INTO {t} VALUES (1)")
    assert c.query_row("SELECT @@in_transaction").scan(int) == (1,)
    c.close()  # back to the pool with the transaction open
    assert db.query_row("SELECT @@in_transaction").scan(int) == (0,)
    assert db.query_row(f"SELECT COUNT(*) FROM {t}").scan(int) == (0,)
    assert db.stats().open_connections == 1


@needs_server
def test_ping_and_conn_reuse(db: dbsql.DB) -> None:
    db.ping()
    db.set_max_open_conns(1)
    (tid,) = db.query_row("SELECT CONNECTION_ID()").scan(int)
    db.ping()
    assert db.query_row("SELECT CONNECTION_ID()").scan(int) == (tid,)


@needs_server
def test_password_redaction_in_errors() -> None:
    cfg = mysql.parse_dsn(MYSQL_DSN)
    # The server refusing the credentials (1045; a user that does not exist, as
    # root over a unix socket may ignore passwords), then nothing listening (2003).
    targets = [f"dbsql_my_nobody:{SECRET}@{cfg.net}({cfg.addr})", f"root:{SECRET}@tcp(127.0.0.1:1)"]
    for target in targets:
        d = dbsql.open("mysql", f"{target}/{cfg.dbname}")
        try:
            with pytest.raises(Exception) as ei:
                d.ping()
            text = all_text(ei.value)
            assert SECRET not in text
            assert ("1045" in text) or ("2003" in text), text
        finally:
            d.close()
    # A URL with an escaped password: not shown either, escaped or not.
    d = dbsql.open("mysql", f"mysql://root:{SECRET.replace('/', '%2F')}@127.0.0.1:1/x")
    try:
        with pytest.raises(Exception) as ei:
            d.ping()
        assert SECRET not in all_text(ei.value)
        assert SECRET.replace("/", "%2F") not in all_text(ei.value)
    finally:
        d.close()


@needs_server
def test_connect_deadline(db: dbsql.DB) -> None:
    ctx, cancel = context.with_timeout(context.background(), 0.0)
    try:
        with pytest.raises(context.DeadlineExceeded):
            db.conn(ctx)
    finally:
        cancel()
    assert db.query_row("SELECT 1").scan(int) == (1,)


# ---------------------------------------------------------------------------
# Connect bounded by the context: a listener that accepts and never answers
# (no server needed).


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP listener that accepts connections and never sends the handshake."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        lsock.settimeout(0.05)
        while not stop.is_set():
            try:
                s, _ = lsock.accept()
            except OSError:
                continue
            accepted.append(s)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        yield f"127.0.0.1:{lsock.getsockname()[1]}", accepted
    finally:
        stop.set()
        th.join()
        lsock.close()
        for s in accepted:
            s.close()


def test_connect_deadline_during_handshake(
    silent_server: tuple[str, list[socket.socket]],
) -> None:
    addr, _ = silent_server
    db = dbsql.open("mysql", f"root:{SECRET}@tcp({addr})/test?timeout=30s")
    try:
        ctx, cancel = context.with_timeout(context.background(), 0.3)
        try:
            start = time.monotonic()
            with pytest.raises(context.DeadlineExceeded) as ei:
                db.ping_context(ctx)
            assert time.monotonic() - start < 5
        finally:
            cancel()
        assert SECRET not in all_text(ei.value)
        assert db.stats().open_connections == 0
    finally:
        db.close()


def test_connect_canceled_during_handshake(
    silent_server: tuple[str, list[socket.socket]],
) -> None:
    addr, accepted = silent_server
    db = dbsql.open("mysql", f"root@tcp({addr})/test?timeout=30s")
    ctx, cancel = context.with_cancel(context.background())

    def canceller() -> None:
        wait_for(lambda: len(accepted) > 0, "the connection to be accepted")
        cancel()

    th = threading.Thread(target=canceller)
    th.start()
    try:
        start = time.monotonic()
        with pytest.raises(context.Canceled):
            db.ping_context(ctx)
        assert time.monotonic() - start < 8
    finally:
        th.join()
        cancel()
        db.close()


@needs_server
def test_cancel_while_reading_later_result_set() -> None:
    d = other_db("multiStatements=true")
    try:
        d.set_max_open_conns(1)
        (tid,) = d.query_row("SELECT CONNECTION_ID()").scan(int)
        ctx, cancel = context.with_timeout(context.background(), 0.5)
        try:
            rows = d.query_context(ctx, "SELECT 1; SELECT SLEEP(10); SELECT 3")
            assert rows.next() and rows.scan(int) == (1,)
            assert not rows.next()
            start = time.monotonic()
            assert not rows.next_result_set()
            assert time.monotonic() - start < 5
            assert isinstance(rows.err(), context.DeadlineExceeded)
            rows.close()
        finally:
            cancel()
        # The interrupted multi-statement ended with its error: the conn is clean.
        assert d.query_row("SELECT CONNECTION_ID()").scan(int) == (tid,)
    finally:
        d.close()


@needs_server
def test_context_ends_with_result_sets_unread() -> None:
    d = other_db("multiStatements=true")
    try:
        d.set_max_open_conns(1)
        ctx, cancel = context.with_cancel(context.background())
        rows = d.query_context(ctx, "SELECT 1; SELECT 2")
        cancel()
        wait_for(lambda: not rows.next(), "the rows to be closed by the context")
        assert isinstance(rows.err(), context.Canceled)
        rows.close()
        # The connection with unread results was discarded; a new one works.
        assert d.query_row("SELECT 5").scan(int) == (5,)
        assert d.stats().open_connections == 1
    finally:
        d.close()


@needs_server
def test_user_with_special_password(db: dbsql.DB) -> None:
    cfg = mysql.parse_dsn(MYSQL_DSN)
    user = f"dbsql_my_u{uuid.uuid4().hex[:8]}"
    password = "p@ss/w:rd?#%&'x"
    try:
        db.exec(f"CREATE USER '{user}'@'%' IDENTIFIED BY ?", password)
    except Exception as e:
        pytest.skip(f"cannot create a user: {e}")
    try:
        quoted = urllib.parse.quote(password, safe="")
        where = cfg.addr if cfg.net == "tcp" else urllib.parse.quote(cfg.addr, safe="")
        for dsn in (
            f"{user}:{password}@{cfg.net}({cfg.addr})/",
            f"mysql://{user}:{quoted}@{where}/",
        ):
            d = dbsql.open("mysql", dsn)
            try:
                (who,) = d.query_row("SELECT CURRENT_USER()").scan(str)
                assert who.startswith(user + "@")
            finally:
                d.close()
        d = dbsql.open("mysql", f"mysql://{user}:{quoted}x@{where}/")
        try:
            with pytest.raises(Exception, match="1045") as ei:
                d.ping()
            assert password not in all_text(ei.value)
            assert quoted not in all_text(ei.value)
        finally:
            d.close()
    finally:
        db.exec(f"DROP USER IF EXISTS '{user}'@'%'")


@pytest.fixture
def full_resets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the full resets (COM_RESET_CONNECTION + settings) of every MySQLConn:
    one entry, the connection's thread id, per reset."""
    calls: list[int] = []
    orig = mysql.MySQLConn._full_reset

    def counting(self: mysql.MySQLConn, ctx: context.Context) -> None:
        calls.append(self._raw.server_thread_id[0])
        orig(self, ctx)

    monkeypatch.setattr(mysql.MySQLConn, "_full_reset", counting)
    return calls


@needs_server
def test_reset_session_clears_state_by_default(full_resets: list[int]) -> None:
    # The DSN's settings are set again after the reset.
    d = other_db(
        "sql_mode=%27ANSI_QUOTES%27", "collation=utf8mb4_bin", "time_zone=%27%2B02%3A00%27"
    )
    lock = f"dbsql_my_lock_{uuid.uuid4().hex[:10]}"
    try:
        d.set_max_open_conns(1)
        c = d.conn()
        (tid,) = c.query_row("SELECT CONNECTION_ID()").scan(int)
        c.exec("CREATE TEMPORARY TABLE dbsql_my_tmp_default (x INT)")
        c.exec(
            "SET @dbsql_my_var = 'leak', sql_mode = '', time_zone = '+05:00',"
            " collation_connection = utf8mb4_general_ci, autocommit = 0"
        )
        assert c.query_row("SELECT GET_LOCK(?, 0)", lock).scan(int) == (1,)
        c.exec("PREPARE dbsql_my_stmt FROM 'SELECT 1'")
        c.close()
        assert full_resets == []  # at the next checkout, not at release
        with d.conn() as c2:
            assert full_resets == [tid]
            assert c2.query_row("SELECT CONNECTION_ID()").scan(int) == (tid,)
            got = c2.query_row(
                "SELECT @dbsql_my_var, @@sql_mode, @@time_zone, @@collation_connection,"
                " @@autocommit, @@in_transaction, IS_FREE_LOCK(?)",
                lock,
            ).scan(object, str, str, str, int, int, int)
            assert got == (None, "ANSI_QUOTES", "+02:00", "utf8mb4_bin", 1, 0, 1)
            with pytest.raises(Exception, match="1146|doesn't exist"):
                c2.exec("SELECT * FROM dbsql_my_tmp_default")
            with pytest.raises(Exception, match="1243|[Uu]nknown prepared statement"):
                c2.exec("EXECUTE dbsql_my_stmt")
    finally:
        d.close()


@needs_server
def test_reset_session_not_after_plain_statements(
    db: dbsql.DB, table: Callable[[str, str], str], full_resets: list[int]
) -> None:
    t = table("plainreset", "id INT PRIMARY KEY")
    db.set_max_open_conns(1)
    (tid,) = db.query_row("SELECT CONNECTION_ID()").scan(int)
    for i in range(3):
        db.exec(f"INSERT INTO {t} VALUES (?)", i)
        with db.conn() as c:
            assert c.query_row(f"SELECT COUNT(*), @@sql_mode FROM {t}").scan(int, str)[0] == i + 1
        tx = db.begin()
        tx.exec(f"UPDATE {t} SET id = id WHERE id = ?", i)
        tx.commit()
        tx = db.begin_tx(context.background(), dbsql.TxOptions(isolation=dbsql.LEVEL_SERIALIZABLE))
        tx.rollback()
        stmt = db.prepare(f"SELECT id FROM {t} WHERE id = ?")
        assert stmt.query_row(i).scan(int) == (i,)
        stmt.close()
    assert full_resets == []
    # A statement that leaves state (here through a prepared statement): one
    # reset at the next checkout, none after.
    stmt = db.prepare("SET @dbsql_my_var = ?")
    stmt.exec(5)
    stmt.close()
    assert full_resets == []
    assert db.query_row("SELECT @dbsql_my_var").scan(object) == (None,)
    assert full_resets == [tid]
    assert db.query_row("SELECT CONNECTION_ID()").scan(int) == (tid,)
    assert full_resets == [tid]


@needs_server
def test_reset_session_false_keeps_state(full_resets: list[int]) -> None:
    # As Go's driver: only a transaction left open is undone.
    d = other_db("resetSession=false")
    try:
        d.set_max_open_conns(1)
        with d.conn() as c:
            c.exec("SET @dbsql_my_var = 'kept'")
            c.exec("CREATE TEMPORARY TABLE dbsql_my_tmp_kept (x INT) ENGINE=InnoDB")
            c.exec("START TRANSACTION")
            c.exec("INSERT INTO dbsql_my_tmp_kept VALUES (1)")
        with d.conn() as c2:
            assert c2.query_row("SELECT @dbsql_my_var").scan(str) == ("kept",)
            assert c2.query_row("SELECT COUNT(*) FROM dbsql_my_tmp_kept").scan(int) == (0,)
            c2.exec("DROP TEMPORARY TABLE dbsql_my_tmp_kept")
        assert full_resets == []
    finally:
        d.close()


@needs_server
def test_reset_session_selects_database_again(full_resets: list[int]) -> None:
    dbname = mysql.parse_dsn(MYSQL_DSN).dbname
    if not dbname:
        pytest.skip("the DSN names no database")
    d = other_db()
    try:
        d.set_max_open_conns(1)
        with d.conn() as c:
            (tid,) = c.query_row("SELECT CONNECTION_ID()").scan(int)
            c.exec("USE information_schema")
        with d.conn() as c:
            got = c.query_row("SELECT CONNECTION_ID(), DATABASE()").scan(int, str)
            assert got == (tid, dbname)
        assert full_resets == []  # USE alone: COM_INIT_DB only
    finally:
        d.close()
    # Without a database in the DSN there is no way back: a new connection.
    base, q, params = MYSQL_DSN.partition("?")
    d = dbsql.open("mysql", base[: base.rfind("/") + 1] + q + params)
    try:
        d.set_max_open_conns(1)
        with d.conn() as c:
            (tid,) = c.query_row("SELECT CONNECTION_ID()").scan(int)
            c.exec("USE information_schema")
        with d.conn() as c:
            got2 = c.query_row("SELECT CONNECTION_ID(), DATABASE()").scan(int, object)
            assert got2[0] != tid
            assert got2[1] is None
        assert d.stats().open_connections == 1
    finally:
        d.close()


@needs_server
def test_reset_session_set_transaction_does_not_leak(
    db: dbsql.DB, table: Callable[[str, str], str]
) -> None:
    # SET TRANSACTION outside a transaction applies to the session's next
    # transaction, even after a ROLLBACK: it must not be the next borrower's.
    t = table("txlevel", "id INT PRIMARY KEY")
    db.set_max_open_conns(1)
    with db.conn() as c:
        c.exec("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    with db.conn() as c:
        c.exec("START TRANSACTION")
        try:
            c.query_row(f"SELECT COUNT(*) FROM {t} FOR UPDATE").scan(int)
            (level,) = c.query_row(
                "SELECT trx_isolation_level FROM information_schema.innodb_trx"
                " WHERE trx_mysql_thread_id = CONNECTION_ID()"
            ).scan(str)
        finally:
            c.exec("ROLLBACK")
    assert level != "SERIALIZABLE"


@needs_server
def test_reset_session_full(table: Callable[[str, str], str]) -> None:
    t = table("fullreset", "id INT PRIMARY KEY")
    d = other_db("resetSession=true", "sql_mode=%27ANSI_QUOTES%27", "collation=utf8mb4_bin")
    try:
        d.set_max_open_conns(1)
        c = d.conn()
        (tid,) = c.query_row("SELECT CONNECTION_ID()").scan(int)
        c.exec("SET @dbsql_my_var = 'leak', time_zone = '+05:00'")
        c.exec("CREATE TEMPORARY TABLE dbsql_my_tmp (x INT)")
        c.exec("START TRANSACTION")
        c.exec(f"INSERT INTO {t} VALUES (1)")
        c.close()
        with d.conn() as c2:
            assert c2.query_row("SELECT CONNECTION_ID()").scan(int) == (tid,)
            got = c2.query_row(
                "SELECT @dbsql_my_var, @@time_zone = @@global.time_zone, @@in_transaction,"
                " @@sql_mode, @@collation_connection, @@autocommit"
            ).scan(object, int, int, str, str, int)
            assert got == (None, 1, 0, "ANSI_QUOTES", "utf8mb4_bin", 1)
            with pytest.raises(Exception, match="1146|doesn't exist"):
                c2.exec("SELECT * FROM dbsql_my_tmp")
            assert c2.query_row(f"SELECT COUNT(*) FROM {t}").scan(int) == (0,)
    finally:
        d.close()


# ---------------------------------------------------------------------------
# next_batch (driver.RowsNextBatch).


def my_conn(*params: str) -> Any:
    """A driver connection of its own (not from a pool)."""
    dsn = MYSQL_DSN
    for p in params:
        dsn = with_params(dsn, p)
    return mysql.MySQLDriver().open(dsn)


@needs_server
def test_next_batch_matches_next(table: Callable[[str, str], str]) -> None:
    t = table(
        "batch",
        "id INT PRIMARY KEY, u BIGINT UNSIGNED, f DOUBLE, d DECIMAL(10,2), s VARCHAR(20),"
        " b BLOB, dt DATETIME(6), dd DATE, tt TIME, j JSON",
    )
    bg = context.background()
    for params in ((), ("loc=UTC",), ("parseTime=false",)):
        c = my_conn(*params)
        try:
            c.exec_context(bg, f"DELETE FROM {t}", [])
            c.exec_context(
                bg,
                f"INSERT INTO {t} VALUES (0, 18446744073709551615, 1.5, 12.34, 'a', x'00ff',"
                " '2024-02-29 23:59:59.5', '2024-01-02', '-01:02:03', '{\"k\": [1]}'),"
                " (1, 0, -0.0, -1.00, '', '', '1999-01-01 00:00:00', '1999-12-31', '00:00:00',"
                " 'null'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
                [],
            )
            for i in range(3, 30):
                c.exec_context(
                    bg,
                    f"INSERT INTO {t} (id, s) VALUES (?, ?)",
                    [driver.NamedValue("", 1, i), driver.NamedValue("", 2, f"s{i}")],
                )
            q = f"SELECT * FROM {t} ORDER BY id"
            rows = c.query_context(bg, q, [])
            assert isinstance(rows, driver.RowsNextBatch)
            want = drain_next(rows)
            rows.close()
            assert len(want) == 30
            if params == ("loc=UTC",):
                assert want[0][6] == datetime.datetime(
                    2024, 2, 29, 23, 59, 59, 500000, datetime.UTC
                )
            elif not params:
                assert want[0][6] == datetime.datetime(2024, 2, 29, 23, 59, 59, 500000)
            for size in (1, 4, 30, 1000):
                rows = c.query_context(bg, q, [])
                assert drain_batches(rows, size) == want
                assert rows.next_batch(size) == []  # the end stays the end
                rows.close()
            # Rows taken with next first: next_batch hands out the others.
            rows = c.query_context(bg, q, [])
            dest: list[Any] = [None] * len(rows.columns())
            rows.next(dest)
            assert tuple(dest) == want[0]
            assert drain_batches(rows, 8) == want[1:]
            with pytest.raises(ValueError, match="max_rows"):
                rows.next_batch(0)
            rows.close()
        finally:
            c.close()


@needs_server
def test_next_batch_multiple_result_sets() -> None:
    bg = context.background()
    c = my_conn("multiStatements=true")
    try:
        rows = c.query_context(
            bg, "SELECT 1 AS a UNION ALL SELECT 2 UNION ALL SELECT 3; DO 0; SELECT 'c' AS c", []
        )
        assert rows.columns() == ["a"]
        assert rows.next_batch(2) == [(1,), (2,)]
        assert rows.next_batch(2) == [(3,)]
        assert rows.next_batch(2) == []
        # After the empty list, as after EOFError from next.
        assert rows.has_next_result_set()
        rows.next_result_set()  # the DO's result, without columns, is skipped
        assert rows.columns() == ["c"]
        assert rows.next_batch(5) == [("c",)]
        assert rows.next_batch(5) == []
        assert not rows.has_next_result_set()
        with pytest.raises(EOFError):
            rows.next_result_set()
        rows.close()
        rows = c.query_context(bg, "SELECT 4", [])
        assert rows.next_batch(5) == [(4,)]
        rows.close()
    finally:
        c.close()


@needs_server
def test_next_batch_cancelled_between_batches() -> None:
    bg = context.background()
    c = my_conn("multiStatements=true")
    try:
        ctx, cancel = context.with_cancel(bg)
        rows = c.query_context(
            ctx, "SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3; SELECT 4", []
        )
        assert rows.next_batch(2) == [(1,), (2,)]
        cancel()
        # The result set was read whole when the statement ran: its rows keep
        # coming from memory, as with next. Reading the next result set needs the
        # server: the ended context stops it.
        assert rows.next_batch(2) == [(3,)]
        assert rows.next_batch(2) == []
        assert rows.has_next_result_set()
        with pytest.raises(context.Canceled):
            rows.next_result_set()
        # A result set left unread after the context ended: the connection is
        # discarded with the rows.
        rows.close()
        assert not c.is_valid()
    finally:
        c.close()


# query_row in one driver call (driver.QueryerRowContext, beyond Go).


@needs_server
def test_query_row_reads_in_one_call(db: dbsql.DB, table: Callable[[str, str], str]) -> None:
    t = table("qr", "id INT PRIMARY KEY, name VARCHAR(20)")
    db.exec(f"INSERT INTO {t} VALUES (1, 'a'), (2, 'b')")
    check_query_row_in_one_call(db, t, "?")


@needs_server
def test_query_row_multi_statements_and_alias() -> None:
    # The first result set with columns, the others drained (the connection is
    # reusable); with columnsWithAlias the names are table.column.
    d = other_db("multiStatements=true", "columnsWithAlias=true")
    try:
        d.set_max_open_conns(1)
        got = d.query_row("DO 1; SELECT 5 AS five; SELECT 6; SELECT 7").scan(int)
        assert got == (5,)
        assert d.query_row("SELECT 8").scan(int) == (8,)
        with pytest.raises(dbsql.ScanError, match=r'name "t.x"'):
            d.query_row("SELECT x FROM (SELECT 'a' AS x) AS t").scan(int)
    finally:
        d.close()
