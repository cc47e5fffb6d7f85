"""Background sync for the window: the sync job (``sync_once``) on a timer, off the GUI thread.

It is the runner of a background job (``app.views.jobs.JobRunner``): a round runs on the op
runner's I/O pool, not on its single writer: a sync waits on the network (up to the connect
timeout when offline), and user writes must never queue behind it. The SQLite transactions a
sync makes are short, so the busy timeout absorbs the overlap. After a run the status-bar text is emitted
("online · 0 pending · last sync 12:03" / "offline: server unreachable · 14 pending"), and
``data_changed({"sync", ...})`` tells screens when pulled rows changed their data. The
timer follows ``Backoff``: the normal interval after success, doubling delays after failures.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.services import changes
from app.services.changes import Change
from app.services.replication.engine import SYNC, SyncResult, status
from app.views.context import AppContext
from app.views.jobs import JobRunner


def kinds_for(tables: list[str]) -> frozenset[Change]:
    """What a sync that brought rows of ``tables`` changed: the same map the op runner uses."""
    return changes.for_tables(tables) | {Change.SYNC}


#: after a local write, sync this soon (debounce: a burst of writes gives one run)
PUSH_SOON_MS = 500


class SyncController(JobRunner):
    """The runner of the sync job (``app.services.replication.engine.SYNC``) with the status line.

    Signals (besides JobRunner's finished / running_changed):
        state_changed(str): the status-bar text ("online · 0 pending · last sync 12:03", "syncing…").
    """

    state_changed = Signal(str)

    def __init__(self, ctx: AppContext, *, interval_s: float | None = None, autostart: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(ctx, SYNC, parent, interval_s=interval_s)
        self._status_gen = 0
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        if autostart:
            self.start()

    @staticmethod
    def of(ctx: AppContext) -> SyncController:
        """The window's controller (started with the background jobs), else one of its own."""
        found = ctx.jobs.runner("sync") if ctx.jobs is not None else None
        return found if isinstance(found, SyncController) else SyncController(ctx)

    @Slot()
    def sync_now(self) -> bool:
        """Start a run now unless one is running; returns whether it started."""
        if self.running:
            return False
        self.state_changed.emit("syncing…")
        return self.run_now()

    def _done(self, report: Any, *, ok: bool | None = None, error: BaseException | None = None) -> None:
        res: SyncResult = report if report is not None else SyncResult(
            ok=False, state="offline", error=f"sync failed: {error}", error_kind="error")
        self.running = False
        self.last = res
        self.running_changed.emit(False)
        # not configured, or another program was syncing this file: again at the normal interval, no back-off
        not_configured = res.error_kind in ("config", "busy")
        self._timer.start(int((self.backoff.interval_s if not_configured else self.backoff.next_delay(res.ok)) * 1000))
        self._read_status()
        if res.ok and (res.pulled or res.lost or res.rejected) and res.tables:
            self.ctx.signals.emit_changed(kinds_for(res.tables))
        self.finished.emit(res)

    @Slot(object)
    def _on_data_changed(self, kinds: Any) -> None:
        if Change.SYNC in kinds or self.running:
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
