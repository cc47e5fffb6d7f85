"""Settings > Branches and warehouses: the head office and branches (and which one this file works
for), the warehouses of each branch. The editors are also pages of the setup assistant.

Rules are ``services.org.sites``. Signals: changed(str) after a branch or warehouse was saved.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.org import sites
from app.views.context import AppContext
from app.views.settings.company_page import settings_env, timezones
from app.views.settings.org_env import OrgEnv, lock, show
from app.views.widgets.columns import fit_now


def _table(name: str, headers: list[str]) -> QTableWidget:
    """A read-only table of rows whose columns fit their contents and headers (widgets.columns)."""
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    fit_now(t)
    return t


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(v))
    fit_now(table)  # contents, capped, and never narrower than the header title


class BranchesEditor(QWidget):
    """Branches with their time zone and address; add one; choose the branch this file works for;
    set the selected branch's GS1 company prefix (its cartons' SSCCs)."""

    changed = Signal(str)

    def __init__(self, env: OrgEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.branches: list[sites.BranchInfo] = []
        self.table = _table("branchTable", ["Code", "Name", "Head office", "Time zone", "Warehouses", "This file",
                                            "GS1 prefix", "Address"])
        self.code = QLineEdit()
        self.code.setObjectName("branchCode")
        self.code.setPlaceholderText("DAL")
        self.code.setMaximumWidth(80)
        self.name = QLineEdit()
        self.name.setObjectName("branchName")
        self.name.setPlaceholderText("Dallas")
        self.tz = QComboBox()
        self.tz.setEditable(True)
        self.tz.addItems(timezones())
        self.address = QLineEdit()
        self.address.setObjectName("branchAddress")
        self.address.setPlaceholderText("street, city, state, ZIP")
        self.add_button = QPushButton("Add branch")
        self.add_button.setObjectName("branchAdd")
        self.this_file = QComboBox()
        self.this_file.setObjectName("thisBranch")
        self.use_button = QPushButton("Work for this branch")
        self.use_button.setObjectName("branchUse")
        self.gs1 = QLineEdit()
        self.gs1.setObjectName("branchGs1")
        self.gs1.setPlaceholderText(f"7-10 digits (empty: {sites.GS1_EXAMPLE_PREFIX}, GS1's example)")
        self.gs1.setMaximumWidth(260)
        self.gs1_button = QPushButton("Set prefix")
        self.gs1_button.setObjectName("branchGs1Set")
        self.gs1_note = QLabel("")
        self.gs1_note.setObjectName("branchGs1Note")
        self.gs1_note.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("branchStatus")
        self.status.setWordWrap(True)
        add = QHBoxLayout()
        for label, w in (("New branch", self.code), ("", self.name), ("Time zone", self.tz), ("Address", self.address),
                         ("", self.add_button)):
            if label:
                add.addWidget(QLabel(label))
            add.addWidget(w, 1 if w in (self.name, self.address) else 0)
        use = QHBoxLayout()
        use.addWidget(QLabel("This file works for"))
        use.addWidget(self.this_file, 1)
        use.addWidget(self.use_button)
        gs1 = QHBoxLayout()
        gs1.addWidget(QLabel("GS1 company prefix of the selected branch (carton SSCCs)"))
        gs1.addWidget(self.gs1)
        gs1.addWidget(self.gs1_button)
        gs1.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 1)
        lay.addLayout(add)
        lay.addLayout(use)
        lay.addLayout(gs1)
        lay.addWidget(self.gs1_note)
        lay.addWidget(self.status)
        lock(env, [self.code, self.name, self.tz, self.address, self.add_button, self.this_file, self.use_button,
                   self.gs1, self.gs1_button])
        self._connect_signals()
        self.load()

    def _connect_signals(self) -> None:
        self.add_button.clicked.connect(self.add)
        self.use_button.clicked.connect(self.use)
        self.gs1_button.clicked.connect(self.set_prefix)
        self.gs1.returnPressed.connect(self.set_prefix)
        self.table.itemSelectionChanged.connect(self._selected)

    def load(self) -> None:
        self.env.read(sites.list_branches, self._loaded, (id(self), "branches"))

    def _loaded(self, rows: list[sites.BranchInfo]) -> None:
        self.branches = rows
        example = f"{sites.GS1_EXAMPLE_PREFIX} (example)"
        _fill(self.table, [(b.code, b.name, "yes" if b.head_office else "", b.timezone, str(b.warehouses),
                            "yes" if b.this_file else "", b.gs1_prefix or example, b.address.replace("\n", ", "))
                           for b in rows])
        on_example = [b.code for b in rows if not b.gs1_prefix]
        self.gs1_note.setText(
            f"{', '.join(on_example)} label cartons with GS1's example company prefix {sites.GS1_EXAMPLE_PREFIX}: "
            f"fine for the demo, not on real goods. Put the prefix GS1 gave your company here before shipping."
            if on_example else "")
        self.gs1_note.setVisible(bool(on_example))
        self.this_file.clear()
        for b in rows:
            self.this_file.addItem(f"{b.code}  {b.name}", b.code)
            if b.this_file:
                self.this_file.setCurrentIndex(self.this_file.count() - 1)

    def _current(self) -> sites.BranchInfo | None:
        row = self.table.currentRow()
        return self.branches[row] if 0 <= row < len(self.branches) else None

    def _selected(self) -> None:
        b = self._current()
        self.gs1.setText(b.gs1_prefix if b else "")

    def set_prefix(self) -> None:
        b = self._current()
        if b is None:
            show(self.status, False, "select a branch in the table first")
            return
        code, prefix, actor = b.code, self.gs1.text(), self.env.actor

        def done(saved: sites.BranchInfo) -> None:
            show(self.status, True, f"{saved.code} labels cartons with GS1 company prefix "
                                    f"{saved.gs1_prefix or sites.GS1_EXAMPLE_PREFIX + ' (the example)'}")
            self.load()
            self.env.notify("branch")

        self.env.write(lambda s: sites.update_branch(s, actor, code, gs1_prefix=prefix), done, self.status,
                       "GS1 prefix")

    def add(self) -> None:
        code, name, tz, addr = self.code.text(), self.name.text(), self.tz.currentText(), self.address.text()
        actor = self.env.actor

        def done(b: sites.BranchInfo) -> None:
            for w in (self.code, self.name, self.address):
                w.clear()
            show(self.status, True, f"branch {b.code} added")
            self.load()
            self.changed.emit(b.code)
            self.env.notify("branch")

        self.env.write(lambda s: sites.add_branch(s, actor, code, name, timezone=tz, address=addr), done, self.status,
                       "add branch")

    def use(self) -> None:
        code = self.this_file.currentData()
        if not code:
            return
        actor = self.env.actor

        def done(b: sites.BranchInfo) -> None:
            show(self.status, True, f"this file works for {b.code}")
            self.load()
            self.env.notify("branch")

        self.env.write(lambda s: sites.set_this_branch(s, actor, str(code)), done, self.status, "this branch")


class WarehousesEditor(QWidget):
    """Warehouses by branch, with their bins and docks; add one (it comes with its dock and QA cage)."""

    changed = Signal(str)

    def __init__(self, env: OrgEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.warehouses: list[sites.WarehouseInfo] = []
        self.table = _table("warehouseTable", ["Code", "Name", "Branch", "Bins", "Docks", "Address"])
        self.code = QLineEdit()
        self.code.setObjectName("warehouseCode")
        self.code.setPlaceholderText("DAL1")
        self.code.setMaximumWidth(90)
        self.branch = QComboBox()
        self.branch.setObjectName("warehouseBranch")
        self.name = QLineEdit()
        self.name.setObjectName("warehouseName")
        self.name.setPlaceholderText("Dallas DC")
        self.address = QLineEdit()
        self.address.setPlaceholderText("street, city, state, ZIP (the ship-to on purchase orders)")
        self.add_button = QPushButton("Add warehouse")
        self.add_button.setObjectName("warehouseAdd")
        self.status = QLabel("")
        self.status.setObjectName("warehouseStatus")
        self.status.setWordWrap(True)
        self.branch.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        add = QHBoxLayout()
        for label, w in (("New warehouse", self.code), ("of", self.branch), ("", self.name), ("Address", self.address),
                         ("", self.add_button)):
            if label:
                add.addWidget(QLabel(label))
            add.addWidget(w, 1 if w in (self.name, self.address) else 0)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 1)
        lay.addLayout(add)
        lay.addWidget(self.status)
        lock(env, [self.code, self.branch, self.name, self.address, self.add_button])
        self.add_button.clicked.connect(self.add)
        self.load()

    def load(self) -> None:
        def query(s: Session) -> tuple[list[sites.WarehouseInfo], list[sites.BranchInfo]]:
            return sites.list_warehouses(s), sites.list_branches(s)

        self.env.read(query, self._loaded, (id(self), "warehouses"))

    def _loaded(self, result: tuple[list[sites.WarehouseInfo], list[sites.BranchInfo]]) -> None:
        self.warehouses, branches = result
        _fill(self.table, [(w.code, w.name, w.branch, f"{w.bins:,}", str(w.docks), w.address.replace("\n", ", "))
                           for w in self.warehouses])
        current = self.branch.currentData()
        self.branch.clear()
        for b in branches:
            self.branch.addItem(f"{b.code}  {b.name}", b.code)
        at = self.branch.findData(current)
        if at < 0:  # new warehouses belong to a branch more often than to the head office
            at = next((i for i, b in enumerate(branches) if not b.head_office), 0)
        self.branch.setCurrentIndex(at)

    def add(self) -> None:
        code, branch, name, addr = self.code.text(), str(self.branch.currentData() or ""), self.name.text(), \
            self.address.text()
        actor = self.env.actor

        def done(w: sites.WarehouseInfo) -> None:
            for e in (self.code, self.name, self.address):
                e.clear()
            show(self.status, True, f"warehouse {w.code} added to {w.branch} (with its dock and QA cage)")
            self.load()
            self.changed.emit(w.code)
            self.env.notify("warehouse")

        self.env.write(lambda s: sites.add_warehouse(s, actor, code, branch, name, address=addr), done, self.status,
                       "add warehouse")


class SitesPanel(QWidget):
    """Settings > Branches and warehouses."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        env = settings_env(ctx)
        self.branches = BranchesEditor(env)
        self.warehouses = WarehousesEditor(env)
        b = QGroupBox("Branches (the head office owns the company's master data)")
        QVBoxLayout(b).addWidget(self.branches)
        w = QGroupBox("Warehouses")
        QVBoxLayout(w).addWidget(self.warehouses)
        lay = QVBoxLayout(self)
        lay.addWidget(b, 1)
        lay.addWidget(w, 1)
        self.branches.changed.connect(lambda _c: self.warehouses.load())
