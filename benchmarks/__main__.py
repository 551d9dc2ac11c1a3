"""Run the benchmarks: ``python -m benchmarks`` (``make bench``).

Every function ``benchmark_*`` of the modules ``benchmarks/*.py`` is run with an
adaptive iteration count n (as Go's testing package does: n grows until one run
lasts at least the bench time) and reported in µs per iteration. When a Go
toolchain is available (``../shared/tools/upstream-src --go``, which may install
it), Go's own benchmarks of the same names are run too, with
``go test database/sql -bench``, and shown beside ours with the ratio ours/Go.

The Go name of ``benchmark_concurrent_db_exec`` is found by turning each
``Benchmark*`` function of Go's database/sql test files into snake case the way
``../shared/tools/parity`` does (``BenchmarkConcurrentDBExec`` ->
``benchmark_concurrent_db_exec``), so acronyms such as DB map back exactly.

Options: ``-b/--bench REGEX`` runs only the benchmarks whose Python or Go name
matches; ``-t/--benchtime SECONDS`` is the target time of each (default 0.5);
``--no-go`` skips Go.

Then the workloads of issue 5 (benchmarks/workloads.py: dbsql beside the raw
driver and the pools a user would pick, on SQLite and, when
``DBSQL_TEST_POSTGRES_DSN`` is set, PostgreSQL) print a second table. Their
options: ``--db``, ``-w/--workloads``, ``--repeats``, ``--quick`` (as
``python -m benchmarks.workloads`` takes them); ``--no-workloads`` skips them and
``--workloads-only`` skips the Go benchmarks' table.

Last, when valgrind is installed, instructions per operation of W1 and W2's
cases, counted by callgrind (benchmarks/instructions.py: the same count on every
run, where the times above move by tens of percent on a shared machine);
``--no-instructions`` skips them, as does ``--quick``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
import platform
import re
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.wl_measure import grow

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_SRC = ROOT.parent / "shared" / "tools" / "upstream-src"
GO_PACKAGE = "database/sql"

# Go's common initialisms, for naming a benchmark Go does not have.
_INITIALISMS = {"db": "DB", "id": "ID", "sql": "SQL", "url": "URL", "uuid": "UUID", "api": "API"}


@dataclass
class Bench:
    name: str  # benchmark_concurrent_db_exec
    module: str  # benchmarks.bench_sql
    fn: Callable[[int], object]
    go_name: str = ""  # BenchmarkConcurrentDBExec
    n: int = 0
    us_per_op: float | None = None
    error: str = ""
    go_n: int = 0
    go_us_per_op: float | None = None


def snake(word: str) -> str:
    """CamelCase to snake_case, as ../shared/tools/parity does."""
    parts = []
    for part in word.split("_"):
        part = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", part)
        parts.append(part.lower())
    return "_".join(p for p in parts if p)


def guess_go_name(py_name: str) -> str:
    """benchmark_concurrent_db_exec -> BenchmarkConcurrentDBExec, without Go's list."""
    words = py_name.removeprefix("benchmark_").split("_")
    return "Benchmark" + "".join(_INITIALISMS.get(w, w[:1].upper() + w[1:]) for w in words)


def discover() -> tuple[list[Bench], list[str]]:
    """The benchmark_* functions of benchmarks/*.py, module by module in the
    order they are defined; and the modules that failed to import."""
    import benchmarks

    found: list[Bench] = []
    broken: list[str] = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        modname = f"benchmarks.{info.name}"
        try:
            mod = importlib.import_module(modname)
        except Exception:
            broken.append(f"{modname}: {traceback.format_exc(limit=3)}")
            continue
        fns = [
            (obj.__code__.co_firstlineno, name, obj)
            for name, obj in vars(mod).items()
            if name.startswith("benchmark_")
            and inspect.isfunction(obj)
            and obj.__module__ == modname
        ]
        for _, name, fn in sorted(fns, key=lambda f: f[0]):
            found.append(Bench(name, modname, fn, guess_go_name(name)))
    return found, broken


