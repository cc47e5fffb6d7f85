"""RequisitionsView: accepted needs waiting to become POs or transfers (a Buying tab).

Lists requisitions by status; the buyer edits the quantity (or unit price) of an open one in
place, cancels the selected ones with a reason, or turns them into purchase orders: "Create
POs…" shows the POs the conversion will make (``conversion.plan``) and makes them on confirm.
Every change is one write op through the runner; the list reloads on "requisition", "po" and
"transfer" changes.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    Signal,
)
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

from app.services.buying import conversion
from app.services.buying import requisitions as rq
from app.services.buying.conversion import PlannedPo
from app.services.buying.requisitions import RequisitionRow
from app.services.changes import Change
from app.services.money import fmt_money, fmt_price, price_places
from app.views.buying.convert_dialog import ConvertDialog
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

REFRESH_KINDS = frozenset({Change.REQUISITION, Change.PO, Change.TRANSFER})


#: the editable columns (quantity, and unit price on a purchase requisition)
QTY_COL = 5
PRICE_COL = 8


def _status(r: RequisitionRow) -> str:
    return f"{r.status} (on {r.covered_by}; its branch converts it when it syncs)" if r.covered_by else r.status


def _open(r: RequisitionRow) -> bool:
    return r.status == "open"


class RequisitionsView(QWidget):
    """Signals:
    loaded(int): rows shown after a reload.
    acted(str): an edit or cancel committed.
    failed(str): an op failed (also shown in the message label).
    """

    loaded = Signal(int)
    acted = Signal(str)
    failed = Signal(str)
    #: the numbers of the purchase orders just made from requisitions (the Buying screen shows the first)
    converted = Signal(list)

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
        self.convert_button = QPushButton("Create &POs…")
        self.convert_button.setObjectName("createPos")
        self.convert_button.setEnabled(ctx.can("po.create"))
        self.convert_button.setToolTip("Turn the selected open purchase requisitions into purchase orders (Ctrl+P); "
                                       "shows the POs first" if ctx.can("po.create") else
                                       f"Your roles ({', '.join(sorted(ctx.actor.roles))}) may not create purchase orders")
        self.select_all_button = QPushButton("Select all open")
        self.reload_button = QPushButton("Reload")
        self.message = QLabel("")
        self.message.setObjectName("requisitionsMessage")
        #: decimals of the unit price column (one number for the whole column)
        self.places = 2
        self.model = RowsModel([
            Column("Number", "number"), Column("Kind", "kind"), Column("Status", get=_status), Column("SKU", "sku"),
            Column("Warehouse", "warehouse"),
            Column("Qty", "qty", True, fmt=lambda q: f"{q:,}", editable=_open),
            Column("Suggested", "recommended_qty", True, fmt=lambda q: f"{q:,}"), Column("From", "source"),
            Column("Unit price", get=self._price, align_right=True,
                   editable=lambda r: _open(r) and r.kind == "purchase"),
            Column("Need by", "need_by", fmt=lambda d: d.isoformat() if d else ""),
        ], self, on_edit=self._typed)
        self.view = QTableView()
        self.view.setObjectName("requisitionsTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        fit_columns(self.view, "requisitions")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Status"))
        for w in (self.status, self.reload_button, self.select_all_button, self.convert_button, self.cancel_button):
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
        self.convert_button.clicked.connect(self.create_pos)
        self.select_all_button.clicked.connect(self.select_open)
        shortcut("Ctrl+P", self, "Create POs from the selected requisitions", self.create_pos, local=True)  # the PO tab's Ctrl+P is Preview
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
        self.places = price_places([r.unit_price for r in rows])
        self.model.set_rows(rows)
        self.loaded.emit(len(rows))

    def _on_data_changed(self, kinds: frozenset[Change]) -> None:
        if kinds & REFRESH_KINDS:
            self.reload()

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.row(r).id for r in rows if r < self.model.rowCount()]

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
                               kinds={Change.REQUISITION}, label="cancel requisitions")

    def _price(self, r: RequisitionRow) -> str:
        return "" if r.kind != "purchase" else fmt_price(r.unit_price, self.places) if r.unit_price else "none"

    def _typed(self, r: RequisitionRow, col: Column, text: str) -> bool:
        """What is typed into an open row is saved through the service (the reload shows it)."""
        if col.title == "Unit price":
            self.edit_price(r.id, text)
            return True
        try:
            qty = int(text.replace(",", ""))
        except ValueError:
            return False
        self.edit_qty(r.id, qty)
        return True

    def edit_qty(self, requisition_id: uuid.UUID, qty: int) -> None:
        actor = self.ctx.actor

        def op(session: Session) -> str:
            r = rq.update_qty(session, actor, requisition_id, qty)
            return f"{r.number}: quantity {r.qty}"

        self.ctx.runner.submit(op, self._acted, on_error=self._error, kinds={Change.REQUISITION}, label="edit requisition")

    def edit_price(self, requisition_id: uuid.UUID, price: str) -> None:
        actor = self.ctx.actor

        def op(session: Session) -> str:
            r = rq.update_price(session, actor, requisition_id, price)
            return f"{r.number}: unit price {r.unit_price:,.4f}".rstrip("0").rstrip(".")

        self.ctx.runner.submit(op, self._acted, on_error=self._error, kinds={Change.REQUISITION}, label="edit requisition")

    def select_open(self) -> None:
        """Select every open purchase requisition not already on a PO (the usual "convert them all")."""
        selection = QItemSelection()
        last = self.model.columnCount() - 1
        for n, r in enumerate(self.model.rows()):
            if r.status == "open" and r.kind == "purchase" and not r.covered_by:
                selection.select(self.model.index(n, 0), self.model.index(n, last))
        self.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def create_pos(self) -> None:
        """Preview the POs the selected requisitions make; on confirm, make them (one write op)."""
        if not self.ctx.can("po.create"):
            self._error(PermissionError(f"{self.ctx.actor.username} may not create purchase orders"))
            return
        rows = [r for r in self.model.rows() if r.id in set(self.selected_ids())]
        if not rows:
            self.message.setText("Select the open purchase requisitions to turn into purchase orders "
                                 "(or press Select all open)")
            return
        ids, actor = [r.id for r in rows], self.ctx.actor
        self.message.setText(f"Working out the purchase orders for {len(ids)} requisition(s)…")
        self.ctx.runner.submit(lambda s: conversion.plan(s, actor, ids), lambda plans: self._confirm(ids, plans),
                               on_error=self._error, write=False, label="plan purchase orders")

    def _confirm(self, ids: list[uuid.UUID], plans: list[PlannedPo]) -> None:
        choice = ConvertDialog.ask(self, plans)
        if choice is None:
            self.message.setText("No purchase order created")
            return
        actor, submit = self.ctx.actor, choice == "submit"

        def op(session: Session) -> list[conversion.Converted]:
            return conversion.summary(session, conversion.convert(session, actor, ids, submit_now=submit))

        self.ctx.runner.submit(op, self._converted, on_error=self._error, kinds={Change.REQUISITION, Change.PO},
                               label="create purchase orders")

    def _converted(self, made: list[conversion.Converted]) -> None:
        text = "Created " + "; ".join(
            f"{c.number} ({c.status.replace('_', ' ')}, {c.supplier_code}, {c.lines} line{'s' if c.lines != 1 else ''}, "
            f"{fmt_money(c.total, c.currency, code=True)})" for c in made)
        self._acted(text)
        self.ctx.signals.message.emit(text)
        self.converted.emit([c.number for c in made])

    def _acted(self, text: str) -> None:
        self.message.setText(text)
        self.acted.emit(text)

    def _error(self, exc: BaseException) -> None:
        self.message.setText(str(exc))
        self.failed.emit(str(exc))
