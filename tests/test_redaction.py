"""A password in a DSN (or in connect arguments) is never shown.

Not in a repr or str (DB, Connector, driver Conn, Config), not in an error
(message, args, the ``__cause__``/``__context__`` chain, the formatted
traceback), not in a log record (every logger, ``dbsql``'s tree included, is
captured at DEBUG). For every driver: sqlite3 (whose DSNs carry no password:
secret-named options instead), postgres (key=value and URL DSNs), mysql (Go
form and URL) and the DB-API bridge (connect arguments).

The connect failures need no server (nothing listens on port 1; a silent
listener never answers). The wrong-password tests create a user with a password
on the server named by DBSQL_TEST_POSTGRES_DSN / DBSQL_TEST_MYSQL_DSN, drop it
afterwards, and are skipped when the variable is unset.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import psycopg.conninfo
import pymysql  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dbsql
from dbsql import context, sql
from dbsql.drivers import dbapi
from dbsql.drivers import mysql as mysql_driver
from dbsql.drivers import postgres as postgres_driver
from dbsql.drivers import sqlite3 as sqlite3_driver

PG_DSN = os.environ.get("DBSQL_TEST_POSTGRES_DSN", "")
MY_DSN = os.environ.get("DBSQL_TEST_MYSQL_DSN", "")
PG_SKIP = "DBSQL_TEST_POSTGRES_DSN is not set: no PostgreSQL server to test against"
MY_SKIP = "DBSQL_TEST_MYSQL_DSN is not set: no MySQL server to test against"

# The secrets: distinctive, never written out on a line a traceback could show.
SECRET = "Zq7-hunter2_S3cret"
# With characters that need escaping in a URL, a quoted key=value and a Go DSN.
SPECIAL = "p@ss/w:rd?#%&'Zq8 x"
SECRETS = (SECRET, SPECIAL, urllib.parse.quote(SPECIAL, safe=""))


def all_text(e: BaseException) -> str:
    """Everything an error shows: the formatted traceback with its chain, and
    str, repr and args of each error in the chain."""
    parts = ["".join(traceback.format_exception(e))]
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts += [str(cur), repr(cur), repr(cur.args)]
        # Public attributes drivers' errors carry, such as psycopg's pgconn.
        parts += [repr(getattr(cur, a, None)) for a in ("pgconn", "pgresult", "diag")]
        cur = cur.__cause__ or cur.__context__
    return "\n".join(parts)


def assert_hidden(*texts: str) -> None:
    for text in texts:
        for s in SECRETS:
            assert s not in text, f"a password shows in: {text[:300]!r}"


def raised(f: Callable[[], object]) -> BaseException:
    """The error f raises (the test fails if it returns)."""
    try:
        f()
    except Exception as e:
        return e
    pytest.fail(f"{f} did not raise")


@pytest.fixture(autouse=True)
def _no_password_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture every log record at DEBUG (root, so dbsql's tree and the DB-API
    modules' loggers too) and check none shows a password."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="dbsql")
    yield
    for rec in caplog.records:
        texts = [rec.getMessage(), repr(rec.args), rec.name]
        if rec.exc_info is not None and rec.exc_info[1] is not None:
            texts.append(all_text(rec.exc_info[1]))
        if rec.exc_text:
            texts.append(rec.exc_text)
        assert_hidden(*texts)
    assert_hidden(caplog.text)


def db_texts(db: dbsql.DB) -> list[str]:
    c = db._connector
    return [repr(db), str(db), repr(c), str(c), repr(db.driver()), repr(db.stats())]


def check_open_fails(driver_name: str, dsn: str) -> BaseException:
    """Open dsn (lazily), check the handle shows no password, ping: it must fail
    without showing the password either. Return the error."""
    db = dbsql.open(driver_name, dsn)
    try:
        assert_hidden(*db_texts(db))
        err = raised(db.ping)
        assert_hidden(all_text(err))
        # The pool discarded the failed attempt.
        assert db.stats().open_connections == 0
        return err
    finally:
        db.close()


def check_rejected(driver_name: str, dsn: str) -> BaseException:
    """dsn must be refused when opened, with a ValueError not showing the password."""
    err = raised(lambda: dbsql.open(driver_name, dsn))
    assert isinstance(err, ValueError), repr(err)
    assert_hidden(all_text(err))
    return err


def check_live(db: dbsql.DB, select_one: str) -> None:
    """On a working connection: reprs of everything, a failing query's error."""
    assert_hidden(*db_texts(db))
    with db.conn() as c:
        assert_hidden(repr(c), c.raw(repr), c.raw(str))
        assert c.query_row(select_one).scan(int) == (1,)
        err = raised(lambda: c.exec("SELEC broken syntax"))
        assert_hidden(all_text(err))
        tx = c.begin()
        assert_hidden(repr(tx))
        rows = tx.query(select_one)
        assert_hidden(repr(rows), repr(rows.column_types()))
        rows.close()
        tx.rollback()


