"""Transfers and returns tabs: lists with the everyday actions (create, ship, receive).

Inspection and disposal of returns are line-by-line decisions; the tab shows each RMA's
status and credit, and `depot rma inspect|dispose` covers the line-level steps for now.
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

from app.services.inventory.common import item_by_sku
from app.services.inventory.queries import warehouses
from app.services.inventory.rma import RmaSummary, list_rmas, receive_rma
from app.services.inventory.transfers import (
    TransferLineSpec,
    TransferSummary,
    cancel_transfer,
    create_transfer,
    list_transfers,
    receive_transfer,
    ship_transfer,
)
from app.views.context import AppContext
from app.views.inventory.models import RowsModel
from app.views.widgets.paged import Column


def _when(t: Any) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M") if t else ""


def _table(model: Any, name: str) -> QTableView:
    v = QTableView()
    v.setObjectName(name)
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QTableView.SelectionMode.SingleSelection)
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
        self.ship_btn.clicked.connect(lambda: self._act(ship_transfer, "shipped"))
        self.receive_btn.clicked.connect(lambda: self._act(receive_transfer, "received"))
        self.cancel_btn.clicked.connect(lambda: self._act(cancel_transfer, "cancelled"))
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & {"transfer", "sync"} else None)

    def _on_warehouses(self, rows: list[tuple[uuid.UUID, str]]) -> None:
        for wid, code in rows:
            self.from_wh.addItem(code, wid)
            self.to_wh.addItem(code, wid)
        if len(rows) > 1:
            self.to_wh.setCurrentIndex(1)

    def refresh(self) -> None:
        self.ctx.runner.submit(lambda s: list_transfers(s), self._on_list, on_error=self._error, write=False,
                               label="transfers")

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

        self.ctx.runner.submit(op, ok, on_error=self._error, kinds={"transfer"}, label="create transfer")

    def _ok(self, text: str) -> None:
        self.message.setText(text)
        self.done.emit(text)

    def selected(self) -> TransferSummary | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _act(self, fn: Any, word: str) -> None:
        t, actor = self.selected(), self.ctx.actor
        if t is None:
            self.message.setText("select a transfer first")
            return
        self.ctx.runner.submit(lambda s: fn(s, actor, t.id).number, lambda n: self._ok(f"{n} {word}"),
                               on_error=self._error, kinds={"transfer", "stock", "receipt"}, label=f"transfer {word}")


class ReturnsTab(QWidget):
    """Signals:
    loaded(int): RMAs listed.
    """

    loaded = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RowsModel([Column("RMA", "number"), Column("Customer", "customer"), Column("Status", "status"),
                                Column("Lines", "lines", True), Column("Units", "units", True),
                                Column("Credit", "credit", True, fmt=lambda c: "" if c is None else str(c))], self)
        self.view = _table(self.model, "rmaTable")
        self.receive_btn = QPushButton("Receive all into QA")
        self.receive_btn.setEnabled(ctx.can("rma.manage"))
        self.message = QLabel("Inspect and dispose lines with `depot rma inspect|dispose`.")
        self.message.setObjectName("rmaMessage")
        layout = QVBoxLayout(self)
        layout.addWidget(self.receive_btn)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        self.refresh()

    def _connect_signals(self) -> None:
        self.receive_btn.clicked.connect(self.receive)
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & {"rma", "sync"} else None)

    def refresh(self) -> None:
        self.ctx.runner.submit(lambda s: list_rmas(s), self._on_list, on_error=lambda e: self.message.setText(str(e)),
                               write=False, label="returns")

    def _on_list(self, rows: list[RmaSummary]) -> None:
        self.model.set_rows(rows)
        self.loaded.emit(len(rows))

    def receive(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return
        r, actor = self.model.row(rows[0].row()), self.ctx.actor
        self.ctx.runner.submit(lambda s: receive_rma(s, actor, r.id).number,
                               lambda n: self.message.setText(f"{n} received into QA"),
                               on_error=lambda e: self.message.setText(str(e)), kinds={"rma", "stock"}, label="receive RMA")
