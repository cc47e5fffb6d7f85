"""Columns that fit: sized to their contents, never narrower than their header, resizable by the
user and remembered (QSettings via ``persist_header``).

Until the user drags a column, every reload sizes the columns to what they show (capped, so one
long description does not push the rest off a laptop screen; the cut text is elided in the middle,
where codes keep their prefix and their number). Once the user has resized a column, their widths
are kept, across reloads and restarts.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from app.views.widgets.qsettings import persist_header, qsettings

#: padding beside a header's text (sort indicator, margins) so the title is never cut
HEADER_PAD = 18
MAX_AUTO_WIDTH = 320


class _DragWatcher(QObject):
    """Marks the view while a mouse button is down on its header (a user dragging a column edge)."""

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self.view = view

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.MouseButtonPress:
            self.view.setProperty("_dragging", True)
        elif event.type() == QEvent.Type.MouseButtonRelease:
            self.view.setProperty("_dragging", False)
        return False


def header_min_width(view: QTableView, col: int) -> int:
    """The width a column needs to show its whole header title."""
    model = view.model()
    title = str(model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "") if model else ""
    return view.horizontalHeader().fontMetrics().horizontalAdvance(title) + HEADER_PAD


def fit_now(view: QTableView, max_width: int = MAX_AUTO_WIDTH) -> None:
    """Size every column to its contents (at most ``max_width``) and at least its header title."""
    header = view.horizontalHeader()
    view.setProperty("_fitting", True)
    try:
        view.resizeColumnsToContents()
        for col in range(header.count()):
            want = max(min(header.sectionSize(col), max_width), header_min_width(view, col))
            if header.sectionSize(col) != want:
                header.resizeSection(col, want)
    finally:
        view.setProperty("_fitting", False)


def fit_columns(view: QTableView, key: str, *, max_width: int = MAX_AUTO_WIDTH) -> None:
    """Make ``view``'s columns fit (see the module doc); ``key`` names the remembered layout."""
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setMinimumSectionSize(32)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.setWordWrap(False)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    saved = qsettings().value(f"tables/{key}/header")
    user_sized = isinstance(saved, QByteArray | bytes) and bool(saved)
    view.setProperty("_user_sized", user_sized)
    # only a drag by the user counts: the header itself resizes sections too (the stretched last
    # one when the view is shown or resized), and those must neither stop fitting nor be saved
    watcher = _DragWatcher(view)
    header.viewport().installEventFilter(watcher)
    persist_header(view, key, should_save=lambda: bool(view.property("_dragging")))

    def on_resized(*_args: object) -> None:
        if view.property("_dragging"):
            view.setProperty("_user_sized", True)

    header.sectionResized.connect(on_resized)

    def refit(*_args: object) -> None:
        if not view.property("_user_sized"):
            fit_now(view, max_width)

    model = view.model()
    if model is not None:
        model.modelReset.connect(refit)
        model.rowsInserted.connect(refit)
        model.layoutChanged.connect(refit)
    refit()
