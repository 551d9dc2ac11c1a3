"""Shared fixtures: Go's init() double-free check on put_conn and the driver flavours."""

from __future__ import annotations

import os
import random
import sys
import threading
import traceback
from collections.abc import Iterator

import pytest
from hypothesis import settings

from dbsql import sql
from tests.sqltest import FLAVORS

# In CI the property tests (tests/test_bad_input.py) draw the same examples on
# every run, so that a red CI is never a lucky draw; elsewhere each run explores
# new inputs (and hypothesis replays any failure it found from .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


def pytest_sessionstart(session: pytest.Session) -> None:
    """make stress: DBSQL_SWITCH_INTERVAL (seconds) is the session's
    sys.setswitchinterval, so that threads interleave (nearly) at every bytecode;
    DBSQL_RANDOM_SEED seeds the random module (the pool picks waiters at random)."""
    interval = os.environ.get("DBSQL_SWITCH_INTERVAL", "")
    if interval:
        sys.setswitchinterval(float(interval))
    seed = os.environ.get("DBSQL_RANDOM_SEED", "")
    if seed:
        random.seed(int(seed))


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
