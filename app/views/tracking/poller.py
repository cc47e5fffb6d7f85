"""The window's carrier poller: ``services.tracking.poller.run_cycle`` on a timer, off the GUI
thread, for as long as the window is open.

A cycle waits on carriers (seconds, at worst their timeouts), so it runs on this object's own
one-thread pool, never on the op runner's single writer: users' writes never queue behind it. Its
database transactions are short (plan; one per account answered), so they interleave with the
user's ops on the busy timeout, as sync's do. "Poll now" for one shipment goes to the same pool,
so it never overlaps a cycle. After a cycle ``data_changed`` tells the screens (shipments,
tracking, exceptions, orders, mail) and the due customer notices go out when SMTP is set up.

Signals:
    cycle_done(object): the ``CycleReport`` of a cycle or a poll-now (on the GUI thread).
    failed(str): a cycle that raised (a bug or a locked database): the sentence to show.
    running_changed(bool): a cycle started / finished.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from app.services import mail, wiring
from app.services.errors import DomainError
from app.services.tracking.poller import CycleReport, run_cycle
from app.views.context import AppContext

KINDS = frozenset({"shipment", "tracking", "exception", "order", "mail"})
_POLLERS: dict[int, TrackingPoller] = {}


class _Bridge(QObject):
    done = Signal(object, object)  # report or None, error text or None


class _Cycle(QRunnable):
    def __init__(self, poller: TrackingPoller, shipments: Collection[Any] | None) -> None:
        super().__init__()
        self.poller = poller
        self.shipments = shipments

    def run(self) -> None:  # worker thread: no widgets
        p = self.poller
        try:
            wiring.load()  # the ERP responses are follow-ups registered by the service packages
            try:
                smtp: mail.SmtpConfig | None = mail.config_from_settings(p.ctx.settings)
            except DomainError:
                smtp = None  # no mail server yet: notices wait in the outbox
            report = run_cycle(p.ctx.engine, p.ctx.settings, shipments=self.shipments, force=self.shipments is not None,
                               smtp=smtp)
        except DomainError as e:
            p.bridge.done.emit(None, str(e))
        except Exception as e:  # noqa: BLE001 - a failing cycle is a status line, never a crashed window
            p.bridge.done.emit(None, f"tracking stopped by an unexpected error ({type(e).__name__}: {e})")
        else:
            p.bridge.done.emit(report, None)


class TrackingPoller(QObject):
    cycle_done = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)
    INTERVAL_MS = 60_000
    FIRST_RUN_MS = 5_000

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, interval_ms: int | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.interval_ms = interval_ms or self.INTERVAL_MS
        self.running = False
        self.last: CycleReport | None = None
        self.last_error = ""
        self._queued: list[Collection[Any] | None] = []
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.bridge = _Bridge()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self._connect_signals()
        _POLLERS[id(ctx)] = self

    @staticmethod
    def of(ctx: AppContext) -> TrackingPoller:
        """The window's poller (a screen built without a window gets one that is not started)."""
        return _POLLERS.get(id(ctx)) or TrackingPoller(ctx)

    def _connect_signals(self) -> None:
        self.timer.timeout.connect(self.poll_due)
        self.bridge.done.connect(self._on_done)

    def start(self, first_run_ms: int | None = None) -> None:
        self.timer.start(self.FIRST_RUN_MS if first_run_ms is None else first_run_ms)

    def stop(self) -> None:
        self.timer.stop()
        self._queued.clear()
        self.pool.waitForDone(30_000)
        if _POLLERS.get(id(self.ctx)) is self:
            del _POLLERS[id(self.ctx)]

    @Slot()
    def poll_due(self) -> bool:
        """A cycle over what is due now (False when one is running: it will be queued)."""
        return self._submit(None)

    def poll_now(self, shipment_ids: Collection[Any]) -> bool:
        """Ask the carrier about these shipments now, due or not (after a running cycle)."""
        return self._submit(list(shipment_ids))

    def _submit(self, shipments: Collection[Any] | None) -> bool:
        if self.running:
            if shipments is not None or None not in self._queued:
                self._queued.append(shipments)
            return False
        self.timer.stop()
        self.running = True
        self.running_changed.emit(True)
        self.pool.start(_Cycle(self, shipments))
        return True

    @Slot(object, object)
    def _on_done(self, report: CycleReport | None, error: str | None) -> None:
        self.running = False
        self.running_changed.emit(False)
        if report is not None:
            self.last, self.last_error = report, ""
            if report.shipments or report.notices or report.changed:
                self.ctx.signals.emit_changed(KINDS)
            self.cycle_done.emit(report)
        else:
            self.last_error = error or "tracking failed"
            self.failed.emit(self.last_error)
        if self._queued:
            self._submit(self._queued.pop(0))
        else:
            self.timer.start(self.interval_ms)
