"""The "postgres" driver: PostgreSQL through psycopg 3.

Importing this module registers the driver under the name ``"postgres"``;
``dbsql.open("postgres", dsn)`` imports it on first use.

DSN
    Anything libpq accepts, parsed once per :class:`Connector` with
    :func:`psycopg.conninfo.conninfo_to_dict`:

    * key=value pairs: ``"host=127.0.0.1 port=5432 dbname=test user=postgres"``;
    * a URL: ``"postgres://user:secret@host:5432/dbname?sslmode=disable"`` (the
      ``postgresql://`` scheme too).

    Unset parameters come from the ``PG*`` environment variables and libpq's
    defaults, as with ``psql``. The password (``password``, ``sslpassword``) never
    appears in ``repr``/``str`` or in error messages: it is replaced by ``xxxxx``.
    When a context with a deadline is passed to ``connect``, ``connect_timeout``
    is lowered to the time left (libpq counts whole seconds, at least 2).

Placeholders
    As Go's PostgreSQL drivers (lib/pq, pgx) take them: ``$1``, ``$2``... refer to
    the arguments by position; ``$N`` may repeat and come in any order. With
    named arguments (``dbsql.named("start", t)``) ``@start`` refers to the
    argument called ``start`` (pgx's named-argument syntax); ``@`` followed by a
    letter or ``_`` is a placeholder only when the query has named arguments and
    it does not follow an operator character (so ``@>``, ``<@``, ``@@`` stay
    operators). Placeholders inside string literals (``'...'``, ``E'...'``),
    quoted identifiers, dollar-quoted strings and comments are text. Without
    arguments the query text is sent unchanged (several statements separated by
    ``;`` then run in one round trip and give several result sets). With
    positional arguments only, their number must equal the highest ``$N``; with
    named arguments every argument must be used. Translation assumes
    ``standard_conforming_strings`` on (the default since PostgreSQL 9.1).

Values
    Arguments are bound on the server (psycopg's default): whatever psycopg adapts
    passes through unchanged (None, bool, int, float, str, bytes, Decimal,
    datetime, date, time, timedelta, UUID, lists as arrays, psycopg's ``Json``
    and ``Jsonb``...); a ``dict`` is sent as ``jsonb``. Other values go through
    dbsql's default converter (``Valuer`` objects first call their ``value()``).
    Rows give values as psycopg loads them: ``datetime`` (aware for
    ``timestamptz``), ``date``, ``time``, ``timedelta``, ``Decimal``, ``UUID``,
    ``bytes``, ``dict``/``list`` for JSON, lists for arrays.

Results
    A query's whole result is received when it runs (psycopg's client-side
    cursor) and rows are handed out from memory in batches, so iterating never
    blocks on the network. Several statements in one query without arguments
    give several result sets; statements that return no rows are skipped, as
    lib/pq does. Column types: the upper-case type name ("INT4", "TEXT",
    "NUMERIC", "TIMESTAMPTZ", arrays as "_INT4"; the OID in decimal for a type
    psycopg does not know), the length of text, bytea, varchar(n) and char(n),
    precision and scale of numeric(p, s), the Python scan type; nullability is
    unknown. ``Result.rows_affected`` is the count of the command tag (of the
    last statement); ``last_insert_id`` is not supported (use ``RETURNING``).
    ``DB.query_row`` and ``Stmt.query_row`` read their row in one driver call
    (``query_row_context``, beyond Go); for a scan error's column names the
    connection keeps a one-row result until its next statement, and reads the
    names of a larger one at once.

Statements and transactions
    Connections run in autocommit mode. Repeated queries are prepared
    automatically by psycopg; ``DB.prepare``/``Stmt`` checks the statement with
    the server (Parse) and then executes with ``prepare=True``. ``begin_tx``
    sends ``BEGIN`` with ``ISOLATION LEVEL`` read uncommitted, read committed,
    repeatable read or serializable and ``READ ONLY``; write committed, snapshot
    and linearizable raise :class:`NotImplementedError`. A ``COMMIT`` that the
    server turns into a rollback (the transaction had failed) raises
    :class:`CommitRollbackError`.

Sessions
    Before the pool hands a used connection to the next borrower,
    ``reset_session`` rolls back a transaction left open and, if the connection
    ran a statement that may leave state beyond its transaction (``SET`` other
    than ``SET LOCAL``/``SET TRANSACTION``, ``TEMP``/``TEMPORARY`` objects,
    ``LISTEN``, ``PREPARE``, ``DECLARE``, ``LOAD``, ``DO``, ``set_config``,
    session advisory locks), clears the session as ``DISCARD ALL`` does. The
    check reads the statement text; state changed by a function called from a
    query is not seen. Within one ``dbsql.Conn`` the session is the caller's.

Cancellation
    While a statement runs with a context that can end, ``context.after_func``
    sends a cancel request (psycopg's ``Connection.cancel_safe``, or ``cancel``
    where psycopg is older than 3.2); the statement fails with
    psycopg's ``QueryCanceled`` and the caller gets the context's error with that
    as ``__cause__``. The connection stays usable (in a transaction, the
    transaction is aborted and must be rolled back). A statement whose
    context has already ended or whose deadline has passed is not sent.

Bad connections
    :class:`dbsql.driver.BadConnError` is raised only when the statement cannot
    have reached the server: the connection was closed or broken before the
    call, the server had already closed it (end of stream, or a FATAL error such
    as an administrator shutdown, 57P01, received while the connection was idle:
    it is checked with a non-blocking poll in ``reset_session`` and before each
    statement, once: the poll of ``reset_session`` serves the statement that
    follows it at once, and a connection the server answered, or a poll found
    open, less than a millisecond ago is not polled again; pgx, Go's PostgreSQL
    driver, skips its check for a second), or libpq could not send the
    statement. An error while a statement runs is the server's error;
    ``is_valid()`` then reports False if the connection broke, so the pool
    discards it. ``connect`` never raises BadConnError.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import functools
import math
import operator
import re
import select
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote

import psycopg
import psycopg.errors
import psycopg.generators
from psycopg import pq
from psycopg.adapt import PyFormat
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from dbsql import context as _ctx
from dbsql import driver
from dbsql import sql as _sql

__all__ = [
    "CommitRollbackError",
    "Conn",
    "Connector",
    "PostgresDriver",
    "Result",
    "Rows",
    "Stmt",
    "Tx",
]

_T = TypeVar("_T")

_PgConn = psycopg.Connection[TupleRow]
_PgCursor = psycopg.Cursor[TupleRow]

# How long a cancel request may take before we give up on it.
_CANCEL_TIMEOUT = 10.0
# Rows converted at a time from the received result.
_FETCH_BATCH = 256
# How long the idle-connection poll of reset_session (or of begin_tx, commit)
# also serves the statement sent right after it, in seconds.
_POLL_FRESH = 0.02
# How long an answer from the server (or a poll that found the connection open)
# stands for a poll: a connection heard from this recently is not polled before
# the next statement or checkout. The poll only narrows the window in which a
# server-side close goes unseen (the server may close right after it); this
# adds at most this much to it (pgx, Go's PostgreSQL driver, skips its check
# for a whole second).
_HEARD_FRESH = 0.001
_MAX_INT64 = 2**63 - 1
_REDACTED = "xxxxx"
_SECRET_KEYS = ("password", "sslpassword")

_IDLE = pq.TransactionStatus.IDLE
_INTRANS = pq.TransactionStatus.INTRANS
_INERROR = pq.TransactionStatus.INERROR
_BAD = pq.ConnStatus.BAD


class CommitRollbackError(Exception):
    """COMMIT ended the transaction with a rollback: the transaction had failed."""

    def __init__(self, msg: str = "postgres: commit unexpectedly resulted in rollback") -> None:
        super().__init__(msg)


# ---------------------------------------------------------------------------
# DSN passwords.


_URL_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^@/?#]*)@")
_URL_QUERY_SECRET = re.compile(r"[?&](?:ssl)?password=([^&#]*)", re.IGNORECASE)
_KV_SECRET = re.compile(r"(?:^|\s)(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'?|\S+)", re.IGNORECASE)


def _raw_secrets(dsn: str) -> list[str]:
    """Find what may be a password in a DSN, even one that does not parse."""
    found: list[str] = []
    m = _URL_USERINFO.match(dsn)
    if m is not None and ":" in m.group(1):
        found.append(m.group(1).split(":", 1)[1])
    found.extend(m.group(1) for m in _URL_QUERY_SECRET.finditer(dsn))
    for m in _KV_SECRET.finditer(dsn):
        v = m.group(1)
        found.append(v)
        if v.startswith("'"):
            v = v[1:-1] if v.endswith("'") and len(v) > 1 else v[1:]
            found.append(v)
            found.append(re.sub(r"\\(.)", r"\1", v))
    out: list[str] = []
    for s in found:
        for c in (s, unquote(s)):
            if c and c not in out:
                out.append(c)
    return out


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, _REDACTED)
    return text


def _error_text(e: BaseException) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts.append(str(cur))
        parts.extend(str(a) for a in cur.args)
        cur = cur.__cause__ or cur.__context__
    return "\n".join(parts)


def _scrubbed_error(e: Exception, secrets: Sequence[str]) -> Exception:
    """Return e, or a copy of the same class without the secrets in its text."""
    if not secrets:
        return e
    # A failed connection attempt's error keeps the libpq connection (psycopg's
    # Error.pgconn), whose repr shows the conninfo, password included: drop it.
    if getattr(e, "_pgconn", None) is not None:
        try:
            e._pgconn = None  # type: ignore[attr-defined]
        except Exception:
            pass
    text = _error_text(e)
    if not any(s in text for s in secrets):
        return e
    msg = _scrub(str(e), secrets)
    try:
        return type(e)(msg)
    except Exception:
        return RuntimeError(msg)


def _redacted_conninfo(params: dict[str, Any]) -> str:
    shown = {k: (_REDACTED if k in _SECRET_KEYS else v) for k, v in params.items()}
    try:
        return make_conninfo("", **shown)
    except Exception:
        return " ".join(f"{k}={v}" for k, v in shown.items())


# ---------------------------------------------------------------------------
# Placeholders.


_OPERATOR_CHARS = frozenset("+-*/<>=~!@#%^&|`?")


# Statements (by their first words) and names that change the session beyond
# the current transaction: temporary objects, settings, LISTEN, cursors WITH
# HOLD, prepared statements, advisory locks, code run by DO.
_SESSION_FIRST_WORDS = frozenset({"set", "listen", "prepare", "declare", "load", "do"})
_TX_SCOPED_SET = frozenset({"local", "transaction", "constraints"})
_SESSION_NAMES = frozenset(
    {
        "temp",
        "temporary",
        "set_config",
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
    }
)


class _Parsed:
    """A query split into text (``%`` escaped for psycopg) and placeholders."""

    __slots__ = ("parts", "max_ordinal", "has_named", "session", "positional")

    def __init__(
        self,
        parts: tuple[str | int | tuple[str, str], ...],
        max_ordinal: int,
        has_named: bool,
        session: bool,
    ) -> None:
        # A part is text, an int N for $N, or (name, raw) for @name.
        self.parts = parts
        self.max_ordinal = max_ordinal  # the highest $N
        self.has_named = has_named  # whether any @name may be a placeholder
        self.session = session  # whether it may change state beyond its transaction
        # The translation for positional arguments only, set on first use.
        self.positional: _Translation | None = None


def _quoted_end(query: str, i: int, q: str) -> int:
    """The end of the string literal or quoted identifier opened by the quote q
    at i (a doubled q stands for itself); the query's end if it is not closed."""
    j = i + 1
    n = len(query)
    while True:
        k = query.find(q, j)
        if k < 0:
            return n
        if k + 1 < n and query[k + 1] == q:
            j = k + 2
            continue
        return k + 1


