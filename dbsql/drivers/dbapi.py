"""A dbsql driver over any DB-API 2.0 (PEP 249) module or connect function.

Usage::

    import sqlite3
    import dbsql
    from dbsql.drivers import dbapi

    db = dbapi.open_db(sqlite3, "app.db")  # sqlite3.connect("app.db") per connection
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    db.exec("INSERT INTO t (name) VALUES (?)", "bob")

    # Options of the bridge go to a Driver; the rest of open_db's arguments go
    # to the module's connect():
    import pymysql
    db = dbapi.open_db(dbapi.Driver(pymysql, paramstyle="format"), host="127.0.0.1", user="root")

    # A name for dbsql.open(name, dsn); the DSN is connect()'s one argument
    # unless dsn_parser turns it into connect's arguments:
    dbapi.register("pg-dbapi", psycopg)
    db = dbsql.open("pg-dbapi", "host=127.0.0.1 dbname=test user=postgres")

Placeholders. Queries are written with ``?`` for positional arguments and
``:name`` for :func:`dbsql.named` arguments, whatever the module's
``paramstyle``; outside string literals, quoted identifiers, dollar quotes and
comments they are translated (once per query, cached) to the module's style:
``qmark`` keeps ``?``; ``numeric`` gives ``:1, :2``; ``named`` gives ``:p1, :p2``
and ``:name``; ``format`` gives ``%s``; ``pyformat`` gives ``%(p1)s`` and
``%(name)s``. For ``format`` and ``pyformat`` every literal ``%`` is doubled
when the query has arguments (the module applies ``%`` formatting to the whole
text). Named arguments need the ``named`` or ``pyformat`` style; with another
style they are a clear error (pass ``paramstyle=`` when the module accepts
another style than it declares, as sqlite3 accepts ``named``). A ``:name``
that matches no named argument is left as it is (PostgreSQL ``::`` casts and
array slices are never placeholders). ``?`` is always a placeholder outside
literals and comments, so PostgreSQL's ``?`` jsonb operators need their
function forms. MySQL modules (module name containing "mysql" or "mariadb", or
``quoting="mysql"``) get MySQL's lexical rules: backslash escapes in strings,
``#`` comments, no dollar quotes.

Transactions. DB-API connections are implicitly transactional. Outside a
transaction the bridge runs the connection in autocommit mode where the module
offers a switch: an ``autocommit`` attribute (psycopg, psycopg2, sqlite3 on
Python 3.12+), an ``autocommit(bool)`` method (PyMySQL, MySQLdb; ``begin()`` is
then used to start a transaction when the connection has it), or sqlite3's
``isolation_level = None`` with an explicit ``BEGIN``. A module without any of
these is committed after every statement run outside a transaction (after the
rows are closed, for a query). ``begin``/``commit``/``rollback`` map to the
connection's methods. Isolation levels other than the default, and read-only
transactions, are set through psycopg's ``IsolationLevel``/``read_only`` when
the module has them, or through the ``set_tx_options`` hook; otherwise
``begin_tx`` raises :class:`NotSupportedError`.

Threads. The module's ``threadsafety`` (or ``threadsafety=``) is respected.
Level 0 (threads may not share the module): every call into the module
(connect, execute, fetch, commit, close...) is serialized under one lock per
module, shared by all the bridge's drivers over that module; statements are
then not interrupted on cancellation (an interrupt would have to wait for the
lock). Level 1 (threads may share the module but not connections) and up: the
pool hands a connection to one thread at a time, which is all level 1 asks.
sqlite3's ``check_same_thread`` is turned off by default for that reason.

Cancellation. When the connection has ``cancel_safe()``, ``cancel()`` (psycopg)
or ``interrupt()`` (sqlite3), a context that ends while a statement (execute,
fetch, nextset, begin) runs calls it from :func:`dbsql.context.after_func`; the
statement fails and the context's error is raised with the module's error as
its ``__cause__``. Otherwise (PyMySQL, ...) the context is checked between
calls only: a running statement cannot be interrupted and runs to its end.
``connect`` is never interrupted.

Results. ``rows_affected`` is ``Cursor.rowcount`` (-1 raises
:class:`NotSupportedError` "rowcount unknown"); ``last_insert_id`` is
``Cursor.lastrowid`` (absent or None raises). Rows report the cursor's
``description``: names, and as column types ``type_code`` (psycopg's type
names, MySQL field types, or a string type code, upper case, without length),
``display_size`` as length, ``precision``/``scale`` and ``null_ok``. Several
result sets are read with ``Cursor.nextset`` where the cursor has it (result
sets without columns are skipped); without it ``next_result_set`` raises
"dbapi: module sqlite3 has no Cursor.nextset".

Sessions. ``reset_session`` rolls back whatever transaction was left open (and
probes a socket-backed connection that the server may have closed), raising
``driver.BadConnError`` for a dead connection; ``is_valid`` is False once the
module reports the connection closed or broken. Values pass to the module as
they are (the types a DB-API module takes: None, bool, int, float, str, bytes,
datetime, date, time, timedelta, Decimal, UUID); other types go through dbsql's
default converter. Connection arguments never appear in reprs or errors.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import functools
import inspect
import itertools
import re
import select
import sys
import threading
import types
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import attrs

from dbsql import context as _context
from dbsql import driver
from dbsql import sql as _sql
from dbsql.context import Context

__all__ = [
    "PARAMSTYLES",
    "Connector",
    "Driver",
    "NotSupportedError",
    "Translation",
    "num_input",
    "open_db",
    "register",
    "translate",
]

PARAMSTYLES = ("qmark", "numeric", "named", "format", "pyformat")

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


class NotSupportedError(Exception):
    """The DB-API module lacks what was asked for (a named parameter, an isolation
    level, ``Cursor.nextset``, a known rowcount, ``Cursor.lastrowid`` ...)."""


# ---------------------------------------------------------------------------
# Placeholder translation.


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c == "_" or c == "$"


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@attrs.frozen
class _Parsed:
    # texts[k] precedes markers[k]; len(texts) == len(markers) + 1. A marker is
    # None for "?" or the name of a ":name" candidate.
    texts: tuple[str, ...]
    markers: tuple[str | None, ...]


def _skip_quoted(q: str, i: int, quote: str, backslash: bool) -> int:
    """Return the index after the literal opened by q[i] == quote."""
    n = len(q)
    i += 1
    while i < n:
        c = q[i]
        if backslash and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < n and q[i + 1] == quote:  # doubled quote: escaped
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _skip_block_comment(q: str, i: int, nested: bool) -> int:
    n = len(q)
    depth = 1
    i += 2
    while i < n:
        if q.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0 or not nested:
                return i
        elif nested and q.startswith("/*", i):
            depth += 1
            i += 2
        else:
            i += 1
    return n


@functools.lru_cache(maxsize=2048)
def _parse(query: str, mysql: bool) -> _Parsed:
    texts: list[str] = []
    markers: list[str | None] = []
    n = len(query)
    start = 0
    i = 0
    while i < n:
        c = query[i]
        if c in "'\"`":
            backslash = mysql and c != "`"
            if c == "'" and not mysql and i > 0 and query[i - 1] in "eE":
                # PostgreSQL E'...' strings take backslash escapes.
                backslash = i < 2 or not _is_ident_char(query[i - 2])
            i = _skip_quoted(query, i, c, backslash)
        elif c == "-" and query.startswith("--", i) or (c == "#" and mysql):
            j = query.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "/" and query.startswith("/*", i):
            i = _skip_block_comment(query, i, nested=not mysql)
        elif c == "$" and not mysql and (i == 0 or not _is_ident_char(query[i - 1])):
            m = _DOLLAR_TAG.match(query, i)
            if m is None:
                i += 1
                continue
            tag = m.group(0)
            j = query.find(tag, m.end())
            i = n if j < 0 else j + len(tag)
        elif c == "?":
            texts.append(query[start:i])
            markers.append(None)
            i += 1
            start = i
        elif c == ":":
            if i + 1 < n and query[i + 1] == ":":  # PostgreSQL cast
                i += 2
                continue
            nxt = query[i + 1] if i + 1 < n else ""
            if (nxt.isalpha() or nxt == "_") and (i == 0 or not _is_ident_char(query[i - 1])):
                j = i + 1
                while j < n and (query[j].isalnum() or query[j] == "_"):
                    j += 1
                texts.append(query[start:i])
                markers.append(query[i + 1 : j])
                i = j
                start = i
            else:
                i += 1
        else:
            i += 1
    texts.append(query[start:])
    return _Parsed(tuple(texts), tuple(markers))


def num_input(query: str, *, quoting: str = "standard") -> int:
    """The number of ``?`` placeholders of query, or -1 when it also has
    ``:name`` candidates (whether they bind depends on the arguments)."""
    p = _parse(query, _mysql_quoting(quoting))
    if any(m is not None for m in p.markers):
        return -1
    return len(p.markers)


def _mysql_quoting(quoting: str) -> bool:
    if quoting not in ("standard", "mysql"):
        raise ValueError(f"dbapi: quoting must be 'standard' or 'mysql', not {quoting!r}")
    return quoting == "mysql"


@attrs.frozen
class Translation:
    """A query translated to a paramstyle; :meth:`bind` builds the parameters."""

    # The query text for the module.
    query: str
    paramstyle: str
    # The number of "?" placeholders.
    num_positional: int
    # The named placeholders bound, in order of first appearance.
    names: tuple[str, ...]
    # The name of the module, for error messages.
    module: str = "the module"

    def bind(self, args: Sequence[driver.NamedValue]) -> tuple[Any, ...] | dict[str, Any]:
        """Return the parameters for ``Cursor.execute``: a tuple for qmark,
        numeric and format, a dict for named and pyformat."""
        positional = [a.value for a in args if not a.name]
        named = {a.name: a.value for a in args if a.name}
        if len(positional) != self.num_positional:
            raise ValueError(
                f"dbapi: the query has {self.num_positional} ? placeholder(s), "
                f"got {len(positional)} positional argument(s)"
            )
        if named and self.paramstyle not in ("named", "pyformat"):
            name = next(iter(named))
            raise _named_unsupported(self.module, self.paramstyle, name)
        for name in named:
            if name not in self.names:
                raise ValueError(
                    f"dbapi: named argument {name!r} matches no :{name} placeholder in the query"
                )
        if self.paramstyle in ("named", "pyformat"):
            params: dict[str, Any] = {f"p{k}": v for k, v in enumerate(positional, 1)}
            params.update(named)
            return params
        return tuple(positional)


def _named_unsupported(module: str, paramstyle: str, name: str) -> NotSupportedError:
    return NotSupportedError(
        f"dbapi: module {module} uses paramstyle {paramstyle!r}, which has no named "
        f"parameters: cannot bind named argument {name!r} (use ? placeholders, or "
        "paramstyle 'named' or 'pyformat' if the module accepts it)"
    )


def translate(
    query: str,
    paramstyle: str,
    names: Collection[str] = (),
    *,
    quoting: str = "standard",
    module: str = "the module",
) -> Translation:
    """Translate the ``?`` and ``:name`` placeholders of query to paramstyle.

    names are the names of the named arguments that will be bound: a ``:name``
    whose name is not among them stays as it is. Results are cached.
    """
    if paramstyle not in PARAMSTYLES:
        raise ValueError(f"dbapi: unknown paramstyle {paramstyle!r}; one of {PARAMSTYLES}")
    return _translate(query, paramstyle, frozenset(names), _mysql_quoting(quoting), module)


@functools.lru_cache(maxsize=2048)
def _translate(
    query: str, style: str, names: frozenset[str], mysql: bool, module: str
) -> Translation:
    p = _parse(query, mysql)
    percent = style in ("format", "pyformat")

    def lit(s: str) -> str:
        return s.replace("%", "%%") if percent else s

    out = [lit(p.texts[0])]
    pos = 0
    used: list[str] = []
    for k, marker in enumerate(p.markers):
        if marker is None:
            pos += 1
            if style == "qmark":
                ph = "?"
            elif style == "numeric":
                ph = f":{pos}"
            elif style == "named":
                ph = f":p{pos}"
            elif style == "format":
                ph = "%s"
            else:
                ph = f"%(p{pos})s"
        elif marker in names:
            if style == "named":
                ph = f":{marker}"
            elif style == "pyformat":
                ph = f"%({marker})s"
            else:
                raise _named_unsupported(module, style, marker)
            if marker not in used:
                used.append(marker)
        else:
            ph = lit(":" + marker)
        out.append(ph)
        out.append(lit(p.texts[k + 1]))
    if style in ("named", "pyformat"):
        for name in names:
            m = re.fullmatch(r"p([0-9]+)", name)
            if m is not None and 1 <= int(m.group(1)) <= pos:
                raise ValueError(
                    f"dbapi: named argument {name!r} collides with the name the bridge "
                    f"gives to ? placeholder {m.group(1)}"
                )
    return Translation("".join(out), style, pos, tuple(used), module)


# ---------------------------------------------------------------------------
# The driver.

_module_locks_mu = threading.Lock()
_module_locks: dict[str, threading.RLock] = {}


def _module_lock(name: str) -> threading.RLock:
    with _module_locks_mu:
        lock = _module_locks.get(name)
        if lock is None:
            lock = _module_locks[name] = threading.RLock()
        return lock


def _find_module(connect: Callable[..., Any]) -> types.ModuleType | None:
    """The DB-API module a connect function belongs to: its module or the
    nearest parent package that declares a paramstyle, else a module exporting
    it as ``connect`` (sqlite3.connect lives in _sqlite3)."""
    name = getattr(connect, "__module__", None)
    while name:
        mod = sys.modules.get(name)
        if mod is not None and hasattr(mod, "paramstyle"):
            return mod
        name = name.rpartition(".")[0]
    found = [
        m
        for m in list(sys.modules.values())
        if isinstance(m, types.ModuleType)
        and getattr(m, "connect", None) is connect
        and hasattr(m, "paramstyle")
    ]
    found.sort(key=lambda m: len(m.__name__))
    return found[0] if found else None


def _default_dsn_parser(name: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (name,), {}


# MySQL field types (MySQLdb's and PyMySQL's constants.FIELD_TYPE) -> the
# type names Go's MySQL driver reports.
_MYSQL_TYPE_NAMES = {
    "DECIMAL": "DECIMAL",
    "TINY": "TINYINT",
    "SHORT": "SMALLINT",
    "LONG": "INT",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "NULL": "NULL",
    "TIMESTAMP": "TIMESTAMP",
    "LONGLONG": "BIGINT",
    "INT24": "MEDIUMINT",
    "DATE": "DATE",
    "TIME": "TIME",
    "DATETIME": "DATETIME",
    "YEAR": "YEAR",
    "NEWDATE": "DATE",
    "VARCHAR": "VARCHAR",
    "BIT": "BIT",
    "JSON": "JSON",
    "NEWDECIMAL": "DECIMAL",
    "ENUM": "ENUM",
    "SET": "SET",
    "TINY_BLOB": "TINYBLOB",
    "MEDIUM_BLOB": "MEDIUMBLOB",
    "LONG_BLOB": "LONGBLOB",
    "BLOB": "BLOB",
    "VAR_STRING": "VARCHAR",
    "STRING": "CHAR",
    "GEOMETRY": "GEOMETRY",
}


def _mysql_field_types(module: types.ModuleType | None) -> dict[Any, str]:
    consts = getattr(module, "constants", None)
    ft = getattr(consts, "FIELD_TYPE", None)
    if ft is None:
        return {}
    out: dict[Any, str] = {}
    for attr, sqlname in _MYSQL_TYPE_NAMES.items():
        code = getattr(ft, attr, None)
        if code is not None and code not in out:
            out[code] = sqlname
    return out


SetTxOptions = Callable[[Any, driver.IsolationLevel, bool], None]


class Driver:
    """A dbsql driver over a DB-API 2.0 module (or its connect function).

    ``paramstyle`` and ``threadsafety`` default to the module's; ``connect_args``
    are keyword arguments added to every ``connect`` call; ``dsn_parser`` turns
    the name given to :func:`dbsql.open` into connect's ``(args, kwargs)``
    (default: the name is the one positional argument). ``quoting`` is
    "standard" or "mysql" (default from the module's name). ``ping_query`` is
    run by ``ping`` when the connection has no ``ping()`` (None: check the
    state only). ``set_tx_options(raw_conn, isolation, read_only)`` applies
    non-default transaction options before a transaction starts (raise to
    refuse). ``type_name(type_code)`` names a column's database type when the
    bridge cannot.
    """

    def __init__(
        self,
        module_or_connect: types.ModuleType | Callable[..., Any],
        *,
        paramstyle: str | None = None,
        threadsafety: int | None = None,
        connect_args: Mapping[str, Any] | None = None,
        dsn_parser: Callable[[str], tuple[Sequence[Any], Mapping[str, Any]]] | None = None,
        quoting: str | None = None,
        ping_query: str | None = "SELECT 1",
        set_tx_options: SetTxOptions | None = None,
        type_name: Callable[[Any], str] | None = None,
        fetch_size: int = 100,
    ) -> None:
        module: types.ModuleType | None
        if isinstance(module_or_connect, types.ModuleType):
            module = module_or_connect
            connect = getattr(module, "connect", None)
            if not callable(connect):
                raise TypeError(f"dbapi: module {module.__name__} has no connect function")
            self.module_name = module.__name__
        elif callable(module_or_connect):
            connect = module_or_connect
            module = _find_module(connect)
            self.module_name = (
                module.__name__
                if module is not None
                else getattr(connect, "__qualname__", type(connect).__name__)
            )
        else:
            raise TypeError(
                "dbapi: Driver needs a DB-API module or a connect function, not "
                f"{type(module_or_connect).__name__}"
            )
        self.module = module
        self._connect: Callable[..., Any] = connect
        if paramstyle is None:
            paramstyle = getattr(module, "paramstyle", None)
            if paramstyle is None:
                raise ValueError(
                    f"dbapi: cannot tell the paramstyle of {self.module_name}; pass paramstyle="
                )
        if paramstyle not in PARAMSTYLES:
            raise ValueError(f"dbapi: unknown paramstyle {paramstyle!r}; one of {PARAMSTYLES}")
        self.paramstyle: str = paramstyle
        if threadsafety is None:
            # Unknown: assume the strictest level.
            threadsafety = int(getattr(module, "threadsafety", 0))
        if threadsafety not in (0, 1, 2, 3):
            raise ValueError(f"dbapi: threadsafety must be 0..3, not {threadsafety!r}")
        self.threadsafety: int = threadsafety
        self._lock: threading.RLock | None = (
            _module_lock(self.module_name) if threadsafety == 0 else None
        )
        kwargs = dict(connect_args or {})
        if self.module_name == "sqlite3":
            # The pool hands a connection to one thread at a time.
            kwargs.setdefault("check_same_thread", False)
        self._connect_kwargs = kwargs
        self._dsn_parser = dsn_parser
        if quoting is None:
            low = self.module_name.lower()
            quoting = "mysql" if "mysql" in low or "mariadb" in low else "standard"
        _mysql_quoting(quoting)
        self.quoting: str = quoting
        self._ping_query = ping_query
        self._set_tx_options = set_tx_options
        self._type_name = type_name
        if fetch_size < 1:
            raise ValueError("dbapi: fetch_size must be at least 1")
        self._fetch_size = fetch_size
        self._mysql_types = _mysql_field_types(module)
        # Translations of queries bound with positional arguments only, by query
        # text (the usual case, without _translate's wider cache key).
        self._positional: dict[str, Translation] = {}

    def __repr__(self) -> str:
        return (
            f"<dbsql.drivers.dbapi.Driver module={self.module_name} paramstyle={self.paramstyle}>"
        )

    def open(self, name: str) -> driver.Conn:
        """Return a new connection; name is parsed as by :meth:`open_connector`."""
        return self.open_connector(name).connect(_context.background())

    def open_connector(self, name: str) -> Connector:
        """Parse name once (with ``dsn_parser``) into connect's arguments."""
        parser = self._dsn_parser or _default_dsn_parser
        args, kwargs = parser(name)
        return self.connector(*args, **kwargs)

    def connector(self, *args: Any, **kwargs: Any) -> Connector:
        """A Connector calling the module's ``connect(*args, **kwargs)`` (plus
        ``connect_args``)."""
        merged = dict(self._connect_kwargs)
        merged.update(kwargs)
        return Connector(self, tuple(args), merged)

    def _guard(self) -> contextlib.AbstractContextManager[Any]:
        return self._lock if self._lock is not None else contextlib.nullcontext()


# What may be a password among connect's arguments: a keyword argument named so,
# and in a DSN string a URL's user:password@ or a password=... pair.
_SECRET_KEYWORD = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)
_DSN_SECRETS = (
    re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:@/?#]*:([^@/?#]*)@"),
    re.compile(
        r"(?:^|[\s?&;])(?:ssl)?(?:password|passwd|pwd)\s*=\s*('(?:[^'\\]|\\.)*'?|[^\s&;]+)",
        re.IGNORECASE,
    ),
)


