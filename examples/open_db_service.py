"""Go's Example_openDBService: an HTTP service sharing one pool between requests.

Usage: python open_db_service.py [--port 8080] [--dsn PATH]
Paths: /healthz, /quick-action, /long-action, /async-action.
"""

from __future__ import annotations

import argparse
import http.server
import json
import sys

from _setup import sample_db_path

import dbsql
from dbsql import context


class Service(http.server.BaseHTTPRequestHandler):
    db: dbsql.DB

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _reply(self, code: int, body: str = "") -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        db = self.db
        # Python's http.server has no request context: each request starts from
        # background (a client hang-up is not seen as a cancel here).
        request_ctx = context.background()
        path = self.path
        if path == "/healthz":
            ctx, cancel = context.with_timeout(request_ctx, 1.0)
            try:
                db.ping_context(ctx)
            except Exception as err:
                self._reply(424, f"db down: {err}")
                return
            finally:
                cancel()
            self._reply(200)
        elif path == "/quick-action":
            # This is a short SELECT. Use the request context as the base of the
            # context timeout.
            ctx, cancel = context.with_timeout(request_ctx, 3.0)
            try:
                id, org = 5, 10
                (name,) = db.query_row_context(
                    ctx,
                    """
select
    p.name
from
    people as p
    join organization as o on p.organization = o.id
where
    p.id = :id
    and o.id = :org
;""",
                    dbsql.named("id", id),
                    dbsql.named("org", org),
                ).scan(str)
            except dbsql.NoRowsError:
                self._reply(404, "not found")
                return
            except Exception as err:
                self._reply(500, str(err))
                return
            finally:
                cancel()
            self._reply(200, name)
        elif path == "/long-action":
            # This is a long SELECT. Use the request context as the base of the
            # context timeout, but give it some time to finish.
            ctx, cancel = context.with_timeout(request_ctx, 60.0)
            try:
                names: list[str] = []
                rows = db.query_context(
                    ctx, "select p.name from people as p where p.active = true;"
                )
                scan_err: Exception | None = None
                while rows.next():
                    try:
                        (name,) = rows.scan(str)
                    except Exception as err:
                        scan_err = err
                        break
                    names.append(name)
                # Check for errors during rows close.
                try:
                    rows.close()
                except Exception as close_err:
                    self._reply(500, str(close_err))
                    return
                # Check for row scan error, then for errors during row iteration.
                err2 = scan_err or rows.err()
                if err2 is not None:
                    self._reply(500, str(err2))
                    return
            finally:
                cancel()
            self._reply(200, json.dumps(names) + "\n")
        elif path == "/async-action":
            # This action has side effects that we want to preserve even if the
            # client cancels the HTTP request part way through: background based.
            ctx, cancel = context.with_timeout(context.background(), 10.0)
            try:
                order_ref = "ABC123"
                tx = db.begin_tx(ctx, dbsql.TxOptions(isolation=dbsql.LEVEL_SERIALIZABLE))
                try:
                    # SQLite has no stored procedures: Go calls "stored_proc_name".
                    tx.exec_context(
                        ctx, "INSERT INTO orders (ref, state) VALUES (?, 'placed')", order_ref
                    )
                except Exception as err:
                    tx.rollback()
                    self._reply(500, str(err))
                    return
                try:
                    tx.commit()
                except Exception:
                    self._reply(500, "action in unknown state, check state before attempting again")
                    return
            finally:
                cancel()
            self._reply(200)
        else:
            self._reply(404, "not found")


def make_server(db: dbsql.DB, port: int = 8080) -> http.server.ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1:port (0 picks a free port) serving Service with db."""
    handler = type("BoundService", (Service,), {"db": db})
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--dsn", default="")
    args = parser.parse_args(argv)
    # Opening a driver typically will not attempt to connect to the database.
    db = dbsql.open("sqlite3", args.dsn or sample_db_path())
    db.set_conn_max_lifetime(0)
    db.set_max_idle_conns(50)
    db.set_max_open_conns(50)
    server = make_server(db, args.port)
    print(f"serving on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
