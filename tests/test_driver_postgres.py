"""Tests of the "postgres" driver against a real server (DBSQL_TEST_POSTGRES_DSN)."""

from __future__ import annotations

import datetime
import decimal
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import psycopg.errors
import pytest

import dbsql
from dbsql import context, driver

DSN = os.environ.get("DBSQL_TEST_POSTGRES_DSN", "")
if not DSN:
    pytest.skip(
        "DBSQL_TEST_POSTGRES_DSN is not set: no PostgreSQL server to test against",
        allow_module_level=True,
    )

from dbsql.drivers import postgres  # noqa: E402  (registers the driver; needs the skip first)
from dbsql.drivertest import drain_batches, drain_next  # noqa: E402
from tests.sqltest import check_query_row_in_one_call  # noqa: E402

FAKE_PASSWORD = "s3cr3t-Pw_not-real"


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail("condition not met before the deadline")
        time.sleep(0.01)


@pytest.fixture
def db() -> Iterator[dbsql.DB]:
    d = dbsql.open("postgres", DSN)
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def table(db: dbsql.DB) -> Iterator[str]:
    name = "dbsql_pg_" + uuid.uuid4().hex[:12]
    try:
        yield name
    finally:
        db.exec(f"DROP TABLE IF EXISTS {name}")


def backend_pid(q: dbsql.DB | dbsql.Conn | dbsql.Tx) -> int:
    (pid,) = q.query_row("SELECT pg_backend_pid()").scan(int)
    assert isinstance(pid, int)
    return pid


# -- placeholders -------------------------------------------------------------


def test_dollar_placeholders(db: dbsql.DB) -> None:
    assert db.query_row("SELECT $1::int + $2::int", 2, 3).scan(int) == (5,)
    # Out of order and repeated.
    assert db.query_row("SELECT $2::text || $1::text || $2::text", "a", "b").scan(str) == ("bab",)
    # $1 inside a string literal, an E'' string, a quoted identifier, a
    # dollar-quoted string and comments is text; % is a literal.
    rows = db.query(
        "SELECT '$1 100%' AS a, E'it\\'s $2' AS b, $1::text AS \"c$1%\", "
        "$q$ $1 '$2' $q$ AS d, $$%$$ AS e, "
        "1 AS f$1 -- $2 and %\n /* $3 /* nested $4 */ still comment */",
        "v",
    )
    with rows:
        assert rows.columns() == ["a", "b", "c$1%", "d", "e", "f$1"]
        assert rows.next()
        assert rows.scan(str, str, str, str, str, int) == (
            "$1 100%",
            "it's $2",
            "v",
            " $1 '$2' ",
            "%",
            1,
        )
    # Without arguments the query text is sent unchanged.
    assert db.query_row("SELECT '100%'").scan(str) == ("100%",)


def test_dollar_placeholder_count_mismatch(db: dbsql.DB) -> None:
    with pytest.raises(ValueError, match="got 1 parameters but the statement requires 2"):
        db.query_row("SELECT $1::int, $2::int", 1).scan(int, int)
    with pytest.raises(ValueError, match="got 2 parameters but the statement requires 1"):
        db.exec("SELECT $1::int", 1, 2)
    # The connection is still fine.
    assert db.query_row("SELECT 1").scan(int) == (1,)


def test_named_placeholders(db: dbsql.DB) -> None:
    got = db.query_row(
        "SELECT @a::int * @b::int, @a::int, $1::int",
        dbsql.named("a", 4),
        dbsql.named("b", 5),
    ).scan(int, int, int)
    assert got == (20, 4, 4)
    # @> and <@ stay operators next to named arguments.
    assert db.query_row(
        "SELECT ARRAY[1,2] @> ARRAY[@x::int], ARRAY[@x::int]<@ARRAY[1]", dbsql.named("x", 1)
    ).scan(bool, bool) == (True, True)
    with pytest.raises(ValueError, match="no named argument for @b"):
        db.query_row("SELECT @a::int + @b::int", dbsql.named("a", 1)).scan(int)
    with pytest.raises(ValueError, match="named argument 'zz' is not used"):
        db.query_row("SELECT @a::int", dbsql.named("a", 1), dbsql.named("zz", 2)).scan(int)
    # Without named arguments @ is PostgreSQL's absolute value operator.
    assert db.query_row("SELECT @ $1::int", -5).scan(int) == (5,)
    assert db.query_row("SELECT @v FROM (SELECT -3 AS v) t").scan(int) == (3,)


