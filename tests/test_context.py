"""Tests for dbsql.context: Go's src/context/x_test.go, context_test.go and
afterfunc_test.go translated, plus the Python-specific guarantees (shared threads,
no leaks, fork)."""

from __future__ import annotations

import datetime
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from dbsql import context
from dbsql.context import (
    Canceled,
    CancelFunc,
    Context,
    ContextError,
    DeadlineExceeded,
    Done,
    after_func,
    background,
    cause,
    todo,
    with_cancel,
    with_cancel_cause,
    with_deadline,
    with_timeout,
    with_timeout_cause,
    with_value,
    without_cancel,
)

SHORT = 0.001  # a reasonable duration to block in a test
VERY_LONG = 1000 * 3600.0  # an arbitrary upper bound on the test's running time
QUIESCENT = 5.0  # by when any remaining work should have completed


class OtherContext(Context):
    """A Context that's not one of the types defined in context.py (Go's otherContext).
    This lets us test code paths that differ based on the type of the Context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def deadline(self) -> float | None:
        return self.ctx.deadline()

    def done(self) -> Done:
        return self.ctx.done()

    def err(self) -> BaseException | None:
        return self.ctx.err()

    def value(self, key: object) -> Any:
        return self.ctx.value(key)


def children(ctx: Context) -> dict[Any, None]:
    """The registered children of a with_cancel/with_timeout context (Go: c.children)."""
    assert isinstance(ctx, context._CancelCtx)
    with ctx._mu:
        return dict(ctx._children or {})


def parent_cancel_ctx(ctx: Context) -> Any:
    """The parent a child links to (Go: parentCancelCtx(cc.Context))."""
    assert isinstance(ctx, context._CancelCtx)
    return context._parent_cancel_ctx(ctx._parent)


def blocks(c: Context) -> bool:
    """Go's `select { case <-c.Done(): ...; default: }`: True when Done has not fired."""
    return not c.done().is_set()


def test_background() -> None:
    c = background()
    assert c is not None
    assert blocks(c), "<-c.Done() should block"
    assert str(c) == "context.Background"
    # Python: the Done never fires, also when waited on; background() is a singleton.
    assert not c.done().wait(SHORT)
    assert background() is c
    assert c.err() is None and c.deadline() is None and c.value("k") is None


def test_todo() -> None:
    c = todo()
    assert c is not None
    assert blocks(c), "<-c.Done() should block"
    assert str(c) == "context.TODO"
    assert todo() is c
    assert c is not background()


def test_with_cancel() -> None:
    c1, cancel = with_cancel(background())
    assert str(c1) == "context.Background.WithCancel"

    o = OtherContext(c1)
    c2, _ = with_cancel(o)
    contexts: list[Context] = [c1, o, c2]

    for i, c in enumerate(contexts):
        assert c.done() is not None, i
        assert c.err() is None, i
        assert blocks(c), f"<-c[{i}].Done() should block"

    cancel()  # Should propagate synchronously.
    for i, c in enumerate(contexts):
        assert not blocks(c), f"<-c[{i}].Done() blocked, but shouldn't have"
        assert isinstance(c.err(), Canceled), i


def test_parent_finishes_child() -> None:
    # Context tree:
    # parent -> cancel_child
    # parent -> value_child -> timer_child
    parent, cancel = with_cancel(background())
    cancel_child, stop = with_cancel(parent)
    value_child = with_value(parent, "key", "value")
    timer_child, stop2 = with_timeout(value_child, 10000 * 3600.0)
    try:
        for c in (parent, cancel_child, timer_child, value_child):
            assert blocks(c)

        # The parent's children should contain the two cancelable children.
        pc = children(parent)
        assert len(pc) == 2 and cancel_child in pc and timer_child in pc, "bad linkage"
        assert parent_cancel_ctx(cancel_child) is parent
        assert parent_cancel_ctx(timer_child) is parent

        cancel()

        assert children(parent) == {}, "pc.cancel didn't clear pc.children"

        # parent and children should all be finished.
        for name, c in (
            ("parent", parent),
            ("cancel_child", cancel_child),
            ("value_child", value_child),
            ("timer_child", timer_child),
        ):
            assert not blocks(c), f"<-{name}.Done() blocked, but shouldn't have"
            assert isinstance(c.err(), Canceled), name

        # with_value should return a canceled context on a canceled parent.
        precanceled_child = with_value(parent, "key", "value")
        assert not blocks(precanceled_child)
        assert isinstance(precanceled_child.err(), Canceled)
    finally:
        stop()
        stop2()


def test_child_finishes_first() -> None:
    cancelable, stop = with_cancel(background())
    try:
        for parent in (background(), cancelable):
            child, cancel = with_cancel(parent)
            assert blocks(parent) and blocks(child)

            pcok = isinstance(parent, context._CancelCtx)  # False when parent is background()
            p = parent_cancel_ctx(child)
            assert (p is not None) == pcok and (not pcok or p is parent), "bad linkage"

            if pcok:
                pc = children(parent)
                assert len(pc) == 1 and child in pc, "bad linkage"

            cancel()

            if pcok:
                assert children(parent) == {}, "child's cancel didn't remove self"

            # child should be finished.
            assert not blocks(child)
            assert isinstance(child.err(), Canceled)

            # parent should not be finished.
            assert blocks(parent)
            assert parent.err() is None
    finally:
        stop()


