"""The driver conformance kit (dbsql.drivertest) run against dbsql's drivers:
sqlite3, PostgreSQL (DBSQL_TEST_POSTGRES_DSN), MariaDB/MySQL (DBSQL_TEST_MYSQL_DSN)
and the DB-API bridge over the standard library's sqlite3."""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
from typing import Any

import dbsql
from dbsql.drivers import dbapi
from dbsql.drivers import sqlite3 as sqlite3_driver
from dbsql.drivertest import DriverSuite
from dbsql.sql import DB
from tests.sqltest import MySQLDialect, PostgresDialect

_TMP = tempfile.mkdtemp(prefix="dbsql-conformance-")
atexit.register(shutil.rmtree, _TMP, True)

_PG_DSN = os.environ.get("DBSQL_TEST_POSTGRES_DSN")
_MY_DSN = os.environ.get("DBSQL_TEST_MYSQL_DSN")

_ALL_LEVELS = (
    dbsql.LEVEL_READ_UNCOMMITTED,
    dbsql.LEVEL_READ_COMMITTED,
    dbsql.LEVEL_REPEATABLE_READ,
    dbsql.LEVEL_SERIALIZABLE,
)
_ODD_LEVELS = (dbsql.LEVEL_WRITE_COMMITTED, dbsql.LEVEL_SNAPSHOT, dbsql.LEVEL_LINEARIZABLE)


def _sqlite_sleep(seconds: float) -> str:
    # SQLite has no sleep: a recursive count that takes well over `seconds`.
    n = int(seconds * 20_000_000)
    return (
        f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) "
        "SELECT max(x) FROM c"
    )


class TestDBAPISQLite3(DriverSuite):
    """The DB-API bridge over the standard library's sqlite3 (a file database)."""

    driver_name = "dbapi(sqlite3)"
    dsn = os.path.join(_TMP, "dbapi-sqlite3.db")

    int_type = "INTEGER"
    decimal_type = None  # SQLite has no exact 30-digit decimals
    timestamp_type = "TIMESTAMP"  # converted by sqlite3's PARSE_DECLTYPES
    autoincrement_pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    supports_last_insert_id = True
    # The bridge has no way to set isolation levels or read-only on sqlite3.
    unsupported_isolation_levels = (dbsql.LEVEL_SERIALIZABLE,)
    supports_read_only = False

    def open_db(self) -> DB:
        drv = dbapi.Driver(
            sqlite3, connect_args={"detect_types": sqlite3.PARSE_DECLTYPES, "timeout": 30}
        )
        assert self.dsn
        return dbapi.open_db(drv, self.dsn)

    def sleep_query(self, seconds: float) -> str | None:
        return _sqlite_sleep(seconds)


class TestSQLite3(DriverSuite):
    """dbsql's sqlite3 driver (a file database)."""

    driver_name = "sqlite3"
    dsn = os.path.join(_TMP, "sqlite3.db")

    int_type = "INTEGER"
    # NUMERIC affinity would turn 30 digits into a REAL: exact decimals are text.
    decimal_type = "TEXT"
    # Aware datetimes are stored with their offset and read back aware.
    timestamp_tz_type = "TIMESTAMP"
    autoincrement_pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    supports_last_insert_id = True
    isolation_levels = (dbsql.LEVEL_SERIALIZABLE, dbsql.LEVEL_READ_UNCOMMITTED)
    unsupported_isolation_levels = (
        dbsql.LEVEL_READ_COMMITTED,
        dbsql.LEVEL_REPEATABLE_READ,
        *_ODD_LEVELS,
    )
    supports_read_only = True
    # A query text of several statements gives one result set per SELECT.
    supports_multi_result_sets = True

    def sleep_query(self, seconds: float) -> str | None:
        return _sqlite_sleep(seconds)

    def temp_table_sql(self, name: str) -> str | None:
        return f"CREATE TEMPORARY TABLE {name} (x INTEGER)"


class _StatementsOnlyConn:
    """A driver Conn with neither QueryerContext nor ExecerContext: dbsql then
    runs every query through a prepared statement (Go's fallback)."""

    _HIDDEN = frozenset(
        {"query_context", "exec_context", "query", "exec", "query_row_context", "query_row_columns"}
    )

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in self._HIDDEN:
            raise AttributeError(name)
        return getattr(self._inner, name)


class _StatementsOnlyConnector:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect(self, ctx: Any) -> _StatementsOnlyConn:
        return _StatementsOnlyConn(self._inner.connect(ctx))

    def driver(self) -> Any:
        return self._inner.driver()


class TestSQLite3StatementsOnly(TestSQLite3):
    """dbsql's sqlite3 driver with its Conn's query_context and exec_context
    hidden: the whole kit through prepared statements (dbsql's path for a
    driver without QueryerContext, and the kit's own)."""

    dsn = os.path.join(_TMP, "sqlite3-stmts.db")

    def open_db(self) -> DB:
        assert self.dsn
        drv = sqlite3_driver.SQLiteDriver()
        return dbsql.open_db(_StatementsOnlyConnector(drv.open_connector(self.dsn)))


class TestPostgres(PostgresDialect, DriverSuite):
    """dbsql's postgres driver."""

    driver_name = "postgres"
    dsn = _PG_DSN
    skip_reason = "DBSQL_TEST_POSTGRES_DSN is not set: no PostgreSQL server to test against"

    placeholder = "$1"
    supports_last_insert_id = False
    isolation_levels = _ALL_LEVELS
    unsupported_isolation_levels = _ODD_LEVELS

    def temp_table_sql(self, name: str) -> str | None:
        return f"CREATE TEMPORARY TABLE {name} (x INTEGER)"

    def session_var_sql(self, marker: str) -> tuple[str, str] | None:
        return f"SET application_name = '{marker}'", "SHOW application_name"

    def series_query(self, n: int) -> str:
        return f"SELECT generate_series(1, {n})"


class TestMySQL(MySQLDialect, DriverSuite):
    """dbsql's mysql driver against MariaDB/MySQL."""

    driver_name = "mysql"
    dsn = _MY_DSN
    skip_reason = "DBSQL_TEST_MYSQL_DSN is not set: no MySQL/MariaDB server to test against"

    timestamp_tz_type = "TIMESTAMP(6) NULL"
    isolation_levels = _ALL_LEVELS
    unsupported_isolation_levels = _ODD_LEVELS
    supports_read_only = True

    def open_db(self) -> DB:
        # Several result sets need multiStatements; loc=UTC keeps the instant of
        # aware datetimes (TIMESTAMP columns come back aware in UTC).
        assert self.dsn
        sep = "&" if "?" in self.dsn else "?"
        return dbsql.open("mysql", self.dsn + sep + "multiStatements=true&loc=UTC")

    def sleep_query(self, seconds: float) -> str | None:
        return f"SELECT SLEEP({seconds})"

    def temp_table_sql(self, name: str) -> str | None:
        return f"CREATE TEMPORARY TABLE {name} (x INTEGER)"

    def session_var_sql(self, marker: str) -> tuple[str, str] | None:
        return f"SET @dbsql_kit_var = '{marker}'", "SELECT @dbsql_kit_var"
