"""dbsql beyond Go: exhaustion errors that explain themselves, leak detection,
ResourceWarnings for unclosed objects, and fork safety."""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import warnings
from typing import Any

import pytest

import fakedb
from dbsql import context as ctxmod
from dbsql import sql
from tests.sqltest import close_db, new_test_db, wait_condition


def test_exhausted_pool_error_keeps_type_and_explains() -> None:
    db = new_test_db("people")
    try:
        db.set_max_open_conns(1)
        held = db.conn()
        ctx, cancel = ctxmod.with_timeout(ctxmod.background(), 0.05)
        try:
            with pytest.raises(ctxmod.DeadlineExceeded) as info:
                db.query_context(ctx, "SELECT|people|age|")
        finally:
            cancel()
        err = info.value
        assert isinstance(err, TimeoutError)
        msg = str(err)
        assert msg.startswith("context deadline exceeded after waiting ")
        assert "(max open 1, 1 in use, 0 other waiting)" in msg
        assert isinstance(err.__cause__, ctxmod.DeadlineExceeded)

        # A cancel keeps the Canceled type.
        ctx2, cancel2 = ctxmod.with_cancel(ctxmod.background())
        threading.Timer(0.05, cancel2).start()
        with pytest.raises(ctxmod.Canceled, match=r"max open 1, 1 in use"):
            db.query_context(ctx2, "SELECT|people|age|")
        held.close()
    finally:
        close_db(db)


def test_leak_threshold_logs_holder_stack(caplog: pytest.LogCaptureFixture) -> None:
    db = new_test_db("people")
    try:
        db.set_leak_threshold(0.05)
        with caplog.at_level(logging.WARNING, logger="dbsql.leak"):
            rows = db.query("SELECT|people|age|")  # held past the threshold

            def reported() -> bool:
                return any("Rows has been held" in r.getMessage() for r in caplog.records)

            assert wait_condition(reported, timeout=10)
            msg = next(
                r.getMessage() for r in caplog.records if "Rows has been held" in r.getMessage()
            )
            # The stack names this test, where the rows were opened.
            assert "test_leak_threshold_logs_holder_stack" in msg
            assert "leak threshold 0.05s" in msg
            rows.close()

            caplog.clear()
            conn = db.conn()
            tx = db.begin()
            assert wait_condition(
                lambda: (
                    {"Conn", "Tx"}
                    <= {
                        r.getMessage().split()[2]
                        for r in caplog.records
                        if "held" in r.getMessage()
                    }
                ),
                timeout=10,
            )
            tx.rollback()
            conn.close()

            # Closed in time: nothing is reported.
            caplog.clear()
            db.set_leak_threshold(5)
            for _ in range(20):
                db.query_row("SELECT|people|age|name=?", "Bob").scan(int)
            assert not [r for r in caplog.records if "held" in r.getMessage()]
        db.set_leak_threshold(0)
        with pytest.raises(ValueError, match="set_leak_threshold"):
            db.set_leak_threshold(-1)
    finally:
        close_db(db)


@pytest.mark.parametrize("kind", ["Rows", "Conn", "Tx", "Stmt"])
def test_unclosed_resource_warning(kind: str) -> None:
    db = new_test_db("people")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        if kind == "Rows":
            obj: object = db.query("SELECT|people|age|")
        elif kind == "Conn":
            obj = db.conn()
        elif kind == "Tx":
            obj = db.begin()
        else:
            obj = db.prepare("SELECT|people|age|")
        del obj
        if kind == "Stmt":
            # As in Go, the DB keeps an open Stmt among its dependencies: it is
            # collected with the DB.
            db.close()
            del db
        gc.collect()
        unclosed = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert len(unclosed) == 1, [str(w.message) for w in caught]
        assert f"dbsql: unclosed {kind}" in str(unclosed[0].message)
        assert "set_leak_threshold" in str(unclosed[0].message)
    if kind != "Stmt":
        # As in Go, the warning does not return the leaked connection.
        assert db.stats().in_use == 1
        db.close()


def test_unclosed_warning_has_creating_stack_when_tracked() -> None:
    db = new_test_db("people")
    db.set_leak_threshold(60)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        db.query("SELECT|people|age|")
        gc.collect()
    msgs = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert len(msgs) == 1
    assert "it was opened at:" in msgs[0]
    assert "test_unclosed_warning_has_creating_stack_when_tracked" in msgs[0]
    db.close()


