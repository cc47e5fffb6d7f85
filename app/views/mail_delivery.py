"""Delivers the e-mail outbox on a timer for as long as the window is open.

POs sent to suppliers are queued in the outbox in the same transaction that marks them sent; this
runner of the outbox's background job (``app.services.mail.DELIVERY``) hands due messages to SMTP
once a minute on the op runner's I/O pool, whatever screen the user is on: it reads what is due,
talks SMTP with no transaction open and records the outcomes in one short write, so a slow mail
server never holds the database's write lock. The outbox's own back-off decides what is due.

Signals: delivered(object) with ``app.services.mail.SendReport`` after each run.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.services import mail
from app.views.context import AppContext
from app.views.jobs import JobRunner


class MailDelivery(JobRunner):
    delivered = Signal(object)
    INTERVAL_MS = 60_000
    #: first run shortly after start, not during it
    FIRST_RUN_MS = 3_000

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, interval_ms: int | None = None) -> None:
        super().__init__(ctx, mail.DELIVERY, parent, interval_s=(interval_ms or self.INTERVAL_MS) / 1000)
        self.finished.connect(self._delivered)

    def _delivered(self, report: object) -> None:
        if report is not None:
            self.delivered.emit(report)

    def start(self, first_run_ms: int | None = None) -> None:
        super().start(self.FIRST_RUN_MS if first_run_ms is None else first_run_ms)

    def run_once(self) -> bool:
        """Start one delivery run; False (and nothing started) when SMTP is not configured."""
        if not self.ready():
            return False
        return self.run_now() or self.running
