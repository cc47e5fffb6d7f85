"""Settings > E-mail: the SMTP server POs are e-mailed through (host, port, security, user,
password, sender) and a test that talks to it. Rules and the test are ``services.mail_config``.

Signals: tested(bool, str) after a connection test (ok, the sentence shown).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.services import mail_config
from app.services.errors import DomainError
from app.views.context import AppContext
from app.views.ops import run_task


class EmailSettingsPage(QWidget):
    tested = Signal(bool, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("emailSettings")
        cur = mail_config.current(ctx.settings)
        self.host = QLineEdit(cur.host)
        self.host.setPlaceholderText("smtp.example.com")
        self.port = QLineEdit(str(cur.port))
        self.port.setMaximumWidth(90)
        self.security = QComboBox()
        for key, text in mail_config.SECURITY.items():
            self.security.addItem(text, key)
        self.security.setCurrentIndex(max(0, self.security.findData(cur.security)))
        self.user = QLineEdit(cur.user)
        self.user.setPlaceholderText("empty: the server needs no sign-in")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept with Depot's secrets; empty keeps the stored one")
        self.sender_edit = QLineEdit(cur.sender)
        self.sender_edit.setPlaceholderText("purchasing@yourcompany.com (suppliers reply to it)")
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("emailSave")
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("emailTest")
        self.status = QLabel("")
        self.status.setObjectName("emailStatus")
        self.status.setWordWrap(True)
        can = ctx.can("settings.edit")
        for w in (self.host, self.port, self.security, self.user, self.password, self.sender_edit, self.save_button):
            w.setEnabled(can)
            if not can:
                w.setToolTip("Only an admin changes the mail server")
        form = QFormLayout(self)
        form.addRow("SMTP host", self.host)
        form.addRow("Port", self.port)
        form.addRow("Security", self.security)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        form.addRow("Sender address", self.sender_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow(self.status)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)

    def form(self) -> mail_config.SmtpForm:
        pw = self.password.text()
        return mail_config.SmtpForm(self.host.text(), self.port.text(), str(self.security.currentData()),
                                    self.user.text(), self.sender_edit.text(), pw if pw else None)

    def _show(self, ok: bool, text: str) -> None:
        self.status.setStyleSheet("" if ok else "color: #b00020;")
        self.status.setText(text)

    def save(self) -> bool:
        try:
            mail_config.save(self.ctx.settings, self.form())
        except DomainError as e:
            self._show(False, str(e))
            return False
        self.password.clear()
        self._show(True, "saved: queued e-mail is delivered through this server")
        self.ctx.signals.data_changed.emit(frozenset({"settings"}))
        return True

    def test(self) -> None:
        """Test what is typed (not yet saved) off the GUI thread: a slow server never freezes the window."""
        form = self.form()
        try:
            cfg = mail_config.check(form)
        except DomainError as e:
            self._show(False, str(e))
            self.tested.emit(False, str(e))
            return
        if form.password is None and cfg.user:
            try:
                stored = self.ctx.settings.get_secret(mail_config.PASSWORD) or ""
            except DomainError:
                stored = ""
            from dataclasses import replace

            cfg = replace(cfg, password=stored)
        self.test_button.setEnabled(False)
        self._show(True, f"testing {cfg.host}:{cfg.port}…")

        def done(text: object) -> None:
            self.test_button.setEnabled(True)
            self._show(True, f"OK: {text}")
            self.tested.emit(True, self.status.text())

        def failed(e: BaseException) -> None:
            self.test_button.setEnabled(True)
            self._show(False, str(e) if isinstance(e, DomainError) else f"test failed: {e}")
            self.tested.emit(False, self.status.text())

        run_task(lambda _report: mail_config.test_connection(cfg), done, failed)
