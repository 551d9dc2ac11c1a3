"""Go's ExampleTx_Prepare: a statement prepared in a transaction."""

from __future__ import annotations

import sys

from _setup import open_sample_db

import dbsql

PROJECTS = [("tux", 1991), ("duke", 1996), ("gopher", 2009), ("moby dock", 2013)]


def main() -> int:
    db = open_sample_db()
    tx = db.begin()
    try:
        # Statements prepared in a tx are closed with it; closing is still tidy.
        with tx.prepare(
            "INSERT INTO projects(id, mascot, release, category) VALUES( ?, ?, ?, ? )"
        ) as stmt:
            for id, (mascot, release) in enumerate(PROJECTS):
                stmt.exec(id + 1, mascot, release, "open source")
        tx.commit()
    finally:
        # The rollback is ignored if the tx has been committed.
        try:
            tx.rollback()
        except dbsql.TxDoneError:
            pass
    (n,) = db.query_row("SELECT count(*) FROM projects").scan(int)
    print(f"{n} projects")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
