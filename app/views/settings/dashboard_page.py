"""Settings > Dashboard: the target of each KPI (a number in its unit; empty = no target), kept in
this workstation's settings file. Rules (0 or more, a percentage at most 100) are
``services.kpi.targets``; a refused value is named here and nothing is saved.

Signals: saved(str) after the targets were saved.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget

from app.services.changes import Change
from app.services.errors import DomainError
from app.services.kpi.compute import kpis_for
from app.services.kpi.targets import parse_target, set_target, targets
from app.views.context import AppContext

UNIT_WORDS = {"%": "%", "days": "days", "hours": "hours", "money": "per document", "count": "a period", "x": "a year"}


class DashboardSettingsPage(QWidget):
    saved = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("dashboardSettings")
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        current = targets(ctx.settings)
        for kpi in kpis_for(ctx.actor.roles):
            edit = QLineEdit("" if kpi.key not in current else f"{current[kpi.key]:g}")
            edit.setObjectName(f"target_{kpi.key}")
            edit.setPlaceholderText("no target")
            edit.setToolTip(kpi.definition)
            edit.setMaximumWidth(120)
            self.fields[kpi.key] = edit
            form.addRow(f"{kpi.title} ({UNIT_WORDS.get(kpi.unit, kpi.unit)})", edit)
        holder = QWidget()
        holder.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        self.save_button = QPushButton("Save targets")
        self.save_button.setObjectName("dashboardSaveTargets")
        self.save_button.setEnabled(ctx.can("dashboard.view"))
        self.status = QLabel("Targets show as a dashed line on each chart and colour each tile (green: met).")
        self.status.setObjectName("dashboardTargetsStatus")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.save_button)
        lay.addWidget(self.status)
        self.save_button.clicked.connect(self.save)

    def save(self) -> bool:
        """Check every field first; save all or nothing."""
        try:
            for key, edit in self.fields.items():
                parse_target(key, edit.text())
            for key, edit in self.fields.items():
                set_target(self.ctx.settings, key, edit.text())
        except DomainError as e:
            self.status.setText(f"Not saved: {e}")
            return False
        self.status.setText("Targets saved; the dashboard uses them from its next refresh.")
        self.ctx.signals.data_changed.emit(frozenset({Change.SETTINGS}))
        self.saved.emit(self.status.text())
        return True
