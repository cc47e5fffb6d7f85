"""The op runner: every service call a screen makes runs here, off the GUI thread.

One op = one Session = one transaction: ``fn(session)`` runs on a worker, the runner commits
once on success (rolls back on error), then hands the result (or the exception) back to the
GUI thread through a queued signal, and emits ``data_changed(kinds)`` after the commit.

Write ops run one at a time on a single-worker pool (SQLite has one writer; queuing them
keeps "database is locked" away from users); read ops share a wider pool. Network work (the
background jobs of ``app.services.jobs``: e-mail, sync, carriers) runs on a third, the I/O pool,
with ``submit_io(fn)``: ``fn()`` opens its own short transactions (read what is due, talk to the
network with none open, write the outcomes), so it never holds the writer; the tables those
Sessions wrote are broadcast after it like an op's (``changes.recording``). Long jobs ask for
``progress=True`` and get a ``Progress`` whose reports are throttled and whose ``cancelled``
flag lets them stop early (Orange's concurrent helpers; Picard's ``util/thread.py``).
Workers never touch widgets: they only emit signals on a QObject living on the GUI thread.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, QRunnable, QThreadPool, Signal, Slot
from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session

from app.services import changes, crashlog, wiring
from app.services.changes import Change
from app.services.db import translate
from app.services.errors import DomainError
from app.views.signals import AppSignals

PROGRESS_INTERVAL_S = 0.1  # at most ~10 progress reports a second reach the GUI


class OpCancelled(DomainError):
    """Raised by ``Progress.check()`` when the user cancelled; the op is rolled back."""

    def __init__(self) -> None:
        super().__init__("cancelled")


class Progress:
    """Handed to ``fn(session, progress)``; thread-safe, throttled, cancellable.

    ``report(done, total, text)`` may be called as often as you like; only the first, the
    last and one every PROGRESS_INTERVAL_S reach the GUI thread.
    """

    def __init__(self, handle: OpHandle, bridge: _Bridge) -> None:
        self._handle = handle
        self._bridge = bridge
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return self._handle.cancelled

    def check(self) -> None:
        """Raise OpCancelled if the user asked to stop (the runner rolls back)."""
        if self._handle.cancelled:
            raise OpCancelled()

    def report(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if done == 0 or done >= total or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            # via the bridge: handle.progressed is emitted on the GUI thread, so a slot connected
            # right after submit() never misses the first report
            self._bridge.progressed.emit(self._handle, int(done), int(total), str(text))


class OpHandle(QObject):
    """One submitted op, living on the GUI thread.

    Signals:
        progressed(int, int, str): done, total, text (throttled).
        finished(object): the result, after commit (on the GUI thread).
        failed(object): the exception, after rollback (on the GUI thread).
    """

    progressed = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, op_id: int, label: str) -> None:
        super().__init__()
        self.op_id = op_id
        self.label = label
        self._cancel = threading.Event()
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.latest: Hashable | None = None
        self.superseded = False
        #: the kinds of data the op's Session wrote (set by the worker before it reports back)
        self.changed: frozenset[Change] = frozenset()

    def cancel(self) -> None:
        """Ask the op to stop; it sees ``progress.cancelled`` and may raise via ``check()``."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class _Bridge(QObject):
    """Lives on the GUI thread (a child of its runner); workers emit into it, Qt queues the call
    to the GUI thread.

    A worker puts an op's outcome in ``outbox`` and emits only the op's id: it has let go of every
    object of the op (the handle, ``fn`` and whatever it captured, the result, the error and its
    traceback) before the GUI thread can see it, so their last reference always drops on the GUI
    thread. A QObject (an OpHandle, a closed screen captured by ``fn``) freed on a worker runs its
    C++ destructor on the wrong thread: a crash later, somewhere else.
    """

    completed = Signal(int)  # op id; the outcome waits in outbox
    progressed = Signal(object, int, int, str)  # handle, done, total, text

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.outbox: dict[int, tuple[bool, Any]] = {}  # op id -> (ok, result or exception)
        #: I/O task id -> the kinds of data its own Sessions wrote (``changes.recording``)
        self.written: dict[int, frozenset[Change]] = {}


def _reported(e: BaseException, engine: Engine) -> BaseException:
    """The exception as the GUI thread gets it (a locked database in words, a bug with its traceback)."""
    if isinstance(e, exc.OperationalError):
        return translate(e, engine.url.database)
    if not isinstance(e, DomainError):
        e.__depot_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
    return e


