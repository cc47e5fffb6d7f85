"""ApprovalsInbox: the purchase orders this user may approve now, with the detail beside.

"May approve now" is the approvals service's answer (``approvals.inbox``): pending, the next
level needs one of my roles, I did not request it, and I did not decide another level of
this revision. Approve / reject act on the selected PO; the list refreshes after each.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.buying import approvals
from app.services.buying.approvals import InboxRow
from app.services.changes import Change
from app.views.buying.po_detail import PoDetailView
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.flow import FlowRow
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

Index = QModelIndex | QPersistentModelIndex
REFRESH_KINDS = frozenset({Change.PO, Change.APPROVAL, Change.RULES, Change.SETTINGS})


COLUMNS = (
    Column("Number", "number"),
    Column("Rev", "revision", True),
    Column("Supplier", "supplier"),
    Column("Total", align_right=True, get=lambda r: f"{r.total:,.2f} {r.currency}"),
    Column("Level", "level", True),
    Column("Why", "reasons"),
)


class ApprovalsInbox(QWidget):
    """Signals: refreshed(int) with the number of POs waiting for this user."""

    refreshed = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RowsModel(COLUMNS, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        fit_columns(self.table, "approvals_inbox")
        self.count = QLabel("")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment (required to reject)")
        self.approve_button = QPushButton("&Approve")
        self.reject_button = QPushButton("Re&ject")
        for b in (self.approve_button, self.reject_button):
            b.setEnabled(False)
        self.detail = PoDetailView(ctx)
        bar = FlowRow()  # wraps beside the PO's detail on a narrow window
        bar.addWidget(self.count)
        bar.addWidget(self.comment, 1)
        bar.addWidget(self.approve_button)
        bar.addWidget(self.reject_button)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(bar)
        ll.addWidget(self.table, 1)
        if not ctx.can("po.approve"):
            ll.addWidget(QLabel(f"{ctx.actor.username} may not approve purchase orders."))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.detail)
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        self._connect_signals()
        self.refresh()

    def _connect_signals(self) -> None:
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        self.ctx.signals.data_changed.connect(lambda kinds: self.refresh() if kinds & REFRESH_KINDS else None)
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button.clicked.connect(self.reject_selected)

    def refresh(self) -> None:
        actor = self.ctx.actor
        self.ctx.runner.submit(lambda s: approvals.inbox_rows(s, actor), self._on_rows, write=False, label="approvals inbox",
                               latest=(id(self), "inbox"))  # a refresh from before a decision must not land last

    def _on_rows(self, rows: list[InboxRow]) -> None:
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        self.count.setText(f"{len(rows)} waiting for you")
        has = bool(rows)
        self.approve_button.setEnabled(has)
        self.reject_button.setEnabled(has)
        if has:
            self.table.selectRow(0)
        else:
            self.detail.load(None)
        self.refreshed.emit(len(rows))

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            self.detail.load(self.model.row(current.row()).id)

    def _selected(self) -> InboxRow | None:
        idx = self.table.currentIndex()
        return self.model.row(idx.row()) if idx.isValid() and idx.row() < self.model.rowCount() else None

    def approve_selected(self) -> None:
        row = self._selected()
        if row is None:
            return
        actor, comment = self.ctx.actor, self.comment.text()
        self.ctx.runner.submit(lambda s: approvals.decision_note(s, approvals.approve(s, actor, row.id, comment)),
                               lambda o: self._done(f"{row.number}: level {row.level} approved{o}"),
                               kinds=(Change.PO, Change.APPROVAL, Change.RECEIPT), label=f"approve {row.number}")

    def reject_selected(self) -> None:
        row = self._selected()
        if row is None:
            return
        actor, comment = self.ctx.actor, self.comment.text()
        self.ctx.runner.submit(lambda s: approvals.decision_note(s, approvals.reject(s, actor, row.id, comment)),
                               lambda o: self._done(f"{row.number} rejected{o}"),
                               kinds=(Change.PO, Change.APPROVAL), label=f"reject {row.number}")

    def _done(self, text: str) -> None:
        self.comment.clear()
        self.ctx.signals.message.emit(text)