class SilentServer:
    """A TCP listener that accepts connections (in the kernel's backlog) and
    never answers: a connect to it ends only when a deadline does."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port: int = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    s = SilentServer()
    try:
        yield s
    finally:
        s.close()


def ping_with_timeout(dsn: str, driver_name: str, seconds: float) -> BaseException:
    db = dbsql.open(driver_name, dsn)
    try:
        ctx, cancel = context.with_timeout(context.background(), seconds)
        try:
            err = raised(lambda: db.ping_context(ctx))
        finally:
            cancel()
        assert_hidden(*db_texts(db), all_text(err))
        return err
    finally:
        db.close()


# ---------------------------------------------------------------------------
# sqlite3: no password in its DSNs; secret-named options are not echoed.


@pytest.mark.parametrize(
    "option", ["_auth_pass", "_auth_user", "_auth_crypt", "_auth_salt", "_password", "_key"]
)
def test_sqlite3_unknown_secret_option_value_not_echoed(tmp_path: Any, option: str) -> None:
    # mattn/go-sqlite3's user-authentication options are not supported: the
    # error names the option, never its value.
    for dsn in (
        f"file:{tmp_path}/a.db?_auth&_auth_user=admin&{option}={SECRET}",
        f"{tmp_path}/a.db?{option}={SECRET}",
        f":memory:?{option}={urllib.parse.quote(SPECIAL, safe='')}",
    ):
        err = check_rejected("sqlite3", dsn)
        assert isinstance(err, sqlite3_driver.DSNError)
        assert "_auth" in str(err) or option in str(err)


@pytest.mark.parametrize(
    "pragma", [f"key({SECRET})", f"key('{SECRET}')", f"rekey({SECRET}!)", f"hexkey({SECRET} x)"]
)
def test_sqlite3_key_pragma_not_echoed(tmp_path: Any, pragma: str) -> None:
    # SQLCipher's key pragmas carry the database key: a _pragma option that
    # sets one never shows it, parsed or refused.
    dsn = f"file:{tmp_path}/k.db?_pragma={urllib.parse.quote(pragma, safe='()')}"
    try:
        db = dbsql.open("sqlite3", dsn)
    except ValueError as e:
        assert "_pragma" in str(e)
        assert_hidden(all_text(e))
        return
    try:
        assert_hidden(*db_texts(db))
        try:
            db.ping()
        except Exception as e:  # a plain SQLite may refuse the pragma's value
            assert_hidden(all_text(e))
    finally:
        db.close()


def test_sqlite3_secret_named_sqlite_option_not_shown(tmp_path: Any) -> None:
    # An option SQLite does not know passes through to SQLite; it is never shown.
    db = dbsql.open("sqlite3", f"file:{tmp_path}/p.db?password={SECRET}&mode=rwc")
    try:
        check_live(db, "SELECT 1")
    finally:
        db.close()
    # A database that cannot be opened: SQLite's error, no option shown.
    check_open_fails("sqlite3", f"file:{tmp_path}/missing/dir/x.db?password={SECRET}&mode=ro")


# ---------------------------------------------------------------------------
# postgres


def pg_dsns(host_port: str, password: str) -> list[str]:
    host, port = host_port.split(":")
    q = password.replace("\\", "\\\\").replace("'", "\\'")
    url_pw = urllib.parse.quote(password, safe="")
    return [
        f"host={host} port={port} user=someone password='{q}' dbname=test connect_timeout=5",
        f"password='{q}' host={host} port={port} user=someone",
        f"postgresql://someone:{url_pw}@{host}:{port}/test?connect_timeout=5",
        f"postgres://someone@{host}:{port}/test?password={url_pw}",
        f"host={host} port={port} user=someone sslpassword='{q}' sslmode=disable",
    ]


@pytest.mark.parametrize("password", [SECRET, SPECIAL])
def test_postgres_connect_refused(password: str) -> None:
    # Nothing listens on port 1: libpq's error names host and port only.
    for dsn in pg_dsns("127.0.0.1:1", password):
        err = check_open_fails("postgres", dsn)
        assert isinstance(err, psycopg.OperationalError)


def test_postgres_bad_host() -> None:
    for dsn in (
        f"hostaddr=not-an-address user=someone password={SECRET}",
        f"host=127.0.0.1 port=99999 user=someone password={SECRET}",
        f"postgresql://someone:{SECRET}@127.0.0.1:notaport/test",
        f"host=127.0.0.1 port=1 connect_timeout=abc password={SECRET}",
    ):
        check_open_fails("postgres", dsn)


def test_postgres_connect_deadline(silent: SilentServer) -> None:
    # The context's deadline ends a connect to a server that never answers: the
    # DeadlineExceeded and libpq's timeout chained to it show no password.
    dsn = f"postgresql://someone:{SECRET}@127.0.0.1:{silent.port}/test"
    err = ping_with_timeout(dsn, "postgres", 0.2)
    assert isinstance(err, (context.DeadlineExceeded, psycopg.OperationalError)), repr(err)


def test_postgres_invalid_dsn() -> None:
    url_pw = urllib.parse.quote(SECRET, safe="")
    for dsn in (
        f"host=x password={SECRET} oops",
        f"host=x password='{SECRET}",
        f"host=x bogus=1 password={SECRET}",
        f"postgresql://someone:{SECRET}@[::1",
        f"postgresql://someone:{SECRET}%zz@127.0.0.1/test",
        f"postgresql://someone:{url_pw}@127.0.0.1/test?bogus=1",
        f"postgresql://someone@127.0.0.1/test?password={SECRET}&bogus=1",
        f"postgresql://someone@127.0.0.1/test?password={SECRET}%zz",
        f"postgresql://someone:{SECRET}%ff@127.0.0.1/test",
        f"postgresql://someone@127.0.0.1/test?password={SECRET}%c3",
    ):
        err = check_rejected("postgres", dsn)
        assert str(err).startswith("postgres: invalid DSN")


def test_postgres_connector_repr() -> None:
    for dsn in pg_dsns("127.0.0.1:5432", SPECIAL):
        c = postgres_driver.PostgresDriver().open_connector(dsn)
        assert_hidden(repr(c), str(c))
        assert "xxxxx" in repr(c)


@pytest.fixture
def pg_admin() -> Iterator[psycopg.Connection[Any]]:
    if not PG_DSN:
        pytest.skip(PG_SKIP)
    conn = psycopg.connect(PG_DSN, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def pg_role(pg_admin: psycopg.Connection[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A login role whose password is SECRET, dropped afterwards; and the
    server's connection parameters."""
    role = "dbsql_redact_" + uuid.uuid4().hex[:10]
    pg_admin.execute(
        psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            psycopg.sql.Identifier(role), psycopg.sql.Literal(SECRET)
        )
    )
    try:
        yield role, dict(psycopg.conninfo.conninfo_to_dict(PG_DSN))
    finally:
        pg_admin.execute(
            psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(role))
        )