def _run_op(engine: Engine, bridge: _Bridge, handle: OpHandle, fn: Callable[..., Any],
            progress: bool) -> tuple[bool, Any]:
    """``fn(session)`` in one transaction: (True, result) after commit, (False, error) after rollback.

    The error is returned straight from its ``except`` clause, never kept in a local: a local
    would make a cycle (error -> traceback -> this frame -> error) that only the garbage collector
    frees, with the handle and ``fn``'s captures inside.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        if handle.cancelled:
            raise OpCancelled()
        result = fn(session, Progress(handle, bridge)) if progress else fn(session)
        session.commit()
        handle.changed = changes.flushed(session)  # the kinds of data it wrote (read on the GUI thread)
        return True, result
    except BaseException as e:  # noqa: BLE001 - every error goes back to the GUI thread
        session.rollback()
        return False, _reported(e, engine)
    finally:
        session.close()


def _run_io(engine: Engine, fn: Callable[[], Any], written: set[str]) -> tuple[bool, Any]:
    """``fn()``, noting in ``written`` the tables its own Sessions wrote (committed ones stay
    written when it fails later: a poll cycle commits per carrier account)."""
    try:
        with changes.recording() as seen:
            try:
                return True, fn()
            finally:
                written.update(seen)
    except BaseException as e:  # noqa: BLE001 - every error goes back to the GUI thread
        return False, _reported(e, engine)


class _Task(QRunnable):
    """One op on a worker. It holds the handle and ``fn`` only while it runs (the runner's
    ``_pending`` holds them too, until delivery); Qt deletes the runnable on the worker after
    ``run()``, by then it holds nothing of the caller's."""

    def __init__(self, engine: Engine, bridge: _Bridge, handle: OpHandle, fn: Callable[..., Any],
                 progress: bool, *, inline: bool = False) -> None:
        super().__init__()
        self.setAutoDelete(not inline)
        self.inline = inline
        self._engine = engine
        self._bridge = bridge
        self._op_id = handle.op_id
        self._handle: OpHandle | None = handle
        self._fn: Callable[..., Any] | None = fn
        self._progress = progress

    def run(self) -> None:  # worker thread: no widgets here
        handle, fn = self._handle, self._fn
        self._handle = self._fn = None
        assert handle is not None and fn is not None
        self._bridge.outbox[self._op_id] = _run_op(self._engine, self._bridge, handle, fn, self._progress)
        del handle, fn  # before the GUI thread hears of it: it drops the last references, not us
        self._bridge.completed.emit(self._op_id)


class _IoTask(QRunnable):
    """Network work: ``fn()`` manages its own (short) transactions; no Session is opened here."""

    def __init__(self, engine: Engine, bridge: _Bridge, op_id: int, fn: Callable[[], Any], *,
                 inline: bool = False) -> None:
        super().__init__()
        self.setAutoDelete(not inline)
        self._engine = engine
        self._bridge = bridge
        self._op_id = op_id
        self._fn: Callable[[], Any] | None = fn

    def run(self) -> None:  # worker thread: no widgets here
        fn = self._fn
        self._fn = None
        assert fn is not None
        written: set[str] = set()
        outcome = _run_io(self._engine, fn, written)
        self._bridge.written[self._op_id] = changes.for_tables(written)
        self._bridge.outbox[self._op_id] = outcome
        del fn, outcome
        self._bridge.completed.emit(self._op_id)


