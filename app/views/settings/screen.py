"""SettingsScreen: this database's branch, database file, server, carrier accounts, and
panels other areas provide (listed in SECTIONS, loaded lazily; a missing module = no section).

Plain values go to app.services.settings.Settings (JSON file); secrets only to the keyring.
Changing the branch is a database write (admin only) run as an op.
"""

from __future__ import annotations

import traceback
import uuid
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services import settings as st
from app.services.changes import Change
from app.services.errors import DomainError, ValidationError
from app.services.settings import BranchChoice
from app.views.context import AppContext
from app.views.main_window import load_screen_class
from app.views.placeholder import ErrorPage
from app.views.settings.secrets_row import SecretsRow

#: (title, "module:Class") panels hosted as extra tabs; each is constructed as Panel(ctx)
SECTIONS: tuple[tuple[str, str], ...] = (
    ("Carriers", "app.views.settings.carriers:CarriersPanel"),
    ("Company", "app.views.settings.company_page:CompanyPanel"),
    ("Branches and warehouses", "app.views.settings.sites_page:SitesPanel"),
    ("Bins", "app.views.settings.bins_page:BinsPanel"),
    ("Users", "app.views.settings.users_page:UsersPanel"),
    ("Import", "app.views.settings.imports_page:ImportSettingsPanel"),
    ("Tracking", "app.views.settings.tracking_page:TrackingSettingsPage"),
    ("Billing", "app.views.settings.billing_page:BillingSettingsPage"),
    ("Approval rules", "app.views.settings.approval_rules:ApprovalRulesPanel"),
    ("Replication", "app.views.sync_settings:SyncSettingsPanel"),
    ("Receiving", "app.views.receiving.settings_panel:ReceivingSettingsPanel"),
    ("EDI", "app.views.settings.edi_page:EdiSettingsPage"),
    ("E-mail", "app.views.settings.email_page:EmailSettingsPage"),
    ("Dashboard", "app.views.settings.dashboard_page:DashboardSettingsPage"),
    ("Backups", "app.views.settings.backups_page:BackupsPage"),
)


def _replication() -> Any | None:
    """The replication area's connection helpers, when that area is built (issue 3)."""
    try:
        from app.services.replication import conn
    except ImportError:
        return None
    return conn


