"""The print centre on a 1366 x 768 laptop: the queue's every column visible beside the preview
(no sideways scrolling to find a status or an amount), statuses in words, pages fit the pane."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.printing import QueueEntry, QueueRow
from app.views.main_window import MainWindow
from app.views.printcentre import screen as pc
from tests.factories import World
from tests.views.conftest import MakeCtx
from tests.views.test_print_centre import invoiced  # noqa: F401 - the fixture

W, H = 1366, 768


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_the_queue_fits_beside_the_preview_with_statuses_in_words(
        qtbot: QtBot, make_ctx: MakeCtx, session: Session, world: World, invoiced: list[str]) -> None:  # noqa: F811
    ctx = make_ctx(world.actors["clara"])
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(W, H)
    win.show()
    qtbot.waitExposed(win)
    screen = win.open_screen("print")
    assert isinstance(screen, pc.PrintCentreScreen)
    qtbot.waitUntil(lambda: len(screen.model.rows) == 10, timeout=10000)
    # the longest a real queue shows: a PO waiting for approval, a long supplier name, an amount
    # in the millions, printed before
    po = QueueEntry(QueueRow("po", "HOU-PO-001597", dt.date.today(), "SUP0031 Atlas Foods and Beverages 31",
                             "pending_approval", "1,234,567.89 USD"), "Purchase orders",
                    "printed by clerk 2026-12-05 14:03 (COPY)")
    screen._on_rows([po, *screen.model.rows])
    ctx.runner.wait_idle(10000)
    QApplication.processEvents()
    assert screen.model.data(screen.model.index(0, 4)) == "pending approval"
    assert [screen.status.itemText(i) for i in range(screen.status.count())][:3] == [
        "any status", "pending approval", "approved"]
    bar = screen.table.horizontalScrollBar()
    header = screen.table.horizontalHeader()
    used = sum(header.sectionSize(c) for c in range(header.count() - 1))
    assert bar.maximum() == 0, f"the queue needs {used} px and more; it has {screen.table.viewport().width()}"
    assert win.width() <= W
    # a page of the preview fits the pane's width (no sideways scrolling there either)
    screen.table.selectRow(1)
    qtbot.waitUntil(lambda: len(screen.preview.pages) == 1, timeout=10000)
    QApplication.processEvents()
    assert screen.preview.pages[0].width() <= screen.preview.viewport().width()
    assert screen.preview.horizontalScrollBar().maximum() == 0
    assert ctx.runner.wait_idle(10000)