@functools.lru_cache(maxsize=512)
def _parse(query: str) -> _Parsed:
    """Lex query as PostgreSQL does, finding placeholders outside literals,
    quoted identifiers, dollar-quoted strings and comments."""
    parts: list[str | int | tuple[str, str]] = []
    buf: list[str] = []
    max_ordinal = 0
    has_named = False
    session = False
    words: list[str] = []  # the first two words of the current statement
    i, n = 0, len(query)

    def text(s: str) -> None:
        buf.append(s.replace("%", "%%"))

    def flush() -> None:
        if buf:
            parts.append("".join(buf))
            buf.clear()

    while i < n:
        c = query[i]
        if c == "'" or c == '"':  # string literal or quoted identifier
            j = _quoted_end(query, i, c)
            text(query[i:j])
            i = j
        elif c.isalpha() or c == "_" or ord(c) >= 0x80:  # identifier or keyword
            j = i + 1
            while j < n and (query[j].isalnum() or query[j] in "_$" or ord(query[j]) >= 0x80):
                j += 1
            word = query[i:j].lower()
            if len(words) < 2:
                words.append(word)
                if words[0] != "set":
                    session = session or words[0] in _SESSION_FIRST_WORDS
                elif len(words) == 2 and words[1] not in _TX_SCOPED_SET:
                    session = True  # SET x, SET ROLE, SET SESSION ...; not SET LOCAL
            if word in _SESSION_NAMES:
                session = True
            if j - i == 1 and c in "eE" and j < n and query[j] == "'":
                # E'...': backslash escapes, '' also a quote.
                k = j + 1
                while k < n:
                    if query[k] == "\\":
                        k += 2
                    elif query[k] == "'":
                        if k + 1 < n and query[k + 1] == "'":
                            k += 2
                        else:
                            k += 1
                            break
                    else:
                        k += 1
                j = min(k, n)
            text(query[i:j])
            i = j
        elif c.isdigit():  # number (digits, letters, _ and . of a numeric literal)
            j = i + 1
            while j < n and (query[j].isalnum() or query[j] in "_."):
                j += 1
            text(query[i:j])
            i = j
        elif c == "$":
            j = i + 1
            while j < n and "0" <= query[j] <= "9":
                j += 1
            if j > i + 1:
                ordinal = int(query[i + 1 : j])
                if ordinal == 0:
                    text(query[i:j])
                else:
                    flush()
                    parts.append(ordinal)
                    max_ordinal = max(max_ordinal, ordinal)
                i = j
                continue
            m = _DOLLAR_TAG.match(query, i)
            if m is None:
                text(c)
                i += 1
                continue
            end = query.find(m.group(0), m.end())
            j = n if end < 0 else end + len(m.group(0))
            text(query[i:j])
            i = j
        elif c == "-" and query.startswith("--", i):  # line comment
            k = query.find("\n", i)
            j = n if k < 0 else k + 1
            text(query[i:j])
            i = j
        elif c == "/" and query.startswith("/*", i):  # block comment, nested
            depth = 0
            j = i
            while j < n:
                if query.startswith("/*", j):
                    depth += 1
                    j += 2
                elif query.startswith("*/", j):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            text(query[i:j])
            i = j
        elif c == "@":
            prev = query[i - 1] if i > 0 else ""
            j = i + 1
            if j < n and (query[j].isalpha() or query[j] == "_") and prev not in _OPERATOR_CHARS:
                while j < n and (query[j].isalnum() or query[j] == "_"):
                    j += 1
                flush()
                parts.append((query[i + 1 : j], query[i:j]))
                has_named = True
                i = j
            else:
                text(c)
                i += 1
        else:
            if c == ";":
                session = session or words == ["set"]
                words.clear()
            text(c)
            i += 1
    flush()
    session = session or words == ["set"]
    return _Parsed(tuple(parts), max_ordinal, has_named, session)


