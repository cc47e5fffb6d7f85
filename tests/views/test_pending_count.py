"""The status bar's "N pending" (the sync outbox) is current after a background job writes to the
outbox, not only after the next sync: walked on a branch file, the tracker claimed its carrier
accounts' leases at start-up (five outbox rows, the Sync screen listed them) while the status bar
said "not connected · 0 pending" until the sync 30 s later."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.sync import SyncHistory
from app.models.types import utcnow
from app.services.replication.engine import pending_count
from app.views import main_window as mw
from app.views.sync.controller import SyncController
from app.views.tracking.poller import TrackingPoller
from tests.factories import become_branch_site
from tests.tracking_world import TrackWorld
from tests.views.conftest import MakeCtx


def test_the_status_bar_counts_the_leases_the_tracker_wrote(qtbot: QtBot, tw: TrackWorld, session: Session,
                                                            make_ctx: MakeCtx) -> None:
    become_branch_site(tw.engine, tw.world.dal)
    session.add(SyncHistory(started_at=utcnow(), ok=1))  # it synced a minute ago: it may claim leases
    session.execute(text("DELETE FROM sync_outbox"))
    session.commit()
    ctx = make_ctx(tw.world.actors["mike"])
    win = mw.MainWindow(ctx)
    qtbot.addWidget(win)
    sync = SyncController(ctx, interval_s=3600)  # the window's runners, as the background jobs start them
    win.job_started("sync", sync)
    with qtbot.waitSignal(sync.state_changed, timeout=5_000):
        sync.run_now()  # no server address on this file: "not connected"
    qtbot.waitUntil(lambda: win.sync_label.text() == "not connected · 0 pending", timeout=5_000)

    tracker = TrackingPoller(ctx, interval_s=3600)
    with qtbot.waitSignal(tracker.finished, timeout=10_000) as got:
        tracker.run_now()
    assert got.args[0].shipments == 0 and not got.args[0].changed  # nothing to poll: the round says "nothing due"
    assert pending_count(tw.engine) == len(tw.accounts) == 3  # but it claimed each account's lease
    qtbot.waitUntil(lambda: win.sync_label.text() == "not connected · 3 pending", timeout=5_000)
    tracker.stop()
    sync.stop()
