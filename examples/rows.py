"""Go's ExampleRows: iterate rows, then check rows.err(); and the Python shape."""

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
            (name,) = rows.scan(str)
            names.append(name)
        # Check for errors from iterating over rows.
        err = rows.err()
        if err is not None:
            raise err
    print(f"{', '.join(names)} are {age} years old")

    # The same with iteration: each row is a tuple; the rows close at the end and
    # an error met while iterating is raised.
    names = [name for (name,) in db.query("SELECT name FROM users WHERE age=? ORDER BY id", age)]
    print(f"{', '.join(names)} are {age} years old")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
