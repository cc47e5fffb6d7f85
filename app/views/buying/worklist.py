"""RecommendationsWorklist: the buyer's replenishment worklist (a tab of the Buying screen).

Run computes recommendations off the GUI thread (one read op); the table shows each with
its figures, the detail pane explains why. The buyer edits the quantity in place, switches
between the purchase and the transfer option, and accepts (requisitions), snoozes or
rejects the selected lines; each action is one write op through ``ctx.runner``, after
which the list recomputes. No rule lives here: the services decide and explain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.buying import requisitions as rq
from app.services.changes import Change
from app.services.errors import DomainError
from app.services.replenishment import Recommendation, RunResult, run
from app.services.replenishment.policies import POLICY_LABELS, choose_policy
from app.services.site_rights import followup_for
from app.views.buying.policy_dialog import PolicyDialog
from app.views.context import AppContext
from app.views.ops import Progress
from app.views.widgets.columns import fit_columns
from app.views.widgets.flow import FlowRow
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

Index = QModelIndex | QPersistentModelIndex
#: data kinds after which recommendations may differ
REFRESH_KINDS = frozenset({Change.ITEM, Change.STOCK, Change.PO, Change.REQUISITION, Change.RECEIPT, Change.TRANSFER,
                           Change.ALLOCATION, Change.ORDER, Change.RECOMMENDATION, Change.RULES, Change.FORECAST})
#: the worklist's columns, in order (tests and screens find a column by its title)
COLUMNS = ("SKU", "Description", "Warehouse", "Policy", "Via", "Qty", "Arrives", "Cost", "Position", "ROP", "OUL",
           "Safety", "Demand/day")
#: the column the buyer types a quantity into
QTY_COL = COLUMNS.index("Qty")


def demand_rows(w: Any) -> list[tuple[str, str]]:
    """Where d and σd come from: the pair's demand forecast (method, class, error) or its history."""
    if w.demand_source != "forecast":
        return [("Demand", f"d = {w.d:.2f}/day, σd = {w.sigma_d:.2f} (from {w.history_weeks} weeks of sales)")]
    err = (f"backtest error {w.forecast_mae:.1f}/week" if w.forecast_mae is not None
           else "no backtest (too little history): σd from the sales history")
    rows = [("Forecast", f"{w.forecast_method} ({w.forecast_class} demand): {w.d * 7:.1f}/week over the next "
                         f"{w.forecast_weeks} week{'s' if w.forecast_weeks != 1 else ''} (lead time + review); {err}"),
            ("Demand", f"d = {w.d:.2f}/day, σd = {w.sigma_d:.2f} (forecast and its error)")]
    if w.forecast_note:
        rows[0] = (rows[0][0], rows[0][1] + f"; {w.forecast_note}")
    return rows


def why_html(r: Recommendation) -> str:
    """The figures behind a recommendation, for the detail pane."""
    w = r.why
    if w.policy == "fixed_minmax":
        rows = [
            ("Policy", "fixed min/max (this item's order point at this warehouse; Policy… to change it)"),
            ("Min / max", f"order when the position falls below min {w.rop:g}, up to max {w.oul:g}"),
            *demand_rows(w),
        ]
    else:
        rows = [
            ("Policy", ("forecast: the demand forecast and its error, lead time and service level"
                        if w.policy == "forecast" else "computed from the sales history, lead time and service level")
             + ("" if w.policy_chosen else " (the default; Policy… to change it)")),
            *demand_rows(w),
            ("Lead time", f"LT = {w.lt_days:g} days, σLT = {w.sigma_lt:g} days"),
            ("Service level", f"class {w.velocity_class}: {w.service_level_pct:g}% → z = {w.z:.3f}"),
            ("Safety stock", f"SS = z·√(LT·σd² + d²·σLT²) = {w.ss:.1f}"),
            ("Reorder point", f"ROP = d·LT + SS = {w.rop:.1f}"),
            ("Order-up-to", f"OUL = ROP + d·{w.review_days} review days = {w.oul:.1f}"),
        ]
    rows += [
        ("Position", f"{w.on_hand} on hand + {w.on_order} on order + {w.inbound} inbound + "
                     f"{w.requisitioned} requisitioned − {w.allocated} allocated = {w.position}"),
        ("Quantity", f"raw {w.raw_qty}; rounding: {w.rounding}"),
    ]
    if w.next_expected:
        rows.insert(len(rows) - 1, ("Next due", f"open PO lines expected from {w.next_expected.isoformat()}"))
    for opt in (r.purchase, r.transfer):
        if opt is not None:
            mark = " (recommended)" if opt.kind == r.preferred else ""
            rows.append((opt.kind.capitalize() + mark, f"{opt.qty} from {opt.source_code}: {opt.total_cost:,.2f} "
                         f"{opt.currency}, arrives {opt.arrival.isoformat()} ({opt.days} days)"))
    body = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
    return f"<h3>{r.sku} at {r.warehouse_code}</h3><table cellspacing=4>{body}</table>"