# -- values -------------------------------------------------------------------


def test_round_trips(db: dbsql.DB, table: str) -> None:
    def echo(sql_type: str, v: Any) -> Any:
        (got,) = db.query_row(f"SELECT $1::{sql_type}", v).scan(object)
        return got

    assert echo("text", None) is None
    assert echo("bytea", b"") == b""
    assert echo("bytea", b"\x00\xff") == b"\x00\xff"
    assert echo("int8", -(2**63)) == -(2**63)
    assert echo("int8", 2**63 - 1) == 2**63 - 1
    d = decimal.Decimal("-12345678901234567890.123456789")
    assert echo("numeric", d) == d
    assert echo("numeric", decimal.Decimal("NaN")).is_nan()
    s = "héllo wörld ✓ 日本語 🎉"
    assert echo("text", s) == s
    u = uuid.uuid4()
    assert echo("uuid", u) == u
    assert echo("jsonb", {"a": [1, "x", None], "b": {"c": True}}) == {
        "a": [1, "x", None],
        "b": {"c": True},
    }
    assert echo("int4[]", [1, 2, 3]) == [1, 2, 3]
    assert echo("interval", datetime.timedelta(days=1, seconds=5)) == datetime.timedelta(
        days=1, seconds=5
    )
    assert echo("date", datetime.date(2020, 2, 29)) == datetime.date(2020, 2, 29)
    # A Valuer goes through the default converter.
    assert echo("text", dbsql.NullString("x", True)) == "x"
    assert echo("text", dbsql.NullString()) is None

    db.exec(
        f"CREATE TABLE {table} (id int8 PRIMARY KEY, ts timestamptz, b bytea, "
        "n numeric, t text, u uuid, j json, nul text)"
    )
    zones = [
        datetime.UTC,
        datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
        datetime.timezone(datetime.timedelta(hours=-8)),
    ]
    for i, tz in enumerate(zones):
        ts = datetime.datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=tz)
        db.exec(
            f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            i,
            ts,
            b"",
            d,
            s,
            u,
            {"k": i},
            None,
        )
    rows = db.query(f"SELECT id, ts, b, n, t, u, j, nul FROM {table} ORDER BY id")
    n = 0
    for row in rows:
        i, ts, b, num, t, uu, j, nul = row
        want = datetime.datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=zones[i])
        assert isinstance(ts, datetime.datetime)
        assert ts.tzinfo is not None
        assert ts == want
        assert (b, num, t, uu, j, nul) == (b"", d, s, u, {"k": i}, None)
        n += 1
    assert n == 3
    # A datetime scans into datetime; numeric into Decimal and str.
    got = db.query_row(f"SELECT ts, n, n FROM {table} WHERE id = 0").scan(
        datetime.datetime, decimal.Decimal, str
    )
    assert got == (datetime.datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC), d, str(d))


def test_unsupported_argument(db: dbsql.DB) -> None:
    class Opaque:
        pass

    with pytest.raises(Exception, match="Opaque"):
        db.query_row("SELECT $1::text", Opaque()).scan(object)


# -- result sets and column types -------------------------------------------


def test_multiple_result_sets(db: dbsql.DB, table: str) -> None:
    rows = db.query(
        f"CREATE TABLE {table} (x int); INSERT INTO {table} VALUES (1), (2); "
        f"SELECT x FROM {table} ORDER BY x; UPDATE {table} SET x = x; SELECT 'a' AS s, 2.5 AS f"
    )
    with rows:
        assert rows.columns() == ["x"]
        got = []
        while rows.next():
            got.append(rows.scan(int)[0])
        assert got == [1, 2]
        assert rows.next_result_set()
        assert rows.columns() == ["s", "f"]
        assert rows.next()
        assert rows.scan(str, decimal.Decimal) == ("a", decimal.Decimal("2.5"))
        assert not rows.next()
        assert not rows.next_result_set()
        assert rows.err() is None


