"""Order entry, keyboard first: customer, lines, save; the promise and price shown as a line is typed.

Customer field: code or words of the name; the list beside shows matches (Down to move into it,
Enter to take one). Item field: SKU, GTIN (a pack's GTIN also picks the unit) or words of the
description, looked up in the FTS index as you type. Quantity, unit, and a price only for those
with ``price.override`` (empty = the customer's price). Enter in the quantity adds the line;
Delete removes the selected line; Ctrl+Return saves the order. Every lookup and the quote run off
the GUI thread (reads, newest answer wins); saving is one write op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.masterdata import WarehouseRef, warehouses
from app.services.money import fmt_price, price_places
from app.services.sales.orders import LineInput, OrderResult, create_order
from app.services.sales.quote import Quote, find_customers, find_items, quote_line
from app.views.allocation.common import BAD_STYLE, OK_STYLE, WARN_STYLE, table
from app.views.context import AppContext
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

PROMISE_STYLE = {"now": OK_STYLE, "on": WARN_STYLE, "not_before": BAD_STYLE}


@dataclass
class PendingLine:
    item: str
    description: str
    qty: str
    uom: str
    price: str
    promise: str
    value: Decimal = Decimal(0)
    override: str = ""


LINE_COLUMNS = [Column("SKU", "item"), Column("Description", "description"), Column("Qty", "qty", align_right=True),
                Column("Unit", "uom"), Column("Price", "price", align_right=True),
                Column("Value", get=lambda p: f"{p.value:,.2f}" if p.value else "", align_right=True),
                Column("Promise", "promise")]


class EntryTab(QWidget):
    """Signals:
    quoted(object): the Quote of the line being typed (or None), after each answer.
    hits_shown(int): lookup results in the list.
    saved(object): the OrderResult of a saved order.
    failed(str): a refusal (the message is shown under the form too).
    """

    quoted = Signal(object)
    hits_shown = Signal(int)
    saved = Signal(object)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer = QLineEdit()
        self.customer.setObjectName("entryCustomer")
        self.customer.setPlaceholderText("customer code or name")
        self.customer_name = QLabel("")
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("entryWarehouse")
        self.requested = QDateEdit(QDate.currentDate().addDays(2))
        self.requested.setCalendarPopup(True)
        self.requested.setDisplayFormat("yyyy-MM-dd")
        self.po = QLineEdit()
        self.po.setPlaceholderText("customer PO")
        self.ship_to = QLineEdit()
        self.ship_to.setPlaceholderText("ship-to (default: the customer's)")
        self.rush = QCheckBox("Rush")
        self.item = QLineEdit()
        self.item.setObjectName("entryItem")
        self.item.setPlaceholderText("item: SKU, GTIN or words")
        self.qty = QLineEdit()
        self.qty.setObjectName("entryQty")
        self.qty.setPlaceholderText("qty")
        self.qty.setMaximumWidth(80)
        self.unit = QComboBox()
        self.unit.setObjectName("entryUnit")
        self.unit.setMinimumWidth(70)
        self.price = QLineEdit()
        self.price.setObjectName("entryPrice")
        self.price.setMaximumWidth(90)
        self.price.setEnabled(ctx.can("price.override"))
        self.price.setPlaceholderText("price" if ctx.can("price.override") else "list/contract")
        self.add_btn = QPushButton("&Add line")
        self.quote = QLabel("")
        self.quote.setObjectName("entryQuote")
        self.quote.setWordWrap(True)
        self.hits = QListWidget()
        self.hits.setObjectName("entryHits")
        self.hits.setMaximumWidth(380)
        self.lines = RowsModel(LINE_COLUMNS, self)
        self.line_view = table(self.lines, "entryLines")
        self.save_btn = QPushButton("&Save order  (Ctrl+Return)")
        self.save_btn.setObjectName("entrySave")
        self.clear_btn = QPushButton("Clear")
        self.total = QLabel("")
        self.total.setObjectName("entryTotal")
        self.result = QLabel("")
        self.result.setObjectName("entryResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        enter_widgets: list[QWidget] = [self.customer, self.item, self.qty, self.add_btn, self.save_btn]
        for ew in enter_widgets:
            ew.setEnabled(ctx.can("order.enter"))
        self.pending: list[PendingLine] = []
        self._lookup_for: QLineEdit | None = None
        self._quote: Quote | None = None
        self._want_unit = ""
        self._quote_timer = QTimer(self)
        self._quote_timer.setSingleShot(True)
        self._quote_timer.setInterval(120)
        self._lookup_timer = QTimer(self)
        self._lookup_timer.setSingleShot(True)
        self._lookup_timer.setInterval(120)
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.customer, 1)
        row.addWidget(self.customer_name, 2)
        cust_label, line_label = QLabel("&Customer"), QLabel("&Line")
        cust_label.setBuddy(self.customer)  # Alt+C, Alt+L
        line_label.setBuddy(self.item)
        form.addRow(cust_label, row)
        row2 = QHBoxLayout()
        row2_widgets: list[QWidget] = [QLabel("Warehouse"), self.warehouse, QLabel("Requested"), self.requested,
                                       self.po, self.rush]
        for rw in row2_widgets:
            row2.addWidget(rw)
        form.addRow("", row2)
        form.addRow("Ship-to", self.ship_to)
        line = QHBoxLayout()
        line_widgets: list[QWidget] = [self.item, self.qty, self.unit, self.price, self.add_btn]
        for lw in line_widgets:
            line.addWidget(lw)
        form.addRow(line_label, line)
        form.addRow("", self.quote)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.line_view, 1)
        left.addWidget(self.total)
        buttons = QHBoxLayout()
        buttons.addWidget(self.result, 1)
        buttons.addWidget(self.clear_btn)
        buttons.addWidget(self.save_btn)
        left.addLayout(buttons)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 3)
        side = QVBoxLayout()
        side.addWidget(QLabel("Matches (Down, Enter)"))
        side.addWidget(self.hits, 1)
        lay.addLayout(side, 1)
        self._connect_signals()
        mine = ctx.actor.branch_id
        ctx.runner.submit(lambda s: (warehouses(s), {w.id for w in warehouses(s, mine)} if mine else set()),
                          self._on_warehouses, write=False, label="warehouses")

    def _connect_signals(self) -> None:
        self.customer.textEdited.connect(lambda _t: self._lookup(self.customer))
        self.item.textEdited.connect(lambda _t: self._lookup(self.item))
        self._lookup_timer.timeout.connect(self._run_lookup)
        self.customer.returnPressed.connect(self._customer_entered)
        self.item.returnPressed.connect(self._item_entered)
        self.qty.returnPressed.connect(self.add_line)
        self.price.returnPressed.connect(self.add_line)
        self.add_btn.clicked.connect(self.add_line)
        for sig in (self.item.textChanged, self.qty.textChanged):
            sig.connect(lambda _t: self._quote_timer.start())
        self.unit.currentIndexChanged.connect(lambda _i: self._quote_timer.start())
        self.warehouse.currentIndexChanged.connect(lambda _i: self._quote_timer.start())
        self._quote_timer.timeout.connect(self._run_quote)
        self.hits.itemActivated.connect(self._take_hit)
        self.save_btn.clicked.connect(self.save)
        self.clear_btn.clicked.connect(self.clear)
        shortcut("Ctrl+Return", self, "Save the order", self.save)
        shortcut("Ctrl+Enter", self, "Save the order", self.save)
        shortcut(Qt.Key.Key_Delete, self.line_view, "Remove the selected order line", self.remove_line)
        shortcut(Qt.Key.Key_Down, self.customer, "From the customer field into its matches", lambda: self._into_hits())
        shortcut(Qt.Key.Key_Down, self.item, "From the item field into its matches", lambda: self._into_hits())

    def _on_warehouses(self, found: tuple[list[WarehouseRef], set[Any]]) -> None:
        rows, mine = found
        self.warehouse.blockSignals(True)
        for wh in rows:
            self.warehouse.addItem(wh.code, wh.id)
        first_mine = next((i for i, wh in enumerate(rows) if wh.id in mine), 0)
        self.warehouse.setCurrentIndex(first_mine)
        self.warehouse.blockSignals(False)

    # lookups -----------------------------------------------------------------------------------
    def _lookup(self, field: QLineEdit) -> None:
        self._lookup_for = field
        self._lookup_timer.start()

    def _run_lookup(self) -> None:
        field = self._lookup_for
        text = field.text() if field else ""
        fn = find_customers if field is self.customer else find_items
        self.ctx.runner.submit(lambda s: fn(s, text, 15), lambda hits: self._show_hits(field, hits), write=False,
                               label="lookup", latest=(id(self), "lookup"),
                               on_error=lambda e: self.quote.setText(str(e)))

    def _show_hits(self, field: QLineEdit | None, hits: list[Any]) -> None:
        self.hits.clear()
        for h in hits:
            if field is self.customer:
                text = f"{h.code}  {h.name}  ({h.tier}{', credit stop' if h.credit_hold else ''})"
                value = h.code
            else:
                unit = f" [{h.uom} of {h.factor}]" if h.uom else ""
                text = f"{h.sku}  {h.description}{unit}  · {h.match}"
                value = (h.sku, h.uom)
            it = QListWidgetItem(text)
            it.setData(Qt.ItemDataRole.UserRole, value)
            self.hits.addItem(it)
        if hits:
            self.hits.setCurrentRow(0)
        self.hits_shown.emit(len(hits))

    def _into_hits(self) -> None:
        if self.hits.count():
            self.hits.setFocus()
            self.hits.setCurrentRow(max(0, self.hits.currentRow()))

    def _take_hit(self, it: QListWidgetItem | None = None) -> None:
        it = it or self.hits.currentItem()
        if it is None:
            return
        value = it.data(Qt.ItemDataRole.UserRole)
        if self._lookup_for is self.customer:
            self.customer.setText(str(value))
            self.customer_name.setText(it.text().split("  ", 1)[-1])
            self.item.setFocus()
        else:
            sku, uom = value
            self.item.setText(sku)
            self._want_unit = uom
            self.qty.setFocus()
        self.hits.clear()

    def _customer_entered(self) -> None:
        if self.hits.count() and self._lookup_for is self.customer:
            self._take_hit(self.hits.item(0))
        else:
            self.item.setFocus()

    def _item_entered(self) -> None:
        if self.hits.count() and self._lookup_for is self.item:
            self._take_hit(self.hits.item(0))
        else:
            self.qty.setFocus()

    # the quote of the line being typed ------------------------------------------------------------
    def _run_quote(self) -> None:
        item, qty = self.item.text().strip(), self.qty.text().strip() or "1"
        cust, wh = self.customer.text().strip(), self.warehouse.currentData()
        if not item or not cust or wh is None:
            return
        uom = self.unit.currentData() or getattr(self, "_want_unit", "") or ""
        self.ctx.runner.submit(lambda s: quote_line(s, customer=cust, warehouse_id=wh, item=item, qty=qty, uom=uom),
                               self._on_quote, write=False, label="quote", latest=(id(self), "quote"),
                               on_error=self._on_quote_error)

    def _on_quote(self, q: Quote) -> None:
        self._quote = q
        if [self.unit.itemData(i) for i in range(self.unit.count())] != [u if f > 1 else "" for u, f in q.units]:
            self.unit.blockSignals(True)
            self.unit.clear()
            for u, f in q.units:
                self.unit.addItem(u if f == 1 else f"{u} ({f})", u if f > 1 else "")
            self.unit.setCurrentIndex(max(0, self.unit.findData(q.uom)))
            self.unit.blockSignals(False)
        self._want_unit = ""
        style = PROMISE_STYLE.get(q.promise.kind, "")
        price = f"{fmt_price(q.line_price, price_places([q.line_price]))} per {q.uom or q.base_uom}"
        self.quote.setStyleSheet(style)
        self.quote.setText(f"{q.sku} {q.description}: {q.qty:,} {q.base_uom} · {price} ({q.price_source}) · "
                           f"{q.promise.text}" + (f" ({q.promise.source})" if q.promise.source else "")
                           + f" · {q.promise.available_now:,} free now")
        self.quoted.emit(q)

    def _on_quote_error(self, e: BaseException) -> None:
        self._quote = None
        self.quote.setStyleSheet(BAD_STYLE)
        self.quote.setText(str(e))
        self.quoted.emit(None)

    # lines and saving ---------------------------------------------------------------------------
    def add_line(self) -> None:
        item, qty = self.item.text().strip(), self.qty.text().strip()
        if not item or not qty:
            self.quote.setText("type an item and a quantity")
            return
        q = self._quote if self._quote and self._quote.sku == item.upper() else None
        override = self.price.text().strip()
        unit = self.unit.currentData() or ""
        price, value = override, Decimal(0)
        if q is not None:
            price = override or f"{fmt_price(q.line_price, price_places([q.line_price]))} ({q.price_source})"
            try:
                per = Decimal(override.replace(",", "")) if override else q.line_price
                value = (per * Decimal(qty)).quantize(Decimal("0.01"))
            except InvalidOperation:
                value = Decimal(0)
        self.pending.append(PendingLine(q.sku if q else item, q.description if q else "", qty,
                                        unit or (q.base_uom if q else ""), price, q.promise.text if q else "", value,
                                        override))
        self._show_pending()
        for w in (self.item, self.qty, self.price):
            w.clear()
        self.hits.clear()
        self.item.setFocus()

    def _show_pending(self) -> None:
        self.lines.set_rows(self.pending)
        total = sum((p.value for p in self.pending), Decimal(0))
        self.total.setText(f"{len(self.pending)} line(s) · {total:,.2f}" if self.pending else "")

    def remove_line(self) -> None:
        rows = sorted((i.row() for i in self.line_view.selectionModel().selectedRows()), reverse=True)
        for r in rows:
            del self.pending[r]
        self._show_pending()

    def clear(self) -> None:
        self.pending = []
        self._show_pending()
        for w in (self.customer, self.po, self.ship_to, self.item, self.qty, self.price):
            w.clear()
        self.customer_name.clear()
        self.quote.clear()
        self.customer.setFocus()

    def save(self) -> None:
        if self.item.text().strip() and self.qty.text().strip():
            self.add_line()
        actor, cust, wh = self.ctx.actor, self.customer.text().strip(), self.warehouse.currentData()
        lines = [LineInput(p.item, p.qty, p.uom, p.override or None) for p in self.pending]
        requested: dt.date | None = self.requested.date().toPython()  # type: ignore[assignment]
        po, ship_to, rush = self.po.text().strip(), self.ship_to.text().strip() or None, self.rush.isChecked()

        def work(s: Session) -> OrderResult:
            return create_order(s, actor, customer=cust, warehouse=wh, lines=lines, requested_date=requested,
                                customer_po=po, ship_to=ship_to, rush=rush)

        self.ctx.runner.submit(work, self._on_saved, on_error=self._on_failed,
                               label="save order")

    def _on_saved(self, res: OrderResult) -> None:
        self.result.setStyleSheet(BAD_STYLE if res.held else OK_STYLE)
        self.result.setText(res.summary())
        self.ctx.signals.message.emit(res.summary())
        self.pending = []
        self._show_pending()
        self.quote.clear()
        self.hits.clear()
        self.saved.emit(res)
        self.customer.setFocus()

    def _on_failed(self, e: BaseException) -> None:
        self.result.setStyleSheet(BAD_STYLE)
        self.result.setText(str(e))
        self.failed.emit(str(e))
