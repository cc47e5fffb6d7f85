"""Settings > Import (and the setup assistant's last page): bring a file of the old system in.

Pick what the file holds, download its sample, choose the file: it is checked at once (nothing
written) and shows its first rows and every bad row with its line. Import writes it (all rows, or
the good ones with "skip bad rows"), off the GUI thread with progress. The rules are the
importer's (``services.importer``), the same as ``depot import``.

Signals: imported(str, int) after a file was imported (kind, rows written).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.importer import ADOPTION_ORDER, ImportRejected, ImportResult, import_csv
from app.services.importer.samples import NOTES, sample_csv
from app.views.context import AppContext
from app.views.ops import Progress
from app.views.settings.company_page import settings_env
from app.views.settings.org_env import OrgEnv, show

#: bad rows listed (the rest are counted)
LISTED_PROBLEMS = 500


class ImportPanel(QWidget):
    imported = Signal(str, int)

    def __init__(self, env: OrgEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.setObjectName("importPanel")
        self.path: Path | None = None
        self.checked: ImportResult | None = None
        self.kinds = QListWidget()
        self.kinds.setObjectName("importKinds")
        self.kinds.setMaximumWidth(230)
        for kind in ADOPTION_ORDER:
            item = QListWidgetItem(kind)
            item.setToolTip(NOTES[kind])
            self.kinds.addItem(item)
        self.note = QLabel("")
        self.note.setObjectName("importNote")
        self.note.setWordWrap(True)
        self.sample_button = QPushButton("Sample file…")
        self.sample_button.setObjectName("importSample")
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setObjectName("importChoose")
        self.file_label = QLabel("no file chosen")
        self.file_label.setObjectName("importFile")
        self.summary = QLabel("")
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.preview = QTableWidget(0, 0)
        self.preview.setObjectName("importPreview")
        self.preview.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.problems = QListWidget()
        self.problems.setObjectName("importProblems")
        self.skip_bad = QCheckBox("Skip bad rows (import the good ones)")
        self.skip_bad.setObjectName("importSkipBad")
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("importRun")
        self.import_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("importProgress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("importStatus")
        self.status.setWordWrap(True)

        files = QHBoxLayout()
        files.addWidget(self.sample_button)
        files.addWidget(self.choose_button)
        files.addWidget(self.file_label, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        for title, w in (("First rows, as read", self.preview), ("Bad rows (line: reason)", self.problems)):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.addWidget(QLabel(title))
            bl.addWidget(w)
            split.addWidget(box)
        run = QHBoxLayout()
        run.addWidget(self.skip_bad)
        run.addStretch(1)
        run.addWidget(self.import_button)
        right = QVBoxLayout()
        right.addWidget(self.note)
        right.addLayout(files)
        right.addWidget(self.summary)
        right.addWidget(split, 1)
        right.addLayout(run)
        right.addWidget(self.progress)
        right.addWidget(self.status)
        lay = QHBoxLayout(self)
        lay.addWidget(self.kinds)
        lay.addLayout(right, 1)
        self._connect_signals()
        self.kinds.setCurrentRow(0)

    def _connect_signals(self) -> None:
        self.kinds.currentRowChanged.connect(self._kind_changed)
        self.sample_button.clicked.connect(self.save_sample)
        self.choose_button.clicked.connect(self.choose)
        self.skip_bad.toggled.connect(lambda _on: self._enable_import())
        self.import_button.clicked.connect(self.run_import)

    def kind(self) -> str:
        row = self.kinds.currentRow()
        return ADOPTION_ORDER[row] if 0 <= row < len(ADOPTION_ORDER) else ADOPTION_ORDER[0]

    def select_kind(self, kind: str) -> None:
        self.kinds.setCurrentRow(ADOPTION_ORDER.index(kind))

    def _kind_changed(self, _row: int) -> None:
        self.note.setText(f"<b>{self.kind()}</b>: {NOTES[self.kind()]}")
        self.path, self.checked = None, None
        self.file_label.setText("no file chosen")
        self.summary.clear()
        self.preview.setRowCount(0)
        self.preview.setColumnCount(0)
        self.problems.clear()
        self.status.clear()
        self._enable_import()

    # ----------------------------------------------------------------------- files (tests patch these)
    def ask_save_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Save the sample file", suggested, "CSV files (*.csv)")
        return path

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, f"File of {self.kind()}", "", "CSV files (*.csv *.txt);;All files (*)")
        return path

    def save_sample(self) -> None:
        kind = self.kind()
        path = self.ask_save_path(f"{kind}.csv")
        if not path:
            return
        try:
            Path(path).write_text(sample_csv(kind), encoding="utf-8")
        except OSError as e:
            show(self.status, False, f"sample: cannot write {path}: {e.strerror or e}")
            return
        show(self.status, True, f"sample {kind} file saved to {path}")

    def choose(self) -> None:
        path = self.ask_open_path()
        if path:
            self.check(Path(path))

    # ----------------------------------------------------------------------- check and import
    def check(self, path: Path) -> None:
        """Read and check the file (nothing written): preview, bad rows, summary."""
        kind, actor = self.kind(), self.env.actor
        self.path, self.checked = path, None
        self.file_label.setText(str(path))
        self._enable_import()
        show(self.status, True, "checking…")

        def failed(e: BaseException) -> None:
            self._show_problems(e.problems if isinstance(e, ImportRejected) else [])
            show(self.status, False, str(e))

        self.env.runner.submit(lambda s: import_csv(s, actor, kind, path, dry_run=True), self._checked,
                               on_error=failed, write=False, label=f"check {kind}", latest=(id(self), "check"))

    def _checked(self, r: ImportResult) -> None:
        self.checked = r
        good = r.rows - len(r.skipped)
        read = "; ".join(r.notes) or "UTF-8, columns separated by commas"
        self.summary.setText(f"{r.rows:,} rows: {good:,} good, {len(r.skipped):,} bad ({read})")
        self.preview.setColumnCount(len(r.columns))
        self.preview.setHorizontalHeaderLabels(r.columns)
        self.preview.setRowCount(len(r.sample))
        for i, row in enumerate(r.sample):
            for c, col in enumerate(r.columns):
                self.preview.setItem(i, c, QTableWidgetItem(row.get(col, "")))
        self.preview.resizeColumnsToContents()
        self._show_problems(r.skipped)
        show(self.status, not r.skipped, "the file is good: import it" if not r.skipped else
             "the file has bad rows: fix them and choose it again, or skip them")
        self._enable_import()

    def _show_problems(self, problems: Sequence[object]) -> None:
        self.problems.clear()
        for p in problems[:LISTED_PROBLEMS]:
            self.problems.addItem(str(p))
        if len(problems) > LISTED_PROBLEMS:
            self.problems.addItem(f"… and {len(problems) - LISTED_PROBLEMS:,} more")

    def _enable_import(self) -> None:
        r = self.checked
        ok = r is not None and r.rows > len(r.skipped) and (not r.skipped or self.skip_bad.isChecked())
        self.import_button.setEnabled(bool(ok))

    def run_import(self) -> None:
        if self.path is None:
            return
        kind, path, skip, actor = self.kind(), self.path, self.skip_bad.isChecked(), self.env.actor
        self.import_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)

        def op(s: Session, progress: Progress) -> ImportResult:
            return import_csv(s, actor, kind, path, skip_bad=skip, progress=progress.report)

        def done(r: ImportResult) -> None:
            self.progress.setVisible(False)
            self.checked = None
            text = f"imported {r.imported:,} {kind}" + (f" ({r.replaced:,} replaced)" if r.replaced else "") \
                + (f"; skipped {len(r.skipped):,} bad rows" if r.skipped else "")
            show(self.status, True, text)
            item = self.kinds.item(ADOPTION_ORDER.index(kind))
            if item is not None:
                item.setText(kind)
                item.setData(Qt.ItemDataRole.UserRole, r.imported)
                item.setText(f"{kind}  ✓ {r.imported:,}")
            self.imported.emit(kind, r.imported)
            self.env.notify(kind)

        def failed(e: BaseException) -> None:
            self.progress.setVisible(False)
            self._show_problems(e.problems if isinstance(e, ImportRejected) else [])
            show(self.status, False, str(e))
            self._enable_import()

        handle = self.env.runner.submit(op, done, on_error=failed, label=f"import {kind}", progress=True)
        handle.progressed.connect(lambda _d, _t, text: self.status.setText(text))


class ImportSettingsPanel(QWidget):
    """Settings > Import."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        env = settings_env(ctx)
        env.editable = ctx.can("import.run")
        self.panel = ImportPanel(env)
        self.panel.setEnabled(env.editable)
        if not env.editable:
            self.panel.setToolTip("Only an admin imports files")
        QVBoxLayout(self).addWidget(self.panel)