def test_column_types(db: dbsql.DB, table: str) -> None:
    db.exec(
        f"CREATE TABLE {table} (a int4, b int8, c text, d varchar(20), e char(3), "
        "f numeric(10,2), g numeric, h timestamptz, i bytea, j uuid, k jsonb, l bool, "
        "m int4[], n varchar, o float8, p date)"
    )
    rows = db.query(f"SELECT * FROM {table}")
    with rows:
        cts = rows.column_types()
    got = {
        ct.name(): (ct.database_type_name(), ct.length(), ct.decimal_size(), ct.scan_type())
        for ct in cts
    }
    big = (2**63 - 1, True)
    no_len = (0, False)
    no_dec = (0, 0, False)
    assert got == {
        "a": ("INT4", no_len, no_dec, int),
        "b": ("INT8", no_len, no_dec, int),
        "c": ("TEXT", big, no_dec, str),
        "d": ("VARCHAR", (20, True), no_dec, str),
        "e": ("BPCHAR", (3, True), no_dec, str),
        "f": ("NUMERIC", no_len, (10, 2, True), decimal.Decimal),
        "g": ("NUMERIC", no_len, no_dec, decimal.Decimal),
        "h": ("TIMESTAMPTZ", no_len, no_dec, datetime.datetime),
        "i": ("BYTEA", big, no_dec, bytes),
        "j": ("UUID", no_len, no_dec, uuid.UUID),
        "k": ("JSONB", no_len, no_dec, object),
        "l": ("BOOL", no_len, no_dec, bool),
        "m": ("_INT4", no_len, no_dec, list),
        "n": ("VARCHAR", big, no_dec, str),
        "o": ("FLOAT8", no_len, no_dec, float),
        "p": ("DATE", no_len, no_dec, datetime.date),
    }
    assert all(ct.nullable() == (False, False) for ct in cts)


# -- transactions -------------------------------------------------------------


def test_isolation_levels_and_read_only(db: dbsql.DB, table: str) -> None:
    db.exec(f"CREATE TABLE {table} (x int)")
    levels = {
        dbsql.LEVEL_DEFAULT: "read committed",
        dbsql.LEVEL_READ_UNCOMMITTED: "read uncommitted",
        dbsql.LEVEL_READ_COMMITTED: "read committed",
        dbsql.LEVEL_REPEATABLE_READ: "repeatable read",
        dbsql.LEVEL_SERIALIZABLE: "serializable",
    }
    for level, want in levels.items():
        for read_only in (False, True):
            tx = db.begin_tx(context.background(), dbsql.TxOptions(level, read_only))
            try:
                assert tx.query_row("SHOW transaction_isolation").scan(str) == (want,)
                ro = tx.query_row("SHOW transaction_read_only").scan(str)
                assert ro == ("on" if read_only else "off",)
                if read_only:
                    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                        tx.exec(f"INSERT INTO {table} VALUES (1)")
            finally:
                tx.rollback()
    for level, name in (
        (dbsql.LEVEL_WRITE_COMMITTED, "Write Committed"),
        (dbsql.LEVEL_SNAPSHOT, "Snapshot"),
        (dbsql.LEVEL_LINEARIZABLE, "Linearizable"),
    ):
        with pytest.raises(NotImplementedError, match=f"isolation level {name} is not supported"):
            db.begin_tx(context.background(), dbsql.TxOptions(level))
    # Commit and rollback do what they say.
    with db.begin() as tx:
        tx.exec(f"INSERT INTO {table} VALUES (1)")
    tx = db.begin()
    tx.exec(f"INSERT INTO {table} VALUES (2)")
    tx.rollback()
    assert db.query_row(f"SELECT array_agg(x) FROM {table}").scan(object) == ([1],)


def test_commit_of_failed_transaction(db: dbsql.DB) -> None:
    tx = db.begin()
    with pytest.raises(psycopg.errors.DivisionByZero):
        tx.exec("SELECT 1/0")
    with pytest.raises(postgres.CommitRollbackError):
        tx.commit()
    assert db.query_row("SELECT 1").scan(int) == (1,)


# -- cancellation -------------------------------------------------------------


def test_cancel_by_timeout(db: dbsql.DB) -> None:
    db.set_max_open_conns(1)
    pid = backend_pid(db)
    ctx, cancel = context.with_timeout(context.background(), 0.2)
    try:
        start = time.monotonic()
        with pytest.raises(context.DeadlineExceeded) as ei:
            db.query_context(ctx, "SELECT pg_sleep(10)")
        assert time.monotonic() - start < 5
        assert isinstance(ei.value.__cause__, psycopg.errors.QueryCanceled)
    finally:
        cancel()
    # The same connection serves the next query.
    assert backend_pid(db) == pid
    assert db.query_row("SELECT 2").scan(int) == (2,)
    assert db.stats().open_connections == 1
    # A context that has already ended sends nothing.
    ctx2, cancel2 = context.with_timeout(context.background(), 0)
    cancel2()
    with pytest.raises(context.ContextError):
        db.exec_context(ctx2, "SELECT 1")


