"""Forward-pick replenishment: check the pick faces of a warehouse, then confirm the moves.

"Check pick faces" creates tasks for faces below their minimum (and says which faces lack
reserve stock); confirming a task moves the stock reserve -> pick face as one op.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.inventory.pick_replenish import (
    ReplenishResult,
    TaskView,
    check_pick_faces,
    confirm_replenish,
    open_task_views,
)
from app.services.masterdata import WarehouseRef, warehouses
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel


class ReplenishTab(QWidget):
    """Signals:
    loaded(int): open tasks listed.
    done(str): message after an action.
    """

    loaded = Signal(int)
    done = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("replenishWarehouse")
        self.check_btn = QPushButton("Check pick faces")
        self.confirm_btn = QPushButton("Confirm selected")
        can = ctx.can("putaway.confirm") or ctx.can("stock.adjust")
        self.check_btn.setEnabled(can)
        self.confirm_btn.setEnabled(can)
        self.message = QLabel("")
        self.message.setObjectName("replenishMessage")
        self.model = RowsModel([Column("SKU", "sku"), Column("Lot", "lot"), Column("From", "from_bin"),
                                Column("To pick face", "pick_bin"), Column("Qty", "qty", True)], self)
        self.view = QTableView()
        self.view.setObjectName("replenishTable")
        self.view.setModel(self.model)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        fit_columns(self.view, "pick_replenish")
        top = QHBoxLayout()
        top_widgets: list[QWidget] = [self.warehouse, self.check_btn, self.confirm_btn]
        for w in top_widgets:
            top.addWidget(w)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        ctx.runner.submit(warehouses, self._on_warehouses, write=False, label="warehouses")

    def _connect_signals(self) -> None:
        self.check_btn.clicked.connect(self.check)
        self.confirm_btn.clicked.connect(self.confirm)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.refresh())
        self.ctx.signals.data_changed.connect(lambda k: self.refresh() if k & {Change.REPLENISH} else None)

    def _on_warehouses(self, rows: list[WarehouseRef]) -> None:
        self.warehouse.blockSignals(True)
        for wh in rows:
            self.warehouse.addItem(wh.code, wh.id)
        self.warehouse.blockSignals(False)
        self.refresh()

    def _error(self, e: BaseException) -> None:
        self.message.setText(str(e))

    def _ok(self, text: str) -> None:
        self.message.setText(text)
        self.done.emit(text)

    def refresh(self) -> None:
        wid = self.warehouse.currentData()
        if wid is not None:
            self.ctx.runner.submit(lambda s: open_task_views(s, wid), self._on_tasks, on_error=self._error,
                                   write=False, label="replenishment tasks", latest=(id(self), "tasks"))

    def _on_tasks(self, rows: list[TaskView]) -> None:
        self.model.set_rows(rows)
        self.loaded.emit(len(rows))

    def check(self) -> None:
        wid, actor = self.warehouse.currentData(), self.ctx.actor
        if wid is None:
            return

        def ok(res: ReplenishResult) -> None:
            short = "; ".join(f"{s.bin_code} ({s.sku}) short {s.missing}" for s in res.shortfalls)
            self._ok(f"{len(res.tasks)} tasks created" + (f"; not enough reserve: {short}" if short else ""))

        self.ctx.runner.submit(lambda s: check_pick_faces(s, actor, wid), ok, on_error=self._error,
                               kinds={Change.REPLENISH}, label="check pick faces")

    def confirm(self) -> None:
        ids = [self.model.row(i.row()).id for i in self.view.selectionModel().selectedRows()]
        if not ids:
            self.message.setText("select tasks first")
            return
        actor = self.ctx.actor

        def op(s: Session) -> Any:
            return len(confirm_replenish(s, actor, ids))

        self.ctx.runner.submit(op, lambda n: self._ok(f"{n} tasks confirmed"), on_error=self._error,
                               kinds={Change.REPLENISH, Change.STOCK}, label="confirm replenishment")
