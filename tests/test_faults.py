"""Real faults against real servers: connections killed by the server.

PostgreSQL (DBSQL_TEST_POSTGRES_DSN) and MariaDB/MySQL (DBSQL_TEST_MYSQL_DSN);
each part is skipped when its variable is unset. A separate admin connection
(the DB-API module itself, outside the pool under test) kills a pooled
connection with ``pg_terminate_backend`` or ``KILL``:

* while it is idle in the pool: the next query succeeds on a new connection and
  the dead one is discarded;
* while a query runs on it: the caller gets an error (never a silent retry), the
  pool recovers and nothing leaks;
* inside a transaction: the next statement or the commit reports it, the
  connection is not reused and a new transaction works.

Every wait is on a condition with a deadline (the server's process list, the
worker thread), never a fixed sleep.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import psycopg
import pymysql  # type: ignore[import-untyped]
import pytest

import dbsql
from dbsql import driver
from dbsql.drivers import mysql as mysql_driver

PG_DSN = os.environ.get("DBSQL_TEST_POSTGRES_DSN", "")
MY_DSN = os.environ.get("DBSQL_TEST_MYSQL_DSN", "")

PG_SKIP = "DBSQL_TEST_POSTGRES_DSN is not set: no PostgreSQL server to test against"
MY_SKIP = "DBSQL_TEST_MYSQL_DSN is not set: no MySQL server to test against"

DEADLINE = 15.0  # seconds any awaited condition may take on a loaded machine


def wait_for(cond: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll cond until it holds; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def pooled_driver_conns(db: dbsql.DB) -> list[Any]:
    """The driver connections idle in the pool (Go's db.freeConn)."""
    with db._mu:
        return [dc._ci for dc in db._free_conn]


def assert_pool_settled(db: dbsql.DB, open_conns: int) -> None:
    """Nothing in use, every open connection idle, and open_conns of them."""
    s = db.stats()
    assert s.in_use == 0, s
    assert s.open_connections == s.idle, s
    assert s.open_connections == open_conns, s


class Server(Protocol):
    """What a test needs from the server under test."""

    name: str

    def open(self) -> dbsql.DB: ...

    def session_id(self, q: dbsql.DB | dbsql.Conn | dbsql.Tx) -> int: ...

    def kill(self, sid: int) -> None: ...

    def is_gone(self, sid: int) -> bool: ...

    def running(self, marker: str) -> int | None: ...

    def sleep_query(self, marker: str) -> str: ...

    def create_table(self, db: dbsql.DB, name: str) -> None: ...

    def close(self) -> None: ...


class PostgresServer:
    """The PostgreSQL side: pg_backend_pid, pg_terminate_backend, pg_stat_activity."""

    name = "postgres"

    def __init__(self) -> None:
        self.admin = psycopg.connect(PG_DSN, autocommit=True)

    def open(self) -> dbsql.DB:
        return dbsql.open("postgres", PG_DSN)

    def session_id(self, q: dbsql.DB | dbsql.Conn | dbsql.Tx) -> int:
        (pid,) = q.query_row("SELECT pg_backend_pid()").scan(int)
        assert isinstance(pid, int)
        return pid

    def kill(self, sid: int) -> None:
        row = self.admin.execute("SELECT pg_terminate_backend(%s)", (sid,)).fetchone()
        assert row is not None and row[0] is True, f"pg_terminate_backend({sid}) failed"

    def is_gone(self, sid: int) -> bool:
        row = self.admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (sid,)
        ).fetchone()
        return row is not None and row[0] == 0

    def running(self, marker: str) -> int | None:
        row = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s"
            " AND pid <> pg_backend_pid()",
            (f"%{marker}%",),
        ).fetchone()
        return None if row is None else int(row[0])

    def sleep_query(self, marker: str) -> str:
        return f"SELECT pg_sleep(5) /* {marker} */"

    def create_table(self, db: dbsql.DB, name: str) -> None:
        db.exec(f"CREATE TABLE {name} (id integer PRIMARY KEY)")

    def close(self) -> None:
        self.admin.close()


