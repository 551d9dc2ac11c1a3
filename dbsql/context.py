"""Go's ``context`` package, as dbsql needs it.

A :class:`Context` carries a deadline, a cancellation signal, and other
request-scoped values across API boundaries. Contexts are safe for simultaneous
use by multiple threads.

Go to Python:

* ``ctx.Done()`` is :meth:`Context.done`: a :class:`Done` with ``wait(timeout)``
  and ``is_set()`` (the ``Done`` of :func:`background` and :func:`todo` never fires);
* ``ctx.Deadline()`` is :meth:`Context.deadline`: a :func:`time.monotonic` value or None;
* ``ctx.Err()`` is :meth:`Context.err`: None, a :class:`Canceled` or a
  :class:`DeadlineExceeded` instance (``errors.Is`` is ``isinstance``);
* ``time.Duration`` is float seconds (or a :class:`datetime.timedelta`), ``time.Time``
  a :class:`datetime.datetime` (or a monotonic float);
* where Go starts a goroutine (``AfterFunc``'s ``f``, ``time.AfterFunc`` for
  deadlines) a small set of shared daemon threads does the work: one timer thread
  for every deadline, and a worker pool for :func:`after_func` callbacks that grows
  only while all its workers are blocked inside callbacks.
"""

from __future__ import annotations

import abc
import datetime
import heapq
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeAlias

__all__ = [
    "CancelCauseFunc",
    "CancelFunc",
    "Canceled",
    "Context",
    "ContextError",
    "DeadlineExceeded",
    "Done",
    "after_func",
    "background",
    "cause",
    "todo",
    "with_cancel",
    "with_cancel_cause",
    "with_deadline",
    "with_deadline_cause",
    "with_timeout",
    "with_timeout_cause",
    "with_value",
    "without_cancel",
]


# ---------------------------------------------------------------------------
# Done: Go's <-chan struct{}.


class Done:
    """A waitable that fires once, when its context is done (Go's ``<-chan struct{}``).

    ``wait(timeout)`` blocks until the context is done or *timeout* seconds have
    passed and returns whether it is done; ``is_set()`` tells without blocking.
    The ``Done`` of :func:`background` and :func:`todo` never fires.
    """

    __slots__ = ("_mu", "_latch", "_set", "_callbacks")

    def __init__(self) -> None:
        self._mu = threading.Lock()
        # _latch is held until the Done fires; each waiter takes it and passes it on.
        self._latch = threading.Lock()
        self._latch.acquire()
        self._set = False  # set once, under _mu, before _latch is released
        self._callbacks: dict[Callable[[], None], None] | None = None  # under _mu

    def is_set(self) -> bool:
        """Report whether the context is done, without blocking."""
        return self._set

    def wait(self, timeout: float | datetime.timedelta | None = None) -> bool:
        """Block until done or *timeout* (seconds; None: no limit); return :meth:`is_set`."""
        if self._set:
            return True
        if isinstance(timeout, datetime.timedelta):
            timeout = timeout.total_seconds()
        if timeout is None:
            self._latch.acquire()
        elif timeout <= 0:
            return self._set
        elif not self._latch.acquire(timeout=min(timeout, threading.TIMEOUT_MAX)):
            return self._set
        self._latch.release()
        return True

    def __repr__(self) -> str:
        return f"<Done set={self._set}>"

    def _close(self) -> list[Callable[[], None]]:
        """Fire; return the callbacks to run (the caller runs them on the executor)."""
        with self._mu:
            if self._set:
                return []
            self._set = True
            cbs = self._callbacks
            self._callbacks = None
        self._latch.release()
        return list(cbs) if cbs else []

    def _add_callback(self, f: Callable[[], None]) -> bool:
        """Arrange for f to run when the Done fires; False if it has already fired."""
        with self._mu:
            if self._set:
                return False
            if self._callbacks is None:
                self._callbacks = {}
            self._callbacks[f] = None
            return True

    def _remove_callback(self, f: Callable[[], None]) -> bool:
        """Undo :meth:`_add_callback`; True if f was still waiting."""
        with self._mu:
            if self._callbacks is None or f not in self._callbacks:
                return False
            del self._callbacks[f]
            return True