def pg_role_dsns(role: str, params: dict[str, Any], password: str) -> list[str]:
    host = str(params.get("host", "127.0.0.1"))
    port = str(params.get("port", "5432"))
    dbname = str(params.get("dbname", "test"))
    return [
        psycopg.conninfo.make_conninfo(
            "", host=host, port=port, dbname=dbname, user=role, password=password
        ),
        f"postgresql://{role}:{urllib.parse.quote(password, safe='')}@{host}:{port}/{dbname}",
    ]


def test_postgres_live_connection(pg_role: tuple[str, dict[str, Any]]) -> None:
    role, params = pg_role
    for dsn in pg_role_dsns(role, params, SECRET):
        db = dbsql.open("postgres", dsn)
        try:
            check_live(db, "SELECT 1")
        finally:
            db.close()


def test_postgres_wrong_password(pg_role: tuple[str, dict[str, Any]]) -> None:
    role, params = pg_role
    rejected = 0
    for dsn in pg_role_dsns(role, params, SPECIAL):
        db = dbsql.open("postgres", dsn)
        try:
            assert_hidden(*db_texts(db))
            try:
                db.ping()
            except psycopg.OperationalError as e:
                rejected += 1
                assert_hidden(all_text(e))
            else:
                check_live(db, "SELECT 1")
        finally:
            db.close()
    if rejected == 0:
        pytest.skip(
            "the PostgreSQL server trusts this client (pg_hba trust): a wrong password "
            "is not rejected; only connect failures are checked"
        )


