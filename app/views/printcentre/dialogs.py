"""The print dialog: printer (or a PDF file), tray, copies; opened with this type's remembered choice.

``PrintDialog.ask`` returns the choice (a ``printing.Preference``) or None; tests answer it by
setting ``PrintDialog.answer`` (no modal loop in tests).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from app.services.printing import Preference
from app.views.printcentre.printer import FILE_PREFIX, printers

PDF_CHOICE = "PDF file…"


class PrintDialog(QDialog):
    #: tests set this to answer without showing the dialog (None = cancelled)
    answer: Preference | None | bool = False

    def __init__(self, parent: QWidget | None, title: str, pref: Preference) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.printer = QComboBox()
        names = printers()
        self.printer.addItems(names)
        self.printer.addItem(PDF_CHOICE)
        if pref.printer in names:
            self.printer.setCurrentText(pref.printer)
        self.tray = QLineEdit(pref.tray)
        self.tray.setPlaceholderText("default tray")
        self.copies = QSpinBox()
        self.copies.setRange(1, 99)
        self.copies.setValue(pref.copies)
        note = QLabel("" if names else "No printer is installed on this computer: print to a PDF file, or add one "
                      "in the system's printer settings.")
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Printer", self.printer)
        form.addRow("Tray", self.tray)
        form.addRow("Copies", self.copies)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> Preference | None:
        name = self.printer.currentText()
        if name == PDF_CHOICE:
            path, _f = QFileDialog.getSaveFileName(self, "Print to PDF file", "", "PDF (*.pdf)")
            if not path:
                return None
            name = FILE_PREFIX + path
        return Preference(name, self.tray.text().strip(), self.copies.value())

    @classmethod
    def ask(cls, parent: QWidget | None, title: str, pref: Preference) -> Preference | None:
        if cls.answer is not False:
            return cls.answer  # type: ignore[return-value]
        dlg = cls(parent, title, pref)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return dlg.choice()
