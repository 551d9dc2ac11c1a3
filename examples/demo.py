"""dbsql's demo on the embedded default driver (stdlib sqlite3): `make demo`.

Opens a SQLite database, creates and fills a table, runs concurrent workers
through a small pool, a transaction, a query cancelled by its deadline, and
prints the results and the pool's statistics.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time

import dbsql
from dbsql import context

WORKERS = 8
QUERIES_PER_WORKER = 250


def main() -> int:
    path = os.path.join(tempfile.mkdtemp(prefix="dbsql-demo-"), "demo.db")
    db = dbsql.open("sqlite3", f"file:{path}?_journal_mode=WAL&_busy_timeout=5000")
    with db:
        db.set_max_open_conns(4)
        db.set_max_idle_conns(4)
        print(f"opened {path} (sqlite3, max 4 open connections)")

        # Create and fill a table in one transaction.
        db.exec("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)")
        with db.begin() as tx:
            with tx.prepare("INSERT INTO people (id, name, age) VALUES (?, ?, ?)") as stmt:
                for i in range(1, 1001):
                    stmt.exec(i, f"person-{i}", 18 + i % 60)
        (count,) = db.query_row("SELECT count(*) FROM people").scan(int)
        print(f"inserted {count} people in one transaction")

        # Concurrent workers share the pool of 4 connections.
        errors: list[BaseException] = []
        total_age = [0]
        lock = threading.Lock()

        def worker(w: int) -> None:
            try:
                s = 0
                for q in range(QUERIES_PER_WORKER):
                    (age,) = db.query_row(
                        "SELECT age FROM people WHERE id = ?", (w * 97 + q) % 1000 + 1
                    ).scan(int)
                    s += age
                with lock:
                    total_age[0] += s
            except BaseException as e:  # reported below
                errors.append(e)

        start = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        n = WORKERS * QUERIES_PER_WORKER
        if errors:
            print(f"worker error: {errors[0]!r}", file=sys.stderr)
            return 1
        print(
            f"{WORKERS} workers ran {n} point queries through the pool in {elapsed:.3f}s "
            f"({elapsed / n * 1e6:.1f} µs/query); sum of ages {total_age[0]}"
        )

        # A transaction that rolls back on an exception.
        try:
            with db.begin() as tx:
                tx.exec("UPDATE people SET age = age + 1")
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        (age1,) = db.query_row("SELECT age FROM people WHERE id = 1").scan(int)
        print(f"transaction rolled back: person 1 is still {age1}")

        # A long query cancelled by its deadline.
        ctx, cancel = context.with_timeout(context.background(), 0.2)
        start = time.perf_counter()
        try:
            db.query_row_context(
                ctx,
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                "SELECT count(*) FROM c WHERE x < 1000000000000",
            ).scan(int)
            print("the long query was not cancelled", file=sys.stderr)
            return 1
        except context.DeadlineExceeded as err:
            print(f"long query stopped after {time.perf_counter() - start:.2f}s: {err}")
        finally:
            cancel()
        (count,) = db.query_row("SELECT count(*) FROM people").scan(int)
        print(f"the pool works after the cancel: {count} people")

        s = db.stats()
        print("DBStats:")
        for field in dbsql.DBStats.__slots__:
            print(f"  {field:22} {getattr(s, field)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
