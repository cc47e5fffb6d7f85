"""The window's carrier poller: the runner of the ``tracking.poll`` background job
(``app.services.tracking.poller.POLL``), started with the other jobs by ``app.views.background``.

A cycle waits on carriers, so it runs on the op runner's I/O pool, never on its single writer:
users' writes never queue behind a carrier. Its database transactions are short (plan; one per 500
shipments answered), so they interleave with the user's ops. "Poll now" for one shipment goes to
the same pool; a cycle running at the same time is harmless (events are stored once, notices
queued once). After a round ``data_changed`` tells the screens (shipments, tracking, exceptions,
orders, mail).

Signals:
    cycle_done(object): the ``CycleReport`` of a cycle or a poll-now (on the GUI thread).
    failed(str): a cycle that raised (a bug or a locked database): the sentence to show.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.services.errors import DomainError
from app.services.tracking.poll_report import CycleReport
from app.services.tracking.poller import POLL, poll_job
from app.views.context import AppContext
from app.views.jobs import JobRunner


class TrackingPoller(JobRunner):
    cycle_done = Signal(object)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, interval_s: float | None = None) -> None:
        super().__init__(ctx, POLL, parent, interval_s=interval_s)
        self.last_error = ""
        self.finished.connect(self._on_finished)

    @staticmethod
    def of(ctx: AppContext, fallback: TrackingPoller | None = None) -> TrackingPoller:
        """The window's poller; without a window (its jobs not started), ``fallback`` or a new one
        that is not started (it polls only when asked)."""
        jobs = getattr(ctx, "jobs", None)
        runner = jobs.runner(POLL.name) if jobs is not None else None
        if isinstance(runner, TrackingPoller):
            return runner
        return fallback if fallback is not None else TrackingPoller(ctx)

    def poll_now(self, shipment_ids: Collection[Any]) -> None:
        """Ask the carrier about these shipments now, due or not."""
        engine, settings, ids = self.ctx.engine, self.ctx.settings, list(shipment_ids)
        self.ctx.runner.submit_io(lambda: poll_job(engine, settings, shipments=ids), self._now_done,
                                  on_error=self._now_failed, kinds=POLL.kinds, label="poll now")

    def _now_done(self, report: CycleReport) -> None:
        self.last, self.last_error = report, ""
        self.cycle_done.emit(report)

    def _now_failed(self, e: BaseException) -> None:
        self._say(e)

    def _failed(self, e: BaseException) -> None:
        self._say(e)
        super()._failed(e)

    def _say(self, e: BaseException) -> None:
        self.last_error = str(e) if isinstance(e, DomainError) else \
            f"tracking stopped by an unexpected error ({type(e).__name__}: {e})"
        self.failed.emit(self.last_error)

    def _on_finished(self, report: Any) -> None:
        if isinstance(report, CycleReport):
            self.last_error = ""
            self.cycle_done.emit(report)