class OpRunner(QObject):
    """Runs ops on thread pools and reports back on the GUI thread.

    ``submit(fn, on_done=None, *, on_error=None, kinds=(), write=True, label="", progress=False,
    latest=None)`` returns an OpHandle. Without ``on_error`` the error text goes to
    ``signals.op_failed`` (the main window shows it). ``data_changed`` is emitted after commit,
    before on_done, with the kinds of data the op's Session wrote (``app.services.changes``,
    derived from the tables it flushed) plus any ``kinds`` the caller declares.

    Read ops run three at a time, so they may finish in any order: a list refreshed twice (a
    filter change, then data_changed after a write) must not show the older answer last.
    ``latest=key`` (e.g. ``(id(self), "expected")``) says so: when an op with the same key was
    submitted after this one, this one's on_done/on_error are skipped (``handle.superseded``).
    """

    def __init__(self, engine: Engine, signals: AppSignals, *, read_threads: int = 3, inline: bool = False) -> None:
        super().__init__()
        wiring.install()  # a write's first follow-up loads the service packages (on its worker, not at start-up)
        self.engine = engine
        #: run each op in the caller's thread, delivering before submit() returns (unit tests)
        self.inline = inline
        self.signals = signals
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)
        self._readers = QThreadPool(self)
        self._readers.setMaxThreadCount(max(1, read_threads))
        self._io = QThreadPool(self)
        self._io.setMaxThreadCount(2)
        self._bridge = _Bridge(self)
        self._bridge.completed.connect(self._on_completed)
        self._bridge.progressed.connect(self._on_progress)
        self._ids = itertools.count(1)
        #: op id -> (handle, on_done, on_error, kinds, fn): fn too, so that whatever it captured (a
        #: screen) is released here on the GUI thread, never by the worker that ran it
        self._pending: dict[int, tuple[OpHandle, Callable[[Any], None] | None,
                                       Callable[[BaseException], None] | None, frozenset[Change], Any]] = {}
        self._latest: dict[Hashable, int] = {}  # key -> newest op id (submit(latest=...))
        #: background network work (submit_io): not a user's op, so the window is not "busy" for it
        self._io_ops: set[int] = set()

    @property
    def busy(self) -> bool:
        """A user's op is queued or running (background jobs on the I/O pool do not count)."""
        return any(op_id not in self._io_ops for op_id in self._pending)

    def submit(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None] | None = None,
        *,
        on_error: Callable[[BaseException], None] | None = None,
        kinds: Iterable[Change | str] = (),
        write: bool = True,
        label: str = "",
        progress: bool = False,
        latest: Hashable | None = None,
    ) -> OpHandle:
        handle = OpHandle(next(self._ids), label or getattr(fn, "__name__", "op"))
        if latest is not None:
            self._latest[latest] = handle.op_id
            handle.latest = latest
        was_busy = self.busy
        self._pending[handle.op_id] = (handle, on_done, on_error, changes.kinds(kinds), fn)
        if not was_busy:
            self.signals.busy_changed.emit(True)
        task = _Task(self.engine, self._bridge, handle, fn, progress, inline=self.inline)
        if self.inline:
            task.run()  # same thread: the bridge's signals are delivered directly
        else:
            (self._writer if write else self._readers).start(task)
        return handle

    def submit_io(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None, *,
                  on_error: Callable[[BaseException], None] | None = None, kinds: Iterable[Change | str] = (),
                  label: str = "") -> OpHandle:
        """Run ``fn()`` on the I/O pool (network work that opens its own short transactions); the
        result or error comes back on the GUI thread like an op's, without the busy indicator, and
        ``data_changed`` says what its Sessions wrote (``changes.recording``) plus ``kinds``: a
        background job's write to the sync outbox reaches the status bar's pending count at once."""
        handle = OpHandle(next(self._ids), label or getattr(fn, "__name__", "job"))
        self._pending[handle.op_id] = (handle, on_done, on_error, changes.kinds(kinds), fn)
        self._io_ops.add(handle.op_id)
        task = _IoTask(self.engine, self._bridge, handle.op_id, fn, inline=self.inline)
        if self.inline:
            task.run()
        else:
            self._io.start(task)
        return handle

    # alias matching STYLE.md's run_task(fn, on_done)
    def run_op(self, fn: Callable[..., Any], on_done: Callable[[Any], None] | None = None, **kw: Any) -> OpHandle:
        return self.submit(fn, on_done, **kw)

    @Slot(object, int, int, str)
    def _on_progress(self, handle: OpHandle, done: int, total: int, text: str) -> None:
        if not handle.done:
            handle.progressed.emit(done, total, text)

    @Slot(int)
    def _on_completed(self, op_id: int) -> None:
        ok, payload = self._bridge.outbox.pop(op_id)
        written = self._bridge.written.pop(op_id, frozenset())
        entry = self._pending.pop(op_id, None)
        if entry is None:
            return
        io = op_id in self._io_ops
        self._io_ops.discard(op_id)
        handle, on_done, on_error, kinds, _fn = entry
        handle.done = True
        handle.changed |= written
        if handle.latest is not None:
            if self._latest.get(handle.latest) != handle.op_id:
                on_done = None  # superseded: a newer op with the same key answers instead
                handle.superseded = True
            else:
                del self._latest[handle.latest]
        try:
            if ok:
                handle.result = payload
                if kinds or handle.changed:
                    self.signals.emit_changed(kinds | handle.changed)
                handle.finished.emit(payload)
                if on_done is not None:
                    on_done(payload)
            else:
                if handle.changed:  # a background task's writes committed before it failed
                    self.signals.emit_changed(handle.changed)
                if not isinstance(payload, DomainError):
                    # a bug, not bad input: the traceback goes to a report file, the user gets one
                    # line (and the window a dialog); screens see a DomainError like any other
                    payload = crashlog.internal_error(payload, tb_text=getattr(payload, "__depot_traceback__", ""),
                                                      context=f"op {handle.label}")
                    self.signals.internal_error.emit(payload)
                handle.error = payload
                handle.failed.emit(payload)
                if handle.superseded:
                    pass  # the newer op's answer (or error) is the one to show
                elif isinstance(payload, OpCancelled):
                    self.signals.message.emit(f"{handle.label}: cancelled")
                elif on_error is not None:
                    on_error(payload)
                else:
                    self.signals.op_failed.emit(handle.label, _error_text(payload))
        except RuntimeError as e:
            # the screen (or background service) that asked was closed meanwhile: its widgets or
            # its signals are gone, nothing to show. PySide says "Internal C++ object ... already
            # deleted" for a method and "Signal source has been deleted" for a signal's emit.
            if not _receiver_gone(e):
                raise
        finally:
            if not io and not self.busy:
                self.signals.busy_changed.emit(False)

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """For tests and shutdown: wait until every op has finished and been delivered."""
        deadline = QDeadlineTimer(timeout_ms)
        while self._pending:
            if deadline.hasExpired():
                return False
            self._writer.waitForDone(10)
            self._readers.waitForDone(10)
            self._io.waitForDone(10)
            QCoreApplication.processEvents()
        return True

    def shutdown(self, timeout_ms: int = 5000) -> None:
        for handle, *_ in list(self._pending.values()):
            handle.cancel()
        self._writer.waitForDone(timeout_ms)
        self._readers.waitForDone(timeout_ms)
        self._io.waitForDone(timeout_ms)


