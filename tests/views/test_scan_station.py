"""The scan station Dispatch's Picking and Packing tabs share: the answer's colours and size, the
beep on a refusal, the field taking the focus back unless a list is being chosen from."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.views.widgets.scan_station import BAD_CSS, IDLE_CSS, OK_CSS, ScanStation
from tests.factories import World
from tests.views.conftest import MakeCtx


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_answers_beeps_and_the_focus_coming_back(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    beeps: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    owner = QWidget()
    station = ScanStation("test", "Scan the BIN", prompt_name="testStep")
    other, choice = QPushButton("elsewhere"), QComboBox()
    choice.addItems(["one", "two"])
    lay = QVBoxLayout(owner)
    for w in (station, other, choice):
        lay.addWidget(w)
    station.keep_focus(owner, lambda new: new is choice)
    qtbot.addWidget(owner)
    owner.show()
    qtbot.waitExposed(owner)
    assert (station.prompt.objectName(), station.scan.objectName(), station.feedback.objectName()) == (
        "testStep", "testScan", "testFeedback")
    with qtbot.waitSignal(station.entered) as got:
        qtbot.keyClicks(station.scan, "A-01")
        qtbot.keyClick(station.scan, Qt.Key.Key_Return)
    assert got.args == ["A-01"]
    station.show_answer("taken", True)
    assert station.feedback.styleSheet() == OK_CSS and beeps == []
    station.show_answer("wrong bin", False)
    assert station.feedback.styleSheet() == BAD_CSS and beeps == [1]
    station.show_answer("serial number?", None, beep=True)
    assert station.feedback.styleSheet() == IDLE_CSS and beeps == [1, 1]
    assert all("font-size: 22pt" in css for css in (OK_CSS, BAD_CSS, IDLE_CSS))  # big on every tab
    other.setFocus()
    qtbot.waitUntil(station.scan.hasFocus, timeout=5_000)
    choice.setFocus()  # choosing from a list keeps its focus
    QApplication.processEvents()
    assert choice.hasFocus()
    station.disable("needs the dispatch.pick right")
    assert not station.scan.isEnabled() and station.feedback.text() == "needs the dispatch.pick right"


def test_the_packing_answer_is_as_big_as_the_picking_one(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    """Packing's answer had its size in a QFont, which the application's style sheet overrides:
    both tabs' answers now carry it in their style sheets."""
    from app.views.dispatch.packing_tab import PackingTab
    from app.views.dispatch.picking_tab import PickingTab

    ctx = make_ctx(world.actors["root"])
    tabs = [PackingTab(ctx), PickingTab(ctx)]
    for tab in tabs:
        qtbot.addWidget(tab)
        tab._show("packed", True)
        assert "font-size: 22pt" in tab.feedback.styleSheet()
    assert ctx.runner.wait_idle(10_000)
