"""Go's ExampleDB_Query_multipleResultSets: one query text, two result sets."""

from __future__ import annotations

import sys

from _setup import open_sample_db


def main() -> int:
    db = open_sample_db()
    # One connection: the temporary table lives in the session.
    db.set_max_open_conns(1)
    age = 27
    q = """
create temp table uid (id bigint); -- Create temp table for queries.
insert into uid
select id from users where age < ?; -- Populate temp table.

-- First result set.
select
    users.id, name
from
    users
    join uid on users.id = uid.id
;

-- Second result set.
select
    ur.user, ur.role
from
    user_roles as ur
    join uid on uid.id = ur.user
;
"""
    with db.query(q, age + 1) as rows:
        while rows.next():
            id, name = rows.scan(int, str)
            print(f"id {id} name is {name}")
        if not rows.next_result_set():
            print(f"expected more result sets: {rows.err()}", file=sys.stderr)
            return 1
        role_map = {1: "user", 2: "admin", 3: "gopher"}
        while rows.next():
            id, role = rows.scan(int, int)
            print(f"id {id} has role {role_map[role]}")
        err = rows.err()
        if err is not None:
            raise err
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
