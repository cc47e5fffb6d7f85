"""``JobRunner``: one background job (``app.services.jobs``) run on a timer, one round at a time, on
the op runner's I/O pool (network work never waits behind, or holds, the single SQLite writer).
``app.views.background`` starts one per registered job; a job's own view subclasses it (the sync
controller, the e-mail delivery). After a round, ``data_changed`` carries what the round's own
Sessions wrote (even a round that reports "nothing due": the tracker's lease claims are outbox rows
the status bar counts), plus the job's declared kinds when the round says it changed something.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.services import changes
from app.services.jobs import Backoff, Job
from app.views.context import AppContext

log = logging.getLogger("depot.jobs")


class JobRunner(QObject):
    """Runs one background job on a timer, one round at a time, off the GUI thread.

    Signals:
        finished(object): the round's report (None when the job had nothing to do).
        running_changed(bool): a round started / ended.
    """

    finished = Signal(object)
    running_changed = Signal(bool)

    def __init__(self, ctx: AppContext, job: Job, parent: QObject | None = None, *,
                 interval_s: float | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job = job
        self.backoff = Backoff(interval_s=interval_s if interval_s is not None else job.interval(ctx.settings))
        self.running = False
        self.last: Any = None
        #: the tables the current (or last) round's Sessions wrote
        self._written: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run_now)

    @property
    def timer(self) -> QTimer:
        return self._timer

    def start(self, first_ms: int | None = None) -> None:
        """First round ``first_ms`` from now (default: the job's ``first_s``), then on its interval."""
        self._timer.start(int(self.job.first_s * 1000) if first_ms is None else first_ms)

    def stop(self) -> None:
        self._timer.stop()

    def ready(self) -> bool:
        return bool(self.job.ready(self.ctx.settings))

    @Slot()
    def run_now(self) -> bool:
        """Start a round now unless one is running or the job is not ready (then wait one interval)."""
        if self.running:
            return False
        self._timer.stop()
        if not self.ready():
            self._timer.start(int(self.backoff.interval_s * 1000))
            return False
        self.running = True
        self.running_changed.emit(True)
        engine, settings, run = self.ctx.engine, self.ctx.settings, self.job.run
        written: set[str] = set()
        self._written = written

        def round_() -> Any:
            with changes.recording() as seen:
                try:
                    return run(engine, settings)
                finally:
                    written.update(seen)

        # the runner broadcasts what the round's Sessions wrote (a tracker's leases: the status
        # bar's pending count); ``_done`` adds the declared kinds of a round that says it changed
        self.ctx.runner.submit_io(round_, self._done, on_error=self._failed, label=self.job.label or self.job.name)
        return True

    def _failed(self, e: BaseException) -> None:
        self._done(None, ok=False, error=e)

    def _done(self, report: Any, *, ok: bool | None = None, error: BaseException | None = None) -> None:
        self.running = False
        self.last = report
        self.running_changed.emit(False)
        good = bool(getattr(report, "ok", True)) if ok is None else ok
        if not good and getattr(report, "error_kind", "") != "config":  # the support person's log: which job failed, when, and why (no secrets: filtered)
            why = error if error is not None else (getattr(report, "error", "") or "failed")
            log.warning("background job %s: %s", self.job.name, why)
        delay = self.backoff.next_delay(good) if self.job.backoff else self.backoff.interval_s
        self._timer.start(int(self.next_delay(report, delay) * 1000))
        if error is not None:
            self.ctx.signals.message.emit(f"{self.job.label or self.job.name}: {error}")
        elif report is not None and getattr(report, "changed", True):
            # what the round wrote through its Sessions was broadcast already (``submit_io``)
            declared = changes.kinds(self.job.kinds) - changes.for_tables(self._written)
            if declared:
                self.ctx.signals.emit_changed(declared)
        self.finished.emit(report)

    def next_delay(self, _report: Any, delay: float) -> float:
        """Seconds to the next round (a job's view may adjust it)."""
        return delay