def time_benchmark(fn: Callable[[int], object], benchtime: float) -> tuple[int, float]:
    """Run fn(n) with n growing as Go's testing.B does, until one run lasts at
    least benchtime seconds; return that n and the seconds per iteration."""
    return grow(fn, benchtime, 1_000_000_000)


# ---- Go ----


def find_go() -> tuple[str | None, str]:
    """The go binary from upstream-src --go (which may install it), or None and why."""
    if not UPSTREAM_SRC.exists():
        return None, f"{UPSTREAM_SRC} not found"
    try:
        p = subprocess.run([str(UPSTREAM_SRC), "--go"], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"upstream-src --go failed: {e}"
    go = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    if p.returncode != 0 or not go or not os.access(go, os.X_OK):
        why = (p.stderr or p.stdout).strip() or f"exit status {p.returncode}"
        return None, f"upstream-src --go failed: {why}"
    return go, ""


def go_env() -> dict[str, str]:
    """The environment for go: a writable build cache, no inherited GOFLAGS, and
    the local toolchain only."""
    env = dict(os.environ)
    tmp = Path(tempfile.gettempdir())
    if not env.get("GOCACHE"):
        env["GOCACHE"] = str(tmp / "dbsql-bench-gocache")
    if not env.get("GOPATH"):
        env["GOPATH"] = str(tmp / "dbsql-bench-gopath")
    env["GOFLAGS"] = ""
    env["GOTOOLCHAIN"] = "local"
    return env


def go_benchmark_names(go: str, env: dict[str, str]) -> tuple[list[str], str]:
    """The Benchmark* functions of Go's database/sql test files, and its version."""
    p = subprocess.run(
        [go, "env", "GOROOT", "GOVERSION"], capture_output=True, text=True, env=env, timeout=60
    )
    lines = p.stdout.split()
    if p.returncode != 0 or len(lines) < 2:
        return [], ""
    goroot, version = lines[0], lines[1]
    names: list[str] = []
    for f in sorted((Path(goroot) / "src" / GO_PACKAGE).glob("*_test.go")):
        names += re.findall(r"^func (Benchmark\w+)\(b \*testing\.B\)", f.read_text(), re.M)
    return names, version


_GO_LINE = re.compile(r"^(Benchmark\w+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op")


def run_go(
    go: str, env: dict[str, str], names: list[str], benchtime: float
) -> tuple[dict[str, tuple[int, float]], str]:
    """Run Go's benchmarks names; return {name: (n, µs/op)} and a note if it failed."""
    cmd = [
        go,
        "test",
        GO_PACKAGE,
        "-run",
        "^$",
        "-bench",
        "^(" + "|".join(names) + ")$",
        "-benchtime",
        f"{benchtime}s",
        "-count",
        "1",
    ]
    print(f"running Go: {' '.join(cmd)}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="dbsql-bench-") as cwd:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as e:
            return {}, f"go test failed: {e}"
    results: dict[str, tuple[int, float]] = {}
    for line in p.stdout.splitlines():
        m = _GO_LINE.match(line)
        if m:
            results[m.group(1)] = (int(m.group(2)), float(m.group(3)) / 1000)
    note = ""
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-10:])
        note = f"go test exited with status {p.returncode}:\n{tail}"
    return results, note


# ---- report ----


def fmt_us(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f}"