def test_closed_resources_do_not_warn() -> None:
    db = new_test_db("people")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            with db.query("SELECT|people|age|") as rows:
                list(rows)
            with db.conn() as c:
                c.ping()
            with db.begin() as tx:
                tx.exec("INSERT|people|name=Z,age=?", 9)
            with db.prepare("SELECT|people|age|") as st:
                st.query_row().scan(int)
            db.query_row("SELECT|people|age|name=?", "Bob").scan(int)
            gc.collect()
        assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    finally:
        close_db(db)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_fork_drops_inherited_connections() -> None:
    db = new_test_db("people")
    try:
        db.set_max_idle_conns(2)
        db.ping()
        inherited = fakedb.fake_conn_of(db._free_conn[0]._ci)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            code = 0
            try:
                os.close(r)
                (n,) = db.query_row("SELECT|people|age|name=?", "Bob").scan(int)
                free = [fakedb.fake_conn_of(dc._ci) for dc in db._free_conn]
                if n != 2:
                    code = 2
                elif inherited in free or inherited.db is None:
                    code = 3  # reused or closed the parent's connection
                elif db.stats().open_connections != 1:
                    code = 4
                db.close()
                if inherited.db is None:
                    code = 5  # closing the DB closed the parent's connection
            except BaseException as e:
                os.write(w, repr(e).encode())
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        _, status = os.waitpid(pid, 0)
        detail = os.read(r, 10000).decode()
        os.close(r)
        assert os.waitstatus_to_exitcode(status) == 0, detail
        # The parent's pool and connection still work.
        assert inherited.db is not None
        (n,) = db.query_row("SELECT|people|age|name=?", "Chris").scan(int)
        assert n == 3
        assert fakedb.fake_conn_of(db._free_conn[0]._ci) is inherited
    finally:
        close_db(db)


def test_open_db_wrong_argument_says_which() -> None:
    with pytest.raises(TypeError, match="open_db needs a driver.Connector"):
        sql.open_db("not a connector")  # type: ignore[arg-type]


# Python only: Go's collector frees cycles as it frees anything; CPython frees an
# object the moment its last reference goes, unless it is in a reference cycle,
# which waits for the cycle collector. An operation that leaves cycles behind
# keeps its Rows, driver Rows and cursors alive until then and makes the
# collector run more often. None of these may leave any.
def _ops() -> dict[str, Any]:
    def stmt_query_row(db: sql.DB) -> None:
        with db.prepare("SELECT id FROM t WHERE id = ?") as s:
            for i in (1, 2, 3):
                assert s.query_row(i).scan(int) == (i,)

    def conn_query(db: sql.DB) -> None:
        with db.conn() as c:
            assert c.query_row("SELECT 1").scan(int) == (1,)
            assert list(c.query("SELECT id FROM t")) == [(1,), (2,), (3,)]

    def tx_stmt(db: sql.DB) -> None:
        count = db.prepare("SELECT count(*) FROM t")
        tx = db.begin()
        tx.prepare("INSERT INTO t (id) VALUES (?)").exec(10)
        assert tx.stmt(count).query_row().scan(int) == (4,)
        tx.rollback()
        count.close()

    def rows_next_scan(db: sql.DB) -> None:
        rows = db.query("SELECT id, id FROM t")
        got = []
        while rows.next():
            got.append(rows.scan(int, str))
        rows.close()
        assert rows.err() is None and got == [(1, "1"), (2, "2"), (3, "3")]

    def tx_query(db: sql.DB) -> None:
        with db.begin() as tx:
            assert list(tx.query("SELECT id FROM t WHERE id < 3")) == [(1,), (2,)]

    return {
        "db.query_row": lambda db: db.query_row("SELECT id FROM t WHERE id = ?", 2).scan(int),
        "db.query iteration": lambda db: list(db.query("SELECT id FROM t")),
        "rows next + scan": rows_next_scan,
        "stmt.query_row": stmt_query_row,
        "db.conn + close": lambda db: db.conn().close(),
        "conn queries": conn_query,
        "tx + stmt": tx_stmt,
        "tx query": tx_query,
    }


@pytest.mark.parametrize("op", list(_ops()))
def test_operations_leave_no_reference_cycles(op: str) -> None:
    db = sql.open("sqlite3", ":memory:")
    try:
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        db.exec("INSERT INTO t (id) VALUES (1), (2), (3)")
        f = _ops()[op]
        f(db)  # warm: first-use caches
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                f(db)
            found = gc.collect()
        finally:
            gc.enable()
        assert found == 0, f"{op}: {found} objects were left in reference cycles"
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
