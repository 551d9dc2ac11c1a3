"""Go's ExampleDB_QueryContext: query rows with a context, scan each, check errors."""

from __future__ import annotations

import sys

from _setup import open_sample_db

from dbsql import context


def main() -> int:
    db = open_sample_db()
    ctx = context.background()
    age = 27
    with db.query_context(ctx, "SELECT name FROM users WHERE age=? ORDER BY id", age) as rows:
        names: list[str] = []
        while rows.next():
            # A scan error raises; the rows are closed by the with block.
            (name,) = rows.scan(str)
            names.append(name)
        # If the database is being written to ensure to check for close errors
        # that may be raised by the driver.
        rows.close()
        # rows.err() reports the last error encountered while iterating.
        err = rows.err()
        if err is not None:
            raise err
    print(f"{', '.join(names)} are {age} years old")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
