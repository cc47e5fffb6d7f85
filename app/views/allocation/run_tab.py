"""Allocation run tab: the policy (keys in order, keep or re-rank), Simulate, the difference line by
line with the rule and rank that decided it, then Accept (write it) or Discard.

Simulate is a read op with progress; Accept is one write op that fails (and lists) the lines that
changed while the plan was on screen, instead of overwriting them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.allocation import runs
from app.services.allocation.apply import RunResult
from app.services.allocation.plan import LinePlan, Plan
from app.services.allocation.policy import DEFAULT_KEYS, KEYS, Policy, policy_for, set_policy
from app.services.masterdata import WarehouseRef, warehouses
from app.views.allocation.common import BAD_STYLE, OK_STYLE, table
from app.views.context import AppContext
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

COLUMNS = [
    Column("Order", get=lambda ln: f"{ln.order_number}/{ln.line_no}"), Column("Customer", "customer"),
    Column("SKU", "sku"), Column("WH", "warehouse"), Column("Need", "need", align_right=True),
    Column("Now", "current", align_right=True), Column("Proposed", "target", align_right=True),
    Column("Change", get=lambda ln: f"{ln.delta:+,}" if ln.delta else ("lots" if ln.changed else ""), align_right=True),
    Column("Rule", "rule"), Column("Rank", get=lambda ln: f"{ln.rank}/{ln.queue}" if ln.rank else ""),
    Column("Why", "reason"),
]


class RunTab(QWidget):
    """Signals:
    simulated(object): the Plan on screen.
    accepted(object): the RunResult of Accept.
    """

    simulated = Signal(object)
    accepted = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.plan: Plan | None = None
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("runWarehouse")
        self.keys = QListWidget()
        self.keys.setObjectName("policyKeys")
        self.keys.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        self.keep = QCheckBox("Keep existing allocations")
        self.keep.setToolTip("hand out free stock only; never take back what a line holds")
        self.up_btn, self.down_btn = QPushButton("Up"), QPushButton("Down")
        self.save_btn = QPushButton("Save as policy")
        self.save_btn.setToolTip("store these keys as the chosen warehouse's policy")
        self.simulate_btn = QPushButton("&Simulate  (F5)")
        self.simulate_btn.setObjectName("simulateButton")
        self.accept_btn = QPushButton("&Accept  (Ctrl+Return)")
        self.accept_btn.setObjectName("acceptButton")
        self.discard_btn = QPushButton("&Discard")
        self.all_lines = QCheckBox("Show every line (not only changes)")
        can = ctx.can("order.allocate")
        self.simulate_btn.setEnabled(can)
        self.save_btn.setEnabled(can)
        self.accept_btn.setEnabled(False)
        self.discard_btn.setEnabled(False)
        self.figures = QLabel("Simulate to see who would get what, and why. Nothing is written until Accept.")
        self.figures.setObjectName("runFigures")
        self.figures.setWordWrap(True)
        self.result = QLabel("")
        self.result.setObjectName("runResult")
        self.result.setWordWrap(True)
        self.why = QLabel("")
        self.why.setObjectName("planWhy")
        self.why.setWordWrap(True)
        self.model = RowsModel(COLUMNS, self, highlight=lambda ln: ln.delta < 0)
        self.view = table(self.model, "planTable")
        left_box = QWidget()
        left_box.setMaximumWidth(240)
        left = QVBoxLayout(left_box)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(QLabel("Warehouse"))
        left.addWidget(self.warehouse)
        left.addWidget(QLabel("Policy keys, most important\nfirst (tick to use; drag or\nAlt+Up/Down)"))
        left.addWidget(self.keys, 1)
        moves = QHBoxLayout()
        moves.addWidget(self.up_btn)
        moves.addWidget(self.down_btn)
        left.addLayout(moves)
        left.addWidget(self.keep)
        left.addWidget(self.save_btn)
        buttons = FlowRow()  # wraps on a narrow window (1,024 px)
        top_widgets: list[QWidget] = [self.simulate_btn, self.accept_btn, self.discard_btn, self.all_lines]
        for tw in top_widgets:
            buttons.addWidget(tw)
        buttons.addStretch(1)
        right = QVBoxLayout()
        right.addLayout(buttons)
        right.addWidget(self.figures)
        right.addWidget(self.view, 1)
        right.addWidget(self.why)
        right.addWidget(self.result)
        lay = QHBoxLayout(self)
        lay.addWidget(left_box)
        lay.addLayout(right, 1)
        self._set_keys(Policy())
        self._connect_signals()
        ctx.runner.submit(lambda s: warehouses(s), self._on_warehouses, write=False, label="warehouses")

    def _connect_signals(self) -> None:
        self.simulate_btn.clicked.connect(self.simulate)
        self.accept_btn.clicked.connect(self.accept)
        self.discard_btn.clicked.connect(self.discard)
        self.save_btn.clicked.connect(self.save_policy)
        self.up_btn.clicked.connect(lambda: self._move(-1))
        self.down_btn.clicked.connect(lambda: self._move(1))
        self.all_lines.toggled.connect(lambda _on: self._show_plan())
        self.view.selectionModel().currentRowChanged.connect(self._on_row)
        self.warehouse.currentIndexChanged.connect(lambda _i: self._load_policy())
        shortcut("Ctrl+Return", self, "Accept the simulated allocation", self.accept)
        shortcut("Alt+Up", self.keys, "Move the selected policy key up", lambda: self._move(-1))
        shortcut("Alt+Down", self.keys, "Move the selected policy key down", lambda: self._move(1))

    # the policy ---------------------------------------------------------------------------------
    def _on_warehouses(self, rows: list[WarehouseRef]) -> None:
        self.warehouse.blockSignals(True)
        self.warehouse.addItem("All my warehouses", None)
        for wh in rows:
            self.warehouse.addItem(wh.code, wh.code)
        self.warehouse.blockSignals(False)

    def _load_policy(self) -> None:
        code = self.warehouse.currentData()
        if not code:
            self._set_keys(Policy())
            return

        def read(s: Session) -> Policy:
            return policy_for(s, runs.scope(s, code)[0].id)

        self.ctx.runner.submit(read, self._set_keys, write=False, label="policy", latest=(id(self), "policy"))

    def _set_keys(self, policy: Policy) -> None:
        self.keys.clear()
        for k in list(policy.keys) + [k for k in KEYS if k not in policy.keys]:
            it = QListWidgetItem(k.replace("_", " "))
            it.setToolTip(KEYS[k])
            it.setData(Qt.ItemDataRole.UserRole, k)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if k in policy.keys else Qt.CheckState.Unchecked)
            self.keys.addItem(it)
        self.keep.setChecked(not policy.rerank)

    def chosen_keys(self) -> list[str]:
        out = []
        for i in range(self.keys.count()):
            it = self.keys.item(i)
            if it.checkState() == Qt.CheckState.Checked:
                out.append(str(it.data(Qt.ItemDataRole.UserRole)))
        return out or list(DEFAULT_KEYS)

    def set_keys(self, keys: list[str], keep: bool = False) -> None:
        """Choose ``keys`` in that order (tests and the keyboard)."""
        self._set_keys(Policy(tuple(keys), not keep))

    def _move(self, step: int) -> None:
        row = self.keys.currentRow()
        if row < 0 or not 0 <= row + step < self.keys.count():
            return
        it = self.keys.takeItem(row)
        self.keys.insertItem(row + step, it)
        self.keys.setCurrentRow(row + step)

    def save_policy(self) -> None:
        code, keys, keep, actor = self.warehouse.currentData(), self.chosen_keys(), self.keep.isChecked(), self.ctx.actor
        if not code:
            self.result.setText("choose one warehouse to save its policy")
            return

        def work(s: Session) -> str:
            p = set_policy(s, actor, runs.scope(s, code)[0].id, keys, not keep)
            return f"{code} allocates by {p.describe()}"

        self.ctx.runner.submit(work, self._ok, on_error=self._error, label="save policy")

    # simulate, accept, discard ------------------------------------------------------------------
    def simulate(self) -> None:
        code, keys, keep, actor = self.warehouse.currentData(), self.chosen_keys(), self.keep.isChecked(), self.ctx.actor
        self.simulate_btn.setEnabled(False)
        self.figures.setText("simulating…")

        def work(s: Session, progress: Any) -> Plan:
            return runs.simulate(s, actor, warehouse=code, keys=keys, rerank=not keep, progress=progress.report)

        handle = self.ctx.runner.submit(work, self._on_plan, on_error=self._error, write=False, progress=True,
                                        label="simulate allocation")
        handle.progressed.connect(lambda d, t, text: self.figures.setText(f"simulating… {text} ({d}/{t})"))

    def _on_plan(self, plan: Plan) -> None:
        self.plan = plan
        self.simulate_btn.setEnabled(self.ctx.can("order.allocate"))
        f = plan.figures()
        self.figures.setText(
            f"{plan.policy.describe()}: {f['lines']:,} lines considered · {f['changed']:,} change "
            f"(+{f['units_allocated']:,} / -{f['units_released']:,} units) · {f['short_lines']:,} short · "
            f"{f['orders_changing_status']:,} order status change(s) · {len(plan.holds):,} credit hold(s) at release · "
            f"computed in {plan.seconds:.2f} s. Nothing written yet.")
        self.accept_btn.setEnabled(bool(plan.changes or plan.order_status or plan.holds))
        self.discard_btn.setEnabled(True)
        self.result.setText("")
        self._show_plan()
        self.simulated.emit(plan)

    def _show_plan(self) -> None:
        if self.plan is None:
            self.model.set_rows([])
            return
        rows: list[LinePlan] = self.plan.lines if self.all_lines.isChecked() else self.plan.changes
        if not self.all_lines.isChecked():
            rows = rows + [ln for ln in self.plan.lines if ln.rule == "credit"]
        self.model.set_rows(sorted(rows, key=lambda ln: (ln.warehouse, ln.sku, ln.rank, ln.order_number)))

    def _on_row(self, current: Any, _previous: Any) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            ln = self.model.row(current.row())
            lots = ", ".join(f"{k[:8] if k else 'no lot'}: {v:+,}" for k, v in ln.lot_deltas())
            self.why.setText(f"<b>{ln.order_number}/{ln.line_no}</b> {ln.sku} for {ln.customer}: {ln.reason}"
                             + (f" (lots {lots})" if lots and len(ln.lot_deltas()) > 1 else ""))

    def accept(self) -> None:
        plan, actor = self.plan, self.ctx.actor
        if plan is None or not self.accept_btn.isEnabled():
            return
        self.accept_btn.setEnabled(False)
        self.ctx.runner.submit(lambda s: runs.run(s, actor, plan), self._on_run, on_error=self._error, label="allocation run")

    def _on_run(self, res: RunResult) -> None:
        self.plan = None
        self.model.set_rows([])
        self.why.setText("")
        self.discard_btn.setEnabled(False)
        text = res.summary()
        if res.failures:
            text += "\n" + "\n".join(f.text() for f in res.failures[:8])
            if len(res.failures) > 8:
                text += f"\n... and {len(res.failures) - 8} more"
        self.result.setStyleSheet(BAD_STYLE if res.failures else OK_STYLE)
        self.result.setText(text)
        self.figures.setText("Accepted. Simulate again to see what is left.")
        self.ctx.signals.message.emit(res.summary())
        self.accepted.emit(res)

    def discard(self) -> None:
        self.plan = None
        self.model.set_rows([])
        self.why.setText("")
        self.accept_btn.setEnabled(False)
        self.discard_btn.setEnabled(False)
        self.figures.setText("Discarded: nothing was written.")

    def _ok(self, text: str) -> None:
        self.result.setStyleSheet(OK_STYLE)
        self.result.setText(text)
        self.ctx.signals.message.emit(text)

    def _error(self, e: BaseException) -> None:
        self.simulate_btn.setEnabled(self.ctx.can("order.allocate"))
        self.accept_btn.setEnabled(self.plan is not None)
        self.result.setStyleSheet(BAD_STYLE)
        self.result.setText(str(e))
