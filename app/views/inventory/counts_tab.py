"""Cycle counts: the task list, the blind count sheet, and (for managers) review and approval.

The counter's sheet is a ``RowsModel`` over ``SheetLine`` rows, which have no expected
quantity (what is typed is kept beside them, by line); the review table with expected and variance is built only for users who may
approve counts (``count.approve``), and only for a task waiting for approval.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.errors import ValidationError
from app.services.inventory.common import item_by_sku
from app.services.inventory.counts import (
    CountEntry,
    CountSheet,
    ReviewLine,
    SheetLine,
    TaskSummary,
    approve_count,
    count_review,
    count_sheet,
    enter_counts,
    list_count_tasks,
    schedule_counts,
    start_counts,
)
from app.services.masterdata import WarehouseRef, warehouses
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel


def _table(model: Any, name: str) -> QTableView:
    v = QTableView()
    v.setObjectName(name)
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.horizontalHeader().setStretchLastSection(True)
    v.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    fit_columns(v, f"inventory_{name}")
    return v


def _entries(session: Session, sheet_rows: list[tuple[str, str, str]], extra: list[tuple[str, str]]) -> list[CountEntry]:
    """Typed quantities (sku, lot id hex, text) + found items (sku, text) -> entries; blank = not counted."""
    out = []
    for sku, lot_hex, text in sheet_rows:
        item = item_by_sku(session, sku)
        out.append(CountEntry(item.id, text if text else 0, uuid.UUID(lot_hex) if lot_hex else None))  # type: ignore[arg-type]
    for sku, text in extra:
        out.append(CountEntry(item_by_sku(session, sku).id, text))  # type: ignore[arg-type]
    return out


class CountsTab(QWidget):
    """Signals:
    tasks_loaded(int): number of open tasks listed.
    sheet_loaded(object): the CountSheet now shown.
    status_changed(str): the selected task's status after an action.
    """

    tasks_loaded = Signal(int)
    sheet_loaded = Signal(object)
    status_changed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sheet: CountSheet | None = None
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("countWarehouse")
        self.schedule_btn = QPushButton("Schedule due counts")
        self.start_btn = QPushButton("Start")
        self.enter_btn = QPushButton("Submit count")
        self.enter_btn.setObjectName("submitCount")
        self.approve_btn = QPushButton("Approve")
        self.approve_btn.setObjectName("approveCount")
        self.approve_btn.setVisible(ctx.can("count.approve"))
        self.found_sku = QLineEdit()
        self.found_sku.setPlaceholderText("found item SKU")
        self.found_qty = QLineEdit()
        self.found_qty.setPlaceholderText("qty")
        self.found_qty.setMaximumWidth(90)
        self.enter_btn.setShortcut("Ctrl+Return")
        self.enter_btn.setToolTip("Submit the count of the whole bin (Ctrl+Enter); lines left blank count as zero")
        self.message = QLabel("")
        self.message.setObjectName("countMessage")
        self.tasks = RowsModel([Column("Count", "number"), Column("Bin", "bin_code"), Column("Status", "status"),
                                Column("Class", "abc_class"), Column("Round", "round", True),
                                Column("Scheduled", "scheduled_for", fmt=lambda d: d.isoformat())], self)
        #: quantities typed into the sheet, by count line (the lines themselves carry no expected quantity)
        self.typed: dict[uuid.UUID, str] = {}
        self.sheet_model = RowsModel([
            Column("SKU", "sku"), Column("Description", "description"), Column("Lot", "lot_code"),
            Column("Counted", get=lambda ln: self.typed.get(ln.line_id, ""), align_right=True,
                   editable=lambda ln: ln.to_count)], self, on_edit=self._typed)
        self.review = RowsModel([Column("SKU", "sku"), Column("Lot", "lot_code"), Column("Expected", "expected_qty", True),
                                 Column("Counted", "counted_qty", True), Column("Recount", "recount_qty", True),
                                 Column("Variance", "variance", True),
                                 Column("Within tolerance", "within_tolerance", fmt=lambda b: "yes" if b else "no")], self)
        self.task_view = _table(self.tasks, "countTasks")
        self.sheet_view = _table(self.sheet_model, "countSheet")
        self.review_view = _table(self.review, "countReview")
        self.review_view.setVisible(False)
        top = QHBoxLayout()
        top_widgets: list[QWidget] = [self.warehouse, self.schedule_btn, self.start_btn, self.approve_btn]
        for w in top_widgets:
            top.addWidget(w)
        top.addStretch(1)
        found = QHBoxLayout()
        found_widgets: list[QWidget] = [QLabel("Found an item not listed:"), self.found_sku, self.found_qty, self.enter_btn]
        for w in found_widgets:
            found.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.task_view, 1)
        layout.addWidget(QLabel("Count sheet (blind: enter what you find)"))
        layout.addWidget(self.sheet_view, 1)
        layout.addLayout(found)
        layout.addWidget(self.review_view, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        ctx.runner.submit(warehouses, self._on_warehouses, write=False, label="warehouses")

    def _connect_signals(self) -> None:
        self.task_view.selectionModel().selectionChanged.connect(lambda *_: self._load_sheet())
        self.schedule_btn.clicked.connect(self.schedule)
        self.start_btn.clicked.connect(self.start_selected)
        self.enter_btn.clicked.connect(self.submit)
        self.approve_btn.clicked.connect(self.approve)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.refresh())
        self.ctx.signals.data_changed.connect(lambda kinds: self.refresh() if kinds & {Change.COUNT} else None)

    def _on_warehouses(self, rows: list[WarehouseRef]) -> None:
        self.warehouse.blockSignals(True)
        for wh in rows:
            self.warehouse.addItem(wh.code, wh.id)
        self.warehouse.blockSignals(False)
        self.refresh()

    def _error(self, e: BaseException) -> None:
        self.message.setText(str(e))

    def selected(self) -> TaskSummary | None:
        rows = self.task_view.selectionModel().selectedRows()
        return self.tasks.row(rows[0].row()) if rows else None

    def refresh(self) -> None:
        wid = self.warehouse.currentData()
        self.ctx.runner.submit(lambda s: list_count_tasks(s, warehouse_id=wid), self._on_tasks,
                               on_error=self._error, write=False, label="count tasks",
                               latest=(id(self), "tasks"))  # the previous warehouse's list must not land last

    def _on_tasks(self, tasks: list[TaskSummary]) -> None:
        keep = self.selected()
        self.tasks.set_rows(tasks)
        if keep is not None:
            for r, t in enumerate(tasks):
                if t.id == keep.id:
                    self.task_view.selectRow(r)
        self.tasks_loaded.emit(len(tasks))

    def select_task(self, number: str) -> None:
        for r, t in enumerate(self.tasks.rows()):
            if t.number == number:
                self.task_view.selectRow(r)
                return

    def _load_sheet(self) -> None:
        t = self.selected()
        if t is None:
            return
        actor = self.ctx.actor
        want_review = self.ctx.can("count.approve") and t.status == "pending_approval"

        def load(s: Session) -> tuple[CountSheet, list[ReviewLine] | None]:
            return count_sheet(s, actor, t.id), count_review(s, actor, t.id) if want_review else None

        self.ctx.runner.submit(load, self._on_sheet, on_error=self._error, write=False, label="count sheet",
                               latest=(id(self), "sheet"))

    def _on_sheet(self, result: tuple[CountSheet, list[ReviewLine] | None]) -> None:
        sheet, review = result
        self.sheet = sheet
        self.typed = {ln.line_id: "" if ln.counted_qty is None else str(ln.counted_qty) for ln in sheet.lines}
        self.sheet_model.set_rows(sheet.lines)
        self.review_view.setVisible(review is not None)
        self.review.set_rows(review or [])
        self.enter_btn.setEnabled(sheet.status in ("counting", "recount"))
        self.sheet_loaded.emit(sheet)

    def _typed(self, line: SheetLine, _col: Column, text: str) -> bool:
        self.typed[line.line_id] = text
        return True

    def _after(self, t: Any) -> None:
        self.message.setText(f"{t.number}: {t.status}")
        self.status_changed.emit(t.status)

    def schedule(self) -> None:
        wid, actor = self.warehouse.currentData(), self.ctx.actor
        if wid is None:
            return
        self.ctx.runner.submit(lambda s: len(schedule_counts(s, actor, wid)),
                               lambda n: self.message.setText(f"{n} count tasks scheduled"),
                               on_error=self._error, kinds={Change.COUNT}, label="schedule counts")

    def start_selected(self) -> None:
        t, actor = self.selected(), self.ctx.actor
        if t is not None:
            self.ctx.runner.submit(lambda s: start_counts(s, actor, [t.id])[0], self._after, on_error=self._error,
                                   kinds={Change.COUNT}, label="start count")

    def submit(self) -> None:
        t, actor = self.selected(), self.ctx.actor
        if t is None or self.sheet is None:
            return
        rows = [(ln.sku, ln.lot_id.hex if ln.lot_id else "", self.typed.get(ln.line_id, ""))
                for ln in self.sheet_model.rows() if ln.to_count]
        extra = [(self.found_sku.text().strip(), self.found_qty.text().strip())] if self.found_sku.text().strip() else []
        if extra and not extra[0][1]:
            self._error(ValidationError("found item quantity", "is required"))
            return

        def op(s: Session) -> Any:
            return enter_counts(s, actor, t.id, _entries(s, rows, extra))

        self.ctx.runner.submit(op, self._after, on_error=self._error, kinds={Change.COUNT, Change.STOCK}, label="enter count")

    def approve(self) -> None:
        t, actor = self.selected(), self.ctx.actor
        if t is not None:
            self.ctx.runner.submit(lambda s: approve_count(s, actor, t.id), self._after, on_error=self._error,
                                   kinds={Change.COUNT, Change.STOCK}, label="approve count")