_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$")


class _Translation:
    """A query rewritten for psycopg: text and the placeholders it refers to."""

    __slots__ = ("text", "sequential", "ordinals", "names")

    def __init__(
        self, text: str, sequential: bool, ordinals: tuple[int, ...], names: tuple[str, ...]
    ) -> None:
        self.text = text
        # sequential: the placeholders are $1..$n in order, once each (%s).
        self.sequential = sequential
        self.ordinals = ordinals  # distinct $N, in order of appearance
        self.names = names  # distinct @name, in order of appearance


@functools.lru_cache(maxsize=512)
def _translate(query: str, named: bool) -> _Translation:
    """Translate query's placeholders to psycopg's, @name ones only if named."""
    parts = _parse(query).parts
    ords = [p for p in parts if isinstance(p, int)]
    sequential = (not named or not any(isinstance(p, tuple) for p in parts)) and ords == list(
        range(1, len(ords) + 1)
    )
    out: list[str] = []
    ordinals: dict[int, None] = {}
    names: dict[str, None] = {}
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, int):
            ordinals[p] = None
            out.append("%s" if sequential else f"%(p{p})s")
        elif named:
            names[p[0]] = None
            out.append(f"%(@{p[0]})s")
        else:
            out.append(p[1])
    return _Translation("".join(out), sequential, tuple(ordinals), tuple(names))