def test_cancel_inside_transaction(db: dbsql.DB, table: str) -> None:
    db.set_max_open_conns(1)
    db.exec(f"CREATE TABLE {table} (x int)")
    tx = db.begin()
    tx.exec(f"INSERT INTO {table} VALUES (1)")
    ctx, cancel = context.with_timeout(context.background(), 0.2)
    try:
        start = time.monotonic()
        with pytest.raises(context.DeadlineExceeded) as ei:
            tx.exec_context(ctx, "SELECT pg_sleep(10)")
        assert time.monotonic() - start < 5
        assert isinstance(ei.value.__cause__, psycopg.errors.QueryCanceled)
    finally:
        cancel()
    # The transaction is aborted: statements fail, the rollback works.
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        tx.exec("SELECT 1")
    tx.rollback()
    assert db.query_row(f"SELECT count(*) FROM {table}").scan(int) == (0,)


# -- bad connections ------------------------------------------------------------


def terminate(pid: int) -> None:
    with dbsql.open("postgres", DSN) as admin:
        assert admin.query_row("SELECT pg_terminate_backend($1)", pid).scan(bool) == (True,)
        wait_for(
            lambda: (
                admin.query_row("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).scan(
                    int
                )
                == (0,)
            )
        )


def test_terminated_idle_connection_is_replaced(db: dbsql.DB) -> None:
    db.set_max_open_conns(1)
    pid = backend_pid(db)
    terminate(pid)
    # The pool's only connection is dead: BadConnError, then a new connection.
    new_pid = backend_pid(db)
    assert new_pid != pid
    assert db.stats().open_connections == 1
    assert db.query_row("SELECT 1").scan(int) == (1,)


def test_terminated_connection_bad_conn_before_sending(db: dbsql.DB) -> None:
    # A dbsql.Conn does not retry: the driver's BadConnError reaches the caller.
    c = db.conn()
    pid = backend_pid(c)
    terminate(pid)
    with pytest.raises(driver.BadConnError):
        c.exec("SELECT 1")
    # As in Go, a BadConnError closes the dbsql.Conn and discards its connection.
    with pytest.raises(dbsql.ConnDoneError):
        c.close()
    assert backend_pid(db) != pid


def test_connection_broken_mid_query_is_discarded(db: dbsql.DB) -> None:
    db.set_max_open_conns(1)
    pid = backend_pid(db)
    with dbsql.open("postgres", DSN) as admin:
        ctx, cancel = context.with_cancel(context.background())
        try:
            # Terminate the backend while it runs pg_sleep.
            c = db.conn()
            try:

                def killer() -> None:
                    wait_for(
                        lambda: (
                            admin.query_row(
                                "SELECT count(*) FROM pg_stat_activity "
                                "WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'",
                                pid,
                            ).scan(int)
                            == (1,)
                        )
                    )
                    admin.exec("SELECT pg_terminate_backend($1)", pid)

                t = threading.Thread(target=killer)
                t.start()
                with pytest.raises(psycopg.OperationalError) as ei:
                    c.exec_context(ctx, "SELECT pg_sleep(10)")
                t.join()
                # The server's error, not BadConnError: the statement had been sent.
                assert not isinstance(ei.value, driver.BadConnError)
            finally:
                c.close()
        finally:
            cancel()
    # The pool discarded the broken connection.
    assert backend_pid(db) != pid


def test_postgres_ping(db: dbsql.DB) -> None:
    db.ping()
    ctx, cancel = context.with_cancel(context.background())
    db.ping_context(ctx)
    cancel()


# -- results --------------------------------------------------------------------


def test_rows_affected_and_last_insert_id(db: dbsql.DB, table: str) -> None:
    db.exec(f"CREATE TABLE {table} (id serial PRIMARY KEY, x int)")
    res = db.exec(f"INSERT INTO {table} (x) VALUES ($1), ($2), ($3)", 1, 2, 3)
    assert res.rows_affected() == 3
    assert db.exec(f"UPDATE {table} SET x = x + 1 WHERE x >= $1", 2).rows_affected() == 2
    assert db.exec(f"DELETE FROM {table} WHERE x = $1", 99).rows_affected() == 0
    with pytest.raises(
        NotImplementedError, match="postgres: LastInsertId is not supported; use RETURNING"
    ):
        res.last_insert_id()
    assert db.query_row(f"INSERT INTO {table} (x) VALUES (7) RETURNING id").scan(int) == (4,)