def check_deadline(c: Context, name: str) -> None:
    """Go's testDeadline: c must time out within the quiescent period."""
    assert c.done().wait(QUIESCENT), f"{name}: context not timed out after {QUIESCENT}s"
    e = c.err()
    assert isinstance(e, DeadlineExceeded), f"{name}: c.err() == {e!r}; want DeadlineExceeded"
    assert isinstance(e, TimeoutError) and isinstance(e, ContextError)


def now_plus(d: float) -> datetime.datetime:
    return datetime.datetime.now() + datetime.timedelta(seconds=d)


def test_deadline() -> None:
    c, _ = with_deadline(background(), now_plus(SHORT))
    assert str(c).startswith("context.Background.WithDeadline(")
    check_deadline(c, "WithDeadline")

    c, _ = with_deadline(background(), now_plus(SHORT))
    o: Context = OtherContext(c)
    check_deadline(o, "WithDeadline+otherContext")

    c, _ = with_deadline(background(), now_plus(SHORT))
    o = OtherContext(c)
    c, _ = with_deadline(o, now_plus(VERY_LONG))
    check_deadline(c, "WithDeadline+otherContext+WithDeadline")

    c, _ = with_deadline(background(), now_plus(-SHORT))
    check_deadline(c, "WithDeadline+inthepast")

    c, _ = with_deadline(background(), datetime.datetime.now())
    check_deadline(c, "WithDeadline+now")

    # Python: aware datetimes and time.monotonic() floats are deadlines too.
    utc = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=SHORT)
    c, _ = with_deadline(background(), utc)
    check_deadline(c, "WithDeadline+aware")
    c, _ = with_deadline(background(), time.monotonic() + SHORT)
    check_deadline(c, "WithDeadline+monotonic")


def test_timeout() -> None:
    c, _ = with_timeout(background(), SHORT)
    assert str(c).startswith("context.Background.WithDeadline(")
    check_deadline(c, "WithTimeout")

    c, _ = with_timeout(background(), SHORT)
    o: Context = OtherContext(c)
    check_deadline(o, "WithTimeout+otherContext")

    c, _ = with_timeout(background(), SHORT)
    o = OtherContext(c)
    c, _ = with_timeout(o, VERY_LONG)
    check_deadline(c, "WithTimeout+otherContext+WithTimeout")

    # Python: a timedelta is a timeout too.
    c, _ = with_timeout(background(), datetime.timedelta(milliseconds=1))
    check_deadline(c, "WithTimeout+timedelta")


def test_deadline_values() -> None:
    # Python: deadline() is a time.monotonic() value; a child's deadline is never later
    # than its parent's, and with_deadline converts datetimes to monotonic time.
    before = time.monotonic()
    p, pcancel = with_timeout(background(), 60)
    pd = p.deadline()
    assert pd is not None and before + 60 <= pd <= time.monotonic() + 60
    later, cancel1 = with_timeout(p, 120)
    assert later.deadline() == pd
    assert str(later).endswith("]).WithCancel")  # a later deadline is just with_cancel
    sooner, cancel2 = with_timeout(p, 30)
    sd = sooner.deadline()
    assert sd is not None and sd < pd
    v = with_value(sooner, "k", "v")
    assert v.deadline() == sd
    wall, cancel3 = with_deadline(
        background(), datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=10)
    )
    wd = wall.deadline()
    assert wd is not None and abs(wd - (time.monotonic() + 10)) < 2
    assert with_cancel(background())[0].deadline() is None
    pcancel()
    for c in (later, sooner, v):
        assert isinstance(c.err(), Canceled)
    for f in (cancel1, cancel2, cancel3):
        f()


def test_canceled_timeout() -> None:
    c, _ = with_timeout(background(), 1.0)
    o = OtherContext(c)
    c, cancel = with_timeout(o, VERY_LONG)
    cancel()  # Should propagate synchronously.
    assert not blocks(c), "<-c.Done() blocked, but shouldn't have"
    assert isinstance(c.err(), Canceled)


class Key1(int):
    """Go's `type key1 int`."""


class Key2(int):
    """Go's `type key2 int` with a String method."""

    def __str__(self) -> str:
        return f"test_context.Key2({int(self)})"


k1 = Key1(1)
k2 = Key2(1)  # same int as k1, different type
k3 = Key2(3)  # same type as k2, different int


