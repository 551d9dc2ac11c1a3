"""The databases the workloads (benchmarks/workloads.py) run on.

A :class:`Backend` knows how to reach one database the same way for every
candidate: dbsql's driver and DSN, a raw DB-API connection (the driver dbsql
wraps: :mod:`sqlite3` or psycopg 3), an SQLAlchemy engine and a DBUtils creator
on the same connections, the placeholder styles, and the benchmark tables.

* :class:`SQLiteBackend`: a database file in a fresh temporary directory in WAL
  mode; every connection sets ``PRAGMA synchronous=NORMAL`` (WAL's usual
  setting: a commit does not wait for fsync, so W4 measures the libraries rather
  than the disk).
* :class:`PostgresBackend`: the server of ``DBSQL_TEST_POSTGRES_DSN``; its tables
  are named after the process id so runs beside each other do not collide, and
  are dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import dbsql
from benchmarks.wl_pools import SQLAlchemy

__all__ = ["POSTGRES_DSN_ENV", "Backend", "PostgresBackend", "SQLiteBackend", "open_backend"]

POSTGRES_DSN_ENV = "DBSQL_TEST_POSTGRES_DSN"

# A DB-API 2.0 connection.
DBAPIConn = Any

PEOPLE_ROWS = 1_000
SCAN_ROWS = 10_000


class Backend:
    """One database reached by every candidate of a workload."""

    key = ""  # "sqlite" or "postgres"
    raw_name = ""  # the DB-API module dbsql's driver wraps
    has_psycopg_pool = False

    def __init__(self) -> None:
        suffix = f"_{os.getpid()}"
        self.people = "wl_people" + suffix
        self.txtab = "wl_tx" + suffix
        self.scantab = "wl_scan" + suffix
        self._admin: DBAPIConn = None
        self._created: list[str] = []

    # ---- what differs between databases ----

    def label(self) -> str:
        raise NotImplementedError

    def dbsql_open(self) -> dbsql.DB:
        raise NotImplementedError

    def raw_connect(self, *, autocommit: bool = True) -> DBAPIConn:
        """A new connection of the raw driver: autocommit, or DB-API transactions
        (an implicit BEGIN before the first statement, ended by commit())."""
        raise NotImplementedError

    def ph(self, n: int) -> str:
        """dbsql's placeholder for argument n (1-based)."""
        raise NotImplementedError

    ph_raw = ""  # the raw driver's placeholder

    def sa_engine(self, sa: SQLAlchemy, *, size: int, autocommit: bool) -> Any:
        raise NotImplementedError

    def _ddl(self) -> dict[str, str]:
        raise NotImplementedError

    def _truncate_sql(self, table: str) -> str:
        raise NotImplementedError

    # ---- shared ----

    def admin(self) -> DBAPIConn:
        if self._admin is None:
            self._admin = self.raw_connect(autocommit=True)
        return self._admin

    def _create(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        conn = self.admin()
        cur = conn.cursor()
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} ({self._ddl()[table]})")
        self._created.append(table)
        if rows:
            marks = ", ".join([self.ph_raw] * len(rows[0]))
            cur.execute("BEGIN")
            cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            cur.execute("COMMIT")
        cur.close()

    def create_people(self) -> None:
        """people(id, name): ids 1..1,000, names "name-<id>"."""
        self._create(self.people, [(i, f"name-{i}") for i in range(1, PEOPLE_ROWS + 1)])

    def create_tx(self) -> None:
        """An empty table with an autoincrement id for W4's inserts."""
        self._create(self.txtab, [])

    def create_scan(self) -> None:
        """10,000 rows of (int, text, float, bool)."""
        self._create(
            self.scantab,
            [(i, f"row number {i}", i * 0.25, i % 2 == 0) for i in range(SCAN_ROWS)],
        )

    def truncate_tx(self) -> None:
        cur = self.admin().cursor()
        cur.execute(self._truncate_sql(self.txtab))
        cur.close()

    def count(self, table: str) -> int:
        cur = self.admin().cursor()
        cur.execute(f"SELECT count(*) FROM {table}")
        (n,) = cur.fetchone()
        cur.close()
        return int(n)

    def close(self) -> None:
        """Drop the tables this backend created and close its admin connection."""
        if self._admin is not None:
            cur = self._admin.cursor()
            for t in self._created:
                cur.execute(f"DROP TABLE IF EXISTS {t}")
            cur.close()
            self._admin.close()
            self._admin = None


