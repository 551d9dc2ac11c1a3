"""dbsql's embedded SQLite driver, "sqlite3", built on Python's standard :mod:`sqlite3`.

Importing this module registers the driver as ``"sqlite3"``; ``dbsql.open("sqlite3",
dsn)`` imports it on first use. It follows Go's mattn/go-sqlite3 where Python allows.

DSN
---
* a file path: ``"app.db"``, ``"/var/lib/app.db"``;
* ``":memory:"``: an in-memory database private to this DB handle and SHARED by all the
  connections of its pool (a table created on one is seen by the others). Each
  connector gets a unique name: ``file:/dbsql-mem-<n>-<rand>?vfs=memdb`` (SQLite's
  memdb VFS, with ordinary locking and busy waits) or, where SQLite lacks memdb
  (before 3.36), ``file:dbsql-mem-<n>-<rand>?mode=memory&cache=shared``. The
  connector keeps one connection open for the database's lifetime and closes it in
  ``Connector.close()`` (``DB.close()``). ``file::memory:`` without a ``cache``
  option means the same. A memdb database is limited to 1 GiB by SQLite;
* a ``file:`` URI (https://www.sqlite.org/uri.html): ``file:app.db?mode=ro``,
  ``file:///abs/app.db?cache=private``. SQLite's own options (``mode``, ``cache``,
  ``vfs``, ``immutable``, ``nolock``, ...) pass through to SQLite (``mode`` must be
  ro/rw/rwc/memory and ``cache`` shared/private); options SQLite does not know are
  ignored by SQLite. A named in-memory database (``file:name?mode=memory``) is shared
  by the pool too: ``cache=shared`` is added unless ``cache`` is given, and the
  connector keeps it alive until closed. As in mattn/go-sqlite3, a ``?`` after a
  plain path starts options too (write a path holding ``?`` as a ``file:`` URI).

dbsql options (stripped before the URI reaches SQLite; other names starting with
``_`` are an error, and a bad value raises :class:`DSNError` naming the option):

``_busy_timeout=<ms>`` (alias ``_timeout``)
    how long a statement waits for a lock held by another connection before failing
    with "database is locked" (default 5000, as mattn/go-sqlite3).
``_foreign_keys=on|off`` (alias ``_fk``; also 1/0/true/false/yes/no)
    ``PRAGMA foreign_keys`` on each new connection (default: SQLite's, off).
``_journal_mode=DELETE|TRUNCATE|PERSIST|MEMORY|WAL|OFF`` (alias ``_journal``)
    ``PRAGMA journal_mode`` on each new connection.
``_synchronous=OFF|NORMAL|FULL|EXTRA`` (alias ``_sync``)
    ``PRAGMA synchronous`` on each new connection.
``_txlock=deferred|immediate|exclusive``
    how read-write transactions begin: ``BEGIN`` (default), ``BEGIN IMMEDIATE``
    (take the write lock at once: avoids lock-upgrade failures between writers)
    or ``BEGIN EXCLUSIVE``. Read-only transactions always use ``BEGIN``.
``_pragma=name(value)``
    any other ``PRAGMA name=value`` on each new connection; may be repeated.

Connections are opened with ``check_same_thread=False`` (the pool hands a
connection to one thread at a time) and ``isolation_level=None``: SQLite runs in
autocommit mode and the driver issues BEGIN/COMMIT/ROLLBACK itself.

Transactions
------------
SQLite transactions are serializable. ``begin_tx`` accepts LevelDefault and
LevelSerializable (``BEGIN``, or what ``_txlock`` says) and LevelReadUncommitted
(``PRAGMA read_uncommitted=ON`` for the transaction: it lets the transaction read
uncommitted changes of connections sharing its cache, i.e. ``cache=shared``
databases; elsewhere SQLite's serializable isolation, stricter than asked, applies).
Any other level raises ``NotImplementedError("sqlite3: isolation level Snapshot is
not supported ...")``. ``read_only`` sets ``PRAGMA query_only=ON`` for the
transaction (writes fail with "attempt to write a readonly database").

Before the pool reuses a connection (``reset_session``) the driver rolls back a
transaction left open, undoes what a transaction set, and drops the temporary tables,
views and triggers the previous borrower created; attached databases and PRAGMAs set
by statements stay.

Cancellation
------------
A context that ends while a statement runs interrupts it (``Connection.interrupt()``
from an ``after_func`` callback); the caller gets the context's error (Canceled or
DeadlineExceeded) chained to SQLite's "interrupted", and the connection stays
usable. The context is also checked between batches of rows. An interrupted write
inside a transaction makes SQLite roll the whole transaction back. Waiting for a lock
held by another connection is not cut short (SQLite's busy handler ignores
interrupts): ``_busy_timeout`` bounds it.

Statements, parameters and values
---------------------------------
Placeholders: ``?``, ``?NNN``, ``:name``, ``@name`` and ``$name``. An argument
without a name binds to the parameter whose index is its position; a
``dbsql.named("x", v)`` argument binds to ``:x``, ``@x`` and ``$x``.
Arguments: None, int (64-bit), float, str, bytes/bytearray/memoryview, bool (stored as
0/1), ``datetime.datetime`` (ISO 8601 text ``YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]``, as
Go's SQLite drivers store time; naive stays naive), ``datetime.date`` and
``datetime.time`` (ISO 8601 text), ``decimal.Decimal`` and ``uuid.UUID`` (text); a
Valuer's value is converted the same way; anything else goes to dbsql's default
converter.

A query string may hold several statements: the driver splits it (with
:func:`sqlite3.complete_statement`, so trigger bodies stay whole) and runs them in
order. Arguments are handed out statement by statement: each takes the named
arguments it has parameters for and, in order, one unnamed argument for each of its
other parameters. ``exec`` returns the last statement's result. ``query`` makes each
statement that yields columns a result set (``Rows.next_result_set``); the others
run on the way: those before the first result set at once, later ones when the
caller moves past the result set before them (or reads the last one to its end);
closing the rows skips the statements not run yet. (Python's ``executescript`` is not
used: it commits an open transaction first.)

Rows: INTEGER is int, REAL float, TEXT str, BLOB bytes (a zero-length blob is
``b""``), NULL None. As mattn/go-sqlite3 does, a column declared DATE, DATETIME or
TIMESTAMP returns ``datetime.datetime`` for ISO 8601 text (naive unless the text has an
offset or ``Z``; text that does not parse stays str) and for integers (Unix seconds,
or milliseconds beyond 1e12, as an aware UTC datetime), and a column declared BOOLEAN
or BOOL returns bool for integers.

Column types: Python's sqlite3 does not expose declared types, so for statements
starting with SELECT, VALUES or WITH the driver learns them once per connector and
query string from ``PRAGMA table_info`` of a temporary view of the query (parameters
replaced by NULL); the cache is dropped when the driver runs CREATE, DROP, ALTER,
ATTACH or DETACH (schema changes made by other processes are not noticed). Expression
columns and other statements (``INSERT ... RETURNING``, ``PRAGMA``) have no declared
type: ``database_type_name`` is ``""``, the scan type ``object`` and no conversion
happens. ``column_type_database_type_name`` is the upper-case declared type without
its length (``VARCHAR(20)`` is ``VARCHAR``); ``column_type_scan_type`` follows SQLite's
affinity rules as mattn/go-sqlite3 does, nullable (``int | None``, ``str | None``,
``bytes | None``, ``float | None`` for REAL and NUMERIC, ``bool | None``,
``datetime.datetime | None``). Nullability and lengths are not known.

Results: ``last_insert_id`` is SQLite's last insert rowid on the connection;
``rows_affected`` is the number of rows the statement changed (0 for DDL).
"""

