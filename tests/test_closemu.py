"""Translation of Go's database/sql closemu_test.go: the closingMutex, ported as
``dbsql.sql._ClosingMutex`` (rlock, runlock, lock, unlock, try_rlock; misuse
raises RuntimeError where Go panics).

Go runs these tests in a ``testing/synctest`` bubble, whose ``synctest.Wait``
returns once every goroutine of the bubble is durably blocked. Python has no
such bubble: :class:`_Bubble` starts threads and waits until each of them has
either finished or is parked on one of the mutex's conditions, not yet woken.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import pytest

from dbsql.sql import _ClosingMutex

# How long to wait for a condition before failing (Go's tests rely on the test
# deadline).
_DEADLINE = 10.0
# Poll interval while waiting for threads to settle.
_POLL = 0.0005


def _parked(m: _ClosingMutex) -> int:
    """The number of threads parked on m's conditions and not yet notified.

    Must be called with m._mu held: every thread that waits appends itself to
    its condition's waiter list under m._mu, and notify removes woken ones
    under m._mu too, so the count is exact while the caller holds the lock.
    """
    n = 0
    for cond in (m._read, m._write):
        if cond is not None:
            n += len(cond._waiters)  # type: ignore[attr-defined]
    return n


class _Bubble:
    """A stand-in for a synctest bubble around one closingMutex."""

    def __init__(self, m: _ClosingMutex) -> None:
        self._m = m
        self._threads: list[tuple[threading.Thread, threading.Event]] = []

    def start(self, f: Callable[[], None]) -> Callable[[], bool]:
        """Run f in a new thread; return a function that waits for the bubble to
        settle (Go's synctest.Wait) and reports whether f has returned."""
        done = threading.Event()

        def run() -> None:
            f()
            done.set()

        t = threading.Thread(target=run, daemon=True)
        self._threads.append((t, done))
        t.start()

        def is_done() -> bool:
            self.wait()
            return done.is_set()

        return is_done

    def wait(self) -> None:
        """Go's synctest.Wait: return once every thread started in the bubble has
        finished or is durably blocked in the mutex."""
        deadline = time.monotonic() + _DEADLINE
        while True:
            with self._m._mu:
                running = sum(1 for _, done in self._threads if not done.is_set())
                if _parked(self._m) == running:
                    return
            if time.monotonic() > deadline:
                pytest.fail("threads did not settle: neither finished nor blocked")
            time.sleep(_POLL)

    def join(self) -> None:
        for t, _ in self._threads:
            t.join(_DEADLINE)
            assert not t.is_alive(), "thread still running at the end of the test"


def _must_complete(b: _Bubble, f: Callable[[], None], msg: str) -> None:
    """Call f, which Go's test calls on its own goroutine expecting it to return
    (at once, or once the other goroutines have run): run it in a bubble thread
    so that a wrong block fails the test instead of deadlocking it (a synctest
    bubble reports the deadlock). The mutex has no owner, so a lock taken there
    is released by the test as usual."""
    if not b.start(f)():
        pytest.fail(msg)


def _rlock_without_blocking(b: _Bubble, m: _ClosingMutex) -> None:
    _must_complete(b, m.rlock, "m.rlock(): blocked on a read-locked mutex with a writer waiting")


def test_closing_mutex() -> None:
    m = _ClosingMutex()
    b = _Bubble(m)

    # RLock does not block RLock.
    m.rlock()
    m.rlock()
    m.runlock()
    m.runlock()

    # RLock blocks Lock.
    m.rlock()
    lock1_done = b.start(m.lock)
    if lock1_done():
        pytest.fail("m.lock(): succeeded on rlocked mutex")
    _rlock_without_blocking(b, m)
    m.runlock()
    if lock1_done():
        pytest.fail("m.lock(): succeeded after one runlock, one rlock remains")
    m.runlock()
    if not lock1_done():
        pytest.fail("m.lock(): still blocking after all runlocks")
    m.unlock()

    # Lock blocks RLock.
    _must_complete(b, m.lock, "m.lock(): blocked on an unlocked mutex")
    rlock1_done = b.start(m.rlock)
    rlock2_done = b.start(m.rlock)
    if rlock1_done() or rlock2_done():
        pytest.fail("m.rlock(): succeeded on locked mutex")
    m.unlock()
    if not rlock1_done() or not rlock2_done():
        pytest.fail("m.rlock(): still blocking after unlock")
    m.runlock()
    m.runlock()

    # Lock blocks Lock.
    _must_complete(b, m.lock, "m.lock(): blocked on an unlocked mutex")
    lock2_done = b.start(m.lock)
    if lock2_done():
        pytest.fail("m.lock(): succeeded on locked mutex")
    m.unlock()
    if not lock2_done():
        pytest.fail("m.lock(): still blocking after unlock")
    m.unlock()

    # Lock on RLocked mutex does not block RLock.
    m.rlock()
    lock3_done = b.start(m.lock)
    if lock3_done():
        pytest.fail("m.lock(): succeeded on rlocked mutex")
    _rlock_without_blocking(b, m)
    m.runlock()
    m.runlock()
    if not lock3_done():
        pytest.fail("m.lock(): still blocking after runlock")
    m.unlock()

    b.join()


def test_closing_mutex_lock_starvation() -> None:
    # Run this test for a few iterations, to avoid racy successes.
    for _ in range(100):
        m = _ClosingMutex()
        b = _Bubble(m)

        # With the mutex rlocked, try to lock it. lock blocks.
        m.rlock()
        locked = threading.Event()

        def lock_unlock(m: _ClosingMutex = m, locked: threading.Event = locked) -> None:
            m.lock()
            locked.set()
            m.unlock()

        b.start(lock_unlock)
        b.wait()
        assert not locked.is_set(), "lock acquired while mutex is rlocked"

        # Add and drop another rlock. lock is still blocking.
        _rlock_without_blocking(b, m)
        m.runlock()
        assert not locked.is_set(), "lock acquired while mutex is double-rlocked"

        # Drop and reacquire the rlock. The blocking lock should always acquire
        # the mutex before the rlock succeeds.
        m.runlock()
        _must_complete(b, m.rlock, "m.rlock(): still blocking after the writer unlocked")
        assert locked.is_set(), "lock not acquired when rlock dropped"
        m.runlock()
        b.join()


def test_closing_mutex_lock_r_lock_race() -> None:
    # Race lock against readers entering and leaving. A stale state in lock can
    # leave the mutex unlocked with a writer waiting and no reader remaining to
    # wake the writer (Go's "state 1"), at which point the writer will never
    # finish (Go issue 81043).
    # Go sets GOMAXPROCS(2) so that the writer and the readers run in parallel.
    # Python threads interleave only at switch points: make those as frequent
    # as possible for the duration of the race.
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _lock_rlock_race()
    finally:
        sys.setswitchinterval(old_interval)


def _lock_rlock_race() -> None:
    m = _ClosingMutex()
    done = threading.Event()

    def writer() -> None:
        try:
            for _ in range(10_000):
                m.lock()
                m.unlock()
        finally:
            done.set()

    t = threading.Thread(target=writer, daemon=True)
    t.start()

    # Yield after each reader attempt so the writer can run (Go's
    # runtime.Gosched is time.sleep(0) here).
    for _ in range(100_000):
        if done.is_set():
            break
        if m.try_rlock():
            m.runlock()
        time.sleep(0)

    if not done.wait(60):
        with m._mu:
            state1 = m._readers == 0 and not m._writer and m._writers_waiting > 0
            state = (m._readers, m._writer, m._writers_waiting)
        if state1:
            pytest.fail("lock left the mutex unlocked, a writer waiting, and no reader to wake it")
        pytest.fail(
            f"lock did not complete within one minute; (readers, writer, writers_waiting) = {state}"
        )
    t.join(_DEADLINE)


def _double_runlock() -> None:
    m = _ClosingMutex()
    m.rlock()
    m.runlock()
    m.runlock()


def _double_unlock() -> None:
    m = _ClosingMutex()
    m.lock()
    m.unlock()
    m.unlock()


def test_closing_mutex_panics() -> None:
    # Go's panics are RuntimeErrors carrying Go's panic text.
    tests: list[tuple[str, Callable[[], None], str]] = [
        ("double runlock", _double_runlock, "runlock of un-rlocked mutex"),
        ("double unlock", _double_unlock, "unlock of unlocked mutex"),
    ]
    for name, f, msg in tests:
        with pytest.raises(RuntimeError) as ei:
            f()
        assert str(ei.value) == msg, f"{name}: got {ei.value!r}, want {msg!r}"