_ORDINAL = operator.attrgetter("ordinal")


def _bind(
    query: str, args: Sequence[driver.NamedValue], parsed: _Parsed | None = None
) -> tuple[str, Any]:
    """Return the query text and parameters to pass to psycopg's execute
    (parsed: ``_parse(query)``, when the caller has it)."""
    if not args:
        return query, None
    for a in args:
        if a.name:
            break
    else:
        # Positional arguments only (the usual case).
        p = parsed if parsed is not None else _parse(query)
        if len(args) != p.max_ordinal:
            raise ValueError(
                f"postgres: got {len(args)} parameters but the statement requires {p.max_ordinal}"
            )
        tr = p.positional
        if tr is None:
            tr = p.positional = _translate(query, False)
        if tr.sequential:
            if len(args) == 1:
                return tr.text, [args[0].value]
            return tr.text, [a.value for a in sorted(args, key=_ORDINAL)]
        return tr.text, {f"p{a.ordinal}": a.value for a in args}
    tr = _translate(query, True)
    by_ordinal = {a.ordinal: a for a in args}
    by_name = {a.name: a for a in args if a.name}
    params: dict[str, Any] = {}
    for o in tr.ordinals:
        found = by_ordinal.get(o)
        if found is None:
            raise ValueError(f"postgres: no argument for ${o}: got {len(args)} arguments")
        params[f"p{o}"] = found.value
    for name in tr.names:
        found = by_name.get(name)
        if found is None:
            raise ValueError(f"postgres: no named argument for @{name}")
        params["@" + name] = found.value
    used_ordinals = set(tr.ordinals)
    used_names = set(tr.names)
    for a in args:
        if a.ordinal in used_ordinals or (a.name and a.name in used_names):
            continue
        if a.name:
            raise ValueError(f"postgres: named argument {a.name!r} is not used: no @{a.name}")
        raise ValueError(f"postgres: argument ${a.ordinal} is not used by the statement")
    return tr.text, params


# ---------------------------------------------------------------------------
# Driver and Connector.


class PostgresDriver:
    """The "postgres" driver: ``open`` connects by DSN; ``open_connector`` parses it once."""

    def open(self, name: str) -> Conn:
        """Return a new connection to the database named by the DSN ``name``."""
        return self.open_connector(name).connect(_ctx.background())

    def open_connector(self, name: str) -> Connector:
        """Parse the DSN ``name`` once and return a Connector for it."""
        return Connector(self, name)


class Connector:
    """A PostgreSQL DSN, parsed: ``connect`` opens a connection with it."""

    __slots__ = ("_driver", "_params", "_secrets", "_shown")

    def __init__(self, drv: PostgresDriver, dsn: str) -> None:
        self._driver = drv
        secrets = _raw_secrets(dsn)
        params: dict[str, Any] = {}
        problem = ""
        try:
            params = dict(conninfo_to_dict(dsn))
        except psycopg.Error as e:
            problem = _scrub(str(e), [dsn, *secrets]) or type(e).__name__
        except UnicodeDecodeError as e:
            # A %-escape decoded to bytes that are not UTF-8 (the error holds
            # them: only its reason is shown).
            problem = f"a percent-encoded value is not UTF-8 ({e.reason})"
        if problem:
            # Raised outside the except block: no __context__ holding the DSN.
            raise ValueError("postgres: invalid DSN: " + problem)
        for k in _SECRET_KEYS:
            v = params.get(k)
            if v and str(v) not in secrets:
                secrets.append(str(v))
        self._params = params
        self._secrets = tuple(secrets)
        self._shown = _redacted_conninfo(params)

    def __repr__(self) -> str:
        return f"<dbsql.drivers.postgres.Connector {self._shown!r}>"

    def connect(self, ctx: _ctx.Context) -> Conn:
        """Open a connection; a deadline on ctx bounds ``connect_timeout``."""
        err = ctx.err()
        if err is not None:
            raise err
        params = dict(self._params)
        deadline = ctx.deadline()
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _ctx.DeadlineExceeded()
            timeout = max(2, math.ceil(left))
            try:
                current = int(str(params.get("connect_timeout", "0")))
            except ValueError:
                current = 0
            if current <= 0 or current > timeout:
                params["connect_timeout"] = str(timeout)
        failure: Exception | None = None
        try:
            pg: _PgConn = psycopg.Connection.connect(**params, autocommit=True)
        except psycopg.Error as e:
            failure = _scrubbed_error(e, self._secrets)
            if failure is e:
                err = ctx.err()
                if err is not None:
                    raise copy.copy(err) from e
                raise
        if failure is not None:
            # Raised outside the except block: no __context__ with the password.
            err = ctx.err()
            if err is not None:
                raise copy.copy(err) from failure
            raise failure
        err = ctx.err()
        if err is not None:
            pg.close()
            raise err
        return Conn(pg, self._shown)

    def driver(self) -> PostgresDriver:
        return self._driver


# ---------------------------------------------------------------------------
# Conn.


_IsolationClause = {
    1: " ISOLATION LEVEL READ UNCOMMITTED",
    2: " ISOLATION LEVEL READ COMMITTED",
    4: " ISOLATION LEVEL REPEATABLE READ",
    6: " ISOLATION LEVEL SERIALIZABLE",
}

# DISCARD ALL spelled out: as several statements, psycopg sees DEALLOCATE ALL
# and forgets the statements it had prepared.
_DISCARD_ALL = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; "
    "SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES"
)

_PASS_TYPES = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        str,
        bytes,
        bytearray,
        memoryview,
        decimal.Decimal,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
        list,
    }
)