from __future__ import annotations

import datetime
import decimal
import functools
import itertools
import operator
import pathlib
import re
import secrets
import sqlite3 as _sqlite
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote

from dbsql import driver, sql
from dbsql.context import _NEVER, Context, after_func, background

__all__ = [
    "DSNError",
    "SQLiteConn",
    "SQLiteConnector",
    "SQLiteDriver",
    "SQLiteResult",
    "SQLiteRows",
    "SQLiteStmt",
    "SQLiteTx",
]

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_DEFAULT_BUSY_TIMEOUT_MS = 5000
_STATEMENT_CACHE = 256  # Python's per-connection prepared statement cache
_FIRST_BATCH = 64  # rows fetched by the first fetchmany; later batches grow
_MAX_BATCH = 1024
_REINTERRUPT = 0.01  # seconds between interrupts while a statement has not stopped


class DSNError(ValueError):
    """A DSN the sqlite3 driver cannot use; the message names the option."""


# ---------------------------------------------------------------------------
# DSN parsing.

_BOOL_WORDS = {
    "1": True,
    "true": True,
    "on": True,
    "yes": True,
    "0": False,
    "false": False,
    "off": False,
    "no": False,
}
_JOURNAL_MODES = ("DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF")
_SYNC_MODES = {"OFF": "OFF", "NORMAL": "NORMAL", "FULL": "FULL", "EXTRA": "EXTRA"}
_SYNC_MODES.update({"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"})
_TXLOCKS = {"deferred": "BEGIN", "immediate": "BEGIN IMMEDIATE", "exclusive": "BEGIN EXCLUSIVE"}
_OPTION_ALIASES = {
    "_busy_timeout": "_busy_timeout",
    "_timeout": "_busy_timeout",
    "_foreign_keys": "_foreign_keys",
    "_fk": "_foreign_keys",
    "_journal_mode": "_journal_mode",
    "_journal": "_journal_mode",
    "_synchronous": "_synchronous",
    "_sync": "_synchronous",
    "_txlock": "_txlock",
    "_pragma": "_pragma",
}
_PRAGMA_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(([A-Za-z0-9_.+-]+)\)")
# Pragmas whose value is a database key (SQLCipher's key, rekey, hexkey...): an
# error never shows their value.
_SECRET_PRAGMA_RE = re.compile(r"\s*(?:(?:hex|text)?(?:re)?key|password)\b", re.IGNORECASE)


class _Config:
    """A parsed DSN: what to hand to sqlite3.connect and what to run on each connection."""

    __slots__ = (
        "target",
        "uri",
        "unique_memory",
        "memory",
        "extra_params",
        "busy_timeout",
        "setup",
        "begin_sql",
        "display",
    )

    def __init__(self) -> None:
        self.target = ""  # the path or URI for sqlite3.connect
        self.uri = False
        self.unique_memory = False  # ":memory:": a fresh name per connector
        self.memory = False  # an in-memory database: the connector keeps it open
        self.extra_params: list[str] = []  # SQLite URI options for a unique memory db
        self.busy_timeout = _DEFAULT_BUSY_TIMEOUT_MS / 1000.0
        self.setup: list[str] = []  # PRAGMA statements run on each new connection
        self.begin_sql = "BEGIN"
        self.display = ""


def _option_error(name: str, value: str, want: str) -> DSNError:
    if _SECRET_PRAGMA_RE.match(value):
        value = value.partition("(")[0] + "(...)"
    return DSNError(f"sqlite3: DSN option {name}={value!r}: {want}")


def _parse_dsn(dsn: str) -> _Config:
    if not isinstance(dsn, str):
        raise TypeError(f"sqlite3: the DSN must be a str, not {type(dsn).__name__}")
    if dsn == "":
        raise DSNError("sqlite3: empty DSN: want a file path, ':memory:' or a 'file:' URI")
    cfg = _Config()
    is_uri = dsn.startswith("file:")
    base, _, query = dsn.partition("?")
    if is_uri:
        base = base.partition("#")[0]
        query = query.partition("#")[0]
    params: dict[str, str] = {}
    raw_params: list[str] = []
    journal: str | None = None
    sync: str | None = None
    fk: bool | None = None
    pragmas: list[str] = []
    for part in query.split("&"):
        if part == "":
            continue
        raw_key, _, raw_value = part.partition("=")
        key = unquote(raw_key)
        value = unquote(raw_value)
        if key.startswith("_"):
            name = _OPTION_ALIASES.get(key)
            if name is None:
                known = ", ".join(sorted({v for v in _OPTION_ALIASES.values()}))
                raise DSNError(f"sqlite3: unknown DSN option {key!r} (dbsql options: {known})")
            if name == "_busy_timeout":
                try:
                    ms = int(value)
                except ValueError:
                    ms = -1
                if ms < 0:
                    raise _option_error(key, value, "want a whole number of milliseconds >= 0")
                cfg.busy_timeout = ms / 1000.0
            elif name == "_foreign_keys":
                b = _BOOL_WORDS.get(value.lower())
                if b is None:
                    raise _option_error(key, value, "want on or off")
                fk = b
            elif name == "_journal_mode":
                if value.upper() not in _JOURNAL_MODES:
                    raise _option_error(key, value, "want one of " + "|".join(_JOURNAL_MODES))
                journal = value.upper()
            elif name == "_synchronous":
                mode = _SYNC_MODES.get(value.upper())
                if mode is None:
                    raise _option_error(key, value, "want OFF, NORMAL, FULL or EXTRA")
                sync = mode
            elif name == "_txlock":
                begin = _TXLOCKS.get(value.lower())
                if begin is None:
                    raise _option_error(key, value, "want deferred, immediate or exclusive")
                cfg.begin_sql = begin
            else:  # _pragma
                m = _PRAGMA_RE.fullmatch(value)
                if m is None:
                    raise _option_error(key, value, "want name(value), e.g. cache_size(-2000)")
                pragmas.append(f"PRAGMA {m.group(1)}={m.group(2)}")
            continue
        if key == "mode" and value not in ("ro", "rw", "rwc", "memory"):
            raise _option_error(key, value, "want ro, rw, rwc or memory")
        if key == "cache" and value not in ("shared", "private"):
            raise _option_error(key, value, "want shared or private")
        params.setdefault(key, value)  # SQLite uses the first occurrence
        raw_params.append(part)

    if fk is not None:
        cfg.setup.append(f"PRAGMA foreign_keys={'ON' if fk else 'OFF'}")
    if journal is not None:
        cfg.setup.append(f"PRAGMA journal_mode={journal}")
    if sync is not None:
        cfg.setup.append(f"PRAGMA synchronous={sync}")
    cfg.setup.extend(pragmas)

    path = base[len("file:") :] if is_uri else base
    cfg.display = base
    if path == ":memory:" and (not is_uri or ("cache" not in params and "vfs" not in params)):
        cfg.unique_memory = cfg.memory = True
        cfg.extra_params = [p for p in raw_params if not p.startswith(("mode=", "cache=", "vfs="))]
        cfg.display = ":memory:"
        return cfg
    if not is_uri and path == "":
        raise DSNError("sqlite3: empty file path in DSN")
    cfg.memory = params.get("mode") == "memory" or params.get("vfs") == "memdb"
    if params.get("mode") == "memory" and "cache" not in params:
        raw_params.append("cache=shared")
    if is_uri:
        cfg.target = base + ("?" + "&".join(raw_params) if raw_params else "")
        cfg.uri = True
    elif raw_params:
        cfg.target = pathlib.Path(path).absolute().as_uri() + "?" + "&".join(raw_params)
        cfg.uri = True
    else:
        cfg.target = path
    return cfg


