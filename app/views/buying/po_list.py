"""PurchaseOrdersView: the paged PO list (filter by status, supplier, number) beside the detail.

Pages come from ``purchasing.list_pos`` through the shared PagedTableModel (a page at a
time, off the GUI thread). Choosing a row loads it in the PoDetailView on the right. A
small "New PO" dialog creates one by hand (supplier, warehouse, SKU:QTY[:PRICE] lines);
the service validates every line and says which one is wrong.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import workflow
from app.services.buying import conversion, purchasing
from app.services.changes import Change
from app.services.errors import ValidationError
from app.views.buying.po_detail import PoDetailView
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.flow import FlowRow
from app.views.widgets.paged import Column, PagedTableModel

COLUMNS = (
    Column("Number", "number"),
    Column("Rev", "revision", align_right=True),
    Column("Status", "status", fmt=lambda v: str(v).replace("_", " ")),
    Column("Supplier", "supplier_code"),
    Column("Date", "order_date", fmt=lambda v: v.isoformat()),
    Column("Lines", "lines", align_right=True),
    Column("Total", "total", align_right=True, fmt=lambda v: f"{v:,.2f}"),  # list_pos: sum of printed extensions
    Column("Cur", "currency"),
    Column("Rush", "rush", fmt=lambda v: "rush" if v else ""),
)
REFRESH_KINDS = frozenset({Change.PO, Change.APPROVAL, Change.RECEIPT, Change.SUPPLIER})


class PoTableModel(PagedTableModel):
    def __init__(self, runner: Any, *, page_size: int = 200, parent: Any = None) -> None:
        super().__init__(runner, purchasing.page_pos, COLUMNS, page_size=page_size, parent=parent)


class NewPoDialog(QDialog):
    """Supplier, warehouse and lines as text: quick to type, and the service checks it all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New purchase order")
        self.supplier = QLineEdit()
        self.warehouse = QLineEdit()
        self.lines = QPlainTextEdit()
        self.lines.setPlaceholderText("one line each: SKU:QTY or SKU:QTY:PRICE")
        self.rush = QCheckBox("Rush order")
        self.submit_now = QCheckBox("Submit for approval now")
        self.submit_now.setChecked(True)
        form = QFormLayout(self)
        form.addRow("Supplier code", self.supplier)
        form.addRow("Ship-to warehouse", self.warehouse)
        form.addRow("Lines", self.lines)
        form.addRow("", self.rush)
        form.addRow("", self.submit_now)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def line_inputs(self) -> list[purchasing.LineInput]:
        out = []
        for n, raw in enumerate((x.strip() for x in self.lines.toPlainText().splitlines()), 1):
            if not raw:
                continue
            parts = raw.split(":")
            if len(parts) not in (2, 3):
                raise ValidationError(f"line {n}", f"{raw!r} is not SKU:QTY or SKU:QTY:PRICE")
            out.append(purchasing.LineInput(sku=parts[0], qty=parts[1], price=parts[2] if len(parts) == 3 else None))
        return out


class CloseRequisitionsQuestion:
    """"This PO covers open requisitions: mark them converted?" (tests replace ``ask``)."""

    @staticmethod
    def ask(parent: QWidget | None, number: str, covered: list[conversion.CoveredRequisition]) -> bool:
        what = "\n".join(f"  {c.number}: {c.qty:,} x {c.sku} for {c.warehouse}" + (f" (from {c.supplier_code})"
                          if c.supplier_code else "") for c in covered)
        answer = QMessageBox.question(
            parent, "Close requisitions",
            f"{number} orders what these open requisitions ask for:\n{what}\n\nMark them converted into {number}? "
            "Left open, the next replenishment run counts the need twice.")
        return answer == QMessageBox.StandardButton.Yes