class RecommendationsWorklist(QWidget):
    """Signals:
    loaded(int): a run finished; the number of recommendations shown.
    acted(str): an accept/snooze/reject op committed ("accepted 2", ...).
    failed(str): an op failed; the message is also shown in the message label.
    """

    loaded = Signal(int)
    acted = Signal(str)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("recommendationsWorklist")
        #: run date and history (tests pin them; None = today)
        self.today: dt.date | None = None
        self.history_weeks = 26
        self._gen = 0
        self.last_result: RunResult | None = None
        #: what the last accept/snooze/reject did, kept above the summary of the refresh it causes
        self._note = ""

        self.run_button = QPushButton("Run (F5)")
        self.accept_button = QPushButton("Accept (Ctrl+Enter)")
        self.option_button = QPushButton("Buy / transfer (Ctrl+T)")
        self.snooze_until = QDateEdit(QDate.currentDate().addDays(7))
        self.snooze_until.setCalendarPopup(True)
        self.snooze_button = QPushButton("Snooze until")
        self.reject_reason = QComboBox()
        self.reject_reason.addItems(list(rq.REJECT_REASONS))
        self.reject_button = QPushButton("Reject")
        self.policy_button = QPushButton("Policy… (Ctrl+Shift+P)")
        self.policy_button.setEnabled(ctx.can("replenish.policy"))
        self.message = QLabel("")
        self.message.setObjectName("worklistMessage")
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("worklistProgress")
        self.progress.setMaximumWidth(240)
        self.progress.setVisible(False)
        for b in (self.accept_button, self.snooze_button, self.reject_button):
            b.setEnabled(ctx.can("requisition.create") if b is self.accept_button else ctx.can("replenish.run"))
        self.run_button.setEnabled(ctx.can("replenish.run"))

        #: the buyer's unsaved edits of this run's recommendations: quantity and option, by key
        self.qty: dict[tuple[Any, Any], int] = {}
        self.choice: dict[tuple[Any, Any], str] = {}
        def why(r: Recommendation) -> str:
            return f"{r.why.policy_label}; rounding: {r.why.rounding}"

        def col(title: str, get: Callable[[Recommendation], Any], right: bool = False, **kw: Any) -> Column:
            return Column(title, get=get, align_right=right, tooltip=why, **kw)

        self.model = RowsModel([
            col("SKU", lambda r: r.sku), col("Description", lambda r: r.description),
            col("Warehouse", lambda r: r.warehouse_code), col("Policy", lambda r: r.why.policy_label),
            col("Via", self._via),
            col("Qty", self.qty_of, True, editable=lambda _r: True),
            col("Arrives", lambda r: o.arrival.isoformat() if (o := self._option(r)) else "", True),
            col("Cost", lambda r: f"{o.total_cost:,.2f}" if (o := self._option(r)) else "", True),
            col("Position", lambda r: r.why.position, True), col("ROP", lambda r: f"{r.why.rop:.1f}", True),
            col("OUL", lambda r: f"{r.why.oul:.1f}", True), col("Safety", lambda r: f"{r.why.ss:.1f}", True),
            col("Demand/day", lambda r: f"{r.why.d:.2f}", True),
        ], self, on_edit=self._typed_qty)
        self.view = QTableView()
        self.view.setObjectName("worklistTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        fit_columns(self.view, "worklist")
        self.why = QTextBrowser()
        self.why.setObjectName("worklistWhy")

        bar = FlowRow()  # wraps on a narrow window: eight controls with their keys are ~960 px
        for w in (self.run_button, self.accept_button, self.option_button, self.snooze_button, self.snooze_until,
                  self.reject_button, self.reject_reason, self.policy_button):
            bar.addWidget(w)
        bar.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.why)
        split.setStretchFactor(0, 3)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        status = QHBoxLayout()
        status.addWidget(self.message, 1)
        status.addWidget(self.progress)
        lay.addLayout(status)
        lay.addWidget(split, 1)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.run_button.clicked.connect(self.refresh)
        self.accept_button.clicked.connect(self.accept_selected)
        self.option_button.clicked.connect(self.toggle_selected_option)
        self.snooze_button.clicked.connect(self._snooze_clicked)
        self.reject_button.clicked.connect(lambda: self.reject_selected(self.reject_reason.currentText()))
        self.view.selectionModel().currentRowChanged.connect(self._show_why)
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        self.policy_button.clicked.connect(self.change_policy)
        shortcut("Ctrl+Shift+P", self, "Change the policy of the selected line's item", self.change_policy)
        shortcut("Ctrl+Return", self, "Accept the selected lines", self.accept_selected)
        shortcut("Ctrl+T", self, "Switch the selected lines between purchase and transfer", self.toggle_selected_option)

    def _snooze_clicked(self) -> None:
        d = self.snooze_until.date()
        self.snooze_selected(dt.date(d.year(), d.month(), d.day()))

    def showEvent(self, event: QShowEvent) -> None:
        """The first time the tab is shown, compute the worklist (in the background)."""
        super().showEvent(event)
        if self.last_result is None and self._gen == 0 and self.ctx.can("replenish.run"):
            self.refresh()

    # -- the buyer's edits (kept here until accepted) ------------------------------------------

    def set_recommendations(self, recs: list[Recommendation]) -> None:
        keys = {r.key for r in recs}
        self.qty = {k: v for k, v in self.qty.items() if k in keys}
        self.choice = {k: v for k, v in self.choice.items() if k in keys}
        self.model.set_rows(recs)

    def kind_of(self, rec: Recommendation) -> str:
        return self.choice.get(rec.key, rec.preferred)

    def _option(self, rec: Recommendation) -> Any:
        return rec.transfer if self.kind_of(rec) == "transfer" else rec.purchase

    def qty_of(self, rec: Recommendation) -> int:
        opt = self._option(rec)
        return self.qty.get(rec.key, opt.qty if opt else rec.qty)

    def _via(self, rec: Recommendation) -> str:
        opt = self._option(rec)
        if opt is None:
            return ""
        return f"transfer from {opt.source_code}" if self.kind_of(rec) == "transfer" else f"buy from {opt.source_code}"

    def _typed_qty(self, rec: Recommendation, _col: Column, text: str) -> bool:
        """Keep the buyer's quantity as typed if it is a whole number; the service checks the rest."""
        try:
            self.qty[rec.key] = int(text)
        except ValueError:
            return False
        return True

    def toggle_option(self, row: int) -> bool:
        """Switch a line between its purchase and transfer options (when both exist)."""
        r = self.model.row(row)
        if r.purchase is None or r.transfer is None:
            return False
        self.choice[r.key] = "purchase" if self.kind_of(r) == "transfer" else "transfer"
        self.qty.pop(r.key, None)
        self.model.refresh_row(row)
        return True

    # -- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute recommendations in the background; a newer run wins over an older one."""
        self._gen += 1
        gen, actor, today, weeks = self._gen, self.ctx.actor, self.today, self.history_weeks

        def op(session: Session, progress: Progress) -> RunResult:
            return run(session, actor, today=today, history_weeks=weeks, progress=progress.report)

        self.message.setText("Computing recommendations…")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        handle = self.ctx.runner.submit(op, lambda res: self._loaded(gen, res), on_error=self._error, write=False,
                                        label="replenishment run", progress=True)
        handle.progressed.connect(lambda done, total, what: self._progressed(gen, done, total, what))

    def _progressed(self, gen: int, done: int, total: int, what: str) -> None:
        """The run's stage as it goes: history, stock, orders ... (a long run on a big branch)."""
        if gen != self._gen:
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.message.setText(f"Computing recommendations… {what} ({min(done + 1, total)} of {total})"
                             if done < total else f"Computing recommendations… {what}")

    def _loaded(self, gen: int, res: RunResult) -> None:
        if gen != self._gen:
            return
        self.progress.setVisible(False)
        self.last_result = res
        self.set_recommendations(res.recommendations)
        summary = (f"{len(res.recommendations)} recommendations over {res.pairs:,} item × warehouse pairs"
                   f" ({res.suppressed} snoozed or rejected)")
        # the refresh an accept causes must not wipe what the accept said
        self.message.setText(f"{self._note}\n{summary}" if self._note else summary)
        self._note = ""
        if res.recommendations:
            self.view.selectRow(0)
        else:
            self.why.clear()
        self.loaded.emit(len(res.recommendations))

    def _on_data_changed(self, kinds: frozenset[Change]) -> None:
        if kinds & REFRESH_KINDS and self.last_result is not None:
            self.refresh()

    def _show_why(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            self.why.setHtml(why_html(self.model.row(current.row())))

    # -- acting ----------------------------------------------------------------------------

    def selected(self) -> list[Recommendation]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.row(r) for r in rows if r < self.model.rowCount()]

    def select_rows(self, rows: list[int]) -> None:
        self.view.clearSelection()
        mode = self.view.selectionMode()
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r in rows:
            self.view.selectRow(r)
        self.view.setSelectionMode(mode)

    def toggle_selected_option(self) -> None:
        for r in sorted({i.row() for i in self.view.selectionModel().selectedRows()}):
            self.toggle_option(r)

    def accept_selected(self) -> None:
        recs = self.selected()
        if not recs:
            self.message.setText("Select the lines to accept")
            return
        actor = self.ctx.actor
        try:
            lines = rq.lines_from_recommendations(recs, {r.key: self.qty_of(r) for r in recs},
                                                  {r.key: self.kind_of(r) for r in recs})
        except DomainError as e:  # a line without the chosen option
            self._error(e)
            return

        branches = {r.branch_id for r in recs}

        def op(session: Session) -> tuple[list[str], str]:
            nums = [r.number for r in rq.accept(session, actor, lines)]
            return nums, followup_for(session, branches)

        self.ctx.runner.submit(op, lambda r: self._acted(
            f"Accepted {len(r[0])} as requisition{'s' if len(r[0]) != 1 else ''} {', '.join(r[0])}{r[1]}: "
            "turn them into purchase orders on the Requisitions tab (Create POs…)"),
            on_error=self._error, kinds={Change.REQUISITION}, label="accept recommendations")

    def snooze_selected(self, until: dt.date) -> None:
        recs = self.selected()
        pairs, branches = [r.key for r in recs], {r.branch_id for r in recs}
        actor, today = self.ctx.actor, self.today

        def op(session: Session) -> tuple[int, str]:
            n = len(rq.snooze(session, actor, pairs, until, today=today))
            return n, followup_for(session, branches)

        self.ctx.runner.submit(op, lambda r: self._acted(f"snoozed {r[0]} until {until.isoformat()}{r[1]}"),
                               on_error=self._error, kinds={Change.RECOMMENDATION}, label="snooze recommendations")

    def reject_selected(self, reason: str) -> None:
        recs = self.selected()
        pairs, branches = [r.key for r in recs], {r.branch_id for r in recs}
        actor, today = self.ctx.actor, self.today

        def op(session: Session) -> tuple[int, str]:
            n = len(rq.reject(session, actor, pairs, reason, today=today))
            return n, followup_for(session, branches)

        self.ctx.runner.submit(op, lambda r: self._acted(f"rejected {r[0]} ({reason}){r[1]}"), on_error=self._error,
                               kinds={Change.RECOMMENDATION}, label="reject recommendations")

    def change_policy(self) -> None:
        """Choose how the current line's item is replenished at its warehouse (PolicyDialog)."""
        recs = self.selected()
        if len(recs) != 1:
            self.message.setText("Select one line to change its item's policy at that warehouse")
            return
        r = recs[0]
        w = r.why
        lo, hi = (int(w.rop), int(w.oul)) if w.policy == "fixed_minmax" else (max(int(w.rop), 0), max(int(w.oul), 1))
        answer = PolicyDialog.ask(self, f"{r.sku} {r.description} at {r.warehouse_code}: now {w.policy_label}"
                                  + ("" if w.policy_chosen else " (the default)"), w.policy, lo, hi)
        if answer is None:
            return
        policy, mn, mx = answer
        actor, sku, wh = self.ctx.actor, r.sku, r.warehouse_code

        def op(session: Session) -> str:
            row = choose_policy(session, actor, wh, sku, policy, mn, mx)
            return f"{row.sku} at {row.warehouse}: {POLICY_LABELS[row.policy]}" + (
                f", min {row.min_qty}, max {row.max_qty}" if row.policy == "fixed_minmax" else "")

        self.ctx.runner.submit(op, lambda text: self._acted(f"Policy set: {text}"), on_error=self._error,
                               kinds={Change.RULES, Change.RECOMMENDATION}, label="set replenishment policy")

    def _acted(self, text: str) -> None:
        self._note = text
        self.message.setText(text)
        self.ctx.signals.message.emit(text)
        self.acted.emit(text)

    def _error(self, exc: BaseException) -> None:
        self.progress.setVisible(False)
        self.message.setText(str(exc))
        self.failed.emit(str(exc))
