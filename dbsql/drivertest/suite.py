"""The conformance suite: :class:`DriverSuite` and its helpers (see :mod:`dbsql.drivertest`)."""

from __future__ import annotations

import contextlib
import datetime
import decimal
import itertools
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import pytest

import dbsql
from dbsql import context, driver
from dbsql.sql import DB, ConnDoneError, IsolationLevel, NoRowsError, TxDoneError, TxOptions

__all__ = ["DriverSuite", "cross_join_series", "drain_batches", "drain_next", "wait_for"]

# Unique per run (process): table names carry it, so runs against the same
# database (or in parallel) never meet.
_RUN_ID = uuid.uuid4().hex[:8]
_table_seq = itertools.count(1)

_POLL = 0.005
_CTX_ERRORS = (context.Canceled, context.DeadlineExceeded)


def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll cond until it is true; fail the test if it is not within timeout seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(_POLL)


def cross_join_series(n: int) -> str:
    """A query giving 1..n in order without a recursive CTE (for
    ``series_query``): MariaDB stops recursive CTEs after 1000 iterations
    (``max_recursive_iterations``) and MySQL 8 fails (``cte_max_recursion_depth``)."""
    digits = " UNION ALL ".join(f"SELECT {d} AS d" for d in range(10))
    k = max(1, len(str(n - 1)))
    expr = " + ".join(f"{10**i} * t{i}.d" for i in range(k))
    tables = ", ".join(f"({digits}) AS t{i}" for i in range(k))
    return f"SELECT 1 + {expr} AS n FROM {tables} WHERE 1 + {expr} <= {n} ORDER BY n"


def drain_next(rows: Any) -> list[tuple[Any, ...]]:
    """The rows of a driver Rows' current result set, read with ``next``."""
    dest: list[Any] = [None] * len(rows.columns())
    out: list[tuple[Any, ...]] = []
    while True:
        try:
            rows.next(dest)
        except EOFError:
            return out
        out.append(tuple(dest))


def drain_batches(rows: Any, size: int) -> list[tuple[Any, ...]]:
    """The rows of a driver Rows' current result set, read with
    ``next_batch(size)`` (driver.RowsNextBatch): each batch a list of at most
    size tuples, the end an empty list."""
    out: list[tuple[Any, ...]] = []
    while True:
        batch = rows.next_batch(size)
        if not batch:
            return out
        assert len(batch) <= size
        assert all(type(r) is tuple for r in batch)
        out.extend(batch)


def _norm_level(s: str) -> str:
    return re.sub(r"[-_ ]+", " ", s.strip().lower())