_memdb_lock = threading.Lock()
_memdb: bool | None = None  # whether this SQLite has the memdb VFS
_mem_seq = itertools.count(1)


def _memdb_supported() -> bool:
    global _memdb
    with _memdb_lock:
        if _memdb is None:
            try:
                probe = _sqlite.connect(
                    f"file:/dbsql-probe-{secrets.token_hex(8)}?vfs=memdb", uri=True
                )
                try:
                    probe.execute("PRAGMA user_version").fetchall()
                finally:
                    probe.close()
                _memdb = True
            except _sqlite.Error:
                _memdb = False
        return _memdb


def _unique_memory_uri(extra: list[str]) -> str:
    name = f"dbsql-mem-{next(_mem_seq)}-{secrets.token_hex(6)}"
    if _memdb_supported():
        uri = f"file:/{name}?vfs=memdb"
    else:
        uri = f"file:{name}?mode=memory&cache=shared"
    return uri + "".join("&" + p for p in extra)


# ---------------------------------------------------------------------------
# SQL text: placeholders and statements, parsed once per query string.

_ID = "0-9A-Za-z_$\u0080-\U0010ffff"
_LEX = re.compile(
    r"'[^']*'?"  # string literal ('' escapes are two adjacent literals here)
    r'|"[^"]*"?'  # quoted identifier
    r"|`[^`]*`?"
    r"|\[[^\]]*\]?"
    r"|--[^\n]*"
    r"|/\*.*?(?:\*/|\Z)"
    r"|(\?[0-9]*)"  # ?, ?NNN
    rf"|([:@](?:[{_ID}]|::)+(?:\([^)\s]*\))?|(?<![{_ID}])\$(?:[{_ID}]|::)+(?:\([^)\s]*\))?)"
    r"|(;)",
    re.S,
)
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?(?:\*/|\Z)|\()*([A-Za-z]*)", re.S)
_EMPTY = re.compile(r"(?:\s+|--[^\n]*|/\*.*?(?:\*/|\Z)|;)*", re.S)
_SELECTISH = frozenset(("SELECT", "VALUES", "WITH"))
_SCHEMA_CHANGE = frozenset(("CREATE", "DROP", "ALTER", "ATTACH", "DETACH"))
_TX_END = frozenset(("COMMIT", "END", "ROLLBACK"))
_MAX_PARAM = 250000  # beyond any SQLITE_MAX_VARIABLE_NUMBER a build would use


class _Parsed:
    """What the driver needs to know about one query string."""

    __slots__ = (
        "sql",
        "n",
        "named",
        "keys",
        "used",
        "name_idx",
        "labels",
        "keyword",
        "view_sql",
        "statements",
        "plain",
    )

    def __init__(self) -> None:
        self.sql = ""  # the text handed to sqlite3 (anonymous ? numbered when named)
        self.n = 0  # number of parameters (the largest index)
        self.named = False  # bind with a dict (some parameter has a name)
        self.keys: tuple[str, ...] = ()  # dict key per index, when named
        self.used: frozenset[int] = frozenset()  # indexes (0-based) a placeholder uses
        self.name_idx: dict[str, tuple[int, ...]] = {}  # bare name -> 0-based indexes
        self.labels: dict[int, str] = {}  # 0-based index -> placeholder text
        self.keyword = ""  # first keyword, upper case
        self.view_sql: str | None = None  # the query with NULL for parameters
        self.statements: tuple[_Parsed, ...] = ()  # several statements: each one
        # One statement that neither changes the schema nor ends a transaction:
        # a query of it takes the short path (SQLiteConn._query_plain).
        self.plain = False


@functools.lru_cache(maxsize=1024)
def _parse(query: str) -> _Parsed:
    pieces: list[str] = []
    start = 0
    for m in _LEX.finditer(query):
        if m.group(3) is not None:
            end = m.end()
            if _sqlite.complete_statement(query[start:end]):
                pieces.append(query[start:end])
                start = end
    if start < len(query):
        pieces.append(query[start:])
    real = [p for p in pieces if _has_tokens(p)]
    if len(real) > 1:
        p = _Parsed()
        p.sql = query
        p.statements = tuple(_parse_one(s) for s in real)
        p.n = sum(s.n for s in p.statements)
        p.keyword = p.statements[0].keyword
        return p
    # Empty statements around the real one (";;", a comment after ";") would
    # make Python's execute refuse the text.
    return _parse_one(real[0] if real else query)


def _has_tokens(piece: str) -> bool:
    return _EMPTY.fullmatch(piece) is None


