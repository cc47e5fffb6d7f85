"""The window's background jobs, started in one place: every job registered in ``app.services.jobs``
(e-mail delivery, sync, and next the carrier poller) runs on a timer on the op runner's I/O pool.

``BackgroundJobs.start()`` (called once by ``app.gui.start_background_services``) loads the service
packages on a worker (their modules register the jobs; not on the GUI thread, not before the first
paint), then gives each job a ``JobRunner``: the generic one, or the view a job needs for its own
status (``VIEWS``: the sync controller feeds the status bar). A new job needs no code here.

Signals:
    runner_started(str, object): a job's runner was started (name, runner); the window connects
        the ones it shows (the sync state in the status bar).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from app.services import jobs, wiring
from app.services.jobs import Job
from app.views.context import AppContext
from app.views.jobs import JobRunner
from app.views.mail_delivery import MailDelivery
from app.views.sync.controller import SyncController
from app.views.tracking.poller import TrackingPoller

#: jobs whose runner is a view of their own (the rest get a plain ``JobRunner``)
VIEWS: dict[str, Callable[[AppContext, QObject], JobRunner]] = {
    "sync": lambda ctx, parent: SyncController(ctx, parent=parent),
    "mail": lambda ctx, parent: MailDelivery(ctx, parent),
    "tracking.poll": lambda ctx, parent: TrackingPoller(ctx, parent),
}


class BackgroundJobs(QObject):
    """Every registered job's runner, started and stopped together (see the module docstring)."""

    runner_started = Signal(str, object)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runners: dict[str, JobRunner] = {}
        self._stopped = False

    def start(self, delay_ms: int = 0) -> None:
        """Load the service packages on the I/O pool (they register the jobs), then start a runner per job."""
        def loaded() -> list[Job]:
            wiring.load()
            return jobs.registered()

        QTimer.singleShot(delay_ms, self, lambda: self.ctx.runner.submit_io(loaded, self._start_all,
                                                                             label="start background jobs"))

    def _start_all(self, registered: list[Job]) -> None:
        if self._stopped:
            return
        for job in registered:
            if job.name in self.runners:
                continue
            runner = self.view_for(job)
            self.runners[job.name] = runner
            runner.start()
            self.runner_started.emit(job.name, runner)

    def view_for(self, job: Job) -> JobRunner:
        make = VIEWS.get(job.name)
        return make(self.ctx, self) if make is not None else JobRunner(self.ctx, job, self)

    def runner(self, name: str) -> JobRunner | None:
        return self.runners.get(name)

    def stop(self) -> None:
        self._stopped = True
        for r in self.runners.values():
            r.stop()