class DriverSuite:
    """Base class of a driver's conformance tests; see :mod:`dbsql.drivertest`.

    Set the class attributes and override the hook methods in the subclass.
    """

    # -- what to test
    # The name the driver is registered under (dbsql.open's first argument).
    driver_name: ClassVar[str] = ""
    # The data source name; None or "" skips every test with skip_reason.
    dsn: ClassVar[str | None] = None
    skip_reason: ClassVar[str] = "no DSN set for this driver: nothing to test against"

    # -- dialect
    # The placeholder style of the test queries: "?" or "$1" ($1, $2, ...).
    placeholder: ClassVar[str] = "?"
    # Column types. None skips the tests that need the type.
    int_type: ClassVar[str] = "BIGINT"
    text_type: ClassVar[str] = "VARCHAR(255)"
    float_type: ClassVar[str] = "DOUBLE PRECISION"
    blob_type: ClassVar[str | None] = "BLOB"
    bool_type: ClassVar[str | None] = "BOOLEAN"
    # A decimal type of precision 30 and scale 10.
    decimal_type: ClassVar[str | None] = "DECIMAL(30,10)"
    # A timestamp type without a time zone, with microseconds.
    timestamp_type: ClassVar[str | None] = "TIMESTAMP"
    # A timestamp type that keeps the instant of an aware datetime.
    timestamp_tz_type: ClassVar[str | None] = None
    # The column definition of an auto-increment primary key, for last_insert_id.
    autoincrement_pk: ClassVar[str | None] = None
    # Result.last_insert_id works (True) or raises (False).
    supports_last_insert_id: ClassVar[bool] = False
    # The blob size of the large-blob round trip.
    large_blob_size: ClassVar[int] = 1 << 20
    # How many query_row calls test_many_query_row makes (Go: 10000).
    many_query_row_count: ClassVar[int] = 1000

    # Several result sets from one query: multi_result_query must give the
    # sets [(1,)] and [(2, 3)].
    supports_multi_result_sets: ClassVar[bool] = False
    multi_result_query: ClassVar[str] = "SELECT 1; SELECT 2, 3"

    # Isolation levels begin_tx accepts, and ones it must refuse.
    isolation_levels: ClassVar[Sequence[IsolationLevel]] = ()
    unsupported_isolation_levels: ClassVar[Sequence[IsolationLevel]] = ()
    # A query giving the current transaction's isolation level as text
    # ("serializable", "REPEATABLE-READ", ...), or None not to check it.
    current_isolation_sql: ClassVar[str | None] = None
    # Read-only transactions: True supported (writes fail), False refused by
    # begin_tx, None not tested.
    supports_read_only: ClassVar[bool | None] = None

    # A statement that opens a transaction when run on its own.
    begin_sql: ClassVar[str | None] = "BEGIN"
    # A query giving the server's id of the connection it runs on.
    connection_id_sql: ClassVar[str | None] = None

    def sleep_query(self, seconds: float) -> str | None:
        """A query that runs for about seconds (e.g. ``SELECT pg_sleep(s)``), or None."""
        return None

    def kill_connection_sql(self, conn_id: Any) -> str | None:
        """A statement that makes the server drop the connection conn_id (as
        given by connection_id_sql), run from another connection; or None."""
        return None

    def connection_alive_sql(self, conn_id: Any) -> str | None:
        """A query counting the server connections with id conn_id (0 once the
        kill took effect), or None to rely on the kill being synchronous."""
        return None

    def temp_table_sql(self, name: str) -> str | None:
        """A statement creating a temporary (session) table name, or None."""
        return None

    def session_var_sql(self, marker: str) -> tuple[str, str] | None:
        """(set, get): a statement setting a session variable to the text
        marker and a query reading it back; or None."""
        return None

    def series_query(self, n: int) -> str:
        """A query returning the integers 1..n in order, one per row (default: a
        recursive CTE; see :func:`cross_join_series` for MySQL/MariaDB)."""
        return (
            f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) "
            "SELECT n FROM s"
        )

    def drop_table_sql(self, name: str) -> str:
        return f"DROP TABLE IF EXISTS {name}"

    def open_db(self) -> DB:
        """Open the database under test; by default ``dbsql.open(driver_name, dsn)``."""
        assert self.dsn
        return dbsql.open(self.driver_name, self.dsn)

    # -- per-test state and helpers

    db: DB
    _dbs: list[DB]
    _tables: list[str]

    @pytest.fixture(autouse=True)
    def _dbsql_drivertest(self) -> Iterator[None]:
        if not self.dsn:
            pytest.skip(self.skip_reason)
        self._dbs = []
        self._tables = []
        self.db = self.new_db()
        try:
            yield
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        errors: list[str] = []
        if self._tables:
            cdb = self.new_db()
            for name in self._tables:
                try:
                    cdb.exec(self.drop_table_sql(name))
                except Exception as e:
                    errors.append(f"drop {name}: {e!r}")
        for d in self._dbs:
            try:
                d.close()
            except Exception as e:
                errors.append(f"close db: {e!r}")
        if errors:
            pytest.fail("cleanup failed: " + "; ".join(errors))

    def new_db(self) -> DB:
        """Open another DB on the DSN, closed at the end of the test."""
        d = self.open_db()
        self._dbs.append(d)
        return d

    def q(self, query: str) -> str:
        """Rewrite the "?" placeholders of a test query to the driver's style."""
        if self.placeholder == "?":
            return query
        n = itertools.count(1)
        return re.sub(r"\?", lambda _: f"${next(n)}", query)

    def table_name(self) -> str:
        """A table name unique to this run, dropped after the test."""
        name = f"dbsql_kit_{_RUN_ID}_{next(_table_seq)}"
        self._tables.append(name)
        return name

    def create_table(self, columns: str, db: DB | None = None) -> str:
        """CREATE TABLE with a unique name and columns; return the name."""
        name = self.table_name()
        (db or self.db).exec(f"CREATE TABLE {name} ({columns})")
        return name

    def assert_no_leak(self, db: DB | None = None) -> None:
        """Wait until no connection is in use; then every open one is idle."""
        d = db or self.db
        wait_for(lambda: d.stats().in_use == 0, what="no connection in use")
        s = d.stats()
        assert s.open_connections == s.idle, s
        assert s.open_connections == s.in_use + s.idle, s

    def assert_usable(self, db: DB | None = None) -> None:
        d = db or self.db
        assert d.query_row("SELECT 1").scan(int) == (1,)

    def _need(self, value: Any, hook: str) -> Any:
        if value is None:
            pytest.skip(f"the suite's {hook} hook is not set")
        return value

    def _conn_id(self, c: dbsql.Conn) -> Any:
        sql = self._need(self.connection_id_sql, "connection_id_sql")
        return c.query_row(sql).scan(object)[0]

    # ------------------------------------------------------------------
    # Go's driver suite (bradfitz/go-sql-test).

    def test_blobs(self) -> None:
        blob_type = self._need(self.blob_type, "blob_type")
        blob = bytes(range(16))
        t = self.create_table(f"id INTEGER PRIMARY KEY, bar {blob_type}")
        self.db.exec(self.q(f"INSERT INTO {t} (id, bar) VALUES (?, ?)"), 0, blob)

        (got,) = self.db.query_row(self.q(f"SELECT bar FROM {t} WHERE id = ?"), 0).scan(bytes)
        assert got.hex() == blob.hex(), "for bytes"

        (got_s,) = self.db.query_row(self.q(f"SELECT bar FROM {t} WHERE id = ?"), 0).scan(str)
        assert got_s == blob.decode(), "for str"

    def test_many_query_row(self) -> None:
        t = self.create_table("id INTEGER PRIMARY KEY, name VARCHAR(50)")
        self.db.exec(self.q(f"INSERT INTO {t} (id, name) VALUES (?, ?)"), 1, "bob")
        query = self.q(f"SELECT name FROM {t} WHERE id = ?")
        for i in range(self.many_query_row_count):
            (name,) = self.db.query_row(query, 1).scan(str)
            assert name == "bob", f"on query {i}"
        self.assert_no_leak()

    def test_query_in_tx(self) -> None:
        # Go creates the table inside the transaction; MySQL commits DDL
        # implicitly, so it is created first as newer versions of the suite do.
        t = self.create_table("id INTEGER PRIMARY KEY, name VARCHAR(50)")
        tx = self.db.begin()
        try:
            tx.exec(self.q(f"INSERT INTO {t} (id, name) VALUES (?, ?)"), 1, "bob")
            with tx.query(self.q(f"SELECT name FROM {t} WHERE id = ?"), 1) as r:
                assert r.next(), f"expected one row (err: {r.err()!r})"
                assert r.scan(str) == ("bob",)
        finally:
            tx.rollback()
        assert self.db.query_row(f"SELECT count(*) FROM {t}").scan(int) == (0,)
        self.assert_no_leak()

    def test_prepared_stmt(self) -> None:
        t = self.create_table("count INT")
        sel = self.db.prepare(f"SELECT count FROM {t} ORDER BY count DESC")
        ins = self.db.prepare(self.q(f"INSERT INTO {t} (count) VALUES (?)"))
        try:
            for n in range(1, 4):
                ins.exec(n)

            errors: list[BaseException] = []
            errors_mu = threading.Lock()

            def worker() -> None:
                try:
                    for _ in range(10):
                        with contextlib.suppress(NoRowsError):
                            sel.query_row().scan(int)
                        ins.exec(random.randrange(100))
                except BaseException as e:
                    with errors_mu:
                        errors.append(e)

            threads = [threading.Thread(target=worker) for _ in range(10)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(60)
                assert not th.is_alive(), "a thread of the prepared-statement test hangs"
            assert not errors, errors
            assert self.db.query_row(f"SELECT count(*) FROM {t}").scan(int) == (103,)
        finally:
            sel.close()
            ins.close()
        self.assert_no_leak()

    # ------------------------------------------------------------------
    # Type round trips.

    def _round_trip(self, col_type: str, values: Sequence[Any], dest: Any) -> list[Any]:
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {col_type}")
        for i, v in enumerate(values):
            self.db.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), i, v)
        out: list[Any] = []
        with self.db.query(f"SELECT v FROM {t} ORDER BY id") as rows:
            while rows.next():
                out.append(rows.scan(dest)[0])
            assert rows.err() is None
        assert len(out) == len(values)
        return out

    def test_null_round_trip(self) -> None:
        types_: list[tuple[str, Any]] = [
            (self.int_type, int),
            (self.text_type, str),
            (self.float_type, float),
        ]
        if self.blob_type is not None:
            types_.append((self.blob_type, bytes))
        if self.bool_type is not None:
            types_.append((self.bool_type, bool))
        if self.decimal_type is not None:
            types_.append((self.decimal_type, decimal.Decimal))
        if self.timestamp_type is not None:
            types_.append((self.timestamp_type, datetime.datetime))
        if self.timestamp_tz_type is not None:
            types_.append((self.timestamp_tz_type, datetime.datetime))
        cols = ", ".join(f"c{i} {ct}" for i, (ct, _) in enumerate(types_))
        t = self.create_table(f"id INTEGER PRIMARY KEY, {cols}")
        names = ", ".join(f"c{i}" for i in range(len(types_)))
        marks = ", ".join("?" for _ in types_)
        self.db.exec(
            self.q(f"INSERT INTO {t} (id, {names}) VALUES (?, {marks})"), 1, *([None] * len(types_))
        )
        row = self.db.query_row(f"SELECT {names} FROM {t}")
        got = row.scan(*[py | None for _, py in types_])
        assert got == tuple(None for _ in types_)
        got_any = self.db.query_row(f"SELECT {names} FROM {t}").scan(*[object for _ in types_])
        assert got_any == tuple(None for _ in types_)
        # A NULL into a non-nullable destination is an error, not a zero value.
        with pytest.raises(Exception):  # noqa: B017 - the scan error type is dbsql's
            self.db.query_row(f"SELECT c0 FROM {t}").scan(int)

    def test_zero_length_blob(self) -> None:
        blob_type = self._need(self.blob_type, "blob_type")
        assert self._round_trip(blob_type, [b""], bytes) == [b""]
        assert self._round_trip(blob_type, [b""], object) == [b""]

    def test_large_blob(self) -> None:
        blob_type = self._need(self.blob_type, "blob_type")
        blob = random.Random(1).randbytes(self.large_blob_size)
        assert self._round_trip(blob_type, [blob], bytes) == [blob]

    def test_int64_round_trip(self) -> None:
        values = [-(1 << 63), (1 << 63) - 1, 0, -1, 1, 1 << 32]
        assert self._round_trip(self.int_type, values, int) == values
        assert self._round_trip(self.int_type, values, object) == values

    def test_decimal_round_trip(self) -> None:
        dec_type = self._need(self.decimal_type, "decimal_type")
        values = [
            decimal.Decimal("12345678901234567890.0123456789"),
            decimal.Decimal("-0.0000000001"),
            decimal.Decimal("0"),
            decimal.Decimal("-99999999999999999999.9999999999"),
        ]
        got = self._round_trip(dec_type, values, decimal.Decimal)
        assert got == values, got  # Decimal compares by value: scale may differ

    def test_float_round_trip(self) -> None:
        values = [1.5, -2.25, 0.1, 1e300, -1e-300, 0.0]
        assert self._round_trip(self.float_type, values, float) == values

    def test_bool_round_trip(self) -> None:
        bool_type = self._need(self.bool_type, "bool_type")
        assert self._round_trip(bool_type, [True, False], bool) == [True, False]

    def test_unicode_round_trip(self) -> None:
        values = [
            "héllo wörld",
            "日本語のテキスト",
            "emoji 🎉 and ✓",
            "",
            "quote ' double \" backslash \\ percent % question ?",
            "Ω" * 200,
        ]
        assert self._round_trip(self.text_type, values, str) == values
        # As a literal too: the driver sends the text as it is.
        (got,) = self.db.query_row("SELECT 'héllo ✓ 🎉'").scan(str)
        assert got == "héllo ✓ 🎉"

    def test_timestamp_round_trip(self) -> None:
        ts_type = self._need(self.timestamp_type, "timestamp_type")
        values = [
            datetime.datetime(2021, 3, 4, 5, 6, 7, 123456),
            datetime.datetime(1999, 12, 31, 23, 59, 59),
            datetime.datetime(2038, 1, 19, 3, 14, 8, 1),
        ]
        got = self._round_trip(ts_type, values, datetime.datetime)
        for want, g in zip(values, got, strict=True):
            # A zone-less timestamp may come back naive or labelled UTC, with
            # the same wall clock.
            assert g.utcoffset() in (None, datetime.timedelta(0)), g
            assert g.replace(tzinfo=None) == want

    def test_timestamp_tz_round_trip(self) -> None:
        tz_type = self._need(self.timestamp_tz_type, "timestamp_tz_type")
        values = [
            datetime.datetime(2021, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.UTC),
            datetime.datetime(
                2021,
                3,
                4,
                5,
                6,
                7,
                tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
            ),
            datetime.datetime(
                1999, 12, 31, 23, 30, 40, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))
            ),
        ]
        got = self._round_trip(tz_type, values, datetime.datetime)
        for want, g in zip(values, got, strict=True):
            assert g.tzinfo is not None, f"{g!r}: the time zone was lost"
            assert g == want  # the same instant

    # ------------------------------------------------------------------
    # Results.

    def test_rows_affected(self) -> None:
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {self.int_type}")
        r = self.db.exec(f"INSERT INTO {t} (id, v) VALUES (1, 1), (2, 2), (3, 3)")
        assert r.rows_affected() == 3
        r = self.db.exec(self.q(f"UPDATE {t} SET v = v + 10 WHERE id >= ?"), 2)
        assert r.rows_affected() == 2
        r = self.db.exec(self.q(f"DELETE FROM {t} WHERE id = ?"), 99)
        assert r.rows_affected() == 0
        tx = self.db.begin()
        r = tx.exec(f"DELETE FROM {t}")
        assert r.rows_affected() == 3
        tx.rollback()
        self.assert_no_leak()

    def test_last_insert_id(self) -> None:
        pk = self._need(self.autoincrement_pk, "autoincrement_pk")
        t = self.create_table(f"id {pk}, v {self.int_type}")
        r1 = self.db.exec(self.q(f"INSERT INTO {t} (v) VALUES (?)"), 10)
        r2 = self.db.exec(self.q(f"INSERT INTO {t} (v) VALUES (?)"), 20)
        if not self.supports_last_insert_id:
            with pytest.raises(Exception) as ei:  # noqa: B017 - any clear error
                r1.last_insert_id()
            assert str(ei.value), "last_insert_id's error has no message"
            return
        id1, id2 = r1.last_insert_id(), r2.last_insert_id()
        assert id2 > id1 > 0
        assert self.db.query_row(self.q(f"SELECT v FROM {t} WHERE id = ?"), id2).scan(int) == (20,)
        assert self.db.query_row(self.q(f"SELECT v FROM {t} WHERE id = ?"), id1).scan(int) == (10,)

    def test_query_row_no_rows(self) -> None:
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {self.int_type}")
        with pytest.raises(NoRowsError):
            self.db.query_row(self.q(f"SELECT v FROM {t} WHERE id = ?"), 1).scan(int)
        self.assert_no_leak()

    def test_multi_result_sets(self) -> None:
        if not self.supports_multi_result_sets:
            pytest.skip("the suite says the driver has no multiple result sets")
        with self.db.query(self.multi_result_query) as rows:
            assert len(rows.columns()) == 1
            assert rows.next()
            assert rows.scan(int) == (1,)
            assert not rows.next()
            assert rows.next_result_set(), f"no second result set (err: {rows.err()!r})"
            assert len(rows.columns()) == 2
            assert rows.next()
            assert rows.scan(int, int) == (2, 3)
            assert not rows.next()
            assert not rows.next_result_set()
            assert rows.err() is None
        # Skipping the rest of a set.
        with self.db.query(self.multi_result_query) as rows:
            assert rows.next_result_set()
            assert rows.next()
            assert rows.scan(int, int) == (2, 3)
        # Reading only the first set and closing.
        with self.db.query(self.multi_result_query) as rows:
            assert rows.next()
        self.assert_no_leak()
        self.assert_usable()

    def test_column_types(self) -> None:
        cols = [("i", f"{self.int_type} NOT NULL"), ("s", f"{self.text_type} NULL")]
        values: list[Any] = [7, "seven"]
        if self.decimal_type is not None:
            cols.append(("d", self.decimal_type))
            values.append(decimal.Decimal("7.5"))
        if self.blob_type is not None:
            cols.append(("b", self.blob_type))
            values.append(b"\x07")
        if self.timestamp_type is not None:
            cols.append(("ts", self.timestamp_type))
            values.append(datetime.datetime(2020, 1, 2, 3, 4, 5))
        t = self.create_table(", ".join(f"{n} {ct}" for n, ct in cols))
        names = [n for n, _ in cols]
        marks = ", ".join("?" for _ in cols)
        self.db.exec(self.q(f"INSERT INTO {t} ({', '.join(names)}) VALUES ({marks})"), *values)
        with self.db.query(f"SELECT {', '.join(names)} FROM {t}") as rows:
            assert [c.lower() for c in rows.columns()] == names
            cts = rows.column_types()
            assert [c.name().lower() for c in cts] == names
            for ct in cts:
                tn = ct.database_type_name()
                assert tn == tn.upper(), f"{ct.name()}: type name {tn!r} is not upper case"
                assert "(" not in tn, f"{ct.name()}: type name {tn!r} has a length"
            by = {ct.name().lower(): ct for ct in cts}
            nullable, ok = by["i"].nullable()
            if ok:
                assert not nullable, "a NOT NULL column reported nullable"
            nullable, ok = by["s"].nullable()
            if ok:
                assert nullable, "a NULL column reported not nullable"
            m = re.search(r"\((\d+)\)", self.text_type)
            length, ok = by["s"].length()
            if ok and m is not None:
                assert length >= int(m.group(1)), f"length {length} of {self.text_type}"
            if "d" in by:
                prec, scale, ok = by["d"].decimal_size()
                if ok:
                    assert (prec, scale) == (30, 10), (prec, scale)
            # The scan types take the values (Go scans into reflect.New(ScanType())).
            scan_types = [ct.scan_type() for ct in cts]
            assert rows.next()
            got = rows.scan(*scan_types)
            assert len(got) == len(names)

    # ------------------------------------------------------------------
    # Transactions.

    def test_tx_commit_rollback(self) -> None:
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {self.int_type}")
        with self.db.begin() as tx:
            tx.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), 1, 1)
        tx = self.db.begin()
        tx.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), 2, 2)
        tx.rollback()
        with pytest.raises(TxDoneError):
            tx.commit()
        assert self.db.query_row(f"SELECT count(*) FROM {t}").scan(int) == (1,)
        self.assert_no_leak()

    def test_isolation_levels(self) -> None:
        if not self.isolation_levels and not self.unsupported_isolation_levels:
            pytest.skip("the suite lists no isolation levels")
        for level in self.isolation_levels:
            tx = self.db.begin_tx(context.background(), TxOptions(isolation=level))
            try:
                assert tx.query_row("SELECT 1").scan(int) == (1,)
                if self.current_isolation_sql is not None:
                    (cur,) = tx.query_row(self.current_isolation_sql).scan(str)
                    assert _norm_level(cur) == _norm_level(str(level)), (level, cur)
            finally:
                tx.rollback()
        for level in self.unsupported_isolation_levels:
            with pytest.raises(Exception):  # noqa: B017 - any clear error
                tx = self.db.begin_tx(context.background(), TxOptions(isolation=level))
                tx.rollback()
        self.assert_no_leak()
        self.assert_usable()

    def test_read_only_tx(self) -> None:
        if self.supports_read_only is None:
            pytest.skip("the suite's supports_read_only hook is not set")
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {self.int_type}")
        if not self.supports_read_only:
            with pytest.raises(Exception):  # noqa: B017 - any clear error
                tx = self.db.begin_tx(context.background(), TxOptions(read_only=True))
                tx.rollback()
        else:
            tx = self.db.begin_tx(context.background(), TxOptions(read_only=True))
            try:
                assert tx.query_row(f"SELECT count(*) FROM {t}").scan(int) == (0,)
                with pytest.raises(Exception):  # noqa: B017 - the database's error
                    tx.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), 1, 1)
            finally:
                tx.rollback()
            # The next transaction on the connection is not read-only.
            self.db.set_max_open_conns(1)
            with self.db.begin() as tx2:
                tx2.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), 1, 1)
        self.assert_no_leak()

    # ------------------------------------------------------------------
    # Errors and early closes leave the pool usable.

    def test_query_error_keeps_pool_usable(self) -> None:
        self.db.set_max_open_conns(1)
        with pytest.raises(Exception):  # noqa: B017 - the database's syntax error
            self.db.exec("SELEC nonsense FROM nowhere")
        with pytest.raises(Exception):  # noqa: B017
            self.db.query("SELECT * FROM dbsql_kit_no_such_table_" + _RUN_ID)
        self.assert_no_leak()
        self.assert_usable()
        tx = self.db.begin()
        with pytest.raises(Exception):  # noqa: B017
            tx.exec("SELEC nonsense FROM nowhere")
        tx.rollback()
        self.assert_no_leak()
        self.assert_usable()

    def test_rows_closed_early(self) -> None:
        self.db.set_max_open_conns(1)
        for _ in range(3):
            rows = self.db.query(self.series_query(5000))
            assert rows.next()
            assert rows.scan(int) == (1,)
            rows.close()
            assert rows.err() is None
            self.assert_no_leak()
            self.assert_usable()

    def test_ping_pool(self) -> None:
        self.db.ping()
        ctx, cancel = context.with_cancel(context.background())
        cancel()
        with pytest.raises(context.Canceled):
            self.db.ping_context(ctx)
        self.assert_no_leak()

    # ------------------------------------------------------------------
    # Cancellation.

    def test_context_done_before_query(self) -> None:
        ctx, cancel = context.with_cancel(context.background())
        cancel()
        with pytest.raises(context.Canceled):
            self.db.exec_context(ctx, "SELECT 1")
        with pytest.raises(context.Canceled):
            self.db.query_context(ctx, "SELECT 1")
        with pytest.raises(context.Canceled):
            self.db.begin_tx(ctx)
        self.assert_no_leak()
        self.assert_usable()

    def test_cancel_while_waiting_for_conn(self) -> None:
        db = self.db
        db.set_max_open_conns(1)
        held = db.conn()
        try:
            ctx, cancel = context.with_timeout(context.background(), 0.2)
            start = time.monotonic()
            with pytest.raises(context.DeadlineExceeded):
                db.query_row_context(ctx, "SELECT 1").scan(int)
            cancel()
            assert time.monotonic() - start < 5
            s = db.stats()
            assert s.wait_count >= 1, s
            assert s.in_use == 1 and s.open_connections == 1, s
        finally:
            held.close()
        self.assert_no_leak()
        self.assert_usable()

    def _sleep(self, seconds: float = 10.0) -> str:
        q: str | None = self.sleep_query(seconds)
        return str(self._need(q, "sleep_query"))

    def _check_interrupted(self, f: Callable[[context.Context], Any]) -> None:
        """f runs the sleep query with a context that ends 0.3s in: the
        context's error is raised promptly and nothing leaks."""
        ctx, cancel = context.with_timeout(context.background(), 0.3)
        start = time.monotonic()
        try:
            with pytest.raises(context.DeadlineExceeded):
                f(ctx)
        finally:
            cancel()
        elapsed = time.monotonic() - start
        assert elapsed < 5, f"the statement was not interrupted: {elapsed:.1f}s"
        self.assert_no_leak()
        self.assert_usable()

    def test_cancel_while_running_exec(self) -> None:
        q = self._sleep()
        self.db.set_max_open_conns(1)
        self._check_interrupted(lambda ctx: self.db.exec_context(ctx, q))

    def test_cancel_while_running_query(self) -> None:
        q = self._sleep()
        self.db.set_max_open_conns(1)

        def run(ctx: context.Context) -> None:
            with self.db.query_context(ctx, q) as rows:
                while rows.next():
                    pass
                err = rows.err()
                if err is not None:
                    raise err

        self._check_interrupted(run)

    def test_cancel_with_cancel_func(self) -> None:
        q = self._sleep()
        self.db.set_max_open_conns(1)
        ctx, cancel = context.with_cancel(context.background())
        timer = threading.Timer(0.3, cancel)
        timer.start()
        start = time.monotonic()
        try:
            with pytest.raises(context.Canceled):
                self.db.query_row_context(ctx, q).scan(object)
        finally:
            timer.cancel()
            cancel()
        assert time.monotonic() - start < 5
        self.assert_no_leak()
        self.assert_usable()

    def test_cancel_while_running_stmt(self) -> None:
        q = self._sleep()
        self.db.set_max_open_conns(1)
        stmt = self.db.prepare(q)
        try:
            self._check_interrupted(lambda ctx: stmt.exec_context(ctx))
        finally:
            stmt.close()
        self.assert_no_leak()

    def test_cancel_while_running_in_tx(self) -> None:
        q = self._sleep()
        self.db.set_max_open_conns(1)
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {self.int_type}")
        tx = self.db.begin()
        try:
            tx.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), 1, 1)
            ctx, cancel = context.with_timeout(context.background(), 0.3)
            start = time.monotonic()
            with pytest.raises(context.DeadlineExceeded):
                tx.exec_context(ctx, q)
            cancel()
            assert time.monotonic() - start < 5
        finally:
            tx.rollback()
        assert self.db.query_row(f"SELECT count(*) FROM {t}").scan(int) == (0,)
        self.assert_no_leak()
        self.assert_usable()

    def test_cancel_while_fetching(self) -> None:
        self.db.set_max_open_conns(1)
        ctx, cancel = context.with_cancel(context.background())
        rows = self.db.query_context(ctx, self.series_query(100000))
        try:
            assert rows.next()
            assert rows.scan(int) == (1,)
            cancel()
            deadline = time.monotonic() + 10
            n = 1
            while rows.next():
                n += 1
                assert time.monotonic() < deadline, "rows kept coming after cancel"
            assert n < 100000, "all rows were read: the cancel was not noticed"
            assert isinstance(rows.err(), context.Canceled), rows.err()
        finally:
            rows.close()
        self.assert_no_leak()
        self.assert_usable()

    def test_cancel_before_commit(self) -> None:
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {self.int_type}")
        ctx, cancel = context.with_cancel(context.background())
        tx = self.db.begin_tx(ctx)
        tx.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), 1, 1)
        cancel()
        with pytest.raises(context.Canceled):
            tx.commit()
        # The context's end rolls the transaction back (asynchronously).
        self.assert_no_leak()
        with pytest.raises(TxDoneError):
            tx.rollback()
        assert self.db.query_row(f"SELECT count(*) FROM {t}").scan(int) == (0,)
        self.assert_usable()

    # ------------------------------------------------------------------
    # Session reset.

    def _one_conn_db(self) -> DB:
        db = self.db
        db.set_max_open_conns(1)
        db.set_max_idle_conns(1)
        return db

    def test_session_reset_open_transaction(self) -> None:
        begin = self._need(self.begin_sql, "begin_sql")
        db = self._one_conn_db()
        t = self.create_table(f"id INTEGER PRIMARY KEY, v {self.int_type}")
        c1 = db.conn()
        c1.exec(begin)
        c1.exec(self.q(f"INSERT INTO {t} (id, v) VALUES (?, ?)"), 1, 1)
        c1.close()
        with db.conn() as c2:
            # Within a transaction still open, its own insert would be visible.
            assert c2.query_row(f"SELECT count(*) FROM {t}").scan(int) == (0,), (
                "a transaction left open reached the next borrower"
            )
        self.assert_no_leak()

    def test_session_reset_temp_table(self) -> None:
        name = f"dbsql_kit_tmp_{_RUN_ID}_{next(_table_seq)}"
        sql = self._need(self.temp_table_sql(name), "temp_table_sql")
        db = self._one_conn_db()
        c1 = db.conn()
        c1.exec(sql)
        assert c1.query_row(f"SELECT count(*) FROM {name}").scan(int) == (0,)
        c1.close()
        with db.conn() as c2:
            try:
                c2.query_row(f"SELECT count(*) FROM {name}").scan(int)
            except Exception:
                pass  # the table is gone: good
            else:
                c2.exec(self.drop_table_sql(name))
                pytest.fail("a temporary table reached the next borrower")
        self.assert_no_leak()

    def test_session_reset_session_variable(self) -> None:
        marker = f"dbsql_kit_{_RUN_ID}"
        set_sql, get_sql = self._need(self.session_var_sql(marker), "session_var_sql")
        db = self._one_conn_db()
        c1 = db.conn()
        c1.exec(set_sql)
        assert str(c1.query_row(get_sql).scan(str | None)[0]) == marker
        c1.close()
        with db.conn() as c2:
            (got,) = c2.query_row(get_sql).scan(str | None)
            assert got != marker, "a session variable reached the next borrower"
        self.assert_no_leak()

    # ------------------------------------------------------------------
    # Connections the server drops.

    def _kill(self, via: dbsql.Conn, conn_id: Any) -> None:
        sql = self._need(self.kill_connection_sql(conn_id), "kill_connection_sql")
        via.exec(sql)
        alive = self.connection_alive_sql(conn_id)
        if alive is not None:
            wait_for(
                lambda: via.query_row(alive).scan(int)[0] == 0,
                what=f"connection {conn_id} to be gone",
            )

    def test_stale_pooled_connection(self) -> None:
        self._need(self.kill_connection_sql(0), "kill_connection_sql")
        db = self.db
        db.set_max_idle_conns(1)
        c1 = db.conn()
        c2 = db.conn()
        id1 = self._conn_id(c1)
        c1.close()  # idle in the pool
        self._kill(c2, id1)
        c2.close()  # the pool is full: closed
        s = db.stats()
        assert s.open_connections == 1 and s.idle == 1, s
        # The next query meets the dead connection first: it must succeed.
        with db.conn() as c3:
            assert self._conn_id(c3) != id1
        assert db.query_row("SELECT 1").scan(int) == (1,)
        self.assert_no_leak()

    def test_killed_connection_in_use(self) -> None:
        self._need(self.kill_connection_sql(0), "kill_connection_sql")
        db = self.db
        c1 = db.conn()
        c2 = db.conn()
        id1 = self._conn_id(c1)
        self._kill(c2, id1)
        c2.close()
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver reports
            c1.query_row("SELECT 1").scan(int)
        with contextlib.suppress(ConnDoneError):
            c1.close()
        for _ in range(3):
            with db.conn() as c:
                assert self._conn_id(c) != id1
        self.assert_no_leak()

    # ------------------------------------------------------------------
    # Pool statistics.

    def test_pool_stats_add_up(self) -> None:
        db = self.db
        db.set_max_idle_conns(3)
        conns = [db.conn() for _ in range(3)]
        s = db.stats()
        assert (s.open_connections, s.in_use, s.idle) == (3, 3, 0), s
        conns.pop().close()
        s = db.stats()
        assert (s.open_connections, s.in_use, s.idle) == (3, 2, 1), s
        for c in conns:
            c.close()
        s = db.stats()
        assert (s.open_connections, s.in_use, s.idle) == (3, 0, 3), s
        db.set_max_idle_conns(1)
        s = db.stats()
        assert (s.open_connections, s.in_use, s.idle) == (1, 0, 1), s
        assert s.max_idle_closed == 2, s
        self.assert_usable()
        self.assert_no_leak()

    def test_pool_wait_count(self) -> None:
        db = self.db
        db.set_max_open_conns(1)
        held = db.conn()
        got: list[Any] = []

        def waiter() -> None:
            with db.conn() as c:
                got.append(c.query_row("SELECT 1").scan(int))

        th = threading.Thread(target=waiter)
        th.start()
        try:
            wait_for(lambda: db.stats().wait_count == 1, what="a waiter")
            s = db.stats()
            assert (s.open_connections, s.in_use, s.idle) == (1, 1, 0), s
        finally:
            held.close()
        th.join(10)
        assert not th.is_alive()
        assert got == [(1,)]
        s = db.stats()
        assert s.wait_count == 1 and s.wait_duration > 0, s
        self.assert_no_leak()

    # ------------------------------------------------------------------
    # Beyond Go: the optional batch reads (driver.RowsNextBatch), checked when
    # the driver's Rows implement them.

    def test_next_batch_matches_next(self) -> None:
        n = 250
        query = self.series_query(n)
        bg = context.background()
        results: dict[str, Any] = {}

        def read(dc: Any) -> None:
            stmts: list[Any] = []

            def open_rows() -> Any:
                if isinstance(dc, driver.QueryerContext):
                    return dc.query_context(bg, query, [])
                # (No QueryerContext: through statements, closed at the end.)
                st = dc.prepare(query)
                stmts.append(st)
                return st.query([])

            try:
                read_rows(open_rows)
            finally:
                for st in stmts:
                    st.close()

        def read_rows(open_rows: Callable[[], Any]) -> None:
            rows = open_rows()
            if not isinstance(rows, driver.RowsNextBatch):
                rows.close()
                results["skip"] = type(rows).__name__
                return
            results["next"] = drain_next(rows)
            rows.close()
            for size in (1, 7, n, n + 100):
                rows = open_rows()
                results[f"batches {size}"] = drain_batches(rows, size)
                results[f"end {size}"] = rows.next_batch(size)  # the end stays the end
                rows.close()
            # Rows taken with next first: next_batch hands out the others.
            rows = open_rows()
            dest: list[Any] = [None] * len(rows.columns())
            rows.next(dest)
            results["first"] = tuple(dest)
            results["rest"] = drain_batches(rows, 30)
            try:
                rows.next_batch(0)
            except ValueError as e:
                results["zero"] = e
            rows.close()

        with self.db.conn() as c:
            c.raw(read)
        if "skip" in results:
            pytest.skip(f"the driver's Rows ({results['skip']}) have no next_batch (optional)")
        want = results["next"]
        assert [int(r[0]) for r in want] == list(range(1, n + 1))
        for size in (1, 7, n, n + 100):
            assert results[f"batches {size}"] == want, f"next_batch({size})"
            assert results[f"end {size}"] == [], f"next_batch({size}) after the end"
        assert results["first"] == want[0]
        assert results["rest"] == want[1:]
        assert isinstance(results.get("zero"), ValueError), "next_batch(0) must raise ValueError"
        # dbsql reads such rows a batch at a time: the same rows, the same values.
        with self.db.query(query) as rows:
            assert list(rows) == want
        self.assert_no_leak()

    # ------------------------------------------------------------------
    # Beyond Go: the optional one-call row reads (driver.QueryerRowContext on
    # the Conn, driver.StmtQueryRowContext on a Stmt), checked when the driver
    # implements them.

    def test_query_row_context_matches_query(self) -> None:
        t = self.create_table("id INTEGER PRIMARY KEY, name VARCHAR(50)")
        self.db.exec(self.q(f"INSERT INTO {t} (id, name) VALUES (?, ?)"), 1, "ann")
        self.db.exec(self.q(f"INSERT INTO {t} (id, name) VALUES (?, ?)"), 2, "bob")
        by_id = self.q(f"SELECT id, name FROM {t} WHERE id = ?")
        cases: list[tuple[str, str, list[Any]]] = [
            ("one row", by_id, [2]),
            ("no row", by_id, [3]),
            ("first of several", self.q(f"SELECT id, name FROM {t} ORDER BY id"), []),
        ]
        bg = context.background()
        results: dict[str, Any] = {}

        def read(dc: Any) -> None:
            conn: Any = dc  # (for the Conn's other methods, whatever it implements)
            if not isinstance(dc, driver.QueryerRowContext):
                results["skip"] = type(dc).__name__
                return
            for name, query, args in cases:
                nvs = [driver.NamedValue("", i + 1, v) for i, v in enumerate(args)]
                try:
                    got = dc.query_row_context(bg, query, nvs)
                except driver.SkipError:
                    results[name] = None  # dbsql then reads it through query_context
                    continue
                got_cols = dc.query_row_columns()
                # What query_context (or a statement) and next give, on the same
                # connection after it.
                st = None
                if isinstance(dc, driver.QueryerContext):
                    rows = dc.query_context(bg, query, nvs)
                else:
                    st = conn.prepare(query)
                    rows = st.query([nv.value for nv in nvs])
                cols = rows.columns()
                dest: list[Any] = [None] * len(cols)
                try:
                    rows.next(dest)
                    want: tuple[Any, ...] | None = tuple(dest)
                except EOFError:
                    want = None
                rows.close()
                if st is not None:
                    st.close()
                results[name] = (got, want, got_cols, cols)
            try:
                dc.query_row_context(bg, "SELECT * FROM dbsql_kit_no_such_table_" + _RUN_ID, [])
            except driver.SkipError:
                pass
            except Exception as e:
                results["error"] = e
            # The same through a statement, when the driver's Stmt implements
            # driver.StmtQueryRowContext.
            stmt: Any = conn.prepare(by_id)
            try:
                if isinstance(stmt, driver.StmtQueryRowContext):
                    for arg in (2, 3):
                        try:
                            got = stmt.query_row_context(bg, [driver.NamedValue("", 1, arg)])
                        except driver.SkipError:
                            continue
                        results[f"stmt {arg}"] = (got, stmt.query_row_columns())
            finally:
                stmt.close()

        with self.db.conn() as c:
            c.raw(read)
        if "skip" in results:
            pytest.skip(
                f"the driver's Conn ({results['skip']}) has no query_row_context (optional)"
            )
        for name, _, _ in cases:
            if results[name] is None:
                continue
            got, want, got_cols, cols = results[name]
            assert got is None or type(got) is tuple, f"{name}: a tuple or None"
            assert got == want, f"{name}: query_row_context's row is next's first"
            if got is not None:
                assert list(got_cols) == list(cols), f"{name}: query_row_columns is columns()"
        assert "error" in results, "a failing query raises from query_row_context"
        for arg, case in ((2, "one row"), (3, "no row")):
            got_st = results.get(f"stmt {arg}")
            if got_st is None or results[case] is None:
                continue  # (no such method, or skipped by the driver)
            _, want, _, cols = results[case]
            assert got_st[0] == want, f"Stmt.query_row_context({arg}): the query's first row"
            if want is not None:
                assert list(got_st[1]) == list(cols), "Stmt.query_row_columns is columns()"
        # Through dbsql: the same values, and the connection back once scanned.
        assert self.db.query_row(by_id, 2).scan(int, str) == (2, "bob")
        with pytest.raises(dbsql.NoRowsError):
            self.db.query_row(by_id, 3).scan(int, str)
        self.assert_no_leak()
        self.assert_usable()
