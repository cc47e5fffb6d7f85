"""Orders tab: the open order book (paged), one order's lines with promise, reservation and the
allocation's reason, and the everyday actions: copy, cancel an order, cancel a line."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.money import fmt_price, price_places
from app.services.sales import queries
from app.services.sales.orders import cancel_line, cancel_order, copy_order
from app.views.allocation.common import KINDS, day, money, status_text, table
from app.views.context import AppContext
from app.views.widgets.paged import Column, PagedTableModel
from app.views.widgets.rows import RowsModel

STATUSES = ("", "open", "credit_hold", "backordered", "allocated", "picking", "packed", "shipped", "cancelled")

ORDER_COLUMNS = [
    Column("Order", "number"), Column("Customer", "customer"), Column("Name", "customer_name"),
    Column("WH", "warehouse"), Column("Status", "status", fmt=status_text),
    Column("Ordered", "order_date", fmt=day), Column("Requested", "requested_date", fmt=day),
    Column("Promised", "promised_date", fmt=day),
    Column("Allocated", get=lambda r: f"{r.allocated:,}/{r.ordered:,}", align_right=True),
    Column("Value", get=lambda r: money(r.value, r.currency), align_right=True),
    Column("Why held", get=lambda r: r.credit_reason if r.status == "credit_hold" else ""),
]
LINE_COLUMNS = [
    Column("Ln", "line_no", align_right=True), Column("SKU", "sku"), Column("Description", "description"),
    Column("Qty", get=lambda ln: ln.qty_entered, align_right=True),
    Column("Allocated", "qty_allocated", align_right=True), Column("Short", "short", align_right=True),
    Column("Promise", "promise"), Column("Status", "status", fmt=status_text), Column("Why (allocation)", "reason"),
]


class ReasonQuestion:
    """Asks why (cancelling needs a reason the customer sees); tests replace ``ask``."""

    @staticmethod
    def ask(parent: QWidget | None, title: str, label: str) -> str | None:
        text, ok = QInputDialog.getText(parent, title, label)
        return text if ok else None


class OrdersTab(QWidget):
    """Signals:
    loaded(int): orders listed (after each page).
    detail_shown(str): the order number whose lines are shown.
    done(str): message after an action succeeded.
    """

    loaded = Signal(int)
    detail_shown = Signal(str)
    done = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = PagedTableModel(ctx.runner, queries.list_orders, ORDER_COLUMNS, parent=self)
        self.search = QLineEdit()
        self.search.setObjectName("orderSearch")
        self.search.setPlaceholderText("Order, customer PO, customer code or name…")
        self.status = QComboBox()
        for st in STATUSES:
            self.status.addItem(status_text(st) if st else "Open book", st)
        self.count = QLabel("")
        self.view = table(self.model, "orderTable")
        self._places = 2  # the decimals of the shown order's prices (one number for the column)
        price = Column("Price", get=lambda ln: fmt_price(ln.unit_price, self._places), align_right=True)
        self.lines = RowsModel([*LINE_COLUMNS[:6], price, *LINE_COLUMNS[6:]], self, highlight=lambda ln: bool(ln.short))
        self.line_view = table(self.lines, "orderLinesTable")
        self.head = QLabel("Select an order")
        self.head.setObjectName("orderHead")
        self.head.setWordWrap(True)
        self.head.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        can = ctx.can("order.enter")
        self.copy_btn = QPushButton("C&opy order")
        self.cancel_btn = QPushButton("Cance&l order…")
        self.cancel_line_btn = QPushButton("Cancel l&ine…")
        for b in (self.copy_btn, self.cancel_btn, self.cancel_line_btn):
            b.setEnabled(can)
        self.message = QLabel("")
        self.message.setObjectName("ordersMessage")
        self.message.setWordWrap(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._current: Any = None
        top = QHBoxLayout()
        top.addWidget(self.search, 2)
        top.addWidget(self.status)
        top.addWidget(self.count, 1)
        actions = QHBoxLayout()
        for b in (self.copy_btn, self.cancel_btn, self.cancel_line_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.head)
        ll.addWidget(self.line_view, 1)
        ll.addLayout(actions)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(lower)
        split.setSizes([320, 260])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(self.message)
        self._connect_signals()
        self.apply_filter()

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self._debounce.timeout.connect(self.apply_filter)
        self.status.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.view.selectionModel().currentRowChanged.connect(self._on_row)
        self.model.page_loaded.connect(self._on_loaded)
        self.model.load_failed.connect(lambda t: self.count.setText(f"Could not load: {t}"))
        self.copy_btn.clicked.connect(self.copy_selected)
        self.cancel_btn.clicked.connect(self.cancel_selected)
        self.cancel_line_btn.clicked.connect(self.cancel_selected_line)
        self.ctx.signals.data_changed.connect(self._on_changed)

    def apply_filter(self) -> None:
        self.model.set_query({"status": self.status.currentData() or None, "text": self.search.text().strip()})

    def _on_loaded(self, n: int) -> None:
        self.count.setText(f"{n:,} order(s)" + ("+" if self.model.has_more else ""))
        self.loaded.emit(n)

    def _on_changed(self, kinds: frozenset[str]) -> None:
        if kinds & KINDS:
            self.model.reload()
            if self._current is not None:
                self.show_order(self._current.id)

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            self.show_order(self.model.row(current.row()).id)

    def show_order(self, order_id: uuid.UUID | str) -> None:
        self.ctx.runner.submit(lambda s: queries.order_detail(s, order_id), self._on_detail, write=False,
                               on_error=lambda e: self.message.setText(str(e)), label="order",
                               latest=(id(self), "detail"))

    def _on_detail(self, d: queries.OrderDetail) -> None:
        self._current = d
        held = f"<br><b>Credit hold:</b> {d.credit_reason}" if d.status == "credit_hold" else (
            f"<br>Released from credit hold by {d.credit_released_by}" if d.credit_released_by else "")
        self.head.setText(
            f"<b>{d.number}</b> · {status_text(d.status)} · {d.customer} {d.customer_name} · from {d.warehouse} · "
            f"ordered {day(d.order_date)} · requested {day(d.requested_date) or '-'} · promised "
            f"{day(d.promised_date) or '-'} · PO {d.customer_po or '-'}"
            f"{' · RUSH' if d.rush else ''}{' · ship complete' if d.ship_complete else ''} · "
            f"{money(d.value, d.currency)} {d.currency}{held}")
        self._places = price_places([ln.unit_price for ln in d.lines], d.currency)
        self.lines.set_rows(d.lines)
        self.detail_shown.emit(d.number)

    def _line(self) -> Any:
        rows = self.line_view.selectionModel().selectedRows()
        return self.lines.row(rows[0].row()) if rows else None

    def _act(self, work: Any, label: str) -> None:
        def ok(text: str) -> None:
            self.message.setText(text)
            self.ctx.signals.message.emit(text)
            self.done.emit(text)

        self.ctx.runner.submit(work, ok, on_error=lambda e: self.message.setText(str(e)), label=label)

    def copy_selected(self) -> None:
        d, actor = self._current, self.ctx.actor
        if d is None:
            self.message.setText("select an order first")
            return

        def work(s: Session) -> str:
            res = copy_order(s, actor, d.id)
            return f"{res.order.number} copied from {d.number}: {res.summary().split(': ', 1)[1]}"

        self._act(work, "copy order")

    def cancel_selected(self) -> None:
        d, actor = self._current, self.ctx.actor
        if d is None:
            self.message.setText("select an order first")
            return
        reason = ReasonQuestion.ask(self, "Cancel order", f"Why is {d.number} cancelled?")
        if reason is None:
            return
        self._act(lambda s: f"{cancel_order(s, actor, d.id, reason).number} cancelled", "cancel order")

    def cancel_selected_line(self) -> None:
        d, ln, actor = self._current, self._line(), self.ctx.actor
        if d is None or ln is None:
            self.message.setText("select a line of an order first")
            return
        reason = ReasonQuestion.ask(self, "Cancel line", f"Why is line {ln.line_no} ({ln.sku}) of {d.number} cancelled?")
        if reason is None:
            return
        self._act(lambda s: f"{d.number} line {ln.line_no} cancelled ({cancel_line(s, actor, ln.id, reason).status})",
                  "cancel line")