_NEVER = Done()  # the Done of a context that is never canceled (Go's nil channel)
_CLOSED = Done()  # a reusable fired Done (Go's closedchan)
_CLOSED._close()


# ---------------------------------------------------------------------------
# Shared threads: one timer thread (Go's runtime timers) and an after_func pool.


def _report(exc: BaseException) -> None:
    """Report an exception raised by a callback on a shared thread."""
    threading.excepthook(
        threading.ExceptHookArgs((type(exc), exc, exc.__traceback__, threading.current_thread()))
    )


class _Timer:
    """One pending call on the shared timer thread (Go's ``*time.Timer``)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn: Callable[[], None] | None = fn  # None once fired or stopped; under queue lock


_COMPACT_MIN = 256  # stopped entries tolerated in the heap before it is rebuilt


class _TimerQueue:
    """A heap of deadlines served by one lazily started daemon thread."""

    __slots__ = ("_mu", "_cond", "_heap", "_seq", "_dead", "_thread")

    def __init__(self, heap: list[tuple[float, int, _Timer]] | None = None, seq: int = 0) -> None:
        self._mu = threading.Lock()
        self._cond = threading.Condition(self._mu)
        self._heap: list[tuple[float, int, _Timer]] = heap if heap is not None else []
        self._seq = seq
        self._dead = 0  # entries in _heap whose timer was stopped
        self._thread: threading.Thread | None = None

    def after(self, when: float, fn: Callable[[], None]) -> _Timer:
        """Call fn on the timer thread once time.monotonic() reaches *when*."""
        t = _Timer(fn)
        with self._mu:
            self._seq += 1
            heapq.heappush(self._heap, (when, self._seq, t))
            if self._thread is None:
                self._start()
            elif self._heap[0][2] is t:
                self._cond.notify()
        return t

    def stop(self, t: _Timer) -> bool:
        """Prevent t from firing; True if it had not fired yet."""
        with self._mu:
            if t.fn is None:
                return False
            t.fn = None
            self._dead += 1
            # Stopped entries are dropped lazily; rebuild once they are the majority
            # so that the heap does not grow with contexts that were canceled early.
            if self._dead > _COMPACT_MIN and 2 * self._dead > len(self._heap):
                self._heap = [e for e in self._heap if e[2].fn is not None]
                heapq.heapify(self._heap)
                self._dead = 0
            return True

    def _start(self) -> None:
        th = threading.Thread(target=self._run, name="dbsql-context-timer", daemon=True)
        self._thread = th
        th.start()

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                fn: Callable[[], None] | None = None
                while fn is None:
                    heap = self._heap
                    if not heap:
                        cond.wait()
                        continue
                    when, _, t = heap[0]
                    if t.fn is None:
                        heapq.heappop(heap)
                        self._dead -= 1
                        continue
                    now = time.monotonic()
                    if when > now:
                        cond.wait(min(when - now, threading.TIMEOUT_MAX))
                        continue
                    heapq.heappop(heap)
                    fn, t.fn = t.fn, None
            try:
                fn()
            except BaseException as e:  # a timer must not kill the thread
                _report(e)

    def _forked(self) -> _TimerQueue:
        """The queue for a forked child: same pending timers, fresh lock and thread."""
        q = _TimerQueue([e for e in self._heap if e[2].fn is not None], self._seq)
        heapq.heapify(q._heap)
        if q._heap:
            q._start()
        return q


_STALL = 0.02  # seconds without progress after which the pool adds a worker
_IDLE_EXIT = 30.0  # seconds an extra worker stays idle before it exits


class _Executor:
    """Runs after_func callbacks off the canceller's stack (Go's ``go f()``).

    One resident worker normally does all the work. A callback that blocks must
    not hold up the others (Go runs each in its own goroutine), so while tasks
    are queued a watchdog on the timer thread checks for progress and adds a
    worker when every worker is stuck; extra workers exit when idle.
    """

    __slots__ = ("_cond", "_tasks", "_workers", "_idle", "_progress", "_mark", "_watching")

    def __init__(self, tasks: deque[Callable[[], None]] | None = None) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._tasks: deque[Callable[[], None]] = tasks if tasks is not None else deque()
        self._workers = 0
        self._idle = 0  # workers waiting for a task
        self._progress = 0  # tasks taken so far
        self._mark = 0  # _progress when the watchdog was armed
        self._watching = False

    def submit(self, f: Callable[[], None]) -> None:
        """Run f soon on a pool thread."""
        spawn = arm = False
        with self._cond:
            self._tasks.append(f)
            if self._idle > 0:
                self._cond.notify()
            elif self._workers == 0:
                self._workers += 1
                spawn = True
            if not self._watching:
                self._watching = arm = True
                self._mark = self._progress
        if spawn:
            self._spawn()
        if arm:
            _timers.after(time.monotonic() + _STALL, self._check)

    def _check(self) -> None:
        spawn = False
        with self._cond:
            if not self._tasks:
                self._watching = False
                return
            if self._progress == self._mark and self._idle == 0:
                # Every worker is inside a callback that has not returned.
                self._workers += 1
                spawn = True
            self._mark = self._progress
        if spawn:
            self._spawn()
        _timers.after(time.monotonic() + _STALL, self._check)

    def _spawn(self) -> None:
        th = threading.Thread(target=self._work, name="dbsql-context-afterfunc", daemon=True)
        th.start()

    def _work(self) -> None:
        cond = self._cond
        cond.acquire()
        try:
            while True:
                while not self._tasks:
                    self._idle += 1
                    start = time.monotonic()
                    cond.wait(_IDLE_EXIT)
                    self._idle -= 1
                    if (
                        not self._tasks
                        and self._workers > 1
                        and time.monotonic() - start >= _IDLE_EXIT
                    ):
                        self._workers -= 1
                        return
                f = self._tasks.popleft()
                self._progress += 1
                cond.release()
                try:
                    f()
                except BaseException as e:  # a callback must not kill the pool
                    _report(e)
                finally:
                    del f
                    cond.acquire()
        finally:
            cond.release()

    def _forked(self) -> _Executor:
        """The pool for a forked child: same queued tasks, fresh lock and threads."""
        ex = _Executor(deque(self._tasks))
        if ex._tasks:
            ex._workers = 1
            ex._watching = True
            ex._spawn()
            _timers.after(time.monotonic() + _STALL, ex._check)
        return ex


_timers = _TimerQueue()
_executor = _Executor()


def _after_fork_in_child() -> None:
    global _timers, _executor
    _timers = _timers._forked()
    _executor = _executor._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ---------------------------------------------------------------------------
# The Context interface.


class Context(abc.ABC):
    """A Context carries a deadline, a cancellation signal, and other values across
    API boundaries. Its methods may be called by multiple threads simultaneously.
    """

    __slots__ = ()

    @abc.abstractmethod
    def deadline(self) -> float | None:
        """The :func:`time.monotonic` time when work done on behalf of this context
        should be canceled, or None when no deadline is set. Successive calls return
        the same result."""

    @abc.abstractmethod
    def done(self) -> Done:
        """A :class:`Done` that fires when work done on behalf of this context should
        be canceled. It never fires if this context can never be canceled. Successive
        calls return the same object."""

    @abc.abstractmethod
    def err(self) -> BaseException | None:
        """None while :meth:`done` has not fired; afterwards a :class:`Canceled` if the
        context was canceled or a :class:`DeadlineExceeded` if its deadline passed.
        After ``done()`` fires, successive calls return the same instance."""

    @abc.abstractmethod
    def value(self, key: object) -> Any:
        """The value associated with this context for *key*, or None. Keys match when
        they are the same object, or of the same type and equal (Go's ``==`` on
        interface values)."""


class ContextError(Exception):
    """Base of the errors :meth:`Context.err` returns."""


class Canceled(ContextError):
    """The error returned by :meth:`Context.err` when the context is canceled."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context canceled",)))


