"""Delivers the e-mail outbox on a timer for as long as the window is open.

POs sent to suppliers are queued in the outbox in the same transaction that marks them
sent; this object hands due messages to SMTP once a minute, off the GUI thread, whatever
screen the user is on. The outbox's own back-off decides what is due.

Signals: delivered(object) with ``app.services.mail.SendReport`` after each run.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.services.errors import DomainError
from app.views.context import AppContext


class MailDelivery(QObject):
    delivered = Signal(object)
    INTERVAL_MS = 60_000

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, interval_ms: int | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms or self.INTERVAL_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.timer.timeout.connect(self.run_once)

    #: first run shortly after start, not during it (importing SMTP code costs cold-start time)
    FIRST_RUN_MS = 3_000

    def start(self, first_run_ms: int | None = None) -> None:
        self.timer.start()
        QTimer.singleShot(self.FIRST_RUN_MS if first_run_ms is None else first_run_ms, self, self.run_once)

    def stop(self) -> None:
        self.timer.stop()

    def run_once(self) -> bool:
        """Submit one delivery run; False (and nothing submitted) when SMTP is not configured."""
        from app.services import mail

        try:
            cfg = mail.config_from_settings(self.ctx.settings)
        except DomainError:
            return False
        self.ctx.runner.submit(lambda s: mail.send_due(s, cfg), self.delivered.emit, kinds=("mail",),
                               label="deliver e-mail")
        return True
