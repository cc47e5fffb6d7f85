"""Credit holds tab: held orders with the reason and value; Release (``credit.release`` only) asks
for a note and is audited; on another branch's order it is recorded for that branch to apply."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from app.services.auth import refusal
from app.services.sales import credit
from app.services.sales.queries import HoldRow, credit_holds
from app.views.allocation.common import KINDS, money, table, when
from app.views.context import AppContext
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

COLUMNS = [Column("Order", "number"), Column("Customer", "customer"), Column("Name", "customer_name"),
           Column("WH", "warehouse"), Column("Held", "held_at", fmt=when),
           Column("Value", get=lambda r: money(r.value, r.currency), align_right=True), Column("Why", "reason")]


class NoteQuestion:
    """Asks for the release note; tests replace ``ask``."""

    @staticmethod
    def ask(parent: QWidget | None, number: str, reason: str) -> str | None:
        text, ok = QInputDialog.getText(parent, "Release from credit hold",
                                        f"{number} is held: {reason}\n\nNote for the audit (why it may go):")
        return text if ok else None


class HoldsTab(QWidget):
    """Signals:
    loaded(int): holds listed.
    released(str): the message after a release.
    """

    loaded = Signal(int)
    released = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RowsModel(COLUMNS, self)
        self.view = table(self.model, "holdTable")
        self.release_btn = QPushButton("&Release…")
        self.release_btn.setObjectName("releaseButton")
        self.release_btn.setEnabled(ctx.can("credit.release"))
        if not ctx.can("credit.release"):
            self.release_btn.setToolTip("needs the credit.release right (a credit manager)")
        self.message = QLabel("")
        self.message.setObjectName("holdsMessage")
        self.message.setWordWrap(True)
        self.detail = QLabel("" if ctx.can("credit.release") else
                             "Releasing needs the credit.release right (a credit manager).")
        self.detail.setObjectName("holdDetail")
        self.detail.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Orders waiting for a credit decision, oldest first"))
        top.addStretch(1)
        top.addWidget(self.release_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.detail)
        lay.addWidget(self.message)
        self.release_btn.clicked.connect(self.release_selected)
        self.view.selectionModel().currentRowChanged.connect(self._on_row)
        self.view.doubleClicked.connect(lambda _i: self.release_selected())
        ctx.signals.data_changed.connect(lambda k: self.refresh() if k & KINDS else None)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.runner.submit(lambda s: credit_holds(s), self._on_rows, write=False, label="credit holds",
                               latest=(id(self), "holds"), on_error=lambda e: self.message.setText(str(e)))

    def _on_rows(self, rows: list[HoldRow]) -> None:
        self.model.set_rows(rows)
        self.loaded.emit(len(rows))

    def _on_row(self, current: Any, _previous: Any) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            r = self.model.row(current.row())
            self.detail.setText(f"<b>{r.number}</b> ({r.customer} {r.customer_name}, {money(r.value, r.currency)} "
                                f"{r.currency}): {r.reason}")

    def selected(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def release_selected(self) -> None:
        row, actor = self.selected(), self.ctx.actor
        if row is None:
            self.message.setText("select a held order first")
            return
        if not self.ctx.can("credit.release"):
            self.message.setText(refusal(actor.username, actor.roles, "credit.release"))
            return
        note = NoteQuestion.ask(self, row.number, row.reason)
        if note is None:
            return

        def done(text: str) -> None:
            self.message.setText(text)
            self.ctx.signals.message.emit(text)
            self.released.emit(text)

        self.ctx.runner.submit(lambda s: credit.release(s, actor, row.id, note).message, done,
                               on_error=lambda e: self.message.setText(str(e)), label="release credit hold")
