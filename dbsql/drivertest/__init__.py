"""A conformance kit for dbsql drivers, run with pytest against a live database.

Subclass :class:`DriverSuite` in a test module (the class name must start with
``Test`` for pytest to collect it), set ``driver_name`` and ``dsn``, describe the
database's dialect with the hooks, and pytest runs every inherited ``test_*``
method against it::

    import os
    from typing import Any

    import dbsql
    from dbsql.drivertest import DriverSuite

    class TestMyDriver(DriverSuite):
        driver_name = "mydb"                    # as given to dbsql.register
        dsn = os.environ.get("MYDB_TEST_DSN")   # None or "": every test skips
        skip_reason = "MYDB_TEST_DSN is not set: no server to test against"

        placeholder = "$1"                      # the test queries use "?" or "$1"
        blob_type = "BYTEA"
        decimal_type = "NUMERIC(30,10)"
        timestamp_tz_type = "TIMESTAMPTZ"
        supports_multi_result_sets = True
        connection_id_sql = "SELECT pg_backend_pid()"
        isolation_levels = (dbsql.LEVEL_READ_COMMITTED, dbsql.LEVEL_SERIALIZABLE)

        def sleep_query(self, seconds: float) -> str | None:
            return f"SELECT pg_sleep({seconds})"

        def kill_connection_sql(self, conn_id: Any) -> str | None:
            return f"SELECT pg_terminate_backend({int(conn_id)})"

Hooks (class attributes unless called): ``placeholder``; the column types
``int_type``, ``text_type``, ``float_type``, ``blob_type``, ``bool_type``,
``decimal_type`` (precision 30, scale 10), ``timestamp_type``,
``timestamp_tz_type`` and ``autoincrement_pk``; ``large_blob_size``,
``many_query_row_count``; ``supports_last_insert_id``,
``supports_multi_result_sets`` with ``multi_result_query``,
``isolation_levels``, ``unsupported_isolation_levels``,
``current_isolation_sql``, ``supports_read_only``, ``begin_sql``,
``connection_id_sql``; the methods ``sleep_query(seconds)``,
``kill_connection_sql(conn_id)``, ``connection_alive_sql(conn_id)``,
``temp_table_sql(name)``, ``session_var_sql(marker)``, ``series_query(n)``
(:func:`cross_join_series` where recursive CTEs are capped),
``drop_table_sql(name)`` and ``open_db()``. A hook left at None (or a method
returning None) skips the tests that need it, with a reason naming the hook.
Helpers for an author's own tests: ``self.db``, ``self.new_db()``,
``self.q(sql)``, ``self.create_table(columns)``, ``self.table_name()``,
``self.assert_no_leak()``, ``self.assert_usable()``, :func:`wait_for`,
:func:`drain_next` and :func:`drain_batches`. Override
:meth:`DriverSuite.open_db` to open the database some other way than
``dbsql.open(driver_name, dsn)``.

What it checks (each test opens its own DB, uses table names unique to the run,
drops them, and checks that no connection leaked: ``in_use == 0`` and
``open == idle`` once it is done):

* Go's driver suites (bradfitz/go-sql-test): blobs scanned into bytes and str,
  many ``query_row`` calls, a query inside a transaction, a prepared statement
  shared by 10 threads;
* type round trips: NULL in every column type, zero-length and large blobs,
  64-bit int min/max, decimals, floats, booleans, unicode text, timestamps
  with microseconds, time zones;
* cancellation, each raising the context's own error, leaking nothing and
  leaving the pool usable: while waiting for a connection (``max_open`` 1, a
  held connection, a context deadline: ``DeadlineExceeded``, ``wait_count``
  rises), while a statement runs (the sleep query; exec, query, prepared
  statement and in a transaction), while fetching (cancel between ``next``
  calls: ``rows.err()`` is the context's error), before commit (commit raises
  the context's error and the transaction is rolled back), and a context
  already ended;
* session reset: a transaction left open with a plain ``BEGIN``, a temporary
  table or a session variable must not reach the next borrower of a pooled
  connection;
* recovery after the server drops a pooled connection (the kill hook): the next
  query succeeds on a new connection; a held connection that was killed fails
  its query and is discarded;
* pool statistics that add up (``open == in_use + idle``, ``wait_count``,
  ``wait_duration``, ``max_idle_closed``);
* several result sets, rows affected, last insert id, column types (names,
  database type names, nullability, decimal size, length, scan types),
  isolation levels and read-only transactions, errors that leave the pool
  usable, rows closed early;
* beyond Go, the optional batch reads (``driver.RowsNextBatch``) when the
  driver's Rows have them: ``next_batch(size)`` for several sizes gives the
  rows ``next`` gives, in tuples, then stays at the end (an empty list); after
  a ``next``, it hands out the rest; ``next_batch(0)`` raises ValueError; and
  ``for row in rows`` gives the same rows. :func:`drain_next` and
  :func:`drain_batches` read a driver Rows either way, for an author's own
  tests;
* beyond Go, the optional one-call row reads (``driver.QueryerRowContext`` on
  the Conn, ``driver.StmtQueryRowContext`` on a Stmt) when the driver has them:
  ``query_row_context`` gives the first row ``query_context`` and ``next`` give
  (a tuple, or None when there is none; a SkipError declines), its
  ``query_row_columns`` are the Rows' columns, a failing query raises, and
  ``DB.query_row`` gives the same values and leaves the connection in the pool.
"""

from dbsql.drivertest.suite import (
    DriverSuite,
    cross_join_series,
    drain_batches,
    drain_next,
    wait_for,
)

__all__ = ["DriverSuite", "cross_join_series", "drain_batches", "drain_next", "wait_for"]