def test_prepared_statement(db: dbsql.DB) -> None:
    with pytest.raises(psycopg.errors.SyntaxError):
        db.prepare("SELEC $1")
    with db.prepare("SELECT $1::int * $2::int, '$3'") as stmt:
        for i in range(8):  # reused on its connection
            assert stmt.query_row(i, 3).scan(int, str) == (i * 3, "$3")
        with pytest.raises(dbsql.Error, match="expected 2 arguments, got 1"):
            stmt.exec(1)


def test_reset_session_rolls_back_abandoned_tx(db: dbsql.DB, table: str) -> None:
    db.set_max_open_conns(1)
    db.exec(f"CREATE TABLE {table} (x int)")
    c = db.conn()
    pid = backend_pid(c)
    c.exec("BEGIN")
    c.exec(f"INSERT INTO {table} VALUES (1)")
    c.close()  # back to the pool with the transaction open
    # The same connection, its transaction rolled back.
    assert backend_pid(db) == pid
    assert db.query_row(f"SELECT count(*) FROM {table}").scan(int) == (0,)
    assert db.query_row("SELECT now() = statement_timestamp()").scan(bool) == (True,)


def test_reset_session_clears_session_state(db: dbsql.DB) -> None:
    db.set_max_open_conns(1)
    pid = backend_pid(db)
    # Settings and temporary tables do not reach the next borrower...
    db.exec("SET application_name = 'dbsql_pg_dirty'")
    db.exec("CREATE TEMP TABLE dbsql_pg_tmp (x int)")
    assert db.query_row("SHOW application_name").scan(str) != ("dbsql_pg_dirty",)
    assert db.query_row(
        "SELECT count(*) FROM pg_class WHERE relname = 'dbsql_pg_tmp' AND relpersistence = 't'"
    ).scan(int) == (0,)
    # ...and the connection, its prepared statements re-made, is the same one.
    with db.prepare("SELECT $1::int + 1") as stmt:
        for i in range(7):
            assert stmt.query_row(i).scan(int) == (i + 1,)
            assert db.query_row("SELECT $1::int * 2", i).scan(int) == (i * 2,)
            db.exec("SET search_path = public")
    assert backend_pid(db) == pid
    # Within one dbsql.Conn the session is the caller's.
    with db.conn() as c:
        c.exec("SET application_name = 'dbsql_pg_pinned'")
        assert c.query_row("SHOW application_name").scan(str) == ("dbsql_pg_pinned",)


def test_lexer() -> None:
    p = postgres._parse
    assert p(
        "SELECT $1, '$2', \"$3\", $$ $4 $$, $a$ $5 $a$, E'\\' $6', x$7 -- $8\n/* /* $9 */ */ $10"
    ).parts == (
        "SELECT ",
        1,
        ", '$2', \"$3\", $$ $4 $$, $a$ $5 $a$, E'\\' $6', x$7 -- $8\n/* /* $9 */ */ ",
        10,
    )
    assert p("SELECT '%', $1").parts == ("SELECT '%%', ", 1)
    assert p("SELECT @a, @_b1, a @> b, a<@b, @@c, @ 1").parts == (
        "SELECT ",
        ("a", "@a"),
        ", ",
        ("_b1", "@_b1"),
        ", a @> b, a<@b, @@c, @ 1",
    )
    assert postgres._translate("SELECT $2, $1, $2", False).text == "SELECT %(p2)s, %(p1)s, %(p2)s"
    assert postgres._translate("SELECT $1, $2 % 3", False).text == "SELECT %s, %s %% 3"
    assert postgres._translate("SELECT @a, @b", False).text == "SELECT @a, @b"
    assert postgres._translate("SELECT @a, $1", True).text == "SELECT %(@a)s, %(p1)s"
    for q in (
        "SET x = 1",
        "select 1; set role r",
        "CREATE TEMP TABLE t (x int)",
        "SELECT set_config('a.b', 'c', false)",
        "LISTEN ch",
        "DO $$ BEGIN END $$",
        'SET "x.y" = 1',
    ):
        assert p(q).session, q
    for q in ("SELECT 1", "SET LOCAL x = 1", "UPDATE t SET x = 1", "SELECT 'temp'", "RESET ALL"):
        assert not p(q).session, q