def print_table(benches: list[Bench], with_go: bool) -> None:
    headers = ["benchmark", "module", "n", "µs/op"]
    if with_go:
        headers += ["Go benchmark", "Go n", "Go µs/op", "ours/Go"]
    rows: list[list[str]] = []
    for b in benches:
        row = [b.name, b.module.removeprefix("benchmarks."), str(b.n or "-"), fmt_us(b.us_per_op)]
        if b.error:
            row[3] = "FAILED"
        if with_go:
            ratio = "-"
            if b.us_per_op is not None and b.go_us_per_op:
                ratio = f"{b.us_per_op / b.go_us_per_op:.2f}"
            go_name = b.go_name if b.go_us_per_op is not None else f"({b.go_name})"
            row += [go_name, str(b.go_n or "-"), fmt_us(b.go_us_per_op), ratio]
        rows.append(row)
    right = {"n", "µs/op", "Go n", "Go µs/op", "ours/Go"}
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if h in right else c.ljust(w)
            for c, w, h in zip(cells, widths, headers, strict=True)
        ).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    ap.add_argument("-b", "--bench", default=".", help="regex of the benchmarks to run")
    ap.add_argument("-t", "--benchtime", type=float, default=0.5, help="seconds per benchmark")
    ap.add_argument("--no-go", action="store_true", help="do not run Go's benchmarks")
    wl = ap.add_argument_group("workloads (benchmarks/workloads.py)")
    wl.add_argument("--no-workloads", action="store_true", help="do not run the workloads")
    wl.add_argument("--workloads-only", action="store_true", help="run only the workloads")
    wl.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    wl.add_argument("-w", "--workloads", default="", help="e.g. W1,W5 (default: all)")
    wl.add_argument("--repeats", type=int, default=0, help="default 5 (3 with --quick)")
    wl.add_argument("--quick", action="store_true", help="short workload runs")
    ap.add_argument(
        "--no-instructions",
        action="store_true",
        help="skip the instruction counts (benchmarks/instructions.py, needs valgrind)",
    )
    args = ap.parse_args(argv)

    status = 0 if args.workloads_only else run_go_table(args)
    if not args.no_workloads:
        from benchmarks import workloads

        wl_argv = ["--db", args.db, "--repeats", str(args.repeats)]
        if args.workloads:
            wl_argv += ["-w", args.workloads]
        if args.quick:
            wl_argv.append("--quick")
        status |= workloads.main(wl_argv)
    if not args.no_instructions and not args.quick:
        from benchmarks import instructions

        status |= instructions.main([])
    return status


def run_go_table(args: argparse.Namespace) -> int:
    """The table of the ported Go benchmarks (beside Go's own, when Go is found)."""
    pattern = re.compile(args.bench)

    benches, broken = discover()

    go: str | None = None
    go_note = "Go skipped (--no-go)"
    env = go_env()
    go_version = ""
    by_snake: dict[str, str] = {}
    if not args.no_go:
        go, go_note = find_go()
        if go is not None:
            go_names, go_version = go_benchmark_names(go, env)
            by_snake = {"benchmark_" + snake(g.removeprefix("Benchmark")): g for g in go_names}
            for b in benches:
                b.go_name = by_snake.get(b.name, b.go_name)

    benches = [b for b in benches if pattern.search(b.name) or pattern.search(b.go_name)]

    print(
        f"dbsql benchmarks: Python {platform.python_version()} ({platform.python_implementation()}),"
        f" {os.cpu_count()} CPUs, bench time {args.benchtime}s"
        + (f", Go {go_version}" if go_version else ""),
        flush=True,
    )
    for msg in broken:
        print(f"could not import {msg}", file=sys.stderr)

    failed = bool(broken)
    for b in benches:
        print(f"running {b.name} ...", file=sys.stderr, flush=True)
        try:
            b.n, per_op = time_benchmark(b.fn, args.benchtime)
            b.us_per_op = per_op * 1e6
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            b.error = f"{e!r}"
            failed = True
            print(f"{b.name} FAILED:\n{traceback.format_exc()}", file=sys.stderr)

    if go is not None:
        known = set(by_snake.values())
        wanted = [b.go_name for b in benches if b.go_name in known]
        if wanted:
            results, note = run_go(go, env, wanted, args.benchtime)
            for b in benches:
                if b.go_name in results:
                    b.go_n, b.go_us_per_op = results[b.go_name]
            go_note = note
        else:
            go_note = f"none of these benchmarks exists in Go {go_version}"

    print()
    print_table(benches, with_go=go is not None)
    missing = [b.go_name for b in benches if go is not None and b.go_us_per_op is None]
    if missing and not go_note:
        print(f"\nno Go result for: {', '.join(missing)} (not in Go {go_version}'s {GO_PACKAGE})")
    if go_note:
        print(f"\nnote: {go_note}")
    for b in benches:
        if b.error:
            print(f"\n{b.name} failed: {b.error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
