"""Transfers and returns tabs: lists with the everyday actions.

Transfers: create (lines typed or scanned as SKU + qty), ship, receive, cancel. Returns:
receive into QA, inspect a line, dispose a line (restock to a bin, scrap, return to vendor);
authorising an RMA is `depot rma authorise` (it needs the customer and order picked).
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.inventory.common import item_by_sku, location_by_code
from app.services.inventory.rma import (
    DISPOSITIONS,
    INSPECTION_RESULTS,
    Disposition,
    Inspection,
    RmaLineView,
    RmaSummary,
    dispose_rma,
    inspect_rma,
    list_rmas,
    receive_rma,
    rma_by_number,
    rma_line_views,
)
from app.services.inventory.transfers import (
    TransferLineSpec,
    TransferSummary,
    cancel_transfer,
    create_transfer,
    list_transfers,
    receive_note,
    receive_transfer,
    ship_note,
    ship_transfer,
)
from app.services.masterdata import WarehouseRef, warehouses
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel


def _when(t: Any) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M") if t else ""


def _table(model: Any, name: str) -> QTableView:
    v = QTableView()
    v.setObjectName(name)
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.horizontalHeader().setStretchLastSection(True)
    v.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    fit_columns(v, f"inventory_{name}")
    return v


class TransfersTab(QWidget):
    """Signals:
    loaded(int): transfers listed.
    done(str): message after an action succeeded.
    """

    loaded = Signal(int)
    done = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.lines: list[tuple[str, str]] = []
        self.from_wh, self.to_wh = QComboBox(), QComboBox()
        self.from_wh.setObjectName("transferFrom")
        self.to_wh.setObjectName("transferTo")
        self.sku, self.qty = QLineEdit(), QLineEdit()
        self.sku.setPlaceholderText("SKU")
        self.qty.setPlaceholderText("qty")
        self.qty.setMaximumWidth(90)
        self.add_btn = QPushButton("Add line")
        self.create_btn = QPushButton("Create transfer")
        self.lines_label = QLabel("no lines")
        self.ship_btn, self.receive_btn, self.cancel_btn = QPushButton("Ship"), QPushButton("Receive all"), QPushButton("Cancel")
        can = ctx.can("transfer.create")
        for b in (self.add_btn, self.create_btn, self.ship_btn, self.cancel_btn):
            b.setEnabled(can)
        self.receive_btn.setEnabled(can or ctx.can("receipt.post"))
        self.message = QLabel("")
        self.message.setObjectName("transferMessage")
        self.model = RowsModel([Column("Transfer", "number"), Column("From", "from_code"), Column("To", "to_code"),
                                Column("Status", "status"), Column("Lines", "lines", True), Column("Units", "units", True),
                                Column("Shipped", "shipped_at", fmt=_when), Column("Received", "received_at", fmt=_when)], self)
        self.view = _table(self.model, "transferTable")
        form = QHBoxLayout()
        form_widgets: list[QWidget] = [QLabel("From"), self.from_wh, QLabel("To"), self.to_wh, self.sku, self.qty,
                                       self.add_btn, self.lines_label, self.create_btn]
        for w in form_widgets:
            form.addWidget(w)
        actions = QHBoxLayout()
        for b in (self.ship_btn, self.receive_btn, self.cancel_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(actions)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        ctx.runner.submit(warehouses, self._on_warehouses, write=False, label="warehouses")
        self.refresh()

    def _connect_signals(self) -> None:
        self.add_btn.clicked.connect(self.add_line)
        self.qty.returnPressed.connect(self.add_line)
        self.create_btn.clicked.connect(self.create_transfer)
        self.ship_btn.clicked.connect(lambda: self._act(ship_transfer, "shipped", ship_note))
        self.receive_btn.clicked.connect(lambda: self._act(receive_transfer, "received", receive_note))
        self.cancel_btn.clicked.connect(lambda: self._act(cancel_transfer, "cancelled"))
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & {Change.TRANSFER} else None)

    def _on_warehouses(self, rows: list[WarehouseRef]) -> None:
        for wh in rows:
            self.from_wh.addItem(wh.code, wh.id)
            self.to_wh.addItem(wh.code, wh.id)
        if len(rows) > 1:
            self.to_wh.setCurrentIndex(1)

    def refresh(self) -> None:
        self.ctx.runner.submit(lambda s: list_transfers(s), self._on_list, on_error=self._error, write=False,
                               label="transfers", latest=(id(self), "transfers"))

    def _on_list(self, rows: list[TransferSummary]) -> None:
        self.model.set_rows(rows)
        self.loaded.emit(len(rows))

    def _error(self, e: BaseException) -> None:
        self.message.setText(str(e))

    def add_line(self) -> None:
        sku, q = self.sku.text().strip(), self.qty.text().strip()
        if sku and q:
            self.lines.append((sku, q))
            self.lines_label.setText(", ".join(f"{s} x {n}" for s, n in self.lines))
            self.sku.clear()
            self.qty.clear()
            self.sku.setFocus()

    def create_transfer(self) -> None:
        src, dst, lines, actor = self.from_wh.currentData(), self.to_wh.currentData(), list(self.lines), self.ctx.actor

        def op(s: Session) -> str:
            specs = [TransferLineSpec(item_by_sku(s, sku).id, q) for sku, q in lines]  # type: ignore[arg-type]
            return create_transfer(s, actor, src, dst, specs).number

        def ok(number: str) -> None:
            self.lines.clear()
            self.lines_label.setText("no lines")
            self._ok(f"{number} created")

        self.ctx.runner.submit(op, ok, on_error=self._error, kinds={Change.TRANSFER}, label="create transfer")

    def _ok(self, text: str) -> None:
        self.message.setText(text)
        self.done.emit(text)

    def selected(self) -> TransferSummary | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _act(self, fn: Any, word: str, note: Any = None) -> None:
        """``note(session, transfer)`` says what happened across branches (e.g. "received; DAL's
        transfer shows it received when DAL next syncs"); by default "<number> <word>"."""
        t, actor = self.selected(), self.ctx.actor
        if t is None:
            self.message.setText("select a transfer first")
            return

        def op(s: Session) -> str:
            done = fn(s, actor, t.id)
            return str(note(s, done)) if note else f"{done.number} {word}"

        self.ctx.runner.submit(op, self._ok,
                               on_error=self._error, kinds={Change.TRANSFER, Change.STOCK, Change.RECEIPT}, label=f"transfer {word}")


class ReturnsTab(QWidget):
    """RMAs, their lines, and the line actions: receive, inspect, dispose.

    Signals:
    loaded(int): RMAs listed.
    lines_loaded(int): lines of the selected RMA shown.
    done(str): message after an action succeeded.
    """

    loaded = Signal(int)
    lines_loaded = Signal(int)
    done = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RowsModel([Column("RMA", "number"), Column("Customer", "customer"), Column("Status", "status"),
                                Column("Lines", "lines", True), Column("Units", "units", True),
                                Column("Credit", "credit", True, fmt=lambda c: "" if c is None else str(c))], self)
        self.view = _table(self.model, "rmaTable")
        self.line_model = RowsModel([Column("#", "line_no", True), Column("SKU", "sku"),
                                     Column("Authorised", "qty_authorised", True), Column("Received", "qty_received", True),
                                     Column("Inspection", "inspection_result"), Column("Disposition", "disposition"),
                                     Column("Unit credit", "unit_credit", True)], self)
        self.line_view = _table(self.line_model, "rmaLines")
        self.receive_btn = QPushButton("Receive all into QA")
        self.result = QComboBox()
        self.result.setObjectName("inspectionResult")
        for r in INSPECTION_RESULTS:
            self.result.addItem(r.replace("_", " "), r)
        self.inspect_btn = QPushButton("Inspect line")
        self.disposition = QComboBox()
        self.disposition.setObjectName("disposition")
        for d in DISPOSITIONS:
            self.disposition.addItem(d, d)
        self.bin = QLineEdit()
        self.bin.setPlaceholderText("bin (restock)")
        self.dispose_btn = QPushButton("Dispose line")
        can = ctx.can("rma.manage")
        for b in (self.receive_btn, self.inspect_btn, self.dispose_btn):
            b.setEnabled(can)
        self.message = QLabel("")
        self.message.setObjectName("rmaMessage")
        actions = QHBoxLayout()
        action_widgets: list[QWidget] = [self.receive_btn, self.result, self.inspect_btn, self.disposition, self.bin,
                                         self.dispose_btn]
        for w in action_widgets:
            actions.addWidget(w)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(actions)
        layout.addWidget(self.line_view, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        self.refresh()

    def _connect_signals(self) -> None:
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.load_lines())
        self.receive_btn.clicked.connect(self.receive)
        self.inspect_btn.clicked.connect(self.inspect)
        self.dispose_btn.clicked.connect(self.dispose)
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & {Change.RMA} else None)

    def _error(self, e: BaseException) -> None:
        self.message.setText(str(e))

    def selected(self) -> RmaSummary | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def selected_line(self) -> RmaLineView | None:
        rows = self.line_view.selectionModel().selectedRows()
        return self.line_model.row(rows[0].row()) if rows else None

    def refresh(self) -> None:
        self.ctx.runner.submit(lambda s: list_rmas(s), self._on_list, on_error=self._error, write=False, label="returns",
                               latest=(id(self), "rmas"))

    def _on_list(self, rows: list[RmaSummary]) -> None:
        keep = self.selected()
        self.model.set_rows(rows)
        for r, row in enumerate(rows):
            if keep is not None and row.id == keep.id:
                self.view.selectRow(r)
        self.loaded.emit(len(rows))

    def load_lines(self) -> None:
        r = self.selected()
        if r is not None:
            rid = r.id
            self.ctx.runner.submit(lambda s: rma_line_views(s, rid), lambda rows: self._on_lines(rid, rows),
                                   on_error=self._error, write=False, label="RMA lines", latest=(id(self), "lines"))

    def _on_lines(self, rid: uuid.UUID, rows: list[RmaLineView]) -> None:
        sel = self.selected()
        if sel is None or sel.id != rid:
            return  # the user moved on meanwhile: these are another RMA's lines
        keep = self.selected_line()
        self.line_model.set_rows(rows)
        for n, row in enumerate(rows):
            if keep is not None and row.id == keep.id:
                self.line_view.selectRow(n)
        self.lines_loaded.emit(len(rows))

    def _run(self, fn: Any, word: str) -> None:
        r = self.selected()
        if r is None:
            self.message.setText("select an RMA first")
            return

        def ok(number: str) -> None:
            self.message.setText(f"{number} {word}")
            self.done.emit(f"{number} {word}")

        self.ctx.runner.submit(lambda s: fn(s, r).number, ok, on_error=self._error, kinds={Change.RMA, Change.STOCK},
                               label=f"RMA {word}")

    def receive(self) -> None:
        actor = self.ctx.actor
        self._run(lambda s, r: receive_rma(s, actor, r.id), "received into QA")

    def inspect(self) -> None:
        ln, actor, result = self.selected_line(), self.ctx.actor, self.result.currentData()
        if ln is None:
            self.message.setText("select a line first")
            return
        self._run(lambda s, r: inspect_rma(s, actor, r.id, {ln.id: Inspection(result)}), "inspected")

    def dispose(self) -> None:
        ln, actor = self.selected_line(), self.ctx.actor
        kind, bin_code = self.disposition.currentData(), self.bin.text().strip()
        if ln is None:
            self.message.setText("select a line first")
            return

        def op(s: Session, r: RmaSummary) -> Any:
            rma = rma_by_number(s, r.number)
            to = location_by_code(s, rma.warehouse_id, bin_code).id if bin_code else None
            return dispose_rma(s, actor, r.id, {ln.id: Disposition(kind, to)})

        self._run(op, "disposed")
