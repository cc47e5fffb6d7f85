"""ExceptionsScreen: everything someone must look at, by role; acknowledge or resolve.

The list is a paged model over ``services.exceptions.list_open`` (fetched on the op
runner). "For me" shows the exceptions of the logged-in user's roles (a manager sees all).
Acknowledge (Ctrl+K) says someone is on it; Resolve (Ctrl+Return) closes it with the note
typed beside it. Both are write ops; the list reloads on the "exception" kind.

On a branch workstation the list shows this branch's exceptions; "All branches" shows the
others' too, read-only: the owning branch handles its own (the buttons say so).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import exception_inbox as exc
from app.services.changes import Change
from app.services.exception_inbox import SUPERVISOR_ROLES, ExceptionRow
from app.views.context import AppContext
from app.views.widgets.columns import fit_columns
from app.views.widgets.keys import shortcut
from app.views.widgets.paged import Column, PagedTableModel

REFRESH_KINDS = frozenset({Change.EXCEPTION, Change.EDI, Change.PO, Change.RECEIPT})
COLUMNS = (
    Column("Raised", "created_at", fmt=lambda v: str(v).replace("T", " ")[:16]),
    Column("Severity", "severity"),
    Column("Kind", "kind"),
    Column("Title", "title"),
    Column("About", "entity_ref"),
    Column("Role", "role"),
    Column("Status", "status"),
    Column("Branch", "branch"),
)


@dataclass(frozen=True)
class ExceptionQuery:
    roles: frozenset[str] | None  # None = all roles
    all_branches: bool = False  # False: this branch's only (on a branch workstation)


def fetch_exceptions(session: Session, query: ExceptionQuery | None, after: Any, limit: int) -> tuple[list[ExceptionRow], Any]:
    offset = int(after or 0)
    branch = None if query is None or query.all_branches else exc.own_branch_filter(session)
    rows = exc.list_open(session, roles=query.roles if query else None, branch_id=branch, limit=limit + 1, offset=offset)
    return rows[:limit], (offset + limit if len(rows) > limit else None)


class ExceptionsScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ExceptionsScreen")
        self.scope = QComboBox()
        self.scope.addItem("For me", "mine")
        self.scope.addItem("All", "all")
        self.branches = QComboBox()
        self.branches.addItem("This branch", "mine")
        self.branches.addItem("All branches", "all")
        self.branches.setToolTip("Other branches' exceptions are shown read-only: their branch handles them")
        self.count_label = QLabel("")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.model = PagedTableModel(ctx.runner, fetch_exceptions, COLUMNS, parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        fit_columns(self.table, "exceptions")
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.note = QLineEdit()
        self.note.setPlaceholderText("What was done (kept with the resolution)")
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.setToolTip("Ctrl+K")
        self.resolve_button = QPushButton("Resolve")
        self.resolve_button.setToolTip("Ctrl+Return")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("F5")

        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.scope)
        top.addWidget(self.branches)
        top.addStretch(1)
        top.addWidget(self.count_label)
        top.addWidget(self.refresh_button)
        actions = QHBoxLayout()
        actions.addWidget(self.note, 1)
        actions.addWidget(self.ack_button)
        actions.addWidget(self.resolve_button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.detail)
        lower_layout.addLayout(actions)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)
        self._connect_signals()
        self._update_buttons()
        self.reload()

    def _connect_signals(self) -> None:
        self.scope.currentIndexChanged.connect(lambda _i: self.reload())
        self.branches.currentIndexChanged.connect(lambda _i: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.resolve_button.clicked.connect(self.resolve_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.model.page_loaded.connect(lambda n: self.count_label.setText(f"{n}{'+' if self.model.has_more else ''} open"))
        self.model.page_loaded.connect(lambda _n: self._on_selection())
        self.model.load_failed.connect(self.message.setText)
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        shortcut("Ctrl+K", self, "Acknowledge the selected exceptions", self.acknowledge_selected)
        shortcut("Ctrl+Return", self, "Resolve the selected exceptions", self.resolve_selected)

    # -- data --------------------------------------------------------------------------
    def query(self) -> ExceptionQuery:
        roles = self.ctx.actor.roles
        all_branches = self.branches.currentData() == "all"
        if self.scope.currentData() == "all" or SUPERVISOR_ROLES & roles:
            return ExceptionQuery(None, all_branches)
        return ExceptionQuery(frozenset(roles), all_branches)

    def reload(self) -> None:
        self.model.set_query(self.query())

    def refresh(self) -> None:
        """F5 (the window's Refresh)."""
        self.reload()

    def _on_data_changed(self, kinds: object) -> None:
        if isinstance(kinds, frozenset | set) and kinds & REFRESH_KINDS:
            self.model.reload()

    def selected_rows(self) -> list[ExceptionRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.row(r) for r in rows if r < self.model.rowCount()]

    def _on_selection(self) -> None:
        rows = self.selected_rows()
        if len(rows) == 1:
            r = rows[0]
            self.detail.setPlainText(f"{r.title}\n\n{r.detail}".strip())
        else:
            self.detail.setPlainText(f"{len(rows)} exceptions selected" if rows else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        rows = self.selected_rows()
        foreign = sorted({r.branch or "another branch" for r in rows if not r.handled_here})
        why = f"{', '.join(foreign)} handles its own exceptions (read-only here)" if foreign else ""
        for button, keys in ((self.ack_button, "Ctrl+K"), (self.resolve_button, "Ctrl+Return")):
            button.setEnabled(bool(rows) and not foreign)
            button.setToolTip(why or keys)

    # -- actions -----------------------------------------------------------------------
    def _ids(self) -> list[uuid.UUID]:
        """The selected exceptions, or none (with the reason shown) if another branch owns one."""
        rows = self.selected_rows()
        foreign = [r for r in rows if not r.handled_here]
        if foreign:
            r = foreign[0]
            self.message.setText(f"exception '{r.title}' belongs to {r.branch}; {r.branch} handles it")
            return []
        return [r.id for r in rows]

    def acknowledge_selected(self) -> None:
        ids, actor = self._ids(), self.ctx.actor
        if not ids:
            return
        self.ctx.runner.submit(lambda s: len(exc.acknowledge(s, actor, ids)),
                               lambda n: self.message.setText(f"{n} exception(s) acknowledged"),
                               on_error=lambda e: self.message.setText(str(e)), kinds={Change.EXCEPTION},
                               label="acknowledge exceptions")

    def resolve_selected(self) -> None:
        ids, actor, note = self._ids(), self.ctx.actor, self.note.text()
        if not ids:
            return
        self.ctx.runner.submit(lambda s: len(exc.resolve(s, actor, ids, note)), self._on_resolved,
                               on_error=lambda e: self.message.setText(str(e)), kinds={Change.EXCEPTION},
                               label="resolve exceptions")

    def _on_resolved(self, n: int) -> None:
        self.note.clear()
        self.message.setText(f"{n} exception(s) resolved")