def _parse_one(query: str) -> _Parsed:
    p = _Parsed()
    m = _FIRST_WORD.match(query)
    p.keyword = m.group(1).upper() if m is not None else ""
    tokens: list[tuple[int, int, int, bool]] = []  # start, end, 0-based index, anonymous
    nvar = 0
    by_name: dict[str, int] = {}
    index_name: dict[int, str] = {}
    name_idx: dict[str, list[int]] = {}
    for m in _LEX.finditer(query):
        num, name = m.group(1), m.group(2)
        if num is not None:
            if num == "?":
                nvar += 1
                idx = nvar
                tokens.append((m.start(), m.end(), idx - 1, True))
                continue
            idx = int(num[1:])
            if idx < 1 or idx > _MAX_PARAM:
                raise _sqlite.ProgrammingError(f"sqlite3: parameter {num} is out of range")
            nvar = max(nvar, idx)
            index_name.setdefault(idx, num)
            tokens.append((m.start(), m.end(), idx - 1, False))
        elif name is not None:
            found = by_name.get(name)
            if found is None:
                nvar += 1
                found = by_name[name] = nvar
                index_name.setdefault(found, name)
                name_idx.setdefault(name[1:], []).append(found - 1)
            tokens.append((m.start(), m.end(), found - 1, False))
    p.n = nvar
    p.named = bool(by_name)
    p.used = frozenset(t[2] for t in tokens)
    p.name_idx = {k: tuple(sorted(v)) for k, v in name_idx.items()}
    p.labels = {t[2]: query[t[0] : t[1]] for t in reversed(tokens)}
    text = query
    if p.named:
        # A dict binds by name: give each anonymous ? its number (same index).
        if any(t[3] for t in tokens):
            out: list[str] = []
            last = 0
            for s, e, i, anon in tokens:
                if anon:
                    out.append(query[last:s])
                    out.append(f"?{i + 1}")
                    last = e
            out.append(query[last:])
            text = "".join(out)
            for _s, _e, i, anon in tokens:
                if anon:
                    index_name.setdefault(i + 1, f"?{i + 1}")
        keys: list[str] = []
        for i in range(1, nvar + 1):
            label = index_name.get(i)
            if label is None:
                raise _sqlite.ProgrammingError(
                    f"sqlite3: parameter ?{i} is unused while the statement has named "
                    "parameters: number the parameters without gaps"
                )
            keys.append(label[1:])
        p.keys = tuple(keys)
    p.sql = text
    p.plain = p.keyword not in _SCHEMA_CHANGE and p.keyword not in _TX_END
    if p.keyword in _SELECTISH:
        out = []
        last = 0
        for s, e, _i, _anon in tokens:
            out.append(query[last:s])
            out.append("NULL")
            last = e
        out.append(query[last:])
        view = "".join(out).rstrip()
        while view.endswith(";"):
            view = view[:-1].rstrip()
        p.view_sql = view
    return p


_MISSING: Any = object()


def _bind(p: _Parsed, args: Sequence[driver.NamedValue]) -> Any:
    """The parameters for cursor.execute: a list by index, or a dict by name."""
    n = p.n
    if not p.named and len(args) == n:
        for a in args:
            if a.name:
                break
        else:
            return [a.value for a in args]
    vals: list[Any] = [_MISSING] * n
    for a in args:
        if a.name:
            idxs = p.name_idx.get(a.name)
            if idxs is None:
                raise _sqlite.ProgrammingError(
                    f"sqlite3: the statement has no parameter :{a.name}, @{a.name} or ${a.name}"
                )
            for i in idxs:
                vals[i] = a.value
        else:
            i = a.ordinal - 1
            if i >= n:
                raise _sqlite.ProgrammingError(
                    f"sqlite3: the statement has {n} parameters, got argument {a.ordinal}"
                )
            vals[i] = a.value
    for i, v in enumerate(vals):
        if v is _MISSING:
            if i in p.used:
                raise _sqlite.ProgrammingError(
                    f"sqlite3: no argument for parameter {p.labels.get(i, f'?{i + 1}')}"
                )
            vals[i] = None
    if p.named:
        return dict(zip(p.keys, vals, strict=True))
    return vals


def _split_args(p: _Parsed, args: Sequence[driver.NamedValue]) -> list[Sequence[driver.NamedValue]]:
    """Hand the arguments of a query of several statements out to them: each takes
    the named arguments it has parameters for and, in order, one unnamed argument
    for each of its other parameters."""
    if not args:
        return [()] * len(p.statements)
    named = [a for a in args if a.name]
    unnamed = [a.value for a in args if not a.name]
    names_used: set[str] = set()
    out: list[Sequence[driver.NamedValue]] = []
    k = 0
    for n, s in enumerate(p.statements, 1):
        sargs: list[driver.NamedValue] = []
        covered: set[int] = set()
        for a in named:
            idxs = s.name_idx.get(a.name)
            if idxs:
                sargs.append(a)
                covered.update(idxs)
                names_used.add(a.name)
        for i in sorted(s.used - covered):
            if k == len(unnamed):
                raise _sqlite.ProgrammingError(
                    f"sqlite3: not enough arguments: statement {n} of the query needs more "
                    f"than the {len(unnamed)} unnamed ones given"
                )
            sargs.append(driver.NamedValue("", i + 1, unnamed[k]))
            k += 1
        out.append(sargs)
    if k < len(unnamed):
        raise _sqlite.ProgrammingError(
            f"sqlite3: {len(unnamed)} unnamed arguments given, the query's statements use {k}"
        )
    for a in named:
        if a.name not in names_used:
            raise _sqlite.ProgrammingError(
                f"sqlite3: the query has no parameter :{a.name}, @{a.name} or ${a.name}"
            )
    return out


# ---------------------------------------------------------------------------
# Values.


def _format_datetime(v: datetime.datetime) -> str:
    return v.isoformat(" ")


def _to_sqlite(v: Any) -> Any:
    """Convert a non-basic argument for sqlite3, or raise SkipError."""
    t = type(v)
    if t is bool:
        return int(v)
    if t is int:
        raise OverflowError(f"sqlite3: integer {v} does not fit in 64 bits")
    if t is datetime.datetime:
        return _format_datetime(v)
    if t is decimal.Decimal or t is uuid.UUID:
        return str(v)
    if isinstance(v, driver.Valuer):
        # What dbsql's default converter would do, then the conversions above.
        return _value_for_sqlite(driver.DefaultParameterConverter.convert_value(v))
    if isinstance(v, datetime.datetime):
        return _format_datetime(v)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, int):
        i = int(v)
        if _INT64_MIN <= i <= _INT64_MAX:
            return i
        raise OverflowError(f"sqlite3: integer {i} does not fit in 64 bits")
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str.__str__(v)
    raise driver.SkipError()


def _value_for_sqlite(v: Any) -> Any:
    """A driver Value as sqlite3 takes it."""
    t = type(v)
    if v is None or t is str or t is float or t is bytes:
        return v
    if t is int and _INT64_MIN <= v <= _INT64_MAX:
        return v
    return _to_sqlite(v)


_UTC = datetime.UTC
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)


def _conv_time(v: Any) -> Any:
    t = type(v)
    if t is str:
        try:
            return datetime.datetime.fromisoformat(v)
        except ValueError:
            return v
    if t is int:
        try:
            if v > 10**12 or v < -(10**12):
                return _EPOCH + datetime.timedelta(milliseconds=v)
            return _EPOCH + datetime.timedelta(seconds=v)
        except OverflowError:
            return v
    return v


def _conv_bool(v: Any) -> Any:
    if type(v) is int:
        return v > 0
    return v


_TIME_TYPES = frozenset(("DATE", "DATETIME", "TIMESTAMP"))
_BOOL_TYPES = frozenset(("BOOLEAN", "BOOL"))


def _type_name(decl: str) -> str:
    """The declared type upper case, without a length: VARCHAR(20) is VARCHAR."""
    return decl.partition("(")[0].strip().upper()


def _scan_type(name: str) -> Any:
    """mattn/go-sqlite3's scanType: nullable types after SQLite's affinity rules."""
    if name == "":
        return object
    if name in _TIME_TYPES:
        return datetime.datetime | None
    if name in _BOOL_TYPES:
        return bool | None
    if "INT" in name:
        return int | None
    if "CHAR" in name or "CLOB" in name or "TEXT" in name:
        return str | None
    if "BLOB" in name:
        return bytes | None
    return float | None  # REAL, FLOAT, DOUBLE, NUMERIC, DECIMAL, ...


