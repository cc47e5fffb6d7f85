"""ReceivablesScreen: the customers' open items as a clerk works them.

Top: the ageing (one row a customer, buckets by days past due, DSO over 90 days beside the count);
below: the selected customer's open documents. Apply payment (Ctrl+Y; to the selected documents,
else oldest first), Import bank file (Ctrl+I; every line checked first, a bad line named and nothing
paid) and Statement (saved as PDF). A second tab lists the invoices waiting for their proof of
delivery: Release (a POD that came outside the carrier's tracking, e.g. a signed paper) or Cancel
(with the reason; the number stays). A third lists the returns whose credit is owed: Issue credit
note. Price correction (on the open items, or any invoice by number) credits lines billed too high
(``price_correction.PriceCorrectionDialog``). Every action is a
service call on the op runner (``billing.receivables``, ``billing.bank``); the screen refreshes on
the invoice and customer change kinds.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.billing import receivables as ar
from app.services.billing.bank import import_bank_csv
from app.services.billing.credits import credit_from_return, credit_price_correction, open_credit_requests
from app.services.billing.invoices import cancel, release
from app.services.billing.queries import invoice_detail, list_invoices
from app.services.billing.statements import statement_pdf
from app.services.changes import Change
from app.services.money import fmt_money
from app.services.print_batch import folder_sink
from app.views.context import AppContext
from app.views.receivables.price_correction import PriceCorrectionDialog
from app.views.widgets.columns import fit_now
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut

REFRESH_KINDS = frozenset({Change.INVOICE, Change.CUSTOMER, Change.RMA})
BUCKETS = [b[0] for b in ar.BUCKETS]


class _Rows(QAbstractTableModel):
    """A plain table of tuples with headers (numbers right-aligned from ``numeric_from``)."""

    def __init__(self, headers: list[str], numeric_from: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.headers = headers
        self.numeric_from = numeric_from
        self.rows: list[tuple[Any, ...]] = []
        self.keys: list[Any] = []

    def set_rows(self, rows: list[tuple[Any, ...]], keys: list[Any]) -> None:
        self.beginResetModel()
        self.rows, self.keys = rows, keys
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.headers):
            return self.headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= self.numeric_from:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ReceivablesScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ReceivablesScreen")
        self.summary = QLabel("")
        self.ageing_model = _Rows(["Customer", "Name", *BUCKETS, "Total"], 2, self)
        self.ageing = QTableView()
        self.ageing.setModel(self.ageing_model)
        self.items_model = _Rows(["Document", "Date", "Due", "Original", "Open", "Days overdue"], 3, self)
        self.items = QTableView()
        self.items.setModel(self.items_model)
        for t in (self.ageing, self.items):
            t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            t.verticalHeader().setVisible(False)
            t.horizontalHeader().setStretchLastSection(True)
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.ageing.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.items_title = QLabel("Select a customer to see the open documents")
        self.pay_button = QPushButton("Apply payment…")
        self.pay_button.setToolTip("Ctrl+Y: to the selected documents, else the oldest first")
        self.import_button = QPushButton("Import bank file…")
        self.import_button.setToolTip("Ctrl+I: a bank's CSV export (date, customer, amount, invoice, reference)")
        self.statement_button = QPushButton("Statement as PDF…")
        self.correct_button = QPushButton("Price correction…")
        self.correct_button.setToolTip("credit lines billed too high: the selected invoice, else one by its number")
        self.refresh_button = QPushButton("Refresh")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("ReceivablesMessage")
        top = FlowRow()  # wraps on a narrow window (1,024 px)
        top.addWidget(QLabel("Ageing of open items (days past due)"))
        top.addStretch(1)
        top.addWidget(self.summary)
        top.addWidget(self.refresh_button)
        upper = QWidget()
        uv = QVBoxLayout(upper)
        uv.setContentsMargins(0, 0, 0, 0)
        uv.addLayout(top)
        uv.addWidget(self.ageing, 1)
        lower = QWidget()
        lv = QVBoxLayout(lower)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.items_title)
        lv.addWidget(self.items, 1)
        actions = FlowRow()
        for b in (self.pay_button, self.import_button, self.statement_button, self.correct_button):
            actions.addWidget(b)
        actions.addStretch(1)
        lv.addLayout(actions)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        self.pending_model = _Rows(["Invoice", "Customer", "Shipment", "Tracking", "Total"], 4, self)
        self.pending = QTableView()
        self.pending.setModel(self.pending_model)
        self.pending.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.pending.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.pending.verticalHeader().setVisible(False)
        self.pending.horizontalHeader().setStretchLastSection(True)
        self.release_button = QPushButton("Release…")
        self.release_button.setToolTip("a proof of delivery came outside the carrier's tracking (a signed paper)")
        self.cancel_button = QPushButton("Cancel invoice…")
        pending_tab = QWidget()
        pv = QVBoxLayout(pending_tab)
        pv.addWidget(QLabel("Invoices waiting for their proof of delivery (released by tracking when it comes)"))
        pv.addWidget(self.pending, 1)
        pa = QHBoxLayout()
        pa.addWidget(self.release_button)
        pa.addWidget(self.cancel_button)
        pa.addStretch(1)
        pv.addLayout(pa)
        self.returns_model = _Rows(["Credit request", "RMA", "Customer", "What", "Credit"], 4, self)
        self.returns = QTableView()
        self.returns.setModel(self.returns_model)
        self.returns.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.returns.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.returns.verticalHeader().setVisible(False)
        self.returns.horizontalHeader().setStretchLastSection(True)
        self.credit_button = QPushButton("Issue credit note")
        returns_tab = QWidget()
        rv = QVBoxLayout(returns_tab)
        rv.addWidget(QLabel("Returns inspected and disposed whose credit the customer is owed"))
        rv.addWidget(self.returns, 1)
        ra = QHBoxLayout()
        ra.addWidget(self.credit_button)
        ra.addStretch(1)
        rv.addLayout(ra)
        self.tabs = QTabWidget()
        self.tabs.addTab(split, "Open items")
        self.tabs.addTab(pending_tab, "Pending invoices")
        self.tabs.addTab(returns_tab, "Returns to credit")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        self._update_buttons()
        self.reload()

    def _connect_signals(self) -> None:
        self.refresh_button.clicked.connect(self.reload)
        self.pay_button.clicked.connect(lambda: self.apply_payment())
        self.import_button.clicked.connect(lambda: self.import_bank())
        self.statement_button.clicked.connect(lambda: self.save_statement())
        self.ageing.selectionModel().selectionChanged.connect(lambda *_: self._load_items())
        self.pending.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.release_button.clicked.connect(lambda: self.release_selected())
        self.returns.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.credit_button.clicked.connect(lambda: self.credit_selected())
        self.correct_button.clicked.connect(lambda: self.correct_prices())
        self.items.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.cancel_button.clicked.connect(lambda: self.cancel_selected())
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        shortcut("Ctrl+Y", self, "Apply a payment", lambda: self.apply_payment())
        shortcut("Ctrl+I", self, "Import a bank export (CSV)", lambda: self.import_bank())

    def _on_data_changed(self, kinds: object) -> None:
        if isinstance(kinds, frozenset | set) and kinds & REFRESH_KINDS:
            self.reload()

    def refresh(self) -> None:
        """F5 (the window's Refresh: a key of its own here would make it ambiguous, and neither fire)."""
        self.reload()

    # -- data --------------------------------------------------------------------------
    def reload(self) -> None:
        today = dt.date.today()

        def work(s: Session) -> tuple[list[ar.AgeingRow], ar.Dso]:
            return ar.ageing(s, today=today), ar.dso(s, today=today)
        self.ctx.runner.submit(work, self._on_ageing, write=False, latest="receivables.ageing",
                               on_error=lambda e: self.message.setText(str(e)), label="ageing")
        self.ctx.runner.submit(open_credit_requests, self._on_returns, write=False, latest="receivables.returns",
                               label="returns to credit", on_error=lambda e: self.message.setText(str(e)))
        self.ctx.runner.submit(lambda s: list_invoices(s, status="pending", kind="invoice", limit=500), self._on_pending,
                               write=False, latest="receivables.pending", label="pending invoices",
                               on_error=lambda e: self.message.setText(str(e)))

    def _on_returns(self, rows: list[Any]) -> None:
        self.returns_model.set_rows([(r.number, r.rma, r.customer, r.detail.replace("\n", "; ")[:80],
                                      fmt_money(r.amount, r.currency)) for r in rows], [r.number for r in rows])
        fit_now(self.returns)
        self.tabs.setTabText(2, f"Returns to credit ({len(rows)})")
        self._update_buttons()

    def _on_pending(self, rows: list[Any]) -> None:
        self.pending_model.set_rows([(r.number, r.customer, r.shipment, r.tracking_number, fmt_money(r.total, r.currency))
                                     for r in rows], [r.number for r in rows])
        fit_now(self.pending)
        self.tabs.setTabText(1, f"Pending invoices ({len(rows)})")
        self._update_buttons()

    def _on_ageing(self, result: tuple[list[ar.AgeingRow], ar.Dso]) -> None:
        rows, d = result
        keep = self.customer()
        self.ageing_model.set_rows([(r.code, r.name, *(fmt_money(r.buckets[b], r.currency) for b in BUCKETS),
                                     fmt_money(r.total, r.currency)) for r in rows], [r.code for r in rows])
        total = ar.ageing_totals(rows)
        dso = "n/a" if d.value is None else f"{d.value} days"
        owed = sum(total.values(), Decimal(0))
        self.summary.setText(f"{len(rows)} customers owe {fmt_money(owed)}; overdue {fmt_money(owed - total['current'])}; "
                             f"DSO (90 days) {dso}")
        fit_now(self.ageing)
        if keep in self.ageing_model.keys:
            self.ageing.selectRow(self.ageing_model.keys.index(keep))
        self._update_buttons()

    def customer(self) -> str | None:
        rows = self.ageing.selectionModel().selectedRows()
        return self.ageing_model.keys[rows[0].row()] if rows else None

    def _load_items(self) -> None:
        code = self.customer()
        self._update_buttons()
        if code is None:
            self.items_model.set_rows([], [])
            return
        today = dt.date.today()

        def work(s: Session) -> list[ar.OpenItem]:
            return ar.open_items(s, ar.customer_by(s, code).id, today=today)

        def show(items: list[ar.OpenItem]) -> None:
            self.items_title.setText(f"{code}: {len(items)} open document{'s' if len(items) != 1 else ''}")
            self.items_model.set_rows([(o.doc_number, o.doc_date.isoformat(), o.due_date.isoformat() if o.due_date else "",
                                        fmt_money(o.original, o.currency), fmt_money(o.open, o.currency),
                                        str(o.days_past_due) if o.days_past_due > 0 else "") for o in items],
                                      [o.doc_number for o in items])
            fit_now(self.items)
        self.ctx.runner.submit(work, show, write=False, latest="receivables.items", label=f"open items {code}",
                               on_error=lambda e: self.message.setText(str(e)))

    def _update_buttons(self) -> None:
        may = self.ctx.can("payment.apply")
        self.pay_button.setEnabled(may and self.customer() is not None)
        self.import_button.setEnabled(may)
        self.statement_button.setEnabled(self.customer() is not None)
        self.credit_button.setEnabled(bool(self.returns.selectionModel().selectedRows())
                                      and self.ctx.can("invoice.credit"))
        self.correct_button.setEnabled(self.ctx.can("invoice.credit"))
        chosen = bool(self.pending.selectionModel().selectedRows())
        for b in (self.release_button, self.cancel_button):
            b.setEnabled(chosen and self.ctx.can("invoice.release"))
        if not may:
            self.pay_button.setToolTip(f"{self.ctx.actor.username} may look, not apply payments (clerk, manager)")

    # -- actions -----------------------------------------------------------------------
    def apply_payment(self, amount: str | None = None, reference: str = "") -> None:
        code = self.customer()
        if code is None:
            return
        docs = tuple(self.items_model.keys[i.row()] for i in self.items.selectionModel().selectedRows())
        if amount is None:
            what = ", ".join(docs) if docs else "the oldest open documents first"
            text, ok = QInputDialog.getText(self, f"Payment from {code}", f"Amount (applied to {what}):")
            if not ok:
                return
            amount = text.strip()
            reference, _ok = QInputDialog.getText(self, f"Payment from {code}", "Reference (cheque, bank transfer):")
        actor, today = self.ctx.actor, dt.date.today()
        spec = ar.PaymentSpec(code, amount, today, invoices=docs, reference=reference.strip())
        self.ctx.runner.submit(
            lambda s: ar.apply_payment(s, actor, spec, today=today),
            lambda r: self.message.setText(f"{r.number}: {fmt_money(r.amount)} from {r.customer} paid "
                                           + ", ".join(f"{d} {fmt_money(a)}" for d, a in r.applied)),
            on_error=lambda e: self.message.setText(str(e)), kinds={Change.INVOICE, Change.CUSTOMER},
            label=f"payment from {code}")

    def import_bank(self, path: Path | None = None) -> None:
        if path is None:
            name, _f = QFileDialog.getOpenFileName(self, "Bank export (CSV)", "", "CSV (*.csv *.txt);;All files (*)")
            if not name:
                return
            path = Path(name)
        actor, file = self.ctx.actor, path

        def done(r: Any) -> None:
            self.message.setText(f"{r.name}: {len(r.paid)} payments applied ({fmt_money(r.total)})"
                                 + (f"; {len(r.skipped)} lines already paid by an earlier import" if r.skipped else ""))
        self.ctx.runner.submit(lambda s: import_bank_csv(s, actor, file), done,
                               on_error=lambda e: self.message.setText(str(e)), kinds={Change.INVOICE, Change.CUSTOMER},
                               label="import bank file")

    def save_statement(self, path: Path | None = None) -> None:
        code = self.customer()
        if code is None:
            return
        today = dt.date.today()
        if path is None:
            name, _f = QFileDialog.getSaveFileName(self, f"Statement of {code}", f"statement-{code}-{today}.pdf",
                                                   "PDF (*.pdf)")
            if not name:
                return
            path = Path(name)
        target = path

        def work(s: Session) -> str:
            _name, pdf = statement_pdf(s, code, today=today)
            folder_sink(target.parent)(target.name, pdf, 1)  # a folder or disk refusal is one line, not a crash
            return f"statement of {code} saved to {target}"
        self.ctx.runner.submit(work, self.message.setText, write=False, label=f"statement {code}",
                               on_error=lambda e: self.message.setText(str(e)))

    def _pending_number(self) -> str | None:
        rows = self.pending.selectionModel().selectedRows()
        return self.pending_model.keys[rows[0].row()] if rows else None

    def release_selected(self, pod: str | None = None) -> None:
        number = self._pending_number()
        if number is None:
            return
        if pod is None:
            text, ok = QInputDialog.getText(self, f"Release {number}", "Proof of delivery (who signed, when, reference):")
            if not ok:
                return
            pod = text
        actor, ref = self.ctx.actor, pod.strip() or None
        self.ctx.runner.submit(
            lambda s: release(s, actor, number, pod_ref=ref).due_date,
            lambda due: self.message.setText(f"{number} released, due {due.isoformat()}"),
            on_error=lambda e: self.message.setText(str(e)), kinds={Change.INVOICE, Change.CUSTOMER},
            label=f"release {number}")

    def cancel_selected(self, reason: str | None = None) -> None:
        number = self._pending_number()
        if number is None:
            return
        if reason is None:
            text, ok = QInputDialog.getText(self, f"Cancel {number}", "Why (kept with the cancelled invoice):")
            if not ok:
                return
            reason = text
        actor, why = self.ctx.actor, reason
        self.ctx.runner.submit(lambda s: cancel(s, actor, number, why).number,
                               lambda n: self.message.setText(f"{n} cancelled (its number stays, marked cancelled)"),
                               on_error=lambda e: self.message.setText(str(e)), kinds={Change.INVOICE},
                               label=f"cancel {number}")

    def credit_selected(self) -> None:
        rows = self.returns.selectionModel().selectedRows()
        if not rows:
            return
        number, actor = self.returns_model.keys[rows[0].row()], self.ctx.actor
        self.ctx.runner.submit(
            lambda s: (lambda cn: (cn.number, cn.total, cn.credits_number))(credit_from_return(s, actor, number)),
            lambda r: self.message.setText(f"credit note {r[0]} for {fmt_money(r[1])} issued"
                                           + (f" against {r[2]}" if r[2] else "")),
            on_error=lambda e: self.message.setText(str(e)), kinds={Change.INVOICE, Change.CUSTOMER, Change.RMA},
            label=f"credit {number}")

    def correct_prices(self, number: str | None = None) -> None:
        """A credit note for lines of an invoice billed too high: the selected open invoice, else
        one asked for by number (a paid one is no longer an open item)."""
        if number is None:
            rows = self.items.selectionModel().selectedRows()
            if len(rows) == 1:
                number = str(self.items_model.keys[rows[0].row()])
            else:
                text, ok = QInputDialog.getText(self, "Price correction", "Invoice number:")
                if not ok or not text.strip():
                    return
                number = text.strip().upper()
        ref = number
        self.ctx.runner.submit(lambda s: invoice_detail(s, ref), self._correct, write=False,
                               label=f"invoice {ref}", on_error=lambda e: self.message.setText(str(e)))

    def _correct(self, detail: dict[str, Any]) -> None:
        if detail["kind"] != "invoice":
            self.message.setText(f"{detail['number']} is a credit note: a price correction credits an invoice")
            return
        got = PriceCorrectionDialog.ask(self, detail)
        if got is None:
            return
        prices, reason = got
        number, actor = detail["number"], self.ctx.actor
        self.ctx.runner.submit(
            lambda s: (lambda cn: (cn.number, cn.total))(credit_price_correction(s, actor, number, prices, reason)),
            lambda r: self.message.setText(f"credit note {r[0]} for {fmt_money(r[1])} issued against {number}"),
            on_error=lambda e: self.message.setText(str(e)), kinds={Change.INVOICE, Change.CUSTOMER},
            label=f"price correction {number}")
