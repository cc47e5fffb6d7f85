"""Where this machine keeps Depot's secrets, said in one sentence, with the choice to make when
there is no OS keyring: an encrypted file (passphrase asked once per session) or this session only.

Signals: changed(str) with the new sentence after a choice.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.services import secrets
from app.services.errors import DomainError


class PassphraseQuestion:
    """Asks for the secrets file's passphrase (tests replace ``ask``)."""

    @staticmethod
    def ask(parent: QWidget | None, new: bool) -> str | None:
        text, ok = QInputDialog.getText(
            parent, "Depot secrets file",
            ("Choose a passphrase for Depot's encrypted secrets file.\nYou type it once per session; "
             "without it the secrets cannot be read." if new else "Passphrase of Depot's encrypted secrets file:"),
            QLineEdit.EchoMode.Password)
        return text if ok and text else None


class SecretsRow(QWidget):
    changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setObjectName("secretsStatus")
        self.label.setWordWrap(True)
        self.file_button = QPushButton("Use encrypted file…")
        self.file_button.setObjectName("secretsFile")
        self.session_button = QPushButton("This session only")
        self.session_button.setObjectName("secretsSession")
        self.error = QLabel("")
        self.error.setObjectName("secretsError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.file_button)
        buttons.addWidget(self.session_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addLayout(buttons)
        lay.addWidget(self.error)
        self.file_button.clicked.connect(self.use_file)
        self.session_button.clicked.connect(self.use_session)
        self.refresh()

    def refresh(self) -> None:
        st = secrets.status()
        self.label.setText(st.text)
        fallback = st.kind in ("none", "session", "file")
        self.file_button.setVisible(fallback and st.kind != "file")
        self.session_button.setVisible(st.kind == "none")
        from pathlib import Path

        self.file_button.setText("Unlock encrypted file…" if st.file and Path(st.file).exists() else "Use encrypted file…")

    def use_file(self) -> None:
        from pathlib import Path

        passphrase = PassphraseQuestion.ask(self, new=not Path(secrets.file_path()).exists())
        if passphrase is None:
            return
        try:
            secrets.unlock_file(passphrase)
        except DomainError as e:
            self.error.setText(str(e))
            return
        self._chosen()

    def use_session(self) -> None:
        secrets.use_session_only()
        self._chosen()

    def _chosen(self) -> None:
        self.error.setText("")
        self.refresh()
        self.changed.emit(self.label.text())
