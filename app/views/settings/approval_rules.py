"""ApprovalRulesPanel: edit the PO approval rules (a panel of the Settings screen).

The table lists the rules; the form below edits the selected one or a new one. Saving,
deleting and "add the defaults" are write ops through the approvals service, which checks
the fields and the settings.edit right; the panel only shows what it says.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.buying import approvals
from app.services.buying.approval_rules import RULE_KINDS, VARIANCE_BASES
from app.services.changes import Change
from app.services.masterdata import head_office_id
from app.services.ownership import ownership
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class RuleRow:
    id: uuid.UUID
    name: str
    kind: str
    level: int
    amount: Decimal
    percent: Decimal
    basis: str
    approver_role: str
    active: bool


def load_rules(session: Session) -> list[RuleRow]:
    return [RuleRow(r.id, r.name, r.kind, r.level, r.amount, r.percent, r.basis, r.approver_role, r.active)
            for r in approvals.list_rules(session)]


COLUMNS = (
    Column("Level", "level"),
    Column("Name", "name"),
    Column("Kind", "kind", fmt=lambda k: k.replace("_", " ")),
    Column("Amount", get=lambda r: f"{r.amount:,.2f}" if r.kind == "value_threshold" else ""),
    Column("Percent", get=lambda r: f"{r.percent.normalize():f}%" if r.kind == "price_variance" else ""),
    Column("Basis", get=lambda r: r.basis if r.kind == "price_variance" else ""),
    Column("Approver role", "approver_role"),
    Column("Active", "active", fmt=lambda v: "yes" if v else "no"),
)


class ApprovalRulesPanel(QWidget):
    """Signals: changed(str) after a rule was saved/deleted/seeded; failed(str) with the error text."""

    changed = Signal(str)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.editing: uuid.UUID | None = None
        self.model = RowsModel(COLUMNS, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        fit_columns(self.table, "approval_rules")
        self.name = QLineEdit()
        self.kind = QComboBox()
        for k in RULE_KINDS:
            self.kind.addItem(k.replace("_", " "), k)
        self.level = QSpinBox()
        self.level.setRange(1, 9)
        self.amount = QLineEdit("0")
        self.percent = QLineEdit("0")
        self.basis = QComboBox()
        for basis in VARIANCE_BASES:
            self.basis.addItem(f"{basis} price", basis)
        self.role = QComboBox()
        for r in approvals.ROLE_COVERS:
            self.role.addItem(r, r)
        self.active = QCheckBox("Active")
        self.active.setChecked(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.new_button = QPushButton("&New rule")
        self.save_button = QPushButton("&Save rule")
        self.delete_button = QPushButton("&Delete rule")
        self.defaults_button = QPushButton("Add default &rules")
        editable = ctx.can("settings.edit")
        for w in (self.new_button, self.save_button, self.delete_button, self.defaults_button):
            w.setEnabled(editable)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)
        form.addRow("Level", self.level)
        form.addRow("Amount (value threshold)", self.amount)
        form.addRow("Percent (price variance)", self.percent)
        form.addRow("Compared with", self.basis)
        form.addRow("Approver role", self.role)
        form.addRow("", self.active)
        bar = QHBoxLayout()
        for b in (self.new_button, self.save_button, self.delete_button, self.defaults_button):
            bar.addWidget(b)
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        title = QLabel("Purchase order approval rules")
        title.setObjectName("pageTitle")
        lay.addWidget(title)
        intro = QLabel("Every level that fires must be approved, lowest first, each by a different person; "
                       "the requester never approves their own order.")
        intro.setWordWrap(True)  # one line of it made the page scroll sideways on a 1,024-px screen
        lay.addWidget(intro)
        lay.addWidget(self.table, 1)
        lay.addLayout(form)
        lay.addLayout(bar)
        lay.addWidget(self.message)
        if not editable:
            self.message.setText(f"{ctx.actor.username} may view the rules; only an administrator may change them.")
        self._connect_signals()
        self.refresh()

    def _connect_signals(self) -> None:
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        self.kind.currentIndexChanged.connect(lambda _i: self._enable_fields())
        self.new_button.clicked.connect(self.new_rule)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.defaults_button.clicked.connect(self.seed_defaults)
        self.ctx.signals.data_changed.connect(lambda kinds: self.refresh() if kinds & {Change.RULES, Change.SETTINGS} else None)

    def refresh(self) -> None:
        def load(s: Session) -> tuple[list[RuleRow], bool]:
            own = ownership(s)  # with the rows: the buttons never wait on a second read
            return load_rules(s), not own.enforced or own.head_office

        self.ctx.runner.submit(load, self._on_loaded, write=False, label="approval rules",
                               latest=(id(self), "rules"))  # a refresh after a save may finish first

    def _on_loaded(self, result: tuple[list[RuleRow], bool]) -> None:
        rows, site_edits_master = result
        self.model.set_rows(rows)
        if self.ctx.can("settings.edit") and not site_edits_master:
            # rules are head-office master data: the server refuses a branch's change
            for w in (self.new_button, self.save_button, self.delete_button, self.defaults_button):
                w.setEnabled(False)
            self.message.setText("The rules are head-office master data: change them at head office "
                                 "(this workstation replicates as a branch).")

    def _enable_fields(self) -> None:
        kind = self.kind.currentData()
        self.amount.setEnabled(kind == "value_threshold")
        self.percent.setEnabled(kind == "price_variance")
        self.basis.setEnabled(kind == "price_variance")

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or current.row() >= self.model.rowCount():
            return
        r = self.model.row(current.row())
        self.editing = r.id
        self.name.setText(r.name)
        self.kind.setCurrentIndex(self.kind.findData(r.kind))
        self.level.setValue(r.level)
        self.amount.setText(f"{r.amount.normalize():f}")
        self.percent.setText(f"{r.percent.normalize():f}")
        self.basis.setCurrentIndex(self.basis.findData(r.basis))
        self.role.setCurrentIndex(self.role.findData(r.approver_role))
        self.active.setChecked(r.active)
        self._enable_fields()

    def new_rule(self) -> None:
        self.editing = None
        self.table.clearSelection()
        self.name.clear()
        self.amount.setText("0")
        self.percent.setText("0")
        self.level.setValue(1)
        self.active.setChecked(True)
        self.name.setFocus()

    def spec(self) -> dict[str, Any]:
        return {"name": self.name.text(), "kind": self.kind.currentData(), "level": self.level.value(),
                "amount": self.amount.text().strip() or "0", "percent": self.percent.text().strip() or "0",
                "basis": self.basis.currentData(), "approver_role": self.role.currentData(),
                "active": self.active.isChecked()}

    def _run(self, fn: Any, done_text: str) -> None:
        self.ctx.runner.submit(fn, lambda _r: self._ok(done_text), on_error=self._err, kinds=(Change.SETTINGS, Change.APPROVAL),
                               label="approval rules")

    def _ok(self, text: str) -> None:
        self.message.setText(text)
        self.changed.emit(text)

    def _err(self, e: BaseException) -> None:
        self.message.setText(f"Not saved: {e}")
        self.failed.emit(str(e))

    def save(self) -> None:
        spec, actor, rule_id = self.spec(), self.ctx.actor, self.editing
        if rule_id is None:
            self._run(lambda s: approvals.create_rule(s, actor, head_office_id(s), **spec), f"Rule {spec['name']!r} added")
        else:
            self._run(lambda s: approvals.update_rule(s, actor, rule_id, **spec), f"Rule {spec['name']!r} saved")

    def delete(self) -> None:
        rule_id, actor = self.editing, self.ctx.actor
        if rule_id is None:
            return
        self.editing = None
        self._run(lambda s: approvals.delete_rule(s, actor, rule_id), "Rule deleted")

    def seed_defaults(self) -> None:
        actor = self.ctx.actor

        def work(s: Session) -> int:
            actor.require("settings.edit")
            return approvals.ensure_default_rules(s, head_office_id(s), actor)

        self.ctx.runner.submit(work, lambda n: self._ok(f"{n} default rules added" if n else
                                                        "Rules already exist: defaults not added"),
                               on_error=self._err, kinds=(Change.SETTINGS, Change.APPROVAL), label="default approval rules")
