"""Go's ExampleDB_ExecContext: an UPDATE and its rows affected."""

from __future__ import annotations

import sys

from _setup import open_sample_db

from dbsql import context


def main() -> int:
    db = open_sample_db()
    ctx = context.background()
    id = 47
    result = db.exec_context(
        ctx, "UPDATE balances SET balance = balance + 10 WHERE user_id = ?", id
    )
    rows = result.rows_affected()
    if rows != 1:
        print(f"expected to affect 1 row, affected {rows}", file=sys.stderr)
        return 1
    print(f"affected {rows} row")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