class DeadlineExceeded(ContextError, TimeoutError):
    """The error returned by :meth:`Context.err` when the context's deadline passes."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context deadline exceeded",)))

    def timeout(self) -> bool:
        """Go's ``Timeout() bool``: always True."""
        return True


class _Ctx(Context):
    """Base of this module's contexts: repr is Go's String()."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class _EmptyCtx(_Ctx):
    """An emptyCtx is never canceled, has no values, and has no deadline."""

    __slots__ = ()

    def deadline(self) -> float | None:
        return None

    def done(self) -> Done:
        return _NEVER

    def err(self) -> BaseException | None:
        return None

    def value(self, key: object) -> Any:
        return None


class _BackgroundCtx(_EmptyCtx):
    __slots__ = ()

    def __str__(self) -> str:
        return "context.Background"


class _TodoCtx(_EmptyCtx):
    __slots__ = ()

    def __str__(self) -> str:
        return "context.TODO"


_BACKGROUND = _BackgroundCtx()
_TODO = _TodoCtx()


def background() -> Context:
    """A non-nil, empty Context. It is never canceled, has no values, and has no
    deadline. It is typically used by the main function, initialization, and tests,
    and as the top-level Context for incoming requests."""
    return _BACKGROUND


def todo() -> Context:
    """A non-nil, empty Context. Code should use todo() when it's unclear which
    Context to use or it is not yet available."""
    return _TODO


CancelFunc: TypeAlias = Callable[[], None]
"""A CancelFunc tells an operation to abandon its work. It does not wait for the
work to stop. After the first call, subsequent calls do nothing."""


def with_cancel(parent: Context) -> tuple[Context, CancelFunc]:
    """A derived context that points to the parent but has a new Done. Its Done fires
    when the returned cancel function is called or when the parent's Done fires,
    whichever happens first.

    Canceling this context releases resources associated with it, so code should
    call cancel as soon as the operations running in this Context complete.
    """
    c = _with_cancel(parent)
    return c, c._cancel_func


CancelCauseFunc: TypeAlias = Callable[[BaseException | None], None]
"""Like :data:`CancelFunc` but additionally sets the cancellation cause, which
:func:`cause` reports. Calling it with None sets the cause to :class:`Canceled`."""


def with_cancel_cause(parent: Context) -> tuple[Context, CancelCauseFunc]:
    """Like :func:`with_cancel` but returns a :data:`CancelCauseFunc`.

    Calling cancel with a non-None error (the "cause") records that error in ctx;
    it can then be retrieved using ``cause(ctx)``.
    """
    c = _with_cancel(parent)
    return c, c._cancel_cause_func


def _with_cancel(parent: Context) -> _CancelCtx:
    if parent is None:
        raise TypeError("cannot create context from nil parent")
    c = _CancelCtx(parent)
    c._propagate_cancel(parent, c)
    return c


def cause(c: Context) -> BaseException | None:
    """An error explaining why c was canceled.

    The first cancellation of c or one of its parents sets the cause. If that
    cancellation happened via a :data:`CancelCauseFunc`, cause returns the error
    passed to it; otherwise it returns the same value as ``c.err()``. It returns
    None if c has not been canceled yet.
    """
    cc = c.value(_CANCEL_CTX_KEY)
    if isinstance(cc, _CancelCtx):
        with cc._mu:
            return cc._cause
    # There is no cancelCtxKey value, so c is not a descendant of some canceled
    # Context created by with_cancel_cause: there is no specific cause to return.
    return c.err()


def after_func(ctx: Context, f: Callable[[], None]) -> Callable[[], bool]:
    """Arrange to call f on a shared pool thread after ctx is canceled.

    If ctx is already canceled, f is scheduled immediately. Multiple calls on the
    same context operate independently; one does not replace another.

    Calling the returned stop function stops the association of ctx with f. It
    returns True if the call stopped f from being run; False if f has already been
    started or stop was already called. stop does not wait for f to complete.
    """
    if ctx is None:
        raise TypeError("cannot create context from nil parent")
    a = _AfterFuncCtx(ctx, f)
    a._propagate_cancel(ctx, a)
    return a._stop


_CANCEL_CTX_KEY = object()  # &cancelCtxKey: the key a cancelCtx returns itself for


def _parent_cancel_ctx(parent: Context) -> _CancelCtx | None:
    """The underlying _CancelCtx of parent: parent.value(_CANCEL_CTX_KEY), provided
    that it is the one whose Done parent uses (a wrapper may override done())."""
    c: Context = parent
    while type(c) is _ValueCtx:
        c = c._parent
    if type(c) is _CancelCtx or type(c) is _TimerCtx:
        return c
    if type(c) is _BackgroundCtx or type(c) is _TodoCtx or type(c) is _WithoutCancelCtx:
        return None
    done = parent.done()
    if done is _CLOSED or done is _NEVER:
        return None
    p = parent.value(_CANCEL_CTX_KEY)
    if not isinstance(p, _CancelCtx):
        return None
    if p._done is not done:
        return None
    return p


def _remove_child(parent: Context, child: _CancelCtx) -> None:
    """Remove a context from its parent."""
    if type(parent) is _StopCtx:
        parent._stop()
        return
    p = _parent_cancel_ctx(parent)
    if p is None:
        return
    with p._mu:
        if p._children is not None:
            p._children.pop(child, None)


class _CancelCtx(_Ctx):
    """A cancelCtx can be canceled. When canceled, it also cancels any children
    that implement canceler (every _CancelCtx)."""

    __slots__ = ("_parent", "_mu", "_done", "_children", "_err", "_cause")

    def __init__(self, parent: Context) -> None:
        self._parent: Context = parent
        self._mu = threading.Lock()  # protects following fields
        self._done: Done | None = None  # created lazily, fired by the first cancel call
        self._children: dict[_CancelCtx, None] | None = None  # set to None by the first cancel
        self._err: BaseException | None = None  # set to non-None by the first cancel call
        self._cause: BaseException | None = None  # set to non-None by the first cancel call

    def deadline(self) -> float | None:
        return _deadline_of(self._parent)

    def value(self, key: object) -> Any:
        if key is _CANCEL_CTX_KEY:
            return self
        return _value(self._parent, key)

    def done(self) -> Done:
        d = self._done
        if d is not None:
            return d
        with self._mu:
            d = self._done
            if d is None:
                d = self._done = Done()
            return d

    def err(self) -> BaseException | None:
        with self._mu:
            return self._err

    def _propagate_cancel(self, parent: Context, child: _CancelCtx) -> None:
        """Arrange for child to be canceled when parent is."""
        # Fast path: walk this module's own types, as parentCancelCtx would.
        c: Context = parent
        while type(c) is _ValueCtx:
            c = c._parent
        p: _CancelCtx | None = None
        if type(c) is _CancelCtx or type(c) is _TimerCtx:
            p = c
        elif type(c) is _BackgroundCtx or type(c) is _TodoCtx or type(c) is _WithoutCancelCtx:
            return  # parent is never canceled
        else:
            done = parent.done()
            if done is _NEVER:
                return  # parent is never canceled
            if done.is_set():
                # parent is already canceled
                child._cancel(False, parent.err() or Canceled(), cause(parent))
                return
            p = _parent_cancel_ctx(parent)
            if p is None:
                self._propagate_foreign(parent, child, done)
                return
        # parent is a _CancelCtx, or derives from one.
        with p._mu:
            if p._err is not None:
                # parent has already been canceled
                child._cancel(False, p._err, p._cause)
            else:
                if p._children is None:
                    p._children = {}
                p._children[child] = None

    def _propagate_foreign(self, parent: Context, child: _CancelCtx, done: Done) -> None:
        """propagateCancel for a parent that is not (derived from) a _CancelCtx."""

        def cancel_child() -> None:
            child._cancel(False, parent.err() or Canceled(), cause(parent))

        stop: Callable[[], object]
        af = getattr(parent, "after_func", None)
        if callable(af):
            # parent implements an after_func method.
            stop = af(cancel_child)
        else:
            # Go starts a goroutine waiting on parent.Done() or child.Done(); a callback
            # on the parent's Done does that without a thread.
            if not done._add_callback(cancel_child):
                cancel_child()
                return

            def stop() -> bool:
                return done._remove_callback(cancel_child)

        with self._mu:
            self._parent = _StopCtx(parent, stop)

    def __str__(self) -> str:
        return f"{self._parent}.WithCancel"

    def _cancel_func(self) -> None:
        self._cancel(True, Canceled(), None)

    def _cancel_cause_func(self, cause: BaseException | None) -> None:
        self._cancel(True, Canceled(), cause)

    def _cancel(
        self, remove_from_parent: bool, err: BaseException, cause: BaseException | None
    ) -> None:
        """Fire c's Done, cancel each of c's children, and, if remove_from_parent is
        true, remove c from its parent's children. If cause is None, it is set to err."""
        if cause is None:
            cause = err
        callbacks: list[Callable[[], None]] = []
        with self._mu:
            if self._err is not None:
                return  # already canceled
            self._err = err
            self._cause = cause
            d = self._done
            if d is None:
                self._done = _CLOSED
            else:
                callbacks = d._close()
            children = self._children
            self._children = None
            if children:
                for child in children:
                    # NOTE: acquiring the child's lock while holding parent's lock.
                    child._cancel(False, err, cause)
        for cb in callbacks:
            _executor.submit(cb)
        if remove_from_parent:
            _remove_child(self._parent, self)


