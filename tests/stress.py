"""make stress: run the upstream suite again and again with threads switching
(nearly) at every bytecode, to shake out races.

Each repetition is a separate ``pytest -x`` process with ``DBSQL_SWITCH_INTERVAL``
(read by tests/conftest.py: ``sys.setswitchinterval``), ``DBSQL_RANDOM_SEED`` and
``PYTHONHASHSEED`` set to the repetition's seed; ``--jobs`` repetitions run in
parallel. The run stops at the first failure and prints the repetition, its seed,
the failing test and the command that replays it.

Usage: ``python -m tests.stress [--reps N] [--jobs J] [--interval S] [--seed S]``
(``make stress STRESS_REPS=N``).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The upstream suite: the translated Go tests and the fake driver's.
SUITE = (
    "tests/test_sql.py",
    "tests/test_sql_conn.py",
    "tests/test_sql_pool.py",
    "tests/test_sql_newer.py",
    "tests/test_closemu.py",
    "tests/test_convert.py",
    "tests/test_fakedb.py",
    "tests/driver/",
)


@dataclass
class _Run:
    rep: int
    seed: int
    proc: subprocess.Popen[bytes]
    out: IO[bytes]
    start: float


def _command(extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-rfE",
        "-p",
        "no:cacheprovider",
        *extra,
        *SUITE,
    ]


def _env(interval: float, seed: int) -> dict[str, str]:
    env = dict(os.environ)
    env["DBSQL_SWITCH_INTERVAL"] = repr(interval)
    env["DBSQL_RANDOM_SEED"] = str(seed)
    env["PYTHONHASHSEED"] = str(seed % 4294967296)
    return env


def _replay(interval: float, seed: int, extra: list[str]) -> str:
    return (
        f"DBSQL_SWITCH_INTERVAL={interval!r} DBSQL_RANDOM_SEED={seed} "
        f"PYTHONHASHSEED={seed % 4294967296} " + " ".join(_command(extra))
    )


def _failing_tests(output: str) -> list[str]:
    return [
        line
        for line in output.splitlines()
        if line.startswith(("FAILED ", "ERROR ")) or "Timeout" in line
    ]


def _stop(run: _Run) -> None:
    """End a repetition this runner started (its own process group)."""
    if run.proc.poll() is None:
        try:
            os.killpg(run.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        run.proc.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.stress", description=(__doc__ or "").split("\n")[0]
    )
    ap.add_argument("--reps", type=int, default=int(os.environ.get("STRESS_REPS", "20")))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("STRESS_JOBS", "2")))
    ap.add_argument("--interval", type=float, default=1e-6, help="sys.setswitchinterval (s)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the first repetition")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = ap.parse_args(argv)
    base = args.seed if args.seed is not None else random.randrange(1, 1 << 31)
    extra: list[str] = list(args.pytest_args)
    jobs = max(1, args.jobs)
    print(
        f"stress: {args.reps} repetitions of the upstream suite, {jobs} in parallel, "
        f"switch interval {args.interval:g}s, seeds {base}..{base + args.reps - 1}",
        flush=True,
    )
    started = time.monotonic()
    next_rep = 0
    running: list[_Run] = []
    durations: list[float] = []
    try:
        while next_rep < args.reps or running:
            while next_rep < args.reps and len(running) < jobs:
                seed = base + next_rep
                out = tempfile.TemporaryFile()
                proc = subprocess.Popen(
                    _command(extra),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=_env(args.interval, seed),
                    start_new_session=True,
                    cwd=ROOT,
                )
                running.append(_Run(next_rep + 1, seed, proc, out, time.monotonic()))
                next_rep += 1
            time.sleep(0.05)
            for run in list(running):
                rc = run.proc.poll()
                if rc is None:
                    continue
                running.remove(run)
                took = time.monotonic() - run.start
                run.out.seek(0)
                output = run.out.read().decode("utf-8", "replace")
                run.out.close()
                if rc != 0:
                    print(output[-20000:])
                    print(
                        f"stress: FAILED at repetition {run.rep}/{args.reps} "
                        f"(seed {run.seed}, exit {rc}, {took:.1f}s):"
                    )
                    for line in _failing_tests(output) or ["(no failing test reported)"]:
                        print("  " + line)
                    print("replay: " + _replay(args.interval, run.seed, extra), flush=True)
                    return 1
                durations.append(took)
                lines = output.strip().splitlines()
                summary = lines[-1].strip("= ") if lines else ""
                print(
                    f"stress: repetition {run.rep}/{args.reps} (seed {run.seed}) passed "
                    f"in {took:.1f}s: {summary}",
                    flush=True,
                )
    finally:
        for run in running:
            _stop(run)
    total = time.monotonic() - started
    mean = sum(durations) / len(durations) if durations else 0.0
    print(
        f"stress: {args.reps} repetitions passed in {total:.1f}s "
        f"({mean:.1f}s per repetition, {jobs} in parallel)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