# ---------------------------------------------------------------------------
# Any DSN with a well-formed user:password part, whatever follows.

REST_FRAGMENTS = ["root", ":", "@", "tcp", "unix", "(", ")", "/", "?", "&", "=", "%", "%zz"]
REST_FRAGMENTS += ["%ff", "[", "]", "127.0.0.1", "3306", "x", "timeout", "5s", "loc", "tls", "#"]
REST_FRAGMENTS += ["host", " ", "'", "port", "dbname", "bogus", "password", "\\", ""]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    form=st.sampled_from(["mysql", "mysql-url", "pg-kv", "pg-kv-quoted", "pg-url"]),
    user=st.text("abcXYZ019_.-", max_size=5),
    rest=st.lists(st.sampled_from(REST_FRAGMENTS), max_size=10).map("".join),
)
def test_dsn_password_never_shown(form: str, user: str, rest: str) -> None:
    # Parsing (no connection): the Connector and its repr, or the DSN error.
    parse: Callable[[str], Any]
    if form == "mysql":
        dsn, parse = f"{user}:{SECRET}@{rest}", mysql_driver.MySQLDriver().open_connector
    elif form == "mysql-url":
        dsn, parse = f"mysql://{user}:{SECRET}@{rest}", mysql_driver.MySQLDriver().open_connector
    elif form == "pg-kv":
        dsn, parse = (
            f"{user} password={SECRET} {rest}",
            postgres_driver.PostgresDriver().open_connector,
        )
    elif form == "pg-kv-quoted":
        dsn = f"{user} password='{SECRET}' {rest}"
        parse = postgres_driver.PostgresDriver().open_connector
    else:
        dsn, parse = (
            f"postgresql://{user}:{SECRET}@{rest}",
            postgres_driver.PostgresDriver().open_connector,
        )
    try:
        c: Any = parse(dsn)
    except ValueError as e:
        assert_hidden(all_text(e))
    else:
        texts = [repr(c), str(c)]
        if form.startswith("mysql"):
            texts += [repr(c.config), str(c.config)]
        assert_hidden(*texts)


# ---------------------------------------------------------------------------
# mysql


def my_dsns(host_port: str, password: str, user: str = "someone", db: str = "test") -> list[str]:
    host, port = host_port.split(":")
    url_pw = urllib.parse.quote(password, safe="")
    return [
        f"{user}:{password}@tcp({host}:{port})/{db}?timeout=5s",
        f"{user}:{password}@tcp({host}:{port})/{db}",
        f"mysql://{user}:{url_pw}@{host}:{port}/{db}?timeout=5s",
        f"mariadb://{user}:{url_pw}@{host}:{port}/{db}",
    ]


@pytest.mark.parametrize("password", [SECRET, SPECIAL])
def test_mysql_connect_refused(password: str) -> None:
    for dsn in my_dsns("127.0.0.1:1", password):
        err = check_open_fails("mysql", dsn)
        assert isinstance(err, pymysql.err.OperationalError)


def test_mysql_connect_deadline(silent: SilentServer) -> None:
    for dsn in my_dsns(f"127.0.0.1:{silent.port}", SECRET)[:1]:
        err = ping_with_timeout(dsn, "mysql", 0.2)
        assert isinstance(err, context.DeadlineExceeded), repr(err)


