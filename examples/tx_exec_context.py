"""Go's ExampleTx_ExecContext: exec in a transaction, rolling back on failure."""

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
        tx.exec_context(ctx, "UPDATE users SET status = ? WHERE id = ?", "paid", id)
    except Exception as exec_err:
        try:
            tx.rollback()
        except Exception as rollback_err:
            print(f"update failed: {exec_err}, unable to rollback: {rollback_err}", file=sys.stderr)
            return 1
        print(f"update failed: {exec_err}", file=sys.stderr)
        return 1
    tx.commit()
    print("committed")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