def test_values() -> None:
    def check(c: Context, nm: str, v1: str, v2: str, v3: str) -> None:
        for key, want in ((k1, v1), (k2, v2), (k3, v3)):
            v = c.value(key)
            ok = isinstance(v, str)
            assert ok == (len(want) != 0) and (v if ok else "") == want, f"{nm}.value({key!r})"

    c0 = background()
    check(c0, "c0", "", "", "")

    c1 = with_value(background(), k1, "c1k1")
    check(c1, "c1", "c1k1", "", "")

    assert str(c1) == "context.Background.WithValue(test_context.Key1, c1k1)"

    c2 = with_value(c1, k2, "c2k2")
    check(c2, "c2", "c1k1", "c2k2", "")

    assert str(c2) == (
        "context.Background.WithValue(test_context.Key1, c1k1)"
        ".WithValue(test_context.Key2(1), c2k2)"
    )

    c3 = with_value(c2, k3, "c3k3")
    check(c3, "c2", "c1k1", "c2k2", "c3k3")

    c4 = with_value(c3, k1, None)
    check(c4, "c4", "", "c2k2", "c3k3")

    assert str(c4) == (
        "context.Background.WithValue(test_context.Key1, c1k1)"
        ".WithValue(test_context.Key2(1), c2k2)"
        ".WithValue(test_context.Key2(3), c3k3)"
        ".WithValue(test_context.Key1, <nil>)"
    )

    o0 = OtherContext(background())
    check(o0, "o0", "", "", "")

    o1 = OtherContext(with_value(background(), k1, "c1k1"))
    check(o1, "o1", "c1k1", "", "")

    o2 = with_value(o1, k2, "o2k2")
    check(o2, "o2", "c1k1", "o2k2", "")

    o3 = OtherContext(c4)
    check(o3, "o3", "", "c2k2", "c3k3")

    o4 = with_value(o3, k3, None)
    check(o4, "o4", "", "c2k2", "")


def test_allocs() -> None:
    # Go counts heap allocations per call; the Python equivalent checked here is that
    # the cheap paths allocate no Done and start no thread per context.
    bg = background()
    assert background() is bg
    c = with_value(bg, k1, None)
    assert c.value(k1) is None
    c, _ = with_timeout(bg, 1e-9)
    assert c.done().wait(QUIESCENT)
    threads = threading.active_count()
    for _ in range(100):
        c, cancel = with_cancel(bg)
        cancel()
        assert c.done() is context._CLOSED  # the shared fired Done, not a new one
        c, cancel = with_timeout(bg, 0.005)
        cancel()
        assert c.done() is context._CLOSED
    assert threading.active_count() <= threads + 1  # at most the shared timer thread


def test_simultaneous_cancels() -> None:
    root, cancel = with_cancel(background())
    m: dict[Context, CancelFunc] = {root: cancel}
    q = [root]
    # Create a tree of contexts.
    while q and len(m) < 100:
        parent = q.pop(0)
        for _ in range(4):
            ctx, cancel = with_cancel(parent)
            m[ctx] = cancel
            q.append(ctx)
    # Start all the cancels in a random order.
    cancels = list(m.values())
    random.shuffle(cancels)
    threads = [threading.Thread(target=c) for c in cancels]
    for t in threads:
        t.start()
    # Wait on all the contexts in a random order.
    ctxs = list(m)
    random.shuffle(ctxs)
    deadline = time.monotonic() + QUIESCENT
    for ctx in ctxs:
        assert ctx.done().wait(deadline - time.monotonic()), "timed out waiting for ctx.done()"
    # Wait for all the cancel functions to return.
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
        assert not t.is_alive(), "timed out waiting for cancel functions"


def test_interlocked_cancels() -> None:
    parent, cancel_parent = with_cancel(background())
    child, cancel_child = with_cancel(parent)

    def run() -> None:
        parent.done().wait()
        cancel_child()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    cancel_parent()
    assert child.done().wait(QUIESCENT), "timed out waiting for child.done()"
    t.join(QUIESCENT)
    assert not t.is_alive()


def layers(seed: int, test_timeout: bool) -> None:
    r = random.Random(seed)
    prefix = f"seed={seed}: "
    min_layers = 30
    vals: list[object] = []
    cancels: list[CancelFunc] = []
    num_timers = 0
    ctx = background()
    i = 0
    while i < min_layers or num_timers == 0 or not cancels or not vals:
        n = r.randrange(3)
        if n == 0:
            v = object()
            ctx = with_value(ctx, v, v)
            vals.append(v)
        elif n == 1:
            ctx, cancel = with_cancel(ctx)
            cancels.append(cancel)
        else:
            ctx, cancel = with_timeout(ctx, SHORT if test_timeout else VERY_LONG)
            cancels.append(cancel)
            num_timers += 1
        i += 1

    def check_values(when: str) -> None:
        for key in vals:
            assert ctx.value(key) is key, f"{prefix}{when}: ctx.value({key!r})"

    if not test_timeout:
        assert blocks(ctx), prefix + "ctx should not be canceled yet"
    assert str(ctx).startswith("context.Background."), prefix
    check_values("before cancel")
    if test_timeout:
        assert ctx.done().wait(QUIESCENT), prefix + "ctx should have timed out"
        check_values("after timeout")
    else:
        cancels[r.randrange(len(cancels))]()
        assert not blocks(ctx), prefix + "ctx should be canceled"
        check_values("after cancel")
    for cancel in cancels:
        cancel()


def test_layers_cancel() -> None:
    layers(time.time_ns(), False)


def test_layers_timeout() -> None:
    layers(time.time_ns(), True)