class _Cols:
    """Declared column types of a query and the conversions they call for."""

    __slots__ = ("types", "conv")

    def __init__(self, decls: list[str]) -> None:
        self.types = [_type_name(d) for d in decls]
        conv: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(self.types):
            if name in _TIME_TYPES:
                conv.append((i, _conv_time))
            elif name in _BOOL_TYPES:
                conv.append((i, _conv_bool))
        self.conv = conv or None


_NO_COLS = _Cols([])


def _convert_rows(
    batch: list[tuple[Any, ...]], conv: list[tuple[int, Callable[[Any], Any]]]
) -> list[tuple[Any, ...]]:
    """The rows of batch with conv's columns converted (column by column: the other
    columns are not touched by Python code). The converters pass None through."""
    cols: list[Any] = list(zip(*batch, strict=True))
    for i, f in conv:
        col = cols[i]
        if f is _conv_bool and set(map(type, col)) <= _INT_ONLY:
            # (A column of ints only, the usual case: _conv_bool's v > 0 on each,
            # without a Python call per value.)
            cols[i] = map(operator.gt, col, itertools.repeat(0, len(col)))
        else:
            cols[i] = map(f, col)
    return list(zip(*cols, strict=True))


_INT_ONLY = frozenset((int,))


# ---------------------------------------------------------------------------
# Driver and connector.


class SQLiteDriver:
    """The sqlite3 driver; ``dbsql.open("sqlite3", dsn)`` uses its connector."""

    def open(self, name: str) -> SQLiteConn:
        """Return a new connection; it owns its connector (and so its :memory: database)."""
        c = self.open_connector(name)
        conn = c.connect(background())
        conn._owned = c
        return conn

    def open_connector(self, name: str) -> SQLiteConnector:
        """Parse the DSN once; see the module docstring for its syntax."""
        return SQLiteConnector(self, _parse_dsn(name))

    def __repr__(self) -> str:
        return "<dbsql sqlite3 driver>"


class SQLiteConnector:
    """A parsed DSN; hands out connections to the same database."""

    def __init__(self, drv: SQLiteDriver, cfg: _Config) -> None:
        self._driver = drv
        self._cfg = cfg
        self._mu = threading.Lock()
        self._anchor: _sqlite.Connection | None = None  # keeps a memory database alive
        self._closed = False
        self._target = cfg.target
        if cfg.unique_memory:
            self._target = _unique_memory_uri(cfg.extra_params)
        # Declared column types per query string (see the module docstring).
        self._cols: dict[str, _Cols] = {}

    def __repr__(self) -> str:
        return f"<dbsql sqlite3 connector {self._cfg.display!r}>"

    def _open(self) -> _sqlite.Connection:
        cfg = self._cfg
        db = _sqlite.connect(
            self._target,
            uri=cfg.uri or cfg.unique_memory,
            timeout=cfg.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=_STATEMENT_CACHE,
        )
        try:
            for stmt in cfg.setup:
                db.execute(stmt).close()
        except BaseException:
            db.close()
            raise
        return db

    def connect(self, ctx: Context) -> SQLiteConn:
        """Open a connection; the context only bounds the start."""
        err = ctx.err()
        if err is not None:
            raise err
        if self._cfg.memory:
            with self._mu:
                if self._closed:
                    raise _sqlite.ProgrammingError("sqlite3: the connector is closed")
                if self._anchor is None:
                    self._anchor = self._open()
        conn = SQLiteConn(self, self._open())
        if self._cfg.setup:
            row = conn._db.execute("PRAGMA query_only").fetchone()
            conn._query_only_base = bool(row and row[0])
        return conn

    def driver(self) -> SQLiteDriver:
        return self._driver

    def close(self) -> None:
        """Close the connection that keeps an in-memory database alive."""
        with self._mu:
            self._closed = True
            anchor, self._anchor = self._anchor, None
        if anchor is not None:
            anchor.close()

    def _col_info(self, conn: SQLiteConn, p: _Parsed) -> _Cols | None:
        """Declared types of p's result columns, learned on conn (None: unknown)."""
        cols = self._cols.get(p.sql)
        if cols is not None:
            return cols
        if p.view_sql is None:
            return None
        decls = conn._declared_types(p.view_sql)
        if decls is None:
            return None
        cols = _Cols(decls) if decls else _NO_COLS
        if len(self._cols) >= 4096:
            self._cols.clear()
        self._cols[p.sql] = cols
        return cols


# ---------------------------------------------------------------------------
# Connection.


class _Watch:
    """Interrupts the connection when the context ends while a statement runs."""

    __slots__ = ("conn", "busy", "stop")

    def __init__(self, conn: SQLiteConn, ctx: Context) -> None:
        self.conn = conn
        self.busy = False  # a statement of ours is running (set by the caller)
        self.stop = after_func(ctx, self._fire)

    def _fire(self) -> None:
        conn = self.conn
        cv = conn._intr_cv
        with cv:
            # SQLite forgets an interrupt that arrives just before a statement
            # starts: repeat it until the statement is over.
            while self.busy and not conn._closed:
                try:
                    conn._db.interrupt()
                except _sqlite.Error:
                    return
                cv.wait(_REINTERRUPT)

    def end(self) -> None:
        """The statement is over: no interrupt reaches the connection after this."""
        with self.conn._intr_cv:
            self.busy = False
            self.conn._intr_cv.notify_all()


def _watched(ctx: Context, w: _Watch, fn: Callable[..., Any], *args: Any) -> Any:
    """Call fn (a step of SQLite's) while w may interrupt it; if the context ended,
    raise its error (chained to SQLite's "interrupted")."""
    w.busy = True  # before the check: an end after it interrupts the call
    try:
        err = ctx.err()
        if err is None:
            return fn(*args)
    except _sqlite.Error as e:
        err = ctx.err()
        if err is not None:
            raise err from e
        raise
    finally:
        w.end()
    raise err


