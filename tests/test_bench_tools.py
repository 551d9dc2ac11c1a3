"""The benchmark tools that explain the misses of issue 5: the instruction counts
(benchmarks/instructions.py) and W6's one-CPU rows (benchmarks/workloads.py).
The measurements themselves run in ``make bench``; here, that the cases run and
measure what they say."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from benchmarks import instructions, workloads


@pytest.mark.parametrize("case", list(instructions.CASES))
def test_instruction_cases_run(case: str) -> None:
    # Every case runs its operation (the counts need valgrind; make bench runs them).
    instructions.child(case, 5)


def test_instruction_case_baselines_are_cases() -> None:
    for case, (base, text) in instructions.CASES.items():
        assert base in instructions.CASES, case
        assert text.startswith(("W1", "W2", "W4", "W5")), text


def test_instruction_count_parses_callgrind(monkeypatch: pytest.MonkeyPatch) -> None:
    class Done:
        returncode = 0
        stderr = "==1== Events    : Ir\n==1== Collected : 123456\n"

    seen: list[list[str]] = []

    def run(cmd: list[str], **kw: Any) -> Done:
        seen.append(cmd)
        return Done()

    monkeypatch.setattr("benchmarks.instructions.subprocess.run", run)
    assert instructions.count("valgrind", "raw", 10) == 123456
    assert seen[0][:3] == ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    assert seen[0][-3:] == ["--child", "raw", "10"]

    Done.returncode = 1
    with pytest.raises(RuntimeError, match="callgrind run of raw failed"):
        instructions.count("valgrind", "raw", 10)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="os.sched_setaffinity is Linux's")
def test_one_cpu_pins_each_worker_thread_only() -> None:
    main_cpus = os.sched_getaffinity(0)
    seen: list[set[int]] = []

    def make() -> tuple[Any, Any]:
        def factory() -> tuple[Any, Any]:
            seen.append(os.sched_getaffinity(0))
            return (lambda: -1.0), (lambda: None)

        return factory, (lambda: None)

    factory, close = workloads._on_one_cpu(make)()
    t = threading.Thread(target=factory)
    t.start()
    t.join()
    close()
    assert seen == [{min(main_cpus)}]
    assert os.sched_getaffinity(0) == main_cpus  # the calling thread is left as it was
