"""Backorders tab: lines still short, by customer and item, with the expected date (date-based
ATP walked in queue order) and what it comes with (a PO, an ASN, a transfer, or the lead time)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.services.allocation.backorders import BackorderLine, backorder_lines
from app.views.allocation.common import KINDS, table
from app.views.context import AppContext
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

COLUMNS = [Column("Customer", "customer"), Column("Name", "customer_name"), Column("SKU", "sku"),
           Column("Description", "description"), Column("Order", get=lambda b: f"{b.number}/{b.line_no}"),
           Column("WH", "warehouse"), Column("Short", "short", align_right=True),
           Column("Of", "ordered", align_right=True), Column("Expected", "expected_text"), Column("From", "source")]


class BackordersTab(QWidget):
    """Signals: loaded(int): backordered lines listed."""

    loaded = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer = QLineEdit()
        self.customer.setPlaceholderText("customer code (empty: all)")
        self.refresh_btn = QPushButton("Re&fresh")
        self.model = RowsModel(COLUMNS, self, highlight=lambda b: b.expected_text.startswith("not before"))
        self.view = table(self.model, "backorderTable")
        self.count = QLabel("")
        top = QHBoxLayout()
        top.addWidget(self.customer)
        top.addWidget(self.refresh_btn)
        top.addWidget(self.count, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        self.refresh_btn.clicked.connect(self.refresh)
        self.customer.returnPressed.connect(self.refresh)
        ctx.signals.data_changed.connect(lambda k: self.refresh() if k & KINDS else None)
        self.refresh()

    def refresh(self) -> None:
        cust = self.customer.text().strip() or None
        self.count.setText("loading…")
        self.ctx.runner.submit(lambda s: backorder_lines(s, customer=cust), self._on_rows, write=False,
                               label="backorders", latest=(id(self), "backorders"),
                               on_error=lambda e: self.count.setText(str(e)))

    def _on_rows(self, rows: list[BackorderLine]) -> None:
        self.model.set_rows(rows)
        self.count.setText(f"{len(rows):,} line(s) short for {len({b.customer for b in rows}):,} customer(s)")
        self.loaded.emit(len(rows))
