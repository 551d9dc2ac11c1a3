"""Tests of dbsql's embedded sqlite3 driver, through ``dbsql.open("sqlite3", ...)``."""

from __future__ import annotations

import datetime
import decimal
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import dbsql
from dbsql import context, driver
from dbsql.context import Canceled, DeadlineExceeded
from dbsql.drivertest import drain_batches, drain_next

# A query that runs for minutes unless interrupted.
LONG_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT count(*) FROM c"
)
# Its first 500 rows come at once, the next one after minutes.
SLOW_LATER_ROWS = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT x FROM c WHERE x <= 500 OR x % 900000000 = 0"
)
# How long an interrupted statement may take to return on a loaded machine.
PROMPT = 10.0


@pytest.fixture
def mem() -> Iterator[dbsql.DB]:
    db = dbsql.open("sqlite3", ":memory:")
    yield db
    db.close()


def driver_module(db: dbsql.DB) -> ModuleType:
    """The driver's module, as dbsql.open imported it."""
    return sys.modules[type(db.driver()).__module__]


def wait_for(cond: Any, timeout: float = PROMPT) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


# --- DSN ---------------------------------------------------------------------


def test_file_database(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = dbsql.open("sqlite3", str(path))
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    db.exec("INSERT INTO t (name) VALUES (?)", "a")
    db.close()
    assert path.exists()
    db = dbsql.open("sqlite3", str(path))
    assert db.query_row("SELECT name FROM t").scan(str) == ("a",)
    db.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM t").fetchone() == (1,)
    raw.close()


def test_memory_shared_by_pool_connections(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(3)
    c1 = mem.conn()
    c2 = mem.conn()
    c3 = mem.conn()
    try:
        c1.exec("CREATE TABLE shared (x INTEGER)")
        c1.exec("INSERT INTO shared VALUES (42)")
        assert c2.query_row("SELECT x FROM shared").scan(int) == (42,)
        c3.exec("INSERT INTO shared VALUES (43)")
        assert c1.query_row("SELECT count(*) FROM shared").scan(int) == (2,)
        assert mem.stats().open_connections == 3
    finally:
        c1.close()
        c2.close()
        c3.close()


def test_memory_outlives_idle_connections(mem: dbsql.DB) -> None:
    # No idle connections: each one closes after use, the connector keeps the data.
    mem.set_max_idle_conns(0)
    mem.exec("CREATE TABLE kept (x INTEGER)")
    mem.exec("INSERT INTO kept VALUES (1)")
    assert mem.stats().open_connections == 0
    assert mem.query_row("SELECT count(*) FROM kept").scan(int) == (1,)


def test_memory_databases_are_separate(mem: dbsql.DB) -> None:
    other = dbsql.open("sqlite3", ":memory:")
    try:
        mem.exec("CREATE TABLE only_here (x INTEGER)")
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            other.exec("SELECT * FROM only_here")
        other.exec("CREATE TABLE only_here (y TEXT)")  # no clash
    finally:
        other.close()


def test_memory_shared_cache_fallback(monkeypatch: pytest.MonkeyPatch, mem: dbsql.DB) -> None:
    # Where SQLite has no memdb VFS the driver uses a shared-cache memory database.
    monkeypatch.setattr(driver_module(mem), "_memdb", False)
    db = dbsql.open("sqlite3", ":memory:")
    try:
        db.set_max_idle_conns(0)
        c1 = db.conn()
        c2 = db.conn()
        try:
            c1.exec("CREATE TABLE s (x INTEGER)")
            c1.exec("INSERT INTO s VALUES (7)")
            assert c2.query_row("SELECT x FROM s").scan(int) == (7,)
        finally:
            c1.close()
            c2.close()
        assert db.query_row("SELECT x FROM s").scan(int) == (7,)
    finally:
        db.close()


def test_named_memory_uri_is_shared(mem: dbsql.DB) -> None:
    name = f"dbsql-test-{uuid.uuid4().hex}"
    db = dbsql.open("sqlite3", f"file:{name}?mode=memory")
    try:
        db.set_max_idle_conns(0)
        c1 = db.conn()
        c2 = db.conn()
        try:
            c1.exec("CREATE TABLE n (x INTEGER)")
            assert c2.query_row("SELECT count(*) FROM n").scan(int) == (0,)
        finally:
            c1.close()
            c2.close()
        assert db.query_row("SELECT count(*) FROM n").scan(int) == (0,)
    finally:
        db.close()


def test_uri_options(tmp_path: Path) -> None:
    path = tmp_path / "opts.db"
    dsn = (
        f"file:{path}?_busy_timeout=1234&_foreign_keys=on&_journal_mode=WAL"
        "&_synchronous=NORMAL&_pragma=cache_size(-1234)&unknown_sqlite_option=1"
    )
    db = dbsql.open("sqlite3", dsn)
    try:
        db.set_max_open_conns(2)
        c1 = db.conn()
        c2 = db.conn()
        try:
            for c in (c1, c2):  # every connection is set up
                assert c.query_row("PRAGMA busy_timeout").scan(int) == (1234,)
                assert c.query_row("PRAGMA foreign_keys").scan(int) == (1,)
                assert c.query_row("PRAGMA journal_mode").scan(str) == ("wal",)
                assert c.query_row("PRAGMA synchronous").scan(int) == (1,)
                assert c.query_row("PRAGMA cache_size").scan(int) == (-1234,)
            c1.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            c1.exec("CREATE TABLE child (pid INTEGER REFERENCES parent(id))")
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                c2.exec("INSERT INTO child VALUES (99)")
        finally:
            c1.close()
            c2.close()
    finally:
        db.close()


def test_option_aliases_and_defaults(tmp_path: Path) -> None:
    db = dbsql.open("sqlite3", str(tmp_path / "a.db"))
    try:
        assert db.query_row("PRAGMA busy_timeout").scan(int) == (5000,)
        assert db.query_row("PRAGMA foreign_keys").scan(int) == (0,)
    finally:
        db.close()
    # mattn/go-sqlite3's names, on a plain path.
    db = dbsql.open("sqlite3", f"{tmp_path / 'b.db'}?_timeout=10&_fk=1&_journal=truncate&_sync=0")
    try:
        assert db.query_row("PRAGMA busy_timeout").scan(int) == (10,)
        assert db.query_row("PRAGMA foreign_keys").scan(int) == (1,)
        assert db.query_row("PRAGMA journal_mode").scan(str) == ("truncate",)
        assert db.query_row("PRAGMA synchronous").scan(int) == (0,)
    finally:
        db.close()


def test_read_only_mode(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    db = dbsql.open("sqlite3", str(path))
    db.exec("CREATE TABLE t (x INTEGER)")
    db.close()
    for dsn in (f"file:{path}?mode=ro", f"{path}?mode=ro"):
        ro = dbsql.open("sqlite3", dsn)
        try:
            assert ro.query_row("SELECT count(*) FROM t").scan(int) == (0,)
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                ro.exec("INSERT INTO t VALUES (1)")
        finally:
            ro.close()


def test_txlock_immediate(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    db = dbsql.open("sqlite3", f"file:{path}?_txlock=immediate&_busy_timeout=0")
    other = dbsql.open("sqlite3", f"file:{path}?_busy_timeout=0")
    try:
        db.exec("CREATE TABLE t (x INTEGER)")
        tx = db.begin()
        # BEGIN IMMEDIATE took the write lock before any write.
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.exec("INSERT INTO t VALUES (1)")
        tx.rollback()
        other.exec("INSERT INTO t VALUES (1)")
        # A read-only transaction does not take the write lock.
        ro = db.begin_tx(context.background(), dbsql.TxOptions(read_only=True))
        other.exec("INSERT INTO t VALUES (2)")
        ro.rollback()
    finally:
        other.close()
        db.close()


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("x.db?_busy_timeout=soon", r"_busy_timeout='soon'"),
        ("x.db?_busy_timeout=-1", r"_busy_timeout='-1'"),
        ("file:x.db?_foreign_keys=maybe", r"_foreign_keys='maybe'"),
        ("x.db?_journal_mode=fast", r"_journal_mode='fast'"),
        ("x.db?_synchronous=9", r"_synchronous='9'"),
        ("x.db?_txlock=later", r"_txlock='later'"),
        ("x.db?_pragma=a;drop", r"_pragma='a;drop'"),
        ("file:x.db?mode=rwx", r"mode='rwx'"),
        ("file:x.db?cache=big", r"cache='big'"),
        (":memory:?_secret_key=hunter2", r"unknown DSN option '_secret_key'"),
        ("", "empty DSN"),
    ],
)
def test_bad_dsn(dsn: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        dbsql.open("sqlite3", dsn)
    assert "hunter2" not in str(info.value)


# --- transactions --------------------------------------------------------------


def test_read_only_tx_rejects_writes(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    mem.exec("CREATE TABLE t (ts DATETIME)")
    mem.exec("INSERT INTO t VALUES ('2024-05-06 07:08:09')")
    tx = mem.begin_tx(context.background(), dbsql.TxOptions(read_only=True))
    # Reads work, with declared types learned inside the read-only transaction.
    assert tx.query_row("SELECT ts FROM t").scan(object) == (
        datetime.datetime(2024, 5, 6, 7, 8, 9),
    )
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        tx.exec("INSERT INTO t VALUES (NULL)")
    tx.commit()
    # query_only is restored after the transaction.
    mem.exec("INSERT INTO t VALUES (NULL)")
    assert mem.query_row("SELECT count(*) FROM t").scan(int) == (2,)


def test_isolation_levels(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE t (x INTEGER)")
    bg = context.background()
    for level in (dbsql.LEVEL_DEFAULT, dbsql.LEVEL_SERIALIZABLE, dbsql.LEVEL_READ_UNCOMMITTED):
        tx = mem.begin_tx(bg, dbsql.TxOptions(isolation=level))
        tx.exec("INSERT INTO t VALUES (1)")
        tx.commit()
    assert mem.query_row("SELECT count(*) FROM t").scan(int) == (3,)
    assert mem.query_row("PRAGMA read_uncommitted").scan(int) == (0,)
    for level, name in [
        (dbsql.LEVEL_READ_COMMITTED, "Read Committed"),
        (dbsql.LEVEL_WRITE_COMMITTED, "Write Committed"),
        (dbsql.LEVEL_REPEATABLE_READ, "Repeatable Read"),
        (dbsql.LEVEL_SNAPSHOT, "Snapshot"),
        (dbsql.LEVEL_LINEARIZABLE, "Linearizable"),
    ]:
        with pytest.raises(NotImplementedError, match=f"sqlite3: isolation level {name} is not"):
            mem.begin_tx(bg, dbsql.TxOptions(isolation=level))
    # The refused transactions left nothing behind.
    assert mem.stats().in_use == 0
    mem.exec("INSERT INTO t VALUES (1)")


def test_with_begin_commits_and_rolls_back(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE t (x INTEGER)")
    with mem.begin() as tx:
        tx.exec("INSERT INTO t VALUES (1)")
    assert mem.query_row("SELECT count(*) FROM t").scan(int) == (1,)
    with pytest.raises(RuntimeError, match="boom"), mem.begin() as tx:
        tx.exec("INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    assert mem.query_row("SELECT count(*) FROM t").scan(int) == (1,)
    with pytest.raises(dbsql.TxDoneError):
        tx.commit()


def test_tx_isolated_from_other_connections(tmp_path: Path) -> None:
    db = dbsql.open("sqlite3", f"{tmp_path / 'iso.db'}?_journal_mode=WAL")
    try:
        db.exec("CREATE TABLE t (x INTEGER)")
        tx = db.begin()
        tx.exec("INSERT INTO t VALUES (1)")
        assert db.query_row("SELECT count(*) FROM t").scan(int) == (0,)
        assert tx.query_row("SELECT count(*) FROM t").scan(int) == (1,)
        tx.commit()
        assert db.query_row("SELECT count(*) FROM t").scan(int) == (1,)
    finally:
        db.close()


def test_reset_session_rolls_back_abandoned_tx(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    mem.exec("CREATE TABLE t (x INTEGER)")
    c = mem.conn()
    c.exec("BEGIN")
    c.exec("INSERT INTO t VALUES (1)")
    c.close()  # back to the pool inside a transaction
    assert mem.query_row("SELECT count(*) FROM t").scan(int) == (0,)
    with mem.conn() as c2:
        assert c2.raw(lambda dc: dc._db.in_transaction) is False


def test_reset_session_drops_temp_tables(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    with mem.conn() as c:
        c.exec("CREATE TEMP TABLE scratch (x INTEGER)")
        c.exec("CREATE TEMP VIEW scratch_v AS SELECT x FROM scratch")
    with mem.conn() as c:
        assert c.query_row("SELECT count(*) FROM sqlite_temp_master").scan(int) == (0,)
        c.exec("CREATE TEMP TABLE scratch (y TEXT)")  # the name is free again


def test_commit_after_interrupted_write_reports_it(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    mem.exec("CREATE TABLE t (x INTEGER)")
    tx = mem.begin()
    tx.exec("INSERT INTO t VALUES (1)")
    ctx, cancel = context.with_timeout(context.background(), 0.05)
    with pytest.raises(DeadlineExceeded):
        tx.exec_context(ctx, "INSERT INTO t " + LONG_QUERY)
    cancel()
    # SQLite rolled the whole transaction back: commit says so.
    with pytest.raises(sqlite3.OperationalError, match="no transaction is active"):
        tx.commit()
    assert mem.query_row("SELECT count(*) FROM t").scan(int) == (0,)


# --- cancellation --------------------------------------------------------------


def test_timeout_interrupts_long_query(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    ctx, cancel = context.with_timeout(context.background(), 0.2)
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        mem.query_row_context(ctx, LONG_QUERY).scan(int)
    elapsed = time.monotonic() - start
    cancel()
    assert elapsed < PROMPT
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    # The same connection serves the next query.
    assert mem.query_row("SELECT 1").scan(int) == (1,)
    assert mem.stats().open_connections == 1


def test_timeout_interrupts_exec(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    mem.exec("CREATE TABLE t (n INTEGER)")
    ctx, cancel = context.with_timeout(context.background(), 0.1)
    with pytest.raises(DeadlineExceeded):
        mem.exec_context(ctx, "INSERT INTO t " + LONG_QUERY)
    cancel()
    assert mem.query_row("SELECT count(*) FROM t").scan(int) == (0,)
    assert mem.exec("INSERT INTO t VALUES (1)").rows_affected() == 1


def test_cancel_interrupts_long_query(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    ctx, cancel = context.with_cancel(context.background())
    # The query runs for minutes: whenever the cancel lands, it must interrupt it.
    timer = threading.Timer(0.1, cancel)
    timer.start()
    try:
        with pytest.raises(Canceled):
            mem.query_row_context(ctx, LONG_QUERY).scan(int)
    finally:
        timer.cancel()
    assert mem.query_row("SELECT 2").scan(int) == (2,)


def test_cancel_interrupts_fetch(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    ctx, cancel = context.with_timeout(context.background(), 0.3)
    rows = mem.query_context(ctx, SLOW_LATER_ROWS)
    start = time.monotonic()
    n = 0
    while rows.next():  # a later batch waits for row 501: the deadline cuts it short
        n += 1
        assert rows.scan(int) == (n,)
    assert time.monotonic() - start < PROMPT
    assert 1 <= n < 500
    assert isinstance(rows.err(), DeadlineExceeded)
    cancel()
    assert mem.query_row("SELECT 3").scan(int) == (3,)


def test_timeout_interrupts_later_statement(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    ctx, cancel = context.with_timeout(context.background(), 0.3)
    rows = mem.query_context(ctx, "SELECT 1; " + LONG_QUERY)
    assert rows.next()
    assert rows.scan(int) == (1,)
    start = time.monotonic()
    assert not rows.next()  # moving on runs the long statement: the deadline cuts it short
    assert not rows.next_result_set()
    assert time.monotonic() - start < PROMPT
    assert isinstance(rows.err(), DeadlineExceeded)
    rows.close()
    cancel()
    assert mem.query_row("SELECT 6").scan(int) == (6,)


def test_context_checked_between_batches(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    ctx, cancel = context.with_cancel(context.background())
    rows = mem.query_context(
        ctx,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) "
        "SELECT x FROM c",
    )
    assert rows.next()
    cancel()
    n = 0
    while rows.next():
        n += 1
    assert n < 100000
    assert isinstance(rows.err(), Canceled)
    assert mem.query_row("SELECT 4").scan(int) == (4,)


def test_cancelled_before_start(mem: dbsql.DB) -> None:
    ctx, cancel = context.with_cancel(context.background())
    cancel()
    with pytest.raises(Canceled):
        mem.exec_context(ctx, "CREATE TABLE never (x INTEGER)")
    with pytest.raises(Canceled):
        mem.query_context(ctx, "SELECT 1")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        mem.exec("SELECT * FROM never")


# --- values --------------------------------------------------------------------


def test_null_and_type_round_trips(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE v (id INTEGER PRIMARY KEY, val)")
    values: list[Any] = [
        None,
        0,
        -(2**63),
        2**63 - 1,
        1.5,
        -0.25,
        float("inf"),
        "",
        "héllo wörld ✓ 𝄞 中文",
        b"",
        b"\x00\x01\xff",
    ]
    for v in values:
        mem.exec("INSERT INTO v (val) VALUES (?)", v)
    rows = mem.query("SELECT val, typeof(val) FROM v ORDER BY id")
    got = list(rows)
    assert [r[0] for r in got] == values
    assert [type(r[0]) for r in got] == [type(v) for v in values]
    assert [r[1] for r in got] == [
        "null",
        "integer",
        "integer",
        "integer",
        "real",
        "real",
        "real",
        "text",
        "text",
        "blob",
        "blob",
    ]
    # Scanning into typed destinations.
    assert mem.query_row("SELECT val FROM v WHERE id = 3").scan(int) == (-(2**63),)
    assert mem.query_row("SELECT val FROM v WHERE id = 1").scan(int | None) == (None,)
    assert mem.query_row("SELECT val FROM v WHERE id = 10").scan(bytes) == (b"",)


def test_argument_conversions(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE a (val)")
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    cases: list[tuple[Any, Any]] = [
        (True, 1),
        (False, 0),
        (bytearray(b"ab"), b"ab"),
        (memoryview(b"cd"), b"cd"),
        (decimal.Decimal("12.50"), "12.50"),
        (u, str(u)),
        (datetime.date(2024, 2, 29), "2024-02-29"),
        (datetime.time(13, 14, 15, 16), "13:14:15.000016"),
        (datetime.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (datetime.datetime(2024, 1, 2, 3, 4, 5, 6000), "2024-01-02 03:04:05.006000"),
        (
            datetime.datetime(
                2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
            "2024-01-02 03:04:05+02:00",
        ),
        (dbsql.NullString("x", True), "x"),
        (dbsql.NullString(), None),
        (dbsql.NullTime(datetime.datetime(2020, 1, 1), True), "2020-01-01 00:00:00"),
        (dbsql.NullBool(True, True), 1),
    ]
    for arg, want in cases:
        got = mem.query_row("SELECT ?", arg).scan(object)
        assert got == (want,), arg
    with pytest.raises(dbsql.ConversionError, match="64 bits"):
        mem.exec("INSERT INTO a VALUES (?)", 2**63)
    with pytest.raises(dbsql.ConversionError, match="unsupported type"):
        mem.exec("INSERT INTO a VALUES (?)", [1, 2])
    # Date functions understand the stored text.
    t = datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert mem.query_row("SELECT date(?, '+1 day')", t).scan(str) == ("2024-01-03",)


def test_declared_time_and_bool_columns(mem: dbsql.DB) -> None:
    mem.exec(
        "CREATE TABLE e (id INTEGER PRIMARY KEY, d DATE, dt DATETIME, ts TIMESTAMP,"
        " flag BOOLEAN, note TEXT)"
    )
    naive = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456)
    aware = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    mem.exec(
        "INSERT INTO e (d, dt, ts, flag, note) VALUES (?, ?, ?, ?, ?)",
        datetime.date(2024, 1, 2),
        naive,
        aware,
        True,
        "2024-01-02",
    )
    mem.exec(
        "INSERT INTO e (d, dt, ts, flag, note) VALUES ('not a date', 1700000000, 1700000000123, 0, NULL)"
    )
    mem.exec("INSERT INTO e (d, dt, ts, flag) VALUES (NULL, '2024-01-02T03:04:05Z', 2.5, NULL)")
    rows = list(mem.query("SELECT d, dt, ts, flag, note FROM e ORDER BY id"))
    assert rows[0] == (datetime.datetime(2024, 1, 2), naive, aware, True, "2024-01-02")
    assert rows[1] == (
        "not a date",  # text that does not parse stays text
        datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.UTC),
        datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.UTC),
        False,
        None,
    )
    assert rows[2] == (None, aware, 2.5, None, None)
    # A datetime destination works for declared columns.
    assert mem.query_row("SELECT dt FROM e WHERE id = 1").scan(datetime.datetime) == (naive,)
    # Expressions have no declared type: text stays text.
    assert mem.query_row("SELECT dt || '' FROM e WHERE id = 1").scan(object) == (
        "2024-01-02 03:04:05.123456",
    )


def test_declared_bool_column_of_ints_and_of_mixed_values(mem: dbsql.DB) -> None:
    # A BOOLEAN column holding only integers is converted in one pass (v > 0, as
    # for any integer); one holding anything else value by value, as before.
    mem.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, flag BOOLEAN)")
    for v in (1, 0, 2, -1):
        mem.exec("INSERT INTO b (flag) VALUES (?)", v)
    q = "SELECT flag FROM b ORDER BY id"
    want_ints = [(True,), (False,), (True,), (False,)]
    assert list(mem.query(q)) == want_ints
    assert all(type(v) is bool for (v,) in mem.query(q))
    for other in (None, 2.5, "yes", b"\x01"):
        mem.exec("INSERT INTO b (flag) VALUES (?)", other)
    got = list(mem.query(q))
    assert got == [*want_ints, (None,), (2.5,), ("yes",), (b"\x01",)]
    assert [type(v) for (v,) in got[:4]] == [bool] * 4
    assert type(got[5][0]) is float


def test_declared_types_follow_schema_changes(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE s (v TEXT)")
    mem.exec("INSERT INTO s VALUES ('2024-01-02')")
    assert mem.query_row("SELECT v FROM s").scan(object) == ("2024-01-02",)
    mem.exec("DROP TABLE s")
    mem.exec("CREATE TABLE s (v DATE)")
    mem.exec("INSERT INTO s VALUES ('2024-01-02')")
    assert mem.query_row("SELECT v FROM s").scan(object) == (datetime.datetime(2024, 1, 2),)
    # A schema change inside a transaction that rolls back.
    with pytest.raises(RuntimeError), mem.begin() as tx:
        tx.exec("DROP TABLE s")
        tx.exec("CREATE TABLE s (v TEXT)")
        tx.exec("INSERT INTO s VALUES ('2024-01-02')")
        assert tx.query_row("SELECT v FROM s").scan(object) == ("2024-01-02",)
        raise RuntimeError("undo")
    assert mem.query_row("SELECT v FROM s").scan(object) == (datetime.datetime(2024, 1, 2),)


def test_type_lookup_while_rows_open(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE a (ts DATETIME)")
    when = datetime.datetime(2024, 3, 4, 5, 6, 7)
    for _ in range(300):
        mem.exec("INSERT INTO a VALUES (?)", when)
    with mem.begin() as tx:
        rows = tx.query("SELECT ts FROM a")
        assert rows.next()
        # A new query on the same connection learns its types meanwhile.
        assert tx.query_row("SELECT ts AS other FROM a LIMIT 1").scan(object) == (when,)
        n = 1
        while rows.next():
            assert rows.scan(datetime.datetime) == (when,)
            n += 1
        assert rows.err() is None
        assert n == 300


def test_column_types(mem: dbsql.DB) -> None:
    mem.exec(
        "CREATE TABLE c (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, price NUMERIC(10,2),"
        " data BLOB, at DATETIME, ok BOOLEAN, ratio REAL, anything)"
    )
    rows = mem.query("SELECT id, name, price, data, at, ok, ratio, anything, id + 1 AS expr FROM c")
    cts = rows.column_types()
    rows.close()
    assert [ct.name() for ct in cts] == [
        "id",
        "name",
        "price",
        "data",
        "at",
        "ok",
        "ratio",
        "anything",
        "expr",
    ]
    assert [ct.database_type_name() for ct in cts] == [
        "INTEGER",
        "VARCHAR",
        "NUMERIC",
        "BLOB",
        "DATETIME",
        "BOOLEAN",
        "REAL",
        "",
        "",
    ]
    assert [ct.scan_type() for ct in cts] == [
        int | None,
        str | None,
        float | None,
        bytes | None,
        datetime.datetime | None,
        bool | None,
        float | None,
        object,
        object,
    ]
    assert cts[1].nullable() == (False, False)  # not known
    assert cts[1].length() == (0, False)
    # Statements other than SELECT have no declared types.
    rows = mem.query("PRAGMA table_info(c)")
    assert rows.column_types()[0].database_type_name() == ""
    rows.close()


# --- results and parameters ----------------------------------------------------


def test_last_insert_id_and_rows_affected(mem: dbsql.DB) -> None:
    r = mem.exec("CREATE TABLE r (id INTEGER PRIMARY KEY AUTOINCREMENT, x INTEGER)")
    assert r.rows_affected() == 0
    r = mem.exec("INSERT INTO r (x) VALUES (10)")
    assert (r.last_insert_id(), r.rows_affected()) == (1, 1)
    r = mem.exec("INSERT INTO r (x) VALUES (20), (30), (40)")
    assert (r.last_insert_id(), r.rows_affected()) == (4, 3)
    assert mem.exec("UPDATE r SET x = x + 1 WHERE x > 15").rows_affected() == 3
    assert (
        mem.exec(
            "WITH big AS (SELECT 25) DELETE FROM r WHERE x > (SELECT * FROM big)"
        ).rows_affected()
        == 2
    )
    r = mem.exec("INSERT INTO r (x) VALUES (50) RETURNING id")
    assert (r.last_insert_id(), r.rows_affected()) == (5, 1)
    assert mem.exec("UPDATE r SET x = 0 WHERE x < 0").rows_affected() == 0
    assert mem.query_row("SELECT count(*) FROM r").scan(int) == (3,)


def test_named_parameters(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE p (a INTEGER, b TEXT)")
    mem.exec("INSERT INTO p VALUES (:a, :b)", dbsql.named("a", 1), dbsql.named("b", "one"))
    mem.exec("INSERT INTO p VALUES (@a, @b)", dbsql.named("b", "two"), dbsql.named("a", 2))
    mem.exec("INSERT INTO p VALUES ($a, $b)", dbsql.named("a", 3), dbsql.named("b", "three"))
    mem.exec("INSERT INTO p VALUES (?, ?)", 4, "four")
    mem.exec("INSERT INTO p VALUES (?2, ?1)", "five", 5)
    mem.exec("INSERT INTO p VALUES (:a, :b)", 6, "six")  # by position
    mem.exec("INSERT INTO p VALUES (?, :b)", 7, dbsql.named("b", "seven"))  # mixed
    got = list(mem.query("SELECT a, b FROM p ORDER BY a"))
    assert got == [
        (1, "one"),
        (2, "two"),
        (3, "three"),
        (4, "four"),
        (5, "five"),
        (6, "six"),
        (7, "seven"),
    ]
    # A name used twice binds once; ':', '@' and '$' forms of one name all bind.
    assert mem.query_row("SELECT :x + :x, @x, $x", dbsql.named("x", 21)).scan(int, int, int) == (
        42,
        21,
        21,
    )
    # Placeholders in strings, identifiers and comments are not parameters.
    q = 'SELECT \':a ?\', "?" FROM (SELECT 1 AS "?") -- :b ?\n WHERE 1 = ? /* @c */'
    assert mem.query_row(q, 1).scan(str, int) == (":a ?", 1)
    with pytest.raises(sqlite3.ProgrammingError, match="no parameter :nope"):
        mem.exec("INSERT INTO p VALUES (:a, :b)", dbsql.named("a", 1), dbsql.named("nope", 2))
    with pytest.raises(sqlite3.ProgrammingError, match="no argument for parameter :b"):
        mem.exec("INSERT INTO p VALUES (:a, :b)", dbsql.named("a", 1))
    with pytest.raises(sqlite3.ProgrammingError, match="has 1 parameters, got argument 2"):
        mem.exec("SELECT ?", 1, 2)


def test_prepared_statements(mem: dbsql.DB) -> None:
    mem.exec("CREATE TABLE s (a INTEGER, b TEXT)")
    with mem.prepare("INSERT INTO s VALUES (:a, :b)") as ins:
        for i in range(3):
            ins.exec(dbsql.named("a", i), dbsql.named("b", str(i)))
        with pytest.raises(dbsql.ConversionError, match="expected 2 arguments, got 1"):
            ins.exec(1)
    with mem.prepare("SELECT b FROM s WHERE a = ?") as sel:
        assert sel.query_row(2).scan(str) == ("2",)
        assert sel.query_row(0).scan(str) == ("0",)
    # SQL errors show at prepare time.
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        mem.prepare("SELEC 1")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        mem.prepare("SELECT * FROM missing")


def test_several_statements(mem: dbsql.DB) -> None:
    r = mem.exec(
        """
        CREATE TABLE m (x INTEGER);
        CREATE TABLE log (y INTEGER);
        CREATE TRIGGER m_log AFTER INSERT ON m BEGIN INSERT INTO log VALUES (new.x); END;
        INSERT INTO m VALUES (1);  -- ; in a comment
        INSERT INTO m VALUES (2), (3);
        """
    )
    assert r.rows_affected() == 2  # the last statement's result
    assert mem.query_row("SELECT count(*) FROM log").scan(int) == (3,)
    # Arguments are handed out statement by statement.
    r = mem.exec(
        "INSERT INTO m VALUES (?); INSERT INTO m VALUES (:x); INSERT INTO m VALUES (?), (?)",
        4,
        dbsql.named("x", 5),
        6,
        7,
    )
    assert r.rows_affected() == 2
    assert [row[0] for row in mem.query("SELECT x FROM m ORDER BY x")] == [1, 2, 3, 4, 5, 6, 7]
    with pytest.raises(sqlite3.ProgrammingError, match="not enough arguments: statement 2"):
        mem.exec("SELECT ?; SELECT ?", 1)
    with pytest.raises(sqlite3.ProgrammingError, match="3 unnamed arguments given"):
        mem.exec("SELECT ?; SELECT ?", 1, 2, 3)
    with pytest.raises(sqlite3.ProgrammingError, match="no parameter :nope"):
        mem.exec("SELECT :a; SELECT 1", dbsql.named("a", 1), dbsql.named("nope", 2))
    # Empty statements around one are fine.
    assert mem.query_row(";SELECT 1;;").scan(int) == (1,)
    # Inside a transaction the statements are part of it.
    with pytest.raises(RuntimeError), mem.begin() as tx:
        tx.exec("INSERT INTO m VALUES (8); INSERT INTO m VALUES (9)")
        raise RuntimeError("undo")
    assert mem.query_row("SELECT count(*) FROM m").scan(int) == (7,)


def test_multiple_result_sets(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(1)
    mem.exec("CREATE TABLE u (id INTEGER, age INTEGER, at DATETIME)")
    mem.exec("INSERT INTO u VALUES (1, 20, '2024-01-01'), (2, 30, NULL), (3, 25, NULL)")
    q = """
        CREATE TEMP TABLE young (id INTEGER);
        INSERT INTO young SELECT id FROM u WHERE age < ?;
        SELECT id, at FROM u JOIN young USING (id) ORDER BY id;
        DELETE FROM young WHERE id = :gone;
        SELECT count(*) FROM young;
        INSERT INTO u VALUES (4, 40, NULL);
    """
    with mem.query(q, 28, dbsql.named("gone", 3)) as rows:
        assert rows.columns() == ["id", "at"]
        assert [ct.database_type_name() for ct in rows.column_types()] == ["INTEGER", "DATETIME"]
        got = []
        while rows.next():
            got.append(rows.scan(int, object))
        assert got == [(1, (datetime.datetime(2024, 1, 1))), (3, None)]
        assert rows.next_result_set()
        assert rows.columns() == ["count(*)"]
        assert rows.next()
        assert rows.scan(int) == (1,)
        assert not rows.next()  # the trailing INSERT ran on reaching the end
        assert not rows.next_result_set()
        assert rows.err() is None
    assert mem.query_row("SELECT count(*) FROM u").scan(int) == (4,)
    # Skipping a result set; closing early skips the statements not run yet.
    with mem.query("SELECT 1; SELECT 2, 3; INSERT INTO u VALUES (5, 50, NULL)") as rows:
        assert rows.next_result_set()
        assert rows.next()
        assert rows.scan(int, int) == (2, 3)
    assert mem.query_row("SELECT count(*) FROM u").scan(int) == (4,)
    # An error in a later statement shows when moving to it.
    with mem.query("SELECT 1; SELECT * FROM missing") as rows:
        assert rows.next()
        assert not rows.next()
        assert not rows.next_result_set()
        err = rows.err()
        assert isinstance(err, sqlite3.OperationalError)
        assert "no such table" in str(err)
    # Statements without columns only: no result set.
    with mem.query("CREATE TEMP TABLE t1 (x); DROP TABLE t1") as rows:
        assert rows.columns() == []
        assert not rows.next()
        assert rows.err() is None
    assert mem.query_row("SELECT 5").scan(int) == (5,)


def test_concurrent_writers_on_memory(mem: dbsql.DB) -> None:
    mem.set_max_open_conns(3)
    mem.exec("CREATE TABLE w (t INTEGER, i INTEGER)")
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(30):
                if i % 10 == 0:
                    with mem.begin() as tx:
                        tx.exec("INSERT INTO w VALUES (?, ?)", t, i)
                else:
                    mem.exec("INSERT INTO w VALUES (?, ?)", t, i)
                mem.query_row("SELECT count(*) FROM w").scan(int)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert mem.query_row("SELECT count(*) FROM w").scan(int) == (120,)


# --- the driver's connection ---------------------------------------------------


def test_is_valid_after_close(mem: dbsql.DB) -> None:
    conn: Any = mem.driver().open(":memory:")
    bg = context.background()
    conn.exec_context(bg, "CREATE TABLE t (x INTEGER)", [])
    conn.exec_context(bg, "INSERT INTO t VALUES (?)", [driver.NamedValue("", 1, 5)])
    assert conn.is_valid()
    conn.ping(bg)
    conn.close()
    assert not conn.is_valid()
    with pytest.raises(driver.BadConnError):
        conn.exec_context(bg, "SELECT 1", [])
    with pytest.raises(driver.BadConnError):
        conn.reset_session(bg)
    with pytest.raises(driver.BadConnError):
        conn.ping(bg)
    conn.close()  # idempotent


def test_driver_stmt_plain_methods(mem: dbsql.DB) -> None:
    conn: Any = mem.driver().open(":memory:")
    try:
        stmt = conn.prepare("SELECT ?, ?")
        assert stmt.num_input() == 2
        rows = stmt.query([datetime.datetime(2024, 1, 1), decimal.Decimal("1.5")])
        dest: list[Any] = [None, None]
        rows.next(dest)
        assert dest == ["2024-01-01 00:00:00", "1.5"]
        with pytest.raises(EOFError):
            rows.next(dest)
        rows.close()
        assert stmt.exec([1, 2]).rows_affected() == 0
        stmt.close()
    finally:
        conn.close()


# --- next_batch (driver.RowsNextBatch) ------------------------------------------


MIXED_QUERY = "SELECT i, r, s, b, n, at, flag, i * 2 AS e FROM mixed ORDER BY i"


def test_next_batch_matches_next(mem: dbsql.DB) -> None:
    conn: Any = mem.driver().open(":memory:")
    bg = context.background()
    try:
        conn.exec_context(
            bg,
            "CREATE TABLE mixed (i INTEGER, r REAL, s TEXT, b BLOB, n NUMERIC, at DATETIME, "
            "flag BOOLEAN)",
            [],
        )
        values: list[tuple[Any, ...]] = [
            (0, 1.5, "a", b"\x00\x01", 10, "2024-01-02 03:04:05", 1),
            (1, None, "", b"", 2.5, "2024-01-02T03:04:05.123456+02:00", 0),
            (2, -0.0, None, None, None, 1700000000, 2),
            (3, 1e300, "ü", b"x", "12a", 1700000000123, None),
            (4, 2.0, "b", b"y", 7, "not a time", "yes"),
            (5, None, None, None, None, None, None),
            (6, 3.25, "c", b"z", -1, "2024-02-29", -3),
        ]
        for v in values:
            conn.exec_context(
                bg,
                "INSERT INTO mixed VALUES (?, ?, ?, ?, ?, ?, ?)",
                [driver.NamedValue("", k, x) for k, x in enumerate(v, 1)],
            )
        rows = conn.query_context(bg, MIXED_QUERY, [])
        assert isinstance(rows, driver.RowsNextBatch)
        want = drain_next(rows)
        rows.close()
        assert len(want) == len(values)
        # The declared DATETIME and BOOLEAN columns are converted by both.
        assert want[0][5] == datetime.datetime(2024, 1, 2, 3, 4, 5)
        assert want[3][5] == datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, datetime.UTC)
        assert want[4][5] == "not a time"
        assert [w[6] for w in want] == [True, False, True, None, "yes", None, False]
        for size in (1, 3, len(values), 1000):
            rows = conn.query_context(bg, MIXED_QUERY, [])
            assert drain_batches(rows, size) == want
            assert rows.next_batch(size) == []  # the end stays the end
            rows.close()
        # Rows taken with next first: next_batch hands out the others.
        rows = conn.query_context(bg, MIXED_QUERY, [])
        dest: list[Any] = [None] * 8
        rows.next(dest)
        assert tuple(dest) == want[0]
        assert drain_batches(rows, 2) == want[1:]
        with pytest.raises(ValueError, match="max_rows"):
            rows.next_batch(0)
        rows.close()
        # Without converted columns, the rows are the tuples sqlite3 gave.
        rows = conn.query_context(
            bg, "SELECT i, s FROM mixed WHERE i < ? ORDER BY i", [driver.NamedValue("", 1, 3)]
        )
        assert rows.next_batch(5) == [(0, "a"), (1, ""), (2, None)]
        assert rows.next_batch(5) == []
        rows.close()
        # Through dbsql too.
        db = dbsql.open("sqlite3", ":memory:")
        try:
            got = [tuple(r) for r in db.query("SELECT 1, 'x' UNION ALL SELECT 2, NULL")]
            assert got == [(1, "x"), (2, None)]
        finally:
            db.close()
    finally:
        conn.close()


def test_next_batch_multiple_result_sets(mem: dbsql.DB) -> None:
    conn: Any = mem.driver().open(":memory:")
    bg = context.background()
    try:
        rows = conn.query_context(
            bg,
            "CREATE TABLE m (x INTEGER, at DATETIME); "
            "INSERT INTO m VALUES (1, '2024-01-01'), (2, NULL); "
            "SELECT x, at FROM m ORDER BY x; "
            "INSERT INTO m VALUES (3, NULL); "
            "SELECT count(*) FROM m; "
            "SELECT 'done'",
            [],
        )
        assert rows.columns() == ["x", "at"]
        assert rows.next_batch(10) == [(1, datetime.datetime(2024, 1, 1)), (2, None)]
        assert rows.next_batch(10) == []
        # After the empty list, as after EOFError from next.
        assert rows.has_next_result_set()
        rows.next_result_set()
        assert rows.columns() == ["count(*)"]
        assert rows.next_batch(1) == [(3,)]
        assert rows.next_batch(1) == []
        assert rows.has_next_result_set()
        rows.next_result_set()
        assert rows.next_batch(5) == [("done",)]
        assert rows.next_batch(5) == []
        assert not rows.has_next_result_set()
        with pytest.raises(EOFError):
            rows.next_result_set()
        assert rows.next_batch(5) == []
        rows.close()
    finally:
        conn.close()


def test_next_batch_cancelled_between_batches(mem: dbsql.DB) -> None:
    conn: Any = mem.driver().open(":memory:")
    bg = context.background()
    try:
        ctx, cancel = context.with_cancel(bg)
        rows = conn.query_context(
            ctx,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) "
            "SELECT x FROM c",
            [],
        )
        assert rows.next_batch(100) == [(i,) for i in range(1, 101)]
        cancel()
        with pytest.raises(Canceled):
            rows.next_batch(100)
        rows.close()
        # The connection stays usable.
        rows = conn.query_context(bg, "SELECT 4", [])
        assert rows.next_batch(5) == [(4,)]
        rows.close()
    finally:
        conn.close()