def _receiver_gone(e: RuntimeError) -> bool:
    text = str(e)
    return "already deleted" in text or "Signal source has been deleted" in text


def _error_text(e: BaseException) -> str:
    return str(e)


class _TaskBridge(QObject):
    """Lives on the GUI thread; its own slots make the calls queued (never run on the worker).

    Like the runner's bridge, it keeps each task's callables (``fn``, the callbacks, which are
    often a dialog's methods) until the result is delivered, and the worker hands the outcome
    over in ``outbox``: nothing of the caller's is released on the worker.
    """

    completed = Signal(int)  # task id; the outcome waits in outbox
    progressed = Signal(int, int, int, str)  # task id, done, total, text

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[int, tuple[Any, Callable[[Any], None], Callable[[BaseException], None],
                                    Callable[[int, int, str], None] | None]] = {}
        self.outbox: dict[int, tuple[bool, Any]] = {}
        self.ids = itertools.count(1)
        self.completed.connect(self._deliver)
        self.progressed.connect(self._progress)

    @Slot(int)
    def _deliver(self, task_id: int) -> None:
        ok, payload = self.outbox.pop(task_id)
        _fn, on_done, on_error, _on_progress = self.tasks.pop(task_id)
        if ok:
            on_done(payload)
        else:
            on_error(payload)

    @Slot(int, int, int, str)
    def _progress(self, task_id: int, done: int, total: int, text: str) -> None:
        entry = self.tasks.get(task_id)
        if entry is not None and entry[3] is not None:
            entry[3](done, total, text)


_task_bridge: _TaskBridge | None = None
_task_pool: QThreadPool | None = None


def _run_plain(fn: Callable[[Callable[[int, int, str], None]], Any],
               report: Callable[[int, int, str], None]) -> tuple[bool, Any]:
    try:
        return True, fn(report)
    except BaseException as e:  # noqa: BLE001 - handed to the GUI thread
        return False, e


class _PlainTask(QRunnable):
    def __init__(self, bridge: _TaskBridge, task_id: int, fn: Callable[[Callable[[int, int, str], None]], Any],
                 reports: bool, throttle: bool = True) -> None:
        super().__init__()
        self._bridge = bridge
        self._task_id = task_id
        self._fn: Callable[[Callable[[int, int, str], None]], Any] | None = fn
        self._reports = reports
        self._throttle = throttle
        self._last = 0.0

    def _report(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if self._reports and (not self._throttle or done == 0 or done >= total
                              or now - self._last >= PROGRESS_INTERVAL_S):
            self._last = now
            self._bridge.progressed.emit(self._task_id, int(done), int(total), str(text))

    def run(self) -> None:  # worker thread
        fn = self._fn
        self._fn = None
        assert fn is not None
        self._bridge.outbox[self._task_id] = _run_plain(fn, self._report)
        del fn  # the bridge still holds it: released on the GUI thread
        self._bridge.completed.emit(self._task_id)


def run_task(
    fn: Callable[[Callable[[int, int, str], None]], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_progress: Callable[[int, int, str], None] | None = None,
    *,
    throttle: bool = True,
) -> None:
    """Run ``fn(report)`` off the GUI thread when there is no database yet (creating the demo
    file); ``report(done, total, text)`` is throttled, unless ``throttle`` is False (a few reports,
    each a step that may then run for minutes: none may be dropped). Callbacks run on the GUI thread."""
    global _task_bridge, _task_pool
    if _task_bridge is None:
        _task_bridge = _TaskBridge()
        _task_pool = QThreadPool()
        _task_pool.setMaxThreadCount(1)
    assert _task_pool is not None
    task_id = next(_task_bridge.ids)
    _task_bridge.tasks[task_id] = (fn, on_done, on_error, on_progress)
    _task_pool.start(_PlainTask(_task_bridge, task_id, fn, on_progress is not None, throttle))
