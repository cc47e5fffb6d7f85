"""The Dispatch screen on real threads: plan and release from the Waves tab (countdown, progress,
the wave's lines), pick lists printed in the background, and the Picking tab's scan field that
keeps the focus and answers in green or red."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.errors import ValidationError
from app.views.dispatch import waves_tab
from app.views.dispatch.screen import DispatchScreen
from app.views.widgets.scan_station import BAD_CSS, OK_CSS
from tests.factories import World
from tests.services.dispatch_helpers import allocated_orders, desk
from tests.views.conftest import MakeCtx

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, on show()

def _screen(qtbot: QtBot, ctx: object) -> DispatchScreen:
    s = DispatchScreen(ctx)  # type: ignore[arg-type]
    qtbot.addWidget(s)
    s.resize(1300, 700)
    s.show()
    qtbot.waitExposed(s)
    return s


@pytest.fixture
def book(session: Session, world: World) -> dict:
    p = desk(session, world)
    allocated_orders(session, world, p, [{"WIDGET": 6, "BOLT": 3}, {"BOLT": 2}],
                     {"WIDGET": [("DAL1-A-01", 10)], "BOLT": [("DAL1-A-02", 10)]})
    session.commit()
    return p


def test_plan_release_print_from_the_waves_tab(qtbot: QtBot, book: dict, make_ctx: MakeCtx, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, qtmodeltester: ModelTester) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(waves_tab.FolderChoice, "ask", staticmethod(lambda _p: tmp_path / "lists"))
    monkeypatch.setattr(waves_tab.DesktopOpener, "open", staticmethod(opened.append))
    s = _screen(qtbot, make_ctx(book["dan"]))
    w = s.waves
    qtbot.waitUntil(lambda: "No waves yet" in w.message.text(), timeout=10000)
    with qtbot.waitSignal(w.loaded, timeout=10000, check_params_cb=lambda n: n == 1):
        qtbot.mouseClick(w.plan_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Planned 1 wave(s), 3 line(s)" in w.message.text(), timeout=10000)
    qtmodeltester.check(w.model)
    row = w.model.row(0)
    assert (row.status, row.carrier, row.orders) == ("planned", "UPS", 2)
    qtbot.waitUntil(lambda: w.lines.rowCount() == 3, timeout=10000)
    assert [w.lines.row(r).bin for r in range(3)] == ["A-01", "A-02", "A-02"]
    w.view.selectRow(0)
    with qtbot.waitSignal(w.loaded, timeout=10000):
        qtbot.keyClick(w.view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.model.rowCount() == 1 and w.model.row(0).status == "released", timeout=10000)
    assert "Released" in w.message.text()
    w.view.selectRow(0)
    with qtbot.waitSignal(w.printed, timeout=20000) as got:
        qtbot.mouseClick(w.print_btn, Qt.MouseButton.LeftButton)
    run = got.args[0]
    assert run.printed == [row.number] and (tmp_path / "lists" / f"{row.number}-picklist.pdf").stat().st_size > 1000
    assert opened == [tmp_path / "lists"] and not w.progress.isVisible()
    # into the same folder, a list already there is not printed twice
    with qtbot.waitSignal(w.printed, timeout=20000) as got:
        qtbot.mouseClick(w.print_btn, Qt.MouseButton.LeftButton)
    assert got.args[0].printed == [] and got.args[0].skipped == [row.number]
    # a run that fails is resumed by the next Print, in its own folder
    monkeypatch.setattr(waves_tab.FolderChoice, "ask", staticmethod(lambda _p: tmp_path / "second"))
    real, calls = waves_tab.print_picklists, []

    def flaky(*a: object, **k: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise ValidationError("folder", "the disk is full")
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(waves_tab, "print_picklists", flaky)
    qtbot.mouseClick(w.print_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "the disk is full" in w.message.text() and not w.progress.isVisible(), timeout=20000)
    monkeypatch.setattr(waves_tab.FolderChoice, "ask", staticmethod(lambda _p: tmp_path / "never"))
    with qtbot.waitSignal(w.printed, timeout=20000) as got:
        qtbot.mouseClick(w.print_btn, Qt.MouseButton.LeftButton)
    assert got.args[0].folder == tmp_path / "second" and got.args[0].printed == [row.number]


def test_picking_tab_scans_keep_the_focus_and_answer_in_colour(qtbot: QtBot, book: dict, make_ctx: MakeCtx,
                                                                session: Session) -> None:
    from app.services.dispatch import waves
    from tests.services.dispatch_helpers import NOW
    number = waves.plan_waves(session, book["dan"], warehouse="DAL1", now=NOW).waves[0].number
    waves.release(session, book["dan"], [number])
    session.commit()
    s = _screen(qtbot, make_ctx(book["wes"]))
    qtbot.waitUntil(lambda: s.waves.model.rowCount() == 1, timeout=10000)
    s.waves.view.selectRow(0)
    qtbot.mouseClick(s.waves.pick_btn, Qt.MouseButton.LeftButton)
    p = s.picking
    assert s.tabs.currentWidget() is p
    qtbot.waitUntil(lambda: "Scan bin A-01" in p.feedback.text(), timeout=10000)
    qtbot.waitUntil(lambda: p.lines.rowCount() == 3, timeout=10000)
    p.lines_view.setFocus()  # a click elsewhere in the tab: the scan field takes the focus back
    qtbot.waitUntil(lambda: p.scan.hasFocus(), timeout=5000)

    def scan(text: str) -> object:
        with qtbot.waitSignal(p.answered, timeout=10000) as got:
            qtbot.keyClicks(p.scan, text)
            qtbot.keyClick(p.scan, Qt.Key.Key_Return)
        return got.args[0]

    fb = scan("C-01")
    assert not fb.ok and "wrong bin" in p.feedback.text() and p.feedback.styleSheet() == BAD_CSS
    assert scan("A-01").ok and p.feedback.styleSheet() == OK_CSS
    assert not scan("BOLT").ok
    assert scan("WIDGET").ok and "6 to pick into tote 1" in p.feedback.text()
    fb = scan("")
    assert fb.ok and "6 WIDGET from A-01 into tote 1" in p.feedback.text()
    assert p.scan.text() == "" and p.scan.hasFocus()
    qtbot.waitUntil(lambda: p.lines.rowCount() == 2, timeout=10000)
    assert "Scan the BIN" in p.step.text()


def test_the_windows_f5_plans_on_the_waves_tab_and_no_tab_binds_it(qtbot: QtBot, book: dict, make_ctx: MakeCtx) -> None:
    from PySide6.QtGui import QShortcut

    from app.views.main_window import MainWindow

    ctx = make_ctx(book["dan"])
    win = MainWindow(ctx, open_key="dispatch")
    qtbot.addWidget(win)
    screen = win.current_screen()
    assert isinstance(screen, DispatchScreen)
    assert [sc for sc in screen.findChildren(QShortcut) if sc.key().toString() == "F5"] == []
    qtbot.waitUntil(lambda: "No waves yet" in screen.waves.message.text(), timeout=10000)
    with qtbot.waitSignal(screen.waves.loaded, timeout=10000, check_params_cb=lambda n: n == 1):
        {a.text(): a for a in win.actions()}["Refresh"].trigger()
    assert ctx.runner.wait_idle(10000)


def test_the_board_shows_todays_waves_and_older_picked_ones_on_request(
        qtbot: QtBot, session: Session, world: World, make_ctx: MakeCtx) -> None:
    import datetime as dt

    from sqlalchemy import update

    from app.models.dispatch import Wave
    from app.models.types import utcnow
    from app.services.dispatch import queries, waves

    p = desk(session, world)
    now = utcnow()
    numbers = []
    for k, picked_ago in enumerate((dt.timedelta(days=9), dt.timedelta(days=1), None)):
        allocated_orders(session, world, p, [{"BOLT": 1}], {"BOLT": [("DAL1-A-02", 1)]})
        res = waves.plan_waves(session, p["dan"], warehouse="DAL1")
        assert res.waves, (k, res.notes)
        number = res.waves[0].number
        numbers.append(number)
        if picked_ago is not None:  # picked (as the weekly history waves the seed writes)
            waves.release(session, p["dan"], [number])
            session.execute(update(Wave).where(Wave.number == number)
                            .values(status="picked", picked_at=now - picked_ago))
        session.commit()
    old, recent, planned = numbers
    # the board: today's work and what was picked in the last two days; the 9-day-old wave on request
    assert [r.number for r in queries.list_waves(session)] == [planned, recent]
    assert queries.older_picked(session) == 1
    assert {r.number for r in queries.list_waves(session, older=True)} == {old, recent, planned}
    assert queries.older_picked(session, now=now + dt.timedelta(days=3)) == 2  # two days on, both are old
    s = _screen(qtbot, make_ctx(p["dan"]))
    w = s.waves
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=10000)
    assert [w.model.row(r).number for r in range(2)] == [planned, recent]
    assert "(1 older picked not shown)" in w.summary.text()
    # the line grows with the data: long counts wrap, the tab never asks for more than a laptop's width
    w.summary.setText("48 wave(s), 13 being picked, 12 late (139 older picked not shown)")
    assert w.minimumSizeHint().width() <= 1366 * 0.9 - 200  # the rail and margins take the rest
    w.older.setChecked(True)
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=10000)
    assert w.model.row(2).number == old and "older" not in w.summary.text()
