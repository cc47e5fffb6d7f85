"""PolicyDialog: how one item is replenished at one warehouse (issue 18).

Forecast (the pair's demand forecast and its error), computed (the sales history, lead time
and service level) or a fixed min/max the buyer types (or imported with ``depot import
order-points``). ``ask`` returns (policy, min, max) or None; tests replace it. The rule (and
its refusals) is ``replenishment.policies.choose_policy``; this only collects the choice.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

CHOICES = (("forecast", "Forecast: the pair's demand forecast, its error as safety stock"),
           ("computed", "Computed: sales history, lead time and service level"),
           ("fixed_minmax", "Fixed min/max: order up to max when the position falls below min"))


class PolicyDialog(QDialog):
    def __init__(self, title: str, current: str, min_qty: int, max_qty: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("policyDialog")
        self.setWindowTitle("Replenishment policy")
        self.policy = QComboBox()
        self.policy.setObjectName("policyChoice")
        for key, label in CHOICES:
            self.policy.addItem(label, key)
        self.policy.setCurrentIndex(max(0, [k for k, _l in CHOICES].index(current) if current in dict(CHOICES) else 0))
        self.min_qty = QSpinBox()
        self.max_qty = QSpinBox()
        for box, value in ((self.min_qty, min_qty), (self.max_qty, max_qty)):
            box.setRange(0, 100_000_000)
            box.setValue(value)
        form = QFormLayout()
        form.addRow("Policy", self.policy)
        form.addRow("Min", self.min_qty)
        form.addRow("Max", self.max_qty)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        head = QLabel(title)
        head.setWordWrap(True)
        lay.addWidget(head)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.policy.currentIndexChanged.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        fixed = self.policy.currentData() == "fixed_minmax"
        self.min_qty.setEnabled(fixed)
        self.max_qty.setEnabled(fixed)

    def value(self) -> tuple[str, int | None, int | None]:
        p = str(self.policy.currentData())
        if p != "fixed_minmax":
            return p, None, None
        return p, self.min_qty.value(), self.max_qty.value()

    @classmethod
    def ask(cls, parent: QWidget | None, title: str, current: str, min_qty: int,
            max_qty: int) -> tuple[str, int | None, int | None] | None:
        dlg = cls(title, current, min_qty, max_qty, parent)
        return dlg.value() if dlg.exec() == QDialog.DialogCode.Accepted else None
