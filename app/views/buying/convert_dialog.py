"""ConvertDialog: the purchase orders a conversion of requisitions will make, before it makes them.

One row per PO (supplier, header warehouse, ship-tos, lines, total) with its lines beneath
(SKU, ship-to, quantity, unit price and where it comes from, extension, the requisitions merged
into it). A PO that cannot be made (a supplier without a price) says why in red, and Create is
off until the buyer fixed it. ``ask`` returns "create", "submit" or None (tests replace it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.buying.conversion import PlannedPo
from app.services.money import fmt_money, fmt_price, price_places

HEADERS = ("Purchase order / SKU", "Ship to", "Qty", "Unit price", "Price from", "Extension", "Requisitions")


class ConvertDialog(QDialog):
    def __init__(self, plans: list[PlannedPo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("convertDialog")
        self.setWindowTitle("Create purchase orders")
        self.choice: str | None = None
        self.plans = plans
        bad = [p for p in plans if p.problem]
        self.summary = QLabel(self._summary(plans, bad))
        self.summary.setObjectName("convertSummary")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("convertTree")
        self.tree.setHeaderLabels(list(HEADERS))
        self.tree.setUniformRowHeights(True)
        for p in plans:
            self._add(p)
        self.tree.expandAll()
        head = self.tree.header()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        n = len(plans)
        self.create_button = QPushButton(f"Create {n} PO{'s' if n != 1 else ''}")
        self.create_button.setObjectName("convertCreate")
        self.submit_button = QPushButton("Create and submit for approval")
        self.submit_button.setObjectName("convertSubmit")
        for b in (self.create_button, self.submit_button):
            b.setEnabled(not bad)
            b.setToolTip("" if not bad else "Fix the purchase orders marked in red first")
            self.buttons.addButton(b, QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.clicked.connect(lambda: self._done("create"))
        self.submit_button.clicked.connect(lambda: self._done("submit"))
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.buttons)
        self.resize(980, 460)

    @staticmethod
    def _summary(plans: list[PlannedPo], bad: list[PlannedPo]) -> str:
        reqs = sum(len(p.requisition_ids) for p in plans)
        text = (f"{reqs} requisition{'s' if reqs != 1 else ''} make{'s' if reqs == 1 else ''} {len(plans)} purchase "
                f"order{'s' if len(plans) != 1 else ''}: one per supplier, one per ship-to for suppliers that do "
                "not consolidate; the same item for the same ship-to is one line.")
        if bad:
            text += f" {len(bad)} cannot be made as they stand (in red): nothing is created until they are fixed."
        return text

    def _add(self, p: PlannedPo) -> None:
        ship = f"{'/'.join(p.ship_tos)} (per line)" if p.consolidated else p.warehouse_code
        top = QTreeWidgetItem([f"{p.supplier_code}  {p.supplier_name}", ship, "", "", "",
                               fmt_money(p.total, p.currency, code=True),
                               f"{len(p.lines)} line{'s' if len(p.lines) != 1 else ''}"])
        font = top.font(0)
        font.setBold(True)
        for c in range(len(HEADERS)):
            top.setFont(c, font)
        self.tree.addTopLevelItem(top)
        places = price_places([ln.unit_price for ln in p.lines], p.currency)
        for ln in p.lines:
            child = QTreeWidgetItem([f"{ln.sku}  {ln.description}", ln.ship_to, f"{ln.qty:,}",
                                     fmt_price(ln.unit_price, places) if ln.price_source else "none",
                                     ln.price_source or "no price", fmt_money(ln.extension, p.currency),
                                     ", ".join(ln.requisitions)])
            for c in (2, 3, 5):
                child.setTextAlignment(c, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            top.addChild(child)
        if p.problem:
            red = QBrush(QColor("#b00020"))
            note = QTreeWidgetItem([f"Cannot be made: {p.problem}"])
            note.setForeground(0, red)
            note.setFirstColumnSpanned(True)
            note.setToolTip(0, p.problem)
            top.addChild(note)
            top.setForeground(0, red)
            note.setFirstColumnSpanned(True)

    def _done(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    @classmethod
    def ask(cls, parent: QWidget | None, plans: list[PlannedPo]) -> str | None:
        dlg = cls(plans, parent)
        return dlg.choice if dlg.exec() == QDialog.DialogCode.Accepted else None
