"""Instructions per operation, counted by valgrind's callgrind: the noise-free
view of the one-thread workloads W1, W2, W4 and W5 (``python -m
benchmarks.instructions``; ``make bench`` runs it after the workloads when
valgrind is installed).

The workloads' µs per op move by ±30% on a shared machine, as does the raw
driver's own time from one machine to the next (its syscalls' cost varies most).
callgrind counts the instructions a process runs in user space, the same for
the same binary and inputs whatever else the machine does, so a change of 1% to
dbsql's path shows as 1%. It does not count the kernel's work (the raw
driver's file locking and reads): the ratios here are of user-space work, not
of time.

With ``DBSQL_TEST_POSTGRES_DSN`` set, W1's cases on PostgreSQL are counted too:
the client's instructions only (the server's work is in processes of its own), the
part of a point query that dbsql and its driver add on the client's CPU, which
on a 2-CPU machine the server shares.

Each case runs in a child process under callgrind twice, for N1 and N2
operations after the same warm-up; instructions per op is the difference of the
two totals over N2 - N1, which cancels start-up and set-up. The cases use the
workloads' tables (SQLite, a file in WAL mode: 1,000 people for W1, W4's
autoincrement table, 10,000 rows of (int, text, float, bool) for W5).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path
from threading import Lock
from urllib.parse import quote

__all__ = ["CASES", "main"]

ROOT = Path(__file__).resolve().parent.parent
QUERY = "SELECT id, name FROM people WHERE id = ?"
ROWS = 1_000
WARMUP = 200
N1, N2 = 1_000, 3_000

INSERT = "INSERT INTO tx (name) VALUES (?)"
SCAN = "SELECT id, name, score, flag FROM scan"
SCAN_ROWS = 10_000
# A W5 operation reads SCAN_ROWS rows: fewer of them are counted.
SCAN_WARMUP, SCAN_N1, SCAN_N2 = 1, 2, 6

# name -> (baseline name, what it is)
CASES: dict[str, tuple[str, str]] = {
    "raw": ("raw", "W1 raw sqlite3: 1 connection, reused cursor (execute + fetchone)"),
    "minimal": ("raw", "W1 minimal pool: get, cursor, execute, fetchone, close, put"),
    "query_row": ("raw", "W1 dbsql: db.query_row(q, id).scan(int, str)"),
    "stmt": ("raw", "W1 shape, dbsql: stmt.query_row(id).scan(int, str) (W6's op)"),
    "pool_minimal": ("pool_minimal", "W2 minimal pool: get() + put()"),
    "conn": ("pool_minimal", "W2 dbsql: db.conn() + close()"),
    "tx_raw": ("tx_raw", "W4 raw sqlite3: execute(insert) + commit()"),
    "tx": ("tx_raw", "W4 dbsql: db.begin(), tx.exec(insert), tx.commit()"),
    "scan_raw": ("scan_raw", "W5 raw sqlite3: execute + fetchall(), 10,000 rows"),
    "scan_iter": ("scan_raw", "W5 dbsql: for row in db.query(q)"),
    "scan_next": ("scan_raw", "W5 dbsql: next() + scan(int, str, float, bool)"),
    "pg_raw": ("pg_raw", "W1 PostgreSQL, raw psycopg: 1 connection, reused cursor"),
    "pg_query_row": ("pg_raw", "W1 PostgreSQL, dbsql: db.query_row(q, id).scan(int, str)"),
    "pg_stmt": ("pg_raw", "W1 PostgreSQL, dbsql: stmt.query_row(id).scan(int, str)"),
}
_SCANS = ("scan_raw", "scan_iter", "scan_next")
# The cases on the server of DBSQL_TEST_POSTGRES_DSN (skipped without it).
_PG = ("pg_raw", "pg_query_row", "pg_stmt")


def _setup(path: str, case: str) -> None:
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
    c.executemany("INSERT INTO people VALUES (?, ?)", [(i, f"n{i}") for i in range(1, ROWS + 1)])
    c.execute("CREATE TABLE tx (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
    if case in _SCANS:
        c.execute("CREATE TABLE scan (id INTEGER PRIMARY KEY, name TEXT, score REAL, flag BOOLEAN)")
        c.executemany(
            "INSERT INTO scan VALUES (?, ?, ?, ?)",
            [(i, f"name {i}", i * 0.5, i % 2 == 0) for i in range(1, SCAN_ROWS + 1)],
        )
    c.close()


def _op(case: str, path: str) -> Callable[[int], None]:
    """The operation of a case, on the database file at path."""
    if case == "tx_raw":
        txc = sqlite3.connect(path, isolation_level="DEFERRED")
        txc.execute("PRAGMA synchronous=NORMAL")
        txcur = txc.cursor()

        def tx_raw(i: int) -> None:
            txcur.execute(INSERT, (f"n{i}",))
            txc.commit()

        return tx_raw
    if case == "scan_raw":
        sc = sqlite3.connect(path, isolation_level=None).cursor()

        def scan_raw(i: int) -> None:
            sc.execute(SCAN)
            if len(sc.fetchall()) != SCAN_ROWS:
                raise AssertionError("scan_raw: short read")

        return scan_raw
    if case in ("raw", "minimal", "pool_minimal"):
        raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        raw.execute("PRAGMA synchronous=NORMAL")
        cur = raw.cursor()
        free: deque[sqlite3.Connection] = deque([raw])
        mu = Lock()

        def raw_op(i: int) -> None:
            cur.execute(QUERY, (i,))
            cur.fetchone()

        def minimal_op(i: int) -> None:
            with mu:
                c = free.pop()
            cu = c.cursor()
            cu.execute(QUERY, (i,))
            cu.fetchone()
            cu.close()
            with mu:
                free.append(c)

        def pool_op(i: int) -> None:
            with mu:
                c = free.pop()
            with mu:
                free.append(c)

        return {"raw": raw_op, "minimal": minimal_op, "pool_minimal": pool_op}[case]

    import dbsql
    from benchmarks.workloads import scan_next_all

    db = dbsql.open("sqlite3", f"file:{quote(path)}?_journal_mode=WAL&_synchronous=NORMAL")
    stmt = db.prepare(QUERY)

    def query_row(i: int) -> None:
        db.query_row(QUERY, i).scan(int, str)

    def stmt_op(i: int) -> None:
        stmt.query_row(i).scan(int, str)

    def conn(i: int) -> None:
        db.conn().close()

    def tx(i: int) -> None:
        t = db.begin()
        t.exec(INSERT, f"n{i}")
        t.commit()

    def scan_iter(i: int) -> None:
        if len([row for row in db.query(SCAN)]) != SCAN_ROWS:
            raise AssertionError("scan_iter: short read")

    def scan_next(i: int) -> None:
        if len(scan_next_all(db, SCAN)) != SCAN_ROWS:
            raise AssertionError("scan_next: short read")

    ops: dict[str, Callable[[int], None]] = {
        "query_row": query_row,
        "stmt": stmt_op,
        "conn": conn,
        "tx": tx,
        "scan_iter": scan_iter,
        "scan_next": scan_next,
    }
    return ops[case]


def _pg_child(case: str, n: int) -> None:
    """child for a PostgreSQL case: the workloads' people table, of its own name."""
    from benchmarks.wl_backends import open_backend

    b = open_backend("postgres")
    closers: list[Callable[[], object]] = [b.close]
    try:
        b.create_people()
        query = f"SELECT id, name FROM {b.people} WHERE id = $1"
        op: Callable[[int], None]
        if case == "pg_raw":
            raw = b.raw_connect()
            closers.append(raw.close)
            cur = raw.cursor()
            raw_query = query.replace("$1", "%s")

            def op(i: int) -> None:
                cur.execute(raw_query, (i,))
                cur.fetchone()
        else:
            db = b.dbsql_open()
            closers.append(db.close)
            stmt = db.prepare(query)
            closers.append(stmt.close)
            if case == "pg_query_row":

                def op(i: int) -> None:
                    db.query_row(query, i).scan(int, str)
            else:

                def op(i: int) -> None:
                    stmt.query_row(i).scan(int, str)

        for i in range(WARMUP + n):
            op(i % ROWS + 1)
    finally:
        for close in reversed(closers):
            close()


