"""Go's ExampleDB_BeginTx: a serializable transaction that commits."""

from __future__ import annotations

import sys

from _setup import open_sample_db

import dbsql
from dbsql import context


def main() -> int:
    db = open_sample_db()
    ctx = context.background()
    tx = db.begin_tx(ctx, dbsql.TxOptions(isolation=dbsql.LEVEL_SERIALIZABLE))
    id = 37
    try:
        tx.exec("UPDATE users SET status = ? WHERE id = ?", "paid", id)
    except Exception:
        tx.rollback()
        raise
    tx.commit()
    (status,) = db.query_row("SELECT status FROM users WHERE id = ?", id).scan(str)
    print(f"user {id} is {status}")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
