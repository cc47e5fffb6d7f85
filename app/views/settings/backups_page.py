"""Settings > Backups: where the branch database is backed up (a folder or a network share), how
often and for how long, the backups there, and Back up now / Verify / Restore.

Rules live in ``app.services.backup`` and ``app.services.restore``; this page only asks. Backing up
and verifying run on the I/O pool (they read the database and write files, never holding the write
lock); a restore is for an admin, asks first, stops the background jobs, runs off the GUI thread,
then closes Depot so the next start opens the restored file fresh.

Signals: finished(str) after each action, with the sentence shown (tests wait on it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services import backup, restore
from app.services.backup import BackupFile, BackupReport
from app.services.errors import DomainError
from app.services.replication.describe import local_time
from app.views.context import AppContext


class BackupsPage(QWidget):
    finished = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("backupsSettings")
        s = ctx.settings
        self.admin = ctx.can("settings.edit")
        self.folder = QLineEdit(str(s.get("backup.dir", "") or ""))
        self.folder.setObjectName("backupFolder")
        self.folder.setPlaceholderText(f"empty: {backup.default_folder()}")
        self.browse = QPushButton("Browse...")
        self.keep = QSpinBox()
        self.keep.setObjectName("backupKeepDays")
        self.keep.setRange(1, 3650)
        self.keep.setSuffix(" days")
        self.keep.setValue(backup.keep_days_from(s))
        self.every = QSpinBox()
        self.every.setObjectName("backupEveryHours")
        self.every.setRange(1, 168)
        self.every.setSuffix(" hours")
        self.every.setValue(int(backup.every_hours_from(s)))
        for spin in (self.keep, self.every):
            spin.setMaximumWidth(140)
        self.enabled = QCheckBox("Back up on a schedule while Depot is open")
        self.enabled.setChecked(bool(s.get("backup.enabled", True)))
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("backupSave")
        for w in (self.folder, self.browse, self.keep, self.every, self.enabled, self.save_button):
            w.setEnabled(self.admin)
            if not self.admin:
                w.setToolTip("Only an admin changes where and how often backups are made")
        self.last = QLabel("")
        self.last.setObjectName("backupLast")
        self.last.setWordWrap(True)
        self.now_button = QPushButton("Back up now")
        self.now_button.setObjectName("backupNow")
        self.verify_button = QPushButton("Verify selected")
        self.verify_button.setObjectName("backupVerify")
        self.restore_button = QPushButton("Restore selected...")
        self.restore_button.setObjectName("backupRestore")
        self.restore_button.setEnabled(self.admin)
        self.restore_button.setToolTip("Replace this workstation's database with the selected backup (admin); "
                                       "the current file is kept beside it" if self.admin else
                                       "Only an admin restores a backup")
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("backupList")
        self.table.setHorizontalHeaderLabels(["Taken", "Branch", "Size"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(160)
        self.status = QLabel("")
        self.status.setObjectName("backupStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.backups: list[BackupFile] = []

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow("Backup folder", folder_row)
        form.addRow("Back up every", self.every)
        form.addRow("Keep backups for", self.keep)
        form.addRow("", self.enabled)
        form.addRow(self.save_button, QLabel("A network share is fine; a missing or full folder is reported, "
                                             "the database is never touched."))
        form.addRow("Last backup", self.last)
        actions = QHBoxLayout()
        for b in (self.now_button, self.verify_button, self.restore_button):
            actions.addWidget(b)
        actions.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(actions)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.browse.clicked.connect(self._browse)
        self.save_button.clicked.connect(self.save)
        self.now_button.clicked.connect(self.back_up_now)
        self.verify_button.clicked.connect(self.verify_selected)
        self.restore_button.clicked.connect(self.restore_selected)

    # ------------------------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020;" if error else "")
        self.status.setText(text)
        self.finished.emit(text)

    def reload(self) -> None:
        last = self.ctx.settings.get("backup.last")
        self.last.setText(f"{local_time(last.get('at', ''))}: {last.get('line', '')}" if isinstance(last, dict)
                          else "none yet")
        self.last.setStyleSheet("" if not isinstance(last, dict) or last.get("ok") else "color: #b00020;")
        folder = backup.folder_from(self.ctx.settings)
        self.backups = backup.list_backups(folder)
        self.table.setRowCount(len(self.backups))
        for r, b in enumerate(self.backups):
            for c, value in enumerate((local_time(b.taken_at.isoformat()), b.branch, f"{b.size / 1e6:.1f} MB")):
                item = QTableWidgetItem(value)
                item.setToolTip(str(b.path))
                self.table.setItem(r, c, item)
        if self.backups:
            self.table.selectRow(0)
        elif not folder.exists():
            self.status.setText(f"The backup folder {folder} does not exist yet"
                                + (" (it is made at the first backup)" if folder == backup.default_folder() else ""))

    def selected(self) -> BackupFile | None:
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows and rows[0].row() < len(self.backups) else None

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Backup folder", self.folder.text() or str(backup.default_folder()))
        if path:
            self.folder.setText(path)

    def save(self) -> None:
        try:
            backup.save_settings(self.ctx.settings, folder=self.folder.text(), keep_days=self.keep.value(),
                                 every_hours=self.every.value(), enabled=self.enabled.isChecked())
        except DomainError as e:
            self._say(str(e), error=True)
            return
        self._say("saved")
        self.reload()

    def back_up_now(self) -> None:
        settings = self.ctx.settings
        db = Path(str(self.ctx.engine.url.database))
        folder, keep = backup.folder_from(settings), backup.keep_days_from(settings)
        self.now_button.setEnabled(False)
        self.status.setText(f"Backing up to {folder}...")

        def work() -> BackupReport:
            report = backup.take_backup(db, folder, keep_days=keep)
            backup.remember(settings, report)
            return report

        def done(report: BackupReport) -> None:
            self.now_button.setEnabled(True)
            self.reload()
            self._say(report.line())

        def failed(e: BaseException) -> None:
            self.now_button.setEnabled(True)
            backup.remember(settings, BackupReport(ok=False, error=str(e)))
            self.reload()
            self._say(str(e), error=True)

        self.ctx.runner.submit_io(work, done, on_error=failed, label="back up")

    def verify_selected(self) -> None:
        b = self.selected()
        if b is None:
            self._say("choose a backup in the list first", error=True)
            return
        self.status.setText(f"Verifying {b.path.name}...")
        scratch = Path(str(self.ctx.engine.url.database)).parent

        def done(rep: restore.VerifyReport) -> None:
            self._say(("The backup restores: " if rep.ok else "Problem: ") + "; ".join(rep.lines))

        self.ctx.runner.submit_io(lambda: restore.verify(b.path, scratch), done,
                                  on_error=lambda e: self._say(str(e), error=True), label="verify backup")

    @classmethod
    def ask_restore(cls, parent: QWidget, b: BackupFile) -> bool:
        """Ask before a restore (tests patch this)."""
        answer = QMessageBox.question(
            parent, "Restore a backup",
            f"Replace this workstation's database with the backup taken {local_time(b.taken_at.isoformat())}?\n\n"
            "The database as it is now is kept beside it. After the restore the workstation syncs with the "
            "server (what the server has comes back) and Depot closes; start it again to work on.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def restore_selected(self) -> None:
        b = self.selected()
        if b is None:
            self._say("choose a backup in the list first", error=True)
            return
        if not self.admin or not self.ask_restore(self, b):
            return
        target = Path(str(self.ctx.engine.url.database))
        if self.ctx.jobs is not None:
            self.ctx.jobs.stop()  # no sync or poll writes while the file is replaced
        self.ctx.runner.wait_idle(30_000)
        self.restore_button.setEnabled(False)
        self.status.setText(f"Restoring {b.path.name}...")

        def done(rep: restore.RestoreReport) -> None:
            self._say("\n".join(rep.lines()) + "\nDepot closes now: start it again.")
            self.restored(rep)

        def failed(e: BaseException) -> None:
            self.restore_button.setEnabled(True)
            if self.ctx.jobs is not None:
                self.ctx.jobs.start()
            self._say(str(e), error=True)

        self.ctx.runner.submit_io(lambda: restore.restore(target, b.path), done, on_error=failed, label="restore")

    def restored(self, rep: restore.RestoreReport) -> None:
        """After a restore: say so and close the window (its screens hold the old data)."""
        QMessageBox.information(self, "Backup restored", "\n".join(rep.lines()) + "\n\nDepot closes now; start it again.")
        win = self.window()
        if win is not None and win is not self:
            win.close()
