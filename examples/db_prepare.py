"""Go's ExampleDB_Prepare: one prepared INSERT run for several rows."""

from __future__ import annotations

import sys

from _setup import open_sample_db

PROJECTS = [("tux", 1991), ("duke", 1996), ("gopher", 2009), ("moby dock", 2013)]


def main() -> int:
    db = open_sample_db()
    # Prepared statements take up server resources and should be closed after use.
    with db.prepare(
        "INSERT INTO projects(id, mascot, release, category) VALUES( ?, ?, ?, ? )"
    ) as stmt:
        for id, (mascot, release) in enumerate(PROJECTS):
            stmt.exec(id + 1, mascot, release, "open source")
    (n,) = db.query_row("SELECT count(*) FROM projects").scan(int)
    print(f"{n} projects")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
