"""The one table model over a list of rows that arrive in one op, read-only or editable.

For bounded lists (one item's bins, a PO's lines, a count sheet, the requisitions, the worklist):
no paging needed. Rows are objects or dicts; ``Column`` (shared with the paged model) says how to
show each column and whether a row's cell may be edited. What a user types goes to
``on_edit(row, column, text)``, which keeps it (or saves it through an op) and answers whether it
was taken; nothing in the model knows the rows' meaning. ``highlight(row)`` tints rows that need
attention (True: the default tint, or a colour of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.views.widgets.paged import Column

Index = QModelIndex | QPersistentModelIndex
HIGHLIGHT = QColor("#fff3cd")
#: on_edit(row, column, typed text) -> whether the value was taken
OnEdit = Callable[[Any, Column, str], bool]


class RowsModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], parent: Any = None,
                 highlight: Callable[[Any], bool | QColor] | None = None, on_edit: OnEdit | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: list[Any] = []
        self._highlight = highlight
        self._on_edit = on_edit

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, r: int) -> Any:
        return self._rows[r]

    def rows(self) -> list[Any]:
        return list(self._rows)

    def refresh_row(self, r: int) -> None:
        """Show row ``r`` again (after what it shows changed outside the model)."""
        if 0 <= r < len(self._rows):
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(self.columns) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= len(self.columns):
            return None
        col, row = self.columns[index.column()], self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == Qt.ItemDataRole.EditRole:
            return col.value(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(row) if col.tooltip is not None else col.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and self._highlight:
            tint = self._highlight(row)
            if tint:
                return QBrush(tint if isinstance(tint, QColor) else HIGHLIGHT)
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        col = self.columns[index.column()] if index.column() < len(self.columns) else None
        if col is not None and col.editable is not None and self._on_edit is not None \
                and index.row() < len(self._rows) and col.editable(self._rows[index.row()]):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        assert self._on_edit is not None
        taken = self._on_edit(self._rows[index.row()], self.columns[index.column()], str(value).strip())
        if taken:
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole])
        return taken

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.columns):
            return self.columns[section].title
        return None
