"""The background sync controller and the Sync panel, driven with real widgets offscreen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.services.auth import Actor
from app.services.replication.engine import configure
from app.views.context import AppContext, make_test_context
from app.views.sync.controller import SyncController, kinds_for
from app.views.sync.panel import HISTORY_COLUMNS, RowsModel, SyncPanel
from app.views.widgets.paged import Column
from tests.sync.conftest import Net
from tests.sync.helpers import new_order, receive

MakeCtx = Callable[[Engine, Actor], AppContext]


@pytest.fixture
def make_ctx() -> Iterator[MakeCtx]:
    """Contexts whose op runners are drained (asserted) and shut down after the test, so no sync
    op is still running on a worker thread when the next test's database is built."""
    made: list[AppContext] = []

    def make(engine: Engine, actor: Actor) -> AppContext:
        made.append(make_test_context(engine, actor))
        return made[-1]

    yield make
    for c in made:
        assert c.runner.wait_idle(20_000)
        c.runner.shutdown()


def test_controller_syncs_off_the_gui_thread_and_reports_state(net: Net, qtbot: QtBot, make_ctx: MakeCtx) -> None:
    configure(net.dal.engine, net.dal.dsn)
    receive(net.hou, net.world, "HOU", "BOLT", 4)
    net.hou.sync()
    receive(net.dal, net.world, "DAL", "BOLT", 2)
    ctx = make_ctx(net.dal.engine, net.world.actors["alice"])
    ctrl = SyncController(ctx, interval_s=3600, autostart=False)
    states: list[str] = []
    ctrl.state_changed.connect(states.append)
    with qtbot.waitSignal(ctx.signals.data_changed, timeout=20_000) as changed:
        assert ctrl.sync_now()
        assert not ctrl.sync_now()  # one run at a time
    assert {"sync", "stock"} <= changed.args[0]
    qtbot.waitUntil(lambda: any(s.startswith("online · 0 pending") for s in states), timeout=10_000)
    assert ctrl.last is not None and ctrl.last.pushed == 1 and ctrl.last.pulled >= 1
    assert ctrl._timer.isActive()  # the next run is scheduled
    ctrl.stop()
    assert ctx.runner.wait_idle(20_000)


def test_controller_offline_shows_reason_and_backs_off(net: Net, qtbot: QtBot, make_ctx: MakeCtx) -> None:
    configure(net.dal.engine, "host=127.0.0.1 port=1 user=x dbname=x")
    receive(net.dal, net.world, "DAL", "BOLT", 2)
    ctx = make_ctx(net.dal.engine, net.world.actors["alice"])
    ctrl = SyncController(ctx, interval_s=3600, autostart=False)
    states: list[str] = []
    ctrl.state_changed.connect(states.append)
    with qtbot.waitSignal(ctrl.finished, timeout=20_000):
        ctrl.sync_now()
    qtbot.waitUntil(lambda: any(s.startswith("offline: server unreachable") and "1 pending" in s for s in states),
                    timeout=10_000)
    assert ctrl._timer.isActive() and ctrl._timer.interval() == 5000  # retried soon, not after the interval
    ctrl.stop()
    assert ctx.runner.wait_idle(20_000)


def test_panel_lists_history_pending_and_conflicts_and_syncs_now(net: Net, qtbot: QtBot, make_ctx: MakeCtx) -> None:
    from app.views.sync.panel import CONFLICT_COLUMNS

    configure(net.dal.engine, net.dal.dsn)
    oid = new_order(net.dal, net.world, "DAL", "DAL-SO-000300", status="cancelled")
    net.dal.sync()
    from tests.sync.helpers import edit_order

    edit_order(net.dal, oid, customer_po="after cancel")
    ctx = make_ctx(net.dal.engine, net.world.actors["alice"])
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.pending.rowCount() == 1, timeout=10_000)
    assert panel.pending.row(0)["tbl"] == "sales_order"
    assert "1 pending" in panel.state_label.text()
    panel.sync_button.click()
    qtbot.waitUntil(lambda: panel.conflicts.rowCount() == 1 and panel.pending.rowCount() == 0, timeout=20_000)
    assert panel.history.rowCount() >= 2
    assert "refuses edits" in panel.conflicts.row(0)["reason"]
    panel.views["conflicts"].selectRow(0)
    assert "after cancel" in panel.conflict_detail.toPlainText()
    assert panel.tabs.tabText(2) == "Conflict log (1)"
    assert [c.title for c in CONFLICT_COLUMNS][0] == panel.conflicts.headerData(0, __import__(
        "PySide6.QtCore", fromlist=["Qt"]).Qt.Orientation.Horizontal)
    panel.controller.stop()
    assert ctx.runner.wait_idle(20_000)


def test_sync_now_says_the_server_was_restored_from_an_older_backup(net: Net, qtbot: QtBot, make_ctx: MakeCtx) -> None:
    from tests.sync.test_server_restore import restore_after_more_work

    restore_after_more_work(net)
    configure(net.dal.engine, net.dal.dsn)
    ctx = make_ctx(net.dal.engine, net.world.actors["alice"])
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    panel.sync_now()
    qtbot.waitUntil(lambda: panel.result.text().startswith("Synced at"), timeout=20_000)
    assert "Note: the server was restored from an older backup" in panel.result.text()
    assert "pushed again" in panel.result.text()
    panel.controller.stop()
    assert ctx.runner.wait_idle(20_000)


def test_rows_model_is_a_well_behaved_qt_model(qtmodeltester: Any) -> None:
    m = RowsModel([Column("A", "a"), HISTORY_COLUMNS[1]])
    m.set_rows([{"a": 1, "ok": 1}, {"a": None, "ok": 0}])
    qtmodeltester.check(m)
    assert m.data(m.index(1, 1)) == "failed" and m.data(m.index(1, 0)) == ""


def test_kinds_follow_the_tables_that_changed() -> None:
    assert kinds_for(["stock_move", "sales_order_line", "item_uom"]) == {"sync", "stock", "order", "item"}


def test_unconfigured_site_says_not_connected_without_filling_history(net: Net, make_site: Any, make_ctx: MakeCtx,
                                                                      qtbot: QtBot) -> None:
    fresh = make_site("fresh", "")
    ctx = make_ctx(fresh.engine, net.world.actors["alice"])
    ctrl = SyncController(ctx, interval_s=60, autostart=False)
    states: list[str] = []
    ctrl.state_changed.connect(states.append)
    with qtbot.waitSignal(ctrl.finished, timeout=20_000):
        ctrl.sync_now()
    qtbot.waitUntil(lambda: any(s.startswith("not connected") for s in states), timeout=10_000)
    assert ctrl._timer.interval() == 60_000
    assert fresh.scalar("SELECT count(*) FROM sync_history") == 0
    ctrl.stop()
    assert ctx.runner.wait_idle(20_000)
