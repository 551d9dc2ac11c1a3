"""fakedb: the test driver, a port of Go's fakedb_test.go.

Importing this package registers :data:`fdriver` as the driver named "test"
(Go's ``init``). The driver lives in :mod:`fakedb.fakedb`; its test hooks
(``hook_open_err``, ``hook_prepare_bad_conn``, ``rows_cursor_next_hook``...) are
globals of that module, read at call time: patch them there, e.g.
``monkeypatch.setattr(fakedb.fakedb, "hook_exec_bad_conn", fn)``, or use the
``set_*`` functions. They are deliberately not re-exported here, since rebinding
a re-exported name would not reach the driver.
"""

from dbsql import sql as _sql
from fakedb.fakedb import *  # noqa: F403
from fakedb.fakedb import __all__ as __all__
from fakedb.fakedb import fdriver as _fdriver


def _init() -> None:
    """Go's ``init``: register the fake driver as "test"."""
    _sql.register("test", _fdriver)


_init()