class _StopCtx(_Ctx):
    """The parent of a _CancelCtx registered with a foreign parent: it carries the
    function that unregisters the child (Go's stopCtx)."""

    __slots__ = ("_parent", "_stop")

    def __init__(self, parent: Context, stop: Callable[[], object]) -> None:
        self._parent = parent
        self._stop = stop

    def deadline(self) -> float | None:
        return self._parent.deadline()

    def done(self) -> Done:
        return self._parent.done()

    def err(self) -> BaseException | None:
        return self._parent.err()

    def value(self, key: object) -> Any:
        return self._parent.value(key)

    def __str__(self) -> str:
        return str(self._parent)


class _AfterFuncCtx(_CancelCtx):
    """The child registered by after_func: its cancel schedules f, once."""

    __slots__ = ("_f", "_once")

    def __init__(self, parent: Context, f: Callable[[], None]) -> None:
        _CancelCtx.__init__(self, parent)
        self._f: Callable[[], None] | None = f
        self._once = False  # under _mu: either f was started or stop() won

    def _take_once(self) -> Callable[[], None] | None:
        with self._mu:
            if self._once:
                return None
            self._once = True
            f = self._f
            self._f = None
            return f

    def _cancel(
        self, remove_from_parent: bool, err: BaseException, cause: BaseException | None
    ) -> None:
        _CancelCtx._cancel(self, False, err, cause)
        if remove_from_parent:
            _remove_child(self._parent, self)
        f = self._take_once()
        if f is not None:
            _executor.submit(f)

    def _stop(self) -> bool:
        stopped = self._take_once() is not None
        if stopped:
            # Go cancels a here (a.cancel(true, Canceled, nil)), which only
            # detaches it from its parent: nothing derives from a and nobody can
            # reach its Done or Err, so detaching it is all there is to do.
            _remove_child(self._parent, self)
        return stopped