# -- DSN ------------------------------------------------------------------------


def full_text(e: BaseException) -> str:
    """The error as a traceback shows it, with its causes, contexts and args."""
    out = "".join(traceback.format_exception(e))
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out += repr(cur) + repr(cur.args)
        cur = cur.__cause__ or cur.__context__
    return out


def test_dsn_password_redaction() -> None:
    url = f"postgresql://someone:{FAKE_PASSWORD}@127.0.0.1:1/test?connect_timeout=2"
    kv = f"host=127.0.0.1 port=1 user=someone password='{FAKE_PASSWORD}' connect_timeout=2"
    for dsn in (url, kv):
        db = dbsql.open("postgres", dsn)
        try:
            assert FAKE_PASSWORD not in repr(db)
            assert FAKE_PASSWORD not in repr(db._connector)
            assert "xxxxx" in repr(db._connector)
            with pytest.raises(psycopg.OperationalError) as ei:
                db.ping()
            assert FAKE_PASSWORD not in full_text(ei.value)
        finally:
            db.close()
    # A DSN that does not parse: libpq's message may quote it.
    for bad in (
        f"postgresql://someone:{FAKE_PASSWORD}@[::1",
        f"host=x password={FAKE_PASSWORD} oops",
        f"postgresql://u@h/db?password={FAKE_PASSWORD}&bogus=1",
    ):
        with pytest.raises(ValueError, match="postgres: invalid DSN") as vi:
            dbsql.open("postgres", bad)
        assert FAKE_PASSWORD not in full_text(vi.value)


def test_dsn_forms(db: dbsql.DB) -> None:
    params = psycopg.conninfo.conninfo_to_dict(DSN)
    user = quote(str(params.get("user", "postgres")), safe="")
    if params.get("password"):
        user += ":" + quote(str(params["password"]), safe="")
    url = "postgresql://{user}@{host}:{port}/{dbname}".format(
        user=user,
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", "5432"),
        dbname=params.get("dbname", "test"),
    )
    for dsn in (url, url.replace("postgresql://", "postgres://", 1)):
        with dbsql.open("postgres", dsn) as other:
            assert other.query_row("SELECT current_database()").scan(str) == (
                params.get("dbname", "test"),
            )


# -- next_batch (driver.RowsNextBatch) and the per-query path -----------------


def pg_conn() -> Any:
    """A driver connection of its own (not from a pool)."""
    return postgres.PostgresDriver().open(DSN)


def test_next_batch_matches_next(db: dbsql.DB, table: str) -> None:
    bg = context.background()
    c = pg_conn()
    try:
        c.exec_context(
            bg,
            f"CREATE TABLE {table} (i int, t text, f float8, b bool, n numeric(10,2), "
            "ts timestamptz, d date, u uuid, j jsonb, a int[], by bytea)",
            [],
        )
        u = uuid.UUID("12345678-1234-5678-1234-567812345678")
        ts = datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
        values: list[tuple[Any, ...]] = [
            (
                0,
                "a",
                1.5,
                True,
                decimal.Decimal("1.25"),
                ts,
                datetime.date(2024, 2, 29),
                u,
                {"k": [1, 2]},
                [1, 2],
                b"\x00\x01",
            ),
            (1, "", -0.5, False, decimal.Decimal("-3.00"), None, None, None, None, [], b""),
            (2, None, None, None, None, None, None, None, None, None, None),
        ]
        for v in values:
            args = [driver.NamedValue("", k, x) for k, x in enumerate(v, 1)]
            for nv in args:
                c.check_named_value(nv)  # a dict becomes jsonb, as through dbsql
            c.exec_context(
                bg,
                f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                args,
            )
        for i in range(3, 40):
            c.exec_context(
                bg,
                f"INSERT INTO {table} (i, t) VALUES ($1, $2)",
                [driver.NamedValue("", 1, i), driver.NamedValue("", 2, f"t{i}")],
            )
        q = f"SELECT * FROM {table} ORDER BY i"
        rows = c.query_context(bg, q, [])
        assert isinstance(rows, driver.RowsNextBatch)
        want = drain_next(rows)
        rows.close()
        assert len(want) == 40
        assert want[0] == values[0]
        assert want[2] == values[2]
        for size in (1, 7, 40, 1000):
            rows = c.query_context(bg, q, [])
            assert drain_batches(rows, size) == want
            assert rows.next_batch(size) == []  # the end stays the end
            rows.close()
        # Rows taken with next first: next_batch hands out the others.
        rows = c.query_context(bg, q, [])
        dest: list[Any] = [None] * len(rows.columns())
        rows.next(dest)
        assert tuple(dest) == want[0]
        assert drain_batches(rows, 16) == want[1:]
        with pytest.raises(ValueError, match="max_rows"):
            rows.next_batch(0)
        rows.close()
        assert rows.next_batch(5) == []  # closed rows are at their end
    finally:
        c.close()


