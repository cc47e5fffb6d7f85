"""Sign out / switch user: the next shift signs in without restarting the application."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.services.auth import Actor
from app.views.main_window import MainWindow
from tests.factories import World
from tests.views.conftest import MakeCtx


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_sign_out_brings_the_sign_in_back_and_the_next_user_gets_their_own_window(
        qtbot: QtBot, world: World, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.gui as gui

    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("DEPOT_QSETTINGS_FILE", str(tmp_path / "qt.ini"))
    monkeypatch.setattr(gui, "start_background_services", lambda ctx, window, **_kw: [])
    asked: list[str] = []
    users = iter(["mike", "rita"])
    titles: list[str] = []
    windows: list[MainWindow] = []

    def ask(cls: Any, engine: Engine, username: str = "", parent: Any = None) -> Actor | None:
        asked.append(username)
        name = next(users, None)
        if name is None:
            return None

        def act() -> None:
            win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
            titles.append(win.windowTitle())
            windows.append(win)
            if win.ctx.actor.username == "mike":
                win.sign_out_button.click()  # the first shift signs out
            else:
                win.close()  # the second one quits

        QTimer.singleShot(300, act)
        return world.actors[name]

    monkeypatch.setattr(gui.LoginDialog, "ask", classmethod(ask))
    rc = gui.launch(argparse.Namespace(db=db_path, demo=False, user="mike"))
    assert rc == 0
    assert titles == ["Depot - mike", "Depot - rita"]
    assert asked == ["mike", ""]  # after signing out, the dialog asks afresh (no name pre-filled)
    # Qt deleted the signed-out window (not left, alive, to the cycle collector); the last one lives on
    assert not shiboken6.isValid(windows[0]) and shiboken6.isValid(windows[1])


def test_the_sign_out_shortcut_waits_for_running_work_and_closes(qtbot: QtBot, world: World,
                                                                  make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["rita"])
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    assert win.sign_out_action.shortcut().toString() == "Ctrl+Shift+L"
    with qtbot.waitSignal(win.sign_out_requested, timeout=5000):
        win.sign_out_action.trigger()
    assert win.signing_out and not win.isVisible()