def child(case: str, n: int) -> None:
    """Run in the measured process: set up, warm up, then n operations."""
    if case in _PG:
        _pg_child(case, n)
        return
    d = tempfile.mkdtemp(prefix="dbsql-instr-")
    try:
        path = os.path.join(d, "people.db")
        _setup(path, case)
        op = _op(case, path)
        for i in range(SCAN_WARMUP if case in _SCANS else WARMUP):
            op(i % ROWS + 1)
        for i in range(n):
            op(i % ROWS + 1)
    finally:
        shutil.rmtree(d, ignore_errors=True)


_COLLECTED = re.compile(r"Collected : (\d+)")


def count(valgrind: str, case: str, n: int) -> int:
    """The instructions of a child process running n operations of case."""
    cmd = [
        valgrind,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        case,
        str(n),
    ]
    # A fixed hash seed: str hashes, and so dict probing, are then the same on
    # every run, and so is the count.
    env = dict(os.environ, PYTHONHASHSEED="0")
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    m = _COLLECTED.search(p.stderr)
    if p.returncode != 0 or m is None:
        raise RuntimeError(f"callgrind run of {case} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return int(m.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    ap.add_argument("-c", "--cases", default=",".join(CASES), help="e.g. raw,query_row")
    ap.add_argument("--child", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("instructions per op: skipped (valgrind is not installed)")
        return 0
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    # A ratio needs its baseline measured too; CASES' order puts it first.
    wanted = set(cases) | {CASES[c][0] for c in cases}
    cases = [c for c in CASES if c in wanted]
    if not os.environ.get("DBSQL_TEST_POSTGRES_DSN") and any(c in _PG for c in cases):
        cases = [c for c in cases if c not in _PG]
        print("instructions per op on PostgreSQL: skipped (DBSQL_TEST_POSTGRES_DSN is not set)")
    if not cases:
        return 0
    print(
        f"\nInstructions per op (callgrind, user space; {N2 - N1:,} ops after"
        f" {N1 + WARMUP:,}, W5 {SCAN_N2 - SCAN_N1} after {SCAN_N1 + SCAN_WARMUP};"
        " the same on every run: benchmarks/instructions.py)",
        flush=True,
    )
    per_op: dict[str, float] = {}
    for c in cases:
        print(f"  counting {c} ...", file=sys.stderr, flush=True)
        n1, n2 = (SCAN_N1, SCAN_N2) if c in _SCANS else (N1, N2)
        per_op[c] = (count(valgrind, c, n2) - count(valgrind, c, n1)) / (n2 - n1)
    width = max(len(CASES[c][1]) for c in cases)
    print(f"  {'case':<{width}}  {'instr/op':>9}  vs baseline")
    print(f"  {'-' * width}  {'-' * 9}  -----------")
    for c in cases:
        base, text = CASES[c]
        ratio = per_op[c] / per_op[base]
        print(f"  {text:<{width}}  {per_op[c]:>9,.0f}  {ratio:.2f}x {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