class SQLiteConn:
    """A connection; used by one thread at a time (the pool's lock)."""

    def __init__(self, connector: SQLiteConnector, db: _sqlite.Connection) -> None:
        self._c = connector
        self._db = db
        self._cur = db.cursor()  # reused for statements that return no rows
        self._closed = False
        self._tx: SQLiteTx | None = None
        self._query_only = False  # set by a read-only transaction
        self._query_only_base = False  # the connection's own PRAGMA query_only
        self._read_uncommitted = False
        self._schema_changed_in_tx = False
        self._temp_objects = False  # a CREATE ran: reset_session looks for temp objects
        self._intr_cv = threading.Condition(threading.Lock())
        self._owned: SQLiteConnector | None = None  # Driver.open: close it with the conn
        # The description of query_row_context's last query (query_row_columns).
        self._row_desc: Any = None

    def __repr__(self) -> str:
        return f"<dbsql sqlite3 conn {self._c._cfg.display!r}{' closed' if self._closed else ''}>"

    # --- checks ---

    def _check(self, ctx: Context) -> None:
        if self._closed:
            raise driver.BadConnError()
        err = ctx.err()
        if err is not None:
            raise err

    def ping(self, ctx: Context) -> None:
        self._check(ctx)

    def is_valid(self) -> bool:
        return not self._closed

    def reset_session(self, ctx: Context) -> None:
        """Roll back a transaction left open, undo what a transaction set and drop
        temporary tables, views and triggers (attached databases stay)."""
        if self._closed:
            raise driver.BadConnError()
        self._tx = None
        try:
            if not (
                self._db.in_transaction
                or self._temp_objects
                or self._query_only
                or self._read_uncommitted
                or self._schema_changed_in_tx
            ):
                return  # nothing left behind (the usual case)
            if self._db.in_transaction:
                self._cur.execute("ROLLBACK")
            self._tx_ended()
            if self._temp_objects:
                self._drop_temp_objects()
        except _sqlite.Error as e:
            raise driver.BadConnError(f"sqlite3: resetting the session: {e}") from e

    def check_named_value(self, nv: driver.NamedValue) -> None:
        """Accept what sqlite3 binds; convert bool, times, Decimal, UUID, buffers."""
        v = nv.value
        t = type(v)
        if t is str or t is float or t is bytes or v is None:
            return
        if t is int and _INT64_MIN <= v <= _INT64_MAX:
            return
        nv.value = _to_sqlite(v)

    # --- statements ---

    def prepare(self, query: str) -> SQLiteStmt:
        return self.prepare_context(background(), query)

    def prepare_context(self, ctx: Context, query: str) -> SQLiteStmt:
        """Parse the query and compile it once, so that SQL errors show at prepare."""
        self._check(ctx)
        p = _parse(query)
        if not p.statements and p.keyword != "PRAGMA":
            try:
                self._db(p.sql)  # compiles without running (Connection.__call__)
            except TypeError:
                pass  # a Python without Connection.__call__: errors show at exec
        return SQLiteStmt(self, p)

    def exec_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> SQLiteResult:
        self._check(ctx)
        return self._exec(ctx, _parse(query), args)

    def query_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> SQLiteRows:
        if self._closed:
            raise driver.BadConnError()
        p = _parse(query)
        if ctx.done() is _NEVER:  # (a context that cannot end has no error)
            if p.plain:
                return self._query_plain(ctx, p, args)
        else:
            err = ctx.err()
            if err is not None:
                raise err
        return self._query(ctx, p, args)

    def _exec(self, ctx: Context, p: _Parsed, args: Sequence[driver.NamedValue]) -> SQLiteResult:
        if p.statements:
            parts = _split_args(p, args)
            for s, sargs in zip(p.statements[:-1], parts, strict=False):
                self._exec(ctx, s, sargs)
            p, args = p.statements[-1], parts[-1]
        params = _bind(p, args) if args or p.n else ()
        if p.keyword in _SCHEMA_CHANGE:
            self._schema_changed(p.keyword)
        cur = self._cur
        before = self._db.total_changes
        if ctx.done() is _NEVER:
            cur.execute(p.sql, params)
        else:
            w = _Watch(self, ctx)
            try:
                _watched(ctx, w, cur.execute, p.sql, params)
            finally:
                w.stop()
        if p.keyword in _SCHEMA_CHANGE or (p.keyword in _TX_END and self._schema_changed_in_tx):
            self._schema_changed(p.keyword)
        n = cur.rowcount
        if cur.description is not None:
            # A statement that returns rows (RETURNING, PRAGMA, SELECT) did its
            # changes at its first step: reset it so that it holds no lock.
            cur.close()
            self._cur = self._db.cursor()
            n = -1
        if n < 0:
            n = self._db.total_changes - before
        rowid = cur.lastrowid
        return SQLiteResult(rowid if rowid is not None else 0, n)

    def query_row_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.QueryerRowContext (beyond Go): query_context's first row, with the
        cursor closed, in one call; a query off the plain path is skipped."""
        if self._closed:
            raise driver.BadConnError()
        p = _parse(query)
        if not p.plain or ctx.done() is not _NEVER:
            raise driver.SkipError()
        return self._query_row_plain(p, args)

    def _query_row_plain(
        self, p: _Parsed, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        cur, cols = self._run_plain(p, args)
        try:
            row: tuple[Any, ...] | None = cur.fetchone()
            desc = self._row_desc = cur.description
        finally:
            cur.close()
        # (SQLiteRows' conversions of declared time and bool columns.)
        if row is not None and cols is not None and cols.conv is not None:
            if desc is not None and len(cols.types) == len(desc):
                row = _convert_rows([row], cols.conv)[0]
        return row

    def query_row_columns(self) -> list[str]:
        desc = self._row_desc
        return [d[0] for d in desc] if desc is not None else []

    def _query_plain(
        self, ctx: Context, p: _Parsed, args: Sequence[driver.NamedValue]
    ) -> SQLiteRows:
        """_query (and _run) for a plain statement (see _Parsed.plain) under a context
        that cannot end: no watch, no schema bookkeeping."""
        cur, cols = self._run_plain(p, args)
        return SQLiteRows(self, cur, cols, ctx, None, [])

    def _run_plain(
        self, p: _Parsed, args: Sequence[driver.NamedValue]
    ) -> tuple[_sqlite.Cursor, _Cols | None]:
        """Execute a plain statement on a cursor of its own; its declared column types."""
        if args:
            if len(args) == 1 and p.n == 1 and not p.named and not args[0].name:
                params: Any = (args[0].value,)
            else:
                params = [a.value for a in args if not a.name]
                if p.named or len(params) != p.n or len(args) != p.n:
                    params = _bind(p, args)
        elif p.n:
            params = _bind(p, args)
        else:
            params = ()
        c = self._c
        cols = c._cols.get(p.sql)
        if cols is None and p.view_sql is not None:
            cols = c._col_info(self, p)
        cur = self._db.cursor()
        try:
            cur.execute(p.sql, params)
        except BaseException:
            cur.close()
            raise
        if cols is None and p.view_sql is not None:
            # The query runs but its view does not: do not try again.
            c._cols.setdefault(p.sql, _NO_COLS)
        return cur, cols

    def _query(self, ctx: Context, p: _Parsed, args: Sequence[driver.NamedValue]) -> SQLiteRows:
        w = None if ctx.done() is _NEVER else _Watch(self, ctx)
        try:
            if not p.statements:
                cur, cols = self._run(ctx, w, p, args)
                return SQLiteRows(self, cur, cols, ctx, w, [])
            rest = list(zip(p.statements, _split_args(p, args), strict=True))
            rest.reverse()
            first = self._next_result(ctx, w, rest)
        except BaseException:
            if w is not None:
                w.stop()
            raise
        if first is None:
            return SQLiteRows(self, None, None, ctx, w, [])
        return SQLiteRows(self, first[0], first[1], ctx, w, rest)

    def _run(
        self, ctx: Context, w: _Watch | None, p: _Parsed, args: Sequence[driver.NamedValue]
    ) -> tuple[_sqlite.Cursor, _Cols | None]:
        """Execute one statement on a cursor of its own, for its rows."""
        params = _bind(p, args) if args or p.n else ()
        if p.keyword in _SCHEMA_CHANGE:
            self._schema_changed(p.keyword)
        cols = self._c._col_info(self, p)
        cur = self._db.cursor()
        try:
            if w is None:
                cur.execute(p.sql, params)
            else:
                _watched(ctx, w, cur.execute, p.sql, params)
        except BaseException:
            cur.close()
            raise
        if p.keyword in _SCHEMA_CHANGE or (p.keyword in _TX_END and self._schema_changed_in_tx):
            self._schema_changed(p.keyword)
        elif cols is None and p.view_sql is not None:
            # The query runs but its view does not: do not try again.
            self._c._cols.setdefault(p.sql, _NO_COLS)
        return cur, cols

    def _next_result(
        self,
        ctx: Context,
        w: _Watch | None,
        rest: list[tuple[_Parsed, Sequence[driver.NamedValue]]],
    ) -> tuple[_sqlite.Cursor, _Cols | None] | None:
        """Run the statements of rest (last one first) up to one that yields columns."""
        while rest:
            p, args = rest.pop()
            cur, cols = self._run(ctx, w, p, args)
            if cur.description is not None:
                return cur, cols
            cur.close()
        return None

    def _schema_changed(self, keyword: str) -> None:
        # Called before and after the statement; other connections may look up
        # types in between, and until the transaction ends (see _tx_ended).
        self._c._cols.clear()
        self._schema_changed_in_tx = self._db.in_transaction
        if keyword == "CREATE":
            self._temp_objects = True

    def _drop_temp_objects(self) -> None:
        """Drop the temporary tables, views and triggers a borrower left."""
        self._temp_objects = False
        objs = self._db.execute(
            "SELECT type, name FROM sqlite_temp_master WHERE type IN ('trigger', 'view', 'table')"
            " ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 ELSE 2 END"
        ).fetchall()
        for kind, name in objs:
            quoted = '"' + str(name).replace('"', '""') + '"'
            self._db.execute(f"DROP {str(kind).upper()} IF EXISTS temp.{quoted}").close()

    def _declared_types(self, view_sql: str) -> list[str] | None:
        """Declared types of a SELECT's columns: PRAGMA table_info of a temp view."""
        db = self._db
        query_only = self._query_only or self._query_only_base
        try:
            if query_only:
                db.execute("PRAGMA query_only=OFF").close()
            try:
                db.execute('CREATE TEMP VIEW "_dbsql_coltypes" AS ' + view_sql).close()
                try:
                    rows = db.execute('PRAGMA temp.table_info("_dbsql_coltypes")').fetchall()
                finally:
                    db.execute('DROP VIEW temp."_dbsql_coltypes"').close()
            finally:
                if query_only:
                    db.execute("PRAGMA query_only=ON").close()
        except _sqlite.Error:
            return None
        return [str(r[2] or "") for r in rows]

    # --- transactions ---

    def begin(self) -> SQLiteTx:
        return self.begin_tx(background(), driver.TxOptions())

    def begin_tx(self, ctx: Context, opts: driver.TxOptions) -> SQLiteTx:
        """Begin a transaction: LevelDefault, LevelSerializable, LevelReadUncommitted."""
        self._check(ctx)
        level = int(opts.isolation)
        if level not in (0, 1, 6):
            raise NotImplementedError(
                f"sqlite3: isolation level {sql.IsolationLevel(level)} is not supported "
                "(SQLite transactions are serializable: use LevelDefault or LevelSerializable)"
            )
        cur = self._cur
        try:
            if opts.read_only:
                cur.execute("PRAGMA query_only=ON")
                self._query_only = True
            if level == 1:
                cur.execute("PRAGMA read_uncommitted=ON")
                self._read_uncommitted = True
            cur.execute("BEGIN" if opts.read_only else self._c._cfg.begin_sql)
        except BaseException:
            try:
                self._tx_ended()
            except _sqlite.Error:
                pass
            raise
        self._schema_changed_in_tx = False
        tx = SQLiteTx(self)
        self._tx = tx
        return tx

    def _tx_ended(self) -> None:
        """Undo the pragmas a transaction set; forget types learned during a schema change."""
        if self._schema_changed_in_tx:
            self._c._cols.clear()
        self._schema_changed_in_tx = False
        if self._query_only:
            self._query_only = False
            if not self._query_only_base:
                self._cur.execute("PRAGMA query_only=OFF")
        if self._read_uncommitted:
            self._read_uncommitted = False
            self._cur.execute("PRAGMA read_uncommitted=OFF")

    def close(self) -> None:
        with self._intr_cv:
            if self._closed:
                return
            self._closed = True
        try:
            self._db.close()
        finally:
            if self._owned is not None:
                self._owned.close()


