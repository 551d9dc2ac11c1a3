"""Shared fixtures: Go's init() double-free check on put_conn and the driver flavours."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator

import pytest

from dbsql import sql
from tests.sqltest import FLAVORS


@pytest.fixture(autouse=True)
def _double_free_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Go's init() in sql_test.go: put_conn_hook fails on a double free of a conn."""
    freed_from: dict[tuple[int, int], str] = {}
    mu = threading.Lock()

    def hook(db: sql.DB, c: sql._DriverConn) -> None:
        if any(x is c for x in db._free_conn):
            with mu:
                prev = freed_from.get((id(db), id(c)), "")
            raise RuntimeError(
                "double free of conn. conflicts are:\nA) "
                + prev
                + "\n\nand\nB) "
                + "".join(traceback.format_stack(limit=6))
            )
        with mu:
            freed_from[(id(db), id(c))] = "".join(traceback.format_stack(limit=6))

    monkeypatch.setattr(sql, "_put_conn_hook", hook)
    yield


@pytest.fixture(params=FLAVORS)
def flavor(request: pytest.FixtureRequest) -> str:
    """The driver flavour a test runs with: "basic", "default" or "scancols"."""
    return str(request.param)
