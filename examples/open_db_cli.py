"""Go's Example_openDBCLI: a command line tool that opens a pool, pings, queries.

Usage: python open_db_cli.py --id 5 [--dsn PATH]   (the DSN also comes from $DSN;
without one, the sample database is made)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from _setup import sample_db_path

import dbsql
from dbsql import context

pool: dbsql.DB  # Database connection pool.


def main(argv: list[str] | None = None) -> int:
    global pool
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--id", type=int, default=0, help="person ID to find")
    parser.add_argument(
        "--dsn", default=os.environ.get("DSN", ""), help="connection data source name"
    )
    parser.add_argument("--sample", action="store_true", help="use a fresh sample database")
    args = parser.parse_args(argv)

    dsn = sample_db_path() if args.sample else args.dsn
    if not dsn:
        print("missing dsn flag", file=sys.stderr)
        return 1
    if args.id == 0:
        print("missing person ID", file=sys.stderr)
        return 1

    # Opening a driver typically will not attempt to connect to the database.
    try:
        pool = dbsql.open("sqlite3", dsn)
    except Exception as err:
        # This will not be a connection error, but a DSN parse error or another
        # initialization error.
        print("unable to use data source name", err, file=sys.stderr)
        return 1
    with pool:
        pool.set_conn_max_lifetime(0)
        pool.set_max_idle_conns(3)
        pool.set_max_open_conns(3)

        ctx, stop = context.with_cancel(context.background())
        try:
            # An interrupt (Ctrl-C) cancels the context, which cancels the query.
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, lambda *_: stop())
            if not ping(ctx):
                return 1
            return query(ctx, args.id)
        finally:
            stop()


def ping(ctx: context.Context) -> bool:
    """Ping the database to verify the DSN provided by the user is valid and the
    server accessible. If the ping fails exit the program with an error."""
    ctx, cancel = context.with_timeout(ctx, 1.0)
    try:
        pool.ping_context(ctx)
    except Exception as err:
        print(f"unable to connect to database: {err}", file=sys.stderr)
        return False
    finally:
        cancel()
    return True


def query(ctx: context.Context, id: int) -> int:
    """Query the database for the information requested and print the results.
    If the query fails exit the program with an error."""
    ctx, cancel = context.with_timeout(ctx, 5.0)
    try:
        (name,) = pool.query_row_context(
            ctx, "select p.name from people as p where p.id = :id;", dbsql.named("id", id)
        ).scan(str)
    except Exception as err:
        print("unable to execute search query", err, file=sys.stderr)
        return 1
    finally:
        cancel()
    print("name=", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