class SQLiteTx:
    """A transaction begun by ``SQLiteConn.begin_tx``."""

    __slots__ = ("_conn",)

    def __init__(self, conn: SQLiteConn) -> None:
        self._conn = conn

    def _take(self) -> SQLiteConn:
        conn = self._conn
        if conn._closed:
            raise driver.BadConnError()
        if conn._tx is not self:
            raise _sqlite.ProgrammingError("sqlite3: the transaction is already over")
        conn._tx = None
        return conn

    def commit(self) -> None:
        conn = self._take()
        try:
            conn._cur.execute("COMMIT")
        except _sqlite.Error:
            # SQLite may leave the transaction open (e.g. SQLITE_BUSY); dbsql
            # considers it over: roll back, as mattn/go-sqlite3 does.
            if conn._db.in_transaction:
                try:
                    conn._cur.execute("ROLLBACK")
                except _sqlite.Error:
                    pass
            try:
                conn._tx_ended()
            except _sqlite.Error:
                pass
            raise
        conn._tx_ended()

    def rollback(self) -> None:
        conn = self._take()
        try:
            # An interrupted write makes SQLite roll back by itself.
            if conn._db.in_transaction:
                conn._cur.execute("ROLLBACK")
        finally:
            conn._tx_ended()


# ---------------------------------------------------------------------------
# Statements, results, rows.


