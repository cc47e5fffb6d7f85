"""The login dialog. ``LoginDialog.ask(engine)`` returns the Actor, or None if cancelled.

The check is app.services.auth.login (scrypt, ~50 ms) inside one short read session; the
message never says whether the user or the password was wrong.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from app.services.auth import Actor, login
from app.services.db import session_scope
from app.services.errors import DomainError


class LoginDialog(QDialog):
    def __init__(self, engine: Engine, username: str = "", parent: QWidget | None = None, *, hint: str = "") -> None:
        super().__init__(parent)
        self.engine = engine
        self.actor: Actor | None = None
        self.setWindowTitle("Depot - sign in")
        self.user_edit = QLineEdit(username)
        self.user_edit.setObjectName("loginUser")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("loginPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error_label = QLabel("")
        self.error_label.setObjectName("loginError")
        self.error_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        form = QFormLayout()
        form.addRow("&User", self.user_edit)
        form.addRow("&Password", self.password_edit)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Database: {engine.url.database}"))
        lay.addLayout(form)
        self.hint_label = QLabel(hint)  # the demo says its password: nobody opening it has read the README
        self.hint_label.setObjectName("loginHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setVisible(bool(hint))
        lay.addWidget(self.hint_label)
        lay.addWidget(self.error_label)
        lay.addWidget(self.buttons)
        self._connect_signals()
        (self.password_edit if username else self.user_edit).setFocus()

    def _connect_signals(self) -> None:
        self.buttons.accepted.connect(self.try_login)
        self.buttons.rejected.connect(self.reject)

    def try_login(self) -> bool:
        """Check the entered name and password; accept the dialog or show why not."""
        name, password = self.user_edit.text(), self.password_edit.text()
        if not name.strip():
            self.error_label.setText("enter your user name")
            return False
        try:
            with session_scope(self.engine) as s:
                self.actor = login(s, name, password)
        except DomainError as e:
            self.actor = None
            self.error_label.setText(str(e))
            self.password_edit.clear()
            self.password_edit.setFocus()
            return False
        self.accept()
        return True

    @classmethod
    def ask(cls, engine: Engine, username: str = "", parent: QWidget | None = None, *, hint: str = "") -> Actor | None:
        """Show the dialog modally; the signed-in Actor, or None when cancelled (tests patch this)."""
        dlg = cls(engine, username, parent, hint=hint)
        ok = dlg.exec() == QDialog.DialogCode.Accepted
        return dlg.actor if ok else None
