"""The first-start dialog: Depot was just installed and this computer has no database yet.

Four ways on, each one button: set up a new company (an empty file, then the setup assistant),
join a branch that already works with the server (server, database, branch login and password; the
first sync fills the new file with a progress bar; Cancel, or closing the dialog, stops it and
keeps nothing), restore a backup (a file chooser; the restore
refuses a wrong file with its sentence), or look around in the demo. The rules are
``app.services.first_start`` and ``app.services.restore``; the slow parts run off the GUI thread.

``FirstStartDialog.ask(path)`` returns what was chosen: "new", "joined", "restored", "demo" or None.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services import first_start, restore
from app.services.errors import DomainError
from app.views.ops import run_task


class FirstStartDialog(QDialog):
    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.choice: str | None = None
        self._joining: threading.Event | None = None  # set while a join's first sync runs; set() cancels it
        self._close_after_join = False
        self.setObjectName("firstStart")
        self.setWindowTitle("Depot - first start")
        self.stack = QStackedWidget()
        self.stack.addWidget(self._choices())
        self.stack.addWidget(self._join_form())
        self.status = QLabel("")
        self.status.setObjectName("firstStartStatus")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.stack)
        lay.addWidget(self.status)
        self.resize(560, 380)

    def _choices(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        intro = QLabel(f"<h3>Welcome to Depot</h3><p>This computer has no Depot database yet. "
                       f"It will be kept at<br><code>{self.path}</code>.</p>")
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.join_button = self._big("joinBranch", "Join a branch",
                                     "This branch already works with the company's server: sign in with the "
                                     "branch login and the first sync brings everything here.")
        self.new_button = self._big("newCompany", "Set up a new company",
                                    "Start from nothing: company, branches, warehouses, the first admin, your data.")
        self.restore_button = self._big("restoreBackup", "Restore a backup",
                                        "This workstation was replaced: bring back its database from a backup file.")
        self.demo_button = self._big("openDemo", "Look around in the demo",
                                     "A sample distributor with a year of history (nothing is sent anywhere).")
        for b in (self.join_button, self.new_button, self.restore_button, self.demo_button):
            lay.addWidget(b)
        lay.addStretch(1)
        self.join_button.clicked.connect(lambda: self.stack.setCurrentIndex(1))
        self.new_button.clicked.connect(self.create_new)
        self.restore_button.clicked.connect(self.choose_backup)
        self.demo_button.clicked.connect(lambda: self._finish("demo"))
        return page

    @staticmethod
    def _big(name: str, title: str, text: str) -> QPushButton:
        b = QPushButton(f"{title}\n{text}")
        b.setObjectName(name)
        b.setStyleSheet("text-align: left; padding: 8px;")
        b.setMinimumHeight(52)
        return b

    def _join_form(self) -> QWidget:
        page = QWidget()
        self.host = QLineEdit()
        self.host.setObjectName("joinHost")
        self.host.setPlaceholderText("depot.yourcompany.com")
        self.port = QLineEdit("5432")
        self.port.setMaximumWidth(90)
        self.dbname = QLineEdit("depot")
        self.login = QLineEdit()
        self.login.setObjectName("joinLogin")
        self.login.setPlaceholderText("the branch login head office gave you, e.g. depot_dal")
        self.password = QLineEdit()
        self.password.setObjectName("joinPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept with Depot's secrets (the system keyring), never in a file")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.join_go = QPushButton("Join and sync")
        self.join_go.setObjectName("joinGo")
        self.join_go.setDefault(True)
        self.join_back = back = QPushButton("Back")
        back.setObjectName("joinBack")
        form = QFormLayout()
        form.addRow("Server", self.host)
        form.addRow("Port", self.port)
        form.addRow("Database", self.dbname)
        form.addRow("Branch login", self.login)
        form.addRow("Password", self.password)
        row = QHBoxLayout()
        row.addWidget(back)
        row.addStretch(1)
        row.addWidget(self.join_go)
        lay = QVBoxLayout(page)
        lay.addWidget(QLabel("<h3>Join a branch</h3><p>The first sync copies the branch's data here; "
                             "on a large branch it takes a few minutes.</p>"))
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addStretch(1)
        lay.addLayout(row)
        back.clicked.connect(self._back_or_cancel)
        self.join_go.clicked.connect(self.join)
        return page

    # ------------------------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020;" if error else "")
        self.status.setText(text)

    def _finish(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    def _busy(self, on: bool) -> None:
        for w in (self.join_button, self.new_button, self.restore_button, self.demo_button, self.join_go):
            w.setEnabled(not on)

    def _back_or_cancel(self) -> None:
        """Back to the choices; while the first sync runs, the same button cancels it."""
        if self._joining is None:
            self.stack.setCurrentIndex(0)
            return
        self._joining.set()
        self.join_back.setEnabled(False)
        self._say("Cancelling: the first sync stops after the table it is copying...")

    def reject(self) -> None:
        """Closing the dialog (Esc, the window's X) during a join cancels it first; the dialog closes
        once the sync has stopped and removed the half-made file, so nothing is left behind."""
        if self._joining is not None:
            self._close_after_join = True
            self._back_or_cancel()
            return
        super().reject()

    def _join_ended(self) -> bool:
        """Back to the idle form; True when the user closed the dialog meanwhile."""
        self._joining = None
        self._busy(False)
        self.join_back.setText("Back")
        self.join_back.setEnabled(True)
        if self._close_after_join:
            super().reject()
            return True
        return False

    def create_new(self) -> None:
        try:
            first_start.create_new(self.path)
        except DomainError as e:
            self._say(str(e), error=True)
            return
        self._finish("new")

    def join(self) -> None:
        try:
            dsn = first_start.server_address(self.host.text(), self.port.text(), self.dbname.text(), self.login.text())
        except DomainError as e:
            self._say(str(e), error=True)
            return
        password = self.password.text()
        self._busy(True)
        self._joining = cancel = threading.Event()
        self.join_back.setText("Cancel")
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._say("Connecting...")

        def work(report: Any) -> object:
            return first_start.join_branch(self.path, dsn, password, cancelled=cancel.is_set,
                                           progress=lambda table, n, total, rows: report(n, total, f"{table}: {rows:,} rows"))

        def progress(done: int, total: int, text: str) -> None:
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(min(done, total))
            self._say(f"First sync... {text}")

        def done(_res: object) -> None:
            if not self._join_ended():  # closed meanwhile: the file is whole and opens next time
                self._finish("joined")

        def failed(e: BaseException) -> None:
            if self._join_ended():
                return
            self.progress.setVisible(False)
            if isinstance(e, first_start.JoinCancelled):
                why = str(e)
                self._say(f"{why[:1].upper()}{why[1:]}.")  # "The first sync was cancelled: nothing was kept..."
            else:
                self._say(str(e), error=True)

        run_task(work, done, failed, progress)

    @classmethod
    def pick_backup(cls, parent: QWidget) -> str:
        """The backup file to restore ('' = cancelled; tests patch this)."""
        path, _ = QFileDialog.getOpenFileName(parent, "Backup to restore", "", "Depot backup (*.db);;All files (*)")
        return path

    def choose_backup(self) -> None:
        chosen = self.pick_backup(self)
        if not chosen:
            return
        self._busy(True)
        self._say("Restoring...")

        def work(_report: Any) -> object:
            return restore.restore(self.path, Path(chosen))

        def done(rep: Any) -> None:
            self._busy(False)
            self._say("\n".join(rep.lines()))
            self._finish("restored")

        def failed(e: BaseException) -> None:
            self._busy(False)
            self._say(str(e), error=True)

        run_task(work, done, failed)

    @classmethod
    def ask(cls, path: Path, parent: QWidget | None = None) -> str | None:
        """Run the dialog modally; the choice, or None when closed (tests patch this)."""
        dlg = cls(path, parent)
        dlg.setWindowModality(Qt.WindowModality.ApplicationModal)
        dlg.exec()
        return dlg.choice