class SQLiteStmt:
    """A prepared statement: the parsed query (Python's sqlite3 caches the compiled one)."""

    __slots__ = ("_conn", "_p", "_closed")

    def __init__(self, conn: SQLiteConn, p: _Parsed) -> None:
        self._conn = conn
        self._p = p
        self._closed = False

    def close(self) -> None:
        self._closed = True

    def num_input(self) -> int:
        p = self._p
        if p.statements:
            return 0 if p.n == 0 else -1
        return p.n

    def _check(self, ctx: Context) -> SQLiteConn:
        if self._closed:
            raise _sqlite.ProgrammingError("sqlite3: the statement is closed")
        self._conn._check(ctx)
        return self._conn

    def exec_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> SQLiteResult:
        return self._check(ctx)._exec(ctx, self._p, args)

    def query_row_context(
        self, ctx: Context, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.StmtQueryRowContext (beyond Go): see SQLiteConn.query_row_context."""
        p = self._p
        conn = self._check(ctx)
        if not p.plain or ctx.done() is not _NEVER:
            raise driver.SkipError()
        return conn._query_row_plain(p, args)

    def query_row_columns(self) -> list[str]:
        return self._conn.query_row_columns()

    def query_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> SQLiteRows:
        p = self._p
        conn = self._conn
        if p.plain and ctx.done() is _NEVER and not self._closed and not conn._closed:
            # (_check's checks, passed: a context that cannot end has no error.)
            return conn._query_plain(ctx, p, args)
        return self._check(ctx)._query(ctx, p, args)

    def exec(self, args: Sequence[Any]) -> SQLiteResult:
        return self.exec_context(background(), _named(args))

    def query(self, args: Sequence[Any]) -> SQLiteRows:
        return self.query_context(background(), _named(args))


def _named(args: Sequence[Any]) -> list[driver.NamedValue]:
    return [driver.NamedValue("", i + 1, _value_for_sqlite(v)) for i, v in enumerate(args)]


class SQLiteResult:
    """The result of an exec."""

    __slots__ = ("_id", "_n")

    def __init__(self, last_insert_id: int, rows_affected: int) -> None:
        self._id = last_insert_id
        self._n = rows_affected

    def last_insert_id(self) -> int:
        return self._id

    def rows_affected(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"SQLiteResult(last_insert_id={self._id}, rows_affected={self._n})"


class SQLiteRows:
    """The rows of a query, fetched in batches."""

    __slots__ = (
        "_conn",
        "_cur",
        "_cols",
        "_names",
        "_desc",
        "_ctx",
        "_w",
        "_buf",
        "_pos",
        "_size",
        "_done",
        "_conv",
        "_closed",
        "_rest",
        "_pending",
        "_pending_err",
    )

    def __init__(
        self,
        conn: SQLiteConn,
        cur: _sqlite.Cursor | None,
        cols: _Cols | None,
        ctx: Context,
        w: _Watch | None,
        rest: list[tuple[_Parsed, Sequence[driver.NamedValue]]],
    ) -> None:
        self._conn = conn
        self._ctx = ctx
        self._w = w
        self._closed = False
        # Statements still to run (last one first), a result set they gave ahead
        # of next_result_set, or the error running them met.
        self._rest = rest
        self._pending: tuple[_sqlite.Cursor, _Cols | None] | None = None
        self._pending_err: Exception | None = None
        # What _set does, inline (a query's usual path).
        self._cur = cur
        desc = cur.description if cur is not None else None
        self._desc = desc
        self._names: list[str] | None = None  # from desc, on first use
        if cols is not None and (desc is None or len(cols.types) != len(desc)):
            cols = None
        self._cols = cols
        self._conv = cols.conv if cols is not None else None
        self._buf: list[Any] = []
        self._pos = 0
        self._size = _FIRST_BATCH
        self._done = desc is None

    def _set(self, cur: _sqlite.Cursor | None, cols: _Cols | None) -> None:
        """Make cur the current result set."""
        self._cur = cur
        desc = cur.description if cur is not None else None
        self._desc = desc
        self._names = None
        if cols is not None and (desc is None or len(cols.types) != len(desc)):
            cols = None
        self._cols = cols
        self._conv = cols.conv if cols is not None else None
        self._buf = []
        self._pos = 0
        self._size = _FIRST_BATCH
        self._done = desc is None

    def columns(self) -> list[str]:
        names = self._names
        if names is None:
            desc = self._desc
            names = self._names = [d[0] for d in desc] if desc is not None else []
        return names

    def close(self) -> None:
        """Close the rows; statements of the query not run yet are skipped."""
        if self._closed:
            return
        self._closed = True
        self._done = True
        self._buf = []
        self._rest = []
        w = self._w
        if w is not None:
            self._w = None
            w.stop()
        pending, self._pending = self._pending, None
        if not self._conn._closed:
            if self._cur is not None:
                self._cur.close()
            if pending is not None:
                pending[0].close()

    def has_next_result_set(self) -> bool:
        """Run the query's next statements up to one that yields columns."""
        if self._pending is not None or self._pending_err is not None:
            return True
        if not self._rest or self._closed:
            return False
        try:
            self._pending = self._conn._next_result(self._ctx, self._w, self._rest)
        except Exception as e:
            self._pending_err = e  # reported by next_result_set
            return True
        return self._pending is not None

    def next_result_set(self) -> None:
        """Move to the next statement of the query that yields columns."""
        if self._closed:
            raise EOFError
        if self._cur is not None:
            self._cur.close()
        self._set(None, None)
        if self._pending is None and self._pending_err is None:
            self.has_next_result_set()
        err, self._pending_err = self._pending_err, None
        if err is not None:
            raise err
        pending, self._pending = self._pending, None
        if pending is None:
            raise EOFError
        self._set(pending[0], pending[1])

    def next(self, dest: list[Any]) -> None:
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            # Fetch the next batch (batches grow up to _MAX_BATCH rows).
            if self._done:
                raise EOFError
            size = self._size
            w = self._w
            cur = self._cur
            assert cur is not None
            if w is None:
                buf = cur.fetchmany(size)
            else:
                buf = _watched(self._ctx, w, cur.fetchmany, size)
            self._buf = buf
            if len(buf) < size:
                self._done = True
                if not buf:
                    raise EOFError
            elif size < _MAX_BATCH:
                self._size = size * 4
            pos = 0
        self._pos = pos + 1
        dest[:] = buf[pos]
        conv = self._conv
        if conv is not None:
            for i, f in conv:
                v = dest[i]
                if v is not None:
                    dest[i] = f(v)

    def next_batch(self, max_rows: int) -> list[tuple[Any, ...]]:
        """Up to max_rows rows (sqlite3's tuples; rebuilt only when a column is
        converted); an empty list at the end of the result set."""
        if max_rows < 1:
            raise ValueError(f"sqlite3: next_batch needs max_rows >= 1, got {max_rows}")
        buf = self._buf
        pos = self._pos
        if pos < len(buf):
            # Rows fetched for next (dbsql never mixes the two; others may).
            batch = buf[pos : pos + max_rows]
            self._pos = pos + len(batch)
        else:
            if self._done:
                return []
            cur = self._cur
            assert cur is not None
            w = self._w
            if w is None:
                batch = cur.fetchmany(max_rows)
            else:
                batch = _watched(self._ctx, w, cur.fetchmany, max_rows)
            if len(batch) < max_rows:
                self._done = True
        conv = self._conv
        if conv is not None and batch:
            return _convert_rows(batch, conv)
        return batch

    # --- column types ---

    def column_type_database_type_name(self, index: int) -> str:
        cols = self._cols
        return cols.types[index] if cols is not None else ""

    def column_type_scan_type(self, index: int) -> Any:
        cols = self._cols
        return _scan_type(cols.types[index]) if cols is not None else object


_driver = SQLiteDriver()
sql.register("sqlite3", _driver)
