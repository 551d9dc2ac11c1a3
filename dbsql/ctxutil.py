"""Calling a driver's context-aware method or its older fallback: a port of Go's ctxutil.go.

Each function prefers the driver's ``*_context`` method; without it, it calls
the older method and checks the context itself before (or after) the call, as
Go does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dbsql import driver

if TYPE_CHECKING:
    from dbsql.context import Context
    from dbsql.sql import TxOptions

__all__: list[str] = []


def _ctx_driver_prepare(ctx: Context, ci: driver.Conn, query: str) -> driver.Stmt:
    prepare_context = getattr(ci, "prepare_context", None)
    if prepare_context is not None:
        si: driver.Stmt = prepare_context(ctx, query)
        return si
    si = ci.prepare(query)
    err = ctx.err()
    if err is not None:
        try:
            si.close()
        except Exception:
            pass  # Go ignores the close error: the context's error is returned.
        raise err
    return si


def _ctx_driver_exec(
    ctx: Context,
    execer_ctx: Callable[[Context, str, Sequence[driver.NamedValue]], driver.Result] | None,
    execer: Callable[[str, Sequence[Any]], driver.Result] | None,
    query: str,
    nvdargs: Sequence[driver.NamedValue],
) -> driver.Result:
    if execer_ctx is not None:
        return execer_ctx(ctx, query, nvdargs)
    dargs = _named_value_to_value(nvdargs)
    err = ctx.err()
    if err is not None:
        raise err
    assert execer is not None
    return execer(query, dargs)


def _ctx_driver_query(
    ctx: Context,
    queryer_ctx: Callable[[Context, str, Sequence[driver.NamedValue]], driver.Rows] | None,
    queryer: Callable[[str, Sequence[Any]], driver.Rows] | None,
    query: str,
    nvdargs: Sequence[driver.NamedValue],
) -> driver.Rows:
    if queryer_ctx is not None:
        return queryer_ctx(ctx, query, nvdargs)
    dargs = _named_value_to_value(nvdargs)
    err = ctx.err()
    if err is not None:
        raise err
    assert queryer is not None
    return queryer(query, dargs)


def _ctx_driver_stmt_exec(
    ctx: Context, si: driver.Stmt, nvdargs: Sequence[driver.NamedValue]
) -> driver.Result:
    exec_context = getattr(si, "exec_context", None)
    if exec_context is not None:
        res: driver.Result = exec_context(ctx, nvdargs)
        return res
    dargs = _named_value_to_value(nvdargs)
    err = ctx.err()
    if err is not None:
        raise err
    return si.exec(dargs)


def _ctx_driver_stmt_query(
    ctx: Context, si: driver.Stmt, nvdargs: Sequence[driver.NamedValue]
) -> driver.Rows:
    query_context = getattr(si, "query_context", None)
    if query_context is not None:
        rows: driver.Rows = query_context(ctx, nvdargs)
        return rows
    dargs = _named_value_to_value(nvdargs)
    err = ctx.err()
    if err is not None:
        raise err
    return si.query(dargs)


# The driver's options for a transaction begun without options (frozen: shared).
_DEFAULT_TX_OPTIONS = driver.TxOptions()


def _ctx_driver_begin(ctx: Context, opts: TxOptions | None, ci: driver.Conn) -> driver.Tx:
    begin_tx = getattr(ci, "begin_tx", None)
    if begin_tx is not None:
        if opts is not None:
            dopts = driver.TxOptions(driver.IsolationLevel(opts.isolation), opts.read_only)
        else:
            dopts = _DEFAULT_TX_OPTIONS
        tx: driver.Tx = begin_tx(ctx, dopts)
        return tx

    if opts is not None:
        # Check the transaction level. If the transaction level is non-default
        # then raise here as the begin_tx driver value is not supported.
        if opts.isolation != 0:
            raise NotImplementedError("sql: driver does not support non-default isolation level")

        # If a read-only transaction is requested raise as the begin_tx driver
        # value is not supported.
        if opts.read_only:
            raise NotImplementedError("sql: driver does not support read-only transactions")

    txi = ci.begin()
    err = ctx.err()
    if err is not None:
        try:
            txi.rollback()
        except Exception:
            pass  # Go ignores the rollback error: the context's error is returned.
        raise err
    return txi


def _named_value_to_value(named: Sequence[driver.NamedValue]) -> list[Any]:
    dargs: list[Any] = []
    for param in named:
        if param.name:
            raise NotImplementedError("sql: driver does not support the use of Named Parameters")
        dargs.append(param.value)
    return dargs