class SQLiteBackend(Backend):
    key = "sqlite"
    raw_name = "sqlite3"
    ph_raw = "?"

    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.mkdtemp(prefix="dbsql-wl-")
        self.path = os.path.join(self._dir, "bench.db")
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()

    def label(self) -> str:
        return (
            f"SQLite {sqlite3.sqlite_version} (a file in a temp dir, WAL, synchronous=NORMAL;"
            " Python's sqlite3 module)"
        )

    def dbsql_open(self) -> dbsql.DB:
        return dbsql.open(
            "sqlite3", f"file:{quote(self.path)}?_journal_mode=WAL&_synchronous=NORMAL"
        )

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA synchronous=NORMAL")

    def raw_connect(self, *, autocommit: bool = True) -> DBAPIConn:
        # Python's defaults otherwise: timeout 5 s (dbsql's _busy_timeout is 5000 ms),
        # a cache of 128 prepared statements per connection.
        conn = sqlite3.connect(
            self.path, isolation_level=None if autocommit else "DEFERRED", check_same_thread=False
        )
        self._setup(conn)
        return conn

    def ph(self, n: int) -> str:
        return "?"

    def sa_engine(self, sa: SQLAlchemy, *, size: int, autocommit: bool) -> Any:
        return sa.engine(
            f"sqlite:///{self.path}",
            size=size,
            autocommit=autocommit,
            connect_args={"check_same_thread": False},
            on_connect=self._setup,
        )

    def _ddl(self) -> dict[str, str]:
        return {
            self.people: "id INTEGER PRIMARY KEY, name TEXT NOT NULL",
            self.txtab: "id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL",
            self.scantab: "id INTEGER, name TEXT, score REAL, flag BOOLEAN",
        }

    def _truncate_sql(self, table: str) -> str:
        return f"DELETE FROM {table}"

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)


class PostgresBackend(Backend):
    key = "postgres"
    raw_name = "psycopg"
    ph_raw = "%s"
    has_psycopg_pool = True

    def __init__(self, dsn: str) -> None:
        super().__init__()
        import psycopg

        self._psycopg: Any = psycopg
        self.dsn = dsn

    def label(self) -> str:
        conn = self.admin()
        v = conn.info.server_version
        return (
            f"PostgreSQL {v // 10000}.{v % 10000} (server at {conn.info.host}:{conn.info.port};"
            f" psycopg {self._psycopg.__version__})"
        )

    def dbsql_open(self) -> dbsql.DB:
        return dbsql.open("postgres", self.dsn)

    def raw_connect(self, *, autocommit: bool = True) -> DBAPIConn:
        return self._psycopg.connect(self.dsn, autocommit=autocommit)

    def ph(self, n: int) -> str:
        return f"${n}"

    def sa_engine(self, sa: SQLAlchemy, *, size: int, autocommit: bool) -> Any:
        dsn = self.dsn
        connect: Callable[[], DBAPIConn] = lambda: self._psycopg.connect(dsn)  # noqa: E731
        return sa.engine("postgresql+psycopg://", size=size, autocommit=autocommit, creator=connect)

    def _ddl(self) -> dict[str, str]:
        return {
            self.people: "id integer PRIMARY KEY, name text NOT NULL",
            self.txtab: "id bigserial PRIMARY KEY, name text NOT NULL",
            self.scantab: "id integer, name text, score double precision, flag boolean",
        }

    def _truncate_sql(self, table: str) -> str:
        return f"TRUNCATE {table} RESTART IDENTITY"


def open_backend(key: str) -> Backend:
    if key == "sqlite":
        return SQLiteBackend()
    if key == "postgres":
        dsn = os.environ.get(POSTGRES_DSN_ENV)
        if not dsn:
            raise SystemExit(f"--db postgres needs {POSTGRES_DSN_ENV} (a libpq DSN)")
        return PostgresBackend(dsn)
    raise ValueError(f"unknown database {key!r}")
