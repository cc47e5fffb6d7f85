"""The price-correction dialog: an invoice's lines with the price billed, the correct price typed
beside the lines billed too high, and the reason (``depot invoice credit --invoice N LINE=PRICE``
in a window). The rule (only lower prices, a reason, a released invoice) is the service's
(``billing.credits.credit_price_correction``); the dialog only collects.

``PriceCorrectionDialog.ask`` returns ({line no: price text}, reason) or None; tests answer it by
setting ``PriceCorrectionDialog.answer`` (no modal loop in tests).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.views.widgets.columns import fit_now

Answer = tuple[dict[int, str], str]


def _unit_price(price: Decimal) -> str:
    """The unit price as billed and printed on the invoice (4 places: 52.6476, not 52.65, or a
    clerk typing 52.65 would be told it is not below the billed price)."""
    return f"{price.quantize(Decimal('0.0001'))}"
HEADERS = ["#", "SKU", "Description", "Qty", "Billed price", "Correct price"]
PRICE_COL = 5


class PriceCorrectionDialog(QDialog):
    #: tests set this to answer without showing the dialog (None = cancelled)
    answer: Answer | None | bool = False

    def __init__(self, detail: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Price correction of {detail['number']}")
        self.detail = detail
        self.table = QTableWidget(len(detail["lines"]), len(HEADERS))
        self.table.setObjectName("priceCorrectionLines")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        for r, ln in enumerate(detail["lines"]):
            values = [str(ln["line"]), ln["sku"], ln["description"], f"{ln['qty']} {ln['uom']}".strip(),
                      _unit_price(ln["price"]), ""]
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c != PRICE_COL:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if c in (0, 3, 4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        fit_now(self.table)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.reason = QLineEdit()
        self.reason.setObjectName("priceCorrectionReason")
        self.reason.setPlaceholderText("why (on the credit note): e.g. contract price 2.49 agreed")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Issue credit note")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        intro = QLabel(f"Invoice {detail['number']} for {detail['customer']} {detail['customer_name']}: type the "
                       f"correct unit price beside each line billed too high (the others stay as billed); the "
                       f"credit note credits the difference with its tax.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        lay.addWidget(self.table, 1)
        lay.addWidget(QLabel("Reason"))
        lay.addWidget(self.reason)
        lay.addWidget(buttons)
        self.resize(760, 420)

    def collected(self) -> Answer:
        prices = {}
        for r, ln in enumerate(self.detail["lines"]):
            cell = self.table.item(r, PRICE_COL)
            text = cell.text().strip() if cell is not None else ""
            if text:
                prices[int(ln["line"])] = text
        return prices, self.reason.text().strip()

    @classmethod
    def ask(cls, parent: QWidget | None, detail: dict[str, Any]) -> Answer | None:
        if cls.answer is not False:
            return cls.answer  # type: ignore[return-value]
        dialog = cls(detail, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.collected()
