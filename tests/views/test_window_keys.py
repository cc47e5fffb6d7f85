"""The window's F5 (Refresh) and Ctrl+F (Find) reach every screen: no screen binds those keys itself.

A screen's own QShortcut for a key the window already binds makes Qt see two shortcuts for one key
in one window ("QAction::event: Ambiguous shortcut overload: F5") and fire neither: the Allocation
run's "Simulate (F5)" did nothing under X11. The window's actions call the screen's ``refresh`` /
``focus_search`` instead; tabbed screens pass them on to the open tab.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QTabWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.views.main_window import MainWindow
from app.views.screens import NAV
from tests.factories import World
from tests.services.sales_helpers import customer, order, people, put
from tests.views.conftest import MakeCtx


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_no_screen_binds_a_key_of_the_window(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["root"])
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    window_keys = {a.shortcut().toString() for a in win.actions() if not a.shortcut().isEmpty()}
    assert {"F5", QKeySequence(QKeySequence.StandardKey.Find).toString()} <= window_keys
    clashes = []
    for entry in NAV:
        page = win.open_screen(entry.key)
        assert page is not None, entry.key
        for tabs in page.findChildren(QTabWidget):  # tabs built on first view (Buying) get built
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
        ctx.runner.wait_idle(10000)
        QApplication.processEvents()
        for sc in page.findChildren(QShortcut):
            if sc.key().toString() in window_keys:
                clashes.append(f"{entry.title}: {type(sc.parent()).__name__} binds {sc.key().toString()}")
    assert ctx.runner.wait_idle(10000)
    assert clashes == []


def test_f5_simulates_on_the_allocation_run_and_ctrl_f_finds_an_order(qtbot: QtBot, session: Session, world: World,
                                                                      make_ctx: MakeCtx) -> None:
    p = people(session, world)
    put(session, world, "WIDGET", 10)
    order(session, world, p["clara"], customer(session, "GOLDCO", "gold"), {"WIDGET": 4})
    session.commit()
    ctx = make_ctx(p["dan"])
    win = MainWindow(ctx, open_key="allocation")
    qtbot.addWidget(win)
    acts = {a.text(): a for a in win.actions()}
    screen = win.current_screen()
    screen.tabs.setCurrentWidget(screen.run)  # type: ignore[union-attr]
    with qtbot.waitSignal(screen.run.simulated, timeout=10000) as got:  # type: ignore[union-attr]
        acts["Refresh"].trigger()
    assert got.args[0].figures()["changed"] == 1
    acts["Find"].trigger()
    assert screen.tabs.currentWidget() is screen.orders  # type: ignore[union-attr]
    assert ctx.runner.wait_idle(10000)


def test_f5_runs_the_buying_worklist(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["alice"])
    win = MainWindow(ctx, open_key="buying")
    qtbot.addWidget(win)
    buying = win.current_screen()
    worklist = buying.tab_widget("Worklist")  # type: ignore[union-attr]
    ctx.runner.wait_idle(10000)
    calls: list[str] = []
    worklist.refresh = lambda: calls.append("refresh")  # type: ignore[union-attr, method-assign]
    {a.text(): a for a in win.actions()}["Refresh"].trigger()
    assert calls == ["refresh"]
    assert ctx.runner.wait_idle(10000)


def test_f5_plans_waves_rates_and_builds_the_manifest_on_the_dispatch_tabs(qtbot: QtBot, world: World,
                                                                            make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["root"])
    win = MainWindow(ctx, open_key="dispatch")
    qtbot.addWidget(win)
    screen = win.current_screen()
    ctx.runner.wait_idle(10000)
    calls: list[str] = []
    screen.waves.plan = lambda: calls.append("plan")  # type: ignore[union-attr, method-assign]
    screen.shipping.rate = lambda: calls.append("rate")  # type: ignore[union-attr, method-assign]
    screen.manifest.build = lambda: calls.append("build")  # type: ignore[union-attr, method-assign]
    refresh = {a.text(): a for a in win.actions()}["Refresh"]
    for tab in (screen.waves, screen.shipping, screen.manifest):  # type: ignore[union-attr]
        screen.tabs.setCurrentWidget(tab)  # type: ignore[union-attr]
        refresh.trigger()
    assert calls == ["plan", "rate", "build"]
    assert ctx.runner.wait_idle(10000)