class PurchaseOrdersView(QWidget):
    """Signals: created(str) with the new PO's number."""

    created = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = PoTableModel(ctx.runner, parent=self)
        self.status = QComboBox()
        self.status.addItem("All statuses", "")
        for st in workflow.states("purchase_order"):
            self.status.addItem(st.replace("_", " "), st)
        self.supplier = QLineEdit()
        self.supplier.setPlaceholderText("Supplier code")
        self.search = QLineEdit()
        self.search.setPlaceholderText("PO number contains…")
        self.new_button = QPushButton("&New PO…")
        self.new_button.setEnabled(ctx.can("po.create"))
        self.count = QLabel("")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.detail = PoDetailView(ctx)
        self._pending_select = ""
        fit_columns(self.table, "purchase_orders")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self.supplier.setMinimumWidth(90)
        self.search.setMinimumWidth(130)
        top, second = FlowRow(), QHBoxLayout()  # the filters wrap beside an open PO on a narrow window
        for w in (self.status, self.supplier, self.search):
            top.addWidget(w)
        second.addWidget(self.count)
        second.addStretch(1)
        second.addWidget(self.new_button)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(top)
        ll.addLayout(second)
        ll.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.detail)
        split.setSizes([500, 600])
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        self._connect_signals()
        self.apply_filter()

    def _connect_signals(self) -> None:
        self.status.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.supplier.textChanged.connect(lambda _t: self._debounce.start())
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self._debounce.timeout.connect(self.apply_filter)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        self.model.page_loaded.connect(lambda _n: self._select_pending())
        self.model.page_loaded.connect(lambda n: self.count.setText(f"{n} shown" + ("+" if self.model.has_more else "")))
        self.model.load_failed.connect(lambda t: self.count.setText(f"Could not load: {t}"))
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        self.new_button.clicked.connect(self._new_po)

    def apply_filter(self) -> None:
        self.model.set_query({"status": self.status.currentData() or "", "supplier": self.supplier.text().strip(),
                              "search": self.search.text().strip()})

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            self.detail.load(self.model.row(current.row()).id)

    def _on_data_changed(self, kinds: frozenset[Change]) -> None:
        if kinds & REFRESH_KINDS:
            self.model.reload()

    def show_number(self, number: str) -> None:
        """Select ``number`` (a PO just made) as soon as the list has it, clearing filters that would hide it."""
        self._pending_select = number
        if not self.select_number(number):
            for w in (self.supplier, self.search):
                w.blockSignals(True)
                w.clear()
                w.blockSignals(False)
            self.status.blockSignals(True)
            self.status.setCurrentIndex(0)
            self.status.blockSignals(False)
            self.apply_filter()
        else:
            self._pending_select = ""

    def _select_pending(self) -> None:
        if self._pending_select and self.select_number(self._pending_select):
            self._pending_select = ""

    def select_number(self, number: str) -> bool:
        for i, r in enumerate(self.model.rows()):
            if r.number == number:
                self.table.selectRow(i)
                self.detail.load(r.id)
                return True
        return False

    def create_po(self, supplier: str, warehouse: str, lines: list[purchasing.LineInput], *,
                  rush: bool = False, submit: bool = True) -> None:
        actor = self.ctx.actor

        def work(s: Session) -> tuple[str, Any, str, list[conversion.CoveredRequisition]]:
            po = purchasing.create_po(s, actor, supplier, warehouse, lines, rush=rush, submit_now=submit)
            return po.number, po.id, po.status, conversion.covered_by(s, po.id)

        self.ctx.runner.submit(work, self._on_created, kinds=(Change.PO,), label="create purchase order")

    def _on_created(self, result: tuple[str, Any, str, list[conversion.CoveredRequisition]]) -> None:
        number, po_id, status, covered = result
        self.ctx.signals.message.emit(f"{number} created ({status.replace('_', ' ')})")
        self.show_number(number)
        self.created.emit(number)
        if covered and CloseRequisitionsQuestion.ask(self, number, covered):
            actor, ids = self.ctx.actor, [c.id for c in covered]

            def close(s: Session) -> str:
                done = conversion.close_with_po(s, actor, po_id, ids)
                return f"{', '.join(r.number for r in done)} converted into {number}"

            self.ctx.runner.submit(close, self.ctx.signals.message.emit, kinds=(Change.REQUISITION, Change.PO),
                                   label="close requisitions")

    def _new_po(self) -> None:
        dlg = NewPoDialog(self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            lines = dlg.line_inputs()
        except ValidationError as e:
            self.ctx.signals.op_failed.emit("new purchase order", str(e))
            return
        self.create_po(dlg.supplier.text(), dlg.warehouse.text(), lines, rush=dlg.rush.isChecked(),
                       submit=dlg.submit_now.isChecked())