class MySQLServer:
    """The MariaDB/MySQL side: CONNECTION_ID, KILL, information_schema.PROCESSLIST."""

    name = "mysql"

    def __init__(self) -> None:
        cfg = mysql_driver.parse_dsn(MY_DSN)
        kw: dict[str, Any] = {
            "user": cfg.user or None,
            "password": cfg.passwd,
            "database": cfg.dbname or None,
            "autocommit": True,
        }
        if cfg.net == "unix":
            kw["unix_socket"] = cfg.addr
        else:
            kw["host"], kw["port"] = cfg.host, cfg.port
        self.admin: Any = pymysql.connect(**kw)

    def _one(self, query: str, *args: Any) -> Any:
        with self.admin.cursor() as cur:
            cur.execute(query, args or None)
            return cur.fetchone()

    def open(self) -> dbsql.DB:
        return dbsql.open("mysql", MY_DSN)

    def session_id(self, q: dbsql.DB | dbsql.Conn | dbsql.Tx) -> int:
        (cid,) = q.query_row("SELECT CONNECTION_ID()").scan(int)
        assert isinstance(cid, int)
        return cid

    def kill(self, sid: int) -> None:
        self._one(f"KILL CONNECTION {int(sid)}")

    def is_gone(self, sid: int) -> bool:
        row = self._one("SELECT count(*) FROM information_schema.PROCESSLIST WHERE ID = %s", sid)
        return row is not None and row[0] == 0

    def running(self, marker: str) -> int | None:
        row = self._one(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE %s"
            " AND ID <> CONNECTION_ID()",
            f"%{marker}%",
        )
        return None if row is None else int(row[0])

    def sleep_query(self, marker: str) -> str:
        return f"SELECT SLEEP(5) /* {marker} */"

    def create_table(self, db: dbsql.DB, name: str) -> None:
        db.exec(f"CREATE TABLE {name} (id integer PRIMARY KEY) ENGINE=InnoDB")

    def close(self) -> None:
        self.admin.close()


