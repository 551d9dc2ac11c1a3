"""The benchmark tools that explain the misses of issue 5: the instruction counts
(benchmarks/instructions.py), W6's one-CPU rows and the W3/W6 rows carrying dbsql's
Python per op as busy work (benchmarks/workloads.py).
The measurements themselves run in ``make bench``; here, that the cases run and
measure what they say."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from benchmarks import instructions, workloads
from benchmarks.wl_backends import open_backend


@pytest.mark.parametrize("case", list(instructions.CASES))
def test_instruction_cases_run(case: str) -> None:
    # Every case runs its operation (the counts need valgrind; make bench runs them).
    if case.startswith("pg_") and not os.environ.get("DBSQL_TEST_POSTGRES_DSN"):
        pytest.skip("DBSQL_TEST_POSTGRES_DSN is not set: no PostgreSQL server to count against")
    instructions.child(case, 5)


def test_instruction_pg_cases_skipped_without_dsn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DBSQL_TEST_POSTGRES_DSN", raising=False)
    monkeypatch.setattr("benchmarks.instructions.shutil.which", lambda name: "/bin/valgrind")

    def count(valgrind: str, case: str, n: int) -> int:
        raise AssertionError(f"{case} counted")

    monkeypatch.setattr("benchmarks.instructions.count", count)
    assert instructions.main(["-c", "pg_query_row"]) == 0
    assert "on PostgreSQL: skipped (DBSQL_TEST_POSTGRES_DSN is not set)" in capsys.readouterr().out


def test_instruction_case_baselines_are_cases() -> None:
    for case, (base, text) in instructions.CASES.items():
        assert base in instructions.CASES, case
        assert text.startswith(("W1", "W2", "W4", "W5")), text


def test_instruction_count_parses_callgrind(monkeypatch: pytest.MonkeyPatch) -> None:
    class Done:
        returncode = 0
        stderr = "==1== Events    : Ir\n==1== Collected : 123456\n"

    seen: list[list[str]] = []

    def run(cmd: list[str], **kw: Any) -> Done:
        seen.append(cmd)
        return Done()

    monkeypatch.setattr("benchmarks.instructions.subprocess.run", run)
    assert instructions.count("valgrind", "raw", 10) == 123456
    assert seen[0][:3] == ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    assert seen[0][-3:] == ["--child", "raw", "10"]

    Done.returncode = 1
    with pytest.raises(RuntimeError, match="callgrind run of raw failed"):
        instructions.count("valgrind", "raw", 10)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="os.sched_setaffinity is Linux's")
def test_one_cpu_pins_each_worker_thread_only() -> None:
    main_cpus = os.sched_getaffinity(0)
    seen: list[set[int]] = []

    def make() -> tuple[Any, Any]:
        def factory() -> tuple[Any, Any]:
            seen.append(os.sched_getaffinity(0))
            return (lambda: -1.0), (lambda: None)

        return factory, (lambda: None)

    factory, close = workloads._on_one_cpu(make)()
    t = threading.Thread(target=factory)
    t.start()
    t.join()
    close()
    assert seen == [{min(main_cpus)}]
    assert os.sched_getaffinity(0) == main_cpus  # the calling thread is left as it was


def test_py_cost_rows_calibrate_and_spread_busy_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # W3's and W6's "+ dbsql's Python per op" rows: the chunk is calibrated from
    # dbsql's own operation against the raw query (both closed afterwards), and
    # the work runs the raw point query with a chunk of busy Python before the
    # cursor, before fetchone, before close and after close.
    b = open_backend("sqlite")
    try:
        b.create_people()
        q_raw, q_db, _ = workloads._point_queries(b)
        opened: list[Any] = []
        closed: list[str] = []

        def dbsql_op(db: Any) -> tuple[Any, Any]:
            opened.append(db)
            return (lambda: db.query_row(q_db, 7).scan(int, str)), (lambda: closed.append("op"))

        chunk = workloads._busy_chunk(b, q_raw, dbsql_op)
        assert isinstance(chunk, int) and chunk >= 0
        assert closed == ["op"] and len(opened) == 1
        with pytest.raises(Exception, match="database is closed"):
            opened[0].ping()

        calls: list[tuple[str, int]] = []
        real_busy = workloads._busy

        def busy(n: int) -> None:
            calls.append(("busy", n))
            real_busy(n)

        monkeypatch.setattr(workloads, "_busy", busy)
        conn = b.raw_connect()
        try:

            class Spy:
                def __init__(self, cur: Any) -> None:
                    self._cur = cur

                def execute(self, q: str, args: Any) -> None:
                    calls.append(("execute", args[0]))
                    self._cur.execute(q, args)

                def fetchone(self) -> Any:
                    row = self._cur.fetchone()
                    calls.append(("fetchone", row[0]))
                    return row

                def close(self) -> None:
                    calls.append(("close", 0))
                    self._cur.close()

            class SpyConn:
                def cursor(self) -> Spy:
                    calls.append(("cursor", 0))
                    return Spy(conn.cursor())

            workloads._point_work_busy(q_raw, 3)(SpyConn(), 7)
        finally:
            conn.close()
        assert calls == [
            ("busy", 3),
            ("cursor", 0),
            ("execute", 7),
            ("busy", 3),
            ("fetchone", 7),
            ("busy", 3),
            ("close", 0),
            ("busy", 3),
        ]
        assert workloads._PY_CHUNKS == 4
    finally:
        b.close()


def test_go_stmt_steps_take_go_locks_around_the_raw_query() -> None:
    # W6's floor row: the raw point query with the 13 lock round trips of a
    # shared Stmt's query_row in Go's order (shared db.mu, s.mu, closemu; the
    # connection's dc and ds), the execute under ds and the fetch under dc.
    from benchmarks.wl_pools import GoStmtSteps

    calls: list[str] = []

    class Spy:
        def __init__(self, name: str) -> None:
            self.name = name

        def __enter__(self) -> None:
            calls.append(self.name)

        def __exit__(self, *exc: object) -> None:
            calls.append("/" + self.name)

    b = open_backend("sqlite")
    try:
        b.create_people()
        q_raw, _, _ = workloads._point_queries(b)
        conn = b.raw_connect()
        try:

            class Cur:
                def __init__(self, cur: Any) -> None:
                    self._cur = cur

                def execute(self, q: str, args: Any) -> None:
                    calls.append(f"execute {args[0]}")
                    self._cur.execute(q, args)

                def fetchone(self) -> Any:
                    calls.append("fetchone")
                    return self._cur.fetchone()

            steps = GoStmtSteps()
            held = steps.conn(Cur(conn.cursor()))
            assert held.query_row(q_raw, 7) == (7, "name-7")  # a real query
            calls.clear()
            steps.db_mu, steps.mu, steps.closemu = Spy("db"), Spy("s"), Spy("closemu")  # type: ignore[assignment]
            held.dc, held.ds = Spy("dc"), Spy("ds")  # type: ignore[assignment]
            held.query_row(q_raw, 8)
        finally:
            conn.close()
    finally:
        b.close()
    # fmt: off
    assert calls == [
        "closemu", "/closemu", "s", "/s", "db", "/db", "dc", "/dc", "s", "/s",
        "ds", "execute 8", "/ds", "db", "/db", "closemu", "/closemu",
        "dc", "fetchone", "/dc", "dc", "/dc", "dc", "/dc", "db", "/db", "db", "/db",
    ]
    # fmt: on
    assert sum(1 for c in calls if c in ("closemu", "s", "db", "dc", "ds")) == 13
