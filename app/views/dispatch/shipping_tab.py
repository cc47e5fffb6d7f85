"""Shipping tab: packed shipments get their quotes, a service, a label and the confirmation.

Left, the shipments waiting (packed, not confirmed); right, the selected one's quotes from every
carrier account (the suggested one marked, late ones tinted), with **Rate** (F5), **Choose** (an
override needs a reason in the field beside it), **Buy label** (F7), **Void label** and **Confirm**
(F12). Carrier calls run on the I/O pool (the window never waits for a carrier); a failed or
timed-out label says so and leaves the shipment as it was, ready to try again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.services.changes import Change
from app.services.dispatch import labels, rating, ship_queries
from app.services.dispatch.confirm import confirm_shipment
from app.views.allocation.common import table
from app.views.context import AppContext
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

KINDS = frozenset({Change.SHIPMENT, Change.PACKING})
OK_CSS = "background: #1e7b34; color: white; padding: 10px; border-radius: 6px;"
BAD_CSS = "background: #b3261e; color: white; padding: 10px; border-radius: 6px;"
IDLE_CSS = "background: #e8eef4; color: #1f2d3d; padding: 10px; border-radius: 6px;"
LATE = QColor("#f8d7da")
SUGGESTED = QColor("#d4edda")

SHIP_COLUMNS = [
    Column("Shipment", "number"), Column("Order", "order"), Column("Customer", "customer"),
    Column("Cartons", "cartons", align_right=True),
    Column("Weight", get=lambda r: f"{r.weight_g / 1000:.1f} kg", align_right=True),
    Column("Carrier", "carrier"), Column("Service", "service"),
    Column("Quoted", get=lambda r: "" if r.quoted is None else f"{r.quoted:.2f}", align_right=True),
    Column("Label", "label"), Column("Promised", get=lambda r: r.promised.isoformat() if r.promised else ""),
]


def _quote_columns(tab: ShippingTab) -> list[Column]:
    return [
        Column("", get=lambda q: "★" if tab.is_suggested(q) else ("✓" if tab.is_chosen(q) else "")),
        Column("Amount", get=lambda q: f"{q.amount:.2f} {q.currency}", align_right=True),
        Column("ETA", get=lambda q: q.eta.isoformat() if q.eta else "?"),
        Column("Promise", get=lambda q: "" if q.meets is None else ("meets" if q.meets else "LATE")),
        Column("Carrier", "carrier"), Column("Service", "service"), Column("Code", "key"),
        Column("Days", get=lambda q: q.transit_days or "", align_right=True),
    ]


class ShippingTab(QWidget):
    """Signals:
    done(bool, str): an action's outcome (ok, message) after it is shown.
    """

    done = Signal(bool, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current: str | None = None
        self.result: rating.RateResult | None = None
        self.ships = RowsModel(SHIP_COLUMNS, self, highlight=lambda r: bool(r.label))
        self.ships_view = table(self.ships, "shipShipments")
        self.quotes = RowsModel(_quote_columns(self), self, highlight=self._tint)
        self.quotes_view = table(self.quotes, "shipQuotes")
        self.heading = QLabel("Choose a packed shipment")
        f = QFont()
        f.setPointSize(13)
        f.setBold(True)
        self.heading.setFont(f)
        self.heading.setWordWrap(True)  # "DAL-SH-000018 · customer · cartons ..." never widens the window
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setObjectName("shipReason")
        self.reason.setPlaceholderText("reason (an override or a void needs one)")
        self.rate_btn = QPushButton("Rate (F5)")
        self.choose_btn = QPushButton("Choose quote")
        self.label_btn = QPushButton("Buy label (F7)")
        self.void_btn = QPushButton("Void label")
        self.confirm_btn = QPushButton("Confirm shipment (F12)")
        self.feedback = QLabel("")
        self.feedback.setObjectName("shipFeedback")
        self.feedback.setWordWrap(True)
        self.feedback.setMinimumHeight(48)
        fb = QFont()
        fb.setPointSize(13)
        fb.setBold(True)
        self.feedback.setFont(fb)
        self.feedback.setStyleSheet(IDLE_CSS)
        buttons = FlowRow()  # wraps on a narrow window (1,024 px)
        for b in (self.rate_btn, self.choose_btn, self.label_btn, self.void_btn, self.confirm_btn):
            buttons.addWidget(b)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.heading)
        rl.addWidget(self.quotes_view, 1)
        rl.addWidget(self.note)
        rl.addWidget(self.reason)
        rl.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.ships_view)
        split.addWidget(right)
        split.setSizes([560, 640])
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Packed shipments waiting for a label or confirmation:"))
        lay.addWidget(split, 1)
        lay.addWidget(self.feedback)
        if not ctx.can("dispatch.ship"):
            for b in (self.rate_btn, self.choose_btn, self.label_btn, self.void_btn, self.confirm_btn):
                b.setEnabled(False)
            self._show("Shipping needs the dispatch.ship right (a dispatcher or the warehouse).", None)
        self._connect_signals()
        self.refresh()

    def _key(self, key: str, what: str) -> Any:
        """A key of this tab only (the other tabs of the Dispatch screen use F5, F6 and Escape too)."""
        return shortcut(key, self, what, local=True).activated

    def _connect_signals(self) -> None:
        self.ships_view.selectionModel().currentRowChanged.connect(lambda cur, _p: self._select(cur.row()))
        self.rate_btn.clicked.connect(self.rate)
        self.choose_btn.clicked.connect(self.choose_selected)
        self.label_btn.clicked.connect(self.buy_label)
        self.void_btn.clicked.connect(self.void)
        self.confirm_btn.clicked.connect(self.confirm)
        self._key("F7", "Buy the label").connect(self.buy_label)
        self._key("F12", "Confirm the shipment").connect(self.confirm)
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & KINDS else None)

    # --- lists ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        branch = self.ctx.actor.branch_id
        self.ctx.runner.submit(lambda s: ship_queries.shipments(s, statuses=("packed",), branch_id=branch),
                               self._on_ships, write=False,
                               label="shipments to ship", latest=(id(self), "ships"),
                               on_error=lambda e: self._show(str(e), False))

    def _on_ships(self, rows: list[ship_queries.ShipRow]) -> None:
        self.ships.set_rows(rows)
        if self.current is not None:
            for i, r in enumerate(rows):
                if r.number == self.current:
                    self.ships_view.selectRow(i)
                    self._load_quotes(r.number)
                    return
            self.current = None
            self.result = None
            self.quotes.set_rows([])
            self.note.setText("")
            self.heading.setText("Choose a packed shipment")

    def select(self, number: str) -> None:
        for i in range(self.ships.rowCount()):
            if self.ships.row(i).number == number:
                self.ships_view.selectRow(i)
                self._select(i)
                return

    def _select(self, row: int) -> None:
        if row < 0:
            return
        r = self.ships.row(row)
        self.current = r.number
        self.heading.setText(f"{r.number}  ·  {r.customer}  ·  {r.cartons} carton(s), {r.weight_g / 1000:.1f} kg"
                             + (f"  ·  label {r.label}" if r.label else ""))
        self._load_quotes(r.number)

    def _load_quotes(self, number: str) -> None:
        self.ctx.runner.submit(lambda s: rating.stored_quotes(s, number), self._on_quotes, write=False,
                               label="quotes", latest=(id(self), "quotes"), on_error=lambda e: self._show(str(e), False))

    def _on_quotes(self, res: rating.RateResult) -> None:
        self.result = res
        self.quotes.set_rows(res.quotes)
        bits = [f"promised {res.promised}" if res.promised else "no promised date"]
        bits += [f"{k}: {v}" for k, v in res.failures.items()]
        bits += [f"{k} not asked: {v}" for k, v in res.skipped.items()]
        if res.note:
            bits.append(res.note)
        if not res.quotes:
            bits.append("not rated yet: Rate (F5)")
        self.note.setText(" · ".join(bits))

    def is_suggested(self, q: Any) -> bool:
        s = self.result.suggested if self.result else None
        return s is not None and (q.key, q.account_id) == (s.key, s.account_id)

    def is_chosen(self, q: Any) -> bool:
        c = self.result.chosen if self.result else None
        return c is not None and (q.key, q.account_id) == (c.key, c.account_id)

    def _tint(self, q: Any) -> bool | QColor:
        if self.is_suggested(q):
            return SUGGESTED
        return LATE if q.meets is False else False

    # --- actions ------------------------------------------------------------------------------------
    def _need(self) -> str | None:
        if self.current is None:
            self._show("Choose a shipment first", False)
        return self.current

    def rate(self) -> None:
        number = self._need()
        if number is None:
            return
        engine, settings, actor = self.ctx.engine, self.ctx.settings, self.ctx.actor
        self._show(f"asking the carriers about {number}…", None)
        self.ctx.runner.submit_io(lambda: rating.rate_shipment(engine, settings, actor, number), self._on_rated,
                                  on_error=self._on_error, kinds=(Change.SHIPMENT,), label="rate shipment")

    def _on_rated(self, res: rating.RateResult) -> None:
        self._on_quotes(res)
        if res.chosen is not None:
            self._ok(f"{len(res.quotes)} quotes; {res.chosen.key} chosen at {res.chosen.amount:.2f} {res.chosen.currency}")
        else:
            self._fail(f"no quote: {'; '.join([*res.failures.values(), *res.skipped.values()]) or res.note}")

    def choose_selected(self) -> None:
        number = self._need()
        idx = self.quotes_view.currentIndex()
        if number is None or not idx.isValid():
            self._show("Choose a quote in the list first", False)
            return
        q = self.quotes.row(idx.row())
        actor, reason = self.ctx.actor, self.reason.text()
        self.ctx.runner.submit(lambda s: rating.choose(s, actor, number, q.key, reason, account=q.account_id),
                               lambda r: self._ok(f"{q.key} chosen" + (f" ({r.note})" if r.note else "")),
                               on_error=self._on_error, kinds=(Change.SHIPMENT,), label="choose service")

    def buy_label(self) -> None:
        number = self._need()
        if number is None:
            return
        engine, settings, actor = self.ctx.engine, self.ctx.settings, self.ctx.actor
        self._show(f"buying the label of {number}…", None)
        self.ctx.runner.submit_io(lambda: labels.buy_label(engine, settings, actor, number),
                                  lambda r: self._ok(r.sentence()), on_error=self._on_error,
                                  kinds=(Change.SHIPMENT,), label="buy label")

    def void(self) -> None:
        number = self._need()
        if number is None:
            return
        engine, settings, actor, reason = self.ctx.engine, self.ctx.settings, self.ctx.actor, self.reason.text()
        self.ctx.runner.submit_io(lambda: labels.void_label(engine, settings, actor, number, reason), self._ok,
                                  on_error=self._on_error, kinds=(Change.SHIPMENT,), label="void label")

    def confirm(self) -> None:
        number = self._need()
        if number is None:
            return
        actor = self.ctx.actor
        self.ctx.runner.submit(lambda s: confirm_shipment(s, actor, number).sentence(), self._ok,
                               on_error=self._on_error, kinds=(Change.SHIPMENT, Change.STOCK, Change.ORDER),
                               label="confirm shipment")

    def _ok(self, text: str) -> None:
        self.reason.clear()
        self._show(text, True)
        self.done.emit(True, text)

    def _fail(self, text: str) -> None:
        self._show(text, False)
        self.done.emit(False, text)

    def _on_error(self, e: BaseException) -> None:
        self._fail(str(e))

    def _show(self, text: str, ok: bool | None) -> None:
        self.feedback.setText(text)
        self.feedback.setStyleSheet(IDLE_CSS if ok is None else OK_CSS if ok else BAD_CSS)
        if ok is False:
            QApplication.beep()