def without_cancel(parent: Context) -> Context:
    """A derived context that is not canceled when parent is canceled: no deadline,
    no err, a Done that never fires, but parent's values."""
    if parent is None:
        raise TypeError("cannot create context from nil parent")
    return _WithoutCancelCtx(parent)


class _WithoutCancelCtx(_Ctx):
    __slots__ = ("_parent",)

    def __init__(self, parent: Context) -> None:
        self._parent = parent

    def deadline(self) -> float | None:
        return None

    def done(self) -> Done:
        return _NEVER

    def err(self) -> BaseException | None:
        return None

    def value(self, key: object) -> Any:
        if key is _CANCEL_CTX_KEY:
            return None
        return _value(self._parent, key)

    def __str__(self) -> str:
        return f"{self._parent}.WithoutCancel"


def _to_monotonic(d: datetime.datetime | float) -> float:
    if isinstance(d, datetime.datetime):
        # Aware datetimes are exact; naive ones are local time, as datetime.timestamp().
        return time.monotonic() + (d.timestamp() - time.time())
    if isinstance(d, bool) or not isinstance(d, int | float):
        raise TypeError(
            "context: deadline must be a datetime or a time.monotonic() float, "
            f"not {type(d).__name__}"
        )
    return float(d)


def _seconds(d: float | datetime.timedelta, what: str = "context: timeout") -> float:
    """A Go time.Duration argument: seconds as a float, or a timedelta (what
    names it in the TypeError; dbsql.sql's durations use it too)."""
    if isinstance(d, datetime.timedelta):
        return d.total_seconds()
    if isinstance(d, bool) or not isinstance(d, int | float):
        raise TypeError(f"{what} must be seconds (float) or timedelta, not {type(d).__name__}")
    return float(d)