def _secrets_of(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The secrets among connect's arguments (as given, unquoted, unescaped), longest first."""
    found = [v for k, v in kwargs.items() if isinstance(v, str) and _SECRET_KEYWORD.search(k)]
    for v in (*args, *kwargs.values()):
        if isinstance(v, str):
            for rx in _DSN_SECRETS:
                for m in rx.finditer(v):
                    s = m.group(1)
                    # Also as a bytes repr shows it decoded (a UnicodeDecodeError's).
                    raw = repr(urllib.parse.unquote_to_bytes(s))[2:-1]
                    found += [s, s.strip("'"), urllib.parse.unquote(s), raw]
    return tuple(sorted({s for s in found if s}, key=len, reverse=True))


def _scrubbed(e: Exception, secrets: Sequence[str]) -> Exception | None:
    """A copy of e (same class) with the secrets blanked out of its message, or
    None if neither e nor the errors chained to it show one."""
    parts: list[str] = []
    cur: BaseException | None = e
    while cur is not None and len(parts) < 20:
        # A failed connect's error may keep the module's connection object
        # (psycopg's Error.pgconn), whose repr shows the connection string,
        # password included: drop it, it is of no use after a failed connect.
        if getattr(cur, "_pgconn", None) is not None:
            with contextlib.suppress(Exception):
                cur._pgconn = None  # type: ignore[attr-defined]
        parts += [str(cur), repr(cur.args)]
        # Public attributes a module's error may carry, whose repr can show the
        # connection string (psycopg's Error.pgconn): a copy drops them.
        parts += [repr(getattr(cur, a, None)) for a in ("pgconn", "pgresult", "diag")]
        cur = cur.__cause__ or cur.__context__
    text = "\n".join(parts)
    if not any(s in text for s in secrets):
        return None

    def blank(a: Any) -> Any:
        if not isinstance(a, str):
            return a
        for s in secrets:
            a = a.replace(s, "xxxxx")
        return a

    try:
        copy = type(e)(*map(blank, e.args))
    except Exception:
        copy = RuntimeError(blank(str(e)))
    if any(s in f"{copy} {copy.args!r}" for s in secrets):
        copy = RuntimeError(f"dbapi: {type(e).__name__} (message withheld: it shows a password)")
    return copy


class Connector:
    """Creates connections with the module's ``connect(*args, **kwargs)``.

    The arguments (which may hold a password) appear in no repr or error: a
    connect error that shows a password is raised as a copy without it (and
    without the module's error chained).
    """

    def __init__(self, drv: Driver, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._driver = drv
        self._args = args
        self._kwargs = kwargs
        self._secrets = _secrets_of(args, kwargs)

    def __repr__(self) -> str:
        return f"<dbsql.drivers.dbapi.Connector module={self._driver.module_name}>"

    def connect(self, ctx: Context) -> driver.Conn:
        """Open a connection; the context is checked before and after (a DB-API
        connect cannot be interrupted)."""
        err = ctx.err()
        if err is not None:
            raise err
        d = self._driver
        failure: Exception | None = None
        with d._guard():
            try:
                raw = d._connect(*self._args, **self._kwargs)
            except Exception as e:
                failure = _scrubbed(e, self._secrets)
                if failure is None:
                    raise
        if failure is not None:
            # Raised outside the except block: no __context__ showing the password.
            raise failure
        try:
            conn = _Conn(d, raw)
            err = ctx.err()
            if err is not None:
                raise err
        except BaseException:
            with contextlib.suppress(Exception), d._guard():
                raw.close()
            raise
        return conn

    def driver(self) -> driver.Driver:
        return self._driver


_PASS_TYPES = frozenset(
    {
        bool,
        float,
        str,
        bytes,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        decimal.Decimal,
        uuid.UUID,
    }
)

# dbsql isolation levels -> the members of psycopg's IsolationLevel.
_PSYCOPG_LEVELS = {
    1: "READ_UNCOMMITTED",
    2: "READ_COMMITTED",
    4: "REPEATABLE_READ",
    6: "SERIALIZABLE",
}

# Autocommit strategies.
_AC_ATTR = "attribute"  # conn.autocommit = bool
_AC_METHOD = "method"  # conn.autocommit(bool)
_AC_SQLITE = "sqlite3"  # conn.isolation_level = None, explicit BEGIN
_AC_NONE = "none"  # always transactional: commit after statements outside a tx


def _attr(obj: Any, name: str) -> Any:
    """A non-callable attribute of obj, or None."""
    v = getattr(obj, name, None)
    return None if callable(v) else v


class _Conn:
    """A connection: one DB-API connection and its transaction state."""

    def __init__(self, d: Driver, raw: Any) -> None:
        self._d = d
        self._raw = raw
        self._closed = False
        self._broken = False
        self._in_tx = False
        self._tx_options_set = False
        self._cancel_mu = threading.Lock()
        self._running = False
        self._interrupt: Callable[[], Any] | None = None
        # A poll object registered for the connection's socket (fd, object).
        self._poller: tuple[int, Any] | None = None
        # The description of query_row_context's last row (query_row_columns).
        self._row_desc: list[Sequence[Any]] = []
        if d.threadsafety > 0:
            for meth in ("cancel_safe", "cancel", "interrupt"):
                f = getattr(raw, meth, None)
                if callable(f):
                    self._interrupt = f
                    break
        self._can_begin = callable(getattr(raw, "begin", None))
        with d._guard():
            if isinstance(getattr(raw, "autocommit", None), bool):
                self._ac = _AC_ATTR
                raw.autocommit = True
            elif callable(getattr(raw, "autocommit", None)):
                self._ac = _AC_METHOD
                raw.autocommit(True)
            elif hasattr(raw, "isolation_level") and hasattr(raw, "in_transaction"):
                self._ac = _AC_SQLITE
                raw.isolation_level = None
            else:
                self._ac = _AC_NONE

    def __repr__(self) -> str:
        return f"<dbsql.drivers.dbapi conn module={self._d.module_name}>"

    # -- state

    def _raw_dead(self) -> bool:
        # _attr(raw, "closed") or _attr(raw, "broken") is True or _attr(raw, "open")
        # is False, inline.
        raw = self._raw
        v = getattr(raw, "closed", None)
        if v and not callable(v):
            return True
        if getattr(raw, "broken", None) is True:
            return True
        return getattr(raw, "open", None) is False

    def _check_usable(self) -> None:
        """Raise BadConnError when nothing can be sent: the statement cannot
        reach the server."""
        if self._closed or self._broken or self._raw_dead():
            self._broken = True
            raise driver.BadConnError(f"dbapi: {self._d.module_name} connection is closed")

    def _note_error(self) -> None:
        if self._raw_dead():
            self._broken = True

    # -- calling the module

    def _on_ctx_done(self) -> None:
        with self._cancel_mu:
            if self._running and self._interrupt is not None:
                with contextlib.suppress(Exception):
                    self._interrupt()

    def _call(self, ctx: Context, f: Callable[..., Any], *args: Any) -> Any:
        """Call f(*args) on the module for ctx: check the context first, interrupt
        the call if the context ends during it, and raise the context's error."""
        err = ctx.err()
        if err is not None:
            raise err
        stop: Callable[[], bool] | None = None
        if self._interrupt is not None and ctx.done() is not _context._NEVER:
            with self._cancel_mu:
                self._running = True
            stop = _context.after_func(ctx, self._on_ctx_done)
        try:
            return self._plain(f, *args)
        except Exception as e:
            cerr = ctx.err()
            if cerr is not None:
                raise cerr from e
            raise
        finally:
            if stop is not None:
                with self._cancel_mu:
                    self._running = False
                stop()

    def _plain(self, f: Callable[..., Any], *args: Any) -> Any:
        """Call f(*args) on the module, with no context."""
        lock = self._d._lock
        try:
            if lock is None:
                return f(*args)
            with lock:
                return f(*args)
        except Exception:
            self._note_error()
            raise

    def _execute(self, ctx: Context, query: str, args: Sequence[driver.NamedValue]) -> Any:
        """Run query on a new cursor and return the cursor."""
        self._check_usable()
        d = self._d
        cur = self._plain(self._raw.cursor)
        try:
            if args:
                for a in args:
                    if a.name:
                        t = _translate(
                            query,
                            d.paramstyle,
                            frozenset(a.name for a in args if a.name),
                            d.quoting == "mysql",
                            d.module_name,
                        )
                        params = t.bind(args)
                        break
                else:
                    # Positional arguments only: what Translation.bind does for them.
                    found = d._positional.get(query)
                    if found is None:
                        found = _translate(
                            query, d.paramstyle, frozenset(), d.quoting == "mysql", d.module_name
                        )
                        if len(d._positional) >= 2048:
                            d._positional.clear()
                        d._positional[query] = found
                    t = found
                    if len(args) != t.num_positional:
                        raise ValueError(
                            f"dbapi: the query has {t.num_positional} ? placeholder(s), "
                            f"got {len(args)} positional argument(s)"
                        )
                    if t.paramstyle == "named" or t.paramstyle == "pyformat":
                        params = {f"p{k}": a.value for k, a in enumerate(args, 1)}
                    else:
                        params = tuple([a.value for a in args])
                self._call(ctx, cur.execute, t.query, params)
            else:
                self._call(ctx, cur.execute, query)
        except BaseException:
            with contextlib.suppress(Exception):
                self._plain(cur.close)
            self._end_implicit()
            raise
        return cur

    def _end_implicit(self) -> None:
        """Without an autocommit switch, commit what a statement outside a
        transaction did."""
        if self._ac == _AC_NONE and not self._in_tx and not self._broken and not self._closed:
            self._plain(self._raw.commit)

    # -- driver.Conn

    def prepare(self, query: str) -> driver.Stmt:
        return self.prepare_context(_context.background(), query)

    def prepare_context(self, ctx: Context, query: str) -> driver.Stmt:
        """DB-API has no prepared statements: the statement holds the query."""
        err = ctx.err()
        if err is not None:
            raise err
        self._check_usable()
        return _Stmt(self, query)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._cancel_mu:
            self._interrupt = None
        if self._in_tx:
            with contextlib.suppress(Exception):
                self._plain(self._raw.rollback)
        self._plain(self._raw.close)

    def begin(self) -> driver.Tx:
        return self.begin_tx(_context.background(), driver.TxOptions())

    def begin_tx(self, ctx: Context, opts: driver.TxOptions) -> driver.Tx:
        err = ctx.err()
        if err is not None:
            raise err
        self._check_usable()
        if self._in_tx:
            raise RuntimeError("dbapi: a transaction is already open on this connection")
        raw = self._raw
        iso = driver.IsolationLevel(int(opts.isolation))
        if iso != 0 or opts.read_only:
            self._apply_tx_options(iso, opts.read_only)
        try:
            if self._ac == _AC_ATTR:
                self._plain(setattr, raw, "autocommit", False)
            elif self._ac == _AC_METHOD:
                if self._can_begin:
                    self._call(ctx, raw.begin)
                else:
                    self._call(ctx, raw.autocommit, False)
            elif self._ac == _AC_SQLITE:
                cur = self._plain(raw.cursor)
                try:
                    self._call(ctx, cur.execute, "BEGIN")
                finally:
                    self._plain(cur.close)
        except BaseException:
            self._restore_after_tx()
            raise
        self._in_tx = True
        return _Tx(self)

    def _apply_tx_options(self, iso: driver.IsolationLevel, read_only: bool) -> None:
        d = self._d
        raw = self._raw
        self._tx_options_set = True
        try:
            if d._set_tx_options is not None:
                self._plain(d._set_tx_options, raw, iso, read_only)
                return
            if iso != 0:
                name = _PSYCOPG_LEVELS.get(int(iso))
                iso_enum = getattr(d.module, "IsolationLevel", None)
                member = getattr(iso_enum, name, None) if name is not None else None
                if member is None or self._ac != _AC_ATTR or not hasattr(raw, "isolation_level"):
                    raise NotSupportedError(
                        f"dbapi: module {d.module_name} offers no way to set isolation level "
                        f"{_iso_name(iso)} (pass set_tx_options= to the Driver)"
                    )
                self._plain(setattr, raw, "isolation_level", member)
            if read_only:
                if self._ac != _AC_ATTR or not hasattr(raw, "read_only") or callable(raw.read_only):
                    raise NotSupportedError(
                        f"dbapi: module {d.module_name} offers no way to start a read-only "
                        "transaction (pass set_tx_options= to the Driver)"
                    )
                self._plain(setattr, raw, "read_only", True)
        except BaseException:
            with contextlib.suppress(Exception):
                self._restore_after_tx()
            raise

    def _restore_after_tx(self) -> None:
        """Back to autocommit and default transaction options after a transaction."""
        self._in_tx = False
        raw = self._raw
        try:
            if self._tx_options_set:
                self._tx_options_set = False
                if self._d._set_tx_options is not None:
                    self._plain(self._d._set_tx_options, raw, driver.IsolationLevel(0), False)
                else:
                    if hasattr(raw, "isolation_level") and self._ac == _AC_ATTR:
                        self._plain(setattr, raw, "isolation_level", None)
                    if hasattr(raw, "read_only") and self._ac == _AC_ATTR:
                        self._plain(setattr, raw, "read_only", None)
            if self._ac == _AC_ATTR:
                self._plain(setattr, raw, "autocommit", True)
            elif self._ac == _AC_METHOD and not self._can_begin:
                self._plain(raw.autocommit, True)
        except Exception:
            # A connection that cannot go back to autocommit is not reused.
            self._broken = True
            raise

    def _commit(self) -> None:
        self._check_usable()
        try:
            self._plain(self._raw.commit)
        finally:
            self._restore_after_tx()

    def _rollback(self) -> None:
        self._check_usable()
        try:
            self._plain(self._raw.rollback)
        finally:
            self._restore_after_tx()

    # -- optional interfaces

    def exec_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> driver.Result:
        cur = self._execute(ctx, query, args)
        try:
            rowcount = getattr(cur, "rowcount", -1)
            has_lastrowid = hasattr(cur, "lastrowid")
            lastrowid = getattr(cur, "lastrowid", None)
        finally:
            with contextlib.suppress(Exception):
                self._plain(cur.close)
        self._end_implicit()
        return _Result(self._d.module_name, rowcount, has_lastrowid, lastrowid)

    def query_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> driver.Rows:
        cur = self._execute(ctx, query, args)
        try:
            return _Rows(self, cur, ctx)
        except BaseException:
            with contextlib.suppress(Exception):
                self._plain(cur.close)
            self._end_implicit()
            raise

    def query_row_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.QueryerRowContext (beyond Go): query_context's first row, with its
        cursor closed, in one call."""
        return self._first_row(self.query_context(ctx, query, args))

    def _first_row(self, rows: driver.Rows) -> tuple[Any, ...] | None:
        assert isinstance(rows, _Rows)
        try:
            batch = rows.next_batch(1)
        finally:
            rows.close()
        self._row_desc = rows._desc
        return batch[0] if batch else None

    def query_row_columns(self) -> list[str]:
        return _column_names(self._row_desc)

    def ping(self, ctx: Context) -> None:
        err = ctx.err()
        if err is not None:
            raise err
        self._check_usable()
        try:
            self._ping(ctx)
        except (_context.Canceled, _context.DeadlineExceeded):
            raise
        except Exception as e:
            self._broken = True
            raise driver.BadConnError(f"dbapi: {self._d.module_name} ping failed: {e}") from e

    def _ping(self, ctx: Context) -> None:
        raw = self._raw
        ping = getattr(raw, "ping", None)
        if callable(ping):
            try:
                reconnect = "reconnect" in inspect.signature(ping).parameters
            except (TypeError, ValueError):
                reconnect = False
            # Never reconnect behind the pool's back: session state would be lost.
            if reconnect:
                self._call(ctx, ping, False)
            else:
                self._call(ctx, ping)
            return
        q = self._d._ping_query
        if q is None:
            return
        cur = self._plain(raw.cursor)
        try:
            self._call(ctx, cur.execute, q)
            if cur.description is not None:
                self._plain(cur.fetchall)
        finally:
            with contextlib.suppress(Exception):
                self._plain(cur.close)
        self._end_implicit()

    def reset_session(self, ctx: Context) -> None:
        """Roll back a transaction left open; BadConnError if the connection is dead."""
        self._check_usable()
        raw = self._raw
        try:
            if self._socket_readable():
                # Unexpected data or EOF on an idle connection: the server may
                # have closed it. A ping tells.
                self._ping(ctx)
            self._plain(raw.rollback)
            if _attr(raw, "in_transaction"):
                # sqlite3 in autocommit mode ignores rollback(): a BEGIN run as
                # a statement is still open.
                cur = self._plain(raw.cursor)
                try:
                    self._plain(cur.execute, "ROLLBACK")
                finally:
                    self._plain(cur.close)
        except Exception as e:
            # Only BadConnError: the pool discards the connection and retries
            # (a context that ended during the probe leaves it in doubt too).
            self._broken = True
            raise driver.BadConnError(
                f"dbapi: {self._d.module_name} connection cannot be reset: {e}"
            ) from e

    def _socket_readable(self) -> bool:
        fileno = getattr(self._raw, "fileno", None)
        if not callable(fileno):
            return False
        try:
            fd = fileno()
            if not isinstance(fd, int) or fd < 0:
                return False
            poller = self._poller
            if poller is None or poller[0] != fd:
                make = getattr(select, "poll", None)
                if make is None:
                    readable, _, _ = select.select([fd], [], [], 0)
                    return bool(readable)
                p = make()
                p.register(fd, select.POLLIN | select.POLLPRI)
                poller = self._poller = (fd, p)
            # POLLHUP and POLLERR are reported too: select sees them as readable.
            return bool(poller[1].poll(0))
        except (OSError, ValueError, TypeError, AttributeError, NotImplementedError):
            return False
        except Exception:
            # The module's own error (e.g. a closed connection).
            return True

    def is_valid(self) -> bool:
        return not (self._closed or self._broken or self._raw_dead())

    def check_named_value(self, nv: driver.NamedValue) -> None:
        """Pass the types a DB-API module takes as they are; others go to dbsql's
        default converter."""
        v = nv.value
        t = type(v)
        if v is None or t in _PASS_TYPES:
            return
        if t is int:
            if not _INT64_MIN <= v <= _INT64_MAX:
                raise driver.SkipError()
            return
        if t is bytearray or t is memoryview:
            nv.value = bytes(v)
            return
        raise driver.SkipError()


def _iso_name(iso: int) -> str:
    return str(_sql.IsolationLevel(iso))


class _Tx:
    def __init__(self, conn: _Conn) -> None:
        self._conn = conn

    def commit(self) -> None:
        self._conn._commit()

    def rollback(self) -> None:
        self._conn._rollback()


class _Stmt:
    """A statement: the query, translated on each execution (cached)."""

    def __init__(self, conn: _Conn, query: str) -> None:
        self._conn = conn
        self._query = query
        self._num_input = num_input(query, quoting=conn._d.quoting)
        self._closed = False

    def close(self) -> None:
        self._closed = True

    def num_input(self) -> int:
        return self._num_input

    def exec_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> driver.Result:
        return self._conn.exec_context(ctx, self._query, args)

    def query_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> driver.Rows:
        return self._conn.query_context(ctx, self._query, args)

    def query_row_context(
        self, ctx: Context, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.StmtQueryRowContext (beyond Go): see _Conn.query_row_context."""
        conn = self._conn
        return conn._first_row(conn.query_context(ctx, self._query, args))

    def query_row_columns(self) -> list[str]:
        return self._conn.query_row_columns()

    def exec(self, args: Sequence[driver.Value]) -> driver.Result:
        return self.exec_context(_context.background(), _ordinals(args))

    def query(self, args: Sequence[driver.Value]) -> driver.Rows:
        return self.query_context(_context.background(), _ordinals(args))


def _ordinals(args: Sequence[driver.Value]) -> list[driver.NamedValue]:
    return [driver.NamedValue("", i, v) for i, v in enumerate(args, 1)]


class _Result:
    __slots__ = ("_has_lastrowid", "_lastrowid", "_module", "_rowcount")

    def __init__(self, module: str, rowcount: Any, has_lastrowid: bool, lastrowid: Any) -> None:
        self._module = module
        self._rowcount = rowcount
        self._has_lastrowid = has_lastrowid
        self._lastrowid = lastrowid

    def last_insert_id(self) -> int:
        if not self._has_lastrowid:
            raise NotSupportedError(f"dbapi: module {self._module} has no Cursor.lastrowid")
        if self._lastrowid is None:
            raise NotSupportedError(
                f"dbapi: module {self._module} reported no lastrowid for this statement "
                "(Cursor.lastrowid is None)"
            )
        return int(self._lastrowid)

    def rows_affected(self) -> int:
        rc = self._rowcount
        if not isinstance(rc, int) or rc < 0:
            raise NotSupportedError(
                f"dbapi: rowcount unknown: module {self._module} reported Cursor.rowcount "
                f"{rc!r} for this statement"
            )
        return rc


def _out(v: Any) -> Any:
    if type(v) is memoryview or type(v) is bytearray:
        return bytes(v)
    return v


# Value types _out converts; rows without them are handed on as they are.
_BUFFER_TYPES = frozenset({memoryview, bytearray})
_TUPLE_TYPE = frozenset({tuple})


def _tuples(batch: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a fetchmany as tuples of Values: the module's own list of tuples
    when no value needs _out (checked without Python code per value)."""
    if _TUPLE_TYPE.issuperset(map(type, batch)) and _BUFFER_TYPES.isdisjoint(
        map(type, itertools.chain.from_iterable(batch))
    ):
        return batch if type(batch) is list else list(batch)
    return [tuple(map(_out, row)) for row in batch]


_PAREN = re.compile(r"\s*\(.*\)\s*$")


def _column_names(desc: list[Sequence[Any]]) -> list[str]:
    """The column names of a cursor's description."""
    return [str(d[0]) for d in desc]


class _Rows:
    """A cursor's result sets."""

    def __init__(self, conn: _Conn, cur: Any, ctx: Context) -> None:
        self._conn = conn
        self._cur = cur
        self._ctx = ctx
        self._buf: deque[Any] = deque()
        self._eof = False
        self._closed = False
        # has_next_result_set advanced the cursor to a set not yet started.
        self._advanced = False
        self._nextset: Callable[[], Any] | None = getattr(cur, "nextset", None)
        if cur.description is None and self._nextset is not None:
            # Skip results without columns (statements before the query).
            self._advance()
        self._load_description()

    def _load_description(self) -> None:
        desc = self._cur.description
        self._desc: list[Sequence[Any]] = list(desc) if desc is not None else []
        self._eof = desc is None
        self._buf.clear()

    def _advance(self) -> bool:
        """Move to the next result set with columns; False if there is none."""
        assert self._nextset is not None
        while True:
            try:
                more = self._conn._call(self._ctx, self._nextset)
            except Exception as e:
                if isinstance(e, _context.Canceled | _context.DeadlineExceeded):
                    raise
                nse = getattr(self._conn._d.module, "NotSupportedError", None)
                if isinstance(nse, type) and isinstance(e, nse):
                    self._nextset = None
                    return False
                raise
            if not more:
                return False
            if self._cur.description is not None:
                return True

    def columns(self) -> list[str]:
        return _column_names(self._desc)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        conn = self._conn
        try:
            conn._plain(self._cur.close)
        finally:
            conn._end_implicit()

    def next(self, dest: list[driver.Value]) -> None:
        if self._advanced:
            raise EOFError
        if not self._buf:
            if self._eof:
                raise EOFError
            batch = self._conn._call(self._ctx, self._cur.fetchmany, self._conn._d._fetch_size)
            if not batch:
                self._eof = True
                raise EOFError
            self._buf.extend(batch)
        row = self._buf.popleft()
        if _BUFFER_TYPES.isdisjoint(map(type, row)):
            dest[:] = row
        else:
            dest[:] = map(_out, row)

    def next_batch(self, max_rows: int) -> list[tuple[Any, ...]]:
        """Up to max_rows rows (one ``fetchmany(max_rows)``, the context checked
        first as for ``next``); an empty list at the end of the result set."""
        if max_rows < 1:
            raise ValueError(f"dbapi: next_batch needs max_rows >= 1, got {max_rows}")
        if self._advanced:
            return []
        buf = self._buf
        if buf:
            # Rows fetched for next (dbsql never mixes the two; others may).
            return _tuples([buf.popleft() for _ in range(min(max_rows, len(buf)))])
        if self._eof:
            return []
        batch = self._conn._call(self._ctx, self._cur.fetchmany, max_rows)
        if not batch:
            self._eof = True
            return []
        return _tuples(batch)

    def has_next_result_set(self) -> bool:
        if self._advanced:
            return True
        if self._nextset is None:
            return False
        if self._advance():
            self._advanced = True
            return True
        self._nextset = None
        return False

    def next_result_set(self) -> None:
        if self._advanced:
            self._advanced = False
            self._load_description()
            return
        if self._nextset is None:
            if not hasattr(self._cur, "nextset"):
                raise NotSupportedError(
                    f"dbapi: module {self._conn._d.module_name} has no Cursor.nextset"
                )
            raise EOFError
        if not self._advance():
            self._nextset = None
            raise EOFError
        self._load_description()

    # -- column types, from Cursor.description

    def column_type_database_type_name(self, index: int) -> str:
        d = self._desc[index]
        display = getattr(d, "type_display", None)
        if isinstance(display, str):
            return _PAREN.sub("", display).upper()
        code = d[1] if len(d) > 1 else None
        conn = self._conn
        if conn._d._type_name is not None:
            return conn._d._type_name(code)
        if isinstance(code, str):
            return _PAREN.sub("", code).upper()
        try:
            return conn._d._mysql_types.get(code, "")
        except TypeError:  # an unhashable type code
            return ""

    def column_type_length(self, index: int) -> tuple[int, bool]:
        d = self._desc[index]
        size = d[2] if len(d) > 2 else None
        if isinstance(size, int) and size > 0:
            return size, True
        return 0, False

    def column_type_precision_scale(self, index: int) -> tuple[int, int, bool]:
        d = self._desc[index]
        precision = d[4] if len(d) > 4 else None
        scale = d[5] if len(d) > 5 else None
        if not isinstance(precision, int) or not isinstance(scale, int):
            return 0, 0, False
        mysql_types = self._conn._d._mysql_types
        if mysql_types:
            # MySQL modules report the display length as precision, for every
            # column: only DECIMAL has a size, its digits as Go's driver counts
            # them (the length less the sign and the point).
            code = d[1] if len(d) > 1 else None
            try:
                is_decimal = mysql_types.get(code) == "DECIMAL"
            except TypeError:
                is_decimal = False
            if not is_decimal:
                return 0, 0, False
            precision -= 2 if scale > 0 else 1
        return precision, scale, True

    def column_type_nullable(self, index: int) -> tuple[bool, bool]:
        d = self._desc[index]
        null_ok = d[6] if len(d) > 6 else None
        if isinstance(null_ok, bool):
            return null_ok, True
        return False, False

    def column_type_scan_type(self, index: int) -> type:
        d = self._desc[index]
        code = d[1] if len(d) > 1 else None
        module = self._conn._d.module
        if code is None or module is None:
            return object
        for attr, t in (
            ("BINARY", bytes),
            ("STRING", str),
            ("DATETIME", datetime.datetime),
        ):
            tobj = getattr(module, attr, None)
            if tobj is not None and not isinstance(tobj, str):
                try:
                    if tobj == code:
                        return t
                except Exception:
                    continue
        return object


def register(
    name: str, module_or_connect: types.ModuleType | Callable[..., Any], **options: Any
) -> Driver:
    """Register a :class:`Driver` over module_or_connect as name for :func:`dbsql.open`;
    options are the Driver's keyword arguments. Return the driver."""
    d = Driver(module_or_connect, **options)
    _sql.register(name, d)
    return d


def open_db(
    module_or_connect: Driver | types.ModuleType | Callable[..., Any], *args: Any, **kwargs: Any
) -> _sql.DB:
    """Return a :class:`dbsql.DB` whose connections come from
    ``connect(*args, **kwargs)``; pass a :class:`Driver` for the bridge's options."""
    d = module_or_connect if isinstance(module_or_connect, Driver) else Driver(module_or_connect)
    return _sql.open_db(d.connector(*args, **kwargs))