def test_cancel_removes() -> None:
    def check_children(when: str, ctx: Context, want: int) -> None:
        got = len(children(ctx))
        assert got == want, f"{when}: context has {got} children, want {want}"

    ctx, _ = with_cancel(background())
    check_children("after creation", ctx, 0)
    _, cancel = with_cancel(ctx)
    check_children("with WithCancel child ", ctx, 1)
    cancel()
    check_children("after canceling WithCancel child", ctx, 0)

    ctx, _ = with_cancel(background())
    check_children("after creation", ctx, 0)
    _, cancel = with_timeout(ctx, 60 * 60.0)
    check_children("with WithTimeout child ", ctx, 1)
    cancel()
    check_children("after canceling WithTimeout child", ctx, 0)

    # Python: the same through a value context, and for after_func registrations.
    ctx, _ = with_cancel(background())
    v = with_value(ctx, "k", "v")
    cancels = [with_cancel(v)[1] for _ in range(100)]
    stops = [after_func(v, lambda: None) for _ in range(100)]
    check_children("with 200 children", ctx, 200)
    for cancel in cancels:
        cancel()
    for stop in stops:
        assert stop()
    check_children("after canceling all children", ctx, 0)


def test_with_cancel_canceled_parent() -> None:
    parent, pcancel = with_cancel_cause(background())
    cause_err = RuntimeError("Because!")
    pcancel(cause_err)

    c, _ = with_cancel(parent)
    assert not blocks(c), "child not done immediately upon construction"
    assert isinstance(c.err(), Canceled), "child not canceled"
    assert cause(c) is cause_err, "child has wrong cause"


def test_with_cancel_simultaneously_canceled_parent() -> None:
    # Cancel the parent thread concurrently with creating a child.
    for _ in range(100):
        parent, pcancel = with_cancel_cause(background())
        cause_err = RuntimeError("Because!")
        t = threading.Thread(target=pcancel, args=(cause_err,))
        t.start()

        c, _ = with_cancel(parent)
        assert c.done().wait(QUIESCENT)
        assert isinstance(c.err(), Canceled), "child not canceled"
        assert cause(c) is cause_err, "child has wrong cause"
        t.join()


def test_with_value_checks_key() -> None:
    with pytest.raises(TypeError):
        with_value(background(), bytearray(b"foo"), "bar")
    with pytest.raises(TypeError, match="^nil key$"):
        with_value(background(), None, "bar")