def with_deadline(
    parent: Context, deadline: datetime.datetime | float
) -> tuple[Context, CancelFunc]:
    """A derived context that points to the parent but has the deadline adjusted to
    be no later than *deadline* (a datetime, or a :func:`time.monotonic` value).

    If the parent's deadline is already earlier, ``with_deadline(parent, d)`` is
    semantically equivalent to parent. The returned context's Done fires when the
    deadline expires, when the returned cancel function is called, or when the
    parent's Done fires, whichever happens first.

    Canceling this context releases resources associated with it, so code should
    call cancel as soon as the operations running in this Context complete.
    """
    return with_deadline_cause(parent, deadline, None)


def with_deadline_cause(
    parent: Context, deadline: datetime.datetime | float, cause: BaseException | None
) -> tuple[Context, CancelFunc]:
    """Like :func:`with_deadline` but also sets the cause of the returned context
    when the deadline is exceeded. The returned CancelFunc does not set the cause."""
    if parent is None:
        raise TypeError("cannot create context from nil parent")
    d = _to_monotonic(deadline)
    cur = parent.deadline()
    if cur is not None and cur < d:
        # The current deadline is already sooner than the new one.
        cc = _with_cancel(parent)
        return cc, cc._cancel_func
    c = _TimerCtx(parent, d, cause)
    c._propagate_cancel(parent, c)
    dur = d - time.monotonic()
    if dur <= 0:
        c._cancel(True, DeadlineExceeded(), cause)  # deadline has already passed
        return c, c._cancel_func
    with c._mu:
        if c._err is None:
            c._timer = _timers.after(d, c._expire)
    return c, c._cancel_func


