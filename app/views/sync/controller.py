"""Background sync for the window: runs ``sync_once`` on a timer, off the GUI thread.

The run goes to this controller's own one-thread pool, not to the op runner's single
writer: a sync waits on the network (up to the connect timeout when offline), and user
writes must never queue behind it. The SQLite transactions a sync makes are short, so the
busy timeout absorbs the overlap. After a run the status-bar text is emitted
("online · 0 pending · last sync 12:03" / "offline: server unreachable · 14 pending"), and
``data_changed({"sync", ...})`` tells screens when pulled rows changed their data. The
timer follows ``Backoff``: the normal interval after success, doubling delays after failures.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from app.services import wiring
from app.services.replication.engine import Backoff, SyncResult, status, sync_once
from app.views.context import AppContext

#: which screens care about rows of which tables (by table-name prefix)
KINDS_BY_PREFIX = {
    "item": "item", "stock_move": "stock", "lot": "stock", "purchase_order": "po", "requisition": "requisition",
    "expected_receipt": "receipt", "receipt": "receipt", "sales_order": "order", "shipment": "shipment",
    "tracking": "tracking", "supplier": "supplier", "customer": "customer", "app_user": "user", "approval": "approval",
}


def kinds_for(tables: list[str]) -> set[str]:
    out = {"sync"}
    for t in tables:
        for prefix, kind in KINDS_BY_PREFIX.items():
            if t.startswith(prefix):
                out.add(kind)
    return out


#: after a local write, sync this soon (debounce: a burst of writes gives one run)
PUSH_SOON_MS = 500


class _Bridge(QObject):
    done = Signal(object)


class _Run(QRunnable):
    def __init__(self, ctx: AppContext, bridge: _Bridge) -> None:
        super().__init__()
        self.ctx = ctx
        self.bridge = bridge

    def run(self) -> None:  # worker thread: no widgets
        try:
            wiring.load()  # the settlers a pull runs
            res: Any = sync_once(self.ctx.engine)
        except Exception as e:  # noqa: BLE001 - any failure is a status, never a crash of the window
            res = SyncResult(ok=False, state="offline", error=f"sync failed: {e}", error_kind="error")
        self.bridge.done.emit(res)


class SyncController(QObject):
    state_changed = Signal(str)
    finished = Signal(object)  # SyncResult
    running_changed = Signal(bool)

    def __init__(self, ctx: AppContext, *, interval_s: float | None = None, autostart: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        setattr(ctx, "_sync_controller", self)  # noqa: B010 - the panel finds the window's controller here
        interval = interval_s if interval_s is not None else float(ctx.settings.get("sync.interval_s", 30) or 30)
        self.backoff = Backoff(interval_s=interval)
        self.running = False
        self.last: SyncResult | None = None
        self._status_gen = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._bridge = _Bridge()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._connect_signals()
        if autostart:
            self._timer.start(1000)  # first run soon after the window opens, never during start-up

    @staticmethod
    def of(ctx: AppContext) -> SyncController:
        found = getattr(ctx, "_sync_controller", None)
        return found if isinstance(found, SyncController) else SyncController(ctx, autostart=False)

    def _connect_signals(self) -> None:
        self._timer.timeout.connect(self.sync_now)
        self._bridge.done.connect(self._on_done)
        self.ctx.signals.data_changed.connect(self._on_data_changed)

    @Slot()
    def sync_now(self) -> bool:
        """Start a run now unless one is running; returns whether it started."""
        if self.running:
            return False
        self._timer.stop()
        self.running = True
        self.running_changed.emit(True)
        self.state_changed.emit("syncing…")
        self._pool.start(_Run(self.ctx, self._bridge))
        return True

    @Slot(object)
    def _on_done(self, res: SyncResult) -> None:
        self.running = False
        self.last = res
        self.running_changed.emit(False)
        not_configured = res.error_kind == "config"  # check again at the normal interval, no back-off
        self._timer.start(int((self.backoff.interval_s if not_configured else self.backoff.next_delay(res.ok)) * 1000))
        self._read_status()
        if res.ok and (res.pulled or res.lost or res.rejected) and res.tables:
            self.ctx.signals.emit_changed(kinds_for(res.tables))
        self.finished.emit(res)

    @Slot(object)
    def _on_data_changed(self, kinds: Any) -> None:
        if "sync" in kinds or self.running:
            return
        # a local write: push it soon (debounced), so other branches see it within their interval
        if self.backoff.failures == 0 and (not self._timer.isActive() or self._timer.remainingTime() > PUSH_SOON_MS):
            self._timer.start(PUSH_SOON_MS)
        # a local write added to the outbox: refresh the pending count in the status bar
        self._read_status()

    def _read_status(self) -> None:
        """Status-bar text from the database, read on the op runner's read pool. Two reads may land
        in either order (one after a local write, one after the sync that pushed it): only the
        newest is shown, and none while a run is going (the bar says "syncing…" then)."""
        self._status_gen += 1
        gen = self._status_gen

        def show(st: Any) -> None:
            if gen == self._status_gen and not self.running:
                self.state_changed.emit(st.line())

        self.ctx.runner.submit(lambda s: status(s.get_bind()), show, write=False, label="sync status")

    def stop(self) -> None:
        self._timer.stop()
        self._pool.waitForDone(10_000)