def test_next_batch_multiple_result_sets() -> None:
    bg = context.background()
    c = pg_conn()
    try:
        rows = c.query_context(
            bg,
            "SELECT 1 AS a UNION ALL SELECT 2; SELECT 3 WHERE false; SET LOCAL work_mem = '4MB'; "
            "SELECT 'x'::varchar(10) AS b, 2.5::numeric(4,2) AS c",
            [],
        )
        assert rows.columns() == ["a"]
        assert rows.next_batch(1) == [(1,)]
        assert rows.next_batch(5) == [(2,)]
        assert rows.next_batch(5) == []
        # After the empty list, as after EOFError from next.
        assert rows.has_next_result_set()
        # The set just read still describes itself while the next one waits.
        assert rows.columns() == ["a"]
        assert rows.column_type_database_type_name(0) == "INT4"
        rows.next_result_set()
        assert rows.columns() == ["?column?"]
        assert rows.next_batch(5) == []  # a result set without rows
        assert rows.has_next_result_set()
        rows.next_result_set()
        assert rows.columns() == ["b", "c"]
        assert rows.column_type_length(0) == (10, True)
        assert rows.column_type_precision_scale(1) == (4, 2, True)
        assert rows.next_batch(5) == [("x", decimal.Decimal("2.50"))]
        assert rows.next_batch(5) == []
        assert not rows.has_next_result_set()
        with pytest.raises(EOFError):
            rows.next_result_set()
        rows.close()
        # The connection (and the cursor it keeps for the next statement) is clean.
        rows = c.query_context(bg, "SELECT $1::int + 1", [driver.NamedValue("", 1, 41)])
        assert rows.columns() == ["?column?"]
        assert rows.next_batch(5) == [(42,)]
        rows.close()
    finally:
        c.close()


def test_next_batch_cancelled_between_batches() -> None:
    bg = context.background()
    c = pg_conn()
    try:
        ctx, cancel = context.with_cancel(bg)
        rows = c.query_context(ctx, "SELECT generate_series(1, 1000) AS x", [])
        assert rows.next_batch(100) == [(i,) for i in range(1, 101)]
        cancel()
        # The whole result was received when the statement ran: the rows keep
        # coming from memory (as with next) and nothing reaches the server; the
        # next statement under the ended context is not sent.
        assert drain_batches(rows, 300) == [(i,) for i in range(101, 1001)]
        rows.close()
        with pytest.raises(context.Canceled):
            c.query_context(ctx, "SELECT 1", [])
        rows = c.query_context(bg, "SELECT 4", [])
        assert rows.next_batch(5) == [(4,)]
        rows.close()
        assert c.is_valid()
    finally:
        c.close()


