"""Per-screen layout memory: every splitter of a screen keeps where the user left it (QSettings).

Why generic: a screen author should not have to remember it. The main window calls
``remember_splitters(page, key)`` once for each screen it builds; each QSplitter of the screen is
keyed by its object name, or by its place among the screen's splitters, under
``screens/<key>/splitter/<name>``. Window geometry and state, the last screen and every table's
columns (order, widths, hidden, sort indicator) are kept by the main window and ``fit_columns``.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSplitter, QWidget

from app.views.widgets.qsettings import qsettings


def fit_to_screen(window: QWidget, width: int, height: int) -> QRect | None:
    """A window's first size (nothing saved yet): ``width`` x ``height``, but never larger than its screen's
    free area less room for the window manager's frame and title bar (which the size given here leaves
    out). Returns that free area (None without a screen): a 1280 x 800 main window put the status bar
    below a 1366 x 768 laptop's taskbar, a 1,100 px assistant its buttons off a 1,024 px screen."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(width, height)
        return None
    free = screen.availableGeometry()
    window.resize(min(width, free.width() - 16), min(height, free.height() - 40))
    return free


def splitter_key(screen_key: str, splitter: QSplitter, index: int) -> str:
    return f"screens/{screen_key}/splitter/{splitter.objectName() or index}"


def remember_splitters(page: QWidget, screen_key: str) -> list[QSplitter]:
    """Restore the saved sizes of ``page``'s splitters and save them whenever the user moves one."""
    splitters = page.findChildren(QSplitter)
    settings = qsettings()
    for i, sp in enumerate(splitters):
        key = splitter_key(screen_key, sp, i)
        state = settings.value(key)
        if isinstance(state, QByteArray | bytes) and state:
            sp.restoreState(QByteArray(state))
        sp.splitterMoved.connect(lambda _pos, _idx, s=sp, k=key: qsettings().setValue(k, s.saveState()))
    return splitters
