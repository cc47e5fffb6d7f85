"""Python's cycle collector runs on the GUI thread only, while the window is up.

CPython collects cyclic garbage on whichever thread allocates when a threshold is crossed: in
Depot usually an op's worker, deep in SQLAlchemy. Garbage holding a Qt object whose C++ side is
still alive (a closed window's widget tree, an old runner or its signals) is then destroyed on
that worker: the C++ destructor runs off its thread and the process dies, then or later
(``python -m tests.views.gc_stress 300 --automatic``: SIGSEGV every time).

So ``install()`` switches automatic collection off and a timer on the GUI thread collects instead,
with CPython's own generational thresholds: about the same work, on the right thread (the recipe
of Erik Janssens, 2014, also pyqtgraph's ``GarbageCollector``). Workers still free acyclic objects
at once (reference counting); ``app.views.ops`` makes sure none of those is a QObject.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 100  # a check costs a microsecond; at most one collection per tick

_installed: GuiCollector | None = None


class GuiCollector(QObject):
    """Owns the timer; ``collect_due()`` may also be called directly on the GUI thread."""

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.collections = [0, 0, 0]  # per generation, for tests and curious developers
        self._thread = threading.get_ident()  # the GUI thread: made there, its timer fires there
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)

    def collect_due(self) -> int:
        """Collect the oldest generation whose threshold is passed, as CPython would (without its
        rule that skips a full collection until a quarter of the old objects are new); returns the
        number of unreachable objects found, 0 when no threshold is passed."""
        if threading.get_ident() != self._thread:
            return 0
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if t0 <= 0 or c0 <= t0:
            return 0
        gen = 2 if c2 > t2 else 1 if c1 > t1 else 0
        self.collections[gen] += 1
        return gc.collect(gen)


def install(app: QCoreApplication | None = None) -> GuiCollector:
    """Hand cyclic garbage collection to the GUI thread of ``app`` (the running one by default).

    Idempotent; to be called on the GUI thread once the QApplication exists."""
    global _installed
    if _installed is not None:
        return _installed
    app = app or QCoreApplication.instance()
    if app is None:
        raise RuntimeError("install() needs the QApplication")
    gc.disable()
    _installed = GuiCollector(app)
    return _installed


def installed() -> GuiCollector | None:
    return _installed
