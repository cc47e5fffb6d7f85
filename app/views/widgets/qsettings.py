"""Window and table layout memory via QSettings (organisation "Depot").

Only layout lives here (geometry, splitter and header state); real settings are in
app.services.settings. ``DEPOT_QSETTINGS_FILE`` points QSettings at an INI file, which
tests and benchmarks use so they never touch the user's stored layout.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QPoint, QSettings, Qt
from PySide6.QtWidgets import QHeaderView, QMenu, QTableView

ORG = "Depot"
APP = "Depot"


def qsettings() -> QSettings:
    path = os.environ.get("DEPOT_QSETTINGS_FILE")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(ORG, APP)


def persist_header(view: QTableView, key: str, should_save: Callable[[], bool] | None = None) -> None:
    """Restore the header's column order, widths and hidden columns; save them on change
    (``should_save`` lets a caller skip saving its own programmatic resizes).

    A right-click on the header offers a checkable list of columns to show or hide.
    """
    header = view.horizontalHeader()
    state = qsettings().value(f"tables/{key}/header")
    if isinstance(state, QByteArray | bytes) and state:
        header.restoreState(QByteArray(state))

    def save() -> None:
        if should_save is not None and not should_save():
            return
        s = qsettings()
        s.setValue(f"tables/{key}/header", header.saveState())

    header.sectionMoved.connect(lambda *_: save())
    header.sectionResized.connect(lambda *_: save())
    header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def menu(pos: QPoint) -> None:
        m = QMenu(header)
        model = view.model()
        for col in range(header.count()):
            title = str(model.headerData(col, Qt.Orientation.Horizontal)) if model else str(col)
            act = m.addAction(title)
            act.setCheckable(True)
            act.setChecked(not header.isSectionHidden(col))
            def toggle(on: bool, c: int = col) -> None:
                header.setSectionHidden(c, not on)
                save()

            act.toggled.connect(toggle)
        m.exec(header.mapToGlobal(pos))

    header.customContextMenuRequested.connect(menu)


def restore_header_default(header: QHeaderView) -> None:
    for col in range(header.count()):
        header.setSectionHidden(col, False)
