"""The Sync screen: state, "Sync now", and three lists — history, pending changes, conflict log.

The lists are small (bounded by LIMIT) and read through the op runner; the conflict log
shows the reason and, for the selected entry, the full local version that lost or was
refused, so a user can re-enter it by hand (nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.replication import engine as rep
from app.services.replication.describe import describe_pending, local_time
from app.views.context import AppContext
from app.views.sync.controller import SyncController
from app.views.widgets.columns import fit_columns
from app.views.widgets.paged import Column
from app.views.widgets.rows import RowsModel

Index = QModelIndex | QPersistentModelIndex


HISTORY_COLUMNS = [Column("Started", "started_at", fmt=local_time), Column("Result", "ok", fmt=lambda v: "ok" if v else "failed"),
                   Column("Pushed", "pushed", True), Column("Pulled", "pulled", True),
                   Column("Conflicts", "conflicts", True), Column("ms", "duration_ms", True), Column("Error", "error")]
PENDING_COLUMNS = [Column("What", "what"), Column("Change", "change"), Column("By", "who"), Column("When", "when"),
                   Column("#", "seq", True)]
CONFLICT_COLUMNS = [Column("When", "at", fmt=local_time), Column("Kind", "kind"), Column("Table", "tbl"),
                    Column("Row", "row_id"), Column("Reason", "reason")]


class SyncPanel(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._generation = 0
        self.controller = SyncController.of(ctx)
        self.state_label = QLabel("sync: …")
        self.state_label.setObjectName("syncState")
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setShortcut(QKeySequence("Ctrl+Shift+Y"))
        self.sync_button.setToolTip("Push local changes and pull the server's now (Ctrl+Shift+Y)")
        self.result = QLabel("")
        self.result.setObjectName("syncResult")
        self.result.setWordWrap(True)
        self.history = RowsModel(HISTORY_COLUMNS, self)
        self.pending = RowsModel(PENDING_COLUMNS, self)
        self.conflicts = RowsModel(CONFLICT_COLUMNS, self)
        self.tabs = QTabWidget()
        self.views: dict[str, QTableView] = {}
        for key, title, model in (("history", "History", self.history), ("pending", "Pending changes", self.pending)):
            view = self._table(model)
            self.views[key] = view
            self.tabs.addTab(view, title)
        self.conflict_detail = QPlainTextEdit()
        self.conflict_detail.setReadOnly(True)
        self.conflict_detail.setPlaceholderText("Select a conflict to see the local version that lost or was refused")
        split = QSplitter(Qt.Orientation.Vertical)
        self.views["conflicts"] = self._table(self.conflicts)
        split.addWidget(self.views["conflicts"])
        split.addWidget(self.conflict_detail)
        self.tabs.addTab(split, "Conflict log")
        lay = QVBoxLayout(self)
        lay.addWidget(self.state_label)
        lay.addWidget(self.sync_button)
        lay.addWidget(self.result)
        lay.addWidget(self.tabs, 1)
        self._connect_signals()
        self.refresh()

    @staticmethod
    def _table(model: RowsModel) -> QTableView:
        v = QTableView()
        v.setModel(model)
        v.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        v.horizontalHeader().setStretchLastSection(True)
        fit_columns(v, f"sync_{id(model) % 1000}")
        return v

    def _connect_signals(self) -> None:
        self.sync_button.clicked.connect(self.sync_now)
        self.controller.state_changed.connect(self.state_label.setText)
        self.controller.running_changed.connect(lambda running: self.sync_button.setEnabled(not running))
        self.controller.finished.connect(lambda _res: self.refresh())
        self.controller.finished.connect(self._on_finished)
        self.ctx.signals.data_changed.connect(self._on_data_changed)
        sel = self.views["conflicts"].selectionModel()
        sel.currentRowChanged.connect(self._on_conflict_row)

    def sync_now(self) -> None:
        """Start a run and say so; the outcome is said when it ends (``_on_finished``)."""
        if self.controller.sync_now():
            self.result.setStyleSheet("")
            self.result.setText("Syncing…")
        else:
            self.result.setText("A sync is already running; its result shows here when it ends")

    def _on_finished(self, res: Any) -> None:
        """Every Sync now answers on screen: what moved, or why nothing could (and what to do)."""
        if res.ok:
            text = f"Synced at {local_time(dt.datetime.now(dt.UTC))}: sent {res.pushed:,}, received {res.pulled:,} change(s)"
            self.result.setStyleSheet("")
            if getattr(res, "restored", ""):  # nothing lost, but an admin wants to know
                text += f". Note: {res.restored}"
                self.result.setStyleSheet("color: #8a5300;")
        elif res.error_kind == "config":
            text = ("No server is set up for this workstation, so nothing was sent: it keeps working on its own "
                    "and keeps its changes. Enter the server address and password in Settings > General to share them.")
            self.result.setStyleSheet("color: #8a5300;")
        else:
            text = f"Sync failed, nothing lost (changes wait here): {res.error or res.error_kind}"
            self.result.setStyleSheet("color: #b00020;")
        self.result.setText(text)
        self.ctx.signals.message.emit(text)

    def _on_data_changed(self, kinds: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        def load(session: Any) -> tuple[Any, ...]:
            return (rep.status_for(session), rep.history(session),
                    describe_pending(session, rep.pending_changes(session)), rep.conflicts(session))

        # reads run on a pool: an older refresh (before a sync finished) may land after a newer one
        self._generation += 1
        gen = self._generation
        self.ctx.runner.submit(load, lambda data: self._show(data) if gen == self._generation else None,
                               write=False, label="load sync panel")

    def _show(self, data: tuple[Any, ...]) -> None:
        st, hist, pend, conf = data
        if not self.controller.running:
            self.state_label.setText(st.line())
        self.history.set_rows(hist)
        self.pending.set_rows(pend)
        self.conflicts.set_rows(conf)
        self.tabs.setTabText(1, f"Pending changes ({st.pending})")
        self.tabs.setTabText(2, f"Conflict log ({len(conf)})")

    def _on_conflict_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.conflict_detail.clear()
            return
        row = self.conflicts.row(current.row())
        try:
            local = json.dumps(json.loads(row.get("local_row") or "{}"), indent=2, sort_keys=True)
        except ValueError:
            local = str(row.get("local_row"))
        self.conflict_detail.setPlainText(f"{row['kind']}: {row['reason']}\n\nlocal version:\n{local}")
