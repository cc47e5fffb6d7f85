"""Every screen on a 1366 x 768 laptop: the window never grows past it, and no column header is cut.

Opens the real main window at 1366 x 768 as an admin (who may open every screen), then every
screen of the rail and every tab inside a screen, with the small world's data loaded; after each
one the window must still fit, and every table or tree shown must give each visible column at
least the width of its header title (a user may narrow one later; we never ship it cut).
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QTableView,
    QTabWidget,
    QTreeView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.views.main_window import MainWindow
from app.views.screens import NAV
from tests.factories import World
from tests.views.conftest import MakeCtx

W, H = 1366, 768
PAD = 8  # the header's own margins: a title narrower than its section by less than this is cut


def _cut_headers(root: QWidget) -> list[str]:
    out = []
    for view in root.findChildren(QAbstractItemView):
        if not view.isVisible() or not isinstance(view, QTableView | QTreeView):
            continue
        header: QHeaderView = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
        if not header.isVisible():
            continue
        model = view.model()
        if model is None:
            continue
        fm = header.fontMetrics()
        last = max((c for c in range(header.count()) if not header.isSectionHidden(c)), default=-1)
        for col in range(header.count()):
            if header.isSectionHidden(col):
                continue
            title = str(model.headerData(col, header.orientation()) or "")
            need = fm.horizontalAdvance(title) + PAD
            if col == last and header.stretchLastSection():
                continue  # the last section takes what is left; it is wide unless the view is
            if header.sectionSize(col) < need:
                out.append(f"{view.objectName() or type(view).__name__}: '{title}' is {header.sectionSize(col)} px, "
                           f"needs {need}")
    return out


def _tabs(root: QWidget) -> list[QTabWidget]:
    return [t for t in root.findChildren(QTabWidget) if t.isVisible()]


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_every_screen_fits_a_laptop_and_cuts_no_column_header(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["root"])
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(W, H)
    win.show()
    qtbot.waitExposed(win)
    problems: list[str] = []
    for entry in NAV:
        page = win.open_screen(entry.key)
        assert page is not None, entry.key
        seen: set[int] = set()
        pending = [None]
        while pending:
            pending.pop()
            ctx.runner.wait_idle(10000)
            QApplication.processEvents()
            if win.width() > W or win.minimumSizeHint().width() > W:
                problems.append(f"{entry.title}: the window needs {max(win.width(), win.minimumSizeHint().width())} px")
            problems += [f"{entry.title}: {p}" for p in _cut_headers(page)]
            for tabs in _tabs(page):
                for i in range(tabs.count()):
                    key = hash((id(tabs), i))
                    if key not in seen and tabs.currentIndex() != i:
                        seen.add(key)
                        tabs.setCurrentIndex(i)
                        pending.append(None)
                        break
                seen.add(hash((id(tabs), tabs.currentIndex())))
        win.resize(W, H)
    assert ctx.runner.wait_idle(10000)
    assert problems == [], "\n".join(problems)