@pytest.fixture(params=["postgres", "mysql"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    srv: Server
    if request.param == "postgres":
        if not PG_DSN:
            pytest.skip(PG_SKIP)
        srv = PostgresServer()
    else:
        if not MY_DSN:
            pytest.skip(MY_SKIP)
        srv = MySQLServer()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def db(server: Server) -> Iterator[dbsql.DB]:
    d = server.open()
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def table(server: Server) -> Iterator[str]:
    """A table unique to this test, dropped afterwards (on a DB of its own)."""
    name = "dbsql_faults_" + uuid.uuid4().hex[:12]
    d = server.open()
    try:
        server.create_table(d, name)
        yield name
    finally:
        try:
            d.exec(f"DROP TABLE IF EXISTS {name}")
        finally:
            d.close()


def kill_and_wait(server: Server, sid: int) -> None:
    server.kill(sid)
    wait_for(lambda: server.is_gone(sid), f"{server.name} session {sid} to end")


# ---------------------------------------------------------------------------
# Killed while idle in the pool.


def test_killed_while_idle(server: Server, db: dbsql.DB) -> None:
    with db.conn() as c:
        sid = server.session_id(c)
        dead = c.raw(lambda ci: ci)
    assert pooled_driver_conns(db) == [dead]
    assert_pool_settled(db, 1)

    kill_and_wait(server, sid)

    # The next query succeeds, on a new connection (dbsql retries on the
    # driver's BadConnError: the statement never reached the dead server side).
    new_sid = server.session_id(db)
    assert new_sid != sid
    assert not dead.is_valid()
    # The dead connection was discarded, not put back: one open, one idle.
    assert_pool_settled(db, 1)
    assert all(ci is not dead for ci in pooled_driver_conns(db))
    # And it keeps working.
    assert server.session_id(db) == new_sid


def test_killed_while_idle_all_pooled(server: Server, db: dbsql.DB) -> None:
    # Every idle connection killed: the pool's retries end on a new connection.
    db.set_max_idle_conns(2)
    c1, c2 = db.conn(), db.conn()
    sids = [server.session_id(c1), server.session_id(c2)]
    c1.close()
    c2.close()
    assert_pool_settled(db, 2)
    for sid in sids:
        kill_and_wait(server, sid)

    new_sid = server.session_id(db)
    assert new_sid not in sids
    assert_pool_settled(db, 1)


# ---------------------------------------------------------------------------
# Killed while a query runs.


def test_killed_mid_query(server: Server, db: dbsql.DB) -> None:
    marker = "dbsql_faults_" + uuid.uuid4().hex[:8]
    with db.conn() as c:
        victim = server.session_id(c)
        dead = c.raw(lambda ci: ci)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            db.query_row(server.sleep_query(marker)).scan(object)
        except BaseException as e:
            outcome.append(e)
        else:
            outcome.append(None)

    t = threading.Thread(target=run, name="faults-sleeper")
    t.start()
    try:
        wait_for(lambda: server.running(marker) is not None, "the sleep to start")
        sid = server.running(marker)
        assert sid == victim  # the pooled connection runs it
        kill_and_wait(server, victim)
    finally:
        t.join(DEADLINE)
    assert not t.is_alive(), "the killed query did not return"

    # The caller gets an error, once: not a silent retry on another connection
    # (the statement had reached the server), and not BadConnError.
    assert len(outcome) == 1
    err = outcome[0]
    assert err is not None, "a query on a killed connection returned normally"
    assert isinstance(err, Exception)
    assert not isinstance(err, driver.BadConnError), repr(err)

    # Nothing leaked: the dead connection is gone from the pool.
    assert not dead.is_valid()
    assert_pool_settled(db, 0)
    # The pool recovers on a new connection.
    new_sid = server.session_id(db)
    assert new_sid != victim
    assert_pool_settled(db, 1)
    assert all(ci is not dead for ci in pooled_driver_conns(db))


def test_killed_while_rows_open(server: Server, db: dbsql.DB) -> None:
    # The session is killed while a Rows holds its connection (the drivers
    # receive a result whole, so the rows already read stay readable): closing
    # the Rows releases the connection, the pool never hands the dead one out
    # again and the next query works on a new session.
    with db.conn() as c:
        sid = server.session_id(c)
        dead = c.raw(lambda ci: ci)
    rows = db.query("SELECT 1 UNION ALL SELECT 2")
    assert db.stats().in_use == 1
    kill_and_wait(server, sid)
    got: list[int] = []
    try:
        while rows.next():
            (v,) = rows.scan(int)
            got.append(v)
    finally:
        rows.close()
    assert got in ([], [1], [1, 2])
    assert rows.err() is not None or got == [1, 2]
    assert db.stats().in_use == 0

    new_sid = server.session_id(db)
    assert new_sid != sid
    assert not dead.is_valid()
    assert all(ci is not dead for ci in pooled_driver_conns(db))
    assert_pool_settled(db, 1)


# ---------------------------------------------------------------------------
# Killed inside a transaction.


@pytest.mark.parametrize("reported_by", ["statement", "commit"])
def test_killed_in_transaction(server: Server, db: dbsql.DB, table: str, reported_by: str) -> None:
    tx = db.begin()
    sid = server.session_id(tx)
    tx.exec(f"INSERT INTO {table} (id) VALUES (1)")
    assert db.stats().in_use == 1

    kill_and_wait(server, sid)

    with pytest.raises(Exception) as ei:
        if reported_by == "statement":
            tx.exec(f"INSERT INTO {table} (id) VALUES (2)")
        tx.commit()
    assert not isinstance(ei.value, AssertionError)
    if reported_by == "statement":
        # The statement reported it; the transaction is still to be ended,
        # and ending it may report the dead connection too.
        try:
            tx.rollback()
        except dbsql.TxDoneError:
            pytest.fail("the failed statement ended the transaction")
        except Exception:
            pass
    with pytest.raises(dbsql.TxDoneError):
        tx.commit()

    # The connection was not put back: nothing open, nothing in use.
    assert_pool_settled(db, 0)

    # A new transaction works, on a new connection; the killed one's insert is gone.
    with db.begin() as tx2:
        assert server.session_id(tx2) != sid
        tx2.exec(f"INSERT INTO {table} (id) VALUES (3)")
    ids = [r[0] for r in db.query(f"SELECT id FROM {table} ORDER BY id")]
    assert ids == [3]
    assert_pool_settled(db, 1)


def test_killed_in_conn(server: Server, db: dbsql.DB) -> None:
    # A dbsql.Conn pinned to the killed session: its next call fails (the
    # session is gone, dbsql never silently moves a Conn to another session),
    # close returns it, and the pool discards it.
    c = db.conn()
    sid = server.session_id(c)
    kill_and_wait(server, sid)
    with pytest.raises(Exception) as ei:
        server.session_id(c)
    assert not isinstance(ei.value, AssertionError)
    try:
        c.close()
    except dbsql.ConnDoneError:
        pass  # a BadConnError already closed it
    assert_pool_settled(db, 0)
    assert server.session_id(db) != sid
    assert_pool_settled(db, 1)
