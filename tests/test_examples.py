"""Go's example_test.go, example_cli_test.go and example_service_test.go: each
example is a runnable program under examples/ on the embedded sqlite3 driver,
run here and checked by what it prints (Go's examples only compile; ours run)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> list[str]:
    """Run examples/<name>.py; fail on a non-zero exit; return its output lines."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"{name} exited {proc.returncode}: {proc.stderr}"
    return proc.stdout.splitlines()


def test_example_db_query_context() -> None:
    assert run_example("db_query_context") == ["Gopher, Alice are 27 years old"]


def test_example_db_query_row_context() -> None:
    assert run_example("db_query_row_context") == [
        "username is 'dave', account created on 2018-05-04 13:00:00",
        "no user with id 999",
    ]


def test_example_db_exec_context() -> None:
    assert run_example("db_exec_context") == ["affected 1 row"]


def test_example_db_query_multiple_result_sets() -> None:
    assert run_example("db_query_multiple_result_sets") == [
        "id 37 name is Gopher",
        "id 41 name is Alice",
        "id 47 name is Carol",
        "id 37 has role gopher",
        "id 41 has role user",
        "id 47 has role admin",
    ]


def test_example_db_ping_context() -> None:
    assert run_example("db_ping_context") == ["up"]


def test_example_db_prepare() -> None:
    assert run_example("db_prepare") == ["4 projects"]


def test_example_tx_prepare() -> None:
    assert run_example("tx_prepare") == ["4 projects"]


def test_example_db_begin_tx() -> None:
    assert run_example("db_begin_tx") == ["user 37 is paid"]


def test_example_conn_exec_context() -> None:
    assert run_example("conn_exec_context") == ["balance updated"]


def test_example_tx_exec_context() -> None:
    assert run_example("tx_exec_context") == ["committed"]


def test_example_tx_rollback() -> None:
    out = run_example("tx_rollback")
    assert out[0] == "driver 53 has 2 pickups"
    assert out[1].startswith("rolled back: ")
    assert out[2] == "driver 53 is assigned"


def test_example_stmt() -> None:
    assert run_example("stmt") == ["username is bob"]


def test_example_stmt_query_row_context() -> None:
    assert run_example("stmt_query_row_context") == ["username is bob"]


def test_example_rows() -> None:
    assert run_example("rows") == ["Gopher, Alice are 27 years old"] * 2


def test_example_open_dbcli() -> None:
    assert run_example("open_db_cli", "--sample", "--id", "5") == ["name= Gopher"]
    # Missing arguments are reported with Go's messages and a non-zero exit.
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "open_db_cli.py"), "--sample"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "missing person ID" in proc.stderr


def test_demo() -> None:
    # `make demo`: the main job on the embedded default driver.
    out = run_example("demo")
    assert out[1] == "inserted 1000 people in one transaction"
    assert any(line.startswith("8 workers ran 2000 point queries") for line in out)
    assert "transaction rolled back: person 1 is still 19" in out
    assert any(line.startswith("long query stopped after") for line in out)
    assert "the pool works after the cancel: 1000 people" in out
    assert out[-9:][0].split() == ["max_open_connections", "4"]


def _load_example(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


def test_example_open_db_service() -> None:
    service = _load_example("open_db_service")
    setup = _load_example("_setup")
    import dbsql

    db = dbsql.open("sqlite3", setup.sample_db_path())
    db.set_max_idle_conns(50)
    db.set_max_open_conns(50)
    server = service.make_server(db, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(base + path, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    try:
        assert get("/healthz") == (200, "")
        assert get("/quick-action") == (200, "Gopher")
        status, body = get("/long-action")
        assert status == 200
        assert json.loads(body) == ["Gopher", "Rob"]
        assert get("/async-action") == (200, "")
        (n,) = db.query_row("SELECT count(*) FROM orders WHERE ref = ?", "ABC123").scan(int)
        assert n == 1
        assert get("/nope")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        db.close()


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("[!_]*.py")))
def test_examples_are_listed(name: str) -> None:
    # Every example program has a test above.
    names = {f.removeprefix("test_example_") for f in globals() if f.startswith("test_example_")}
    aliases = {"open_db_cli": "open_dbcli"}
    assert aliases.get(name, name) in names or f"test_{name}" in globals()