def _fmt_duration(d: float) -> str:
    a = abs(d)
    if a < 1e-6:
        return f"{d * 1e9:.0f}ns"
    if a < 1e-3:
        return f"{d * 1e6:.6g}µs"
    if a < 1:
        return f"{d * 1e3:.6g}ms"
    return f"{d:.9g}s"


class _TimerCtx(_CancelCtx):
    """A timerCtx carries a timer and a deadline. It embeds a cancelCtx to implement
    done and err. It implements cancel by stopping its timer then delegating to
    _CancelCtx._cancel."""

    __slots__ = ("_timer", "_deadline", "_deadline_cause")

    def __init__(self, parent: Context, deadline: float, cause: BaseException | None) -> None:
        _CancelCtx.__init__(self, parent)
        self._timer: _Timer | None = None  # under _mu
        self._deadline = deadline
        self._deadline_cause = cause

    def deadline(self) -> float | None:
        return self._deadline

    def __str__(self) -> str:
        left = self._deadline - time.monotonic()
        try:
            wall = str(datetime.datetime.fromtimestamp(time.time() + left).astimezone())
        except (OverflowError, OSError, ValueError):
            wall = f"monotonic {self._deadline}"
        return f"{self._parent}.WithDeadline({wall} [{_fmt_duration(left)}])"

    def _expire(self) -> None:
        self._cancel(True, DeadlineExceeded(), self._deadline_cause)

    def _cancel(
        self, remove_from_parent: bool, err: BaseException, cause: BaseException | None
    ) -> None:
        _CancelCtx._cancel(self, False, err, cause)
        if remove_from_parent:
            # Remove this _TimerCtx from its parent _CancelCtx's children.
            _remove_child(self._parent, self)
        with self._mu:
            t = self._timer
            if t is not None:
                self._timer = None
                _timers.stop(t)