def test_invalid_derived_fail() -> None:
    with pytest.raises(TypeError):
        with_cancel(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        with_deadline(None, now_plus(SHORT))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        with_value(None, "foo", "bar")  # type: ignore[arg-type]


def test_deadline_exceeded_supports_timeout() -> None:
    e = DeadlineExceeded()
    # Go's Timeout() interface is TimeoutError in Python; the method exists too.
    assert isinstance(e, TimeoutError)
    assert e.timeout()
    assert str(e) == "context deadline exceeded"
    assert str(Canceled()) == "context canceled"
    assert not isinstance(Canceled(), TimeoutError)


class MyDoneCtx(OtherContext):
    """A context whose Done is its own (Go's myDoneCtx): it never fires."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.d = Done()

    def done(self) -> Done:
        return self.d


def test_custom_context_goroutines() -> None:
    # Where Go starts a goroutine per child of a custom context, Python registers a
    # callback on the parent's Done: no thread is ever started, and the callback is
    # unregistered when the child is canceled.
    with_timeout(background(), 3600.0)[1]()  # the shared timer thread is not per context
    g = threading.active_count()

    def check_no_thread() -> None:
        assert threading.active_count() <= g

    my = MyDoneCtx(background())
    _, cancel0 = with_cancel(my)
    assert len(my.d._callbacks or {}) == 1
    cancel0()
    assert len(my.d._callbacks or {}) == 0
    check_no_thread()

    _, cancel0 = with_timeout(MyDoneCtx(background()), 3600.0)
    cancel0()

    ctx1, cancel1 = with_cancel(background())
    check_no_thread()

    ctx2 = OtherContext(ctx1)
    ctx3, cancel3 = with_cancel(ctx2)
    check_no_thread()
    assert ctx3 in children(ctx1)  # ctx2 provides ctx1's Done: linked directly

    my2 = MyDoneCtx(ctx2)
    _, cancel3b = with_cancel(my2)
    assert len(my2.d._callbacks or {}) == 1  # ctx1 is not providing Done, must not be used

    ctx4, cancel4 = with_timeout(ctx3, 3600.0)
    ctx5, cancel5 = with_cancel(ctx4)
    cancel5()
    _, cancel6 = with_timeout(ctx5, 3600.0)

    # Check applied to cancelled context.
    cancel6()
    cancel1()
    _, cancel7 = with_cancel(ctx5)
    for f in (cancel7, cancel6, cancel5, cancel4, cancel3b, cancel3, cancel1):
        f()
    check_no_thread()


def test_cause() -> None:
    forever = 1e6
    parent_cause = RuntimeError("parentCause")
    child_cause = RuntimeError("childCause")
    too_slow = RuntimeError("tooSlow")
    finished_early = RuntimeError("finishedEarly")

    def with_cancel_c() -> Context:
        ctx, cancel = with_cancel(background())
        cancel()
        return ctx

    def with_cancel_cause_c() -> Context:
        ctx, cancel = with_cancel_cause(background())
        cancel(parent_cause)
        return ctx

    def with_cancel_cause_nil() -> Context:
        ctx, cancel = with_cancel_cause(background())
        cancel(None)
        return ctx

    def parent_cause_before_child() -> Context:
        ctx, cancel_parent = with_cancel_cause(background())
        ctx, cancel_child = with_cancel_cause(ctx)
        cancel_parent(parent_cause)
        cancel_child(child_cause)
        return ctx

    def parent_cause_after_child() -> Context:
        ctx, cancel_parent = with_cancel_cause(background())
        ctx, cancel_child = with_cancel_cause(ctx)
        cancel_child(child_cause)
        cancel_parent(parent_cause)
        return ctx

    def parent_cause_before_nil() -> Context:
        ctx, cancel_parent = with_cancel_cause(background())
        ctx, cancel_child = with_cancel(ctx)
        cancel_parent(parent_cause)
        cancel_child()
        return ctx

    def parent_cause_after_nil() -> Context:
        ctx, cancel_parent = with_cancel_cause(background())
        ctx, cancel_child = with_cancel(ctx)
        cancel_child()
        cancel_parent(parent_cause)
        return ctx

    def child_cause_after_nil() -> Context:
        ctx, cancel_parent = with_cancel(background())
        ctx, cancel_child = with_cancel_cause(ctx)
        cancel_parent()
        cancel_child(child_cause)
        return ctx

    def child_cause_before_nil() -> Context:
        ctx, cancel_parent = with_cancel(background())
        ctx, cancel_child = with_cancel_cause(ctx)
        cancel_child(child_cause)
        cancel_parent()
        return ctx

    def with_timeout_c() -> Context:
        ctx, cancel = with_timeout(background(), 0)
        cancel()
        return ctx

    def with_timeout_canceled() -> Context:
        ctx, cancel = with_timeout(background(), forever)
        cancel()
        return ctx

    def with_timeout_cause_c() -> Context:
        ctx, cancel = with_timeout_cause(background(), 0, too_slow)
        cancel()
        return ctx

    def with_timeout_cause_canceled() -> Context:
        ctx, cancel = with_timeout_cause(background(), forever, too_slow)
        cancel()
        return ctx

    def with_timeout_cause_stacked() -> Context:
        ctx, cancel = with_cancel_cause(background())
        ctx, _ = with_timeout_cause(ctx, 0, too_slow)
        cancel(finished_early)
        return ctx

    def with_timeout_cause_stacked_canceled() -> Context:
        ctx, cancel = with_cancel_cause(background())
        ctx, _ = with_timeout_cause(ctx, forever, too_slow)
        cancel(finished_early)
        return ctx

    def without_cancel_c() -> Context:
        return without_cancel(background())

    def without_cancel_canceled() -> Context:
        ctx, cancel = with_cancel_cause(background())
        ctx = without_cancel(ctx)
        cancel(finished_early)
        return ctx

    def without_cancel_timeout() -> Context:
        ctx, cancel = with_timeout_cause(background(), 0, too_slow)
        ctx = without_cancel(ctx)
        cancel()
        return ctx

    Err = type[BaseException] | None
    tests: list[tuple[str, Callable[[], Context], Err, BaseException | Err]] = [
        ("Background", background, None, None),
        ("TODO", todo, None, None),
        ("WithCancel", with_cancel_c, Canceled, Canceled),
        ("WithCancelCause", with_cancel_cause_c, Canceled, parent_cause),
        ("WithCancelCause nil", with_cancel_cause_nil, Canceled, Canceled),
        ("parent cause before child", parent_cause_before_child, Canceled, parent_cause),
        ("parent cause after child", parent_cause_after_child, Canceled, child_cause),
        ("parent cause before nil", parent_cause_before_nil, Canceled, parent_cause),
        ("parent cause after nil", parent_cause_after_nil, Canceled, Canceled),
        ("child cause after nil", child_cause_after_nil, Canceled, Canceled),
        ("child cause before nil", child_cause_before_nil, Canceled, child_cause),
        ("WithTimeout", with_timeout_c, DeadlineExceeded, DeadlineExceeded),
        ("WithTimeout canceled", with_timeout_canceled, Canceled, Canceled),
        ("WithTimeoutCause", with_timeout_cause_c, DeadlineExceeded, too_slow),
        ("WithTimeoutCause canceled", with_timeout_cause_canceled, Canceled, Canceled),
        ("WithTimeoutCause stacked", with_timeout_cause_stacked, DeadlineExceeded, too_slow),
        (
            "WithTimeoutCause stacked canceled",
            with_timeout_cause_stacked_canceled,
            Canceled,
            finished_early,
        ),
        ("WithoutCancel", without_cancel_c, None, None),
        ("WithoutCancel canceled", without_cancel_canceled, None, None),
        ("WithoutCancel timeout", without_cancel_timeout, None, None),
    ]
    for name, make, want_err, want_cause in tests:
        ctx = make()
        err = ctx.err()
        if want_err is None:
            assert err is None, name
        else:
            assert isinstance(err, want_err), f"{name}: ctx.err() = {err!r}"
        got = cause(ctx)
        if isinstance(want_cause, BaseException):
            assert got is want_cause, f"{name}: cause(ctx) = {got!r}"
        elif want_cause is None:
            assert got is None, name
        else:
            # An err/cause of Go's sentinel: the same instance err() returns.
            assert isinstance(got, want_cause) and got is err, f"{name}: cause(ctx) = {got!r}"


def test_cause_race() -> None:
    cause_err = RuntimeError("TestCauseRace")
    ctx, cancel = with_cancel_cause(background())
    t = threading.Thread(target=cancel, args=(cause_err,))
    t.start()
    deadline = time.monotonic() + QUIESCENT
    while True:
        # Poll cause, rather than waiting for done, to test that access to the
        # underlying cause is synchronized properly.
        err = cause(ctx)
        if err is not None:
            assert err is cause_err
            break
        assert time.monotonic() < deadline, "cause never set"
        time.sleep(0)  # Go's runtime.Gosched()
    t.join()


def test_without_cancel() -> None:
    key, value = "key", "value"
    ctx = with_value(background(), key, value)
    ctx = without_cancel(ctx)
    assert ctx.deadline() is None
    assert not ctx.done().is_set()  # Go: Done() == nil, a Done that never fires here
    assert ctx.err() is None
    assert ctx.value(key) == value
    assert str(ctx) == "context.Background.WithValue(key, value).WithoutCancel"
    # Python: canceling the parent does not cancel it, and its children are never done.
    p, cancel = with_cancel(background())
    w = without_cancel(p)
    child, _ = with_cancel(w)
    cancel()
    assert w.err() is None and child.err() is None


class CustomDoneContext(OtherContext):
    """A context with its own Done (Go's customDoneContext): here, the Done of a
    separate with_cancel context that the test cancels (Go closes donec)."""

    def __init__(self, ctx: Context, donec: Context) -> None:
        super().__init__(ctx)
        self.donec = donec

    def done(self) -> Done:
        return self.donec.done()


def test_custom_context_propagation() -> None:
    cause_err = RuntimeError("TestCustomContextPropagation")
    donec, close_donec = with_cancel(background())
    ctx1, cancel1 = with_cancel_cause(background())
    ctx2 = CustomDoneContext(ctx1, donec)
    ctx3, cancel3 = with_cancel(ctx2)
    try:
        cancel1(cause_err)
        close_donec()

        assert ctx3.done().wait(QUIESCENT)
        assert isinstance(ctx3.err(), Canceled), "child not canceled"
        assert cause(ctx3) is cause_err, "child has wrong cause"
    finally:
        cancel3()


class CustomCauseContext(Context):
    """A custom Context used to test cause() (Go's customCauseContext). Its Done is
    that of a private with_cancel context, which cancel() cancels (Go: close(done))."""

    def __init__(self) -> None:
        self.mu = threading.Lock()
        self.inner, self.close_done = with_cancel(background())
        self.error: BaseException | None = None
        self.cancel_child: CancelFunc | None = None

    def deadline(self) -> float | None:
        return None

    def done(self) -> Done:
        return self.inner.done()

    def err(self) -> BaseException | None:
        with self.mu:
            return self.error

    def value(self, key: object) -> Any:
        return None

    def cancel(self) -> None:
        with self.mu:
            self.error = Canceled()
            self.close_done()
            cancel_child = self.cancel_child
        if cancel_child is not None:
            cancel_child()

    def set_cancel_child(self, cancel_child: CancelFunc) -> None:
        self.cancel_child = cancel_child


def test_custom_context_cause() -> None:
    # Test if we cancel a custom context, err and cause return Canceled.
    ccc = CustomCauseContext()
    ccc.cancel()
    assert isinstance(ccc.err(), Canceled)
    assert isinstance(cause(ccc), Canceled)

    # Test that if we pass a custom context to with_cancel_cause, and then cancel
    # that child context with a cause, that the cause of the child canceled context
    # is correct but that the parent custom context is not canceled.
    ccc = CustomCauseContext()
    ctx, cause_func = with_cancel_cause(ccc)
    cause_err = RuntimeError("TestCustomContextCause")
    cause_func(cause_err)
    assert isinstance(ctx.err(), Canceled)
    assert cause(ctx) is cause_err
    assert ccc.err() is None
    assert cause(ccc) is None

    # Test that if we now cancel the parent custom context, the cause of the child
    # canceled context is still correct, and the parent custom context is canceled
    # without a cause.
    ccc.cancel()
    assert isinstance(ctx.err(), Canceled)
    assert cause(ctx) is cause_err
    assert isinstance(ccc.err(), Canceled)
    assert isinstance(cause(ccc), Canceled)

    # Test that if we associate a custom context with a child, then canceling the
    # custom context cancels the child.
    ccc = CustomCauseContext()
    ctx, cancel_func = with_cancel(ccc)
    ccc.set_cancel_child(cancel_func)
    ccc.cancel()
    assert isinstance(ctx.err(), Canceled)
    assert isinstance(cause(ctx), Canceled)
    assert isinstance(ccc.err(), Canceled)
    assert isinstance(cause(ccc), Canceled)


# --- afterfunc tests (x_test.go and afterfunc_test.go) ---


def test_after_func_called_after_cancel() -> None:
    ctx, cancel = with_cancel(background())
    donec = threading.Event()
    stop = after_func(ctx, donec.set)
    assert not donec.wait(SHORT), "after_func called before context is done"
    cancel()
    assert donec.wait(QUIESCENT), "after_func not called after context is canceled"
    assert not stop(), "stop() = True, want False"


def test_after_func_called_after_timeout() -> None:
    ctx, cancel = with_timeout(background(), SHORT)
    try:
        donec = threading.Event()
        after_func(ctx, donec.set)
        assert donec.wait(QUIESCENT), "after_func not called after context is canceled"
    finally:
        cancel()


def test_after_func_called_immediately() -> None:
    ctx, cancel = with_cancel(background())
    cancel()
    donec = threading.Event()
    after_func(ctx, donec.set)
    assert donec.wait(QUIESCENT), "after_func not called for already-canceled context"


def test_after_func_not_called_after_stop() -> None:
    ctx, cancel = with_cancel(background())
    donec = threading.Event()
    stop = after_func(ctx, donec.set)
    assert stop(), "stop() = False, want True"
    cancel()
    assert not donec.wait(SHORT), "after_func called for already-canceled context"
    assert not stop(), "stop() = True, want False"


def test_after_func_called_asynchronously() -> None:
    # This test verifies that canceling a context does not block waiting for
    # after_funcs to finish.
    ctx, cancel = with_cancel(background())
    started = threading.Event()
    release = threading.Event()
    ran_in: list[int] = []

    def f() -> None:
        ran_in.append(threading.get_ident())
        started.set()
        release.wait(QUIESCENT)  # Go: the channel send blocks until donec is read from

    stop = after_func(ctx, f)
    try:
        cancel()
        # After cancel returns, unblock the after_func.
        assert not release.is_set()
        assert started.wait(QUIESCENT), "after_func not called after context is canceled"
        release.set()
        assert ran_in != [threading.get_ident()], "f ran in the canceller's thread"
    finally:
        release.set()
        stop()


def test_after_func_runs_once_off_the_cancellers_stack() -> None:
    # Python: f runs exactly once, on a shared pool thread, never in the canceller's.
    parent, pcancel = with_cancel(background())
    ctx, cancel = with_timeout(parent, 60)
    calls: list[int] = []
    ran = threading.Event()

    def f() -> None:
        calls.append(threading.get_ident())
        ran.set()

    stop = after_func(ctx, f)
    cancel()
    cancel()
    pcancel()
    assert ran.wait(QUIESCENT)
    assert not stop()
    # A second after_func on the done context is scheduled at once; once it has run,
    # the first one has had every chance to run twice.
    marker = threading.Event()
    after_func(ctx, marker.set)
    assert marker.wait(QUIESCENT)
    assert len(calls) == 1
    assert calls[0] != threading.get_ident()


def test_after_func_blocked_callback_does_not_block_others() -> None:
    # Python: Go runs each f in its own goroutine, so one f may wait for another;
    # the shared pool adds a worker when all of its workers are stuck.
    ctx, cancel = with_cancel(background())
    second_ran = threading.Event()
    first_done = threading.Event()

    def first() -> None:
        if second_ran.wait(QUIESCENT):
            first_done.set()

    after_func(ctx, first)
    after_func(ctx, second_ran.set)
    cancel()
    assert first_done.wait(QUIESCENT), "a blocked after_func held up the others"


def test_after_func_exception_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python: an exception from f goes to threading.excepthook (Go would crash the
    # program on a panic) and the shared pool keeps running later callbacks.
    reported: list[BaseException | None] = []
    got_report = threading.Event()

    def hook(args: Any) -> None:
        reported.append(args.exc_value)
        got_report.set()

    monkeypatch.setattr(threading, "excepthook", hook)

    def boom() -> None:
        raise ValueError("boom")

    ctx, cancel = with_cancel(background())
    after_func(ctx, boom)
    cancel()
    assert got_report.wait(QUIESCENT)
    assert isinstance(reported[0], ValueError)
    ran = threading.Event()
    after_func(ctx, ran.set)
    assert ran.wait(QUIESCENT)


class AfterFuncContext(Context):
    """A context that's not one of the types defined in context.py, that supports
    registering after_funcs (Go's afterFuncContext)."""

    def __init__(self) -> None:
        self.mu = threading.Lock()
        self.after_funcs: dict[object, Callable[[], None]] = {}
        self.d = Done()  # never fires: like Go's, cancel only runs the after_funcs
        self.error: BaseException | None = None

    def deadline(self) -> float | None:
        return None

    def done(self) -> Done:
        return self.d

    def err(self) -> BaseException | None:
        with self.mu:
            return self.error

    def value(self, key: object) -> Any:
        return None

    def after_func(self, f: Callable[[], None]) -> Callable[[], bool]:
        k = object()
        with self.mu:
            self.after_funcs[k] = f

        def stop() -> bool:
            with self.mu:
                return self.after_funcs.pop(k, None) is not None

        return stop

    def cancel(self, err: BaseException) -> None:
        with self.mu:
            if self.error is not None:
                return
            self.error = err
            fs = list(self.after_funcs.values())
            self.after_funcs = {}
        for f in fs:  # Go: go f()
            threading.Thread(target=f).start()


def test_custom_context_after_func_cancel() -> None:
    ctx0 = AfterFuncContext()
    ctx1, cancel = with_cancel(ctx0)
    try:
        ctx0.cancel(Canceled())
        assert ctx1.done().wait(QUIESCENT)
        assert isinstance(ctx1.err(), Canceled)
    finally:
        cancel()


def test_custom_context_after_func_timeout() -> None:
    ctx0 = AfterFuncContext()
    ctx1, cancel = with_timeout(ctx0, VERY_LONG)
    try:
        ctx0.cancel(Canceled())
        assert ctx1.done().wait(QUIESCENT)
    finally:
        cancel()


def test_custom_context_after_func_after_func() -> None:
    ctx0 = AfterFuncContext()
    donec = threading.Event()
    stop = after_func(ctx0, donec.set)
    try:
        ctx0.cancel(Canceled())
        assert donec.wait(QUIESCENT)
    finally:
        stop()


def test_custom_context_after_func_unregister_cancel() -> None:
    ctx0 = AfterFuncContext()
    _, cancel1 = with_cancel(ctx0)
    _, cancel2 = with_cancel(ctx0)
    assert len(ctx0.after_funcs) == 2, "after with_cancel(ctx0)"
    cancel1()
    cancel2()
    assert len(ctx0.after_funcs) == 0, "after canceling with_cancel(ctx0)"


def test_custom_context_after_func_unregister_timeout() -> None:
    ctx0 = AfterFuncContext()
    _, cancel = with_timeout(ctx0, VERY_LONG)
    assert len(ctx0.after_funcs) == 1, "after with_timeout(ctx0, d)"
    cancel()
    assert len(ctx0.after_funcs) == 0, "after canceling with_timeout(ctx0, d)"


def test_custom_context_after_func_unregister_after_func() -> None:
    ctx0 = AfterFuncContext()
    stop = after_func(ctx0, lambda: None)
    assert len(ctx0.after_funcs) == 1, "after after_func(ctx0, f)"
    stop()
    assert len(ctx0.after_funcs) == 0, "after stopping after_func(ctx0, f)"


# --- Python-specific: shared threads, bounded memory, fork ---


def test_many_timeouts_use_one_timer_thread() -> None:
    before = threading.active_count()
    bg = background()
    cancels: list[CancelFunc] = []
    for _ in range(100_000):
        _, cancel = with_timeout(bg, 60.0)
        cancels.append(cancel)
    during = threading.active_count()
    for cancel in cancels:
        cancel()
    after = threading.active_count()
    assert during - before <= 2, f"{during - before} threads for 100,000 timeouts"
    assert after - before <= 2
    # Canceled contexts' timers do not pile up in the shared heap.
    assert len(context._timers._heap) < 1000


def test_many_timeouts_fire() -> None:
    before = threading.active_count()
    parent, pcancel = with_cancel(background())
    ctxs = [with_timeout(parent, 0.01 + i * 1e-5)[0] for i in range(2000)]
    deadline = time.monotonic() + QUIESCENT
    for c in ctxs:
        assert c.done().wait(deadline - time.monotonic())
        assert isinstance(c.err(), DeadlineExceeded)
    assert threading.active_count() - before <= 2
    # Fired timers removed their contexts from the parent.
    assert children(parent) == {}
    pcancel()


def test_done_wait() -> None:
    # Python: Done.wait honours timeouts (float or timedelta) and wakes every waiter.
    c, cancel = with_cancel(background())
    d = c.done()
    assert c.done() is d
    assert not d.wait(0) and not d.wait(-1) and not d.wait(datetime.timedelta(microseconds=1))
    results: list[bool] = []
    waiters = [threading.Thread(target=lambda: results.append(d.wait())) for _ in range(5)]
    for t in waiters:
        t.start()
    cancel()
    for t in waiters:
        t.join(QUIESCENT)
    assert results == [True] * 5
    assert d.is_set() and d.wait(0) and d.wait()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Python 3.12+: fork with threads
def test_fork_resets_shared_threads() -> None:
    # Python: a forked child gets fresh timer and after_func threads.
    _, cancel = with_timeout(background(), 60)  # the timer thread runs in the parent
    fired = threading.Event()
    pctx, pcancel = with_cancel(background())
    after_func(pctx, fired.set)
    pcancel()
    assert fired.wait(QUIESCENT)  # the pool thread runs in the parent
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ok = False
        try:
            c, _ = with_timeout(background(), 0.01)
            ok = c.done().wait(QUIESCENT) and isinstance(c.err(), DeadlineExceeded)
            ran = threading.Event()
            after_func(c, ran.set)
            ok = ok and ran.wait(QUIESCENT)
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 2 * QUIESCENT
    while True:
        done_pid, status = os.waitpid(pid, os.WNOHANG)
        if done_pid:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("forked child hung")
        time.sleep(0.005)  # poll the child's exit, bounded by the deadline above
    cancel()
    assert os.waitstatus_to_exitcode(status) == 0