def test_mysql_invalid_dsn() -> None:
    url_pw = urllib.parse.quote(SPECIAL, safe="")
    for dsn in (
        f"root:{SECRET}@tcp(127.0.0.1:3306)/test?parseTime=maybe",
        f"root:{SECRET}@tcp(127.0.0.1:3306)/test?bad-name=1",
        f"root:{SECRET}@tcp(127.0.0.1:3306",
        f"root:{SECRET}@tcp(127.0.0.1:99999)/test",
        f"root:{SECRET}@bogus(127.0.0.1)/test",
        # The '@' after user:password forgotten: the password would read as
        # the network name.
        f"root:{SECRET}/test",
        f"root:{SECRET}(127.0.0.1)/test",
        f"mysql://root:{url_pw}@127.0.0.1:notaport/test",
        f"mysql://root:{url_pw}@[::1/test",
        f"mysql://root:{url_pw}@127.0.0.1/a/b",
        f"mysql://root:{url_pw}@127.0.0.1/test#frag",
        f"mysql://root:{url_pw}@127.0.0.1/test?loc=Nowhere%2FAtAll",
    ):
        err = check_rejected("mysql", dsn)
        assert isinstance(err, mysql_driver.DSNError)


def test_mysql_config_repr() -> None:
    for dsn in my_dsns("127.0.0.1:3306", SPECIAL):
        c = mysql_driver.MySQLDriver().open_connector(dsn)
        assert c.config.passwd == SPECIAL
        assert_hidden(repr(c), str(c), repr(c.config), str(c.config))


@pytest.fixture
def my_user() -> Iterator[tuple[str, mysql_driver.Config]]:
    """A user whose password is SECRET (dropped afterwards), and the server's Config."""
    if not MY_DSN:
        pytest.skip(MY_SKIP)
    cfg = mysql_driver.parse_dsn(MY_DSN)
    user = "dbsql_rd_" + uuid.uuid4().hex[:8]
    admin = dbsql.open("mysql", MY_DSN)
    try:
        admin.exec(f"CREATE USER '{user}'@'%' IDENTIFIED BY ?", SECRET)
        try:
            if cfg.dbname:
                admin.exec(f"GRANT SELECT ON `{cfg.dbname}`.* TO '{user}'@'%'")
            yield user, cfg
        finally:
            admin.exec(f"DROP USER IF EXISTS '{user}'@'%'")
    finally:
        admin.close()


def my_user_dsns(user: str, cfg: mysql_driver.Config, password: str) -> list[str]:
    url_pw = urllib.parse.quote(password, safe="")
    if cfg.net == "unix":
        return [f"{user}:{password}@unix({cfg.addr})/{cfg.dbname}"]
    return [
        f"{user}:{password}@tcp({cfg.addr})/{cfg.dbname}",
        f"mysql://{user}:{url_pw}@{cfg.addr}/{cfg.dbname}",
    ]


def test_mysql_live_connection(my_user: tuple[str, mysql_driver.Config]) -> None:
    user, cfg = my_user
    for dsn in my_user_dsns(user, cfg, SECRET):
        db = dbsql.open("mysql", dsn)
        try:
            check_live(db, "SELECT 1")
        finally:
            db.close()


def test_mysql_wrong_password(my_user: tuple[str, mysql_driver.Config]) -> None:
    user, cfg = my_user
    for password in (SPECIAL, SECRET + "x"):
        for dsn in my_user_dsns(user, cfg, password):
            err = check_open_fails("mysql", dsn)
            assert isinstance(err, pymysql.err.OperationalError)
            assert err.args[0] == 1045  # access denied


# ---------------------------------------------------------------------------
# dbapi: the connect arguments.


@pytest.fixture
def registered() -> Iterator[Callable[..., str]]:
    """Register bridge drivers under fresh names; unregister them afterwards."""
    names: list[str] = []

    def register(module: Any, **options: Any) -> str:
        name = "redact-" + uuid.uuid4().hex[:10]
        dbapi.register(name, module, **options)
        names.append(name)
        return name

    yield register
    with sql._drivers_mu:
        for n in names:
            sql._drivers.pop(n, None)


def check_dbapi_fails(db: dbsql.DB) -> BaseException:
    try:
        assert_hidden(*db_texts(db))
        err = raised(db.ping)
        assert_hidden(all_text(err))
        return err
    finally:
        db.close()


