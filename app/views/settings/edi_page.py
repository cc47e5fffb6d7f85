"""Settings > EDI: the folders EDI files go out and come in through, our interchange ids, and each
supplier's EDI format and partner id. Rules are ``services.edi.config``.

Signals: saved(str) after folders or a partner were saved (the sentence shown).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.changes import Change
from app.services.edi import config
from app.services.errors import DomainError
from app.views.context import AppContext

HEADERS = ("Supplier", "Name", "Orders by", "Qualifier", "Partner id", "E-mail")


class EdiSettingsPage(QWidget):
    saved = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ediSettings")
        can = ctx.can("settings.edit")
        out, inn = config.folders(ctx.settings)
        self.outbound = QLineEdit(out)
        self.outbound.setPlaceholderText("folder the partner (or its VAN client) collects our 850 / ORDERS files from")
        self.inbound = QLineEdit(inn)
        self.inbound.setPlaceholderText("folder 855 / 856 / ORDRSP / DESADV files arrive in")
        self.browse_out = QPushButton("Browse…")
        self.browse_in = QPushButton("Browse…")
        self.save_folders_button = QPushButton("Save folders")
        self.save_folders_button.setObjectName("ediSaveFolders")
        self.status = QLabel("")
        self.status.setObjectName("ediStatus")
        self.status.setWordWrap(True)
        self.our_ids = QLabel("")
        self.our_ids.setWordWrap(True)
        folders = QGroupBox("Folders (this workstation)")
        ff = QFormLayout(folders)
        for label, edit, browse in (("Outbound", self.outbound, self.browse_out), ("Inbound", self.inbound, self.browse_in)):
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            ff.addRow(label, row)
        ff.addRow(self.save_folders_button)
        ff.addRow("Our interchange ids", self.our_ids)

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("ediPartners")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.supplier = QLineEdit()
        self.supplier.setPlaceholderText("supplier code")
        self.fmt = QComboBox()
        for key, text in (("", "e-mail (PDF) only"), ("x12", "X12 850 (004010)"), ("edifact", "EDIFACT ORDERS (D96A)")):
            self.fmt.addItem(text, key)
        self.qualifier = QLineEdit()
        self.qualifier.setMaximumWidth(60)
        self.qualifier.setPlaceholderText("ZZ")
        self.partner_id = QLineEdit()
        self.partner_id.setPlaceholderText("the partner's interchange id")
        self.save_partner_button = QPushButton("Save partner")
        self.save_partner_button.setObjectName("ediSavePartner")
        partners = QGroupBox("Partners (suppliers' master data; changed at head office)")
        pl = QVBoxLayout(partners)
        pl.addWidget(self.table, 1)
        row = QHBoxLayout()
        for w in (self.supplier, self.fmt, self.qualifier, self.partner_id, self.save_partner_button):
            row.addWidget(w)
        pl.addLayout(row)
        for w in (self.outbound, self.inbound, self.browse_out, self.browse_in, self.save_folders_button,
                  self.supplier, self.fmt, self.qualifier, self.partner_id, self.save_partner_button):
            w.setEnabled(can)
            if not can:
                w.setToolTip("Only an admin changes EDI settings")
        lay = QVBoxLayout(self)
        lay.addWidget(folders)
        lay.addWidget(partners, 1)
        lay.addWidget(self.status)
        self.save_folders_button.clicked.connect(self.save_folders)
        self.save_partner_button.clicked.connect(self.save_partner)
        self.browse_out.clicked.connect(lambda: self._browse(self.outbound))
        self.browse_in.clicked.connect(lambda: self._browse(self.inbound))
        self.table.itemSelectionChanged.connect(self._on_select)
        self.reload()

    def reload(self) -> None:
        def query(s: Session) -> tuple[list[config.Partner], list[tuple[str, str, str]]]:
            return config.partners(s), config.our_ids(s)

        self.ctx.runner.submit(query, self._loaded, write=False, label="EDI partners", latest=(id(self), "partners"))

    def _loaded(self, result: tuple[list[config.Partner], list[tuple[str, str, str]]]) -> None:
        rows, ours = result
        self.our_ids.setText(", ".join(f"{b}: {q}/{i}" for b, q, i in ours) or "(no branch yet)")
        self.table.setRowCount(len(rows))
        for r, p in enumerate(rows):
            by = {"x12": "X12 850", "edifact": "EDIFACT"}.get(p.edi_format, "e-mail")
            for c, v in enumerate((p.code, p.name, by, p.qualifier, p.edi_id, p.email)):
                self.table.setItem(r, c, QTableWidgetItem(v))
        self.table.resizeColumnsToContents()

    def _on_select(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if not rows:
            return
        cells = [self.table.item(rows[0], c).text() for c in range(len(HEADERS))]  # type: ignore[union-attr]
        self.supplier.setText(cells[0])
        self.fmt.setCurrentIndex(max(0, self.fmt.findData({"X12 850": "x12", "EDIFACT": "edifact"}.get(cells[2], ""))))
        self.qualifier.setText(cells[3])
        self.partner_id.setText(cells[4])

    def _show(self, ok: bool, text: str) -> None:
        self.status.setStyleSheet("" if ok else "color: #b00020;")
        self.status.setText(text)

    def save_folders(self) -> bool:
        try:
            out, inn = config.save_folders(self.ctx.settings, self.outbound.text(), self.inbound.text())
        except DomainError as e:
            self._show(False, str(e))
            return False
        self.outbound.setText(out)
        self.inbound.setText(inn)
        text = "saved: EDI suppliers' POs are written to " + (out or "(no outbound folder: sending them is refused)")
        self._show(True, text)
        self.saved.emit(text)
        return True

    def save_partner(self) -> None:
        actor = self.ctx.actor
        code, fmt, q, ident = self.supplier.text(), str(self.fmt.currentData()), self.qualifier.text(), self.partner_id.text()

        def op(s: Session) -> str:
            sup = config.set_partner(s, actor, code, fmt, q, ident)
            return (f"saved: {sup.code} orders by " + (f"{sup.edi_format} ({sup.edi_qualifier}/{sup.edi_id})"
                                                      if sup.edi_format else "e-mail"))

        def done(text: str) -> None:
            self._show(True, text)
            self.saved.emit(text)
            self.reload()

        self.ctx.runner.submit(op, done, on_error=lambda e: self._show(False, str(e)), kinds={Change.SUPPLIER},
                               label="save EDI partner")

    def _browse(self, edit: QLineEdit) -> None:
        path = QFileDialog.getExistingDirectory(self, "EDI folder", edit.text())
        if path:
            edit.setText(path)
