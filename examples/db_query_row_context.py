"""Go's ExampleDB_QueryRowContext: one row, with NoRowsError for a missing one."""

from __future__ import annotations

import datetime
import sys

from _setup import open_sample_db

import dbsql
from dbsql import context


def lookup(db: dbsql.DB, ctx: context.Context, id: int) -> None:
    try:
        username, created = db.query_row_context(
            ctx, "SELECT username, created_at FROM users WHERE id=?", id
        ).scan(str, datetime.datetime)
    except dbsql.NoRowsError:
        print(f"no user with id {id}")
    else:
        print(f"username is {username!r}, account created on {created}")


def main() -> int:
    db = open_sample_db()
    ctx = context.background()
    lookup(db, ctx, 123)
    lookup(db, ctx, 999)
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
