"""Settings > Billing: the tax rates (zone x item tax class) and how one customer is billed
(released on delivery or on shipment, tax zone and rounding, invoice e-mail, bill-to, tax id).

Head-office master data: managers and admins change it (``item.edit``); everyone else reads. The
page only calls ``billing.tax`` and ``billing.profile`` on the op runner.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.billing import tax
from app.services.billing.profile import billing_of, set_billing
from app.services.billing.receivables import customer_by
from app.services.changes import Change
from app.views.context import AppContext
from app.views.widgets.columns import fit_now


class BillingSettingsPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("BillingSettingsPage")
        may = ctx.can("item.edit")
        self.rates = QTableWidget(0, 4)
        self.rates.setHorizontalHeaderLabels(["Zone", "Item tax class", "Rate %", "Name on the invoice"])
        self.rates.horizontalHeader().setStretchLastSection(True)
        self.zone = QLineEdit()
        self.zone.setPlaceholderText("STD")
        self.klass = QLineEdit()
        self.klass.setPlaceholderText("standard")
        self.percent = QLineEdit()
        self.percent.setPlaceholderText("8.25")
        self.rate_name = QLineEdit()
        self.save_rate = QPushButton("Save rate")
        row = QHBoxLayout()
        for w in (self.zone, self.klass, self.percent, self.rate_name, self.save_rate):
            row.addWidget(w)
        rates_box = QGroupBox("Tax rates (a customer's zone x an item's tax class)")
        rv = QVBoxLayout(rates_box)
        rv.addWidget(self.rates)
        rv.addLayout(row)
        self.customer = QLineEdit()
        self.customer.setPlaceholderText("customer code")
        self.load_button = QPushButton("Load")
        self.invoice_on = QComboBox()
        self.invoice_on.addItem("on proof of delivery", "delivery")
        self.invoice_on.addItem("on shipment", "shipment")
        self.tax_zone = QLineEdit()
        self.rounding = QComboBox()
        self.rounding.addItem("per line", "line")
        self.rounding.addItem("per invoice", "invoice")
        self.email = QLineEdit()
        self.bill_to = QPlainTextEdit()
        self.bill_to.setFixedHeight(70)
        self.tax_id = QLineEdit()
        self.save_customer = QPushButton("Save customer billing")
        cust_box = QGroupBox("How a customer is billed")
        form = QFormLayout(cust_box)
        pick = QHBoxLayout()
        pick.addWidget(self.customer)
        pick.addWidget(self.load_button)
        form.addRow("Customer", pick)
        form.addRow("Invoice released", self.invoice_on)
        form.addRow("Tax zone", self.tax_zone)
        form.addRow("Tax rounded", self.rounding)
        form.addRow("Invoices e-mailed to", self.email)
        form.addRow("Bill to", self.bill_to)
        form.addRow("Customer tax id", self.tax_id)
        form.addRow(self.save_customer)
        self.status = QLabel("" if may else f"{ctx.actor.username} may read, not change, billing settings")
        self.status.setWordWrap(True)
        self.status.setObjectName("BillingSettingsStatus")
        layout = QVBoxLayout(self)
        layout.addWidget(rates_box)
        layout.addWidget(cust_box)
        layout.addWidget(self.status)
        layout.addStretch(1)
        for w in (self.save_rate, self.save_customer):
            w.setEnabled(may)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.save_rate.clicked.connect(self.save_tax_rate)
        self.load_button.clicked.connect(self.load_customer)
        self.customer.returnPressed.connect(self.load_customer)
        self.save_customer.clicked.connect(self.save_customer_billing)

    def reload(self) -> None:
        def work(s: Session) -> list[tuple[str, str, str, str]]:
            return [(r.tax_zone, r.tax_class, f"{r.rate_pct.normalize():f}", r.name) for r in tax.all_rates(s)]
        self.ctx.runner.submit(work, self._show_rates, write=False, label="tax rates",
                               on_error=lambda e: self.status.setText(str(e)))

    def _show_rates(self, rows: list[tuple[str, str, str, str]]) -> None:
        self.rates.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                self.rates.setItem(i, j, QTableWidgetItem(v))
        fit_now(self.rates)

    def save_tax_rate(self) -> None:
        actor = self.ctx.actor
        zone, klass, pct, name = (self.zone.text(), self.klass.text(), self.percent.text().strip(),
                                  self.rate_name.text().strip())

        def done(r: Any) -> None:
            self.status.setText(f"tax rate {r} saved")
            self.reload()
        self.ctx.runner.submit(lambda s: (lambda r: f"{r.tax_zone} / {r.tax_class}: {r.rate_pct.normalize():f} %")(
            tax.set_tax_rate(s, actor, zone, klass, pct, name)), done, on_error=lambda e: self.status.setText(str(e)),
            kinds={Change.CUSTOMER}, label="save tax rate")

    def load_customer(self) -> None:
        code = self.customer.text().strip()
        if not code:
            return

        def show(b: Any) -> None:
            self.invoice_on.setCurrentIndex(self.invoice_on.findData(b.invoice_on))
            self.tax_zone.setText(b.tax_zone)
            self.rounding.setCurrentIndex(self.rounding.findData(b.tax_rounding))
            self.email.setText(b.invoice_email)
            self.bill_to.setPlainText(b.bill_to)
            self.tax_id.setText(b.tax_id)
            self.status.setText(f"{code.upper()} loaded")
        self.ctx.runner.submit(lambda s: billing_of(s, customer_by(s, code)), show, write=False,
                               on_error=lambda e: self.status.setText(str(e)), label=f"billing of {code}")

    def save_customer_billing(self) -> None:
        code, actor = self.customer.text().strip(), self.ctx.actor
        values = {"invoice_on": self.invoice_on.currentData(), "tax_zone": self.tax_zone.text().strip() or "STD",
                  "tax_rounding": self.rounding.currentData(), "invoice_email": self.email.text().strip(),
                  "bill_to": self.bill_to.toPlainText().strip(), "tax_id": self.tax_id.text().strip()}
        self.ctx.runner.submit(lambda s: set_billing(s, actor, customer_by(s, code), **values),
                               lambda _b: self.status.setText(f"billing of {code.upper()} saved"),
                               on_error=lambda e: self.status.setText(str(e)), kinds={Change.CUSTOMER},
                               label=f"save billing of {code}")