def count_polls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one at each idle poll (Conn._server_closed)."""
    polls: list[int] = []
    server_closed = postgres.Conn._server_closed

    def counting(self: postgres.Conn) -> bool:
        polls.append(1)
        return server_closed(self)

    monkeypatch.setattr(postgres.Conn, "_server_closed", counting)
    return polls


def test_idle_poll_once_per_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    bg = context.background()
    c = pg_conn()
    try:
        polls = count_polls(monkeypatch)
        # No answer stands for a poll (_HEARD_FRESH 0): one poll per statement.
        monkeypatch.setattr(postgres, "_HEARD_FRESH", 0.0)
        c.reset_session(bg)
        assert len(polls) == 1
        # reset_session's poll serves the statement that follows it.
        c.query_context(bg, "SELECT 1", []).close()
        assert len(polls) == 1
        # The next one polls again.
        c.query_context(bg, "SELECT 1", []).close()
        assert len(polls) == 2
        tx = c.begin_tx(bg, driver.TxOptions())
        assert len(polls) == 3
        tx.commit()
        assert len(polls) == 4

        # An answer just received stands for a poll (here: however long ago).
        monkeypatch.setattr(postgres, "_HEARD_FRESH", 3600.0)
        c.reset_session(bg)
        c.query_context(bg, "SELECT 1", []).close()
        tx = c.begin_tx(bg, driver.TxOptions())
        tx.commit()
        assert len(polls) == 4
        # What the server announced without a poll still counts.
        c._terminating[0] = True
        with pytest.raises(driver.BadConnError):
            c.reset_session(bg)
        assert not c.is_valid()
        assert len(polls) == 4
    finally:
        c.close()


def test_idle_poll_after_heard_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the default _HEARD_FRESH (1 ms): a connection whose last answer is
    # older than that is polled at checkout; one that just answered is not.
    bg = context.background()
    c = pg_conn()
    try:
        polls = count_polls(monkeypatch)
        c.query_context(bg, "SELECT 1", []).close()
        n = len(polls)
        c._heard_at -= 10.0  # (as if the answer came ten seconds ago)
        c.reset_session(bg)
        assert len(polls) == n + 1
        c._heard_at = time.monotonic() + 3600.0  # (an answer that is still fresh)
        c.reset_session(bg)
        assert len(polls) == n + 1
    finally:
        c.close()


def test_terminated_after_reset_session_is_bad_conn() -> None:
    bg = context.background()
    c = pg_conn()
    try:
        rows = c.query_context(bg, "SELECT pg_backend_pid()", [])
        ((pid,),) = rows.next_batch(1)
        rows.close()
        c.reset_session(bg)
        reset_at = time.monotonic()
        terminate(pid)
        # Once reset_session's poll is too old to serve it, the statement polls
        # and sees the connection closed: it is not sent.
        wait_for(lambda: time.monotonic() > reset_at + postgres._POLL_FRESH)
        with pytest.raises(driver.BadConnError):
            c.query_context(bg, "SELECT 1", [])
        assert not c.is_valid()
    finally:
        c.close()


# -- query_row in one driver call (driver.QueryerRowContext, beyond Go) --------


def test_query_row_reads_in_one_call(db: dbsql.DB, table: str) -> None:
    db.exec(f"CREATE TABLE {table} (id int PRIMARY KEY, name text)")
    db.exec(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
    check_query_row_in_one_call(db, table, "$1")
    # A failing query: the error is deferred to scan, the connection kept.
    row = db.query_row(f"SELECT nope FROM {table}")
    with pytest.raises(psycopg.errors.UndefinedColumn):
        row.scan(int)
    assert db.stats().open_connections == 1


def test_query_row_first_result_with_columns(db: dbsql.DB) -> None:
    # Several statements: the row is the first of the first result set with
    # columns, as Rows reads it; its column names are that result's.
    row = db.query_row("CREATE TEMP TABLE qr_t (a int); SELECT 'x' AS word, 5 AS five")
    assert row.scan(str, int) == ("x", 5)
    with pytest.raises(dbsql.ScanError, match=r'name "word"'):
        db.query_row("CREATE TEMP TABLE qr_u (a int); SELECT 'x' AS word").scan(int)
    with pytest.raises(dbsql.NoRowsError):
        db.query_row("CREATE TEMP TABLE qr_v (a int)").scan(int)


def test_query_row_columns_keeps_at_most_one_row() -> None:
    # The names of a many-row result are read at once and the result dropped; a
    # one-row result is kept for them only until the connection's next statement.
    bg = context.background()
    c = pg_conn()
    try:
        assert c.query_row_context(bg, "SELECT n, n * 2 AS m FROM generate_series(1, 3) n", []) == (
            1,
            2,
        )
        assert c._row_res is None
        assert c.query_row_columns() == ["n", "m"]
        assert c.query_row_context(bg, "SELECT 7 AS seven", []) == (7,)
        assert c._row_res is not None
        assert c.query_row_columns() == ["seven"]
        assert c._row_res is None
        assert c.query_row_context(bg, "SELECT 8 AS eight WHERE false", []) is None
        assert c.query_row_columns() == ["eight"]
        c.query_row_context(bg, "SELECT 9 AS nine", [])
        c.query_context(bg, "SELECT 1", []).close()
        assert c._row_res is None  # (dropped by the next statement)
        # The statement's variant, on the connection's own names.
        stmt = c.prepare("SELECT $1::int AS v")
        assert stmt.query_row_context(bg, [driver.NamedValue("", 1, 4)]) == (4,)
        assert stmt.query_row_columns() == ["v"]
        stmt.close()
        assert c.is_valid()
    finally:
        c.close()
