"""The benchmarks newer Go added to database/sql's sql_test.go: BenchmarkGrabConn,
BenchmarkConnRequestSet and BenchmarkConvertAssignRows.

Each ``benchmark_*(n)`` does its work n times (Go's ``b.N``); set-up that Go does
before its loop is done here before the loop too.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import fakedb
from dbsql import context as dctx
from dbsql import sql
from dbsql.convert import _convert_assign_rows

__all__ = [
    "benchmark_conn_request_set",
    "benchmark_convert_assign_rows",
    "benchmark_grab_conn",
]


def benchmark_grab_conn(n: int) -> None:
    """Go's BenchmarkGrabConn: grab a Conn's driver connection and release it.

    Go uses a zero Conn; a Python Conn needs a DB, so it comes from a fake one.
    """
    db = sql.open_db(fakedb.FakeConnector(name="foo"))
    try:
        ctx = dctx.background()
        c = db.conn(ctx)
        try:
            grab = c._grab_conn
            for _ in range(n):
                _, release = grab(ctx)
                release(None)
        finally:
            c.close()
    finally:
        db.close()


def benchmark_conn_request_set(n: int) -> None:
    """Go's BenchmarkConnRequestSet: add 16, take 8, add 8, take 16 (then the set
    is empty), n times.

    Go adds nil requests; here 24 requests are made once and reused: at the end
    of each iteration all of them are out of the set again.
    """
    s = sql._ConnRequestSet()
    reqs = [sql._ConnRequest() for _ in range(24)]
    first, second = reqs[:16], reqs[16:]
    for _ in range(n):
        for r in first:
            s.add(r)
        for _ in range(8):
            if s.take_random() is None:
                raise AssertionError("want ok")
        for r in second:
            s.add(r)
        for _ in range(16):
            if s.take_random() is None:
                raise AssertionError("want ok")
        if s.take_random() is not None:
            raise AssertionError("unexpected ok")


_NOW = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)

# (destination, source) pairs: the common scans, each a fast path of
# convertAssignRows, then a few that go through the slower conversions.
_CONVERT_CASES: tuple[tuple[Any, Any], ...] = (
    (int, 42),  # Go's Int64ToInt
    (str, "hello"),
    (bytes, b"hello"),
    (sql.RawBytes, b"hello"),
    (float, 1.5),
    (bool, True),
    (datetime.datetime, _NOW),
    (object, 42),
    (sql.Int32, 42),
    (str, 42),
    (int, "42"),
    (int | None, None),
    (decimal.Decimal, "1.25"),
)


def benchmark_convert_assign_rows(n: int) -> None:
    """Go's BenchmarkConvertAssignRows: convert driver values for scan
    destinations. One iteration converts each of the cases above once."""
    cases = _CONVERT_CASES
    for _ in range(n):
        for dest, src in cases:
            _convert_assign_rows(dest, src, None)