class GeneralPanel(QWidget):
    """Branch, database file and server DSN."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.is_admin = ctx.can("settings.edit")
        self.branch_label = QLabel("...")
        self.branch_label.setObjectName("branchValue")
        self.branch_combo = QComboBox()
        self.branch_combo.setObjectName("branchCombo")
        self.branch_save = QPushButton("Set branch")
        self.branch_save.setObjectName("branchSave")
        for w in (self.branch_combo, self.branch_save):
            w.setEnabled(self.is_admin)
            w.setToolTip("" if self.is_admin else "Only an admin may change this database's branch")
        self.db_label = QLabel(str(ctx.engine.url.database))
        self.db_next = QLineEdit(str(ctx.settings.get("db.path", "") or ""))
        self.db_next.setObjectName("dbPath")
        self.db_next.setPlaceholderText("database file opened at next start (empty: --db or the default)")
        self.db_browse = QPushButton("Browse...")
        self.dsn = QLineEdit(str(ctx.settings.get("server.dsn", "") or ""))
        self.dsn.setObjectName("serverDsn")
        self.dsn.setPlaceholderText("postgresql://user@host:5432/depot  (no password here)")
        self.server_password = QLineEdit()
        self.server_password.setObjectName("serverPassword")
        self.server_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.secrets_row = SecretsRow()
        self._password_hint()
        self.save = QPushButton("Save")
        self.save.setObjectName("generalSave")
        self.status = QLabel("")
        self.status.setObjectName("generalStatus")

        branch_row = QHBoxLayout()
        branch_row.addWidget(self.branch_combo, 1)
        branch_row.addWidget(self.branch_save)
        db_row = QHBoxLayout()
        db_row.addWidget(self.db_next, 1)
        db_row.addWidget(self.db_browse)
        form = QFormLayout(self)
        form.addRow("This database's branch", self.branch_label)
        form.addRow("Change branch", branch_row)
        form.addRow("Database file (open now)", self.db_label)
        form.addRow("Database file (next start)", db_row)
        form.addRow("Server DSN", self.dsn)
        form.addRow("Server password", self.server_password)
        form.addRow("Secrets", self.secrets_row)
        form.addRow(self.save, self.status)
        self._connect_signals()
        self.load()

    def _password_hint(self) -> None:
        try:
            stored = self.ctx.settings.get_secret("server.password") is not None
        except DomainError:
            stored = False
        self.server_password.setPlaceholderText("(stored; type to replace)" if stored else "kept with Depot's secrets "
                                                "(see Secrets below), never in a file")

    def _connect_signals(self) -> None:
        self.secrets_row.changed.connect(lambda _t: self._password_hint())
        self.branch_save.clicked.connect(self.save_branch)
        self.save.clicked.connect(self.save_values)
        self.db_browse.clicked.connect(self._browse)

    def load(self) -> None:
        engine = self.ctx.engine

        def query(s: Session) -> tuple[BranchChoice | None, list[BranchChoice], str, str]:
            rep = _replication()
            dsn = rep.get_state(engine, "dsn") if rep is not None else ""
            # read with the branch: the controls never wait on a second read
            return st.local_branch(s), st.branch_choices(s), dsn, st.branch_fixed_reason(s)

        def done(result: tuple[BranchChoice | None, list[BranchChoice], str, str]) -> None:
            current, choices, dsn, fixed = result
            self._enable_branch(fixed)
            if dsn and not self.dsn.text():
                self.dsn.setText(dsn)
            self.branch_label.setText(f"{current.code}  {current.name}" if current else "not set")
            self.branch_combo.clear()
            for b in choices:
                self.branch_combo.addItem(f"{b.code}  {b.name}", str(b.id))  # str: QVariant cannot compare UUIDs
            if current:
                self.branch_combo.setCurrentIndex(max(0, self.branch_combo.findData(str(current.id))))

        self.ctx.runner.submit(query, done, write=False, label="settings", latest=(id(self), "load"))

    def _enable_branch(self, fixed: str) -> None:
        """Off for a non-admin, and on a replicating site (its branch is its server login's)."""
        if not self.is_admin:
            return
        for w in (self.branch_combo, self.branch_save):
            w.setEnabled(not fixed)
            w.setToolTip(fixed[:1].upper() + fixed[1:] if fixed else "")

    def save_branch(self) -> None:
        data = self.branch_combo.currentData()
        if not data:
            return
        bid = uuid.UUID(str(data))
        actor = self.ctx.actor
        def done(b: BranchChoice) -> None:
            self.branch_label.setText(f"{b.code}  {b.name}")
            self.status.setText(f"branch set to {b.code}")

        self.ctx.runner.submit(lambda s: st.set_local_branch(s, actor, bid), done,
                               kinds={Change.SETTINGS}, label="set branch")

    def save_values(self) -> None:
        """Plain values to the settings file; the server address (without password) also to the
        replication state in the database; the password to the keyring under the name the
        replication area reads (``sync:<user>``)."""
        s = self.ctx.settings
        dsn, password = self.dsn.text().strip(), self.server_password.text()
        rep = _replication()
        secret = "server.password"
        try:
            if dsn and rep is not None:
                from psycopg.conninfo import conninfo_to_dict

                try:
                    parts = conninfo_to_dict(dsn)
                except Exception as e:  # noqa: BLE001 - psycopg's parse error: show it, save nothing
                    raise ValidationError("server DSN", str(e)) from None
                user = parts.get("user")
                # a password typed into the address goes to the keyring, never to a file
                password = password or str(parts.get("password") or "")
                if user:
                    secret = rep.secret_name(str(user))
            if password:  # first: a secret that cannot be kept leaves every other value as it was
                s.set_secret(secret, password)
                self.server_password.clear()
                self.server_password.setPlaceholderText("(stored; type to replace)")
            s.set("db.path", self.db_next.text().strip())
            s.set("server.dsn", rep.redact(dsn) if (rep is not None and dsn) else dsn)
        except DomainError as e:
            self.status.setText(str(e))
            return
        if rep is not None and dsn:
            safe = rep.redact(dsn)
            self.ctx.runner.submit(lambda sess: rep.set_state_sql(sess.connection(), {"dsn": safe}),
                                   lambda _r: self.status.setText("saved"), kinds={Change.SETTINGS, Change.SYNC},
                                   label="save server")
        else:
            self.status.setText("saved")
            self.ctx.signals.data_changed.emit(frozenset({"settings"}))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Depot database", self.db_next.text(), "Depot database (*.db);;All files (*)")
        if path:
            self.db_next.setText(path)


class SettingsScreen(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("settingsScreen")
        self.tabs = QTabWidget()
        self.general = GeneralPanel(ctx)
        self.tabs.addTab(self.general, "General")
        self.sections: dict[str, QWidget] = {}
        for title, target in SECTIONS:
            panel = self._load_section(title, target)
            if panel is not None:
                self.sections[title] = panel
                scroll = QScrollArea()
                scroll.setWidgetResizable(True)
                scroll.setWidget(panel)
                self.tabs.addTab(scroll, title)
        box = QGroupBox("Settings")
        QVBoxLayout(box).addWidget(self.tabs)
        QVBoxLayout(self).addWidget(box)

    def _load_section(self, title: str, target: str) -> QWidget | None:
        try:
            cls = load_screen_class(target)
            return None if cls is None else cls(self.ctx)
        except Exception:  # noqa: BLE001 - shown, never hidden
            return ErrorPage(title, target, traceback.format_exc())

    def refresh(self) -> None:
        self.general.load()
        carriers = self.sections.get("Carriers")
        if carriers is not None and hasattr(carriers, "reload"):
            carriers.reload()

    def section_titles(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]


