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
from fakedb.fakedb import (
    FLAVORS,
    AnyTypeConverter,
    BasicConn,
    BasicRows,
    BasicStmt,
    BoundCol,
    Dummy,
    ErrClosed,
    ErrFakeConnSessionDirty,
    FakeBadConnError,
    FakeConn,
    FakeConnector,
    FakeDB,
    FakeDBError,
    FakeDriver,
    FakeDriverCtx,
    FakeDriverString,
    FakeError,
    FakePanic,
    FakeStmt,
    FakeTx,
    MemToucher,
    Row,
    RowsCursor,
    ScanColsConn,
    ScanColsRows,
    ScanColsStmt,
    SessionDirtyError,
    StmtClosedError,
    Table,
    check_subset_types,
    col_type_to_reflect_type,
    contains,
    converter_for_type,
    errf,
    fake_conn_of,
    fake_stmt_of,
    fdriver,
    rows_cursor_of,
    set_hook_open_err,
    set_hook_post_close_conn,
    set_strict_fake_conn_close,
)

__all__ = [
    "FLAVORS",
    "AnyTypeConverter",
    "BasicConn",
    "BasicRows",
    "BasicStmt",
    "BoundCol",
    "Dummy",
    "ErrClosed",
    "ErrFakeConnSessionDirty",
    "FakeBadConnError",
    "FakeConn",
    "FakeConnector",
    "FakeDB",
    "FakeDBError",
    "FakeDriver",
    "FakeDriverCtx",
    "FakeDriverString",
    "FakeError",
    "FakePanic",
    "FakeStmt",
    "FakeTx",
    "MemToucher",
    "Row",
    "RowsCursor",
    "ScanColsConn",
    "ScanColsRows",
    "ScanColsStmt",
    "SessionDirtyError",
    "StmtClosedError",
    "Table",
    "check_subset_types",
    "col_type_to_reflect_type",
    "contains",
    "converter_for_type",
    "errf",
    "fake_conn_of",
    "fake_stmt_of",
    "fdriver",
    "rows_cursor_of",
    "set_hook_open_err",
    "set_hook_post_close_conn",
    "set_strict_fake_conn_close",
]


def _init() -> None:
    """Go's ``init``: register the fake driver as "test"."""
    _sql.register("test", fdriver)


_init()
