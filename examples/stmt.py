"""Go's ExampleStmt: create one Stmt, reuse it for each query."""

from __future__ import annotations

import sys

from _setup import open_sample_db

import dbsql
from dbsql import context


def main() -> int:
    db = open_sample_db()
    ctx = context.background()
    # In normal use, create one Stmt when your process starts.
    with db.prepare_context(ctx, "SELECT username FROM users WHERE id = ?") as stmt:
        # Then reuse it each time you need to issue the query.
        id = 43
        try:
            (username,) = stmt.query_row_context(ctx, id).scan(str)
        except dbsql.NoRowsError:
            print(f"no user with id {id}", file=sys.stderr)
            return 1
        print(f"username is {username}")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
