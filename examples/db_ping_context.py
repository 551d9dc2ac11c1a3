"""Go's ExampleDB_PingContext: is the database reachable within a second?"""

from __future__ import annotations

import sys

from _setup import open_sample_db

from dbsql import context


def main() -> int:
    # ping and ping_context may be used to determine if communication with the
    # database server is still possible: in a command line application to check
    # the DSN, in a long running service as part of health checking.
    db = open_sample_db()
    ctx, cancel = context.with_timeout(context.background(), 1.0)
    try:
        status = "up"
        try:
            db.ping_context(ctx)
        except Exception:
            status = "down"
        print(status)
    finally:
        cancel()
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