@pytest.mark.parametrize("password", [SECRET, SPECIAL])
def test_dbapi_psycopg_kwargs(password: str) -> None:
    db = dbapi.open_db(
        psycopg, host="127.0.0.1", port=1, user="someone", password=password, connect_timeout=5
    )
    err = check_dbapi_fails(db)
    assert isinstance(err, psycopg.OperationalError)


@pytest.mark.parametrize("password", [SECRET, SPECIAL])
def test_dbapi_psycopg_dsn(registered: Callable[..., str], password: str) -> None:
    # The DSN given to dbsql.open is psycopg.connect's argument.
    name = registered(psycopg)
    for dsn in pg_dsns("127.0.0.1:1", password):
        check_dbapi_fails(dbsql.open(name, dsn))
    # A DSN psycopg cannot parse: its message quotes the bad part.
    for dsn in (
        f"postgresql://someone:{SECRET}%zz@127.0.0.1:1/test",
        f"postgresql://someone@127.0.0.1:1/test?password={SECRET}%zz",
        f"host=127.0.0.1 port=1 password='{SECRET}",
        f"postgresql://someone:{SECRET}%ff@127.0.0.1:1/test",
    ):
        check_dbapi_fails(dbsql.open(name, dsn))


@pytest.mark.parametrize("password", [SECRET, SPECIAL])
def test_dbapi_pymysql_kwargs(password: str) -> None:
    db = dbapi.open_db(pymysql, host="127.0.0.1", port=1, user="someone", password=password)
    err = check_dbapi_fails(db)
    assert isinstance(err, pymysql.err.OperationalError)


def test_dbapi_pymysql_wrong_password(my_user: tuple[str, mysql_driver.Config]) -> None:
    user, cfg = my_user
    kw: dict[str, Any] = {"user": user, "password": SPECIAL, "database": cfg.dbname or None}
    if cfg.net == "unix":
        kw["unix_socket"] = cfg.addr
    else:
        kw["host"], kw["port"] = cfg.host, cfg.port
    err = check_dbapi_fails(dbapi.open_db(pymysql, **kw))
    assert isinstance(err, pymysql.err.OperationalError)
    assert err.args[0] == 1045
    # The right password: a working connection shows none of it either.
    kw["password"] = SECRET
    db = dbapi.open_db(dbapi.Driver(pymysql, paramstyle="format"), **kw)
    try:
        check_live(db, "SELECT 1")
    finally:
        db.close()


def test_dbapi_sqlite3_password_kwarg() -> None:
    # sqlite3.connect takes no password: its TypeError names the keyword only.
    err = check_dbapi_fails(dbapi.open_db(sqlite3, ":memory:", password=SECRET))
    assert isinstance(err, TypeError)
    db = dbapi.open_db(
        dbapi.Driver(sqlite3, connect_args={"timeout": 1.0}), f"file:{SECRET}?mode=memory", uri=True
    )
    try:
        assert_hidden(*db_texts(db))
    finally:
        db.close()


def test_dbapi_connect_error_echoing_arguments() -> None:
    # A module whose connect error quotes its arguments: the bridge blanks the
    # password out of the error it raises.
    def connect(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"cannot connect with {args!r} {kwargs!r}")

    d = dbapi.Driver(connect, paramstyle="qmark")
    err = check_dbapi_fails(dbapi.open_db(d, user="someone", password=SECRET, host="h"))
    assert isinstance(err, RuntimeError)
    assert "someone" in str(err)  # the rest of the message stays
    err = check_dbapi_fails(
        dbapi.open_db(d, f"postgresql://someone:{urllib.parse.quote(SPECIAL, safe='')}@h/db")
    )
    assert isinstance(err, RuntimeError)
    err = check_dbapi_fails(dbapi.open_db(d, f"host=h user=someone password={SECRET} port=1"))
    assert isinstance(err, RuntimeError)


def test_dbapi_connector_repr() -> None:
    for module in (psycopg, pymysql, sqlite3):
        d = dbapi.Driver(module, paramstyle="qmark")
        c = d.connector("dsn", password=SECRET, passwd=SPECIAL)
        assert_hidden(repr(c), str(c), repr(d), str(d))
