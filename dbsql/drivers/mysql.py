"""The "mysql" driver: MySQL and MariaDB through PyMySQL.

``dbsql.open("mysql", dsn)`` (the module registers itself on import).

DSN
===

Either go-sql-driver/mysql's form::

    [user[:password]@][net[(addr)]]/dbname[?param1=value1&paramN=valueN]

    root:@tcp(127.0.0.1:3306)/test?parseTime=true&timeout=5s&charset=utf8mb4
    app:secret@unix(/run/mysqld/mysqld.sock)/app
    /test                                  (tcp 127.0.0.1:3306, OS user name)

or a URL (scheme ``mysql`` or ``mariadb``)::

    mysql://user:pa%40ss@db.example:3306/app?readTimeout=30s
    mysql://user@%2Frun%2Fmysqld%2Fmysqld.sock/app   (host an escaped socket path)

As in Go, the database name is taken after the *last* ``/``: a password or
socket path may hold ``/``, a parameter value must escape it (``%2F``). In the
Go form the password is taken literally; in a URL the user and password are
percent-decoded. ``net`` is ``tcp`` (default; also ``tcp4``/``tcp6``) or
``unix``; the default address is ``127.0.0.1:3306`` and ``/tmp/mysql.sock``,
a TCP address without a port gets ``:3306``. Parameter values are
percent-decoded (``+`` is a space). The DSN is parsed once, by
:meth:`MySQLDriver.open_connector`; errors name the part or the parameter,
never the password.

Parameters (names as in Go, case-sensitive):

* ``charset`` -- connection character set (default ``utf8mb4``); a comma
  list takes the first one PyMySQL knows. ``collation`` -- its collation.
* ``timeout`` -- connect timeout (Go duration: ``5s``, ``500ms``, ``1m30s``);
  it bounds the TCP connect and the handshake; default 10s. A context deadline
  that comes sooner wins. ``readTimeout`` / ``writeTimeout`` -- socket I/O
  timeouts (default none); a read timeout loses the connection.
* ``parseTime`` -- default (and ``true``): DATETIME/TIMESTAMP are returned as
  ``datetime.datetime``, DATE as ``datetime.date``, TIME as
  ``datetime.timedelta`` (PyMySQL's conversions; zero dates such as
  ``0000-00-00`` stay strings). ``false``: every temporal column is returned
  as its text (``str``), as Go returns ``[]byte`` without ``parseTime``.
* ``loc`` -- time zone (``UTC``, ``Local``, an IANA name such as
  ``Europe%2FBerlin``). Aware datetime arguments are converted to it (to UTC
  when ``loc`` is not given, Go's default); naive ones are sent as they are.
  When ``loc`` is given, DATETIME/TIMESTAMP results are aware datetimes in it;
  without it they are naive, as PyMySQL returns them.
* ``multiStatements`` -- allow several statements in one query
  (CLIENT_MULTI_STATEMENTS); the Rows then have several result sets.
* ``autocommit`` -- default ``true``; ``false`` starts implicit transactions,
  which ``reset_session`` rolls back when the connection returns to the pool.
* ``tls`` -- ``false`` (default), ``true`` (TLS required, certificate and host
  name verified), ``skip-verify`` (TLS required, not verified), ``preferred``
  (TLS if the server offers it, not verified).
* ``clientFoundRows`` -- RowsAffected counts matched rows, not changed rows.
* ``columnsWithAlias`` -- column names are ``table.column``.
* ``checkConnLiveness`` -- default ``true``: look at the idle socket when a
  connection is reused (see below).
* ``resetSession`` -- how a connection reused from the pool is cleaned (see
  "Transactions, sessions" below). Not given: reset only a session that ran a
  statement that may have left state in it (cheap when it did not). ``true``:
  reset every reused session (two round trips per checkout). ``false``: turn
  the reset off, as Go's driver (only a transaction left open is rolled
  back; temporary tables, variables and locks stay with the connection).
* ``maxAllowedPacket`` -- bytes; PyMySQL uses it for LOAD DATA LOCAL only.
* ``interpolateParams``, ``allowNativePasswords``, ``allowOldPasswords``,
  ``allowCleartextPasswords`` -- accepted and ignored (arguments are always
  interpolated client-side; PyMySQL picks the auth plugin the server asks for).

Any other parameter is, as in Go, a session system variable: the connector runs
``SET name=value, ...`` right after connecting. The name must look like a
system variable (letters, digits, ``_``, ``.``), else the DSN is rejected with
an error naming it; the value is SQL, sent as given (quote strings:
``sql_mode=%27ANSI%27``). A misspelt Go parameter therefore fails at connect
with MySQL's "Unknown system variable" error.

Placeholders and values
=======================

Queries use ``?`` placeholders; MySQL has no named parameters, so a
``dbsql.named`` argument is an error. With arguments, the query text is split
once (cached per text) at each ``?`` that is outside a quoted string
(``'...'``/``"..."``, backslash escapes unless the session has
NO_BACKSLASH_ESCAPES), a back-quoted identifier and a comment (``#``, ``-- ``,
``/* */``; ``/*! */`` bodies are code); each argument is escaped as a literal
(PyMySQL's escaping, which follows the session's backslash mode) and spliced
in, so a ``%`` in the text is just a ``%``. Without arguments the text is sent
unchanged. Prepared statements are client-side: ``prepare`` does no round trip
and ``num_input`` is the number of placeholders.

Arguments (``check_named_value``): None, bool, int (-2**63 .. 2**64-1),
float, str, bytes/bytearray/memoryview, decimal.Decimal, datetime.datetime,
datetime.date, datetime.time (naive), datetime.timedelta (TIME) and uuid.UUID
(sent as its 36-character text, as Go's uuid package does). Anything else goes
to dbsql's default converter (Valuers, ``dbsql.Int8``... and so on).

Results: PyMySQL's Python values -- int (UNSIGNED BIGINT up to 2**64-1),
float, decimal.Decimal, str, bytes (binary strings, BLOB, BIT), the temporal
types above, str for JSON. Each result set is read whole (buffered) when the
statement runs, so ``Rows.next`` does no I/O; the next result set is read by
``next_result_set``. Results without columns (an INSERT between two SELECTs,
the status of a CALL) are skipped, as Go does. Exec reads every result and its
Result reports the last statement's LastInsertId and RowsAffected
(``all_rows_affected``/``all_last_insert_ids`` give each one).

Column types come from the result's field packets (PyMySQL's
``FieldDescriptorPacket``: ``type_code``, ``flags``, ``charsetnr``, ``length``,
``scale``): the database type name as go-sql-driver/mysql spells it
(``"VARCHAR"``, ``"UNSIGNED BIGINT"``, ``"DECIMAL"``, ``"DATETIME"``,
``"TEXT"``/``"BLOB"`` by character set), nullability from NOT_NULL_FLAG,
the length in characters of string and binary types, precision and scale of
DECIMAL (and fractional digits of temporal types, as Go), and a scan type
(``T | None`` for a nullable column).

Transactions, sessions, cancellation
====================================

Autocommit is on; ``begin_tx`` runs ``SET TRANSACTION ISOLATION LEVEL ...``
(read uncommitted, read committed, repeatable read, serializable; any other
level is an error naming it) and ``START TRANSACTION`` (``READ ONLY`` when
asked). ``reset_session`` (when a used connection is taken from the pool)
checks, without a round trip, that the idle socket has neither been closed by
the server nor received anything (Go's connCheck; a dead connection raises
``BadConnError`` so the pool discards it), and rolls back a transaction left
open (ours, or one the server reports through SERVER_STATUS_IN_TRANS).

Other session state is cleared too. Each statement's text is classified once
(cached per text, outside literals and comments) by what it may leave in the
session: SET of any kind (also SET TRANSACTION, which would apply to the next
borrower's transaction), ``:=`` and ``INTO @var`` user variable assignments,
TEMPORARY tables, PREPARE, EXECUTE, CALL and DO (which may do anything),
LOCK, FLUSH, BACKUP, HANDLER, XA, LOAD, ``BEGIN NOT ATOMIC`` and GET_LOCK (the
check errs on the side of resetting). When such a statement ran since the
connection was last reset, ``reset_session`` sends COM_RESET_CONNECTION
(MySQL 5.7.3+, MariaDB 10.2.4+: rolls back; drops temporary tables, user
variables, prepared statements, HANDLERs, table and GET_LOCK locks; session
variables back to their global values) and then sets again what the connector
set on connect: ``SET NAMES charset [COLLATE collation], autocommit=N`` and the
DSN's system variables (a time zone is one of them: ``time_zone=...``); two
round trips. A checkout after plain queries costs none. After ``USE`` the DSN's
database is selected again (COM_INIT_DB), or, when the DSN names none, the
connection is discarded. Stored functions called from a query are not looked
into: use ``resetSession=true`` when they change session state.
``resetSession=true`` resets every reused connection, ``resetSession=false``
turns the reset off (only the transaction is rolled back), as Go's driver.
If the server rejects COM_RESET_CONNECTION the connection is discarded (a new
one takes its place).

When the context of a call can end, a callback is registered with
``dbsql.context.after_func``; when the context ends during the call it opens a
short side connection with the same settings and runs ``KILL QUERY <thread
id>``. The statement fails with error 1317 (or stops early), the caller gets
the context's error with the driver's error as ``__cause__``, and the
connection stays usable. The caller gets the context's error even when the
statement finished just as the KILL was sent (the work may then have been
done). The call waits for the callback to finish so a late KILL cannot hit a
later statement (and, unless the statement failed with 1317, runs ``DO 0`` to
absorb a KILL that arrived after it ended). If the side connection fails, the
callback shuts the socket down instead and the connection is discarded. Rows left with
unread result sets after their context ended are discarded with the connection.

``BadConnError`` is raised only when the statement cannot have reached the
server: the connection was already closed or broken, the liveness check failed,
or the error (2006, 2013, 4031, a closed socket) happened while sending the
command (a PyMySQL subclass records when the command's packets are written), or
the reply is error 4031 (the server had dropped the idle connection). An error while reading the reply is raised as PyMySQL's error (the
statement may have run); a lost connection then makes ``is_valid`` False.

Errors are PyMySQL's exceptions (``pymysql.err.OperationalError`` and so on,
``args[0]`` the MySQL error code). Passwords never appear in repr, str or error
messages.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import functools
import math
import os
import re
import select
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
import pymysql  # type: ignore[import-untyped]
import pymysql.connections  # type: ignore[import-untyped]
import pymysql.converters  # type: ignore[import-untyped]
from pymysql.charset import charset_by_id, charset_by_name  # type: ignore[import-untyped]
from pymysql.constants import CLIENT, FIELD_TYPE, FLAG, SERVER_STATUS  # type: ignore[import-untyped]

from dbsql import context as _context
from dbsql import driver
from dbsql import sql as _sql
from dbsql.context import Context
from dbsql.driver.types import _parse_duration as _go_parse_duration

__all__ = [
    "Config",
    "DSNError",
    "MySQLConn",
    "MySQLConnector",
    "MySQLDriver",
    "MySQLResult",
    "MySQLRows",
    "MySQLStmt",
    "MySQLTx",
    "parse_dsn",
]

_T = TypeVar("_T")

# ---------------------------------------------------------------------------
# Error codes.

# Client errors (CR_*): the connection is gone.
_CR_SERVER_GONE_ERROR = 2006
_CR_SERVER_LOST = 2013
# Server error sent before it closes an idle connection (MySQL 8.0.24+).
_ER_CLIENT_INTERACTION_TIMEOUT = 4031
# COM_RESET_CONNECTION (MySQL 5.7.3+, MariaDB 10.2.4+); PyMySQL has no constant.
_COM_RESET_CONNECTION = 0x1F
# "Query execution was interrupted" (KILL QUERY).
_ER_QUERY_INTERRUPTED = 1317

_CONN_ERRNOS = frozenset(
    {0, _CR_SERVER_GONE_ERROR, _CR_SERVER_LOST, _ER_CLIENT_INTERACTION_TIMEOUT}
)

_REDACTED = "***"


class DSNError(ValueError):
    """An invalid MySQL DSN. The message names the part or the parameter at fault,
    never the password."""


# ---------------------------------------------------------------------------
# Config and DSN parsing.


def _redact_repr(v: str) -> str:
    return repr(_REDACTED) if v else "''"


@attrs.frozen(slots=True)
class Config:
    """A parsed DSN (go-sql-driver/mysql's Config). ``passwd`` is never shown by repr."""

    user: str = ""
    passwd: str = attrs.field(default="", repr=_redact_repr)
    net: str = "tcp"
    addr: str = "127.0.0.1:3306"
    dbname: str = ""
    charset: str = "utf8mb4"
    collation: str | None = None
    timeout: float | None = None
    read_timeout: float | None = None
    write_timeout: float | None = None
    parse_time: bool = True
    loc: datetime.tzinfo | None = None
    multi_statements: bool = False
    autocommit: bool = True
    tls: str = "false"
    client_found_rows: bool = False
    columns_with_alias: bool = False
    check_conn_liveness: bool = True
    # resetSession: None (not given) resets a session that may hold state, True
    # every reused session, False none.
    reset_session: bool | None = None
    max_allowed_packet: int | None = None
    # Session system variables set on connect, in DSN order: (name, SQL value).
    params: tuple[tuple[str, str], ...] = ()

    @property
    def host(self) -> str:
        """The host of a TCP address (brackets of an IPv6 address removed); for
        ``net == "unix"`` the address is the socket path and host/port mean nothing."""
        return _split_host_port(self.addr)[0]

    @property
    def port(self) -> int:
        """The port of a TCP address."""
        return _split_host_port(self.addr)[1]


def _split_host_port(addr: str) -> tuple[str, int]:
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0:
            raise DSNError(f"mysql: invalid DSN: bad IPv6 address {addr!r}")
        host = addr[1:end]
        rest = addr[end + 1 :]
        if not rest:
            return host, 3306
        if not rest.startswith(":"):
            raise DSNError(f"mysql: invalid DSN: bad address {addr!r}")
        port_s = rest[1:]
    elif addr.count(":") == 1:
        host, port_s = addr.split(":")
    elif ":" in addr:
        # A bare IPv6 address without a port.
        return addr, 3306
    else:
        return addr, 3306
    try:
        port = int(port_s)
    except ValueError:
        raise DSNError(f"mysql: invalid DSN: bad port in address {addr!r}") from None
    if not 0 < port < 65536:
        raise DSNError(f"mysql: invalid DSN: port out of range in address {addr!r}")
    return host, port


def _ensure_have_port(addr: str) -> str:
    if addr.startswith("["):
        if addr.endswith("]"):
            return addr + ":3306"
        return addr
    if addr.count(":") == 1:
        return addr
    if ":" in addr:
        return "[" + addr + "]:3306"
    return addr + ":3306"


def _parse_duration(key: str, value: str) -> float:
    """Go's time.ParseDuration, in seconds (a DSNError naming the option)."""
    try:
        return _go_parse_duration(value)
    except ValueError as e:
        raise DSNError(
            f"mysql: invalid DSN: {key}={value!r} is not a duration "
            f"(a Go duration such as 5s, 500ms or 1m30s)"
        ) from e


def _parse_bool(key: str, value: str) -> bool:
    # Go's readBool.
    if value in ("1", "true", "TRUE", "True"):
        return True
    if value in ("0", "false", "FALSE", "False"):
        return False
    raise DSNError(f"mysql: invalid DSN: {key}={value!r} is not a bool (true or false)")


def _local_tz() -> datetime.tzinfo:
    tz = os.environ.get("TZ")
    if tz:
        try:
            return zoneinfo.ZoneInfo(tz.lstrip(":"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as f:
            return zoneinfo.ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        pass
    local = datetime.datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def _parse_loc(value: str) -> datetime.tzinfo:
    if value == "Local":
        return _local_tz()
    if value in ("UTC", ""):
        return datetime.UTC
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DSNError(f"mysql: invalid DSN: loc={value!r}: unknown time zone") from None


_SYSVAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")

_IGNORED_PARAMS = frozenset(
    {"interpolateParams", "allowNativePasswords", "allowOldPasswords", "allowCleartextPasswords"}
)

_TLS_VALUES = {
    "true": "true",
    "1": "true",
    "TRUE": "true",
    "True": "true",
    "false": "false",
    "0": "false",
    "FALSE": "false",
    "False": "false",
    "skip-verify": "skip-verify",
    "preferred": "preferred",
}


def _parse_params(fields: dict[str, Any], query: str) -> None:
    params: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        key, sep, raw = part.partition("=")
        if not sep:
            raise DSNError(f"mysql: invalid DSN: parameter {key!r} has no value (want key=value)")
        value = urllib.parse.unquote_plus(raw)
        if key == "charset":
            names = [n.strip() for n in value.split(",") if n.strip()]
            for name in names:
                try:
                    known = charset_by_name(name)
                except KeyError:
                    known = None
                if known is None:
                    continue
                fields["charset"] = name
                break
            else:
                raise DSNError(f"mysql: invalid DSN: charset={value!r}: unknown character set")
        elif key == "collation":
            if not re.fullmatch(r"[A-Za-z0-9_]+", value):
                raise DSNError(f"mysql: invalid DSN: collation={value!r} is not a collation name")
            fields["collation"] = value
        elif key in ("timeout", "readTimeout", "writeTimeout"):
            d = _parse_duration(key, value)
            if d < 0:
                raise DSNError(f"mysql: invalid DSN: {key}={value!r} is negative")
            name = {"timeout": "timeout", "readTimeout": "read_timeout"}.get(key, "write_timeout")
            fields[name] = d if d > 0 else None
        elif key == "parseTime":
            fields["parse_time"] = _parse_bool(key, value)
        elif key == "loc":
            fields["loc"] = _parse_loc(value)
        elif key == "multiStatements":
            fields["multi_statements"] = _parse_bool(key, value)
        elif key == "autocommit":
            fields["autocommit"] = _parse_bool(key, value)
        elif key == "tls":
            tls = _TLS_VALUES.get(value)
            if tls is None:
                raise DSNError(
                    f"mysql: invalid DSN: tls={value!r}: want true, false, skip-verify or preferred"
                )
            fields["tls"] = tls
        elif key == "clientFoundRows":
            fields["client_found_rows"] = _parse_bool(key, value)
        elif key == "columnsWithAlias":
            fields["columns_with_alias"] = _parse_bool(key, value)
        elif key == "checkConnLiveness":
            fields["check_conn_liveness"] = _parse_bool(key, value)
        elif key == "resetSession":
            fields["reset_session"] = _parse_bool(key, value)
        elif key == "maxAllowedPacket":
            try:
                n = int(value)
            except ValueError:
                raise DSNError(
                    f"mysql: invalid DSN: maxAllowedPacket={value!r} is not an integer"
                ) from None
            fields["max_allowed_packet"] = n if n > 0 else None
        elif key in _IGNORED_PARAMS:
            _parse_bool(key, value)
        else:
            # Go sends any other parameter as a system variable.
            if not _SYSVAR_RE.fullmatch(key):
                raise DSNError(
                    f"mysql: invalid DSN: unknown parameter {key!r} is not a valid system "
                    f"variable name (unknown parameters are set with SET name=value on connect)"
                )
            if not value:
                raise DSNError(f"mysql: invalid DSN: system variable {key!r} has an empty value")
            params.append((key, value))
    if params:
        fields["params"] = tuple(params)


def _parse_go_dsn(dsn: str) -> dict[str, Any]:
    """go-sql-driver/mysql's ParseDSN."""
    fields: dict[str, Any] = {}
    net = ""
    addr = ""
    i = dsn.rfind("/")
    if i < 0:
        if dsn:
            raise DSNError("mysql: invalid DSN: missing the slash separating the database name")
        return fields
    if i > 0:
        # [username[:password]@][protocol[(address)]]
        # Find the last '@' in dsn[:i].
        j = dsn.rfind("@", 0, i)
        if j >= 0:
            # username[:password]; find the first ':' in dsn[:j].
            k = dsn.find(":", 0, j)
            if k >= 0:
                fields["passwd"] = dsn[k + 1 : j]
                fields["user"] = dsn[:k]
            else:
                fields["user"] = dsn[:j]
        # [protocol[(address)]]: find the first '(' in dsn[j+1:i].
        k = dsn.find("(", j + 1, i)
        if k >= 0:
            # dsn[i-1] must be ')' if an address is specified.
            if dsn[i - 1] != ")":
                if ")" in dsn[k + 1 : i]:
                    raise DSNError("mysql: invalid DSN: did you forget to escape a param value?")
                raise DSNError(
                    "mysql: invalid DSN: network address not terminated (missing closing brace)"
                )
            addr = dsn[k + 1 : i - 1]
            net = dsn[j + 1 : k]
        else:
            net = dsn[j + 1 : i]
    # dbname[?param1=value1&...&paramN=valueN]
    rest = dsn[i + 1 :]
    dbname, q, query = rest.partition("?")
    if q:
        _parse_params(fields, query)
    fields["dbname"] = urllib.parse.unquote(dbname)
    fields["net"] = net
    fields["addr"] = addr
    return fields


def _parse_url_dsn(dsn: str) -> dict[str, Any]:
    try:
        u = urllib.parse.urlsplit(dsn)
        port = u.port
    except ValueError as e:
        # urlsplit's message may quote the netloc: blank out its user:password.
        msg = str(e)
        m = re.match(r"[^:]*://([^/?#]*)", dsn)
        userinfo = m.group(1).rpartition("@")[0] if m else ""
        if userinfo:
            msg = msg.replace(userinfo, _REDACTED)
        raise DSNError(f"mysql: invalid DSN URL: {msg}") from None
    fields: dict[str, Any] = {}
    if u.username is not None:
        fields["user"] = urllib.parse.unquote(u.username)
    if u.password is not None:
        fields["passwd"] = urllib.parse.unquote(u.password)
    host = urllib.parse.unquote(u.hostname or "")
    # urlsplit lower-cases the host: take the original spelling for socket paths.
    netloc = u.netloc.rpartition("@")[2]
    if netloc and urllib.parse.unquote(netloc).startswith("/"):
        fields["net"] = "unix"
        fields["addr"] = urllib.parse.unquote(netloc)
    elif host:
        fields["net"] = "tcp"
        h = f"[{host}]" if ":" in host else host
        fields["addr"] = f"{h}:{port or 3306}"
    else:
        fields["net"] = "tcp"
        fields["addr"] = ""
    path = u.path[1:] if u.path.startswith("/") else u.path
    if "/" in path:
        raise DSNError("mysql: invalid DSN URL: the path must be a single database name")
    fields["dbname"] = urllib.parse.unquote(path)
    if u.fragment:
        raise DSNError("mysql: invalid DSN URL: unexpected fragment (#...)")
    if u.query:
        _parse_params(fields, u.query)
    return fields


def parse_dsn(dsn: str) -> Config:
    """Parse a DSN (Go form or ``mysql://`` URL) into a :class:`Config`.

    Raise :class:`DSNError` (a ValueError) naming what is wrong.
    """
    lowered = dsn[:12].lower()
    if lowered.startswith(("mysql://", "mariadb://")):
        fields = _parse_url_dsn(dsn)
    else:
        fields = _parse_go_dsn(dsn)
    # normalize
    net = fields.get("net") or "tcp"
    addr = fields.get("addr") or ""
    if net in ("tcp4", "tcp6"):
        net = "tcp"
    if net == "tcp":
        addr = _ensure_have_port(addr) if addr else "127.0.0.1:3306"
        _split_host_port(addr)
    elif net == "unix":
        addr = addr or "/tmp/mysql.sock"
    elif ":" in net:
        # user:password without its '@': what follows the ':' may be a password.
        raise DSNError(
            f"mysql: invalid DSN: unknown network {net.partition(':')[0] + ':...'!r} "
            "(want tcp or unix; is the '@' after user:password missing?)"
        )
    else:
        raise DSNError(f"mysql: invalid DSN: unknown network {net!r} (want tcp or unix)")
    fields["net"] = net
    fields["addr"] = addr
    return Config(**fields)


# ---------------------------------------------------------------------------
# Placeholders.

_SPECIAL_RE = re.compile(r"""['"`#?]|--|/\*""")
_QUOTED_RE = {
    ("'", True): re.compile(r"(?:[^'\\]++|\\.|'')*+'", re.S),
    ("'", False): re.compile(r"(?:[^']++|'')*+'", re.S),
    ('"', True): re.compile(r'(?:[^"\\]++|\\.|"")*+"', re.S),
    ('"', False): re.compile(r'(?:[^"]++|"")*+"', re.S),
    ("`", True): re.compile(r"(?:[^`]++|``)*+`", re.S),
    ("`", False): re.compile(r"(?:[^`]++|``)*+`", re.S),
}


@functools.lru_cache(maxsize=1024)
def _split_placeholders(query: str, backslash_escapes: bool) -> tuple[str, ...]:
    """Split query at each ``?`` placeholder outside literals, identifiers and
    comments: n placeholders give n + 1 pieces."""
    pieces: list[str] = []
    start = 0
    i = 0
    n = len(query)
    while True:
        m = _SPECIAL_RE.search(query, i)
        if m is None:
            break
        tok = m.group()
        j = m.start()
        if tok == "?":
            pieces.append(query[start:j])
            start = i = j + 1
        elif tok in ("'", '"', "`"):
            q = _QUOTED_RE[(tok, backslash_escapes)].match(query, j + 1)
            i = n if q is None else q.end()
        elif tok == "#":
            k = query.find("\n", j)
            i = n if k < 0 else k + 1
        elif tok == "--":
            # "-- " starts a comment only when followed by a space or control char.
            if j + 2 >= n or query[j + 2].isspace() or ord(query[j + 2]) < 32:
                k = query.find("\n", j)
                i = n if k < 0 else k + 1
            else:
                i = j + 1
        else:  # "/*"
            if query.startswith(("!", "M!"), j + 2):
                i = j + 2  # an executable comment: its body is code
            else:
                k = query.find("*/", j + 2)
                i = n if k < 0 else k + 2
    pieces.append(query[start:])
    return tuple(pieces)


def _count_placeholders(query: str, backslash_escapes: bool = True) -> int:
    return len(_split_placeholders(query, backslash_escapes)) - 1


# ---------------------------------------------------------------------------
# Session state left by a statement.

# What a statement may leave in the session beyond its transaction (bits).
_STATE = 1  # state COM_RESET_CONNECTION clears: see reset_session
_DATABASE = 2  # the current database (USE), which COM_RESET_CONNECTION keeps

# Statements (by their first word) that may leave session state: SET (any:
# even SET TRANSACTION, whose level would apply to the next borrower's first
# transaction, ROLLBACK or not), prepared statements, code that may do
# anything (CALL, EXECUTE [IMMEDIATE], DO), table and instance locks, HANDLER,
# XA transactions (ROLLBACK cannot end them), LOAD DATA (user variables).
_STATE_FIRST_WORDS = frozenset(
    {"set", "prepare", "execute", "call", "do", "lock", "flush", "backup", "handler", "xa", "load"}
)
# Words that leave session state wherever they are: temporary tables, named
# locks held by the session.
_STATE_WORDS = frozenset(
    {
        "temporary",
        "get_lock",
        "version_tokens_lock_shared",
        "version_tokens_lock_exclusive",
        "service_get_read_locks",
        "service_get_write_locks",
    }
)
_LEX_RE = re.compile(
    r"""(?P<w>[^\W\d][\w$]*)  # a word
    |(?P<n>\d[\w$.]*)         # a number (or an identifier that starts with digits)
    |(?P<v>@@?[\w$.]*)        # @user or @@system variable
    |:=|;|['"`]|\#|--|/\*
    """,
    re.X,
)


@functools.lru_cache(maxsize=1024)
def _session_effects(query: str, backslash_escapes: bool) -> int:
    """What the statements of query may leave in the session beyond their
    transaction (``_STATE``, ``_DATABASE`` bits); errs on the side of too much.

    Lexes outside literals, quoted identifiers and comments (``/*! */`` bodies
    are code) and looks at each statement's first words, at ``:=`` (a user
    variable assignment), at ``INTO`` together with a ``@user`` variable
    (``SELECT ... INTO @x``, LOAD DATA), and at TEMPORARY and GET_LOCK.
    Stored functions called by a query are not seen.
    """
    effects = 0
    words: list[str] = []  # the first two words of the current statement
    into = uservar = False
    pos, n = 0, len(query)
    while True:
        m = _LEX_RE.search(query, pos)
        tok = "" if m is None else m.group()
        if m is None or tok == ";":
            first = words[0] if words else ""
            if first == "use":
                effects |= _DATABASE
            elif (
                first in _STATE_FIRST_WORDS
                or (into and uservar)
                or (first == "begin" and words[1:2] == ["not"])  # BEGIN NOT ATOMIC ... END
            ):
                effects |= _STATE
            if m is None:
                return effects
            words = []
            into = uservar = False
            pos = m.end()
            continue
        pos = m.end()
        kind = m.lastgroup
        if kind == "w":
            word = tok.lower()
            if len(words) < 2:
                words.append(word)
            if word == "into":
                into = True
            elif word in _STATE_WORDS:
                effects |= _STATE
        elif kind == "v":
            uservar = uservar or not tok.startswith("@@")
        elif kind == "n":
            pass
        elif tok == ":=":
            effects |= _STATE
        elif tok in ("'", '"', "`"):
            q = _QUOTED_RE[(tok, backslash_escapes)].match(query, pos)
            pos = n if q is None else q.end()
        elif tok == "/*":
            if query.startswith("!", pos) or query.startswith("M!", pos):
                # An executable comment: its body (after a version) is code.
                pos = query.index("!", pos) + 1
                while pos < n and query[pos].isdigit():
                    pos += 1
            else:
                k = query.find("*/", pos)
                pos = n if k < 0 else k + 2
        elif tok == "#" or pos >= n or query[pos].isspace() or ord(query[pos]) < 32:
            # "#" or "-- " (a space or control character after "--"): to the line end.
            k = query.find("\n", pos)
            pos = n if k < 0 else k + 1


# ---------------------------------------------------------------------------
# Values.

_INT_MIN = -(2**63)
_UINT_MAX = 2**64 - 1


def _to_loc(v: datetime.datetime, loc: datetime.tzinfo | None) -> datetime.datetime:
    if v.tzinfo is None or v.utcoffset() is None:
        return v
    return v.astimezone(loc or datetime.UTC).replace(tzinfo=None)


def _fmt_datetime(v: datetime.datetime) -> str:
    if v.microsecond:
        return (
            f"'{v.year:04}-{v.month:02}-{v.day:02} "
            f"{v.hour:02}:{v.minute:02}:{v.second:02}.{v.microsecond:06}'"
        )
    return f"'{v.year:04}-{v.month:02}-{v.day:02} {v.hour:02}:{v.minute:02}:{v.second:02}'"


def _literal(raw: Any, v: Any, loc: datetime.tzinfo | None) -> str:
    """The SQL literal for a value accepted by check_named_value."""
    t = type(v)
    if t is int:
        if not _INT_MIN <= v <= _UINT_MAX:
            raise OverflowError(f"mysql: integer {v} does not fit in 64 bits")
        return str(v)
    if t is str:
        return str(raw.escape(v))
    if v is None:
        return "NULL"
    if v is True:
        return "1"
    if v is False:
        return "0"
    if isinstance(v, int):
        i = int(v)
        if not _INT_MIN <= i <= _UINT_MAX:
            raise OverflowError(f"mysql: integer {i} does not fit in 64 bits")
        return str(i)
    if isinstance(v, float):
        return str(pymysql.converters.escape_float(float(v)))
    if isinstance(v, str):
        return str(raw.escape(str(v)))
    if isinstance(v, (bytes, bytearray, memoryview)):
        return f"X'{bytes(v).hex()}'"
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            raise ValueError(f"mysql: {v} can not be used with MySQL")
        return format(v, "f")
    if isinstance(v, datetime.datetime):
        return _fmt_datetime(_to_loc(v, loc))
    if isinstance(v, datetime.date):
        return f"'{v.year:04}-{v.month:02}-{v.day:02}'"
    if isinstance(v, datetime.time):
        if v.microsecond:
            return f"'{v.hour:02}:{v.minute:02}:{v.second:02}.{v.microsecond:06}'"
        return f"'{v.hour:02}:{v.minute:02}:{v.second:02}'"
    if isinstance(v, datetime.timedelta):
        return str(pymysql.converters.escape_timedelta(v))
    if isinstance(v, uuid.UUID):
        return f"'{v}'"
    raise TypeError(f"mysql: unsupported argument type {type(v).__name__}")


def _interpolate(raw: Any, query: str, args: Sequence[driver.NamedValue], cfg: Config) -> str:
    if not args:
        return query
    _check_no_names(args)
    backslash = not (raw.server_status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES)
    pieces = _split_placeholders(query, backslash)
    if len(pieces) - 1 != len(args):
        raise ValueError(
            f"mysql: the query has {len(pieces) - 1} placeholders (?) "
            f"but {len(args)} arguments were given"
        )
    out = [pieces[0]]
    for nv, piece in zip(args, pieces[1:], strict=True):
        out.append(_literal(raw, nv.value, cfg.loc))
        out.append(piece)
    return "".join(out)


def _check_no_names(args: Sequence[driver.NamedValue]) -> None:
    for nv in args:
        if nv.name:
            raise NotImplementedError("mysql: driver does not support the use of Named Parameters")


# ---------------------------------------------------------------------------
# Column types.

_UNSIGNABLE = {
    FIELD_TYPE.TINY: "TINYINT",
    FIELD_TYPE.SHORT: "SMALLINT",
    FIELD_TYPE.INT24: "MEDIUMINT",
    FIELD_TYPE.LONG: "INT",
    FIELD_TYPE.LONGLONG: "BIGINT",
}
_BLOB_NAMES = {
    FIELD_TYPE.TINY_BLOB: ("TINYTEXT", "TINYBLOB"),
    FIELD_TYPE.BLOB: ("TEXT", "BLOB"),
    FIELD_TYPE.MEDIUM_BLOB: ("MEDIUMTEXT", "MEDIUMBLOB"),
    FIELD_TYPE.LONG_BLOB: ("LONGTEXT", "LONGBLOB"),
}
_SIMPLE_NAMES = {
    FIELD_TYPE.BIT: "BIT",
    FIELD_TYPE.DATE: "DATE",
    FIELD_TYPE.NEWDATE: "DATE",
    FIELD_TYPE.DATETIME: "DATETIME",
    FIELD_TYPE.DECIMAL: "DECIMAL",
    FIELD_TYPE.NEWDECIMAL: "DECIMAL",
    FIELD_TYPE.DOUBLE: "DOUBLE",
    FIELD_TYPE.FLOAT: "FLOAT",
    FIELD_TYPE.ENUM: "ENUM",
    FIELD_TYPE.SET: "SET",
    FIELD_TYPE.GEOMETRY: "GEOMETRY",
    FIELD_TYPE.JSON: "JSON",
    FIELD_TYPE.NULL: "NULL",
    FIELD_TYPE.TIME: "TIME",
    FIELD_TYPE.TIMESTAMP: "TIMESTAMP",
    FIELD_TYPE.YEAR: "YEAR",
    242: "VECTOR",
}
_BINARY_CHARSET = 63
_TEMPORAL = frozenset(
    {
        FIELD_TYPE.DATETIME,
        FIELD_TYPE.TIMESTAMP,
        FIELD_TYPE.DATE,
        FIELD_TYPE.NEWDATE,
        FIELD_TYPE.TIME,
    }
)
_STRINGISH = frozenset(
    {
        FIELD_TYPE.VARCHAR,
        FIELD_TYPE.VAR_STRING,
        FIELD_TYPE.STRING,
        FIELD_TYPE.TINY_BLOB,
        FIELD_TYPE.BLOB,
        FIELD_TYPE.MEDIUM_BLOB,
        FIELD_TYPE.LONG_BLOB,
        FIELD_TYPE.JSON,
    }
)
_MBMAXLEN = {
    "utf8mb4": 4,
    "utf8mb3": 3,
    "utf8": 3,
    "ucs2": 2,
    "utf16": 4,
    "utf16le": 4,
    "utf32": 4,
    "big5": 2,
    "sjis": 2,
    "cp932": 2,
    "gbk": 2,
    "gb2312": 2,
    "gb18030": 4,
    "euckr": 2,
    "ujis": 3,
    "eucjpms": 3,
}


def _type_name(f: Any) -> str:
    t = f.type_code
    unsigned = bool(f.flags & FLAG.UNSIGNED)
    binary = f.charsetnr == _BINARY_CHARSET
    if t in _UNSIGNABLE:
        return ("UNSIGNED " if unsigned else "") + _UNSIGNABLE[t]
    if t in _BLOB_NAMES:
        text, blob = _BLOB_NAMES[t]
        return blob if binary else text
    if t == FIELD_TYPE.STRING:
        if f.flags & FLAG.ENUM:
            return "ENUM"
        if f.flags & FLAG.SET:
            return "SET"
        return "BINARY" if binary else "CHAR"
    if t in (FIELD_TYPE.VARCHAR, FIELD_TYPE.VAR_STRING):
        return "VARBINARY" if binary else "VARCHAR"
    return _SIMPLE_NAMES.get(t, "")


def _base_scan_type(f: Any, parse_time: bool) -> Any:
    t = f.type_code
    if t in _UNSIGNABLE or t == FIELD_TYPE.YEAR:
        return int
    if t in (FIELD_TYPE.FLOAT, FIELD_TYPE.DOUBLE):
        return float
    if t in (FIELD_TYPE.DECIMAL, FIELD_TYPE.NEWDECIMAL):
        return decimal.Decimal
    if t in _TEMPORAL:
        if not parse_time:
            return str
        if t in (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP):
            return datetime.datetime
        if t == FIELD_TYPE.TIME:
            return datetime.timedelta
        return datetime.date
    if t == FIELD_TYPE.JSON:
        return str
    if t in _STRINGISH:
        return bytes if f.charsetnr == _BINARY_CHARSET else str
    if t in (FIELD_TYPE.BIT, FIELD_TYPE.GEOMETRY, 242):
        return bytes
    return object


def _scan_type(f: Any, parse_time: bool) -> Any:
    base = _base_scan_type(f, parse_time)
    if base is object or f.flags & FLAG.NOT_NULL:
        return base
    return base | None


def _mbmaxlen(charsetnr: int) -> int:
    try:
        name = charset_by_id(charsetnr).name
    except KeyError:
        return 1
    return _MBMAXLEN.get(name, 1)


def _length(f: Any) -> tuple[int, bool]:
    t = f.type_code
    if t not in _STRINGISH or f.flags & (FLAG.ENUM | FLAG.SET):
        return 0, False
    return f.length // _mbmaxlen(f.charsetnr), True


def _precision_scale(f: Any) -> tuple[int, int, bool]:
    t = f.type_code
    decimals = f.scale
    if t in (FIELD_TYPE.DECIMAL, FIELD_TYPE.NEWDECIMAL):
        # The display length counts the decimal point and, when signed, the sign.
        precision = f.length - (1 if decimals > 0 else 0) - (0 if f.flags & FLAG.UNSIGNED else 1)
        return precision, decimals, True
    if t in (FIELD_TYPE.TIMESTAMP, FIELD_TYPE.DATETIME, FIELD_TYPE.TIME):
        return 0, (6 if decimals == 0x1F else decimals), True
    if t in (FIELD_TYPE.FLOAT, FIELD_TYPE.DOUBLE):
        big = 2**63 - 1
        return big, (big if decimals == 0x1F else decimals), True
    return 0, 0, False


# ---------------------------------------------------------------------------
# Driver, connector.


class _PyConn(pymysql.connections.Connection):  # type: ignore[misc]
    """PyMySQL's Connection, remembering whether the last command was sent.

    ``_dbsql_sent`` is False from the start of a command until its packets are
    written: an error while it is False happened before the server could run it.
    """

    _dbsql_sent = False

    def _execute_command(self, command: int, sql: Any) -> None:
        self._dbsql_sent = False
        super()._execute_command(command, sql)
        self._dbsql_sent = True


def _scrub(e: BaseException, secret: str) -> BaseException | None:
    """A copy of e with the secret blanked out, or None if e does not hold it."""
    if not secret or secret not in f"{e} {e.args!r}":
        return None
    args = tuple(a.replace(secret, _REDACTED) if isinstance(a, str) else a for a in e.args)
    try:
        return type(e)(*args)
    except Exception:
        return RuntimeError(str(e).replace(secret, _REDACTED))


def _shutdown(raw: Any) -> None:
    sock = raw._sock
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class MySQLDriver:
    """The driver registered as "mysql". See the module documentation."""

    def open(self, name: str) -> MySQLConn:
        """Open a connection (parsing the DSN each time; prefer open_connector)."""
        return self.open_connector(name).connect(_context.background())

    def open_connector(self, name: str) -> MySQLConnector:
        """Parse the DSN once and return a Connector for it."""
        return MySQLConnector(parse_dsn(name), self)

    def __repr__(self) -> str:
        return "MySQLDriver()"


class MySQLConnector:
    """A parsed DSN that opens any number of connections (driver.Connector)."""

    def __init__(self, cfg: Config, drv: MySQLDriver | None = None) -> None:
        self.config = cfg
        self._driver = drv if drv is not None else _DRIVER
        self._conv = dict(pymysql.converters.conversions)
        if not cfg.parse_time:
            for t in _TEMPORAL:
                self._conv.pop(t, None)
        self._ssl: ssl.SSLContext | None = None
        if cfg.tls == "true":
            self._ssl = ssl.create_default_context()
        elif cfg.tls == "skip-verify":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self._ssl = ctx

    def __repr__(self) -> str:
        c = self.config
        return f"<MySQLConnector {c.user}@{c.net}({c.addr})/{c.dbname}>"

    def driver(self) -> driver.Driver:
        return self._driver

    def _kwargs(self, connect_timeout: float, io_timeout: float | None) -> dict[str, Any]:
        cfg = self.config
        kw: dict[str, Any] = {
            "user": cfg.user or None,
            "password": cfg.passwd,
            "database": cfg.dbname or None,
            "charset": cfg.charset,
            "collation": cfg.collation,
            "connect_timeout": connect_timeout,
            "read_timeout": io_timeout,
            "write_timeout": io_timeout,
            "conv": self._conv,
            "autocommit": cfg.autocommit,
            "defer_connect": True,
        }
        if cfg.net == "unix":
            kw["unix_socket"] = cfg.addr
        else:
            kw["host"] = cfg.host
            kw["port"] = cfg.port
        if self._ssl is not None:
            kw["ssl"] = self._ssl
        elif cfg.tls == "false":
            kw["ssl_disabled"] = True
        if cfg.max_allowed_packet is not None:
            kw["max_allowed_packet"] = cfg.max_allowed_packet
        return kw

    def connect(self, ctx: Context) -> MySQLConn:
        """Open a connection. The context bounds the connect (its deadline shortens
        the timeout; its end aborts the handshake); it is not kept."""
        err = ctx.err()
        if err is not None:
            raise err
        cfg = self.config
        timeout = min(cfg.timeout or 10.0, 31536000.0)
        deadline = ctx.deadline()
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                ctx.done().wait(0.1)
                raise ctx.err() or _context.DeadlineExceeded()
            timeout = min(timeout, remaining)
        io_timeout = timeout if cfg.read_timeout is None else min(timeout, cfg.read_timeout)
        flags = 0
        if cfg.multi_statements:
            flags |= CLIENT.MULTI_STATEMENTS
        if cfg.client_found_rows:
            flags |= CLIENT.FOUND_ROWS
        kw = self._kwargs(timeout, io_timeout)
        kw["client_flag"] = flags
        raw = _PyConn(**kw)
        stop = None
        if ctx.done() is not _context._NEVER:
            stop = _context.after_func(ctx, lambda: _shutdown(raw))
        try:
            try:
                raw.connect()
                if cfg.tls == "true" and not isinstance(raw._sock, ssl.SSLSocket):
                    raise pymysql.err.OperationalError(
                        2026, "mysql: tls=true but the connection is not encrypted"
                    )
                # Back to the configured I/O timeouts (the handshake used the
                # connect timeout).
                raw._read_timeout = cfg.read_timeout
                raw._write_timeout = cfg.write_timeout
                if cfg.params:
                    raw.query("SET " + ", ".join(f"{k}={v}" for k, v in cfg.params))
            finally:
                if stop is not None:
                    stop()
            if ctx.err() is not None:
                raise _context_error(ctx)
        except BaseException as e:
            if raw.open:
                raw._force_close()
            failure = self._connect_error(ctx, e)
        else:
            return MySQLConn(self, raw)
        # Raised outside the except block, so that the original error (which
        # may hold the password) is not kept as __context__.
        raise failure

    def _connect_error(self, ctx: Context, e: BaseException) -> BaseException:
        """The error to raise for a failed connect: the context's when it ended,
        else e, with the password blanked out of either."""
        if isinstance(e, _context.ContextError):
            return e
        scrubbed = _scrub(e, self.config.passwd)
        cause = scrubbed if scrubbed is not None else e
        deadline = ctx.deadline()
        if ctx.err() is None and deadline is not None and time.monotonic() >= deadline - 0.01:
            # A timeout from the context's deadline: let the context catch up.
            ctx.done().wait(0.5)
        if ctx.err() is not None:
            return _context_error(ctx, cause)
        if scrubbed is not None:
            scrubbed.__cause__ = None
            scrubbed.__suppress_context__ = True
            return scrubbed
        return e

    def _kill_query(self, thread_id: int) -> None:
        """Run KILL QUERY thread_id on a short side connection."""
        t = min(self.config.timeout or 5.0, 5.0)
        kw = self._kwargs(t, 5.0)
        kw["defer_connect"] = False
        kw["autocommit"] = None
        kw["conv"] = None
        kw["database"] = None
        side = pymysql.connections.Connection(**kw)
        try:
            side.query(f"KILL QUERY {int(thread_id)}")
        finally:
            side._force_close()


# ---------------------------------------------------------------------------
# Conn.


class _Interrupt:
    """The after_func callback of one call: KILL QUERY on a side connection."""

    __slots__ = ("_connector", "_raw", "_thread_id", "done", "killed")

    def __init__(self, connector: MySQLConnector, raw: Any) -> None:
        self._connector = connector
        self._raw = raw
        self._thread_id: int = raw.thread_id()
        self.done = threading.Event()
        self.killed = False

    def fire(self) -> None:
        try:
            self._connector._kill_query(self._thread_id)
            self.killed = True
        except Exception:
            # No side connection: unblock the call by shutting the socket down;
            # the connection is lost and will be discarded.
            _shutdown(self._raw)
        finally:
            self.done.set()


def _context_error(ctx: Context, cause: BaseException | None = None) -> BaseException:
    """A fresh copy of the ended context's error, with cause as ``__cause__``.

    A copy, because ``ctx.err()`` is one instance shared by every caller of that
    context: setting its ``__cause__`` or raising it from several threads would
    mix up their chains and tracebacks.
    """
    err = ctx.err()
    if err is None:
        return _context.Canceled()
    try:
        fresh = copy.copy(err)
    except Exception:
        fresh = err
    fresh.__cause__ = cause
    return fresh


def _is_conn_error(e: BaseException) -> bool:
    if isinstance(e, _context.ContextError):
        return False  # DeadlineExceeded is a TimeoutError, hence an OSError
    if isinstance(e, pymysql.err.InterfaceError | OSError):
        return True
    if isinstance(e, pymysql.err.OperationalError):
        return bool(e.args) and e.args[0] in _CONN_ERRNOS
    return False


def _errno(e: BaseException) -> int | None:
    """The MySQL error code of a PyMySQL error, else None."""
    if isinstance(e, pymysql.err.MySQLError) and e.args and isinstance(e.args[0], int):
        return int(e.args[0])
    return None


_ISOLATION = {
    1: "READ UNCOMMITTED",
    2: "READ COMMITTED",
    4: "REPEATABLE READ",
    6: "SERIALIZABLE",
}


def _isolation_name(level: int) -> str:
    try:
        return str(_sql.IsolationLevel(level))
    except ValueError:
        return f"IsolationLevel({level})"


class MySQLConn:
    """A connection (driver.Conn with every optional interface dbsql knows)."""

    def __init__(self, connector: MySQLConnector, raw: Any) -> None:
        self._connector = connector
        self._cfg = connector.config
        self._raw: Any = raw
        self._closed = False
        self._broken = False
        self._tx: MySQLTx | None = None
        # What statements run since the last reset_session may have left in
        # the session (_STATE, _DATABASE bits; see _session_effects).
        self._dirty = 0
        # A poll object registered for the socket (its fd, the object), for
        # _socket_idle.
        self._poller: tuple[int, Any] | None = None
        # The fields of query_row_context's last row (query_row_columns).
        self._row_fields: list[Any] = []

    def __repr__(self) -> str:
        c = self._cfg
        tid = self._raw.server_thread_id[0] if self._raw.open else None
        return f"<MySQLConn {c.user}@{c.net}({c.addr})/{c.dbname} thread_id={tid}>"

    # -- plumbing

    def _discard(self) -> None:
        """Mark the connection broken and drop the socket: the pool discards it."""
        self._broken = True
        if self._raw.open:
            self._raw._force_close()

    def _usable(self) -> None:
        if self._closed or self._broken or not self._raw.open:
            self._broken = True
            raise driver.BadConnError()

    def _call(self, ctx: Context, fn: Callable[[], _T]) -> _T:
        """Run fn, one or more round trips on the connection, honouring ctx and
        classifying errors (see the module documentation)."""
        err = ctx.err()
        if err is not None:
            raise err
        self._usable()
        raw = self._raw
        raw._dbsql_sent = False
        interrupt: _Interrupt | None = None
        stop: Callable[[], bool] | None = None
        if ctx.done() is not _context._NEVER:
            interrupt = _Interrupt(self._connector, raw)
            stop = _context.after_func(ctx, interrupt.fire)
        try:
            result = fn()
        except Exception as e:
            fired = self._finish(stop, interrupt)
            if not raw.open:
                self._broken = True
            if fired:
                self._clean_after_kill(_errno(e) == _ER_QUERY_INTERRUPTED)
                raise _context_error(ctx, e) from e
            if _is_conn_error(e) and (
                not raw._dbsql_sent or _errno(e) == _ER_CLIENT_INTERACTION_TIMEOUT
            ):
                self._discard()
                raise driver.BadConnError() from e
            raise
        except BaseException:
            self._finish(stop, interrupt)
            self._discard()
            raise
        if stop is not None and self._finish(stop, interrupt):
            self._clean_after_kill(False)
            raise _context_error(ctx)
        return result

    @staticmethod
    def _finish(stop: Callable[[], bool] | None, interrupt: _Interrupt | None) -> bool:
        """Unregister the callback; report whether it ran (waiting for it to end)."""
        if stop is None or interrupt is None:
            return False
        if stop():
            return False
        interrupt.done.wait()
        return True

    def _clean_after_kill(self, consumed: bool) -> None:
        """After a KILL QUERY: a multi-statement's results left unread cannot be
        trusted to end soon, so the connection is dropped rather than read. When
        the statement did not fail with 1317 the KILL may have arrived after it
        ended; a ``DO 0`` absorbs it, so that it cannot interrupt the next
        statement (MariaDB resets the flag itself; this is for servers that may
        not)."""
        raw = self._raw
        if not raw.open:
            self._broken = True
            return
        res = raw._result
        if res is not None and res.has_next:
            self._discard()
            return
        if consumed:
            return
        try:
            raw.query("DO 0")
        except Exception as e:
            if _errno(e) != _ER_QUERY_INTERRUPTED or not raw.open:
                self._discard()

    def _read_all(self) -> MySQLResult:
        """Read every result of the command just sent; the Result of an exec."""
        raw = self._raw
        affected: list[int] = []
        ids: list[int] = []
        while True:
            res = raw._result
            if res.field_count:
                affected.append(0)
                ids.append(0)
            else:
                affected.append(res.affected_rows or 0)
                ids.append(res.insert_id or 0)
            if not res.has_next:
                break
            raw.next_result()
        return MySQLResult(affected, ids)

    def _note(self, query: str) -> None:
        """Record what query may leave in the session, for reset_session."""
        if self._dirty != _STATE | _DATABASE and self._cfg.reset_session is not False:
            backslash = not (
                self._raw.server_status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
            )
            self._dirty |= _session_effects(query, backslash)

    def _exec(self, ctx: Context, query: str, args: Sequence[driver.NamedValue]) -> MySQLResult:
        self._note(query)

        def run() -> MySQLResult:
            q = _interpolate(self._raw, query, args, self._cfg)
            self._raw.query(q)
            return self._read_all()

        return self._call(ctx, run)

    def _query(self, ctx: Context, query: str, args: Sequence[driver.NamedValue]) -> MySQLRows:
        self._note(query)

        def run() -> Any:
            q = _interpolate(self._raw, query, args, self._cfg)
            raw = self._raw
            raw.query(q)
            res = raw._result
            # Skip results without columns, as Go does.
            while not res.field_count and res.has_next:
                raw.next_result()
                res = raw._result
            return res

        res = self._call(ctx, run)
        return MySQLRows(self, ctx, res)

    def _simple(self, ctx: Context, statement: str) -> None:
        def run() -> None:
            self._raw.query(statement)
            self._read_all()

        self._call(ctx, run)

    # -- driver.Conn

    def prepare(self, query: str) -> MySQLStmt:
        return self.prepare_context(_context.background(), query)

    def prepare_context(self, ctx: Context, query: str) -> MySQLStmt:
        """Return a client-side prepared statement (no round trip)."""
        err = ctx.err()
        if err is not None:
            raise err
        self._usable()
        backslash = not (self._raw.server_status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES)
        return MySQLStmt(self, query, _count_placeholders(query, backslash))

    def close(self) -> None:
        """Send COM_QUIT (bounded by a 1s write timeout) and close the socket."""
        if self._closed:
            return
        self._closed = True
        raw = self._raw
        if raw.open:
            if raw._write_timeout is None or raw._write_timeout > 1.0:
                raw._write_timeout = 1.0
            try:
                raw.close()
            except Exception:
                raw._force_close()

    def begin(self) -> MySQLTx:
        return self.begin_tx(_context.background(), driver.TxOptions())

    def begin_tx(self, ctx: Context, opts: driver.TxOptions) -> MySQLTx:
        """START TRANSACTION [READ ONLY], after SET TRANSACTION ISOLATION LEVEL."""
        level = int(opts.isolation)
        if level != 0 and level not in _ISOLATION:
            raise NotImplementedError(
                f"mysql: unsupported isolation level: {_isolation_name(level)}"
            )
        if self._tx is not None:
            raise RuntimeError("mysql: a transaction is already open on this connection")
        start = "START TRANSACTION READ ONLY" if opts.read_only else "START TRANSACTION"
        if level == 0:
            self._simple(ctx, start)
        else:
            self._simple(ctx, "SET TRANSACTION ISOLATION LEVEL " + _ISOLATION[level])
            try:
                self._simple(ctx, start)
            except BaseException:
                # The level would apply to the next transaction of whoever
                # borrows the connection: drop it.
                self._discard()
                raise
        self._tx = MySQLTx(self)
        return self._tx

    def exec_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> MySQLResult:
        return self._exec(ctx, query, args)

    def query_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> MySQLRows:
        return self._query(ctx, query, args)

    def query_row_context(
        self, ctx: Context, query: str, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.QueryerRowContext (beyond Go): query_context's first row, with its
        rows closed, in one call."""
        return self._first_row(self._query(ctx, query, args))

    def _first_row(self, rows: MySQLRows) -> tuple[Any, ...] | None:
        try:
            batch = rows.next_batch(1)
        finally:
            rows.close()
        self._row_fields = rows._fields
        return batch[0] if batch else None

    def query_row_columns(self) -> list[str]:
        return _column_names(self._row_fields, self._cfg)

    def ping(self, ctx: Context) -> None:
        """COM_PING; a lost connection is BadConnError (a ping has no effect to repeat)."""
        try:
            self._call(ctx, lambda: self._raw.ping(reconnect=False))
        except Exception as e:
            if _is_conn_error(e):
                self._discard()
                raise driver.BadConnError() from e
            raise

    def reset_session(self, ctx: Context) -> None:
        """Make the session as new for the next borrower, or raise BadConnError.

        The idle socket is checked first (checkConnLiveness). Then, if a
        statement run since the last reset may have left session state (see
        ``_session_effects``), or always with ``resetSession=true``, the session
        is reset with COM_RESET_CONNECTION and the DSN's settings are applied
        again (``_full_reset``); otherwise a transaction left open is rolled
        back. After USE the DSN's database is selected again. With
        ``resetSession=false`` only the transaction is rolled back.
        """
        self._usable()
        if self._cfg.check_conn_liveness and not self._socket_idle():
            self._discard()
            raise driver.BadConnError()
        raw = self._raw
        mode = self._cfg.reset_session
        dirty, self._dirty = self._dirty, 0
        if mode or (mode is None and dirty & _STATE):
            self._tx = None
            self._full_reset(ctx)
        elif self._tx is not None or raw.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
            self._tx = None
            self._recover(ctx, lambda: raw.query("ROLLBACK"))
        if dirty & _DATABASE:
            dbname = self._cfg.dbname
            if not dbname:
                # No way back to "no database selected": drop the connection.
                self._discard()
                raise driver.BadConnError()
            self._recover(ctx, lambda: raw.select_db(dbname))

    def _full_reset(self, ctx: Context) -> None:
        """COM_RESET_CONNECTION (rolls back; drops temporary tables, user
        variables, prepared statements, HANDLERs, table and GET_LOCK locks; session
        variables back to the global values), then what connect set: the character
        set and collation (SET NAMES), autocommit and the DSN's system variables."""
        cfg = self._cfg
        names = f"NAMES {cfg.charset}" + (f" COLLATE {cfg.collation}" if cfg.collation else "")
        settings = [names, f"autocommit={int(cfg.autocommit)}"]
        settings += [f"{k}={v}" for k, v in cfg.params]
        raw = self._raw

        def run() -> None:
            raw._execute_command(_COM_RESET_CONNECTION, b"")
            raw._read_ok_packet()
            raw.query("SET " + ", ".join(settings))

        self._recover(ctx, run)

    def _recover(self, ctx: Context, fn: Callable[[], object]) -> None:
        """Run a step of reset_session: any failure discards the connection
        (BadConnError), as the session cannot be handed on."""
        try:
            self._call(ctx, fn)
        except driver.BadConnError:
            raise
        except Exception as e:
            self._discard()
            raise driver.BadConnError() from e

    def _socket_idle(self) -> bool:
        """Go's connCheck: an idle connection's socket must have nothing to read
        (no data, no EOF), or the server has closed it or sent an error."""
        sock = self._raw._sock
        if sock is None:
            return False
        try:
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                return False
            fd = sock.fileno()
            if fd < 0:
                return False
            poller = self._poller
            if poller is not None and poller[0] == fd:
                return not poller[1].poll(0)
            if hasattr(select, "poll"):
                p = select.poll()
                p.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
                self._poller = (fd, p)
                return not p.poll(0)
            r, _, x = select.select([fd], [], [fd], 0)
            return not r and not x
        except (OSError, ValueError):
            return False

    def is_valid(self) -> bool:
        """False once the connection is closed or known broken."""
        return not self._closed and not self._broken and bool(self._raw.open)

    def check_named_value(self, nv: driver.NamedValue) -> None:
        """Accept the values PyMySQL can escape (see the module documentation)."""
        v = nv.value
        t = type(v)
        # The plain types first, without the (slow) Valuer protocol check.
        if t is int:
            if not _INT_MIN <= v <= _UINT_MAX:
                raise OverflowError(f"mysql: integer {v} does not fit in 64 bits")
            return
        if t is str or t is bytes or v is None or t is bool:
            return
        if t is float:
            if not math.isfinite(v):
                raise ValueError(f"mysql: {v} can not be used with MySQL")
            return
        if isinstance(v, driver.Valuer):
            raise driver.SkipError()
        if isinstance(v, int):
            # Go's converter kinds Int* and Uint*: subclasses (sized ints, IntEnum)
            # too, and the whole UNSIGNED BIGINT range.
            i = int.__index__(v)
            if not _INT_MIN <= i <= _UINT_MAX:
                raise OverflowError(f"mysql: integer {i} does not fit in 64 bits")
            nv.value = i
            return
        if isinstance(v, float):
            nv.value = float(v)
        elif isinstance(v, str):
            nv.value = str(v)
        elif isinstance(v, (bytes, bytearray, memoryview)):
            nv.value = bytes(v)
        elif isinstance(v, decimal.Decimal):
            if not v.is_finite():
                raise ValueError(f"mysql: {v} can not be used with MySQL")
        elif isinstance(v, datetime.time):
            if v.tzinfo is not None:
                raise TypeError("mysql: a datetime.time with tzinfo is not supported")
        elif isinstance(v, (datetime.date, datetime.timedelta)):
            pass
        elif isinstance(v, uuid.UUID):
            nv.value = str(v)
        else:
            raise driver.SkipError()
        if isinstance(nv.value, float) and not math.isfinite(nv.value):
            raise ValueError(f"mysql: {nv.value} can not be used with MySQL")


class MySQLTx:
    """A transaction: COMMIT or ROLLBACK on its connection."""

    def __init__(self, conn: MySQLConn) -> None:
        self._conn = conn

    def _end(self, statement: str) -> None:
        conn = self._conn
        if conn._tx is not self:
            raise RuntimeError("mysql: transaction already ended")
        conn._tx = None
        conn._simple(_context.background(), statement)

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")


class MySQLStmt:
    """A client-side prepared statement: the query text and its placeholder count."""

    def __init__(self, conn: MySQLConn, query: str, num_input: int) -> None:
        self._conn = conn
        self._query = query
        self._num_input = num_input
        self._closed = False

    def close(self) -> None:
        self._closed = True

    def num_input(self) -> int:
        return self._num_input

    def exec(self, args: Sequence[Any]) -> MySQLResult:
        return self.exec_context(_context.background(), _named(args))

    def query(self, args: Sequence[Any]) -> MySQLRows:
        return self.query_context(_context.background(), _named(args))

    def exec_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> MySQLResult:
        return self._conn._exec(ctx, self._query, args)

    def query_context(self, ctx: Context, args: Sequence[driver.NamedValue]) -> MySQLRows:
        return self._conn._query(ctx, self._query, args)

    def query_row_context(
        self, ctx: Context, args: Sequence[driver.NamedValue]
    ) -> tuple[Any, ...] | None:
        """driver.StmtQueryRowContext (beyond Go): see MySQLConn.query_row_context."""
        conn = self._conn
        return conn._first_row(conn._query(ctx, self._query, args))

    def query_row_columns(self) -> list[str]:
        return self._conn.query_row_columns()


def _named(args: Sequence[Any]) -> list[driver.NamedValue]:
    return [driver.NamedValue("", i + 1, v) for i, v in enumerate(args)]


class MySQLResult:
    """The Result of an exec: the last statement's ids and counts; every statement's
    through ``all_rows_affected``/``all_last_insert_ids`` (multiStatements)."""

    __slots__ = ("_affected", "_ids")

    def __init__(self, affected: list[int], ids: list[int]) -> None:
        self._affected = affected
        self._ids = ids

    def __repr__(self) -> str:
        return f"MySQLResult(rows_affected={self._affected}, last_insert_id={self._ids})"

    def last_insert_id(self) -> int:
        return self._ids[-1]

    def rows_affected(self) -> int:
        return self._affected[-1]

    def all_rows_affected(self) -> list[int]:
        return list(self._affected)

    def all_last_insert_ids(self) -> list[int]:
        return list(self._ids)


def _column_names(fields: list[Any], cfg: Config) -> list[str]:
    """The names of a result set's columns (as ``table.column`` with columnsWithAlias)."""
    if cfg.columns_with_alias:
        return [f"{f.table_name}.{f.name}" if f.table_name else f.name for f in fields]
    return [f.name for f in fields]


class MySQLRows:
    """The rows of a query: one buffered result set at a time."""

    def __init__(self, conn: MySQLConn, ctx: Context, res: Any) -> None:
        self._conn = conn
        self._ctx = ctx
        self._closed = False
        self._set(res)

    def _set(self, res: Any) -> None:
        self._res = res
        self._fields: list[Any] = (
            list(getattr(res, "fields", None) or ()) if res.field_count else []
        )
        self._rows: tuple[Any, ...] = res.rows or ()
        self._pos = 0
        self._names: list[str] | None = None
        cfg = self._conn._cfg
        self._attach: list[int] = []
        if cfg.loc is not None and cfg.parse_time:
            self._attach = [
                i
                for i, f in enumerate(self._fields)
                if f.type_code in (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP)
            ]

    def columns(self) -> list[str]:
        names = self._names
        if names is None:
            names = self._names = _column_names(self._fields, self._conn._cfg)
        return names

    def close(self) -> None:
        """Close the rows; result sets not read yet are read and dropped (or, when
        the context has ended, the connection is discarded)."""
        if self._closed:
            return
        self._closed = True
        self._rows = ()
        if not self._pending():
            return
        conn = self._conn
        if self._ctx.err() is not None:
            conn._discard()
            return
        raw = conn._raw

        def drain() -> None:
            while raw._result is self._res and self._res.has_next:
                raw.next_result()
                self._res = raw._result

        conn._call(self._ctx, drain)

    def _pending(self) -> bool:
        raw = self._conn._raw
        return bool(raw.open and raw._result is self._res and self._res.has_next)

    def next(self, dest: list[Any]) -> None:
        if self._pos >= len(self._rows):
            raise EOFError
        row = self._rows[self._pos]
        self._pos += 1
        dest[: len(row)] = row
        if self._attach:
            loc = self._conn._cfg.loc
            for i in self._attach:
                v = dest[i]
                if isinstance(v, datetime.datetime):
                    dest[i] = v.replace(tzinfo=loc)

    def next_batch(self, max_rows: int) -> list[tuple[Any, ...]]:
        """Up to max_rows rows of the result set read when the statement ran (the
        result's own tuples unless DATETIME columns get the DSN's ``loc``); an
        empty list at its end."""
        if max_rows < 1:
            raise ValueError(f"mysql: next_batch needs max_rows >= 1, got {max_rows}")
        rows = self._rows
        pos = self._pos
        if pos >= len(rows):
            return []
        batch = list(rows[pos : pos + max_rows])
        self._pos = pos + len(batch)
        attach = self._attach
        if attach:
            loc = self._conn._cfg.loc

            def put_loc(v: Any) -> Any:
                return v.replace(tzinfo=loc) if isinstance(v, datetime.datetime) else v

            cols: list[Any] = list(zip(*batch, strict=True))
            for i in attach:
                cols[i] = map(put_loc, cols[i])
            batch = list(zip(*cols, strict=True))
        return batch

    def has_next_result_set(self) -> bool:
        return not self._closed and self._pending()

    def next_result_set(self) -> None:
        """Read the next result set that has columns; EOFError if there is none."""
        if self._closed or not self._pending():
            raise EOFError
        raw = self._conn._raw

        def advance() -> Any:
            res = self._res
            while True:
                raw.next_result()
                res = raw._result
                self._res = res
                if res.field_count or not res.has_next:
                    return res

        res = self._conn._call(self._ctx, advance)
        if not res.field_count:
            self._set(res)
            raise EOFError
        self._set(res)

    # -- column types

    def column_type_database_type_name(self, index: int) -> str:
        return _type_name(self._fields[index])

    def column_type_scan_type(self, index: int) -> Any:
        return _scan_type(self._fields[index], self._conn._cfg.parse_time)

    def column_type_length(self, index: int) -> tuple[int, bool]:
        return _length(self._fields[index])

    def column_type_nullable(self, index: int) -> tuple[bool, bool]:
        return not (self._fields[index].flags & FLAG.NOT_NULL), True

    def column_type_precision_scale(self, index: int) -> tuple[int, int, bool]:
        return _precision_scale(self._fields[index])


_DRIVER = MySQLDriver()
_sql.register("mysql", _DRIVER)
