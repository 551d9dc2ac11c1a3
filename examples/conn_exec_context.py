"""Go's ExampleConn_ExecContext: reserve one connection of the pool for exclusive use."""

from __future__ import annotations

import sys

from _setup import open_sample_db

from dbsql import context


def main() -> int:
    db = open_sample_db()
    ctx = context.background()
    # A DB is a pool of connections. Call conn to reserve a connection for
    # exclusive use; the with block returns it to the pool.
    with db.conn(ctx) as conn:
        id = 41
        result = conn.exec_context(
            ctx, "UPDATE balances SET balance = balance + 10 WHERE user_id = ?;", id
        )
        rows = result.rows_affected()
        if rows != 1:
            print(f"expected single row affected, got {rows} rows affected", file=sys.stderr)
            return 1
    print("balance updated")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
