"""Stock of one item: figures per warehouse, balances by bin and lot, ATP, and the ledger (paged).

The SKU field accepts a scanner (Enter). All reading happens in one read op; the ledger
history loads a page at a time as the list scrolls (keyset paging in the service).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.inventory.atp import atp_profile
from app.services.inventory.common import item_by_sku
from app.services.inventory.queries import (
    StockRow,
    WarehouseFigures,
    item_figures,
    ledger_page,
    stock_rows,
)
from app.services.masterdata import WarehouseRef, warehouses
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.paged import Column, PagedTableModel
from app.views.widgets.rows import RowsModel
from app.views.widgets.scan import ScanLineEdit

REFRESH_KINDS = frozenset({Change.STOCK, Change.RECEIPT, Change.PUTAWAY, Change.TRANSFER, Change.COUNT, Change.RMA,
                           Change.REPLENISH, Change.SHIPMENT, Change.ALLOCATION})


@dataclass(frozen=True)
class AtpRow:
    warehouse: str
    date: str
    receipts: int
    atp: int
    note: str


@dataclass(frozen=True)
class StockView:
    item_id: uuid.UUID
    sku: str
    description: str
    warehouse_id: uuid.UUID | None
    figures: list[WarehouseFigures]
    rows: list[StockRow]
    atp: list[AtpRow]


def load_stock(session: Session, sku: str, warehouse_id: uuid.UUID | None) -> StockView:
    item = item_by_sku(session, sku)
    figures = item_figures(session, item.id, warehouse_id)
    atp_rows = []
    for f in figures:
        for p in atp_profile(session, item.id, f.warehouse_id):
            atp_rows.append(AtpRow(f.warehouse, "undated" if p.date == dt.date.max else p.date.isoformat(),
                                   p.receipts, p.atp, p.note))
    return StockView(item.id, item.sku, item.description, warehouse_id, figures,
                     stock_rows(session, item_id=item.id, warehouse_id=warehouse_id), atp_rows)


def fetch_ledger(session: Session, query: Any, after: Any, limit: int) -> tuple[list[Any], Any]:
    item_id, warehouse_id = query
    page = ledger_page(session, item_id, after=after, limit=limit, warehouse_id=warehouse_id)
    return page.rows, page.next_cursor


def _table(model: Any, name: str) -> QTableView:
    v = QTableView()
    v.setObjectName(name)
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.horizontalHeader().setStretchLastSection(True)
    v.verticalHeader().setDefaultSectionSize(22)
    v.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    fit_columns(v, f"inventory_{name}")
    return v


class StockTab(QWidget):
    """Signals:
    shown(object): the StockView now on screen (tests wait on it).
    """

    shown = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._gen = 0
        self.current: StockView | None = None
        self.sku = ScanLineEdit(placeholder="SKU (type or scan, Enter)")
        self.sku.setObjectName("stockSku")
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("stockWarehouse")
        self.warehouse.addItem("All warehouses", None)
        self.show_btn = QPushButton("Show")
        self.title = QLabel("")
        self.title.setObjectName("stockTitle")
        self.message = QLabel("")
        self.message.setObjectName("stockMessage")
        self.figures = RowsModel([
            Column("Warehouse", "warehouse"), Column("On hand", "on_hand", True), Column("In QA", "in_qa", True),
            Column("Allocated", "allocated", True), Column("Available", "available", True),
            Column("In transit out", "in_transit_out", True), Column("In transit in", "in_transit_in", True),
            # a sister's figures as it published them (selective replication); blank: this file's ledger
            Column("Published", "published", fmt=lambda t: f"{t.astimezone():%Y-%m-%d %H:%M}" if t else "")],
            self)
        self.bins = RowsModel([
            Column("Warehouse", "warehouse"), Column("Location", "location"), Column("Kind", "kind"),
            Column("Lot", "lot"), Column("Expiry", "expiry", fmt=lambda d: d.isoformat() if d else ""),
            Column("Qty", "qty", True)], self)
        self.atp = RowsModel([Column("Warehouse", "warehouse"), Column("Date", "date"),
                              Column("Receipts", "receipts", True), Column("ATP", "atp", True),
                              Column("Note", "note")], self)
        self.ledger = PagedTableModel(ctx.runner, fetch_ledger, [
            Column("Moved", "moved_at", fmt=lambda t: t.astimezone().strftime("%Y-%m-%d %H:%M")),
            Column("Reason", "reason"), Column("Qty", "qty", True), Column("From", "from_location"),
            Column("To", "to_location"), Column("Lot", "lot"), Column("Document", "doc_ref")],
            page_size=100, parent=self)
        top = QHBoxLayout()
        for w in (QLabel("Item"), self.sku, self.warehouse, self.show_btn):
            top.addWidget(w)
        split = QSplitter(Qt.Orientation.Vertical)
        for model, name, label in ((self.figures, "figuresTable", "By warehouse"), (self.bins, "binsTable", "By bin and lot"),
                                   (self.atp, "atpTable", "Available to promise"),
                                   (self.ledger, "ledgerTable", "Ledger history (newest first)")):
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(QLabel(label))
            lay.addWidget(_table(model, name))
            split.addWidget(box)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        self._connect_signals()
        ctx.runner.submit(warehouses, self._on_warehouses, write=False, label="warehouses")

    def _connect_signals(self) -> None:
        self.sku.scanned.connect(lambda _t: self.refresh())
        self.show_btn.clicked.connect(self.refresh)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.refresh() if self.sku.text().strip() else None)
        self.ctx.signals.data_changed.connect(self._on_data_changed)

    def _on_warehouses(self, rows: list[WarehouseRef]) -> None:
        for wh in rows:
            self.warehouse.addItem(wh.code, wh.id)

    def _on_data_changed(self, kinds: frozenset[Change]) -> None:
        if self.current is not None and kinds & REFRESH_KINDS:
            self.refresh()

    def show_item(self, sku: str) -> None:
        self.sku.setText(sku)
        self.refresh()

    def refresh(self) -> None:
        sku = self.sku.text().strip()
        if not sku:
            return
        self._gen += 1
        gen = self._gen
        wid = self.warehouse.currentData()
        self.ctx.runner.submit(lambda s: load_stock(s, sku, wid), lambda v: self._on_loaded(gen, v),
                               on_error=lambda e: self._on_error(gen, e), write=False, label="stock")

    def _on_error(self, gen: int, e: BaseException) -> None:
        if gen == self._gen:
            self.message.setText(str(e))

    def _on_loaded(self, gen: int, view: StockView) -> None:
        if gen != self._gen:
            return
        self.current = view
        self.message.setText("")
        self.title.setText(f"{view.sku}  {view.description}")
        self.figures.set_rows(view.figures)
        self.bins.set_rows(view.rows)
        self.atp.set_rows(view.atp)
        self.ledger.set_query((view.item_id, view.warehouse_id))
        self.shown.emit(view)
