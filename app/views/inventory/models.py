"""Table models of the Inventory screen: plain rows of dataclasses, and the blind count sheet.

Why a plain-rows model beside the paged one: figure, bin and ATP tables of one item are a few
dozen rows that come back in one op; only the ledger history needs paging.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.services.inventory.counts import SheetLine
from app.views.widgets.rows import RowsModel

__all__ = ["CountSheetModel", "RowsModel"]

Index = QModelIndex | QPersistentModelIndex


class CountSheetModel(QAbstractTableModel):
    """The counter's sheet: SKU, description, lot, and an editable counted quantity.

    It is built from ``SheetLine`` rows, which carry no expected quantity, so nothing on
    this screen can show one. Lines not to count (a recount of other lines) are read-only.
    """

    HEADERS = ("SKU", "Description", "Lot", "Counted")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[SheetLine] = []
        self._qty: list[str] = []

    def set_lines(self, lines: Sequence[SheetLine]) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self._qty = ["" if ln.counted_qty is None else str(ln.counted_qty) for ln in lines]
        self.endResetModel()

    def line(self, r: int) -> SheetLine:
        return self._lines[r]

    def entries(self) -> list[tuple[SheetLine, str]]:
        """(line, typed quantity) for every line to count."""
        return [(ln, q) for ln, q in zip(self._lines, self._qty, strict=True) if ln.to_count]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._lines) or index.column() >= 4:
            return None
        ln = self._lines[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return (ln.sku, ln.description, ln.lot_code, self._qty[index.row()])[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 3 and self._lines[index.row()].to_count:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or index.column() != 3 or role != Qt.ItemDataRole.EditRole:
            return False
        if not self._lines[index.row()].to_count:
            return False
        self._qty[index.row()] = str(value).strip()
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole])
        return True

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < 4:
            return self.HEADERS[section]
        return None
