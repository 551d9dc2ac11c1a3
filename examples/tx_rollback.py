"""Go's ExampleTx_Rollback: two updates in a transaction; any failure rolls back.

The ``with`` form does the same: it commits on a clean exit and rolls back (and
re-raises) on an exception.
"""

from __future__ import annotations

import sys

from _setup import open_sample_db

import dbsql
from dbsql import context


def main() -> int:
    db = open_sample_db()
    ctx = context.background()
    id = 53
    with db.begin_tx(ctx, dbsql.TxOptions(isolation=dbsql.LEVEL_SERIALIZABLE)) as tx:
        tx.exec_context(ctx, "UPDATE drivers SET status = ? WHERE id = ?;", "assigned", id)
        tx.exec_context(ctx, "UPDATE pickups SET driver_id = ?;", id)
    (n,) = db.query_row("SELECT count(*) FROM pickups WHERE driver_id = ?", id).scan(int)
    print(f"driver {id} has {n} pickups")

    # A failing statement rolls the whole transaction back.
    try:
        with db.begin_tx(ctx) as tx:
            tx.exec_context(ctx, "UPDATE drivers SET status = ? WHERE id = ?;", "off", id)
            tx.exec_context(ctx, "UPDATE no_such_table SET x = 1")
    except Exception as err:
        print(f"rolled back: {type(err).__name__}")
    (status,) = db.query_row("SELECT status FROM drivers WHERE id = ?", id).scan(str)
    print(f"driver {id} is {status}")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
