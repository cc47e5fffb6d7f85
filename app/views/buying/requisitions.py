"""RequisitionsView: accepted needs waiting to become POs or transfers (a Buying tab).

Lists requisitions by status; the buyer edits the quantity of an open one in place or
cancels the selected ones with a reason. Every change is one write op through the
runner; the list reloads on "requisition", "po" and "transfer" changes.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.buying import requisitions as rq
from app.services.buying.requisitions import RequisitionRow
from app.views.context import AppContext

Index = QModelIndex | QPersistentModelIndex
REFRESH_KINDS = frozenset({"requisition", "po", "transfer", "sync"})
COLUMNS = ("Number", "Kind", "Status", "SKU", "Warehouse", "Qty", "Suggested", "From", "Unit price", "Need by")
QTY_COL = 5


class RequisitionsModel(QAbstractTableModel):
    """Signals:
    qty_edited(object, int): (requisition id, new quantity) typed into an open row.
    """

    qty_edited = Signal(object, int)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[RequisitionRow] = []

    def set_rows(self, rows: list[RequisitionRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            status = f"{r.status} (on {r.covered_by}; its branch converts it when it syncs)" if r.covered_by else r.status
            cells = (r.number, r.kind, status, r.sku, r.warehouse, r.qty, r.recommended_qty, r.source,
                     f"{r.unit_price:,.4f}", r.need_by.isoformat() if r.need_by else "")
            v = cells[index.column()]
            return v if role == Qt.ItemDataRole.EditRole else str(v)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (QTY_COL, QTY_COL + 1, QTY_COL + 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return r
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == QTY_COL and self.rows[index.row()].status == "open":
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Hand the typed quantity to the view (which saves it through the service)."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != QTY_COL:
            return False
        try:
            qty = int(str(value).strip())
        except ValueError:
            return False
        self.qty_edited.emit(self.rows[index.row()].id, qty)
        return True


class RequisitionsView(QWidget):
    """Signals:
    loaded(int): rows shown after a reload.
    acted(str): an edit or cancel committed.
    failed(str): an op failed (also shown in the message label).
    """

    loaded = Signal(int)
    acted = Signal(str)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("requisitionsView")
        self._gen = 0
        self.status = QComboBox()
        for label, value in (("Open", "open"), ("Converted", "converted"), ("Cancelled", "cancelled"), ("All", None)):
            self.status.addItem(label, value)
        self.cancel_button = QPushButton("Cancel…")
        self.cancel_button.setEnabled(ctx.can("requisition.create"))
        self.reload_button = QPushButton("Reload")
        self.message = QLabel("")
        self.message.setObjectName("requisitionsMessage")
        self.model = RequisitionsModel(self)
        self.view = QTableView()
        self.view.setObjectName("requisitionsTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Status"))
        for w in (self.status, self.reload_button, self.cancel_button):
            bar.addWidget(w)
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.message)
        lay.addWidget(self.view, 1)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.status.currentIndexChanged.connect(lambda _i: self.reload())
        self.reload_button.clicked.connect(self.reload)
        self.cancel_button.clicked.connect(self._ask_cancel)
        self.model.qty_edited.connect(self.edit_qty)
        self.ctx.signals.data_changed.connect(self._on_data_changed)

    def reload(self) -> None:
        self._gen += 1
        gen, status = self._gen, self.status.currentData()

        def op(session: Session) -> list[RequisitionRow]:
            return rq.list_requisitions(session, status=status)

        self.ctx.runner.submit(op, lambda rows: self._loaded(gen, rows), on_error=self._error, write=False,
                               label="list requisitions")

    def _loaded(self, gen: int, rows: list[RequisitionRow]) -> None:
        if gen != self._gen:
            return
        self.model.set_rows(rows)
        self.loaded.emit(len(rows))

    def _on_data_changed(self, kinds: frozenset[str]) -> None:
        if kinds & REFRESH_KINDS:
            self.reload()

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.rows[r].id for r in rows if r < len(self.model.rows)]

    def _ask_cancel(self) -> None:
        if not self.selected_ids():
            self.message.setText("Select the requisitions to cancel")
            return
        reason, ok = QInputDialog.getText(self, "Cancel requisitions", "Reason:")
        if ok:
            self.cancel_selected(reason)

    def cancel_selected(self, reason: str) -> None:
        ids, actor = self.selected_ids(), self.ctx.actor

        def op(session: Session) -> list[str]:
            return [r.number for r in rq.cancel(session, actor, ids, reason)]

        self.ctx.runner.submit(op, lambda nums: self._acted(f"cancelled {', '.join(nums)}"), on_error=self._error,
                               kinds={"requisition"}, label="cancel requisitions")

    def edit_qty(self, requisition_id: uuid.UUID, qty: int) -> None:
        actor = self.ctx.actor

        def op(session: Session) -> str:
            r = rq.update_qty(session, actor, requisition_id, qty)
            return f"{r.number}: quantity {r.qty}"

        self.ctx.runner.submit(op, self._acted, on_error=self._error, kinds={"requisition"}, label="edit requisition")

    def _acted(self, text: str) -> None:
        self.message.setText(text)
        self.acted.emit(text)

    def _error(self, exc: BaseException) -> None:
        self.message.setText(str(exc))
        self.failed.emit(str(exc))