def with_timeout(
    parent: Context, timeout: float | datetime.timedelta
) -> tuple[Context, CancelFunc]:
    """``with_deadline(parent, time.monotonic() + timeout)``; timeout in seconds.

    Canceling this context releases resources associated with it, so code should
    call cancel as soon as the operations running in this Context complete.
    """
    return with_deadline_cause(parent, time.monotonic() + _seconds(timeout), None)


def with_timeout_cause(
    parent: Context, timeout: float | datetime.timedelta, cause: BaseException | None
) -> tuple[Context, CancelFunc]:
    """Like :func:`with_timeout` but also sets the cause of the returned context
    when the timeout expires. The returned CancelFunc does not set the cause."""
    return with_deadline_cause(parent, time.monotonic() + _seconds(timeout), cause)


def with_value(parent: Context, key: object, val: Any) -> Context:
    """A derived context that points to parent, in which the value associated with
    key is val.

    Use context values only for request-scoped data that transits processes and
    APIs, not for passing optional parameters to functions. The key must be
    hashable (Go: comparable) and not None; to avoid collisions define keys as
    instances of a private class or as private ``object()`` sentinels.
    """
    if parent is None:
        raise TypeError("cannot create context from nil parent")
    if key is None:
        raise TypeError("nil key")
    try:
        hash(key)
    except TypeError:
        raise TypeError("key is not comparable") from None
    return _ValueCtx(parent, key, val)


class _ValueCtx(_Ctx):
    """A valueCtx carries a key-value pair. It implements value for that key and
    delegates all other calls to the parent Context."""

    __slots__ = ("_parent", "_key", "_val")

    def __init__(self, parent: Context, key: object, val: Any) -> None:
        self._parent = parent
        self._key = key
        self._val = val

    def deadline(self) -> float | None:
        return _deadline_of(self._parent)

    def done(self) -> Done:
        c = self._parent
        while type(c) is _ValueCtx:
            c = c._parent
        return c.done()

    def err(self) -> BaseException | None:
        c = self._parent
        while type(c) is _ValueCtx:
            c = c._parent
        return c.err()

    def value(self, key: object) -> Any:
        k = self._key
        if k is key or (type(k) is type(key) and bool(k == key)):
            return self._val
        return _value(self._parent, key)

    def __str__(self) -> str:
        return f"{self._parent}.WithValue({_stringify(self._key)}, {_stringify(self._val)})"


def _stringify(v: object) -> str:
    """Go's stringify: a str as is, a value with its own __str__ (a Stringer) as str(v),
    None as "<nil>", anything else as its type name, so values do not leak into logs."""
    if isinstance(v, str):
        return v
    if v is None:
        return "<nil>"
    t = type(v)
    if t.__str__ is not object.__str__:
        return str(v)
    mod = t.__module__
    if mod == "builtins":
        return t.__qualname__
    return f"{mod.rpartition('.')[2]}.{t.__qualname__}"


def _value(c: Context, key: object) -> Any:
    """Context.value through a chain of this module's contexts, without recursion."""
    while True:
        if type(c) is _ValueCtx:
            k = c._key
            if k is key or (type(k) is type(key) and bool(k == key)):
                return c._val
            c = c._parent
        elif type(c) is _CancelCtx or type(c) is _TimerCtx or type(c) is _AfterFuncCtx:
            if key is _CANCEL_CTX_KEY:
                return c
            c = c._parent
        elif type(c) is _WithoutCancelCtx:
            if key is _CANCEL_CTX_KEY:
                return None
            c = c._parent
        elif type(c) is _StopCtx:
            c = c._parent
        elif type(c) is _BackgroundCtx or type(c) is _TodoCtx:
            return None
        else:
            return c.value(key)


def _deadline_of(c: Context) -> float | None:
    """Context.deadline through a chain of this module's contexts, without recursion."""
    while True:
        if type(c) is _TimerCtx:
            return c._deadline
        if (
            type(c) is _ValueCtx
            or type(c) is _CancelCtx
            or type(c) is _AfterFuncCtx
            or type(c) is _StopCtx
        ):
            c = c._parent
        elif type(c) is _BackgroundCtx or type(c) is _TodoCtx or type(c) is _WithoutCancelCtx:
            return None
        else:
            return c.deadline()