class Conn:
    """A connection to PostgreSQL (a psycopg connection in autocommit mode)."""

    def __init__(self, pg: _PgConn, shown: str) -> None:
        self._pg = pg
        self._shown = shown  # the redacted DSN, for repr
        self._closed = False
        self._bad = False
        # The session may hold state beyond a transaction: reset_session clears it.
        self._dirty = False
        # A cursor kept for the next statement (see _release).
        self._idle_cur: _PgCursor | None = None
        # The column names of query_row_context's last row (query_row_columns), or
        # the result they are read from, kept while it holds at most one row.
        self._row_names: list[str] | None = []
        self._row_res: Any = None
        self._row_enc = "utf-8"
        # When the idle connection was last polled and found open, for the
        # statement that follows (0.0: that poll has been used or there was none).
        self._polled_at = 0.0
        # When the server last answered a statement, or a poll found the
        # connection open (see _HEARD_FRESH).
        self._heard_at = 0.0
        # A poll object registered for the socket (its fd, the object).
        self._poller: tuple[int, Any] | None = None
        # Set by the notice handler when the server announced it is closing the
        # connection (a FATAL error received while idle, e.g. 57P01).
        self._terminating: list[bool] = [False]
        flag = self._terminating

        def on_notice(diag: psycopg.errors.Diagnostic) -> None:
            if diag.severity_nonlocalized in ("FATAL", "PANIC") or (diag.sqlstate or "").startswith(
                "57P"
            ):
                flag[0] = True

        pg.add_notice_handler(on_notice)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("bad" if not self.is_valid() else "open")
        return f"<dbsql.drivers.postgres.Conn {state} {self._shown!r}>"

    # -- connection state ---------------------------------------------------

    def _mark_bad(self) -> None:
        self._bad = True

    def _known_closed(self) -> bool:
        """Whether libpq or the server's FATAL notice already said the connection
        is over (no poll)."""
        return self._pg.pgconn.status == _BAD or self._terminating[0]

    def _server_closed(self) -> bool:
        """Without blocking, tell whether the server has closed the idle connection."""
        if self._known_closed():
            return True
        pgconn = self._pg.pgconn
        if pgconn.transaction_status not in (_IDLE, _INTRANS, _INERROR):
            return False
        try:
            fd = pgconn.socket
        except psycopg.OperationalError:
            return True
        if not self._readable(fd):
            return False
        try:
            pgconn.consume_input()
            # Parse what arrived: an error sent while idle becomes a notice.
            pgconn.is_busy()
        except psycopg.OperationalError:
            return True
        return self._known_closed()

    def _readable(self, fd: int) -> bool:
        """Whether the socket has something to read (or hung up), without blocking;
        the poll object is made once per socket."""
        poller = self._poller
        if poller is None or poller[0] != fd:
            make = getattr(select, "poll", None)
            if make is None:
                return _readable(fd)
            p = make()
            p.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
            poller = self._poller = (fd, p)
        return bool(poller[1].poll(0))

    def _check_usable(self, keep: bool = False) -> None:
        """Raise BadConnError if no statement can reach the server.

        The idle connection is polled once per statement: reset_session, begin_tx
        and commit always poll and keep the result (keep=True) for the statement
        sent next through _run, which polls only when there is no such result from
        the last _POLL_FRESH seconds. Neither polls when the server answered a
        statement, or a poll found the connection open, within the last
        _HEARD_FRESH seconds.
        """
        if self._closed or self._bad:
            raise driver.BadConnError()
        if time.monotonic() - self._heard_at < _HEARD_FRESH:
            # The server answered just now: what it may have announced since
            # (a FATAL notice, a broken socket) is checked without a poll.
            if self._known_closed():
                self._mark_bad()
                raise driver.BadConnError()
            return
        if not keep:
            polled = self._polled_at
            if polled:
                self._polled_at = 0.0
                if time.monotonic() - polled < _POLL_FRESH:
                    return
        if self._server_closed():
            self._polled_at = 0.0
            self._mark_bad()
            raise driver.BadConnError()
        now = self._heard_at = time.monotonic()  # (a poll that found it open)
        if keep:
            self._polled_at = now

    def _run(self, ctx: _ctx.Context, fn: Callable[[], _T]) -> _T:
        """Run fn (one round trip) under ctx: cancel it on the server if ctx ends."""
        if ctx.done() is _ctx._NEVER:
            # (A context that can never end: nothing to check or to cancel.)
            self._check_usable()
            return self._call(ctx, fn)
        err = ctx.err()
        if err is not None:
            raise err
        deadline = ctx.deadline()
        if deadline is not None and deadline <= time.monotonic():
            raise _ctx.DeadlineExceeded()
        self._check_usable()
        finished = threading.Event()
        pg = self._pg

        def interrupt() -> None:
            try:
                if hasattr(pg, "cancel_safe"):
                    pg.cancel_safe(timeout=_CANCEL_TIMEOUT)
                else:  # pragma: no cover - psycopg < 3.2
                    pg.cancel()
            except Exception:
                pass
            finally:
                finished.set()

        stop = _ctx.after_func(ctx, interrupt)
        try:
            return self._call(ctx, fn)
        finally:
            if not stop():
                # The cancel request is under way: let it end before the
                # connection runs anything else.
                finished.wait()

    def _call(self, ctx: _ctx.Context, fn: Callable[[], _T]) -> _T:
        try:
            out = fn()
            self._heard_at = time.monotonic()
            return out
        except psycopg.Error as e:
            err = ctx.err()
            if err is not None:
                raise copy.copy(err) from e
            if (
                isinstance(e, psycopg.OperationalError)
                and str(e).startswith(("sending query", "sending prepared query"))
                and self._pg.closed
            ):
                # libpq could not send the statement: it cannot have run.
                self._mark_bad()
                raise driver.BadConnError() from e
            raise

    def _execute(
        self,
        ctx: _ctx.Context,
        query: str,
        args: Sequence[driver.NamedValue],
        prepare: bool | None,
    ) -> _PgCursor:
        parsed = _parse(query)
        if parsed.session:
            self._dirty = True
        self._row_res = None  # (query_row_columns is asked before the next statement)
        text, params = _bind(query, args, parsed)
        cur = self._idle_cur
        if cur is None:
            cur = self._pg.cursor()
        else:
            self._idle_cur = None
        try:
            self._run(ctx, lambda: cur.execute(text, params, prepare=prepare))
        except BaseException:
            cur.close()
            raise
        return cur

    def _release(self, cur: _PgCursor) -> None:
        """Done with cur: keep it for the next statement (its results dropped, as
        close does), or close it when a cursor is already kept."""
        if self._idle_cur is None and not self._closed and not cur.closed:
            reset = getattr(cur, "_reset", None)
            if reset is not None:
                reset()
                self._idle_cur = cur
                return
        cur.close()

    def _simple(self, ctx: _ctx.Context, query: str) -> _PgCursor:
        return self._execute(ctx, query, (), False)

    # -- driver.Conn --------------------------------------------------------

    def prepare(self, query: str) -> Stmt:
        """Return a prepared statement; see :meth:`prepare_context`."""
        return self.prepare_context(_ctx.background(), query)

    def prepare_context(self, ctx: _ctx.Context, query: str) -> Stmt:
        """Check query with the server (Parse) and return a Stmt that executes it
        as a prepared statement."""
        parsed = _parse(query)
        if not parsed.has_named:
            # A query with @name placeholders is only known once the arguments are.
            self._run(ctx, lambda: self._parse_on_server(query))
        return Stmt(self, query, -1 if parsed.has_named else parsed.max_ordinal)

    def _parse_on_server(self, query: str) -> None:
        pg = self._pg
        with pg.lock:
            pgconn = pg.pgconn
            pgconn.send_prepare(b"", query.encode(pg.info.encoding))
            results = pg.wait(psycopg.generators.execute(pgconn))
        for res in results:
            if res.status == pq.ExecStatus.FATAL_ERROR:
                raise psycopg.errors.error_from_result(res, encoding=pg.info.encoding)

    def close(self) -> None:
        """Close the connection."""
        if self._closed:
            return
        self._closed = True
        self._idle_cur = None
        self._pg.close()

    def begin(self) -> Tx:
        """Start a transaction with the default options."""
        return self.begin_tx(_ctx.background(), driver.TxOptions())

    def begin_tx(self, ctx: _ctx.Context, opts: driver.TxOptions) -> Tx:
        """Send BEGIN with the isolation level and READ ONLY of opts."""
        level = int(opts.isolation)
        if level == 0:
            stmt = "BEGIN"
        else:
            clause = _IsolationClause.get(level)
            if clause is None:
                raise NotImplementedError(
                    f"postgres: isolation level {_sql.IsolationLevel(level)} is not supported"
                )
            stmt = "BEGIN" + clause
        if opts.read_only:
            stmt += " READ ONLY"
        self._check_usable(keep=True)
        status = self._pg.pgconn.transaction_status
        if status != _IDLE:
            raise RuntimeError(
                "postgres: cannot begin a transaction: the connection is "
                + pq.TransactionStatus(status).name
            )
        self._release(self._simple(ctx, stmt))
        return Tx(self)

    def exec_context(
        self, ctx: _ctx.Context, query: str, args: Sequence[driver.NamedValue]
    ) -> Result:
        """Execute query; the Result counts the rows of the last statement."""
        return _result(self, self._execute(ctx, query, args, None))

    def query_context(
        self, ctx: _ctx.Context, query: str, args: Sequence[driver.NamedValue]
    ) -> Rows:
        """Execute query and return its rows (received whole)."""
        return Rows(self, self._execute(ctx, query, args, None))

    def query_row_context(
        self, ctx: _ctx.Context, query: str, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.QueryerRowContext (beyond Go): query_context's first row, with the
        cursor released, in one call."""
        return self._first_row(self._execute(ctx, query, args, None))

    def _first_row(self, cur: _PgCursor) -> tuple[Any, ...] | None:
        """The first row of the first result set with columns (as Rows reads it),
        then cur released."""
        try:
            res = cur.pgresult
            if res is None or not res.nfields:
                # (No columns in the first result: Rows finds the result set.)
                rows = Rows(self, cur)
                batch = rows.next_batch(1)
                self._row_names = rows.columns()
                return tuple(batch[0]) if batch else None
            if res.ntuples <= 1:
                # (The names only if asked, for a scan error: a result of one row
                # is kept until then, or until the next statement.)
                self._row_names = None
                self._row_res = res
                self._row_enc = cur._encoding
            else:
                self._row_names = _column_names(res, cur._encoding)
            row = cur.fetchone()
            return row if row is None or type(row) is tuple else tuple(row)
        finally:
            self._release(cur)

    def query_row_columns(self) -> list[str]:
        names = self._row_names
        if names is None:
            names = self._row_names = _column_names(self._row_res, self._row_enc)
            self._row_res = None
        return names

    def ping(self, ctx: _ctx.Context) -> None:
        """Send an empty query; BadConnError if the connection does not answer."""
        try:
            self._release(self._simple(ctx, ";"))
        except psycopg.OperationalError as e:
            self._mark_bad()
            raise driver.BadConnError() from e

    def reset_session(self, ctx: _ctx.Context) -> None:
        """Make the session as new for the next borrower, or raise BadConnError.

        A transaction left open is rolled back; if the connection ran a
        statement that may change the session beyond its transaction (SET,
        temporary objects, LISTEN, PREPARE, DECLARE, DO, advisory locks, ...),
        the session is cleared as ``DISCARD ALL`` does.
        """
        self._check_usable(keep=True)
        pg = self._pg
        try:
            status = pg.pgconn.transaction_status
            if status == _INTRANS or status == _INERROR:
                pg.rollback()  # also clears psycopg's prepared statements
            elif status != _IDLE:
                raise psycopg.OperationalError(
                    "unexpected transaction status " + pq.TransactionStatus(status).name
                )
            if self._dirty:
                pg.execute(_DISCARD_ALL, prepare=False)
                self._dirty = False
        except psycopg.Error as e:
            self._mark_bad()
            raise driver.BadConnError() from e

    def is_valid(self) -> bool:
        """False once the connection is closed or known broken."""
        return not (self._closed or self._bad or self._pg.closed or self._terminating[0])

    def check_named_value(self, nv: driver.NamedValue) -> None:
        """Accept what psycopg adapts (a dict becomes jsonb); SkipError otherwise."""
        v = nv.value
        t = type(v)
        if t in _PASS_TYPES:
            return
        if isinstance(v, driver.Valuer):
            raise driver.SkipError()
        if isinstance(v, dict):
            nv.value = Jsonb(v)
            return
        try:
            self._pg.adapters.get_dumper(t, PyFormat.AUTO)
        except psycopg.ProgrammingError:
            raise driver.SkipError() from None


def _readable(fd: int) -> bool:
    poll = getattr(select, "poll", None)
    if poll is not None:
        p = poll()
        p.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
        return bool(p.poll(0))
    r, _, x = select.select([fd], [], [fd], 0)
    return bool(r or x)


# ---------------------------------------------------------------------------
# Stmt, Tx, Result.


class Stmt:
    """A statement checked by the server, executed with psycopg's ``prepare=True``."""

    def __init__(self, conn: Conn, query: str, num_input: int) -> None:
        self._conn = conn
        self._query = query
        self._num_input = num_input
        self._closed = False

    def close(self) -> None:
        """Forget the statement (psycopg's cache deallocates it when evicted)."""
        self._closed = True

    def num_input(self) -> int:
        """The highest ``$N``; -1 when ``@name`` placeholders may be present."""
        return self._num_input

    def exec(self, args: Sequence[driver.Value]) -> Result:
        return self.exec_context(_ctx.background(), _named_values(args))

    def query(self, args: Sequence[driver.Value]) -> Rows:
        return self.query_context(_ctx.background(), _named_values(args))

    def exec_context(self, ctx: _ctx.Context, args: Sequence[driver.NamedValue]) -> Result:
        return _result(self._conn, self._conn._execute(ctx, self._query, args, True))

    def query_context(self, ctx: _ctx.Context, args: Sequence[driver.NamedValue]) -> Rows:
        return Rows(self._conn, self._conn._execute(ctx, self._query, args, True))

    def query_row_context(
        self, ctx: _ctx.Context, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.StmtQueryRowContext (beyond Go): see Conn.query_row_context."""
        conn = self._conn
        return conn._first_row(conn._execute(ctx, self._query, args, True))

    def query_row_columns(self) -> list[str]:
        return self._conn.query_row_columns()


def _named_values(args: Sequence[driver.Value]) -> list[driver.NamedValue]:
    return [driver.NamedValue("", i + 1, v) for i, v in enumerate(args)]


class Tx:
    """A transaction begun with BEGIN; commit sends COMMIT, rollback ROLLBACK."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    def commit(self) -> None:
        """Send COMMIT; raise CommitRollbackError if the transaction had failed."""
        conn = self._conn
        conn._check_usable(keep=True)
        if conn._pg.pgconn.transaction_status == _INERROR:
            conn._polled_at = 0.0  # the poll is for COMMIT, not for this rollback
            conn._pg.rollback()
            raise CommitRollbackError()
        cur = conn._simple(_ctx.background(), "COMMIT")
        status = cur.statusmessage
        conn._release(cur)
        if status == "ROLLBACK":
            raise CommitRollbackError()

    def rollback(self) -> None:
        """Send ROLLBACK (psycopg's rollback, which also forgets its prepared
        statements: objects they use may have gone with the transaction)."""
        conn = self._conn
        conn._check_usable()
        conn._pg.rollback()


class Result:
    """The result of exec: the rows affected; no LastInsertId."""

    __slots__ = ("_rows",)

    def __init__(self, rows: int) -> None:
        self._rows = rows

    def last_insert_id(self) -> int:
        raise NotImplementedError("postgres: LastInsertId is not supported; use RETURNING")

    def rows_affected(self) -> int:
        return self._rows

    def __repr__(self) -> str:
        return f"<dbsql.drivers.postgres.Result rows_affected={self._rows}>"


def _result(conn: Conn, cur: _PgCursor) -> Result:
    try:
        n = cur.rowcount
        while cur.nextset():
            n = cur.rowcount
    finally:
        conn._release(cur)
    return Result(max(n, 0))


# ---------------------------------------------------------------------------
# Rows.


_SCAN_TYPES: dict[int, type] = {
    16: bool,
    17: bytes,
    18: str,  # "char"
    19: str,  # name
    20: int,
    21: int,
    23: int,
    25: str,
    26: int,  # oid
    114: object,  # json
    700: float,
    701: float,
    1042: str,
    1043: str,
    1082: datetime.date,
    1083: datetime.time,
    1114: datetime.datetime,
    1184: datetime.datetime,
    1186: datetime.timedelta,
    1266: datetime.time,
    1700: decimal.Decimal,
    2950: uuid.UUID,
    3802: object,  # jsonb
}
_TEXT_OID, _BYTEA_OID, _BPCHAR_OID, _VARCHAR_OID, _NUMERIC_OID = 25, 17, 1042, 1043, 1700


# Statuses of a result that has columns (what Cursor.description looks at).
_COLUMN_STATUSES = frozenset(
    int(st)
    for st in (
        pq.ExecStatus.TUPLES_OK,
        pq.ExecStatus.SINGLE_TUPLE,
        getattr(pq.ExecStatus, "TUPLES_CHUNK", pq.ExecStatus.TUPLES_OK),
    )
)


def _column_names(res: Any, enc: str) -> list[str]:
    """The column names of the result res (none for None)."""
    if res is None:
        return []
    names = []
    for i in range(res.nfields):
        fname = res.fname(i)
        names.append(fname.decode(enc) if fname else f"column_{i + 1}")
    return names


class Rows:
    """The rows of a query, received whole; one result set per row-returning statement.

    The column names are read from the result itself; psycopg's ``description``
    (Column objects) is built only when a column type is asked for.
    """

    __slots__ = ("_conn", "_cur", "_buf", "_pos", "_closed", "_advanced", "_res", "_names", "_desc")

    def __init__(self, conn: Conn, cur: _PgCursor) -> None:
        self._conn = conn
        self._cur = cur
        self._buf: list[TupleRow] = []
        self._pos = 0
        self._closed = False
        # The cursor already stands on the next result set (has_next_result_set).
        self._advanced = False
        self._names: list[str] | None = None
        self._desc: list[psycopg.Column] | None = None
        # The current result set (None: the query gave none with columns).
        res = cur.pgresult
        if res is None or not (res.nfields or res.status in _COLUMN_STATUSES):
            res = cur.pgresult if self._advance() else None
        self._res = res

    def _advance(self) -> bool:
        """Move the cursor to the next result that has columns."""
        while self._cur.nextset():
            if self._cur.description is not None:
                return True
        return False

    def _more_results(self) -> bool:
        """Whether the cursor holds results after the current one (True when psycopg
        does not tell)."""
        cur = self._cur
        results = getattr(cur, "_results", None)
        i = getattr(cur, "_iresult", None)
        if type(results) is list and type(i) is int:
            return i + 1 < len(results)
        return True

    def _pin(self) -> None:
        """Read the current result set's names and description before the cursor
        moves on (has_next_result_set)."""
        if self._res is not None:
            self.columns()
            if self._desc is None:
                self._desc = self._cur.description or []

    def columns(self) -> list[str]:
        names = self._names
        if names is None:
            names = self._names = _column_names(self._res, self._cur._encoding)
        return names

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._buf = []
            self._res = None
            self._conn._release(self._cur)

    def next(self, dest: list[driver.Value]) -> None:
        if self._advanced or self._res is None or self._closed:
            raise EOFError
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            buf = self._buf = self._cur.fetchmany(_FETCH_BATCH)
            pos = 0
            if not buf:
                raise EOFError
        self._pos = pos + 1
        dest[:] = buf[pos]

    def next_batch(self, max_rows: int) -> list[tuple[Any, ...]]:
        """Up to max_rows rows as psycopg loads them; an empty list at the end of the
        result set."""
        if max_rows < 1:
            raise ValueError(f"postgres: next_batch needs max_rows >= 1, got {max_rows}")
        if self._advanced or self._res is None or self._closed:
            return []
        buf = self._buf
        pos = self._pos
        if pos < len(buf):
            # Rows fetched for next (dbsql never mixes the two; others may).
            batch = buf[pos : pos + max_rows]
            self._pos = pos + len(batch)
            return batch
        return self._cur.fetchmany(max_rows)

    def has_next_result_set(self) -> bool:
        if self._closed:
            return False
        if not self._advanced:
            if not self._more_results():
                return False
            self._pin()
            self._advanced = self._advance()
        return self._advanced

    def next_result_set(self) -> None:
        if self._closed or not (self._advanced or self._advance()):
            raise EOFError
        self._advanced = False
        self._res = self._cur.pgresult
        self._names = None
        self._desc = None
        self._buf = []
        self._pos = 0

    def _column(self, index: int) -> psycopg.Column:
        desc = self._desc
        if desc is None:
            if self._closed:
                raise RuntimeError("postgres: the rows are closed")
            desc = self._desc = (self._cur.description or []) if self._res is not None else []
        return desc[index]

    def _oid(self, index: int) -> int:
        return int(self._column(index).type_code)

    def column_type_database_type_name(self, index: int) -> str:
        oid = self._oid(index)
        info = self._conn._pg.adapters.types.get(oid)
        if info is None:
            return str(oid)
        name = info.name.upper()
        if oid == info.array_oid and oid != info.oid:
            return "_" + name
        return name

    def column_type_length(self, index: int) -> tuple[int, bool]:
        oid = self._oid(index)
        if oid in (_TEXT_OID, _BYTEA_OID):
            return _MAX_INT64, True
        if oid in (_VARCHAR_OID, _BPCHAR_OID):
            size = self._column(index).display_size
            return (_MAX_INT64, True) if size is None else (int(size), True)
        return 0, False

    def column_type_nullable(self, index: int) -> tuple[bool, bool]:
        return False, False

    def column_type_precision_scale(self, index: int) -> tuple[int, int, bool]:
        if self._oid(index) != _NUMERIC_OID:
            return 0, 0, False
        col = self._column(index)
        if col.precision is None:
            return 0, 0, False  # numeric without (precision, scale)
        return int(col.precision), int(col.scale or 0), True

    def column_type_scan_type(self, index: int) -> type:
        oid = self._oid(index)
        t = _SCAN_TYPES.get(oid)
        if t is not None:
            return t
        info = self._conn._pg.adapters.types.get(oid)
        if info is not None and oid == info.array_oid and oid != info.oid:
            return list
        return object


_sql.register("postgres", PostgresDriver())
